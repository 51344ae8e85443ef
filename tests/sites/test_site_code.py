#!/usr/bin/env python3
"""The machine code at the probe sites, in the shared library and in a
program linked with the static one.

    test_site_code.py --library LIBPYPROBE_SO --static-program PROGRAM --nop5 1|0
                      [--provider python] [--readelf PATH] [--objdump PATH]

The kernel optimises a uprobe on a 5-byte nop into a call, which pushes a
return address below %rsp; so no site may sit where red-zone data is live.
For each file it checks that
  - the bytes at every site of the provider (readelf -n's locations) are the
    nop of the site kind: 0f 1f 44 00 00 with --nop5 1 (PYPROBE_NOP5, the
    default), 90 with --nop5 0;
  - every site is in a pyprobe_fire_* function;
  - no fire function addresses memory below %rsp (objdump);
  - probe_sites.c was compiled -mno-red-zone, as its DW_AT_producer says
    (not checked, and said so, when the file has no DWARF or the compiler
    did not record its options there).
Exits 0 when every check holds, 1 when one does not, 77 (skipped) when
readelf or objdump is missing. bench/run's `sites` part runs the same
checks (check_file) on the trees it builds, both site kinds.
"""
import argparse
import re
import shutil
import subprocess
import sys
from collections import namedtuple

SKIP_EXIT = 77
SITE_NOPS = {True: bytes.fromhex("0f1f440000"), False: bytes.fromhex("90")}
FIRE_PREFIX = "pyprobe_fire_"

Tools = namedtuple("Tools", "readelf objdump")
Checked = namedtuple("Checked", "sites site_bytes in_fire fire fire_clean no_red_zone")


class ToolError(Exception):
    pass


def output(cmd):
    """cmd's standard output; a ToolError when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr.strip()}")
    return proc.stdout


def load_segments(path, tools):
    """[(start address, end address, file offset)] of the PT_LOAD segments."""
    segments = []
    for line in output([tools.readelf, "-lW", path]).splitlines():
        words = line.split()
        if words[:1] == ["LOAD"]:
            offset, vaddr, filesz = int(words[1], 16), int(words[2], 16), int(words[4], 16)
            segments.append((vaddr, vaddr + filesz, offset))
    return segments


def bytes_at(path, address, count, segments):
    """count bytes of the file at a virtual address (empty when unmapped)."""
    for start, end, offset in segments:
        if start <= address < end:
            with open(path, "rb") as f:
                f.seek(offset + address - start)
                return f.read(count)
    return b""


def fire_functions(path, tools):
    """{name: (start, end)} of the defined pyprobe_fire_* functions."""
    result = {}
    for line in output([tools.readelf, "-sW", path]).splitlines():
        words = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(words) == 8 and words[3] == "FUNC" and words[6] != "UND" and words[7].startswith(FIRE_PREFIX):
            start = int(words[1], 16)
            result[words[7].split("@")[0]] = (start, start + int(words[2], 0))
    return result


def site_locations(path, provider, tools):
    """Addresses of the provider's probe sites (readelf -n)."""
    notes = output([tools.readelf, "-n", path])
    return [int(address, 16) for address in re.findall(
        rf"Provider: {re.escape(provider)}\n\s*Name: \S+\n\s*Location: (0x[0-9a-f]+)", notes)]


def red_zone_accesses(path, names, tools):
    """{function: [instructions]} of the named functions that address memory
    below %rsp (a negative displacement from it), or from %rbp in a function
    that never moves %rsp down (its frame is then in the red zone)."""
    text = output([tools.objdump, "-d", "--no-show-raw-insn", path])
    found, current, lowered = {}, None, False
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            current = m.group(1) if m.group(1) in names else None
            lowered = False
            continue
        if current is None:
            continue
        if re.search(r"\bsub\s+\$0x[0-9a-f]+,%rsp", line):
            lowered = True
        if re.search(r"-0x[0-9a-f]+\(%rsp", line) or (not lowered and re.search(r"-0x[0-9a-f]+\(%rbp", line)):
            found.setdefault(current, []).append(line.strip())
    return found


