#!/usr/bin/env python3
"""The pyprobe package on a stock CPython (3.12 and later: no function,
return or line probes of its own), traced by bpftrace.

    test_stock.py STEP --work DIR [options]

  install     the interpreter (examples/cpython/stock VERSION: pyenv's, or
              built from Debian's source), a venv of it in DIR/venv, and the
              package built and installed there by python/install
  scenarios   CPython's own Lib/test/dtracedata call_stack.d, gc.d and
              line.d, unchanged, run by `pyprobe -q -s NAME.d -c 'python
              -m pyprobe run NAME.py'` (the D front end finds the package's
              module through the held interpreter): equal to the version's
              own .expected after test_dtrace.py's normalisation
  counts      a workload with known counts (exceptions, generators closed
              and thrown into, asyncio, threads): exact calls, and entries
              equal returns for every function of it
  activation  three attach/detach rounds: nothing registered before, exact
              counts while attached, nothing registered after; a forked
              child gets its own watcher; exit with a tracer attached
  coexist     cProfile and sys.settrace while traced; another tool holding
              sys.monitoring's id 3 (pyprobe takes 4)
  cli         run, attach and where with bad input: one line, exit 1
  attach      (3.14) `python -m pyprobe attach PID` on a process that never
              imported pyprobe; bpftrace then counts its calls exactly
  native      (3.11 built --with-dtrace, Debian's) the interpreter's own
              function__entry fires while traced (gh-98894), counted exactly
              by bpftrace attached to the interpreter, in three attach/detach
              rounds, threads, a fork and beside cProfile and sys.settrace;
              nothing left after; the package has no python provider of its
              own, so none is doubled
  older       a 3.11 without probes of its own: run and attach refuse in
              one line, saying why

Every step after install reads DIR/venv, or with --python uses that
interpreter (the package on its PYTHONPATH): scenarios, counts, native and
older run so on the 3.11s.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from common import Attached, check, fail, run, trace_command
from test_cpython import run_scenario  # tests/cpython: the 3.11 scenarios' own

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROGRAMS = os.path.join(HERE, "programs")
LAUNCH = os.path.join(ROOT, "tests", "cpython", "launch.py")


def absent(reason):
    """Skips (77) because the interpreter is not to be had here: no tracer
    is missing, so PYPROBE_REQUIRE_TRACERS does not turn this into a failure."""
    print(f"SKIP: {reason}")
    sys.exit(77)


class Stock:
    """The venv of one stock interpreter, with the package installed (or an
    interpreter that finds it on PYTHONPATH)."""

    def __init__(self, work, python=None):
        self.python = python or os.path.join(work, "venv", "bin", "python")
        marker = os.path.join(work, "absent")
        if not python and not os.path.exists(self.python) and os.path.exists(marker):
            with open(marker) as f:
                absent(f.read().strip())
        check(os.path.exists(self.python), f"no {self.python}: the install step makes it")
        self.module = self.ask("import pyprobe; print(pyprobe.where())")
        self.version = tuple(int(v) for v in self.ask("import sys; print(*sys.version_info[:2])").split())

    def ask(self, code):
        return run([self.python, "-c", code]).stdout.strip()

    def under_pyprobe(self, *args):
        """The command that runs args under `python -m pyprobe run`."""
        return [self.python, "-m", "pyprobe", "run", *args]

    def start(self, *args, **kwargs):
        return subprocess.Popen(self.under_pyprobe(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kwargs)


def stock_of(opts):
    """The interpreter a step runs on: the venv's, or --python's."""
    return Stock(opts.work, opts.python)


def probe_script(module, *clauses):
    """A bpftrace program of `usdt:MODULE:python:PROBE /filter/ { action }`
    clauses, given as (probe, filter or None, action)."""
    return "\n".join(f"usdt:{module}:python:{probe} {'/' + flt + '/ ' if flt else ''}{{ {action} }}"
                     for probe, flt, action in clauses)


# ---- install ----

def step_install(opts):
    """The interpreter, a venv, the package. A version that cannot be had
    (Debian's mirror serves none of the sources its index lists, which has
    happened to python3.14) is absent: this and every later step skip."""
    proc = run([opts.stock, opts.version], timeout=3600, check_exit=False)
    marker = os.path.join(opts.work, "absent")
    if proc.returncode != 0 and ("source downloaded" in proc.stderr or "lists no source package" in proc.stderr):
        reason = f"Python {opts.version} is not to be had here: {proc.stderr.strip().splitlines()[-1]}"
        with open(marker, "w") as f:
            f.write(reason)
        absent(reason)
    check(proc.returncode == 0, f"{opts.stock} {opts.version}: exit {proc.returncode}\n{proc.stderr}")
    if os.path.exists(marker):
        os.remove(marker)
    found = proc.stdout.strip().splitlines()
    check(found, f"{opts.stock} {opts.version} printed no interpreter")
    python = found[-1]
    venv = os.path.join(opts.work, "venv")
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        run([python, "-m", "venv", "--without-pip", venv])
    installed = run([opts.install, os.path.join(venv, "bin", "python"), "--build-dir",
                     os.path.join(opts.work, "build")], timeout=900).stdout.strip()
    stock = stock_of(opts)
    check(stock.module.startswith(installed), f"pyprobe.where() is {stock.module}, installed {installed}")
    check(stock.version == tuple(int(v) for v in opts.version.split(".")), f"{python} is {stock.version}")
    print(f"ok: pyprobe installed for {python} ({'.'.join(map(str, stock.version))}) in {installed}")


# ---- CPython's scenarios ----

def step_scenarios(opts):
    stock = stock_of(opts)
    directory = os.path.join(stock.ask("import os, test; print(os.path.dirname(test.__file__))"), "dtracedata")
    check(opts.pyprobe, "scenarios: --pyprobe is needed")
    for name in ("call_stack", "gc", "line"):
        same, expected, actual = run_scenario(opts.pyprobe, stock.under_pyprobe(), directory, name)
        check(same, f"{name}: differs from {name}.d.expected\n--- expected\n" + "\n".join(expected)
              + "\n--- actual\n" + "\n".join(actual))
        print(f"ok: pyprobe -q -s {name}.d -c '{' '.join(stock.under_pyprobe(name + '.py'))}' "
              f"matches {name}.d.expected ({len(expected)} lines)")


# ---- a workload with known counts ----

def step_counts(opts):
    stock = stock_of(opts)
    program = os.path.join(PROGRAMS, "workload.py")
    script = probe_script(stock.module, ("function__entry", None, "@entry[str(arg1)] = count();"),
                          ("function__return", None, "@return[str(arg1)] = count();"))
    maps, out = trace_command(script, stock.under_pyprobe(LAUNCH, program), json_maps=True)
    calls = json.loads(out.strip().splitlines()[-1])
    entries, returns = maps.get("@entry", {}), maps.get("@return", {})
    for name, count in calls.items():
        check(entries.get(name) == count, f"{name}: {entries.get(name)} entries, the program made {count} calls")
    ours = set(calls) | {"gen", "task", "gather"}  # names no other code uses: not "main"
    unpaired = {f: (entries.get(f), returns.get(f)) for f in ours if entries.get(f) != returns.get(f)}
    check(not unpaired, f"entries != returns: {unpaired}")
    check(entries.get("gen", 0) > 0 and entries.get("task", 0) > 0, f"no generator or coroutine events: {entries}")
    print(f"ok: exact calls of {sorted(calls)}; entries == returns for {len(ours)} functions "
          f"(gen {entries['gen']}, task {entries['task']})")


# ---- activation ----

class Controlled:
    """tests/python/programs/controlled.py under `python -m pyprobe run`."""

    def __init__(self, stock):
        self.proc = stock.start(os.path.join(PROGRAMS, "controlled.py"))

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer:
            fail(f"controlled.py gave no answer to {command!r}: {self.proc.stderr.read()}")
        return answer

    def state(self):
        return json.loads(self.ask("state"))

    def finish(self):
        """Ends its input, which ends it: it must exit 0."""
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("controlled.py did not exit within 60 s of its input's end")
        check(self.proc.returncode == 0, f"controlled.py exit {self.proc.returncode}: {err}")


def nothing_registered(state, when):
    check(state == {"tools": {}, "events": {}, "gc_callbacks": 0, "traced": []},
          f"{when}: registered with the interpreter: {state}")


def tick_script(module):
    return probe_script(module, ("function__entry", 'str(arg1) == "tick"', "@ticks = count();"),
                        ("function__return", 'str(arg1) == "tick"', "@returns = count();"))


def check_fork(stock, target):
    """A child forked by controlled.py gets its own watcher: it follows the
    tracer attached to the child alone."""
    target.proc.stdin.write("fork 500\n")
    target.proc.stdin.flush()
    child = int(target.proc.stdout.readline().split()[1])
    with Attached(tick_script(stock.module), child) as tracer:
        answer = target.proc.stdout.readline().strip()
    check(answer == "child exit 0", f"forked child: {answer}")
    check(tracer.maps.get("@ticks") == 500, f"forked child: fired 500, bpftrace saw {tracer.maps}")
    print("ok: a forked child's own watcher follows its tracer (500 ticks)")


def check_thread(stock, target):
    """A thread started while traced fires every tick, while the main thread
    is blocked in join (where no pending call runs)."""
    with Attached(tick_script(stock.module), target.proc.pid) as tracer:
        answer = target.ask("thread 700")
    check(answer == "thread fired 700" and tracer.maps.get("@ticks") == 700,
          f"a thread, the main thread in join: {answer}, bpftrace saw {tracer.maps}")
    print("ok: a thread started while traced, the main thread in join (700 ticks)")


def step_activation(opts):
    stock = stock_of(opts)
    target = Controlled(stock)
    nothing_registered(target.state(), "untraced")
    for round_ in range(1, 4):
        n = 1000 * round_
        with Attached(tick_script(stock.module), target.proc.pid) as tracer:
            target.ask("wait function__entry,function__return")
            state = target.state()
            check(list(state["tools"].values()) == ["pyprobe"] and state["gc_callbacks"] == 0,
                  f"round {round_}: only the function probes were asked for: {state}")
            check(target.ask(f"fire {n}") == f"fired {n}", "fire")
        check(tracer.maps.get("@ticks") == n and tracer.maps.get("@returns") == n,
              f"round {round_}: fired {n}, bpftrace saw {tracer.maps}")
        target.ask("wait -")
        nothing_registered(target.state(), f"after round {round_}")
        target.ask("fire 100")  # untraced in between
    print("ok: 3 attach/detach rounds, exact counts (1000, 2000, 3000), nothing registered before or after")

    with Attached(probe_script(stock.module, ("gc__start", None, "@gc = count();")), target.proc.pid):
        target.ask("wait gc__start")
        state = target.state()
        check(state["gc_callbacks"] == 1 and not state["tools"], f"gc__start alone: {state}")
    target.ask("wait -")
    nothing_registered(target.state(), "after gc__start")
    print("ok: gc__start alone registers a gc callback and no sys.monitoring tool")

    check_fork(stock, target)

    check_thread(stock, target)

    with Attached(tick_script(stock.module), target.proc.pid):
        target.ask("wait function__entry,function__return")
        target.finish()
    print("ok: the program exits cleanly while traced")


# ---- coexistence ----

def step_coexist(opts):
    stock = stock_of(opts)
    target = Controlled(stock)
    with Attached(tick_script(stock.module), target.proc.pid) as tracer:
        target.ask("wait function__entry,function__return")
        check(target.ask("cprofile 300") == "profiled 300", "cProfile lost calls while traced")
        check(target.ask("settrace 200") == "traced 200 200", "sys.settrace lost calls while traced")
    check(tracer.maps.get("@ticks") == 500, f"with cProfile and settrace: bpftrace saw {tracer.maps}, fired 500")
    print("ok: cProfile and sys.settrace count every call while bpftrace counts them too")
    target.ask("wait -")
    target.ask("hold-tool 3")
    with Attached(tick_script(stock.module), target.proc.pid) as tracer:
        target.ask("wait function__entry,function__return")
        tools = target.state()["tools"]
        check(tools == {"3": "other", "4": "pyprobe"}, f"with tool 3 taken: {tools}")
        target.ask("fire 100")
    check(tracer.maps.get("@ticks") == 100, f"on tool id 4: bpftrace saw {tracer.maps}")
    target.finish()
    print("ok: with sys.monitoring's id 3 held by another tool, pyprobe takes 4")


# ---- the command line, bad input ----

def one_line_error(stock, args, words, **kwargs):
    proc = run([stock.python, "-m", "pyprobe", *args], check_exit=False, **kwargs)
    err = proc.stderr.strip()
    check(proc.returncode == 1 and len(err.splitlines()) == 1 and err.startswith("pyprobe: ") and words in err,
          f"pyprobe {' '.join(args)}: exit {proc.returncode}, stderr {err!r} (wanted one line with {words!r})")
    return err


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return str(proc.pid)


# Imports pyprobe in a sub-interpreter; prints the error it gets.
SUBINTERPRETER = """\
import _interpreters
result = _interpreters.run_string(_interpreters.create(), "import pyprobe")
print(result.formatted if result else "imported")
"""


def runs_as(python, user):
    try:
        return run([python, "-c", "pass"], check_exit=False, **user).returncode == 0
    except PermissionError:  # the exec itself
        return False


def step_cli(opts):
    stock = stock_of(opts)
    check(run([stock.python, "-m", "pyprobe", "where"]).stdout.strip() == stock.module, "where")
    errors = [one_line_error(stock, ["run", "no_such_script.py"], "no such file"),
              one_line_error(stock, ["run", "-m", "no_such_module_of_pyprobe"], "no module named"),
              one_line_error(stock, ["run"], "no script")]
    if stock.version < (3, 14):
        errors.append(one_line_error(stock, ["attach", str(os.getpid())], "needs Python 3.14"))
    else:
        sleeper = subprocess.Popen(["sleep", "30"])
        try:
            errors.append(one_line_error(stock, ["attach", str(sleeper.pid)], "not a Python process"))
        finally:
            sleeper.kill()
        errors.append(one_line_error(stock, ["attach", dead_pid()], "no such process"))
        as_nobody = {"preexec_fn": lambda: os.setuid(65534)}
        if runs_as(stock.python, as_nobody):
            errors.append(one_line_error(stock, ["attach", "1"], "not permitted", **as_nobody))
        else:
            print(f"note: no check of attach without permission: nobody cannot run {stock.python}")
    errors.append(one_line_error(stock, ["attach", "x"], "give one process id"))
    for err in errors:
        print(f"ok: {err}")
    if stock.version >= (3, 13):  # where _interpreters is
        refused = stock.ask(SUBINTERPRETER)
        check("does not support loading in subinterpreters" in refused, f"in a sub-interpreter: {refused}")
        print(f"ok: a sub-interpreter is refused: {refused}")


def own_probes(stock):
    """The python probes the interpreter has of its own (pyprobe's view)."""
    return stock.ask("import pyprobe._native as n; print(*n.interpreter_probes()[1])").split()


def step_older(opts):
    stock = stock_of(opts)
    check(stock.version < (3, 12), f"older: {stock.python} is {stock.version}")
    version = ".".join(map(str, stock.version))
    errors = [one_line_error(stock, ["attach", str(os.getpid())], f"needs Python 3.14 or later (sys.remote_exec, "
                             f"PEP 768); this is {version}")]
    if "function__entry" in own_probes(stock):
        print(f"note: {stock.python} has probes of its own (run works there: step native); no 3.11 without "
              f"probes here to refuse run")
    else:
        errors.append(one_line_error(stock, ["run", os.path.join(PROGRAMS, "workload.py")],
                                     f"needs Python 3.12 or later (sys.monitoring), or a --with-dtrace 3.11; "
                                     f"this is {version} without probes of its own"))
    for err in errors:
        print(f"ok: {err}")


# ---- 3.11 built --with-dtrace: its own function__entry made to fire ----

UNTRACED_311 = {"traced": [], "tracing_path": False, "thread_hook": False}
FOLLOWING_311 = {"traced": ["function__entry"], "tracing_path": True, "thread_hook": True}


def wait_state(target, wanted, what):
    """Polls controlled.py's state until it is `wanted` (the watcher looks
    every 10 ms); fails after 10 s."""
    deadline = time.monotonic() + 10
    while (state := target.state()) != wanted:
        check(time.monotonic() < deadline, f"{what}: state {state}, wanted {wanted}")
        time.sleep(0.01)


def step_native(opts):
    stock = stock_of(opts)
    check(stock.version < (3, 12), f"native: {stock.python} is {stock.version}, not 3.11")
    if "function__entry" not in own_probes(stock):
        absent(f"{stock.python} has no function__entry of its own (not built --with-dtrace)")
    interpreter = os.path.realpath(stock.python)
    check(stock.module == interpreter, f"where() is {stock.module}, not the interpreter {interpreter}")
    native = stock.ask("import pyprobe._native as n; print(n.__file__)")
    notes = run(["readelf", "-n", native]).stdout
    check("Provider: python" not in notes, f"{native} has python probes of its own: they could double the "
          f"interpreter's")
    print(f"ok: the probes are {interpreter}'s own; {os.path.basename(native)} has none")

    target = Controlled(stock)
    check(target.state() == UNTRACED_311, f"untraced: {target.state()}")
    for round_ in range(1, 4):
        n = 1000 * round_
        with Attached(tick_script(stock.module), target.proc.pid) as tracer:
            target.ask("wait function__entry")
            check(target.state() == FOLLOWING_311, f"round {round_}, traced: {target.state()}")
            check(target.ask(f"fire {n}") == f"fired {n}", "fire")
        check(tracer.maps.get("@ticks") == n and tracer.maps.get("@returns") == n,
              f"round {round_}: fired {n}, bpftrace saw {tracer.maps}")
        target.ask("wait -")
        check(target.state() == UNTRACED_311, f"after round {round_}: {target.state()}")
        target.ask("fire 100")  # untraced in between
    print("ok: 3 attach/detach rounds, the interpreter's own entries and returns counted exactly "
          "(1000, 2000, 3000); no profile function or thread hook before or after")

    returns = probe_script(stock.module, ("function__return", 'str(arg1) == "tick"', "@returns = count();"))
    with Attached(returns, target.proc.pid) as tracer:
        check(target.state() == UNTRACED_311, f"function__return alone: {target.state()}")
        target.ask("fire 100")
    check(tracer.maps.get("@returns") == 100, f"function__return alone: bpftrace saw {tracer.maps}")
    print("ok: function__return alone: the interpreter fires it, pyprobe turns nothing on")

    check_thread(stock, target)

    check_fork(stock, target)

    with Attached(tick_script(stock.module), target.proc.pid) as tracer:
        target.ask("wait function__entry")
        check(target.ask("cprofile 300") == "profiled 300", "cProfile lost calls while traced")
        # cProfile's disable() took the thread off the tracing path; the
        # watcher puts it back at its next look.
        wait_state(target, FOLLOWING_311, "after cProfile")
        check(target.ask("settrace 200") == "traced 200 200", "sys.settrace lost calls while traced")
        target.ask("fire 100")
    check(tracer.maps.get("@ticks") == 600 and tracer.maps.get("@returns") == 600,
          f"with cProfile and settrace: bpftrace saw {tracer.maps}, fired 600")
    target.ask("wait -")
    check(target.state() == UNTRACED_311, f"after cProfile and settrace: {target.state()}")
    target.finish()
    print("ok: cProfile and sys.settrace count every call while bpftrace does too (600 ticks)")


# ---- attach (3.14) ----

def step_attach(opts):
    stock = stock_of(opts)
    check(stock.version >= (3, 14), f"attach needs 3.14, this is {stock.version}")
    with tempfile.TemporaryDirectory(prefix="pyprobe-attach-") as tmp:
        ready = os.path.join(tmp, "ready")
        target = subprocess.Popen([stock.python, os.path.join(PROGRAMS, "unaware.py"), ready],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            check(target.stdout.readline().strip() == "waiting", "unaware.py did not start")
            run([stock.python, "-m", "pyprobe", "attach", str(target.pid)], timeout=60)
            with Attached(tick_script(stock.module), target.pid) as tracer:
                open(ready, "w").close()
                out, err = target.communicate(timeout=60)
        finally:
            if target.poll() is None:
                target.kill()
        check(target.returncode == 0, f"unaware.py exit {target.returncode}: {err}")
        fired = int(out.split()[-1])
        check(tracer.maps.get("@ticks") == fired, f"attached: fired {fired}, bpftrace saw {tracer.maps}")
    print(f"ok: attach enabled the probes in a running process; bpftrace counted its {fired} calls")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["install", "scenarios", "counts", "activation", "coexist", "cli",
                                         "attach", "native", "older"])
    parser.add_argument("--work", required=True)
    parser.add_argument("--python", help="this interpreter, which finds the package on PYTHONPATH, not DIR/venv's")
    parser.add_argument("--version", help="install: 3.12, 3.13, 3.14")
    parser.add_argument("--stock", help="install: examples/cpython/stock")
    parser.add_argument("--install", help="install: python/install")
    parser.add_argument("--pyprobe", help="scenarios: the pyprobe command (pyprobe -s)")
    opts = parser.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    globals()["step_" + opts.step](opts)


if __name__ == "__main__":
    main()
