#!/usr/bin/env python3
"""The scripts of examples/scripts on Lua (examples/lua), as they are.

    test_scripts_lua.py --script NAME --work DIR

runs examples/scripts/NAME.bt as a user would on the Lua that
examples/lua/build made in DIR (`bpftrace NAME.bt LUA lua -p PID`: the
module is the lua executable, which links libpyprobe statically, and the
provider is lua), on a program of examples/lua/programs, and checks what
it printed against a control run of the same program that counts with
Lua's own hooks (examples/lua/programs/harness.lua), or against what the
program says it made: calls, lines and names exactly, times present and
positive, exclusive times within inclusive ones and adding up, nothing
left out. The program waits for a line on its stdin, which it gets once
the script's BEGIN has run (every probe attached).
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import tempfile
import time

from common import bpftrace_usable, check, interrupt
from test_lua import HARNESS, PROGRAMS, comparable, control_run, expectations, lua_of, scratch_env
from test_scripts import CHECKS as SCRIPT_CHECKS
from test_scripts import (Run, expect_equal, expect_hottest_lines, flow_rows, histogram_total, parse_hists,
                          parse_maps, positive)

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(HERE), "scripts")
PROVIDER = "lua"
CALLS = "tour.lua"  # the program the call and line scripts trace


class LuaRun(Run):
    """Run, for a Lua program under harness.lua: it waits for a line on
    its stdin instead of a file. A C function's line is -1 in Lua's debug
    information (flow.bt prints [C]:-1)."""

    allowed_negative = re.compile(r"\[C\]:-1\b")

    def _start(self, command, wait=True):
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ, **self.env), cwd=self.cwd)

    def _go(self, child, flag):
        child.stdin.write("go\n")
        child.stdin.close()
        child.stdin = None  # so that communicate() leaves it alone


def traced(opts, name, program, scratch, lua=None):
    """(what NAME.bt printed, the program's stdout) for one run of it."""
    lua = lua or opts.lua
    run = LuaRun(os.path.join(SCRIPTS, name + ".bt"), lua, PROVIDER, cwd=PROGRAMS, env=scratch_env(scratch))
    out, (stdout,) = run.pid([lua, "-l", "harness", program])
    return out, stdout


def control(opts, program, scratch):
    """{(file, function): calls} and {(file, line, function): runs} of a
    control run, the program's own doing only (test_lua.comparable)."""
    counts, _ = control_run(opts.lua, program, scratch)
    calls, lines = collections.Counter(), {}
    for (kind, file, function, line), n in counts.items():
        if not comparable((kind, file, function, line), {}):
            continue
        if kind == "call":
            calls[(file, function)] += n
        else:
            lines[(file, str(line), function)] = n
    return dict(calls), lines


def own(calls):
    """The (file, function) keys a script printed that are the program's
    doing: not harness.lua's, not lua_close's finalizers (test_lua's rule)."""
    return {k: n for k, n in calls.items() if comparable(("call", k[0], k[1], 0), {})}


def wait_for_file_line(path, proc, timeout=60):
    """Until bpftrace wrote its BEGIN's line to path (-o)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and "\n" in open(path).read():
            return
        if proc.poll() is not None:
            check(False, f"bpftrace exit {proc.returncode}: {proc.stderr.read()}")
        time.sleep(0.05)
    check(False, f"bpftrace attached nothing in {timeout} s")


def expect_none_left_out(maps):
    check(not maps.get("untraced"), f"left out, their start not traced: {maps.get('untraced')}")


# ---- the checks, one per script ----

def check_calls(opts, scratch):
    out, _ = traced(opts, "calls", CALLS, scratch)
    calls, _ = control(opts, CALLS, scratch)
    expect_equal("calls", own(parse_maps(out)["calls"]), calls)
    return f"{len(calls)} functions, {sum(calls.values())} calls, as Lua's hooks count them"


def check_top10(opts, scratch):
    out, _ = traced(opts, "top10", CALLS, scratch)
    calls, _ = control(opts, CALLS, scratch)
    ranked = sorted(calls.items(), key=lambda kv: -kv[1])
    # lua_close's finalizers (4 calls) and harness.lua run too: below the 10th
    check(ranked[9][1] > max(ranked[10][1], 4), f"{CALLS}: a tie at the 10th place")
    expect_equal("top 10", parse_maps(out)["calls"], dict(ranked[:10]))
    return f"top 10 of {len(ranked)}: {ranked[0][0][1]} {ranked[0][1]} ... {ranked[9][0][1]} {ranked[9][1]}"


def check_entry_return(opts, scratch):
    out, _ = traced(opts, "entry_return", "classes.lua", scratch)
    calls, _ = control(opts, "classes.lua", scratch)
    by_name = collections.Counter()
    for (_, function), n in calls.items():
        by_name[function] += n
    seen = collections.Counter(line for line in out.splitlines() if line.startswith(("->", "<-")))
    expected = {f"{arrow} {function}": n for function, n in by_name.items() for arrow in ("->", "<-")}
    # lua_close's finalizers (__gc, C) and harness.lua's own close run after main()
    seen = {k: n for k, n in seen.items() if k in expected}
    expect_equal("entries and returns by name", seen, expected)
    return f"{sum(seen.values())} events, every entry with its return"


def check_flow(opts, scratch):
    """imports.lua's flow, in order: each return at its entry's depth, the
    calls nested as a stack, the module's main chunk inside require."""
    out, _ = traced(opts, "flow", "imports.lua", scratch)
    calls, _ = control(opts, "imports.lua", scratch)
    rows = flow_rows(out)
    times = [r[0] for r in rows]
    stack, module_in_require = [], False
    for _, _, depth, arrow, func, where in rows:
        if arrow == "->":
            check(depth == len(stack), f"flow: -> {func} at depth {depth}, {len(stack)} calls open")
            module_in_require |= (func, where) == ("?", "geometry.lua:0") and \
                ("require", "[C]:-1") in stack
            stack.append((func, where))
        else:
            check(stack and stack[-1] == (func, where) and depth == len(stack) - 1,
                  f"flow: <- {func} {where} at depth {depth}, open: {stack}")
            stack.pop()
    check(not stack, f"flow: calls never returned: {stack}")
    check(module_in_require, "flow: geometry.lua's main chunk does not run inside require")
    # flow.bt names a file by its base name
    entered = collections.Counter((where.rsplit(":", 1)[0], func) for _, _, _, arrow, func, where in rows
                                  if arrow == "->")
    expected = collections.Counter()
    for (file, function), n in calls.items():
        expected[(os.path.basename(file), function)] += n
    expect_equal("flow: entries", own(entered), dict(expected))
    return f"{len(rows)} events nested in order, {times[-1] - times[0]} ns"


def roots(program):
    """The calls a traced run of a program under harness.lua makes at the
    top: main(), harness.lua's __close (the report, named "close" by Lua),
    lua_close's finalizers."""
    return {(program, "main"), ("./" + HARNESS, "close"), ("[C]", "__gc")}


def check_calltime(opts, scratch, name="calltime"):
    out, _ = traced(opts, name, CALLS, scratch)
    calls, _ = control(opts, CALLS, scratch)
    maps = parse_maps(out)
    expect_equal("calls", own(maps["calls"]), calls)
    expect_none_left_out(maps)
    inclusive, exclusive = maps["inclusive_ns"], maps["exclusive_ns"]
    check(set(inclusive) == set(maps["calls"]) == set(exclusive), "times: not every function")
    positive("inclusive", inclusive)
    positive("exclusive", exclusive)
    bigger = {k: (exclusive[k], inclusive[k]) for k in inclusive if exclusive[k] > inclusive[k]}
    check(not bigger, f"exclusive > inclusive: {bigger}")
    top = sum(inclusive.get(k, 0) for k in roots(CALLS))
    check(sum(exclusive.values()) == top,
          f"exclusive times sum to {sum(exclusive.values())}, the calls at the top took {top}")
    return f"{len(inclusive)} functions, {top} ns in all"


def check_cputime(opts, scratch):
    return check_calltime(opts, scratch, "cputime") + " on CPU"


def check_calldist(opts, scratch):
    out, _ = traced(opts, "calldist", CALLS, scratch)
    calls, _ = control(opts, CALLS, scratch)
    hists = parse_hists(out)["ns"]
    totals = {k: histogram_total(f"{k}", buckets) for k, buckets in hists.items()}
    expect_equal("calls in the histograms", own(totals), calls)
    expect_none_left_out(parse_maps(out))
    return f"{len(totals)} histograms, {sum(totals.values())} calls"


def check_who(opts, scratch):
    """Two Lua processes at once, traced without -p, so from their start:
    a copy of lua of our own, so that no other test's Lua comes in. What
    each process called, from its start, is counted by a second bpftrace of
    ours, also system-wide, attached before who.bt; and at least what main()
    calls, as Lua's hooks count it."""
    lua = os.path.join(scratch, "lua")
    shutil.copy(opts.lua, lua)
    out = os.path.join(scratch, "counted")
    with open(out, "w") as counted:  # stdout, not -o: bpftrace flushes it at once
        counter = subprocess.Popen([bpftrace_usable(), "-q", "-e", 'BEGIN { printf("ready\\n"); } '
                                    f'usdt:{lua}:{PROVIDER}:function__entry {{ @calls[pid] = count(); }}'],
                                   stdout=counted, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file_line(out, counter)
        run = LuaRun(os.path.join(SCRIPTS, "who.bt"), lua, PROVIDER, cwd=PROGRAMS, env=scratch_env(scratch))
        printed, _, pids = run.system_wide([[lua, "-l", "harness", CALLS], [lua, "-l", "harness", "classes.lua"]])
        _, err = interrupt(counter)
        check(counter.returncode == 0, f"bpftrace exit {counter.returncode}: {err}")
    finally:
        if counter.poll() is None:
            counter.kill()
            counter.wait()
    with open(out) as f:
        counted = {key[0]: n for key, n in parse_maps(f.read())["calls"].items()}
    seen = {k: v for k, v in parse_maps(printed)["calls"].items() if k[0] in map(str, pids)}
    expect_equal("calls by process", seen, {(str(pid), str(os.getuid()), "lua"): counted.get(str(pid))
                                            for pid in pids})
    for pid, program in zip(pids, (CALLS, "classes.lua")):
        counts, _ = control_run(lua, program, scratch)
        in_main = sum(n for (kind, file, function, _), n in counts.items() if kind == "call"
                      and (file, function) != ("[C]", "sethook"))
        check(counted[str(pid)] > in_main, f"{program}: {counted[str(pid)]} calls, main() alone makes {in_main}")
    return "two processes at once: " + " and ".join(f"{counted[str(p)]} calls" for p in pids)


def collections_of(stdout):
    """garbage.lua's collections: [(generation, bytes or -1)]."""
    return [(g, int(b)) for g, b in expectations(stdout)["gc"]]


def check_gc(opts, scratch):
    out, stdout = traced(opts, "gc", "garbage.lua", scratch)
    maps = parse_maps(out)
    made = collections_of(stdout)
    expect_equal("collections", maps["collections"], dict(collections.Counter((g,) for g, _ in made)))
    known = collections.Counter()
    for g, b in made:
        known[(g,)] += max(b, 0)
    short = {k: (maps["collected"].get(k), n) for k, n in known.items() if maps["collected"].get(k, 0) < n}
    check(not short and all(v > 0 for v in maps["collected"].values()),
          f"bytes collected below what the program knows it freed: {short} ({maps['collected']})")
    return ", ".join(f"{n} of generation {g[0]}" for g, n in sorted(maps["collections"].items())) + \
        f"; {sum(maps['collected'].values())} bytes"


def check_gcpause(opts, scratch):
    out, stdout = traced(opts, "gcpause", "garbage.lua", scratch)
    hists = parse_hists(out)["pause_ns"]
    totals = {k: histogram_total(f"generation {k}", b) for k, b in hists.items()}
    expect_none_left_out(parse_maps(out))
    expect_equal("pauses", totals, dict(collections.Counter((g,) for g, _ in collections_of(stdout))))
    return ", ".join(f"{n} pauses of generation {g[0]}" for g, n in sorted(totals.items()))


def check_instances(opts, scratch):
    out, stdout = traced(opts, "instances", "classes.lua", scratch)
    maps = parse_maps(out)
    made = {(cls, file): int(n) for cls, file, n, _ in expectations(stdout)["instances"]}
    freed = {(cls, file): int(n) for cls, file, _, n in expectations(stdout)["instances"]}
    expect_equal("created", maps["created"], made)
    expect_equal("deleted", maps["deleted"], freed)
    expect_equal("live", maps["live"], {k: made[k] - freed[k] for k in made})
    return ", ".join(f"{n} {cls} made and freed" for (cls, _), n in made.items())


def check_lines(opts, scratch):
    out, _ = traced(opts, "lines", CALLS, scratch)
    _, lines = control(opts, CALLS, scratch)
    return expect_hottest_lines(parse_maps(out)["lines"], lines)


def check_imports(opts, scratch):
    out, _ = traced(opts, "imports", "imports.lua", scratch)
    live, _, end = out.partition("\n\n")
    expect_none_left_out(parse_maps(end))
    lines = [line.split() for line in live.splitlines() if line.strip()]
    check(lines[0] == ["RESULT", "TIME(ns)", "MODULE"], f"imports: header {lines[0]}")
    rows = [(" ".join(f[:-2]), f[-1]) for f in lines[1:]]
    times = [int(f[-2]) for f in lines[1:]]
    check(rows == [("loaded", "geometry"), ("not found", "nosuch"), ("not found", "broken")],
          f"imports: {lines[1:]}")
    check(all(t > 0 for t in times), f"imports: times {times}")
    return f"geometry loaded in {times[0]} ns, nosuch not found, broken's loading failed"


def check_audit(opts, scratch):
    out, stdout = traced(opts, "audit", "audit.lua", scratch)
    expect_equal("audit events", parse_maps(out)["events"],
                 {(event,): int(n) for event, n in expectations(stdout)["audit"]})
    return ", ".join(f"{event} {n}" for event, n in expectations(stdout)["audit"])


# One check per script, as test_scripts.py has for pint.
CHECKS = {name: globals()["check_" + name] for name in SCRIPT_CHECKS}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", required=True, choices=sorted(CHECKS))
    parser.add_argument("--work", required=True, help="examples/lua/build's --work directory")
    opts = parser.parse_args()
    bpftrace_usable()  # or skip, before starting anything
    opts.lua = lua_of(os.path.abspath(opts.work), "static")
    with tempfile.TemporaryDirectory(prefix="pyprobe-lua-scripts-") as scratch:
        print(f"ok: {opts.script}.bt on Lua: {CHECKS[opts.script](opts, scratch)}")


if __name__ == "__main__":
    main()
