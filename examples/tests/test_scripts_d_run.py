#!/usr/bin/env python3
"""The D scripts of examples/scripts, run by `pyprobe -s` on pint, against
what the samples do: the same truths their bpftrace twins are held to
(test_scripts.py), read from DTrace's output.

    test_scripts_d_run.py --pyprobe PYPROBE --pint PINT --programs DIR
                          --scripts DIR [--provider P] [--script NAME]...
    test_scripts_d_run.py --pyprobe PYPROBE --python PYTHON [--stock]
                          --launch LAUNCH_PY --scripts DIR [--script NAME]...

Each runs as a user would trace one process: `pyprobe -s NAME.d
PROVIDER<pid> -p PID` (the scripts' `$1*:::` is then that process's
provider alone), and the trace ends when the sample exits.

With --python, on CPython's own python provider instead (Debian's
python3.11, built --with-dtrace; with --stock, a 3.12+ with the pyprobe
package, run as `python -m pyprobe run`): `pyprobe -s NAME.d python<pid> -p PID`
on the program of test_scripts_cpython.py, held until every
probe is attached, and the same checks as its .bt twins there: our file's
functions exactly, at least our collections, imports and audit events.
The program runs under tests/cpython/launch.py, which waits for the
tracer, traced as python<pid> with -p.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

from common import bpftrace_usable, check, wait_mapped
from test_scripts_cpython import CALLS as CPYTHON_CALLS, PROGRAM as CPYTHON_PROGRAM, expect_prog_flow
from test_scripts import (GEOMETRY, KEEP_EVERY, PARTICLES, ROOMS, TOUR, Workload, expect_equal, expect_hottest_lines,
                          fib_sample_calls, finish, flow_rows, garbage_truth, imports_flow, numbers_in_range,
                          tour_calls, tour_hot_lines, wait_for_begin)

HIST_ROW = re.compile(r"\s+(-?\d+) \|[@ ]*\s(\d+)\s*$")


def trace(opts, name, program):
    """(DTrace's output, the sample's stdout) of NAME.d on pint running
    program (see trace_command)."""
    w = opts.workload
    return trace_command(opts, name, [opts.pint, w.name(program)], opts.provider, w.dir)


def trace_command(opts, name, command, provider, cwd, mapped=None):
    """(DTrace's output, the command's stdout) of NAME.d on the command,
    which waits (pint: PINT_WAIT_FOR_TRACER; python: launch.py) for the ready
    file, made once the script's BEGIN has printed (every probe attached);
    the provider is the command's own, PROVIDER<pid> with -p, so that no
    other process's probes count."""
    script = os.path.join(opts.scripts, name + ".d")
    with open(script) as f:
        probes = set(re.findall(r"\$1\*:::([a-z-]+)", f.read()))
    out, ready = os.path.join(opts.tmp, f"{name}.out"), os.path.join(opts.tmp, f"{name}.ready")
    for path in (out, ready):
        if os.path.exists(path):
            os.unlink(path)  # -o appends, as dtrace's does
    env = dict(os.environ, PINT_WAIT_FOR_TRACER=str(len(probes)), PINT_WAIT_SECONDS="60", PYPROBE_READY_FILE=ready)
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tracer = None
    try:
        if mapped:
            wait_mapped(child.pid, mapped)
        cmd = [opts.pyprobe, "-o", out, "-s", script, f"{provider}{child.pid}", "-p", str(child.pid)]
        tracer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_begin(out, tracer)
        open(ready, "w").close()
        stdout = finish(child, " ".join(command), 120)
        finish(tracer, " ".join(cmd), 120)
    finally:
        for p in (child, tracer):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    with open(out) as f:
        text = f.read()
    numbers_in_range(text)
    return text, stdout


def table(text, header, width=None):
    """The rows under the line whose words are `header`, up to a blank
    line: {keys: number} (the last word a number, the rest the keys), or
    with width, {first `width` words: the remaining numbers}."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.split() == header), None)
    check(start is not None, f"no table headed {header}:\n{text}")
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        words = line.split()
        if width is None:
            rows[tuple(words[:-1])] = int(words[-1])
        else:
            rows[tuple(words[:width])] = tuple(int(v) for v in words[width:])
    return rows


def section(text, title):
    """The rows after the line `title` (a key then a number), to a blank line."""
    lines = text.splitlines()
    check(title in lines, f"no section {title!r}:\n{text}")
    rows = {}
    for line in lines[lines.index(title) + 1:]:
        if not line.strip():
            break
        words = line.split()
        rows[tuple(words[:-1])] = int(words[-1])
    return rows


def histograms(text, title):
    """quantize()'s tables after `title`: {key line: total count}."""
    lines = text.splitlines()
    check(title in lines, f"no {title!r}:\n{text}")
    totals, key = {}, None
    for line in lines[lines.index(title) + 1:]:
        m = HIST_ROW.match(line)
        if m:
            totals[key] += int(m.group(2))
        elif line.strip() and "Distribution" not in line:
            key = line.strip()
            totals[key] = 0
    return totals


