#!/usr/bin/env python3
"""Runtime providers of a C program (runtime_target.c) as tracers see them.

  --case types      bpftrace -p on /proc/PID/fd/N: every argument type, exact
                    values, all twelve arguments of a probe (bpftrace 0.17
                    reads arg0-arg5; the six on the stack are read at
                    reg("sp") + 8 ... 48, where the note says they are)
  --case enabled    a probe is off, on while bpftrace is attached, off after
  --case nopid      the same with bpftrace run without -p, on /proc/PID/fd/N
  --case providers  three providers at once (one named by bpftrace's
                    wildcard module), one unloaded while traced
  --case threads    8 threads fire 1000 times each: bpftrace counts them all
  --case fork       a child forked after the load fires under bpftrace
                    attached to the child; the parent stays untraced
  --case tmpfile    no memfd (PYPROBE_RUNTIME_NO_MEMFD=1): the temporary file,
                    named by the path /proc/PID/maps shows
  --case gdb        gdb -p: info probes, break -probe-stap, $_probe_arg0-11
  --case lister     pyprobe -l -p PID and -v: the provider, its module
                    memfd:pyprobe-rt_types.so, probes and argument types
"""
import argparse
import collections
import os
import re
import shutil
import tempfile

from rt_trace import (TYPES_EVENTS, Target, check, fail, parse_maps, require_root, require_tool, run, trace,
                      types_script)

# rt_types as runtime_target.c fires it: (probe, printed values) -> count.
RT_TYPES_EVENTS = {
    **TYPES_EVENTS,
    ("small", "-1|255|-1|65535|-1|4294967295"): 1,
    ("wide", "9223372036854775807|0|wide string \u00e9|0"): 1,
    ("nulls", ""): 1,
}
RT_TYPES_PROBES = ("small", "wide", "twelve", "none", "nulls")


def rt_types_script(path):
    return types_script(path, "rt_types", RT_TYPES_PROBES)


def parse_events(text):
    events = collections.Counter()
    for line in text.splitlines():
        probe, _, values = line.partition("|")
        events[(probe, values)] += 1
    return events


def check_types(text, what):
    seen = parse_events(text)
    check(seen == RT_TYPES_EVENTS, f"{what}: bpftrace saw\n{dict(seen)}\nexpected\n{RT_TYPES_EVENTS}")


def memfd_path_of(target, provider):
    path = target.paths[provider]
    check(path == f"/proc/{target.pid}/fd/{path.rsplit('/', 1)[1]}", f"{provider}: path {path}")
    link = os.readlink(path)
    check(link == f"/memfd:pyprobe-{provider}.so (deleted)", f"{path} -> {link}")
    return path


def case_types(opts):
    text, _ = trace([opts.target, "types"],
                    lambda target, pid: rt_types_script(memfd_path_of(target, "rt_types")))
    check_types(text, "types")
    print(f"ok: every argument type exact ({sum(RT_TYPES_EVENTS.values())} events)")


def case_enabled(opts, by_pid=True):
    before = []

    def script(target, pid):
        before.append(target.readline())  # printed before any tracer
        path = memfd_path_of(target, "rt_enabled")
        return (f"usdt:{path}:rt_enabled:tick {{ printf(\"%d\\n\", arg0); @n++; "
                "if (@n == 5) { exit(); } }\nEND { clear(@n); }")

    text, lines = trace([opts.target, "enabled"], script, by_pid=by_pid)
    check(before == ["enabled 0"], f"before bpftrace: {before}")
    states = [line for line in lines if line.startswith("enabled")]
    check(states == ["enabled 0", "enabled 1", "enabled 0"], f"enabled states: {states}")
    check(text.split() == ["1", "2", "3", "4", "5"], f"bpftrace saw {text.split()}")
    print(f"ok: enabled false, true under bpftrace{'' if by_pid else ' (without -p)'}, false after it detached")


def case_nopid(opts):
    case_enabled(opts, by_pid=False)


