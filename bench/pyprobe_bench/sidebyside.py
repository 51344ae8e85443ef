"""Part `sidebyside`: the ways to get the python provider's function__entry
(or its like) on one table, measured in one run on the same workloads:

  pyprobe package   stock CPython 3.14 (examples/cpython/stock) with the
                    package enabled
  pyusdt            the same 3.14 with pyusdt (natoscott/pyusdt, a
                    sys.monitoring module with USDT probes of its own,
                    PY_START...) imported; built from its published source
                    outside this repository (--pyusdt DIR, default
                    /var/cache/pyprobe/pyusdt, its PROVENANCE says where
                    each file came from), left out with one line when it is
                    not there. To build it: pyusdt's pyusdt.c, usdt.h,
                    Makefile and pyusdt/ in DIR/build, then `make
                    PYTHON=<python3.14> PYTHON_LDFLAGS=` there (its Makefile
                    links libpython, which an extension module needs not and
                    a static libpython cannot)
  pyprobe CPython   CPython 3.11 built with pyprobe's header and
                    libpyprobe.a (examples/cpython/build, in --cpython-work;
                    only the static and plain builds are needed)
  Debian 3.11       /usr/bin/python3.11 (--with-dtrace), alone and with the
                    pyprobe package enabled (python/install --target); run
                    as a private copy (private_copy() says why)

  idle       callgrind: instructions per call of bench/programs/calls.py
             (recursion) through stock_run.py, the larger size minus the
             smaller over the calls made, without the probes (the same
             interpreter without the module; for pyprobe's CPython, the
             plain build of the same source) and with them, untraced
  traced     bench/programs/sidebyside_calls.py: ns per call of an empty
             function untraced, with the entry probe's semaphore raised by
             the program (everything but the uprobe) and with bpftrace
             counting its entries (one event per call; the third argument,
             the line, picks out f), by the wall clock and by the thread's
             CPU time; ns per event = traced - untraced; medians over the
             runs of each run's median round
  activation bench/programs/stock_latency.py: from the semaphore's rise to
             the module following it
"""
import ast
import json
import os
import re
import shutil

from . import PROGRAMS, ROOT
from .hits import bpftrace_path, run_traced, run_untraced
from .measure import callgrind, median, wall
from .shell import Failure, output, run_logged, say
from .stock import interpreter

DEBIAN_PYTHON = "/usr/bin/python3.11"
DEFAULT_PYUSDT = "/var/cache/pyprobe/pyusdt"
CALLS_SIZES = ("18", "24")   # fib(n): 2 * F(n + 1) - 1 calls
EVENTS_PROGRAM = os.path.join(PROGRAMS, "sidebyside_calls.py")
PYPROBE_ROW = "pyprobe package"  # the row the others are compared with

NOTES = {
    "pyprobe": "watcher thread polls the semaphores every 10 ms without the GIL; entry alone turns on "
               "PY_START, PY_RESUME, PY_THROW, on a free tool id (3 to 5), off again when the tracer leaves",
    "pyusdt": "poll thread takes the GIL every 100 ms; any traced probe turns on all six events (LINE and "
              "CALL too, repr() of callables and return values); holds PROFILER_ID from import on",
    "rebuild": "nothing to activate: the interpreter's own sites; pyprobe's header makes the line guard "
               "test function__entry too (gh-98894 fixed at build time), so while function__entry is traced "
               "3.11's dispatch also works out the line of every instruction (maybe_dtrace_line, "
               "_PyCode_CheckLineNumber) and then fires no line probe: most of its cost besides the uprobe",
    "debian+pyprobe": "the interpreter's own probe; pyprobe's watcher (10 ms, no GIL while untraced) gives "
                      "every thread an empty C profile function while it is traced, so that 3.11 takes its "
                      "tracing path, and takes the GIL at each look while traced to keep them on it",
    "debian": "its own function__entry fires only on the tracing path (gh-98894): not for ordinary calls",
}


class Row:
    """One implementation: what each measurement runs. latency: the
    arguments of stock_latency.py after TRIALS, or None where nothing needs
    turning on."""

    def __init__(self, name, python, mode, env, probe, base_python, note, latency=None):
        self.name, self.python, self.mode, self.env = name, python, mode, env
        self.probe, self.base_python, self.note, self.latency = probe, base_python, note, latency
        # usdt:FILE:PROVIDER:NAME: the semaphore to raise without a tracer
        _, path, provider, probe_name = probe.split(":")
        self.semaphore = [path, note_semaphore(path, provider, probe_name)]


