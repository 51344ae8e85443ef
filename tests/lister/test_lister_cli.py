#!/usr/bin/env python3
"""pyprobe -l on hand-made ELF files: dtrace's layout, filters, -v, --json,
the .stapsdt.base rule, 32/64-bit and both byte orders, and every kind of
broken input (missing, directory, FIFO, not ELF, truncated, lying notes,
random damage): one line per problem, the other files still listed, never a
crash, a hang or a garbage row.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile

import elfgen
from common import check, fail

HEADER = "   ID   PROVIDER            MODULE                          FUNCTION NAME"
ROW = re.compile(r"^ *[0-9]+ +\S+ +\S+ +(\S+ )?\S+$")
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer")

PYPROBE = None
TMP = None


def dtrace_row(ident, provider, module, function, name):
    return "%5s %10s %17s %33s %s" % (ident, provider, module, function, name)


def run(*args, timeout=30):
    try:
        proc = subprocess.run([PYPROBE, *args], capture_output=True, text=True, timeout=timeout,
                              errors="surrogateescape")
    except subprocess.TimeoutExpired:
        fail(f"pyprobe {' '.join(args)}: hung")
    check(proc.returncode >= 0, f"pyprobe {' '.join(args)}: killed by signal {-proc.returncode}\n{proc.stderr}")
    check(not SANITIZER.search(proc.stderr), f"pyprobe {' '.join(args)}: sanitizer report\n{proc.stderr}")
    return proc


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def sample(bits=64, msb=False, base=elfgen.BASE):
    """Four sites: function__entry twice (two functions), gc__done outside
    any function, and mylang:tick."""
    image = elfgen.Image(bits=bits, msb=msb, base=base)
    image.probe("python", "function__entry", "8@%rdi 8@%rsi -4@%edx", 0x1010, elfgen.PROBES)
    image.probe("python", "function__entry", "8@%rbx 8@%r12 -4@%eax", 0x1030, elfgen.PROBES)
    image.probe("python", "gc__done", "-8@%rax", 0x10f0, elfgen.PROBES + 2)
    image.probe("mylang", "tick", "", 0x1040, 0)
    image.function("hook_call", 0x1000, 0x20).function("hook_other", 0x1020, 0x30)
    image.signature("python", "function__entry", ["const char *", "const char *", "int"])
    image.signature("python", "gc__done", ["long"])
    return image


SAMPLE_ROWS = [("python", "hook_call", "function-entry"), ("python", "hook_other", "function-entry"),
               ("python", "", "gc-done"), ("mylang", "hook_other", "tick")]


def table_rows(stdout):
    """The rows of a listing; none, without a header, when nothing could be read."""
    lines = stdout.splitlines()
    if not lines:
        return []
    check(lines[0] == HEADER, f"no dtrace header: {stdout!r}")
    for line in lines[1:]:
        check(ROW.match(line) or line.startswith("\t") or line == "", f"garbage row: {line!r}")
    return [line for line in lines[1:] if ROW.match(line)]


def test_layout():
    path = write("sample.so", sample().build())
    proc = run("-l", path)
    check(proc.returncode == 0 and proc.stderr == "", f"exit {proc.returncode}: {proc.stderr}")
    want = [HEADER] + [dtrace_row(i + 1, p, "sample.so", f, n) for i, (p, f, n) in enumerate(SAMPLE_ROWS)]
    check(proc.stdout.splitlines() == want, "layout:\n" + proc.stdout + "\nwanted:\n" + "\n".join(want))
    raw = run("-l", "--raw-names", path).stdout.splitlines()
    check(raw[1].endswith(" function__entry") and raw[3].endswith(" gc__done"), f"--raw-names: {raw}")
    # IDs go on across files.
    twice = table_rows(run("-l", path, path).stdout)
    check([r.split()[0] for r in twice] == [str(i) for i in range(1, 9)], f"IDs: {twice}")


FILTERS = [
    (["-n", "function-entry"], [0, 1]),
    (["-n", "function__entry"], [0, 1]),
    (["-n", "function-*"], [0, 1]),
    (["-n", "python:::gc-done"], [2]),
    (["-n", "hook_other:"], [1, 3]),
    (["-n", "mylang:sample.so:hook_other:tick"], [3]),
    (["-n", "::hook_call:*"], [0]),
    (["-n", "nomatch"], []),
    (["-P", "python"], [0, 1, 2]),
    (["-P", "my*"], [3]),
    (["-m", "sample.so"], [0, 1, 2, 3]),
    (["-m", "python:sample.*"], [0, 1, 2]),
    (["-m", "*/sample.so"], [0, 1, 2, 3]),
    (["-m", "other.so"], []),
    (["-f", "hook_call"], [0]),
    (["-f", "python::hook_*"], [0, 1]),
    (["-n", "tick", "-n", "gc-done"], [2, 3]),
    (["-f", "hook_call", "-P", "mylang"], [0, 3]),
]


def test_filters():
    path = write("sample.so", sample().build())
    for args, indexes in FILTERS:
        rows = table_rows(run("-l", *args, path).stdout)
        got = [tuple(r.split()[1:]) for r in rows]
        want = [tuple(x for x in (SAMPLE_ROWS[i][0], "sample.so", SAMPLE_ROWS[i][1], SAMPLE_ROWS[i][2]) if x)
                for i in indexes]
        check(got == want, f"{args}: got {got}, wanted {want}")
    for args in (["-n", "a:b:c:d:e"], ["-P", "a:b"], ["-m", "a:b:c"], ["-f", "a:b:c:d"]):
        proc = run("-l", *args, path)
        check(proc.returncode == 2 and "too many fields" in proc.stderr, f"{args}: {proc.returncode} {proc.stderr}")


def listing(path, *args):
    proc = run("-l", "--json", *args, path)
    try:
        return json.loads(proc.stdout), proc
    except ValueError as e:
        fail(f"--json is not JSON ({e}): {proc.stdout!r}")


def test_json_and_base_rule():
    # Notes written for a base 0x800 lower: every address moves up 0x800.
    image = sample()
    image.probe("python", "line", "-4@%edi", 0x1010, elfgen.PROBES + 4, base=elfgen.BASE - 0x800)
    image.probe("python", "line", "-4@%edi", 0x1010, 0, base=elfgen.BASE - 0x800)
    doc, proc = listing(write("based.so", image.build()))
    check(proc.returncode == 0 and doc["errors"] == [], f"{proc.returncode} {doc['errors']}")
    first, moved, unsemaphored = doc["probes"][0], doc["probes"][4], doc["probes"][5]
    want = {"id": 1, "provider": "python", "pid": None, "module": "based.so", "function": "hook_call",
            "name": "function-entry", "note_name": "function__entry", "address": 0x1010,
            "semaphore": elfgen.PROBES, "note": {"pc": 0x1010, "base": elfgen.BASE, "semaphore": elfgen.PROBES},
            "process_address": None, "process_semaphore": None, "semaphore_value": None,
            "arguments_text": "8@%rdi 8@%rsi -4@%edx",
            "arguments": [{"index": 0, "size": 8, "signed": False, "float": False, "operand": "%rdi"},
                          {"index": 1, "size": 8, "signed": False, "float": False, "operand": "%rsi"},
                          {"index": 2, "size": 4, "signed": True, "float": False, "operand": "%edx"}],
            "types": ["const char *", "const char *", "int"]}
    for key, value in want.items():
        check(first.get(key) == value, f"json {key}: {first.get(key)!r}, wanted {value!r}")
    check((moved["address"], moved["semaphore"], moved["note"]["pc"]) == (0x1810, elfgen.PROBES + 0x804, 0x1010),
          f".stapsdt.base rule: {moved}")
    check(unsemaphored["semaphore"] is None and unsemaphored["address"] == 0x1810, f"no semaphore: {unsemaphored}")
    check(doc["probes"][3]["types"] is None and doc["probes"][3]["arguments"] == [], f"tick: {doc['probes'][3]}")
    # Without .stapsdt.base the note's addresses are taken as they are.
    image = elfgen.Image(base=None).probe("p", "n", "", 0x1010, 0x4000, base=0x9000)
    doc, _ = listing(write("nobase.so", image.build()))
    check((doc["probes"][0]["address"], doc["probes"][0]["semaphore"]) == (0x1010, 0x4000), f"no base: {doc}")
    # 32-bit addresses wrap at 32 bits.
    image = elfgen.Image(bits=32).probe("p", "n", "", 0x1010, 0, base=0xfffff000)
    doc, _ = listing(write("wrap32.so", image.build()))
    check(doc["probes"][0]["address"] == 0x4010, f"32-bit wrap: {doc['probes'][0]}")


def test_classes_and_byte_orders():
    for bits in (32, 64):
        for msb in (False, True):
            name = f"sample{bits}{'msb' if msb else 'lsb'}.so"
            path = write(name, sample(bits=bits, msb=msb).build())
            rows = table_rows(run("-l", path).stdout)
            want = [dtrace_row(i + 1, p, name, f, n) for i, (p, f, n) in enumerate(SAMPLE_ROWS)]
            check(rows == want, f"{name}:\n" + "\n".join(rows))
            doc, _ = listing(path)
            check([p["semaphore"] for p in doc["probes"]] == [0x4000, 0x4000, 0x4002, None], f"{name}: {doc}")


def test_verbose():
    path = write("sample.so", sample().build())
    proc = run("-lv", path)
    out = proc.stdout
    check(proc.returncode == 0, f"-v exit {proc.returncode}")
    blocks = out.split("\n    2 ")[0]
    for text in ("\tProbe Location\n", "\t\tAddress:            0x0000000000001010\n",
                 "\t\tSemaphore:          0x0000000000004000\n", "\tArgument Locations\n",
                 "\t\targ0: 8 bytes, unsigned, %rdi\n", "\t\targ2: 4 bytes, signed, %edx\n",
                 "\tArgument Types\n", "\t\targs[0]: const char *\n", "\t\targs[2]: int\n"):
        check(text in blocks, f"-v lacks {text!r}:\n{blocks}")
    tick = out.split("mylang")[1]
    check("\t\tSemaphore:          none\n" in tick and "\t\tNone\n" in tick and "Argument Types" not in tick,
          f"-v of a probe without semaphore, arguments or types:\n{tick}")
    check(len(table_rows(out)) == 4, "-v changed the rows")


def test_strange_strings():
    """Control characters cannot split a row; bytes that are not UTF-8 stay
    valid JSON."""
    image = elfgen.Image()
    image.probe("py\x01thon", "li\nne", "8@%rdi", 0x1010, 0, strings=b"py\x01thon\0li\nne\0-4@%edi\0")
    image.probe("x", "y", "", 0x1010, 0, strings=b"py\xffthon\0caf\xc3\xa9\0\0")
    path = write("strange.so", image.build())
    rows = table_rows(run("-l", path).stdout)
    check(len(rows) == 2 and "py\\x01thon" in rows[0] and rows[0].endswith("li\\x0ane"), f"escaping: {rows}")
    doc, _ = listing(path)
    check(doc["probes"][0]["provider"] == "py\x01thon" and doc["probes"][0]["note_name"] == "li\nne", f"{doc}")
    check(doc["probes"][1]["provider"] == "py\xffthon" and doc["probes"][1]["note_name"] == "caf\xe9", f"{doc}")


def expect_problem(proc, path, words, status=1):
    lines = proc.stderr.splitlines()
    check(proc.returncode == status, f"{path}: exit {proc.returncode}, wanted {status}: {proc.stderr}")
    check(len(lines) == 1 and lines[0].startswith(f"pyprobe: {path}: ") and words in lines[0],
          f"{path}: wanted one line 'pyprobe: {path}: ...{words}...', got {proc.stderr!r}")


def test_unreadable_files():
    good = write("good.so", sample().build())
    data = sample().build()
    fifo = os.path.join(TMP, "fifo")
    os.mkfifo(fifo)
    cases = [
        (os.path.join(TMP, "missing.so"), "No such file or directory"),
        (TMP, "Is a directory"),
        (fifo, "not an ELF file"),
        (write("text.so", b"just text, long enough to look at its first bytes\n"), "not an ELF file"),
        (write("empty.so", b""), "not an ELF file"),
        (write("short.so", b"\x7fELF"), "not an ELF file"),
        (write("class.so", b"\x7fELF\x07\x01\x01" + b"\0" * 60), "not an ELF file"),
        (write("headers-cut.so", data[:-100]), "malformed ELF file"),
        (write("body-cut.so", data[:200]), "malformed ELF file"),
    ]
    for path, words in cases:
        proc = run("-l", path)
        expect_problem(proc, path, words)
        check(proc.stdout == "", f"{path}: printed when nothing could be read: {proc.stdout!r}")
        # The other files are still listed, and the exit status is 0.
        proc = run("-l", path, good)
        check(proc.returncode == 0 and len(table_rows(proc.stdout)) == 4, f"{path} then good: {proc.stdout}")
        doc, proc = listing(path)
        check(doc["probes"] == [] and doc["errors"][0]["target"] == path, f"{path} --json: {doc}")
    proc = run("-l", cases[0][0], cases[1][0])
    check(proc.returncode == 1 and len(proc.stderr.splitlines()) == 2, f"two bad files: {proc.stderr}")


def with_good_neighbours(breaking):
    """A file whose middle note is broken by `breaking(image)`."""
    image = elfgen.Image()
    image.probe("python", "first", "", 0x1010, 0)
    breaking(image)
    image.probe("python", "last", "", 0x1020, 0)
    return image


LYING_NOTES = [
    ("strings-without-nul", lambda im: im.probe("p", "n", "", 0x1010, 0, strings=b"python\0name\0args"),
     "1 malformed stapsdt note skipped", ["first", "last"]),
    ("no-strings", lambda im: im.probe("p", "n", "", 0x1010, 0, strings=b""),
     "1 malformed stapsdt note skipped", ["first", "last"]),
    ("desc-shorter-than-addresses", lambda im: im.raw_note(im.note("stapsdt", 3, b"\1" * 20)),
     "1 malformed stapsdt note skipped", ["first", "last"]),
    ("descsz-past-section", lambda im: im.probe("p", "n", "", 0x1010, 0, descsz=0x10000),
     "the notes after it are unreadable", ["first"]),
    ("namesz-past-section", lambda im: im.probe("p", "n", "", 0x1010, 0, namesz=0xfffffff0),
     "the notes after it are unreadable", ["first"]),
    ("half-a-header", lambda im: im.raw_note(b"\x08\0\0\0\x10\0"),
     "the notes after it are unreadable", ["first"]),
]


def test_lying_notes():
    for name, breaking, words, listed in LYING_NOTES:
        path = write(name + ".so", with_good_neighbours(breaking).build())
        proc = run("-l", path)
        expect_problem(proc, path, words)
        names = [r.split()[-1] for r in table_rows(proc.stdout)]
        check(names == listed, f"{name}: listed {names}, wanted {listed}")
    # A section past the end of the file.
    image = with_good_neighbours(lambda im: None)
    data = bytearray(image.build())
    notes = data.find(image.notes)
    data[notes:notes + 4] = b"\xff\xff\xff\x7f"  # garbage namesz: framing breaks at once
    proc = run("-l", write("garbage-namesz.so", bytes(data)))
    check(proc.returncode == 1 and len(table_rows(proc.stdout)) == 0, f"garbage namesz: {proc.stdout}")
    # A malformed argument string or signature note costs only that detail.
    image = elfgen.Image().probe("python", "line", "8@", 0x1010, 0)
    image.signature("python", "line", [], raw=b"python\0line\0int")
    path = write("bad-args.so", image.build())
    proc = run("-lv", path)
    check(proc.returncode == 0 and "\t\tmalformed: 8@\n" in proc.stdout and "Argument Types" not in proc.stdout,
          f"bad args:\n{proc.stdout}{proc.stderr}")
    doc, _ = listing(path)
    check(doc["probes"][0]["arguments"] is None and doc["probes"][0]["types"] is None, f"bad args: {doc}")


def test_no_probes():
    path = write("plain.so", elfgen.Image().function("f", 0x1000, 4).build())
    proc = run("-l", path)
    check(proc.returncode == 0 and proc.stdout == HEADER + "\n" and proc.stderr == "", f"no notes: {proc}")
    proc = run("-lv", path)
    check(proc.returncode == 0 and proc.stderr == f"pyprobe: {path}: no stapsdt probes\n", f"-v: {proc.stderr!r}")
    proc = run("-lv", "-n", "nothing", write("sample.so", sample().build()))
    check(proc.returncode == 0 and proc.stderr.endswith(": no probe matches\n"), f"-v filter: {proc.stderr!r}")
    # A filter on a file without probes: the file has none, whatever the filter.
    proc = run("-lv", "-n", "nothing", path)
    check(proc.returncode == 0 and proc.stderr == f"pyprobe: {path}: no stapsdt probes\n", f"-v, filter, no probes: {proc.stderr!r}")


def test_no_header_when_nothing_read():
    missing = os.path.join(TMP, "missing.so")
    proc = run("-l", missing)
    check(proc.returncode == 1 and proc.stdout == "" and proc.stderr.startswith(f"pyprobe: {missing}: "),
          f"only target unreadable: {proc}")


def check_sane(proc, what):
    check(proc.returncode in (0, 1), f"{what}: exit {proc.returncode}\n{proc.stderr}")
    table_rows(proc.stdout)
    for line in proc.stderr.splitlines():
        check(line.startswith("pyprobe: "), f"{what}: stray stderr line {line!r}")


def test_damage():
    """Every cut of the file and random byte damage: no crash, no hang, no
    garbage row, JSON that parses."""
    data = sample(bits=64).build() + b""
    for cut in list(range(0, len(data), 13)) + [len(data) - 1]:
        path = write("cut.so", data[:cut])
        check_sane(run("-l", path), f"cut at {cut}")
    rng = random.Random(20261126)
    for round_ in range(120):
        damaged = bytearray(sample(bits=rng.choice((32, 64)), msb=rng.random() < 0.3).build())
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = write("damaged.so", bytes(damaged))
        check_sane(run("-lv", path), f"damage round {round_}")
        listing(path)


def test_usage():
    proc = run("--help")
    check(proc.returncode == 0 and proc.stdout.startswith("Usage: pyprobe -l"), f"--help: {proc}")
    for option in ("-n", "-P", "-m", "-f", "-p", "-v", "--json", "--raw-names"):
        check(option in proc.stdout, f"--help does not mention {option}")
    proc = run("--version")
    check(proc.returncode == 0 and proc.stdout.startswith("pyprobe "), f"--version: {proc}")
    for args, words in ((["x.so"], "-l lists probes"), (["-l"], "-l needs a FILE or -p PID"),
                        (["-l", "-p", "abc"], "not a process id"), (["-l", "-p", "0"], "not a process id"),
                        (["-l", "--bogus"], "unrecognized option")):
        proc = run(*args)
        check(proc.returncode == 2 and words in proc.stderr and "Usage:" in proc.stderr, f"{args}: {proc}")
    # Messages name the program pyprobe, not the path it was run by.
    for args, first in ((["-l", "--bogus"], "pyprobe: unrecognized option --bogus"),
                        (["-l", "-p"], "pyprobe: option -p needs an argument"),
                        (["-lK"], "pyprobe: unrecognized option -K")):
        proc = run(*args)
        check(proc.returncode == 2 and proc.stderr.splitlines()[0] == first, f"{args}: {proc.stderr!r}")


def main():
    global PYPROBE, TMP
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    PYPROBE = parser.parse_args().pyprobe
    tests = [test_layout, test_filters, test_json_and_base_rule, test_classes_and_byte_orders, test_verbose,
             test_strange_strings, test_unreadable_files, test_lying_notes, test_no_probes, test_no_header_when_nothing_read,
             test_damage, test_usage]
    with tempfile.TemporaryDirectory(prefix="pyprobe-lister-") as TMP:
        for test in tests:
            test()
            print(f"ok: {test.__name__}")


if __name__ == "__main__":
    main()
