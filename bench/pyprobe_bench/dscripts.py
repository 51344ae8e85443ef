"""Part 8, D on Linux: `pyprobe -n` against the same program written for
bpftrace by hand. pyprobe drives bpftrace, so what a hit costs must be
bpftrace's; what pyprobe adds is at start-up (the D front end, finding the
probes, and for programs that read strings the dry runs that find how long
a string can be). Both tracers start the traced program themselves (-c),
the C loop bench/fire_loop.c linked with libpyprobe.a."""
import os
import re
import shlex
import subprocess
import tempfile
import time

from .hits import bpftrace_path, loop_result, tracing_part
from .measure import median
from .shell import Failure, say

COUNT_D = "python$target:::gc-start { @hits = count(); }"
COUNT_BT = "usdt:{program}:python:gc__start {{ @hits = count(); }}"
# The talk's one-liner shape: a string key (copyinstr), so the dry runs
# that size strings happen; pint linked with libpyprobe.a.
TALK_D = "python$target:::function-entry { @[copyinstr(arg1)] = count(); }"
TALK_BT = "usdt:{program}:python:function__entry {{ @[str(arg1)] = count(); }}"


def timed(cmd, out):
    """(seconds, what the program printed) of one traced run, tracer output in out."""
    if os.path.exists(out):
        os.remove(out)  # both tracers' -o append
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise Failure(f"{shlex.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return seconds, proc.stdout


def hits_counted(out, dtrace_layout):
    """The count a run printed: bpftrace's `@hits: N`, or dtrace's row."""
    with open(out) as f:
        text = f.read()
    m = re.search(r"^\s+(\d+)\s*$" if dtrace_layout else r"@hits: (\d+)", text, flags=re.M)
    return int(m.group(1)) if m else None


def commands(tracer, script, program_cmd, out, extra=()):
    bpftrace = bpftrace_path()
    if tracer == "bpftrace":
        return [bpftrace, "-q", "-o", out, *extra, "-e", script, "-c", shlex.join(program_cmd)]
    return [tracer, "-q", "-o", out, *extra, "-n", script, "-c", shlex.join(program_cmd)]


def run(builds, opts, scratch, report):
    if not tracing_part(report, "## 8. D on Linux: `pyprobe -n` against bpftrace"):
        return
    pyprobe = builds.lister()
    consumer = builds.consumer("nop5")
    fire_loop = os.path.join(consumer, "fire_loop_static")
    pint = os.path.join(consumer, "pint_static")
    iterations, rounds, repeats = (2000, 3, 1) if opts.quick else (200000, 9, 5)
    work = tempfile.mkdtemp(prefix="d-", dir=scratch)
    out = os.path.join(work, "out")

    # Start-up: the whole run of a program that does next to nothing.
    tiny = [fire_loop, "usdt", "1", "1"]
    fib = os.path.join(work, "fib.pint")
    with open(fib, "w") as f:
        f.write("func fib(k)\n  if k < 2\n    return k\n  end\n  return fib(k - 1) + fib(k - 2)\nend\nprint(fib(5))\n")
    startups = {
        "count (no string)": {
            "bpftrace -e": commands("bpftrace", COUNT_BT.format(program=fire_loop), tiny, out),
            "pyprobe -n": commands(pyprobe, COUNT_D, tiny, out)},
        "string key (the talk's shape)": {
            "bpftrace -e": commands("bpftrace", TALK_BT.format(program=pint), [pint, fib], out),
            "pyprobe -n": commands(pyprobe, TALK_D, [pint, fib], out),
            "pyprobe -n -x strsize=64": commands(pyprobe, TALK_D, [pint, fib], out, ["-x", "strsize=64"])}}
    times = {(s, t): [] for s, tracers in startups.items() for t in tracers}
    for repeat in range(repeats):
        for shape, tracers in startups.items():
            for tracer, cmd in tracers.items():
                say(f"d ({repeat + 1}/{repeats}): start-up, {shape}, {tracer}")
                times[shape, tracer].append(timed(cmd, out)[0])
    rows = []
    for shape, tracers in startups.items():
        base = median(times[shape, "bpftrace -e"])
        for tracer in tracers:
            t = median(times[shape, tracer])
            rows.append([shape, tracer, f"{t * 1000:.0f}", f"{(t - base) * 1000:+.0f}", f"{t / base:.2f}x"])
    report.emit(f"Start-up: the whole run under the tracer's -c, from its start to its exit (median of {repeats}): "
                f"fire_loop_static firing gc__start once; pint_static running fib(5) (15 calls)")
    report.emit()
    report.table(["program", "tracer", "ms", "vs bpftrace", "ratio"], rows, ["l", "l", "r", "r", "r"])
    report.emit("pyprobe -n without -x strsize finds the longest string the program can hold on bpftrace 0.17's "
                "512-byte stack with dry runs of bpftrace (d_run.h); -x strsize=64 (bpftrace's own) skips them.")
    report.emit()

    # Per hit: the same loop, untraced and under each tracer.
    loop = [fire_loop, "usdt", str(iterations), str(rounds)]
    tracers = {"bpftrace -e": commands("bpftrace", COUNT_BT.format(program=fire_loop), loop, out),
               "pyprobe -n": commands(pyprobe, COUNT_D, loop, out)}
    samples = {"untraced": []} | {t: [] for t in tracers}
    problems = []
    fires = 1000 + iterations * rounds
    for repeat in range(repeats):
        say(f"d ({repeat + 1}/{repeats}): per hit, untraced")
        proc = subprocess.run(loop, capture_output=True, text=True, timeout=600)
        samples["untraced"].extend(loop_result(proc.stdout, "fire_loop")["ns_per_iteration"])
        for tracer, cmd in tracers.items():
            say(f"d ({repeat + 1}/{repeats}): per hit, {tracer}")
            _, stdout = timed(cmd, out)
            samples[tracer].extend(loop_result(stdout, "fire_loop")["ns_per_iteration"])
            counted = hits_counted(out, tracer != "bpftrace -e")
            if counted != fires:
                problems.append(f"{tracer}: counted {counted} of {fires:,} fires")
    idle = median(samples["untraced"])
    rows = [["untraced", f"{idle:.1f}", "-"]]
    for tracer in tracers:
        traced = median(samples[tracer])
        rows.append([tracer, f"{traced:.1f}", f"{traced - idle:.0f}"])
    report.emit(f"Per hit: fire_loop_static gc__start, {repeats} runs of {rounds} rounds of {iterations:,} hits, "
                "each tracer counting (`@hits = count()`); median round; ns/hit = traced - untraced ns/iter")
    report.emit()
    report.table(["tracer", "ns/iter", "ns/hit"], rows, ["l", "r", "r"])
    for problem in problems:
        report.emit(f"WARNING: {problem}")
    report.emit()