def clean_env(**extra):
    """The environment of every run: none of the caller's PYTHON* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    env.update(extra)
    return env


def fib_calls(n):
    """How many calls fib(n) of bench/programs/calls.py makes."""
    a, b = 0, 1
    for _ in range(n + 1):
        a, b = b, a + b
    return 2 * a - 1


def entry_line():
    """The first line of sidebyside_calls.py's f(), the third argument of
    every implementation's entry probe for it."""
    with open(EVENTS_PROGRAM) as f:
        tree = ast.parse(f.read())
    return next(node.lineno for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "f")


def pyusdt_row(opts, python):
    """(pyusdt's row, None), or (None, why) after saying in one line why it
    is left out."""
    build = os.path.join(opts.pyusdt, "build")
    library = os.path.join(build, "libpyusdt.so")
    if not os.path.exists(library) or not os.path.exists(os.path.join(build, "pyusdt", "__init__.py")):
        say(f"sidebyside: pyusdt left out: no {library} (bench/pyprobe_bench/sidebyside.py says how to build it)")
        return None, f"pyusdt: left out, no {library}"
    env = clean_env(PYTHONPATH=build)
    try:
        output([python, "-c", "import pyusdt"], env=env, timeout=60)
    except Failure as e:
        why = str(e).strip().splitlines()[-1]
        say(f"sidebyside: pyusdt left out: it does not import in {python}: {why}")
        return None, f"pyusdt: left out, it does not import in {python}: {why}"
    row = Row("pyusdt (PY_START)", python, "pyusdt", env, f"usdt:{library}:pyusdt:PY_START", python,
              NOTES["pyusdt"])
    row.latency = ["pyusdt", row.semaphore[1]]
    return row, None


def note_semaphore(path, provider, name):
    """The semaphore address of a probe, as its stapsdt note gives it (hex)."""
    notes = output(["readelf", "-n", path])
    m = re.search(rf"Provider: {provider}\s+Name: {name}\s+Location: \S+, Base: \S+, "
                  rf"Semaphore: (0x[0-9a-f]+)", notes)
    if not m:
        raise Failure(f"{path}: no semaphore for {provider}:{name} in its notes")
    return m.group(1)


def debian_target(opts):
    """The pyprobe package built for Debian's python3.11, in its own directory."""
    work = os.path.join(opts.out, "sidebyside", "python3.11")
    run_logged([os.path.join(ROOT, "python", "install"), DEBIAN_PYTHON, "--target", os.path.join(work, "site"),
                "--build-dir", os.path.join(work, "build")], os.path.join(opts.out, "logs", "sidebyside-3.11.log"))
    return os.path.join(work, "site")


def private_copy(opts):
    """Debian's python3.11, copied byte for byte into OUT: a file of its own,
    so that another session's tracer attached to /usr/bin/python3.11 (a
    uprobe on a file breaks into every process that maps it unless it is
    attached by pid) neither adds hits to these rows nor stops callgrind
    with a SIGTRAP. It finds its standard library as the original does."""
    copy = os.path.join(opts.out, "sidebyside", "python3.11", "bin", "python3.11")
    with open(DEBIAN_PYTHON, "rb") as f:
        original = f.read()
    if read_bytes(copy) != original:
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copy2(DEBIAN_PYTHON, copy)
    return copy


