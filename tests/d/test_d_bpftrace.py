#!/usr/bin/env python3
"""bpftrace 0.17 runs what the D front end makes of real D scripts.

    test_d_bpftrace.py --translate D_TRANSLATE_FILE --library LIBPYPROBE
                       --pint PINT --programs DIR [--python PYTHON]
                       [--cpython-scripts DIR] [--launch LAUNCH_PY] SCRIPT...

1. Every SCRIPT (the repo's examples/scripts/*.d; tests/d/scripts: the
   talk's two scripts and features.d, every kind of probe and action) and
   CPython's own call_stack.d, gc.d and line.d (Debian's
   libpython3.11-testsuite) is translated against the probes of LIBPYPROBE
   and PYTHON, as the script asks (its pragmas) and once more with -F and
   not quiet. bpftrace must load and attach the program (system-wide, by
   file), with no warning and no error, and on Ctrl-C run its END: the
   EXIT record of the plan and the CLOSE record come out.
2. calls.d, calltime.d and the talk's top-10 script, translated (-q, as
   the talk runs it) for pint running tour.pint (-p), count every
   function's calls exactly (examples/tests/test_scripts.py knows them).
3. CPython's call_stack.d, gc.d and line.d, unchanged, on their scenario
   programs under PYTHON: what bpftrace prints, with pyprobe's segments
   resolved as its renderer would, normalised as test_dtrace.py does, is
   CPython's .d.expected (with --launch).

Needs root and bpftrace (exit 77, or a failure under
PYPROBE_REQUIRE_TRACERS=1).
"""
import argparse
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import tempfile
import time

from common import bpftrace_usable, check, fail, skip
from test_cpython import normalize_trace_output
from test_scripts import TOUR, Workload, expect_equal, tour_calls

CONTROL, CLOSE, READY = "\x1e", "\x1e\n", "\x1eready\n"  # src/d/d_data.h
CPYTHON_SCRIPTS = ("call_stack.d", "gc.d", "line.d")


def macro_arguments(script):
    """The repo's scripts take the provider as their first macro argument
    ($1*:::function-entry): python here."""
    with open(script) as f:
        return ["python"] if "$1*:::" in f.read() else []