def case_providers(opts):
    def script(target, pid):
        one, two = memfd_path_of(target, "rt_one"), memfd_path_of(target, "rt_two")
        check(len({one, two, target.paths["rt_three"]}) == 3, f"paths {target.paths}")
        return "".join(f'usdt:{module}:{provider}:tick {{ printf("%s %s %d\\n", "{provider}", str(arg0), arg1); }}\n'
                       for module, provider in ((one, "rt_one"), (two, "rt_two"), ("*", "rt_three")))

    text, _ = trace([opts.target, "providers"], script)
    seen = sorted(text.splitlines())
    expected = sorted(["rt_one rt_one 1", "rt_two rt_two 2", "rt_three rt_three 3",
                       "rt_one rt_one 10", "rt_three rt_three 30"])
    check(seen == expected, f"bpftrace saw {seen}, expected {expected}")
    print("ok: three providers at once, one unloaded while traced")


def case_threads(opts):
    threads = 8

    def script(target, pid):
        path = memfd_path_of(target, "rt_threads")
        return (f"usdt:{path}:rt_threads:tick {{ @n[str(arg0)] = count(); @lo[str(arg0)] = min(arg1); "
                "@hi[str(arg0)] = max(arg1); }")

    text, _ = trace([opts.target, "threads", str(threads)], script)
    maps = parse_maps(text)
    for i in range(threads):
        name = f"thread-{i}"
        got = (maps.get(("n", name)), maps.get(("lo", name)), maps.get(("hi", name)))
        check(got == (1000, 0, 999), f"{name}: count, min, max = {got}, expected (1000, 0, 999)")
    check(len([key for key in maps if key[0] == "n"]) == threads, f"maps: {maps}")
    print(f"ok: {threads} threads x 1000 fires, every one seen")


def case_fork(opts):
    child = {}

    def attach(target):
        line = target.readline()
        m = re.match(r"^child (\d+) (/proc/\d+/fd/\d+)$", line or "")
        check(m is not None, f"no child line: {line}")
        child["pid"], child["path"] = int(m.group(1)), m.group(2)
        check(child["pid"] != target.pid, "the child has the parent's pid")
        return child["pid"]

    def script(target, pid):
        return f'usdt:{child["path"]}:rt_fork:child {{ printf("%d %s\\n", arg0, str(arg1)); }}'

    text, lines = trace([opts.target, "fork"], script, attach=attach)
    expected = [f"{child['pid']} child"] * 3
    check(text.splitlines() == expected, f"bpftrace saw {text.splitlines()}, expected {expected}")
    check("parent enabled 0" in lines, f"the parent was traced too: {lines}")
    print("ok: the forked child's probes work; the parent's stay off")


def case_tmpfile(opts):
    with tempfile.TemporaryDirectory(prefix="pyprobe-rt-tmp-") as tmp:
        env = dict(os.environ, PYPROBE_RUNTIME_NO_MEMFD="1", TMPDIR=tmp)
        shown = []

        def script(target, pid):
            path = target.paths["rt_types"]
            check(path.startswith(tmp + "/pyprobe-rt_types-") and path.endswith(".so"), f"path {path}")
            maps = open(f"/proc/{pid}/maps").read().splitlines()
            shown.extend(sorted({line.split(None, 5)[5] for line in maps if "pyprobe-rt_types-" in line}))
            check(shown == [path], f"/proc/{pid}/maps shows {shown}, expected {path}")
            return rt_types_script(shown[0])

        text, _ = trace([opts.target, "types"], script, env=env)
        check_types(text, "tmpfile")
        check(os.listdir(tmp) == [], f"left behind in {tmp}: {os.listdir(tmp)}")
    print(f"ok: the temporary file {shown[0]} traced by its path in /proc/PID/maps, removed after")


def gdb_values(output):
    """$N = VALUE lines of gdb's output, in order ('$3 = 0x55... "text"' -> 'text')."""
    values = []
    for line in output.splitlines():
        m = re.match(r'^\$\d+ = (?:0x[0-9a-f]+ "(.*)"|(.*))$', line)
        if m:
            values.append(m.group(1) if m.group(1) is not None else m.group(2))
    return values


