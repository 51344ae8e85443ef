"""Part `stock`: the pyprobe package on stock CPython 3.12, 3.13 and 3.14
(pyenv's where the machine has them, examples/cpython/stock's 3.14), each
with the package installed into a venv by python/install, against the same
interpreter without it.

  idle       callgrind instructions of bench/programs/{calls,loop,alloc}.py
             run through bench/programs/stock_run.py (runpy, as `python -m
             pyprobe run` does) with the package enabled and nobody
             tracing, and without it, at two sizes: the ratio of the
             marginal instructions (the larger size minus the smaller), so
             that start-up, the package's import included, stays apart
  watcher    CPU used over 10 s of sleep, enabled, against the interpreter
             alone, beside bench/nanosleep_loop.c at the same interval
  latency    from a semaphore's rise to pyprobe following it
             (bench/programs/stock_latency.py): p50 and p99 of 200
  per event  bench/programs/stock_events.py: what the callbacks add per
             event (semaphores raised without a tracer), and what an event
             costs under bpftrace counting it
"""
import json
import os
import subprocess

from . import BENCH, PROGRAMS, ROOT
from .hits import bpftrace_path, loop_result, run_traced, run_untraced
from .measure import callgrind, median
from .shell import Failure, output, run_logged, say

VERSIONS = ("3.12", "3.13", "3.14")
# Two sizes each, far apart: the watcher's polls (a few instructions every
# interval of wall time) make identical runs differ by some 10^4.
WORKLOADS = {"calls": ("calls (recursion)", "18", "24"), "loop": ("loop (simple statements)", "100000", "600000"),
             "alloc": ("allocation (instances)", "20000", "120000")}
IDLE_TARGET = 1.005          # the 0.5%
LATENCY_TARGET = (10, 25)    # p50, p99 ms, 3.13 and later
EVENT_TARGET = 40            # ns the callback adds per event
WATCH_SECONDS, INTERVAL_MS = 10, 10

WATCHER_CPU = """\
import json, resource, sys, time
if sys.argv[1] == "enabled":
    import pyprobe
    pyprobe.enable()
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
start = cpu()
time.sleep(float(sys.argv[2]))
print(json.dumps({"cpu_us": round((cpu() - start) * 1e6)}))
"""


def interpreter(version, out):
    """The venv python of a stock interpreter with pyprobe installed, or a
    Failure saying why there is none."""
    logs = os.path.join(out, "logs")
    work = os.path.join(out, "stock", version)
    venv_python = os.path.join(work, "venv", "bin", "python")
    found = output([os.path.join(ROOT, "examples", "cpython", "stock"), version]).strip().splitlines()[-1]
    if not os.path.exists(venv_python):
        run_logged([found, "-m", "venv", "--without-pip", os.path.join(work, "venv")],
                   os.path.join(logs, f"stock-{version}.log"))
    run_logged([os.path.join(ROOT, "python", "install"), venv_python, "--build-dir", os.path.join(work, "build")],
               os.path.join(logs, f"stock-{version}.log"))
    return venv_python