def sample_only(rows, files):
    return {k: v for k, v in rows.items() if k[0] in files}


def calls_of(opts):
    w = opts.workload
    return {k: v for k, v in tour_calls(w).items()}, {w.name(TOUR), w.name(GEOMETRY)}


def check_calls(opts):
    out, _ = trace(opts, "calls", TOUR)
    calls, files = calls_of(opts)
    expect_equal("calls", sample_only(table(out, ["FILE", "FUNCTION", "CALLS"]), files), calls)
    return f"{len(calls)} functions"


def check_top10(opts):
    out, _ = trace(opts, "top10", TOUR)
    calls, files = calls_of(opts)
    ranked = sorted(calls.items(), key=lambda kv: -kv[1])
    expect_equal("top 10", table(out, ["FILE", "FUNCTION", "CALLS"]), dict(ranked[:10]))
    return "the top 10"


def check_timing(opts, name):
    out, _ = trace(opts, name, TOUR)
    calls, files = calls_of(opts)
    expect_equal("calls", sample_only(section(out, "Calls:"), files), calls)
    return f"{len(calls)} functions' calls, times in range"


def check_calldist(opts):
    out, _ = trace(opts, "calldist", TOUR)
    calls, files = calls_of(opts)
    totals = {tuple(k.split(", ")): n for k, n in histograms(out, "Elapsed time (ns) by file and function:").items()}
    expect_equal("calls in the histograms", sample_only(totals, files), calls)
    return f"{len(totals)} histograms"


def check_entry_return(opts):
    out, _ = trace(opts, "entry_return", "classes.pint")
    seen = collections.Counter((m.group(1), m.group(2)) for m in
                               re.finditer(r":function-(entry|return)\s+(\S+)\s*$", out, flags=re.M))
    calls = {"<module>": 1, "Point.init": 5, "Point.move": 3, "Point.show": 4, "Path.add": 3}
    expected = {(kind, func): n for func, n in calls.items() for kind in ("entry", "return")}
    expect_equal("entries and returns", dict(seen), expected)
    return f"{sum(seen.values())} events"


def check_flow(opts):
    out, _ = trace(opts, "flow", "imports.pint")
    rows = flow_rows(out[out.index("TIME(ns)"):])
    expect_equal("flow", [r[2:] for r in rows], imports_flow(opts.workload))
    return f"{len(rows)} events in order"


def check_who(opts):
    out, _ = trace(opts, "who", "fib.pint")
    rows = table(out, ["PID", "UID", "COMMAND", "CALLS"])
    mine = {k[1:]: v for k, v in rows.items() if k[2] == "pint"}
    expect_equal("calls by process", mine, {(str(os.getuid()), "pint"): fib_sample_calls()})
    return f"{fib_sample_calls()} calls"


def check_gc(opts):
    out, stdout = trace(opts, "gc", "garbage.pint")
    returned, total = garbage_truth(stdout)
    collections_ = table(out, ["GENERATION", "COLLECTIONS"])
    young = collections_.get(("0",), 0)
    check(young > 0, "no young collection")
    expect_equal("collections", collections_, {("0",): young, ("1",): len(returned)})
    expect_equal("collected", table(out, ["GENERATION", "COLLECTED"]),
                 {("0",): total - sum(returned), ("1",): sum(returned)})
    opts.young = young
    return f"{young} young and {len(returned)} full collections"


def check_gcpause(opts):
    out, stdout = trace(opts, "gcpause", "garbage.pint")
    returned, _ = garbage_truth(stdout)
    totals = histograms(out, "GC pauses (ns) by generation:")
    check(totals.get("generation 1") == len(returned) and totals.get("generation 0", 0) > 0,
          f"pauses {totals}, {len(returned)} full collections")
    return f"{totals['generation 0']} young and {len(returned)} full pauses"


