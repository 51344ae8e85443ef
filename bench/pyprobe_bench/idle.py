"""Part 1, cost while nobody traces: pint built three ways, CPython five
ways; instructions (callgrind) and median wall time as ratios to the build
without probes, and where the extra instructions are."""
import os
import re

from . import PROGRAMS
from .measure import largest_changes, measure
from .report import ratio
from .shell import Failure

IDLE_TARGET = 1.010  # issue: at most 1% more instructions than without probes
EVALUATOR = "_PyEval_EvalFrameDefault"
PINT_WORKLOADS = {"calls": "calls (recursion)", "lines": "lines (tight loop)",
                  "alloc": "allocation (instances, gc)"}
PINT_SIZES = {"calls": 24, "lines": 80000, "alloc": 20000}
PINT_SIZES_QUICK = {"calls": 12, "lines": 2000, "alloc": 1000}
CPYTHON_WORKLOADS = {"calls": ("calls (recursion)", "22"), "loop": ("loop (simple statements)", "300000"),
                     "alloc": ("allocation (instances)", "60000")}
PLAIN, OWN = "plain (no probes)", "own --with-dtrace"
CPYTHON_NOTES = """\
- own --with-dtrace: CPython's own probes (systemtap's dtrace -h/-G), i.e. what CPython's hooks cost.
- exact line guard: pyprobe's header with -DPYPROBE_CPYTHON_EXACT_LINE_GUARD, whose
  PyDTrace_LINE_ENABLED() reads the line semaphore alone, as CPython's own header does.
  The default header also tests function__entry's (the gh-98894 fix, see "CPython built with
  pyprobe" in README.md), in the same single compare: the two semaphores are adjacent and read as one word.
- extra in eval loop: the share of the extra instructions (over plain) executed in
  _PyEval_EvalFrameDefault, whose DISPATCH() tests PyDTrace_LINE_ENABLED() before every
  bytecode in any WITH_DTRACE build (OR_DTRACE_LINE in Python/ceval.c)."""


def pint_program(name, size, scratch):
    """bench/programs/NAME.pint with its first `n = ...` set to size."""
    with open(os.path.join(PROGRAMS, f"{name}.pint")) as f:
        text = f.read()
    text = re.sub(r"^n = \d+$", f"n = {size}", text, count=1, flags=re.M)
    path = os.path.join(scratch, f"{name}.pint")
    with open(path, "w") as f:
        f.write(text)
    return path


def ratio_of(results, workload, variant, base):
    """Instructions of variant over those of base, on one workload."""
    return results[(workload, variant)][0] / results[(workload, base)][0]


def idle_verdict(results, workloads, variant, base):
    """The largest instruction ratio of variant over base, the workload
    where it is, and the target's verdict, as text."""
    worst, workload = max((ratio_of(results, w, variant, base), w) for w, _ in workloads)
    return (f"at most {worst:.3f}x the instructions of {base}, on {workload}; "
            f"target {IDLE_TARGET:.3f}: {'met' if worst <= IDLE_TARGET else 'NOT met'}.")


def run(builds, opts, scratch, report):
    report.emit("## 1. Cost while nobody traces")
    report.emit()
    runs = 3 if opts.quick else 21
    pint(builds, opts, scratch, report, runs)
    if opts.quick or opts.no_cpython:
        report.emit("CPython: skipped (" + ("--quick" if opts.quick else "--no-cpython") + ")")
        report.emit()
        return
    try:
        pythons = builds.cpython()
    except Failure as e:
        report.emit(f"CPython: not built: {str(e).splitlines()[0]}")
        report.emit()
        return
    cpython(pythons, scratch, report, runs)


def pint(builds, opts, scratch, report, runs):
    """The pint table and its verdict lines."""
    sizes = PINT_SIZES_QUICK if opts.quick else PINT_SIZES
    off, on = builds.consumer("off"), builds.consumer("nop5")
    base = "compiled out"
    variants = [(base, [os.path.join(off, "pint_off")]),
                ("libpyprobe.so", [os.path.join(on, "pint_shared")]),
                ("libpyprobe.a", [os.path.join(on, "pint_static")])]
    workloads = [(name, [pint_program(name, sizes[name], scratch)]) for name in PINT_WORKLOADS]
    results = measure(variants, workloads, runs, scratch)
    emit_idle(report, f"pint (examples/interp, bench/programs/*.pint), the same compiler flags for the three "
                      f"builds; instructions: callgrind, one run; time: median of {runs} runs",
              "pint", results, workloads, PINT_WORKLOADS, [v for v, _ in variants], base,
              [] if opts.quick else [v for v, _ in variants[1:]])