def idle_rows(version, python, scratch, workloads):
    """Table rows of the idle cost, and the worst marginal ratio."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    rows, worst = [], 0.0
    for name, (label, small, large) in workloads.items():
        program = os.path.join(PROGRAMS, f"{name}.py")
        counts = {}
        for variant in ("alone", "enabled"):
            prefix = [python, os.path.join(PROGRAMS, "stock_run.py"), variant]
            for size in (small, large):
                say(f"callgrind: {version} {variant} {name} {size}")
                counts[variant, size] = callgrind(prefix + [program, size], env=env,
                                                  out_file=os.path.join(scratch, "callgrind.out"))
        alone = counts["alone", large] - counts["alone", small]
        enabled = counts["enabled", large] - counts["enabled", small]
        start_up = counts["enabled", small] - counts["alone", small] - (enabled - alone) * int(small) / (
            int(large) - int(small))
        worst = max(worst, enabled / alone)
        rows.append([version, label, f"{alone:,}", f"{enabled:,}", f"{enabled / alone:.4f}",
                     f"{start_up / 1e6:+.1f}M"])
    return rows, worst


def watcher_row(version, python, loop_program):
    runs = {}
    for variant in ("alone", "enabled"):
        runs[variant] = json.loads(output([python, "-c", WATCHER_CPU, variant, str(WATCH_SECONDS)]))["cpu_us"]
    bare = json.loads(output([loop_program, str(WATCH_SECONDS), str(INTERVAL_MS)]))["cpu_us"]
    watcher = runs["enabled"] - runs["alone"]
    return [version, f"{watcher / 1000:.1f}", f"{bare / 1000:.1f}", "yes" if watcher <= bare * 1.5 else "NO"]


def event_row(version, python, module, scratch, iterations, rounds):
    args = [python, os.path.join(PROGRAMS, "stock_events.py")]
    idle = run_untraced(args + ["idle", str(iterations), str(rounds)])["ns_per_call"]
    simulated = run_untraced(args + ["simulated", str(iterations), str(rounds)])["ns_per_call"]
    probe = f"usdt:{module}:python:function__entry, usdt:{module}:python:function__return"
    traced, hits = run_traced(args + ["traced", str(iterations), str(rounds)], probe, scratch)
    callback = (simulated - idle) / 2
    return [version, f"{idle:.1f}", f"{callback:.1f}", f"{(traced['ns_per_call'] - idle) / 2:.0f}",
            "yes" if traced["trampoline"] else "no", f"{hits:,}"], callback


def run(builds, opts, scratch, report):
    """The stock tables and their verdict lines. --quick: the newest version
    there is, one tiny workload, few samples."""
    report.emit("## 5. The pyprobe package on stock CPython")
    report.emit()
    if opts.no_cpython:
        report.emit("Skipped (--no-cpython).")
        report.emit()
        return
    quick = opts.quick
    workloads = {"calls": ("calls (recursion)", "10", "16")} if quick else WORKLOADS
    loop_program = os.path.join(scratch, "nanosleep_loop")
    subprocess.run(["cc", "-O2", "-o", loop_program, os.path.join(BENCH, "nanosleep_loop.c")], check=True)
    idle, watch, latency, events, verdicts = [], [], [], [], []
    measured = 0
    for version in reversed(VERSIONS):
        if quick and measured:
            break
        try:
            python = interpreter(version, opts.out)
        except Failure as e:
            report.emit(f"- Python {version}: left out: {str(e).splitlines()[0]}")
            continue
        measured += 1
        module = output([python, "-m", "pyprobe", "where"]).strip()
        rows, worst = idle_rows(version, python, scratch, workloads)
        idle += rows
        verdicts.append(f"- {version} idle: worst marginal ratio {worst:.4f} (target {IDLE_TARGET}): "
                        f"{'met' if worst <= IDLE_TARGET else 'NOT met'}.")
        if not quick:
            watch.append(watcher_row(version, python, loop_program))
        lat = loop_result(output([python, os.path.join(PROGRAMS, "stock_latency.py"), "20" if quick else "200"]),
                          "stock_latency.py")
        latency.append([version, f"{lat['p50_ms']:.1f}", f"{lat['p99_ms']:.1f}"])
        if version >= "3.13":
            met = lat["p50_ms"] <= LATENCY_TARGET[0] and lat["p99_ms"] <= LATENCY_TARGET[1]
            verdicts.append(f"- {version} activation: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms "
                            f"(target {LATENCY_TARGET[0]}/{LATENCY_TARGET[1]}): {'met' if met else 'NOT met'}.")
        try:
            bpftrace_path()
            row, callback = event_row(version, python, module, scratch, 20000 if quick else 200000,
                                      3 if quick else 9)
            events.append(row)
            verdicts.append(f"- {version} per event: the callback adds {callback:.1f} ns (target {EVENT_TARGET}): "
                            f"{'met' if callback <= EVENT_TARGET else 'NOT met'}.")
        except Failure as e:
            report.emit(f"- Python {version}: no per-event figures: {str(e).splitlines()[0]}")
    report.emit("Stock CPython with the pyprobe package enabled and untraced, against the same interpreter "
                "alone, both running the program through runpy (bench/programs/stock_run.py); instructions: "
                "callgrind, the larger size minus the smaller")
    report.emit()
    report.table(["python", "workload", "marginal instructions, alone", "enabled, untraced", "ratio",
                  "start-up"], idle, ["l", "l", "r", "r", "r", "r"])
    if watch:
        report.emit(f"The watcher's CPU over {WATCH_SECONDS} s, polling every {INTERVAL_MS} ms")
        report.emit()
        report.table(["python", "watcher CPU ms", "bare nanosleep loop CPU ms", "no more than the loop"], watch)
    report.emit("From a semaphore's rise to pyprobe following it (while Python code runs)")
    report.emit()
    report.table(["python", "p50 ms", "p99 ms"], latency)
    if events:
        report.emit("ns per call of an empty function: idle (enabled, untraced); what the callback adds per "
                    "event (entry or return; semaphores raised, no uprobe); what a traced event costs in all "
                    "(bpftrace counting entry and return; the uprobe's part is the kernel's)")
        report.emit()
        report.table(["python", "idle ns/call", "callback ns/event", "traced ns/event", "trampoline",
                      "hits counted"], events)
    report.emit("\n".join(verdicts))
    report.emit()