def check_instances(opts):
    out, _ = trace(opts, "instances", TOUR)
    w = opts.workload
    tour, geometry = w.name(TOUR), w.name(GEOMETRY)
    kept = PARTICLES // KEEP_EVERY
    expect_equal("created, deleted, live", table(out, ["CLASS", "FILE", "CREATED", "DELETED", "LIVE"], 2),
                 {("Particle", tour): (PARTICLES, PARTICLES - kept, kept), ("Swarm", tour): (1, 0, 1),
                  ("Rect", geometry): (ROOMS, ROOMS, 0)})
    return f"live: {kept} Particle"


def check_lines(opts):
    out, _ = trace(opts, "lines", TOUR)
    rows = table(out, ["FILE", "LINE", "FUNCTION", "COUNT"])
    return expect_hottest_lines(rows,
                                tour_hot_lines(opts.workload))


def check_imports(opts):
    out, _ = trace(opts, "imports", "imports.pint")
    lines = out.splitlines()
    head = lines.index(next(line for line in lines if line.split() == ["RESULT", "TIME(ns)", "MODULE"]))
    rows = []
    for line in lines[head + 1:]:
        if not line.strip():
            break
        words = line.split()
        rows.append((" ".join(words[:-2]), words[-1], int(words[-2])))
    check([r[:2] for r in rows] == [("loaded", "geometry"), ("not found", "nosuch")] and all(r[2] > 0 for r in rows),
          f"imports: {rows}")
    return "geometry loaded, nosuch not found"


def check_audit(opts):
    out, _ = trace(opts, "audit", "imports.pint")
    expect_equal("audit events", table(out, ["EVENT", "COUNT"]), {("open",): 2, ("import",): 2})
    return "open 2, import 2"


# ---- on CPython ----

def trace_python(opts, name):
    """NAME.d on the python running prog.py (under tests/cpython/launch.py,
    which waits for the ready file), the provider its own (python<pid>,
    -p), as trace() does for pint: no other process counts."""
    program = os.path.join(opts.tmp, "prog.py")
    command = [opts.python, *(["-m", "pyprobe", "run"] if opts.stock else []), opts.launch, program]
    # A stock python maps the package's module (its probes) as it starts.
    return trace_command(opts, name, command, "python", opts.tmp, "/pyprobe/_native" if opts.stock else None)[0], \
        program


def ours(rows, program):
    """{function: n} of the rows keyed (file, function) that are prog.py's."""
    return {k[1]: v for k, v in rows.items() if k[0] == program and k[1] in CPYTHON_CALLS}


def py_calls(opts):
    out, program = trace_python(opts, "calls")
    expect_equal("calls", ours(table(out, ["FILE", "FUNCTION", "CALLS"]), program), CPYTHON_CALLS)
    return f"{sum(CPYTHON_CALLS.values())} calls of prog.py"


def py_top10(opts):
    out, _ = trace_python(opts, "top10")
    rows = table(out, ["FILE", "FUNCTION", "CALLS"])
    check(len(rows) == 10 and all(n > 0 for n in rows.values()), f"top10: {rows}")
    return f"10 functions, from {max(rows.values())} calls down"


def py_entry_return(opts):
    out, _ = trace_python(opts, "entry_return")
    seen = collections.Counter((m.group(1), m.group(2)) for m in
                               re.finditer(r":function-(entry|return)\s+(branch|leaf)\s*$", out, flags=re.M))
    expect_equal("entries and returns", dict(seen),
                 {(kind, f): n for f, n in CPYTHON_CALLS.items() for kind in ("entry", "return")})
    return f"{sum(seen.values())} events of branch and leaf"


def py_timing(opts, name):
    out, program = trace_python(opts, name)
    expect_equal("calls", ours(section(out, "Calls:"), program), CPYTHON_CALLS)
    return "calls exact, times in range"


def py_calldist(opts):
    out, program = trace_python(opts, "calldist")
    totals = {tuple(k.split(", ")): n for k, n in histograms(out, "Elapsed time (ns) by file and function:").items()}
    expect_equal("calls in the histograms", ours(totals, program), CPYTHON_CALLS)
    return "histograms of branch and leaf"


def py_who(opts):
    out, _ = trace_python(opts, "who")
    comm = os.path.basename(opts.python)[:15]  # as exec named it
    mine = [n for (pid, uid, c), n in table(out, ["PID", "UID", "COMMAND", "CALLS"]).items() if c == comm]
    check(mine and max(mine) >= sum(CPYTHON_CALLS.values()), f"who: no {comm} with our calls:\n{out}")
    return f"{max(mine)} calls by {comm}"


