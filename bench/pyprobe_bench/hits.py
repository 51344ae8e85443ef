"""Part 2, cost per probe hit while bpftrace counts hits: bench/fire_loop.c
and bench/programs/gc_hits.py time their loop untraced and traced; ns per
hit = traced minus untraced time per iteration."""
import json
import os
import re
import shlex
import shutil
import subprocess
from collections import namedtuple

from . import PROGRAMS
from .measure import median
from .shell import Failure, output, read_text, say

# One row: what is fired, the kind of site, the command, the bpftrace probe,
# and the key of the row with the same program's 1-byte site (or None).
Loop = namedtuple("Loop", "name site cmd probe base")
SYSTEM_PYTHON = "/usr/bin/python3.11"


def bpftrace_path():
    """bpftrace, or a Failure saying why it cannot run."""
    path = shutil.which("bpftrace")
    if not path:
        raise Failure("bpftrace is not installed")
    if os.geteuid() != 0:
        raise Failure("bpftrace needs root")
    return path


def tracing_part(report, heading):
    """Starts a part that traces: its heading, then False (having said why)
    when bpftrace cannot run here."""
    report.emit(heading)
    report.emit()
    try:
        bpftrace_path()
    except Failure as e:
        report.emit(f"skipped: {e}")
        report.emit()
        return False
    return True


def loop_result(text, what):
    """The JSON line a loop program prints."""
    for line in text.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise Failure(f"{what}: no result line in {text!r}")


