#!/usr/bin/env python3
"""The bpftrace scripts on CPython's python provider, unchanged: the same
scripts as for pint.

    test_scripts_cpython.py --python /usr/bin/python3.11 --scripts DIR
    test_scripts_cpython.py --python VENV/bin/python --module-of-venv
                            --launch tests/cpython/launch.py --scripts DIR

A python built --with-dtrace (Debian's python3.11) has the probes in its
executable, so the scripts run the program with -c (bpftrace 0.17's -p does
not read this binary's probe arguments). A stock CPython (3.12 and later)
gets them from the pyprobe package: the program runs under
`python -m pyprobe run`, and the scripts attach to the package's module
(pyprobe.where(), asked of that python) by pid, or system-wide for who.bt.
The program is ours; the interpreter's start-up runs code of its own, so
the checks look at our file's functions (exact calls, the flow in order,
times positive), and at least our collections, imports and audit events.
Debian's 3.11 needs the line probe enabled for function__entry to fire
(gh-98894): the scripts enable it, so this also checks that they do.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
from common import bpftrace_usable, check, fail, run
from test_scripts import (Run, expect_equal, histogram_total, numbers_in_range, parse_hists, parse_maps,
                          positive, tracer_env)

PROGRAM = """\
import gc


def leaf(n):
    return n + 1


def branch(k):
    total = 0
    for i in range(k):
        total += leaf(i)
    return total


for k in range(5):
    branch(k)
try:
    import pyprobe_no_such_module
except ImportError:
    pass
