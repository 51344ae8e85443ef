#!/usr/bin/env python3
"""The D consumer run for real: bpftrace on pint, through the library's
resolver (the held -c command's files, a -p process), runner (the ATTACHED record,
release, Ctrl-C, the traced process's exit, refusals) and renderer.

    test_d_trace.py --driver D_TRACE_DRIVER --pint PINT --programs DIR
                    [--provider P] [--case NAME]

d_trace_driver runs hand-written bpftrace programs that follow d_data.h's
wire protocol, with the plans a translation would give; this checks
DTrace's output of each against what fib.pint does, worked out here: the
calls of each function, the lines each runs, the flow of calls. The
layouts are dtrace's (dt_print_aggs: "  %-50s %16lld"; dt_print_lquantize;
chew under -F: "%3d %-41s "), the messages pyprobe's.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from common import bpftrace_usable, check, fail, run, skip, wait_mapped

DTRACE_ROW = "  %-50s %16d\n"          # dt_print_bytes' string key, dt_print_datum's value
TABLE_HEADER = "\n%16s %41s %-9s\n" % ("value", "------------- Distribution -------------", "count")


def fib_calls(n):
    """Calls of fib(n) in all, and those that return n (n < 2)."""
    if n < 2:
        return 1, 1
    a, b = fib_calls(n - 1), fib_calls(n - 2)
    return 1 + a[0] + b[0], a[1] + b[1]


def fib_program_calls():
    calls, leaves = fib_calls(15)
    for i in range(10):
        c, l = fib_calls(i)
        calls, leaves = calls + c, leaves + l
    return calls, leaves


class Pint:
    def __init__(self, args):
        self.pint, self.fib = args.pint, os.path.join(args.programs, "fib.pint")
        with open(self.fib) as f:
            self.lines = f.read().splitlines()

    def at(self, text):
        """The line number of the first line of fib.pint that starts with text."""
        for number, line in enumerate(self.lines, 1):
            if line.strip().startswith(text):
                return number
        fail(f"fib.pint has no line {text!r}")


def run_driver(args, case, target, env=None, timeout=120, **kwargs):
    """Runs the driver; returns (exit status, DTrace's output, stderr)."""
    with tempfile.TemporaryDirectory(prefix="pyprobe-d-") as tmp:
        os.chmod(tmp, 0o777)  # for the run as nobody
        out = os.path.join(tmp, "out")
        proc = run([args.driver, case, args.provider] + target + [out], timeout=timeout, check_exit=False,
                   env=dict(os.environ, **(env or {})), **kwargs)
        text = open(out).read() if os.path.exists(out) else ""
    return proc.returncode, text, proc.stderr


def rows(pairs):
    """dtrace's default layout of a keyed count: by value, then key."""
    return "".join(DTRACE_ROW % (k, v) for k, v in sorted(pairs, key=lambda kv: (kv[1], kv[0])))


def lquantize_table(counts, lower, upper, step):
    """dt_print_lquantize of one entry: counts maps a bin's value to its count."""
    levels = (upper - lower) // step
    bins = [0] * (levels + 2)
    for value, count in counts.items():
        bins[0 if value < lower else min((value - lower) // step + 1, levels + 1)] += count
    nonzero = [i for i, c in enumerate(bins) if c]
    first, last = max(nonzero[0] - 1, 0), min(nonzero[-1] + 1, levels + 1)
    total = sum(bins[first:last + 1])
    text = TABLE_HEADER
    for i in range(first, last + 1):
        label = "< %d" % lower if i == 0 else ">= %d" % (lower + levels * step) if i == levels + 1 \
            else "%d" % (lower + (i - 1) * step)
        depth = int(bins[i] * 40 / total + 0.5)
        text += "%16s |%s%s %-9d\n" % (label, "@" * depth, " " * (40 - depth), bins[i])
    return text


def exited(stderr, pid=None):
    return re.search(r"^pyprobe: pid %s has exited$" % (pid or r"\d+"), stderr, re.M)


# ---- the cases ----

def test_count(args, pint):
    calls, _ = fib_program_calls()
    status, out, err = run_driver(args, "count", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 0, f"count: exit {status}: {err}")
    # No -q: the run ends with dtrace's newline, then the aggregation.
    expected = "\n" + rows([("<module>", 1), ("factorial", 10), ("fib", calls)])
    check(out == expected, f"count: got\n{out!r}\nexpected\n{expected!r}")
    check(exited(err), f"count: no 'pid N has exited' notice: {err!r}")
    check("RLIMIT_MEMLOCK" not in err, f"bpftrace's RLIMIT_MEMLOCK line came through: {err!r}")


def test_functions(args, pint):
    """The pid provider: pint's fire_entry (found in the held program by its
    symbol) and libpyprobe's pyprobe_fire_function_entry (in a library the
    program needs, found through its RUNPATH) each run once per function-entry."""
    calls, _ = fib_program_calls()
    status, out, err = run_driver(args, "functions", ["-c", f"{pint.pint} {pint.fib}"])
    entries = 1 + 10 + calls
    expected = "\n" + rows([("<module>", 1), ("factorial", 10), ("fib", calls), ("fire_entry", entries),
                            ("pyprobe_fire_function_entry", entries)])
    check(status == 0 and out == expected, f"functions: exit {status}: got\n{out!r}\nexpected\n{expected!r}\n{err}")


def test_noready(args, pint):
    """A plan without the ATTACHED record: the runner adds its own mark to BEGIN."""
    calls, _ = fib_program_calls()
    status, out, err = run_driver(args, "noready", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 0 and out == "\n" + rows([("<module>", 1), ("factorial", 10), ("fib", calls)]),
          f"noready: exit {status}: {out!r} {err}")


def flow_model():
    """fib.pint's calls as (entry?, name) in order."""
    events = [(True, "<module>")]

    def fib(n):
        events.append((True, "fib"))
        if n >= 2:
            fib(n - 1)
            fib(n - 2)
        events.append((False, "fib"))

    def factorial(n):
        events.append((True, "factorial"))
        if n > 1:
            factorial(n - 1)
        events.append((False, "factorial"))

    fib(15)
    factorial(10)
    for i in range(10):
        fib(i)
    events.append((False, "<module>"))
    return events


def test_flow(args, pint):
    status, out, err = run_driver(args, "flow", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 0, f"flow: exit {status}: {err}")
    check_flow_records(out)


def check_flow_records(out, entry_function="probe_entry", return_function="probe_return"):
    """dtrace -qF's output of trace(copyinstr(arg1)) on function-entry and
    -return while pint runs fib.pint: every call of flow_model() in order,
    each indented two more than its caller."""
    header = "%3s %-41s\n" % ("CPU", "FUNCTION")
    check(out.startswith(header), f"flow: no -F heading: {out[:100]!r}")
    body = out[len(header):]
    check(body.endswith("\n") and "\n" not in body[:-1], "flow: -q -F records end in no newline")
    # Each record: chew's "%3d %-41s " (CPU, indent and arrow, the C
    # function of the probe), then trace()'s text; no newline between.
    indent, pos, events = 0, 0, flow_model()
    for number, (entry, name) in enumerate(events):
        if not entry:
            indent -= 2
        rest = " %-41s %s" % (" " * indent + (f" -> {entry_function}" if entry else f" <- {return_function}"), name)
        cpu = body[pos:pos + 3]
        check(re.fullmatch(r" *\d+", cpu) and body[pos + 3:pos + 3 + len(rest)] == rest,
              f"flow: record {number}: got {body[pos:pos + 3 + len(rest)]!r}, expected {'%3s' % '?'}{rest!r}")
        pos += 3 + len(rest)
        if entry:
            indent += 2
    check(pos == len(body) - 1, f"flow: {len(body) - 1 - pos} bytes after the {len(events)} expected records")


def test_top(args, pint):
    calls, _ = fib_program_calls()
    status, out, err = run_driver(args, "top", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 0, f"top: exit {status}: {err}")
    # trunc(@, 2) keeps the two largest; keys are basename(file) ":" function.
    expected = "\n" + rows([("fib.pint:factorial", 10), ("fib.pint:fib", calls)])
    check(out == expected, f"top: got\n{out!r}\nexpected\n{expected!r}")


def test_printa(args, pint):
    calls, _ = fib_program_calls()
    status, out, err = run_driver(args, "printa", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 3, f"printa: exit()'s status 3 expected, got {status}: {err}")
    expected = "".join("%-16s %5d|\n" % kv for kv in
                       [("fib.pint:<module>", 1), ("fib.pint:factorial", 10), ("fib.pint:fib", calls)])
    # A %*s segment (-6: left) and basename() of a string, then exit's end.
    expected += "[ab    |fib.pint]\n" + "\n"
    check(out == expected, f"printa: got\n{out!r}\nexpected\n{expected!r}")


def test_dump(args, pint):
    calls, leaves = fib_program_calls()
    status, out, err = run_driver(args, "dump", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 0, f"dump: exit {status}: {err}")
    at = pint.at
    lines = {
        "fib": {at("if n < 2"): calls, at("return n"): leaves, at("return fib(n - 1)"): calls - leaves},
        "factorial": {at("if n <= 1"): 10, at("return 1"): 1, at("return n * factorial"): 9},
        "<module>": {at("func fib"): 1, at("func factorial"): 1, at('print("fib(15)'): 1, at('print("10!'): 1,
                     at('line = "fib:"'): 1, at("i = 0"): 1, at("while i < 10"): 11,
                     at('line = line + " "'): 10, at("i = i + 1"): 10, at("print(line)"): 1},
    }
    # The end's dump: @calls, then @lines, each by value (an lquantize
    # by its values' weighted sum, dt_aggregate_lquantizedcmp).
    expected = "\n" + rows([("<module>", 1), ("factorial", 10), ("fib", calls)])
    weight = {f: sum(((l // 5) * 5) * c for l, c in counts.items()) for f, counts in lines.items()}
    for function in sorted(lines, key=lambda f: (weight[f], f)):
        expected += "  %-50s" % function + lquantize_table(lines[function], 0, 40, 5) + "\n"
    check(out == expected, f"dump: got\n{out}\nexpected\n{expected}")


def test_merge(args, pint):
    calls, _ = fib_program_calls()
    status, out, err = run_driver(args, "merge", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 0, f"merge: exit {status}: {err}")
    # D's key is the line alone (a 4-byte int: " %8d").
    expected = "\n" + " %8d %16d\n" % (pint.at("func fib"), calls)
    check(out == expected, f"merge: got {out!r}, expected {expected!r}")


def start_waiting_pint(pint, ready, probes, seconds):
    """pint waiting, before it runs fib.pint, for `probes` enabled probes and the ready file."""
    env = dict(os.environ, PINT_WAIT_FOR_TRACER=str(probes), PINT_WAIT_SECONDS=str(seconds),
               PYPROBE_READY_FILE=ready)
    child = subprocess.Popen([pint.pint, pint.fib], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, env=env)
    # ld.so maps every DT_NEEDED library, libc among them, before pint runs.
    wait_mapped(child.pid, "/libc.so", pint.pint)
    return child


def test_pid(args, pint):
    """-p: USDT probes, then the pid provider's functions, in a running pint."""
    calls, _ = fib_program_calls()
    entries = 1 + 10 + calls
    for case, extra in (("wait", []), ("functions", [("fire_entry", entries),
                                                     ("pyprobe_fire_function_entry", entries)])):
        with tempfile.TemporaryDirectory(prefix="pyprobe-d-") as tmp:
            ready = os.path.join(tmp, "ready")
            child = start_waiting_pint(pint, ready, 1, 60)
            try:
                status, out, err = run_driver(args, case, ["-p", str(child.pid)],
                                              env={"PYPROBE_READY_FILE": ready})
            finally:
                child.kill() if child.poll() is None else None
                child.wait()
        check(status == 0, f"-p {case}: exit {status}: {err}")
        expected = "\n" + rows([("<module>", 1), ("factorial", 10), ("fib", calls)] + extra)
        check(out == expected, f"-p {case}: got\n{out!r}\nexpected\n{expected!r}")
        check(exited(err, child.pid), f"-p {case}: tracing did not stop with 'pid {child.pid} has exited': {err!r}")


def test_interrupt(args, pint):
    with tempfile.TemporaryDirectory(prefix="pyprobe-d-") as tmp:
        ready, out = os.path.join(tmp, "ready"), os.path.join(tmp, "out")
        # pint waits for all 12 probes, which this program never enables.
        child = start_waiting_pint(pint, os.path.join(tmp, "never"), 12, 120)
        driver = subprocess.Popen([args.driver, "count", args.provider, "-p", str(child.pid), out],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, PYPROBE_READY_FILE=ready))
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(ready):
                check(driver.poll() is None and time.monotonic() < deadline,
                      f"interrupt: the driver never became ready: {driver.stderr.read() if driver.poll() is not None else ''}")
                time.sleep(0.05)
            driver.send_signal(signal.SIGINT)
            _, err = driver.communicate(timeout=60)
            alive = child.poll() is None
        finally:
            for p in (driver, child):
                if p.poll() is None:
                    p.kill()
                    p.wait()
        text = open(out).read()
    check(driver.returncode == 0, f"interrupt: Ctrl-C must end with status 0, got {driver.returncode}: {err}")
    # dtrace's newline at Ctrl-C, then the one at the end; no data came.
    check(text == "\n\n", f"interrupt: got {text!r}")
    check(alive, "interrupt: a process traced by -p must not be killed")


def test_refused(args, pint):
    status, out, err = run_driver(args, "refused", ["-c", f"{pint.pint} {pint.fib}"])
    check(status == 1 and out == "", f"refused: exit {status}, output {out!r}")
    lines = err.strip().splitlines()
    check(len(lines) == 1 and re.match(r"pyprobe: bpftrace refused the translated program: .*Unknown identifier: "
                                       r"'nosuch' \(pyprobe -S shows it\)$", lines[0]), f"refused: {err!r}")


def test_no_bpftrace(args, pint):
    env = {"PATH": "/nonexistent"}
    status, out, err = run_driver(args, "count", ["-c", f"{pint.pint} {pint.fib}"], env=env)
    check(status == 1 and err == "pyprobe: bpftrace is not installed (apt-get install bpftrace)\n",
          f"no bpftrace: exit {status}: {err!r}")


def test_not_root(args, pint):
    def drop():
        os.setgid(65534)
        os.setuid(65534)

    status, out, err = run_driver(args, "count", ["-c", f"{pint.pint} {pint.fib}"], preexec_fn=drop)
    check(status == 1 and err == "pyprobe: bpftrace needs root: run pyprobe as root (sudo pyprobe ...)\n",
          f"not root: exit {status}: {err!r}")


CASES = {"count": test_count, "noready": test_noready, "flow": test_flow, "top": test_top, "printa": test_printa,
         "dump": test_dump, "merge": test_merge, "pid": test_pid, "functions": test_functions,
         "interrupt": test_interrupt, "refused": test_refused, "no_bpftrace": test_no_bpftrace,
         "not_root": test_not_root}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--pint", required=True)
    parser.add_argument("--programs", required=True)
    parser.add_argument("--provider", default="python")
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    args = parser.parse_args()
    bpftrace_usable()
    pint = Pint(args)
    for name in args.case or CASES:
        CASES[name](args, pint)
        print(f"ok: {name}")


if __name__ == "__main__":
    main()