def case_gdb(opts):
    gdb = require_tool("gdb")
    require_root("gdb -p")
    target = Target([opts.target, "gdb"], dict(os.environ, PYPROBE_WAIT_SECONDS="60"))
    try:
        path = memfd_path_of(target, "rt_types")
        prints = ["p $_probe_argc", "p (char *)$_probe_arg0", "p $_probe_arg1", "p $_probe_arg2",
                  "p $_probe_arg3", "p/x $_probe_arg4", "p/x $_probe_arg5", "p $_probe_arg6", "p $_probe_arg7",
                  "p $_probe_arg8", "p $_probe_arg9", "p (char *)$_probe_arg10", "p $_probe_arg11"]
        cmd = [gdb, "-q", "-batch", "-nx", "-p", str(target.pid), "-ex", "info probes stap rt_types",
               "-ex", "break -probe-stap rt_types:twelve", "-ex", "continue"]
        for p in prints:
            cmd += ["-ex", p]
        out = run(cmd + ["-ex", "detach"], timeout=120).stdout
        rc = target.finish(60)
    finally:
        target.kill()
    check(rc == 0, f"runtime_target gdb exit {rc}: {target.stderr}")
    for probe in ("small", "wide", "twelve", "none", "nulls"):
        check(re.search(rf"^stap\s+rt_types\s+{probe}\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+{re.escape(path)}\s*$",
                        out, re.M), f"info probes lacks rt_types {probe} in {path}:\n{out}")
    expected = ["12", "first string", "-123456", "200", "-300", "0xfedcba9876543210", "0xabcdef", "-7", "60000",
                "-1234567890123", "3000000000", "last string", "2147483647"]
    got = gdb_values(out)
    check(got == expected, f"gdb printed {got}, expected {expected}\n{out}")
    print(f"ok: gdb lists the probes in {path} and reads all 12 arguments")


def case_lister(opts):
    check(opts.pyprobe, "--pyprobe is required")
    require_root("pyprobe -l -p")
    target = Target([opts.target, "hold"])
    try:
        listing = run([opts.pyprobe, "-l", "-p", str(target.pid), "-P", "rt_types"]).stdout
        verbose = run([opts.pyprobe, "-l", "-v", "-p", str(target.pid), "-n", "twelve"]).stdout
    finally:
        rc = target.finish(30)  # closes its stdin
    check(rc == 0, f"runtime_target hold exit {rc}")
    rows = [line.split() for line in listing.splitlines()[1:]]
    expected = [[f"rt_types{target.pid}", "memfd:pyprobe-rt_types.so", f"rt_types_{probe}_site", probe]
                for probe in ("small", "wide", "twelve", "none", "nulls")]
    check([row[1:] for row in rows] == expected, f"pyprobe -l -p:\n{listing}")
    types = re.findall(r"args\[(\d+)\]: (.+)$", verbose, re.M)
    expected_types = ["const char *", "int32_t", "uint8_t", "int16_t", "uint64_t", "void *", "int8_t",
                      "uint16_t", "int64_t", "uint32_t", "const char *", "int32_t"]
    check(types == [(str(i), t) for i, t in enumerate(expected_types)], f"pyprobe -l -v:\n{verbose}")
    check("8@24(%rsp)" in verbose or "24(%rsp)" in verbose, f"no stack argument in -v:\n{verbose}")
    print("ok: pyprobe -l -p lists the provider, its memfd module and argument types")


CASES = {"types": case_types, "enabled": case_enabled, "nopid": case_nopid, "providers": case_providers,
         "threads": case_threads,
         "fork": case_fork, "tmpfile": case_tmpfile, "gdb": case_gdb, "lister": case_lister}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=sorted(CASES), required=True)
    parser.add_argument("--target", required=True, help="runtime_target")
    parser.add_argument("--pyprobe", help="the pyprobe command (--case lister)")
    opts = parser.parse_args()
    check(shutil.which(opts.target) or os.path.exists(opts.target), f"no {opts.target}")
    CASES[opts.case](opts)


if __name__ == "__main__":
    main()