import json
gc.collect(0)
gc.collect(1)
gc.collect(2)
"""

CALLS = {"branch": 5, "leaf": 0 + 1 + 2 + 3 + 4}


def trace(opts, name, tmp):
    program = os.path.join(tmp, "prog.py")
    if opts.module:
        run = Run(os.path.join(opts.scripts, name + ".bt"), opts.module)
        command = [opts.python, "-m", "pyprobe", "run", opts.launch, program]
        return (run.system_wide([command]) if name == "who" else run.pid(command))[0], program
    out = os.path.join(tmp, name + ".out")
    script = os.path.join(opts.scripts, name + ".bt")
    with open(script) as f:
        env = tracer_env(f.read())
    # The program prints nothing: with -c it shares bpftrace's stdout.
    with open(out, "w") as f:
        proc = subprocess.run([opts.bpftrace, "-q", script, opts.python, "-c", f"{opts.python} {program}"],
                              stdout=f, stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    with open(out) as f:
        text = f.read()
    if proc.returncode != 0:
        fail(f"{name}.bt exit {proc.returncode}\n{proc.stderr}\n{text}")
    numbers_in_range(text)
    return text, program


def ours(maps, program):
    return {k[1]: v for k, v in maps.items() if k[0] == program}


def check_calls(opts, tmp):
    out, program = trace(opts, "calls", tmp)
    seen = ours(parse_maps(out)["calls"], program)
    seen.pop("<module>", None)  # -c may start the program before every probe is set
    expect_equal("calls", seen, CALLS)
    return f"{sum(CALLS.values())} calls of prog.py"


def check_top10(opts, tmp):
    out, _ = trace(opts, "top10", tmp)
    calls = parse_maps(out)["calls"]
    check(len(calls) == 10 and all(n > 0 for n in calls.values()), f"top10: {calls}")
    return f"10 functions, from {max(calls.values())} calls down"


def check_entry_return(opts, tmp):
    out, _ = trace(opts, "entry_return", tmp)
    seen = collections.Counter(line for line in out.splitlines() if line in ("-> branch", "<- branch",
                                                                             "-> leaf", "<- leaf"))
    expect_equal("entries and returns", dict(seen), {f"{arrow} {func}": n for func, n in CALLS.items()
                                                     for arrow in ("->", "<-")})
    return f"{sum(seen.values())} events of branch and leaf"


def check_calltime(opts, tmp, name="calltime"):
    out, program = trace(opts, name, tmp)
    maps = parse_maps(out)
    calls = ours(maps["calls"], program)
    calls.pop("<module>", None)
    expect_equal("calls", calls, CALLS)
    for kind in ("inclusive_ns", "exclusive_ns"):
        positive(kind, {f: t for f, t in ours(maps[kind], program).items() if f in CALLS})
    return "times positive"


def check_cputime(opts, tmp):
    return check_calltime(opts, tmp, "cputime") + " (on CPU)"


def check_calldist(opts, tmp):
    out, program = trace(opts, "calldist", tmp)
    totals = {f: histogram_total(f, b) for f, b in ours(parse_hists(out)["ns"], program).items()
              if f in CALLS}
    expect_equal("calls in the histograms", totals, CALLS)
    return "histograms of branch and leaf"


def check_who(opts, tmp):
    out, _ = trace(opts, "who", tmp)
    calls = parse_maps(out)["calls"]
    mine = [n for (pid, uid, comm), n in calls.items() if comm == os.path.basename(opts.python)]
    check(len(mine) == 1 and mine[0] >= sum(CALLS.values()), f"who: {calls}")
    return f"{mine[0]} calls by one {os.path.basename(opts.python)} process"


def check_lines(opts, tmp):
    out, _ = trace(opts, "lines", tmp)
    lines = parse_maps(out)["lines"]
    check(len(lines) == 20 and all(n > 0 for n in lines.values()), f"lines: {lines}")
    return "20 lines"


def check_flow(opts, tmp):
    out, program = trace(opts, "flow", tmp)
    return expect_prog_flow(out, program)


def expect_prog_flow(out, program):
    """What a flow script printed from its header line on: prog.py's calls
    of branch and leaf in order, leaf indented one under branch."""
    rows = []
    for line in out.splitlines()[1:]:
        m = re.fullmatch(r"\s*(\d+)\s+(\d+)  ( *)(->|<-) (\S+) (.+):(\d+)", line)
        check(m or not line.strip(), f"flow: unexpected line {line!r}")
        if m and m.group(6) == os.path.basename(program) and m.group(5) in CALLS:
            rows.append((int(m.group(1)), len(m.group(3)) // 2, m.group(4), m.group(5)))
    rows.sort()
    expected = []
    for k in range(5):
        expected += [("->", "branch")] + [("->", "leaf"), ("<-", "leaf")] * k + [("<-", "branch")]
    check([r[2:] for r in rows] == expected, f"flow of prog.py: {[r[2:] for r in rows]}")
    depth = {r[1] for r in rows if r[3] == "branch"}
    check(len(depth) == 1 and all(r[1] == min(depth) + 1 for r in rows if r[3] == "leaf"),
          f"flow: leaf is not indented under branch: {rows}")
    return f"{len(rows)} events of prog.py in order"


def check_gc(opts, tmp):
    out, _ = trace(opts, "gc", tmp)
    maps = parse_maps(out)
    for generation in ("0", "1", "2"):
        check(maps["collections"].get((generation,), 0) >= 1, f"no collection of generation {generation}")
        check((generation,) in maps["collected"], f"no collected count for generation {generation}")
    return "collections of generations 0, 1 and 2"


def check_gcpause(opts, tmp):
    out, _ = trace(opts, "gcpause", tmp)
    hists = parse_hists(out)["pause_ns"]
    for generation in ("0", "1", "2"):
        check(histogram_total(generation, hists.get((generation,), [])) >= 1,
              f"no pause of generation {generation}")
    return "pauses of generations 0, 1 and 2"


def check_imports(opts, tmp):
    out, _ = trace(opts, "imports", tmp)
    live = out.partition("\n\n")[0]  # what it printed as it went, before its END
    rows = [line.split() for line in live.splitlines()[1:] if line.strip()]
    found = {r[-1]: (" ".join(r[:-2]), int(r[-2])) for r in rows}
    check(found.get("pyprobe_no_such_module", ("",))[0] == "not found", f"imports: {rows}")
    check(found.get("json", ("",))[0] == "loaded", f"imports: {rows}")
    check(all(t > 0 for _, t in found.values()), f"imports: times {rows}")
    return f"{len(rows)} imports, json loaded, pyprobe_no_such_module not found"


def check_audit(opts, tmp):
    out, _ = trace(opts, "audit", tmp)
    events = {k[0]: v for k, v in parse_maps(out)["events"].items()}
    check(events.get("import", 0) >= 2, f"audit: {events}")
    check(events.get("open", 0) >= 1, f"audit: {events}")
    return f"{sum(events.values())} events, {len(events)} names"


# Every script but instances.bt: CPython has no instance probe sites.
CHECKS = collections.OrderedDict(
    calls=check_calls, top10=check_top10, entry_return=check_entry_return, flow=check_flow,
    calltime=check_calltime, cputime=check_cputime, calldist=check_calldist, who=check_who,
    lines=check_lines, gc=check_gc, gcpause=check_gcpause, imports=check_imports, audit=check_audit)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True, help="a python with the python probes, or with pyprobe")
    parser.add_argument("--module-of-venv", action="store_true",
                        help="a stock python with pyprobe installed: the probes are in pyprobe.where()")
    parser.add_argument("--launch", help="with --module-of-venv: tests/cpython/launch.py")
    parser.add_argument("--scripts", required=True, help="examples/scripts")
    opts = parser.parse_args()
    opts.module = None
    marker = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(opts.python))), "absent")
    if opts.module_of_venv and not os.path.exists(opts.python) and os.path.exists(marker):
        with open(marker) as f:  # tests/python's install step found no such Python here
            print(f"SKIP: {f.read().strip()}")
        sys.exit(77)
    if opts.module_of_venv:
        opts.module = run([opts.python, "-m", "pyprobe", "where"]).stdout.strip()
    else:
        opts.python = os.path.realpath(opts.python)  # its name in `comm`
    opts.bpftrace = bpftrace_usable()
    with tempfile.TemporaryDirectory(prefix="pyprobe-cpython-") as tmp:
        with open(os.path.join(tmp, "prog.py"), "w") as f:
            f.write(PROGRAM)
        for name, check_script in CHECKS.items():
            print(f"ok: {name}.bt on {os.path.basename(opts.python)}: {check_script(opts, tmp)}")


if __name__ == "__main__":
    main()
