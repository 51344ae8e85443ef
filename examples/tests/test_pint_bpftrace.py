#!/usr/bin/env python3
"""pint's samples under bpftrace: every probe, with exact counts.

Runs each sample of examples/programs under one bpftrace program that counts
every event of the 12 probes of --module (libpyprobe) by its arguments, then
checks the counts against what the sample does: calls per function (entries
equal returns), executed lines, instances made and freed, collections and
what they freed, imports found and not found, audit events.

pint runs in the sample's directory with a relative path, so file names in
the events are as short as "fib.pint", and with PINT_WAIT_FOR_TRACER=12 it
waits until bpftrace has enabled all 12 probes, so no event is missed.
Counting happens in bpftrace maps (no event is lost in a full buffer); only
the few gc events are printed, in order, to pair each gc__done with its
gc__start.
"""
import argparse
import collections
import os
import re
import sys

from common import bpftrace_usable, check, fail, trace_command

# map name in the bpftrace program -> probe, and the kinds of its key fields
MAPS = {
    "entry": ("function__entry", "ssi"),
    "return": ("function__return", "ssi"),
    "line": ("line", "ssi"),
    "new_start": ("instance__new__start", "ss"),
    "new_done": ("instance__new__done", "ss"),
    "delete_start": ("instance__delete__start", "ss"),
    "delete_done": ("instance__delete__done", "ss"),
    "import_start": ("import__find__load__start", "s"),
    "import_done": ("import__find__load__done", "si"),
    "audit": ("audit", "ss"),  # the args pointer is the path or module name
}


def script(module, provider):
    blocks = []
    for name, (probe, kinds) in MAPS.items():
        key = ", ".join(f"str(arg{i})" if k == "s" else f"arg{i}" for i, k in enumerate(kinds))
        blocks.append(f"usdt:{module}:{provider}:{probe} {{ @{name}[{key}] = count(); }}")
    blocks.append(f'usdt:{module}:{provider}:gc__start {{ printf("gc__start %d\\n", arg0); }}')
    blocks.append(f'usdt:{module}:{provider}:gc__done {{ printf("gc__done %ld\\n", arg0); }}')
    return "\n".join(blocks)


class Trace:
    """What bpftrace saw: a Counter of key tuples per map, and the
    collections in order as (generation, collected) pairs."""

    def __init__(self, output):
        self.counts = {name: collections.Counter() for name in MAPS}
        self.collections = []
        generation = None
        for line in output.splitlines():
            if not line.strip():
                continue
            entry = re.fullmatch(r"@(\w+)\[(.*)\]: (\d+)", line)
            if entry and entry.group(1) in MAPS:
                kinds = MAPS[entry.group(1)][1]
                fields = entry.group(2).split(", ")
                check(len(fields) == len(kinds), f"unexpected map entry: {line!r}")
                key = tuple(int(f) if k == "i" else f for f, k in zip(fields, kinds))
                self.counts[entry.group(1)][key] = int(entry.group(3))
            elif line.startswith("gc__start "):
                check(generation is None, "gc__start twice without a gc__done")
                generation = int(line.split()[1])
            elif line.startswith("gc__done "):
                check(generation is not None, "gc__done without a gc__start")
                self.collections.append((generation, int(line.split()[1])))
                generation = None
            else:
                fail(f"unexpected bpftrace output: {line!r}")
        check(generation is None, "a gc__start without its gc__done")

    def __getitem__(self, name):
        return self.counts[name]


def trace_sample(opts, sample):
    """Runs pint on the sample under bpftrace: (Trace, pint's stdout)."""
    env = dict(os.environ, PINT_WAIT_FOR_TRACER="12", PINT_WAIT_SECONDS="60")
    output, stdout = trace_command(script(opts.module, opts.provider), [opts.pint, sample],
                                   env=env, cwd=opts.programs)
    return Trace(output), stdout


def source_line(sample, text):
    """The number of the one line of the sample that contains text."""
    with open(sample) as f:
        found = [n for n, line in enumerate(f, 1) if text in line]
    check(len(found) == 1, f"{sample}: {len(found)} lines contain {text!r}")
    return found[0]


def expect_equal(what, seen, expected):
    seen = {k: v for k, v in seen.items() if v}
    expected = {k: v for k, v in expected.items() if v}
    if seen != expected:
        diff = sorted(set(seen) | set(expected), key=repr)
        rows = "\n".join(f"  {k}: saw {seen.get(k, 0)}, expected {expected.get(k, 0)}"
                         for k in diff if seen.get(k, 0) != expected.get(k, 0))
        fail(f"{what}:\n{rows}")


def expect_calls(trace, calls):
    """Entries equal returns, and both equal the known calls per function."""
    expect_equal("function__entry", trace["entry"], calls)
    expect_equal("function__return", trace["return"], calls)


def expect_instances(trace, made, freed):
    expect_equal("instance__new__start", trace["new_start"], made)
    expect_equal("instance__new__done", trace["new_done"], made)
    expect_equal("instance__delete__start", trace["delete_start"], freed)
    expect_equal("instance__delete__done", trace["delete_done"], freed)


def expect_no_imports(trace):
    expect_equal("import__find__load__start", trace["import_start"], {})
    expect_equal("import__find__load__done", trace["import_done"], {})


# ---- the samples ----

def fib_calls(n):
    """Calls of fib(n) in all, and those that hit `return n` (n < 2)."""
    if n < 2:
        return 1, 1
    a, b = fib_calls(n - 1), fib_calls(n - 2)
    return 1 + a[0] + b[0], a[1] + b[1]