def read_bytes(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def has_python_probes(path):
    return os.path.exists(path) and "Provider: python" in output(["readelf", "-n", path])


def rows(builds, opts):
    """The implementations that can be had here, and a line for each left out."""
    found, missing = [], []
    try:
        python = interpreter("3.14", opts.out)
        module = output([python, "-m", "pyprobe", "where"]).strip()
        found.append(Row(PYPROBE_ROW, python, "pyprobe", clean_env(),
                         f"usdt:{module}:python:function__entry", python, NOTES["pyprobe"], []))
        row, why = pyusdt_row(opts, python)
        found += [row] if row else []
        missing += [why] if why else []
    except Failure as e:
        missing.append(f"stock CPython 3.14: left out, {str(e).splitlines()[0]}")
    if opts.quick:
        missing.append("pyprobe's CPython 3.11: left out (--quick: its builds take minutes)")
        return add_debian(opts, found, missing)
    try:
        static, plain = builds.cpython_example("static"), builds.cpython_example("plain")
        found.append(Row("pyprobe's CPython 3.11 (libpyprobe.a)", static, "alone", clean_env(),
                         f"usdt:{static}:python:function__entry", plain, NOTES["rebuild"]))
    except Failure as e:
        missing.append(f"pyprobe's CPython 3.11: left out, {str(e).splitlines()[0]}")
    return add_debian(opts, found, missing)


def add_debian(opts, found, missing):
    """Debian's python3.11 with the pyprobe package and alone, when it has
    its probes; returns (found, missing)."""
    if has_python_probes(DEBIAN_PYTHON):
        python = private_copy(opts)
        probe = f"usdt:{python}:python:function__entry"
        try:
            site = debian_target(opts)
            found.append(Row("Debian python3.11 + pyprobe package", python, "pyprobe",
                             clean_env(PYTHONPATH=site), probe, python, NOTES["debian+pyprobe"], []))
        except Failure as e:
            missing.append(f"Debian python3.11 + pyprobe package: left out, {str(e).splitlines()[0]}")
        found.append(Row("Debian python3.11 alone", python, "alone", clean_env(), probe, None, NOTES["debian"]))
    else:
        missing.append(f"Debian python3.11: left out, no {DEBIAN_PYTHON} with python probes")
    return found, missing


def per_call(python, mode, env, scratch):
    """Instructions per call of calls.py: the larger size minus the smaller,
    over the calls the larger makes more."""
    counts = []
    for size in CALLS_SIZES:
        cmd = [python, os.path.join(PROGRAMS, "stock_run.py"), mode, os.path.join(PROGRAMS, "calls.py"), size]
        wall(cmd, env=env)  # first, so that no count includes writing the modules' .pyc files
        say(f"sidebyside callgrind: {python} {mode} calls {size}")
        counts.append(callgrind(cmd, env=env, out_file=os.path.join(scratch, "callgrind.out")))
    small, large = (fib_calls(int(n)) for n in CALLS_SIZES)
    return (counts[1] - counts[0]) / (large - small)


def idle_cells(row, scratch):
    """[without, with, difference] instructions per call, as text."""
    if row.base_python is None:
        return ["-", "-", "-"]
    run_mode = {"pyprobe": "enabled"}.get(row.mode, row.mode)
    without = per_call(row.base_python, "alone", clean_env(), scratch)
    with_ = per_call(row.python, run_mode, row.env, scratch)
    return [f"{without:.2f}", f"{with_:.2f}", f"{with_ - without:+.2f}"]


def latency_cell(row, trials):
    """p50 / p99 ms from a semaphore's rise to the module following it."""
    if row.latency is None:
        return "-"
    say(f"sidebyside activation: {row.name}")
    result = json.loads(output([row.python, os.path.join(PROGRAMS, "stock_latency.py"), str(trials), *row.latency],
                               env=row.env, timeout=600).strip().splitlines()[-1])
    return f"{result['p50_ms']:.1f} / {result['p99_ms']:.1f}"


CLOCKS = (("wall", "ns_per_call"), ("cpu", "cpu_ns_per_call"))
KINDS = ("idle", "raised", "traced")


def traced_samples(found, scratch, iterations, rounds, repeats, line):
    """{row name: {(clock, kind): [ns per call of each run], "hits": [...], "calls": n,
    "trampoline": bool}}: each run untraced (idle), with the semaphore raised
    by the program (raised) and under bpftrace (traced), by the wall clock
    and by CPU time; the rows interleaved in each repeat so that drift hits
    them alike."""
    samples = {row.name: {"hits": [], "calls": 0, "trampoline": False} for row in found}
    for repeat in range(repeats):
        for row in found:
            say(f"sidebyside traced ({repeat + 1}/{repeats}): {row.name}")
            cmd = [row.python, EVENTS_PROGRAM, row.mode, str(iterations), str(rounds)]
            results = {"idle": run_untraced(cmd, env=row.env),
                       "raised": run_untraced(cmd + row.semaphore, env=row.env)}
            results["traced"], hits = run_traced(cmd, f"{row.probe} /arg2 == {line}/", scratch, env=row.env)
            s = samples[row.name]
            for clock, key in CLOCKS:
                for kind in KINDS:
                    s.setdefault((clock, kind), []).append(results[kind][key])
            s["hits"].append(hits)
            s["calls"] = results["traced"]["calls"]
            s["trampoline"] |= results["traced"]["trampoline"]
    return samples


def over_idle(s, clock, kind):
    """The median over the runs of (kind - idle) ns per call: ns per event."""
    return median([k - i for k, i in zip(s[(clock, kind)], s[(clock, "idle")])])


def event_rows(found, samples, idle, latency):
    """The table's rows; "vs pyprobe 3.14": CPU ns/event over the pyprobe package's."""
    anchor = over_idle(samples[PYPROBE_ROW], "cpu", "traced") if PYPROBE_ROW in samples else None
    table = []
    for row in found:
        s = samples[row.name]
        fired = max(s["hits"]) > 0
        cpu_event = over_idle(s, "cpu", "traced")
        events = [f"{over_idle(s, 'wall', 'traced'):.0f}", f"{cpu_event:.0f}", f"{over_idle(s, 'cpu', 'raised'):.0f}",
                  f"{cpu_event / anchor:.2f}" if anchor else "-"] if fired else ["none fired", "none fired", "-", "-"]
        table.append([row.name, *idle[row.name], f"{median(s[('wall', 'idle')]):.1f}", *events,
                      f"{min(s['hits']):,}-{max(s['hits']):,} of {s['calls']:,}",
                      "yes" if s["trampoline"] else "no", latency[row.name]])
    return table


def skipped(opts):
    """Why the part cannot run, or None."""
    if opts.no_cpython:
        return "--no-cpython"
    try:
        bpftrace_path()
    except Failure as e:
        return str(e)
    return None


def load():
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def run(builds, opts, scratch, report):
    report.emit("## 6. Side by side: the ways to get function__entry")
    report.emit()
    why = skipped(opts)
    if why:
        report.emit(f"Skipped: {why}.")
        report.emit()
        return
    started = load()
    found, missing = rows(builds, opts)
    iterations, rounds, repeats = (20000, 3, 1) if opts.quick else (100000, 9, 5)
    line = entry_line()
    idle = {row.name: (["-"] * 3 if opts.quick else idle_cells(row, scratch)) for row in found}
    samples = traced_samples(found, scratch, iterations, rounds, repeats, line)
    latency = {row.name: latency_cell(row, 10 if opts.quick else 100) for row in found}
    ended = load()
    table = event_rows(found, samples, idle, latency)
    report.emit(f"Machine state: {os.cpu_count()} CPUs, shared with other work; load average "
                f"(1, 5, 15 min) {started} when the part started, {ended} when it ended. Idle: callgrind, "
                f"bench/programs/calls.py through stock_run.py at fib({CALLS_SIZES[0]}) and fib({CALLS_SIZES[1]}), "
                f"(instructions of the larger - the smaller) / ({fib_calls(int(CALLS_SIZES[1])):,} - "
                f"{fib_calls(int(CALLS_SIZES[0])):,} calls). Traced: bench/programs/sidebyside_calls.py, "
                f"{repeats} runs of {rounds} rounds of {iterations:,} calls of an empty function, each run "
                f"untraced, with the entry probe's semaphore raised and no tracer, and with bpftrace "
                f"`@hits = count()` on the entry probe (`/arg2 == {line}/`: f's line); ns per call by the wall "
                f"clock and by the thread's CPU time (time.thread_time_ns: its user and kernel time, the "
                f"uprobe's included, not the time it waited for a CPU); medians.")
    report.emit()
    report.table(["implementation", "idle instr/call, without", "with, untraced", "difference",
                  "untraced ns/call", "ns/event, wall", "ns/event, CPU", "of which not the uprobe, CPU",
                  "CPU vs pyprobe 3.14", "entries counted", "trampoline", "activation p50 / p99 ms"], table,
                 ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l", "r"])
    report.emit("Without the probes: the same interpreter without the module; for pyprobe's CPython 3.11, the "
                "plain build of the same source and configure flags. Debian's python3.11 runs as a byte-for-byte "
                "copy of /usr/bin/python3.11 in the output directory, out of reach of other sessions' tracers "
                "attached to that file. Activation: from the entry probe's semaphore "
                "rising (raised by the program, as the kernel does when a tracer attaches) until the module has "
                "turned its events on, while Python code runs (bench/programs/stock_latency.py), 100 times at "
                "random phases of the module's poll; \"-\": nothing to turn on. ns/event: traced minus "
                "untraced. Of which not the uprobe: with the entry probe's semaphore raised by the program itself "
                "and no tracer (everything of an event runs but the uprobe) minus untraced; the rest of ns/event "
                "is the kernel's uprobe and bpftrace's program. On a shared machine the wall clock counts the "
                "time the program waited for a CPU as well: the CPU columns are the steadier.")
    report.emit()
    for row in found:
        report.emit(f"- {row.name}: {row.note}.")
    for why in missing:
        report.emit(f"- {why}.")
    report.emit()