def py_lines(opts):
    out, _ = trace_python(opts, "lines")
    rows = table(out, ["FILE", "LINE", "FUNCTION", "COUNT"])
    check(len(rows) == 20 and all(n > 0 for n in rows.values()), f"lines: {rows}")
    return "20 lines"


def py_flow(opts):
    out, program = trace_python(opts, "flow")
    return expect_prog_flow(out[out.index("TIME(ns)"):], program)


def py_gc(opts):
    out, _ = trace_python(opts, "gc")
    collections_, collected = table(out, ["GENERATION", "COLLECTIONS"]), table(out, ["GENERATION", "COLLECTED"])
    for generation in ("0", "1", "2"):
        check(collections_.get((generation,), 0) >= 1 and (generation,) in collected,
              f"no collection of generation {generation}:\n{out}")
    return "collections of generations 0, 1 and 2"


def py_gcpause(opts):
    out, _ = trace_python(opts, "gcpause")
    totals = histograms(out, "GC pauses (ns) by generation:")
    check(all(totals.get(f"generation {g}", 0) >= 1 for g in "012"), f"pauses: {totals}")
    return "pauses of generations 0, 1 and 2"


def py_imports(opts):
    out, _ = trace_python(opts, "imports")
    rows = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[-2].isdigit():
            rows[words[-1]] = (" ".join(words[:-2]), int(words[-2]))
    check(rows.get("pyprobe_no_such_module", ("",))[0] == "not found" and rows.get("json", ("",))[0] == "loaded"
          and all(t > 0 for _, t in rows.values()), f"imports: {rows}")
    return f"{len(rows)} imports, json loaded, pyprobe_no_such_module not found"


def py_audit(opts):
    out, _ = trace_python(opts, "audit")
    events = {k[0]: v for k, v in table(out, ["EVENT", "COUNT"]).items()}
    check(events.get("import", 0) >= 2 and events.get("open", 0) >= 1, f"audit: {events}")
    return f"{sum(events.values())} events, {len(events)} names"


# Every script but instances.d: CPython has no instance probe sites.
PYTHON_CHECKS = {"calls": py_calls, "top10": py_top10, "entry_return": py_entry_return, "flow": py_flow,
                 "calltime": lambda o: py_timing(o, "calltime"), "cputime": lambda o: py_timing(o, "cputime"),
                 "calldist": py_calldist, "who": py_who, "lines": py_lines, "gc": py_gc, "gcpause": py_gcpause,
                 "imports": py_imports, "audit": py_audit}

CHECKS = {"calls": check_calls, "top10": check_top10, "entry_return": check_entry_return, "flow": check_flow,
          "calltime": lambda o: check_timing(o, "calltime"), "cputime": lambda o: check_timing(o, "cputime"),
          "calldist": check_calldist, "who": check_who, "gc": check_gc, "gcpause": check_gcpause,
          "instances": check_instances, "lines": check_lines, "imports": check_imports, "audit": check_audit}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--pint")
    parser.add_argument("--programs")
    parser.add_argument("--python", help="CPython's own provider: this python (Debian's 3.11, or with --stock)")
    parser.add_argument("--stock", action="store_true", help="--python is a 3.12+ with the pyprobe package")
    parser.add_argument("--launch", help="with --python: tests/cpython/launch.py")
    parser.add_argument("--scripts", required=True)
    parser.add_argument("--provider", default="python")
    parser.add_argument("--script", action="append", choices=sorted(CHECKS))
    opts = parser.parse_args()
    marker = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(opts.python or "/"))), "absent")
    if opts.stock and not os.path.exists(opts.python) and os.path.exists(marker):
        with open(marker) as f:  # tests/python's install step found no such Python here
            print(f"SKIP: {f.read().strip()}")
        sys.exit(77)
    bpftrace_usable()
    scripts = sorted(f[:-2] for f in os.listdir(opts.scripts) if f.endswith(".d"))
    check(sorted(CHECKS) == scripts, f"scripts {scripts}, checks {sorted(CHECKS)}")
    with tempfile.TemporaryDirectory(prefix="pyprobe-d-run-") as tmp:
        opts.tmp = tmp
        if opts.python:
            with open(os.path.join(tmp, "prog.py"), "w") as f:
                f.write(CPYTHON_PROGRAM)
            for name in opts.script or sorted(PYTHON_CHECKS):
                print(f"ok: {name}.d on {opts.python}: {PYTHON_CHECKS[name](opts)}", flush=True)
            return
        opts.workload = Workload(opts.programs)
        for name in opts.script or scripts:
            print(f"ok: {name}.d: {CHECKS[name](opts)}", flush=True)


if __name__ == "__main__":
    main()