def run_untraced(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode != 0:
        raise Failure(f"{shlex.join(cmd)}: exit {proc.returncode}: {proc.stderr}")
    return loop_result(proc.stdout, shlex.join(cmd))


def run_traced(cmd, probe, scratch, env=None):
    """Runs cmd (in env, default this one's) with bpftrace counting `probe`
    (which may carry a /predicate/); returns (result, hits)."""
    bpftrace = bpftrace_path()
    ready = os.path.join(scratch, "ready")
    out = os.path.join(scratch, "bpftrace.out")
    for path in (ready, out):
        if os.path.exists(path):
            os.remove(path)
    # The program waits for the ready file, which bpftrace's BEGIN creates
    # once the probe is attached: no hit goes uncounted.
    env = dict(env if env is not None else os.environ, PYPROBE_READY_FILE=ready)
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    script = f'BEGIN {{ system("touch {ready}"); }} {probe} {{ @hits = count(); }}'
    try:
        proc = subprocess.run([bpftrace, "--unsafe", "-q", "-o", out, "-e", script, "-p", str(child.pid)],
                              capture_output=True, text=True, timeout=600)
        stdout, stderr = child.communicate(timeout=600)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    text = read_text(out, "")
    if proc.returncode != 0 or child.returncode != 0:
        raise Failure(f"bpftrace -e '{script}' on {shlex.join(cmd)}: bpftrace exit {proc.returncode} "
                      f"{proc.stderr.strip()[-500:]}; program exit {child.returncode} {stderr.strip()}")
    m = re.search(r"@hits: (\d+)", text)
    return loop_result(stdout, shlex.join(cmd)), int(m.group(1)) if m else 0


def c_loops(builds, iterations, rounds):
    """{key: Loop} of bench/fire_loop.c: bare sites and pyprobe's gc__start."""
    c5, c1 = builds.consumer("nop5"), builds.consumer("nop1")
    lib5, lib1 = os.path.realpath(builds.library("nop5")), os.path.realpath(builds.library("nop1"))
    static5, static1 = os.path.join(c5, "fire_loop_static"), os.path.join(c1, "fire_loop_static")
    loops = {
        "bare1": Loop("bare site, uprobe", "1-byte nop", [static5, "bare1"],
                      f"uprobe:{static5}:bench_bare_nop1", None),
        "bare5": Loop("bare site, uprobe", "5-byte nop", [static5, "bare5"],
                      f"uprobe:{static5}:bench_bare_nop5", "bare1"),
        "bare5u": Loop("bare site, usdt (bench:bare5)", "5-byte nop", [static5, "bare5"],
                       f"usdt:{static5}:bench:bare5", None),
        "so1": Loop("pyprobe gc__start, libpyprobe.so, PYPROBE_NOP5=OFF", "1-byte nop",
                    [os.path.join(c1, "fire_loop_shared"), "usdt"], f"usdt:{lib1}:python:gc__start", None),
        "so5": Loop("pyprobe gc__start, libpyprobe.so, default", "5-byte nop",
                    [os.path.join(c5, "fire_loop_shared"), "usdt"], f"usdt:{lib5}:python:gc__start", "so1"),
        "a1": Loop("pyprobe gc__start, libpyprobe.a, PYPROBE_NOP5=OFF", "1-byte nop",
                   [static1, "usdt"], f"usdt:{static1}:python:gc__start", None),
        "a5": Loop("pyprobe gc__start, libpyprobe.a, default", "5-byte nop",
                   [static5, "usdt"], f"usdt:{static5}:python:gc__start", "a1"),
    }
    return {k: loop._replace(cmd=loop.cmd + [str(iterations), str(rounds)]) for k, loop in loops.items()}


def python_loops(builds, opts, iterations, rounds):
    """{key: Loop} of gc_hits.py: Debian's python3.11 (sys/sdt.h sites), if
    it has probes, and pyprobe's CPython, unless CPython is left out."""
    script = os.path.join(PROGRAMS, "gc_hits.py")
    args = ["-s", "-S", script, str(iterations), str(rounds)]
    system_python = os.path.realpath(SYSTEM_PYTHON)
    loops, anchor = {}, None
    if os.access(system_python, os.X_OK) and "Provider: python" in output(["readelf", "-n", system_python]):
        anchor = "debian"
        loops[anchor] = Loop("Debian python3.11, gc.collect(0), gc__start", "1-byte nop (sys/sdt.h)",
                             [system_python, *args], f"usdt:{system_python}:python:gc__start", None)
    if opts.quick or opts.no_cpython:
        return loops
    try:
        python = builds.cpython()["static"]
        loops["cpython"] = Loop("pyprobe CPython (libpyprobe.a), gc.collect(0), gc__start", "5-byte nop",
                                [python, *args], f"usdt:{python}:python:gc__start", anchor)
    except Failure as e:
        say(f"no pyprobe CPython for the hits: {str(e).splitlines()[0]}")
    return loops


def sample(loops, repeats, scratch):
    """Runs every loop untraced and traced, repeats times, interleaved so
    that drift hits every row alike. Returns ({key: row}, [problems])."""
    samples = {key: ([], [], []) for key in loops}
    problems = []
    for repeat in range(repeats):
        for key, loop in loops.items():
            say(f"hits ({repeat + 1}/{repeats}): {loop.name} ({loop.site})")
            idle = run_untraced(loop.cmd)
            traced, hits = run_traced(loop.cmd, loop.probe, scratch)
            if hits != traced["fires"]:
                problems.append(f"{loop.name}: bpftrace counted {hits:,} hits of {traced['fires']:,} fires")
            samples[key][0].extend(idle["ns_per_iteration"])
            samples[key][1].extend(traced["ns_per_iteration"])
            samples[key][2].append(traced["trampoline"])
    results = {}
    for key, loop in loops.items():
        t_idle, t_traced = median(samples[key][0]), median(samples[key][1])
        results[key] = dict(idle=t_idle, traced=t_traced, hit=t_traced - t_idle,
                            trampoline=all(samples[key][2]),
                            counted=not any(p.startswith(loop.name + ":") for p in problems))
    return results, problems


def run(builds, opts, scratch, report):
    if not tracing_part(report, "## 2. Cost per probe hit while tracing"):
        return
    iterations, rounds = (2000, 3) if opts.quick else (200000, 9)
    py_iterations = 2000 if opts.quick else 40000
    repeats = 1 if opts.quick else 3
    loops = {**c_loops(builds, iterations, rounds), **python_loops(builds, opts, py_iterations, rounds)}
    results, problems = sample(loops, repeats, scratch)
    rows = []
    for key, loop in loops.items():
        r = results[key]
        versus = f"{results[loop.base]['hit'] / r['hit']:.2f}x" if loop.base in results else "-"
        rows.append([loop.name, loop.site, f"{r['idle']:.1f}", f"{r['traced']:.1f}", f"{r['hit']:.0f}",
                     f"{1e9 / r['hit'] / 1e6:.2f}M", versus, "yes" if r["trampoline"] else "no",
                     "yes" if r["counted"] else "no"])
    report.emit(f"bpftrace `@hits = count()` attached by pid; {repeats} runs of {rounds} rounds of {iterations:,} "
                f"hits in C (bench/fire_loop.c), of {py_iterations:,} in Python (bench/programs/gc_hits.py); "
                "median round; ns/hit = traced - untraced ns/iter; hits/s = 1e9 / (ns/hit)")
    report.emit()
    report.table(["program, probe", "site", "untraced ns/iter", "traced ns/iter", "ns/hit", "hits/s",
                  "vs 1-byte", "trampoline", "all counted"], rows, ["l", "l", "r", "r", "r", "r", "r", "l", "l"])
    report.emit("vs 1-byte: hits/s over the same program's 1-byte site (pyprobe's CPython: over Debian's python3.11).")
    report.emit("trampoline: the process had a [uprobes-trampoline] mapping (the kernel optimised its site).")
    if {"a5", "bare5u", "bare5"} <= set(results):
        fire = results["a5"]["traced"] - results["bare5u"]["traced"]
        attach = results["bare5u"]["traced"] - results["bare5"]["traced"]
        report.emit(f"pyprobe's fire path (guard, call, fire function) over a bare 5-byte site, both attached as "
                    f"usdt probes in the same program: {fire:+.1f} ns per hit; the bare site as usdt rather than "
                    f"uprobe: {attach:+.1f} ns (bpftrace's usdt attachment, not the site).")
    report.emit()
    for problem in problems:
        report.emit(f"WARNING: {problem}")
    if problems:
        report.emit()
