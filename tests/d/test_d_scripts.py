#!/usr/bin/env python3
"""pyprobe -s / -n from D to DTrace's output, the whole way: the front end's
translation, the resolver, bpftrace, the consumer and the renderer, on pint
running fib.pint (whose calls are worked out in test_d_trace.py). The
expected outputs are dtrace's (cmd/dtrace/dtrace.c: the record's newline
from chewrec() unless quiet, the newline after the loop even when quiet,
then the aggregations not printed yet; exit()'s value as the status).

    test_d_scripts.py --pyprobe PYPROBE --pint PINT --programs DIR [--provider P]
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

from common import bpftrace_usable, check, run
from test_d_trace import check_flow_records, fib_program_calls, rows

HEADING = "%3s %6s %32s\n" % ("CPU", "ID", "FUNCTION:NAME")  # dtrace.c's chew()


class Runs:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.fib = os.path.join(args.programs, "fib.pint")

    def pyprobe(self, *options, command=False):
        """Runs pyprobe (with -c pint fib.pint when command) and returns
        (status, DTrace's output from -o, stderr)."""
        out = os.path.join(self.tmp, "out")
        if os.path.exists(out):
            os.unlink(out)
        extra = ["-c", f"{self.args.pint} {self.fib}"] if command else []
        proc = run([self.args.pyprobe, "-o", out] + extra + list(options), check_exit=False, timeout=180)
        text = open(out).read() if os.path.exists(out) else ""
        return proc.returncode, text, proc.stderr


def test_begin(runs):
    """BEGIN with printf and exit(3), quiet: the text, the newline after the
    loop, and 3 as the status."""
    status, out, err = runs.pyprobe("-q", "-n", 'BEGIN { printf("%s %d\\n", "hello", 42); exit(3); }')
    check(status == 3 and out == "hello 42\n\n", f"BEGIN: exit {status}: {out!r} {err}")
    check(err == "", f"BEGIN -q: something on stderr: {err!r}")


def test_trace_record(runs):
    """Not quiet: the heading, the CPU/ID/FUNCTION:NAME prefix, trace()'s
    " %8d" for an int (dt_consume.c's dt_consume_cpu), chewrec's newline,
    and dtrace's "matched" line on stderr (with the description as dtrace's
    lexer leaves it: cut at the clause)."""
    status, out, err = runs.pyprobe("-n", "BEGIN { trace(42); exit(0); }")
    record = re.sub(r"^ *\d+ ", "%3d ", out[len(HEADING):], count=1)
    expected = "%3d " + "%6d %32s " % (1, ":BEGIN") + " %8d" % 42 + "\n" + "\n"
    check(status == 0 and out.startswith(HEADING) and record == expected,
          f"trace: exit {status}: got\n{out!r}\nexpected the heading, then\n{expected!r}")
    check("pyprobe: description 'BEGIN ' matched 1 probe" in err, f"no matched line: {err!r}")


def test_count(runs):
    """The aggregation dumped at the end: by value, then key."""
    calls, _ = fib_program_calls()
    provider = runs.args.provider
    status, out, err = runs.pyprobe("-q", "-n", provider + "$target:::function-entry { @[copyinstr(arg1)] = count(); }",
                                    command=True)
    expected = "\n" + rows([("<module>", 1), ("factorial", 10), ("fib", calls)])
    check(status == 0 and out == expected, f"count: exit {status}: got\n{out!r}\nexpected\n{expected!r}\n{err}")


def test_aggregating_clause_prints_no_line(runs):
    """Not quiet, but the clause only assigns and aggregates: it records
    nothing in DTrace's buffer, so dtrace prints no heading and no probe
    line for it (dtrace_ecb_resize), only the aggregation at the end; a
    clause that records (printf) in the same run gets its line."""
    calls, _ = fib_program_calls()
    provider = runs.args.provider
    status, out, err = runs.pyprobe("-n", provider + "$target:::function-entry { self->n++; @[copyinstr(arg1)] = count(); }",
                                    command=True)
    expected = "\n" + rows([("<module>", 1), ("factorial", 10), ("fib", calls)])
    check(status == 0 and out == expected, f"aggregating clause: exit {status}: got\n{out!r}\nexpected\n{expected!r}\n{err}")
    status, out, err = runs.pyprobe("-n", provider + "$target:::function-entry { @[copyinstr(arg1)] = count(); }",
                                    "-n", 'END { printf("end"); }', command=True)
    lines = out.splitlines()
    check(status == 0 and out.startswith(HEADING) and lines[1].endswith(":END end") and lines.count(lines[1]) == 1
          and len(lines) == 2 + 1 + 3,
          f"one recording clause: exit {status}: got\n{out!r}\n{err}")


def test_long_strings_whole(runs):
    """No -x strsize: strings as long as the program's fit on bpftrace 0.17's
    BPF stack (d_run.h), not its 64 bytes. A file name of 150 bytes, the
    key of a count, comes out whole; with -x strsize=64 it is cut."""
    calls, _ = fib_program_calls()
    directory = os.path.join(runs.tmp, "d" * (140 - len(runs.tmp)))
    os.makedirs(directory, exist_ok=True)
    program = os.path.join(directory, "fib.pint")
    with open(runs.fib) as src, open(program, "w") as dst:
        dst.write(src.read())
    script = runs.args.provider + "$target:::function-entry { @[copyinstr(arg0)] = count(); }"
    for extra, name in (([], program), (["-x", "strsize=64"], program[:63])):
        out = os.path.join(runs.tmp, "long.out")
        if os.path.exists(out):
            os.unlink(out)  # -o appends, as dtrace's does
        proc = run([runs.args.pyprobe, "-q", "-o", out, *extra, "-n", script, "-c", f"{runs.args.pint} {program}"],
                   check_exit=False, timeout=180)
        with open(out) as f:
            text = f.read()
        expected = "\n" + rows([(name, 1 + 10 + calls)])
        check(proc.returncode == 0 and text == expected,
              f"{' '.join(extra) or 'no strsize'}: exit {proc.returncode}: got\n{text!r}\nexpected\n{expected!r}\n{proc.stderr}")


def test_talk_flow(runs):
    """The talk's first script (tests/d/scripts/talk_subentry.d), run with
    -qFZs as the talk runs it: every entry and return of fib.pint in order,
    indented as dtrace -F indents them (test_d_trace.check_flow_records)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts", "talk_subentry.d")
    status, out, err = runs.pyprobe("-qFZ", "-s", script, command=True)
    check(status == 0, f"talk_subentry.d -qFZs: exit {status}: {err}")
    first = re.search(r"-> (\S+)", out)
    check(first, f"talk_subentry.d: no entry in {out[:300]!r}")
    entry = first.group(1)
    check_flow_records(out, entry, entry.replace("entry", "return"))


def test_killed_pyprobe_leaves_no_bpftrace(runs):
    """pyprobe killed by SIGKILL (no chance to stop anything): its bpftrace
    goes too, instead of tracing on with no reader (PR_SET_PDEATHSIG)."""
    out = os.path.join(runs.tmp, "killed.out")
    proc = subprocess.Popen([runs.args.pyprobe, "-q", "-o", out, "-n", 'BEGIN { printf("up\\n"); } tick-10s { }'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (os.path.exists(out) and "up" in open(out).read()):
            time.sleep(0.05)
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            children = [int(pid) for pid in f.read().split()]
        check(children, "pyprobe has no bpftrace child")
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    alive = children
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in children if os.path.exists(f"/proc/{pid}") and
                 open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "Z"]
        time.sleep(0.1)
    check(not alive, f"bpftrace {alive} still runs 10 s after pyprobe was killed")


def test_printa_and_pid_provider(runs):
    """A script file: printa() with a format in END (the aggregation is not
    dumped again), and the pid provider's fire_entry, once per entry."""
    calls, _ = fib_program_calls()
    script = os.path.join(runs.tmp, "calls.d")
    with open(script, "w") as f:
        f.write("#pragma D option quiet\n"
                f"{runs.args.provider}$target:::function-entry {{ @[copyinstr(arg1)] = count(); }}\n"
                'pid$target::fire_entry:entry { @["fire_entry"] = count(); }\n'
                'END { printa("%s=%@d\\n", @); }\n')
    status, out, err = runs.pyprobe("-s", script, command=True)
    entries = 1 + 10 + calls
    pairs = sorted([("<module>", 1), ("factorial", 10), ("fib", calls), ("fire_entry", entries)],
                   key=lambda kv: (kv[1], kv[0]))
    expected = "".join("%s=%d\n" % kv for kv in pairs) + "\n"
    check(status == 0 and out == expected, f"printa: exit {status}: got\n{out!r}\nexpected\n{expected!r}\n{err}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--pint", required=True)
    parser.add_argument("--programs", required=True)
    parser.add_argument("--provider", default="python")
    args = parser.parse_args()
    bpftrace_usable()
    with tempfile.TemporaryDirectory(prefix="pyprobe-d-scripts-") as tmp:
        runs = Runs(args, tmp)
        for test in (test_begin, test_trace_record, test_count, test_aggregating_clause_prints_no_line,
                     test_long_strings_whole, test_talk_flow, test_killed_pyprobe_leaves_no_bpftrace,
                     test_printa_and_pid_provider):
            test(runs)
            print(f"ok: {test.__name__}")


if __name__ == "__main__":
    main()
