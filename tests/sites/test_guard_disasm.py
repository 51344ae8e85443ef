#!/usr/bin/env python3
"""The untraced cost of a probe, read from the machine code of a real hook.

guard_hook.c's hook_line() holds one PYPROBE_LINE(). Disassembled (objdump),
its first instructions up to the first conditional branch must be:
  static  (PYPROBE_STATIC)   cmpw $0x0,SEM(%rip); jcc
  static, no PYPROBE_STATIC  lea SEM(%rip),R; cmpw $0x0,(R); jcc   (GOT load relaxed)
  shared  (PIE or not)       mov GOT(%rip),R; cmpw $0x0,(R); jcc
where SEM is the line probe's semaphore and GOT a GOT slot that the dynamic
linker fills with its address (a GLOB_DAT relocation, never a COPY).
With --width l (CPython's line guard, GUARD_HOOK_CPYTHON) the compare is a
cmpl of function__entry's and line's semaphores together, SEM being the first.
"""
import argparse
import re

from common import check, fail, run

SHAPES = {
    "static": [r"cmp{width}\s+\$0x0,0x[0-9a-f]+\(%rip\)\s+# [0-9a-f]+ <(?P<sym>\w+)>"],
    "static-got": [r"lea\s+0x[0-9a-f]+\(%rip\),(?P<reg>%\w+)\s+# [0-9a-f]+ <(?P<sym>\w+)>",
                   r"cmp{width}\s+\$0x0,\((?P=reg)\)"],
    "shared": [r"mov\s+0x[0-9a-f]+\(%rip\),(?P<reg>%\w+)\s+# (?P<slot>[0-9a-f]+) <",
               r"cmp{width}\s+\$0x0,\((?P=reg)\)"],
}
BRANCH = r"j(ne|e)\s"


def guard_instructions(program):
    """hook_line's instructions up to and including the first branch."""
    text = run(["objdump", "-d", "--no-show-raw-insn", program]).stdout
    body = re.search(r"<hook_line>:\n(.*?)\n\n", text, re.S)
    check(body, f"no hook_line in {program}")
    instructions = [line.split("\t", 1)[1].strip() for line in body.group(1).splitlines() if "\t" in line]
    for count, insn in enumerate(instructions, 1):
        if re.match(BRANCH, insn):
            return instructions[:count]
    fail(f"no conditional branch in hook_line: {instructions}")


def glob_dat_symbol(program, slot):
    for line in run(["readelf", "-rW", program]).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[0].lstrip("0") == slot.lstrip("0"):
            return fields[2], fields[4]
    fail(f"no dynamic relocation for GOT slot {slot} in {program}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--program", required=True)
    parser.add_argument("--shape", required=True, choices=SHAPES)
    parser.add_argument("--semaphore", default="python_line_semaphore")
    parser.add_argument("--symbol-version", required=True, help="libpyprobe.so's version node")
    parser.add_argument("--width", default="w", choices=["w", "l"], help="compare width: w 16 bits, l 32")
    opts = parser.parse_args()

    guard = guard_instructions(opts.program)
    shape = [pattern.replace("{width}", opts.width) for pattern in SHAPES[opts.shape]]
    check(len(guard) == len(shape) + 1, f"{opts.shape}: guard is {guard}, expected {len(shape)} + a branch")
    match = re.match(r".*\n".join(shape), "\n".join(guard[:-1]))
    check(match, f"{opts.shape}: guard {guard} does not have the expected shape {shape}")
    groups = match.groupdict()
    if "sym" in groups:
        check(groups["sym"] == opts.semaphore, f"guard reads {groups['sym']}, not {opts.semaphore}")
    if "slot" in groups:
        kind, symbol = glob_dat_symbol(opts.program, groups["slot"])
        want = f"{opts.semaphore}@{opts.symbol_version}"
        check(kind == "R_X86_64_GLOB_DAT" and symbol == want,
              f"GOT slot {groups['slot']} is {kind} {symbol}, expected R_X86_64_GLOB_DAT {want}")
    print(f"ok: {opts.shape}: " + "; ".join(guard))


if __name__ == "__main__":
    main()