def translate(opts, script, pid, extra=(), python=True, library=True):
    files = (["--file", opts.library] if library else []) + (["--file", opts.python] if opts.python and python else [])
    cmd = [opts.translate, "-Z", "-p", str(pid), *extra, *files, "-s", script, *macro_arguments(script)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(proc.returncode == 0, f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def events(path):
    """bpftrace's -f json events (it also writes bare blank lines)."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def wait_attached(out, proc, timeout=180):
    """Until the program's READY record (from BEGIN, which bpftrace runs
    once every probe is attached; its "attached_probes" event comes before
    it attaches). Attaching uprobes to a large binary can be
    slow on a busy machine, hence the long wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(out) and READY in control_records(events(out)):
            return
        if proc.poll() is not None:
            fail(f"bpftrace exit {proc.returncode} before attaching:\n{proc.stderr.read()}")
        time.sleep(0.05)
    proc.kill()
    fail(f"bpftrace did not attach in {timeout}s")


def stop(proc, timeout=120):
    """Ctrl-C once: bpftrace runs END and exits (attached, it handles it)."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail(f"bpftrace did not stop on SIGINT within {timeout}s")


def problems(stderr):
    """bpftrace's warnings and errors, but the RLIMIT_MEMLOCK line every run
    here prints (harmless, REFERENCE.md)."""
    return [line for line in stderr.splitlines()
            if ("ERROR" in line or "WARNING" in line) and "RLIMIT_MEMLOCK" not in line]


def control_records(evs):
    return [e["data"] for e in evs if e["type"] == "printf" and e["data"].startswith(CONTROL)]


def load(bpftrace, name, program, tmp):
    """Runs the program system-wide until attached, then Ctrl-C: its END
    must print the plan's last record (EXIT) and the CLOSE record."""
    path, out = os.path.join(tmp, name + ".bt"), os.path.join(tmp, name + ".out")
    with open(path, "w") as f:
        f.write(program)
    proc = subprocess.Popen([bpftrace, "-f", "json", "-o", out, path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_attached(out, proc)
        _, err = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check(proc.returncode == 0, f"{name}: bpftrace exit {proc.returncode}\n{err}\n--- program\n{program}")
    bad = problems(err)
    check(not bad, f"{name}: bpftrace said:\n" + "\n".join(bad) + f"\n--- program\n{program}")
    # The EXIT action is the plan's last (the highest ID): its record, the
    # status 0, then CLOSE; other CPUs' probes may still print around them.
    records = control_records(events(out))
    ids = [int(r[1:].split()[0]) for r in records if r[1:].split() and r[1:].split()[0].isdigit()]
    exits = [i for i, r in enumerate(records) if ids and r == f"{CONTROL}{max(ids)} 0\n"]
    check(exits and CLOSE in records[exits[-1]:], f"{name}: no EXIT record then CLOSE: {records}")


# ---- call counts on pint ----

def usdt_probes(program):
    return {line.split(":")[-1] for line in program.splitlines() if line.startswith("usdt:")}


def trace_pint(opts, bpftrace, script, tmp):
    """Runs pint on tour.pint traced by the script's translation (-p) and
    returns the events. pint waits until the program's probes are enabled
    and the ready file exists, made once bpftrace has attached."""
    path, out, ready = (os.path.join(tmp, n) for n in ("calls.bt", "calls.out", "ready"))
    # pint's probes only: bpftrace -p fails on a probe in a file the
    # process does not map ("couldn't get argument")
    probes = usdt_probes(translate(opts, script, 1, ["-q"], python=False))
    env = dict(os.environ, PINT_WAIT_FOR_TRACER=str(len(probes)), PINT_WAIT_SECONDS="120",
               PYPROBE_READY_FILE=ready)
    child = subprocess.Popen([opts.pint, TOUR], cwd=opts.programs, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    tracer = None
    try:
        with open(path, "w") as f:
            f.write(translate(opts, script, child.pid, ["-q"], python=False))
        tracer = subprocess.Popen([bpftrace, "-f", "json", "-o", out, path, "-p", str(child.pid)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_attached(out, tracer)
        open(ready, "w").close()
        _, child_err = child.communicate(timeout=180)
        check(child.returncode == 0, f"pint exit {child.returncode}: {child_err}")
        _, err = tracer.communicate(timeout=120)
        check(tracer.returncode == 0 and not problems(err), f"bpftrace exit {tracer.returncode}: {err}")
    finally:
        for p in (child, tracer):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    return events(out)


def first_map(evs, record):
    """The map event that follows the control record `record`."""
    for i, e in enumerate(evs):
        if e["type"] == "printf" and e["data"] == record:
            for after in evs[i + 1:]:
                if after["type"] == "map":
                    return after["data"]
    fail(f"no map after the record {record!r} in:\n" + "\n".join(json.dumps(e)[:200] for e in evs))


def counts(opts, bpftrace, script, record, map_name, split):
    with tempfile.TemporaryDirectory(prefix="pyprobe-d-") as tmp:
        maps = first_map(trace_pint(opts, bpftrace, script, tmp), record)
    seen = {split(key): value for key, value in maps[map_name].items()}
    expect_equal(os.path.basename(script), seen, tour_calls(Workload(opts.programs)))


# ---- CPython's own scenarios ----

SEGMENT = re.compile("\x1f([WBD])([^\x1d]*)\x1d([^\x1f\x1c]*)\x1c")


def resolve_segments(text):
    """The wire protocol's inline segments (d_data.h), innermost first, as
    pyprobe's renderer resolves them: %*s, basename, dirname."""
    while (m := SEGMENT.search(text)) is not None:
        op, arg, inner = m.groups()
        value = ("%*s" % (int(arg), inner) if op == "W" else
                 posixpath.basename(inner) if op == "B" else posixpath.dirname(inner))
        text = text[:m.start()] + value + text[m.end():]
    return text


def cpython_scenario(opts, bpftrace, name, tmp):
    """CPython's NAME.d, unchanged, on its NAME.py under PYTHON (run as
    test_dtrace.py does, from the tracer's attaching on): the printed lines,
    segments resolved and normalised as test_dtrace.py does, are its
    NAME.d.expected."""
    directory = opts.cpython_scripts
    path, out, ready = (os.path.join(tmp, name + suffix) for suffix in (".bt", ".out", ".ready"))
    child = subprocess.Popen([opts.python, opts.launch, os.path.join(directory, name + ".py")], cwd=directory,
                             env=dict(os.environ, PYPROBE_READY_FILE=ready), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    tracer = None
    try:
        with open(path, "w") as f:
            f.write(translate(opts, os.path.join(directory, name + ".d"), child.pid, ["-q"], library=False))
        tracer = subprocess.Popen([bpftrace, "-f", "json", "-o", out, path], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        wait_attached(out, tracer)
        open(ready, "w").close()
        _, child_err = child.communicate(timeout=180)
        check(child.returncode == 0, f"{name}.py exit {child.returncode}: {child_err}")
        stop(tracer)
    finally:
        for p in (child, tracer):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    text = "".join(resolve_segments(e["data"]) for e in events(out)
                   if e["type"] == "printf" and not e["data"].startswith(CONTROL))
    with open(os.path.join(directory, name + ".d.expected")) as f:
        expected = f.read().rstrip()
    actual = normalize_trace_output(text)
    check(actual == expected, f"{name}.d on {opts.python}:\n--- expected\n{expected}\n--- printed\n{actual}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--translate", required=True)
    parser.add_argument("--library", required=True)
    parser.add_argument("--pint", required=True)
    parser.add_argument("--programs", required=True)
    parser.add_argument("--python", help="a CPython built --with-dtrace, e.g. /usr/bin/python3.11")
    parser.add_argument("--cpython-scripts", help="Lib/test/dtracedata, from libpython3.11-testsuite")
    parser.add_argument("--launch", help="tests/cpython/launch.py: runs a program once the tracer is attached")
    parser.add_argument("scripts", nargs="+")
    opts = parser.parse_args()
    bpftrace = bpftrace_usable()
    scripts = list(opts.scripts)
    if opts.cpython_scripts:
        if not all(os.path.exists(os.path.join(opts.cpython_scripts, s)) for s in CPYTHON_SCRIPTS):
            skip(f"CPython's D scripts are not in {opts.cpython_scripts}: apt-get install libpython3.11-testsuite")
        scripts += [os.path.join(opts.cpython_scripts, s) for s in CPYTHON_SCRIPTS]
    private = tempfile.TemporaryDirectory(prefix="pyprobe-d-python-")
    if opts.python:
        # A private copy: a probe attached by file fires in every process
        # that runs the file, and enables CPython 3.11's slow tracing path
        # there (its line probe): on the copy, only in this test's.
        opts.python = shutil.copy2(opts.python, os.path.join(private.name, os.path.basename(opts.python)))
    target = subprocess.Popen(["sleep", "600"])  # $target of the scripts that use it
    loaded = 0
    try:
        with tempfile.TemporaryDirectory(prefix="pyprobe-d-") as tmp:
            for n, script in enumerate(scripts):
                name = f"{n}-{os.path.basename(script)[:-2]}"  # two gc.d: the repo's, CPython's
                load(bpftrace, name, translate(opts, script, target.pid), tmp)
                load(bpftrace, name + "-F", translate(opts, script, target.pid, ["-F"]), tmp)
                loaded += 2
    finally:
        target.kill()
        target.wait()
    calls, calltime, top10 = (next(s for s in opts.scripts if os.path.basename(s) == name)
                              for name in ("calls.d", "calltime.d", "talk_top10.d"))
    # calls.d: @calls[file, function], printed by its END's printa (action 0)
    counts(opts, bpftrace, calls, CONTROL + "0\n", "@a_calls", lambda key: tuple(key.split(",")))
    # calltime.d counts a return only when this->start, set by the clause
    # before on the same probe, is not 0: this-> lives across the clauses
    counts(opts, bpftrace, calltime, CONTROL + "0\n", "@a_calls", lambda key: tuple(key.split(",")))
    # the talk's: @[strjoin(strjoin(file, "-"), function)]: two key parts,
    # the "-" is pyprobe's to add; END's trunc (action 0) prints them all
    counts(opts, bpftrace, top10, CONTROL + "0\n", "@a_", lambda key: tuple(key.split(",")))
    scenarios = []
    if opts.cpython_scripts and opts.python and opts.launch:
        with tempfile.TemporaryDirectory(prefix="pyprobe-d-") as tmp:
            for script in CPYTHON_SCRIPTS:
                cpython_scenario(opts, bpftrace, script[:-2], tmp)
                scenarios.append(script)
    private.cleanup()
    print(f"ok: {loaded} translations of {len(scripts)} scripts loaded and ran their END; "
          f"calls.d, calltime.d and the talk's top-10 counted {len(tour_calls(Workload(opts.programs)))} functions' calls "
          f"exactly; {', '.join(scenarios) or 'no CPython scenario'} printed CPython's expected lines on {opts.python}")


if __name__ == "__main__":
    main()