def check_fib(trace, stdout, at):
    f = "fib.pint"
    calls, leaves = fib_calls(15)
    for i in range(10):
        c, l = fib_calls(i)
        calls, leaves = calls + c, leaves + l
    fib, factorial = at("func fib("), at("func factorial(")
    expect_calls(trace, {(f, "<module>", 1): 1, (f, "fib", fib): calls, (f, "factorial", factorial): 10})
    # Every line the sample executes, and how often.
    module_lines = {at('print("fib(15)'): 1, at('print("10!'): 1, at('line = "fib:"'): 1,
                    at("i = 0"): 1, at("while i < 10"): 11, at('line = line + " "'): 10,
                    at("i = i + 1"): 10, at("print(line)"): 1,
                    fib: 1, factorial: 1}  # the func statements define them
    expected = {(f, "<module>", n): c for n, c in module_lines.items()}
    expected.update({(f, "fib", at("if n < 2")): calls, (f, "fib", at("return n\n")): leaves,
                     (f, "fib", at("return fib(n - 1)")): calls - leaves,
                     (f, "factorial", at("if n <= 1")): 10, (f, "factorial", at("return 1\n")): 1,
                     (f, "factorial", at("return n * factorial")): 9})
    expect_equal("line", trace["line"], expected)
    expect_instances(trace, {}, {})
    expect_no_imports(trace)
    check(trace.collections == [], f"collections in fib.pint: {trace.collections}")
    expect_equal("audit", trace["audit"], {("open", f): 1})
    return f"{calls + 11} calls, {sum(expected.values())} lines"


def check_classes(trace, stdout, at):
    f = "classes.pint"
    expect_calls(trace, {(f, "<module>", 1): 1,
                         (f, "Point.init", at("func init(x, y)")): 5,   # p, path.first, 3 added
                         (f, "Point.move", at("func move(")): 3,        # two chained, one bound
                         (f, "Point.show", at("func show(")): 4,
                         (f, "Path.add", at("func add(")): 3})
    expect_instances(trace, {("Point", f): 5, ("Path", f): 1}, {})
    check(trace["line"][(f, "Point.init", at("self.x = x"))] == 5, "line: Point.init's first line")
    check(trace["line"][(f, "<module>", at("while i < 4"))] == 4, "line: the while loop")
    expect_no_imports(trace)
    return "6 instances, 16 calls"


def check_imports(trace, stdout, at):
    f, g = "imports.pint", "geometry.pint"
    expect_equal("import__find__load__start", trace["import_start"], {("geometry",): 1, ("nosuch",): 1})
    expect_equal("import__find__load__done", trace["import_done"], {("geometry", 1): 1, ("nosuch", 0): 1})
    expect_equal("audit", trace["audit"], {("open", f): 1, ("import", "geometry"): 1,
                                           ("import", "nosuch"): 1, ("open", g): 1})
    expect_calls(trace, {(f, "<module>", 1): 1, (g, "<module>", 1): 1,
                         (g, "square", at("func square(", g)): 1,
                         (g, "Rect.init", at("func init(", g)): 1,
                         (g, "Rect.area", at("func area(", g)): 1})
    expect_instances(trace, {("Rect", g): 1}, {})
    check(trace["line"][(g, "square", at("return n * n", g))] == 1, "line: geometry.square's body")
    return "found 1, not found 1"


def check_garbage(trace, stdout, at):
    f = "garbage.pint"
    nodes = 2 * 50 + 2 + 5000 + 1 + 2000
    expect_calls(trace, {(f, "<module>", 1): 1, (f, "Node.init", at("func init(")): nodes,
                         (f, "make_cycle", at("func make_cycle(")): 50, (f, "churn", at("func churn(")): 2})
    # Every node dies before the last gc() returns.
    expect_instances(trace, {("Node", f): nodes}, {("Node", f): nodes})
    check(trace["line"][(f, "churn", at("while i < count"))] == 5001 + 2001, "line: churn's loop")
    check(trace["line"][(f, "churn", at("t = Node(i)"))] == 7000, "line: churn's body")

    # What the program printed: gc()'s results, then gc_collected()'s total.
    returned = [int(n) for n in re.findall(r"collected: (\d+)", stdout)]
    total = int(re.search(r"collected in all: (\d+)", stdout).group(1))
    full = [n for generation, n in trace.collections if generation == 1]
    young = [n for generation, n in trace.collections if generation == 0]
    # gc() makes the full collections (generation 1): the sample makes too few
    # young ones between two gc() calls for an automatic full one.
    check(full == returned, f"full collections freed {full}, gc() returned {returned}")
    check(young, "no automatic young collection")
    check(sum(full) + sum(young) == total,
          f"gc__done freed {sum(full) + sum(young)} in all, gc_collected() says {total}")
    expect_no_imports(trace)
    return (f"{nodes} instances made and freed, {len(young)} young + {len(full)} full collections, "
            f"{total} objects freed")


SAMPLES = {"fib.pint": check_fib, "classes.pint": check_classes,
           "imports.pint": check_imports, "garbage.pint": check_garbage}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pint", required=True)
    parser.add_argument("--module", required=True, help="libpyprobe.so, where the probes are")
    parser.add_argument("--provider", default="python")
    parser.add_argument("--programs", required=True, help="the samples' directory")
    opts = parser.parse_args()

    bpftrace_usable()  # or skip, before starting anything
    for sample, check_sample in SAMPLES.items():
        trace, stdout = trace_sample(opts, sample)

        def at(text, file=sample):
            return source_line(os.path.join(opts.programs, file), text)
        print(f"ok: {sample}: {check_sample(trace, stdout, at)}")


if __name__ == "__main__":
    main()