def probe_sites_producer(path, tools):
    """DW_AT_producer of probe_sites.c's compilation unit, or None."""
    # Not output(): readelf exits non-zero on some debug sections it does
    # not know, after printing the units it does.
    text = subprocess.run([tools.readelf, "--debug-dump=info", path], capture_output=True, text=True).stdout
    result = None
    for unit in text.split("Compilation Unit @")[1:]:
        name = re.search(r"DW_AT_name\s*:.*?([^\s/]+)\s*$", unit, re.M)
        producer = re.search(r"DW_AT_producer\s*:(?: \([^)]*\):)? (.*)$",
                             unit, re.M)
        if name and name.group(1) == "probe_sites.c" and producer:
            result = producer.group(1)
    return result


def red_zone_verdict(producer):
    """"yes", "no", or why it cannot be told, from a DW_AT_producer."""
    if producer is None:
        return "not checked: no DWARF unit for probe_sites.c"
    if "-mno-red-zone" in producer:
        return "yes"
    if not re.search(r"\s-[a-zA-Z]", producer):  # e.g. clang without -grecord-command-line
        return f"not checked: no options recorded ({producer})"
    return "no"


def check_file(path, nop5, provider, tools):
    """Checks one file's sites; returns (Checked, [failures])."""
    expected = SITE_NOPS[nop5]
    segments = load_segments(path, tools)
    fire = fire_functions(path, tools)
    locations = site_locations(path, provider, tools)
    kinds = {bytes_at(path, address, len(expected), segments).hex(" ") for address in locations}
    in_fire = sum(1 for address in locations if any(start <= address < end for start, end in fire.values()))
    bad = red_zone_accesses(path, set(fire), tools)
    producer = probe_sites_producer(path, tools)
    checked = Checked(len(locations), sorted(kinds), in_fire, len(fire), len(fire) - len(bad),
                      red_zone_verdict(producer))
    failures = []
    if not locations:
        failures.append(f"no {provider} probes")
    if locations and kinds != {expected.hex(" ")}:
        failures.append(f"site bytes {checked.site_bytes}, expected {expected.hex(' ')}")
    if in_fire != len(locations):
        failures.append(f"{len(locations) - in_fire} sites outside the {FIRE_PREFIX}* functions")
    if bad:
        failures.append(f"below-%rsp accesses: {bad}")
    if checked.no_red_zone == "no":
        failures.append(f"probe_sites.c not compiled -mno-red-zone ({producer})")
    return checked, failures


def summary(checked):
    """One line of what was found in a file."""
    return (f"{checked.sites} sites, bytes {', '.join(checked.site_bytes) or '-'}, "
            f"{checked.in_fire}/{checked.sites} in a fire function, "
            f"{checked.fire_clean}/{checked.fire} fire functions without access below %rsp, "
            f"-mno-red-zone: {checked.no_red_zone}")


def find_tools(opts):
    """Tools, or None when one is missing."""
    paths = [shutil.which(opts.readelf or "readelf"), shutil.which(opts.objdump or "objdump")]
    return Tools(*paths) if all(paths) else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", required=True, help="libpyprobe.so of the build")
    parser.add_argument("--static-program", required=True, help="a program linked with libpyprobe.a")
    parser.add_argument("--nop5", required=True, choices=["0", "1"], help="the build's PYPROBE_NOP5")
    parser.add_argument("--provider", default="python")
    # Empty (CMake's CMAKE_READELF when it found none) means: look on PATH.
    parser.add_argument("--readelf", default="")
    parser.add_argument("--objdump", default="")
    opts = parser.parse_args()
    tools = find_tools(opts)
    if tools is None:
        print("SKIP: readelf and objdump are needed (binutils)")
        return SKIP_EXIT
    failed = False
    for path in (opts.library, opts.static_program):
        try:
            checked, failures = check_file(path, opts.nop5 == "1", opts.provider, tools)
        except ToolError as e:
            checked, failures = None, [str(e)]
        if checked:
            print(f"{path}: {summary(checked)}")
        for failure in failures:
            print(f"FAIL: {path}: {failure}")
        failed = failed or bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