def emit_idle(report, intro, subject, results, workloads, labels, variants, base, judged):
    """An idle table: per workload (named by labels) and build (variants),
    the instructions and time as ratios to base and where the extra
    instructions are; then the verdict for each build in judged (none for
    --quick's tiny workloads)."""
    rows = []
    for wname, _ in workloads:
        base_ir, base_t, base_costs = results[(wname, base)]
        for vname in variants:
            ir, t, costs = results[(wname, vname)]
            changes = largest_changes(base_costs, costs) if vname != base else "-"
            rows.append([labels[wname], vname, f"{ir:,}", ratio(ir, base_ir), changes,
                         f"{t * 1000:.1f}", ratio(t, base_t)])
    report.emit(intro)
    report.emit()
    report.table(["workload", f"{subject} build", "instructions", "ratio",
                  "largest changes (instructions, per function)", "time ms", "ratio"], rows,
                 ["l", "l", "r", "r", "l", "r", "r"])
    for vname in judged:
        report.emit(f"- {subject} with {vname}: {idle_verdict(results, workloads, vname, base)}")
    if judged:
        report.emit()


def cpython(pythons, scratch, report, runs):
    """The CPython table, its notes and its verdict lines."""
    # The same environment for every build: no PYTHON* variable of the caller's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    variants = [(PLAIN, [pythons["plain"], "-s", "-S"]),
                (OWN, [pythons["dtrace"], "-s", "-S"]),
                ("pyprobe .a, exact line guard", [pythons["exact"], "-s", "-S"]),
                ("pyprobe .a", [pythons["static"], "-s", "-S"]),
                ("pyprobe .so", [pythons["shared"], "-s", "-S"])]
    workloads = [(name, [os.path.join(PROGRAMS, f"{name}.py"), size])
                 for name, (_, size) in CPYTHON_WORKLOADS.items()]
    results = measure(variants, workloads, runs, scratch, env=env)
    rows = []
    for wname, _ in workloads:
        base_ir, base_t, base_costs = results[(wname, PLAIN)]
        own_ir = results[(wname, OWN)][0]
        for vname, _ in variants:
            ir, t, costs = results[(wname, vname)]
            extra = ir - base_ir
            in_eval = "-"
            if vname != PLAIN and extra > 0:
                in_eval = f"{100 * (costs.get(EVALUATOR, 0) - base_costs.get(EVALUATOR, 0)) / extra:.0f}%"
            vs_own = ratio(ir, own_ir) if vname.startswith("pyprobe") else "-"
            rows.append([CPYTHON_WORKLOADS[wname][0], vname, f"{ir:,}", ratio(ir, base_ir), in_eval, vs_own,
                         f"{t * 1000:.1f}", ratio(t, base_t)])
    report.emit(f"CPython 3.11 (bench/programs/*.py), one source tree and the same configure flags for every "
                f"build; instructions: callgrind, one run; time: median of {runs} runs")
    report.emit()
    report.table(["workload", "CPython build", "instructions", "ratio", "extra in eval loop",
                  "vs own --with-dtrace", "time ms", "ratio"], rows, ["l", "l", "r", "r", "r", "r", "r", "r"])
    report.emit(CPYTHON_NOTES)
    report.emit()
    own_worst = max(ratio_of(results, w, OWN, PLAIN) for w, _ in workloads)
    for vname in ("pyprobe .a", "pyprobe .so"):
        over_own = max(ratio_of(results, w, vname, OWN) for w, _ in workloads)
        report.emit(f"- CPython with {vname}: {idle_verdict(results, workloads, vname, PLAIN)} CPython's own "
                    f"hooks cost up to {own_worst:.3f}x; pyprobe's part, against own --with-dtrace: at most "
                    f"{over_own:.3f}x.")
    report.emit()
