#!/usr/bin/env python3
"""The D scripts of examples/scripts, run by `pyprobe -s` on pint, against
what the samples do: the same truths their bpftrace twins are held to
(test_scripts.py), read from DTrace's output.

    test_scripts_d_run.py --pyprobe PYPROBE --pint PINT --programs DIR
                          --scripts DIR [--provider P] [--script NAME]...

Each runs as a user would trace one process: `pyprobe -s NAME.d
PROVIDER<pid> -p PID` (the scripts' `$1*:::` is then that process's
provider alone), and the trace ends when the sample exits.
"""
import argparse
import collections
import os
import re
import subprocess
import tempfile

from common import bpftrace_usable, check
from test_scripts import (GEOMETRY, KEEP_EVERY, PARTICLES, ROOMS, TOUR, Source, Workload, expect_equal,
                          expect_hottest_lines, fib_sample_calls, finish, flow_rows, garbage_truth,
                          numbers_in_range, tour_calls, tour_hot_lines, wait_for_begin)

HIST_ROW = re.compile(r"\s+(-?\d+) \|[@ ]*\s(\d+)\s*$")


def trace(opts, name, program):
    """(DTrace's output, the sample's stdout) of NAME.d on pint running
    program: pint waits (PINT_WAIT_FOR_TRACER) for the script's probes and
    the ready file, made once the script's BEGIN has printed (every probe
    attached); the provider is the sample's own, PROVIDER<pid>, so that no
    other process's probes count."""
    w = opts.workload
    script = os.path.join(opts.scripts, name + ".d")
    with open(script) as f:
        probes = set(re.findall(r"\$1\*:::([a-z-]+)", f.read()))
    out, ready = os.path.join(opts.tmp, f"{name}.out"), os.path.join(opts.tmp, f"{name}.ready")
    for path in (out, ready):
        if os.path.exists(path):
            os.unlink(path)  # -o appends, as dtrace's does
    env = dict(os.environ, PINT_WAIT_FOR_TRACER=str(len(probes)), PINT_WAIT_SECONDS="60", PYPROBE_READY_FILE=ready)
    child = subprocess.Popen([opts.pint, w.name(program)], cwd=w.dir, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    tracer = None
    try:
        cmd = [opts.pyprobe, "-o", out, "-s", script, f"{opts.provider}{child.pid}", "-p", str(child.pid)]
        tracer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_begin(out, tracer)
        open(ready, "w").close()
        stdout = finish(child, f"pint {program}", 120)
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
    src = Source(os.path.join(opts.workload.dir, GEOMETRY))
    square, init, area = (f"{GEOMETRY}:{src.at(text)}" for text in
                          ("func square(n)", "func init(width, height)", "func area()"))
    module, geometry = "imports.pint:1", f"{GEOMETRY}:1"
    expected = [(0, "->", "<module>", module),
                (1, "->", "<module>", geometry), (1, "<-", "<module>", geometry),
                (1, "->", "square", square), (1, "<-", "square", square),
                (1, "->", "Rect.init", init), (1, "<-", "Rect.init", init),
                (1, "->", "Rect.area", area), (1, "<-", "Rect.area", area),
                (0, "<-", "<module>", module)]
    expect_equal("flow", [r[2:] for r in rows], expected)
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


CHECKS = {"calls": check_calls, "top10": check_top10, "entry_return": check_entry_return, "flow": check_flow,
          "calltime": lambda o: check_timing(o, "calltime"), "cputime": lambda o: check_timing(o, "cputime"),
          "calldist": check_calldist, "who": check_who, "gc": check_gc, "gcpause": check_gcpause,
          "instances": check_instances, "lines": check_lines, "imports": check_imports, "audit": check_audit}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--pint", required=True)
    parser.add_argument("--programs", required=True)
    parser.add_argument("--scripts", required=True)
    parser.add_argument("--provider", default="python")
    parser.add_argument("--script", action="append", choices=sorted(CHECKS))
    opts = parser.parse_args()
    bpftrace_usable()
    scripts = sorted(f[:-2] for f in os.listdir(opts.scripts) if f.endswith(".d"))
    check(sorted(CHECKS) == scripts, f"scripts {scripts}, checks {sorted(CHECKS)}")
    with tempfile.TemporaryDirectory(prefix="pyprobe-d-run-") as tmp:
        opts.tmp, opts.workload = tmp, Workload(opts.programs)
        for name in opts.script or scripts:
            print(f"ok: {name}.d: {CHECKS[name](opts)}", flush=True)


if __name__ == "__main__":
    main()
