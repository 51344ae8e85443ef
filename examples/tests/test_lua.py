#!/usr/bin/env python3
"""Lua 5.4 built with pyprobe's probes (examples/lua): built, listed,
traced, and unchanged in what it does.

    test_lua.py STEP --work DIR [--shared] [--pyprobe PYPROBE]

STEP is one ctest test (label lua):
  build      examples/lua/build into DIR: the probes linked statically
             (--shared: with libpyprobe.so), and the same source without
             the hooks (--plain); the fixture of the others
  probes     `pyprobe -l -v` lists the lua provider's 12 probes in the
             built lua, with probes/python.d's argument types
  programs   each program of examples/lua/programs under bpftrace (every
             probe counted by its arguments) against a control run of the
             same program that counts with Lua's own hooks (debug.sethook,
             see harness.lua): calls and lines per function equal, entries
             equal returns, and what the program says it made (instances,
             imports, audit events, collections and the bytes they freed)
  behaviour  every program's output (stdout, stderr, exit status) from the
             hooked lua, untraced and with all 12 probes traced, equals the
             unpatched lua's byte for byte
--shared makes programs trace the lua linked with libpyprobe.so, whose
probes are in the library.
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import tempfile
import time

from common import bpftrace_usable, check, fail, run, trace_command
from test_pint_bpftrace import Trace, expect_equal, script

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD_SCRIPT = os.path.join(ROOT, "examples", "lua", "build")
PROGRAMS = os.path.join(ROOT, "examples", "lua", "programs")
PROVIDER_FILE = os.path.join(ROOT, "probes", "python.d")
PROVIDER = "lua"
HARNESS = "harness.lua"
# What the harness does or Lua does at exit in a traced run, unlike a
# control run: the harness's own lines, debug.sethook (control only), and
# the finalizers of lua_close (Lua's hooks never run in finalizers).
IGNORED_C_FUNCTIONS = {"sethook", "__gc"}


def lua_of(work, kind):
    lua = os.path.join(work, f"build-{kind}", "src", "lua")
    if not os.access(lua, os.X_OK):
        fail(f"no {kind} Lua build at {lua}: the lua_build test makes it")
    return lua


def module_of(work, lua, shared):
    """Where the probes are: lua itself, or the libpyprobe.so.1 it links."""
    if not shared:
        return lua
    found = glob.glob(os.path.join(work, "prefix", "lib*", "**", "libpyprobe.so.1"), recursive=True)
    check(found, f"no libpyprobe.so.1 under {work}/prefix")
    return os.path.realpath(found[0])


def lua_programs():
    """examples/lua/programs/*.lua that run(main): all but the harness and
    the modules they load."""
    found = []
    for path in sorted(glob.glob(os.path.join(PROGRAMS, "*.lua"))):
        with open(path) as f:
            if re.search(r"^run\(main\)$", f.read(), re.M):
                found.append(os.path.basename(path))
    check(found, f"no program in {PROGRAMS}")
    return found


# ---- build ----

def step_build(opts):
    kinds = ["shared"] if opts.shared else ["static", "plain"]
    for kind in kinds:
        cmd = [BUILD_SCRIPT, "--work", opts.work] + ([f"--{kind}"] if kind != "static" else [])
        print("$ " + " ".join(cmd), flush=True)
        start = time.monotonic()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=1800)
        lines = proc.stdout.strip().splitlines()
        check(proc.returncode == 0, f"examples/lua/build exit {proc.returncode}")
        lua = lua_of(opts.work, kind)
        check(lines and lines[-1] == lua, f"examples/lua/build's last line is {lines[-1:]}, not {lua}")
        version = run([lua, "-v"]).stdout.strip()
        print(f"{kind}: {lua} ({version}) in {time.monotonic() - start:.0f} s")


# ---- probes ----

def signatures(provider_file):
    """{probe name as listed (function-entry): [argument types]} of the .d file."""
    with open(provider_file) as f:
        text = f.read()
    return {name.replace("__", "-"): [t.strip() for t in args.split(",")]
            for name, args in re.findall(r"^\s*probe\s+(\w+)\s*\(([^)]*)\)", text, re.M)}


def step_probes(opts):
    lua = lua_of(opts.work, "static")
    listing = run([opts.pyprobe, "-l", "-v", lua]).stdout
    print(listing.split("\n\n")[0])
    listed, probe = {}, None
    for line in listing.splitlines()[1:]:
        head = re.fullmatch(r"\s*\d+\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)", line)
        arg = re.fullmatch(r"\s*args\[\d+\]: (.+)", line)
        if head:
            check(head.group(1, 2) == (PROVIDER, "lua"), f"a probe of provider {head[1]} in {head[2]}")
            probe = listed.setdefault(head.group(3), [])
        elif arg and probe is not None:
            probe.append(arg.group(1))
    expected = signatures(PROVIDER_FILE)
    expect_equal("probes and argument types (pyprobe -l -v)", listed, expected)
    print(f"ok: pyprobe -l -v lists the {len(listed)} probes of provider {PROVIDER} with their argument types")


# ---- programs ----

def scratch_env(scratch):
    return dict(os.environ, PYPROBE_LUA_SCRATCH=scratch)


def control_run(lua, program, scratch):
    """A control run: {("call"|"line", file, function, line): count}, and
    its exit status (a program may end with an error no one catches)."""
    env = dict(scratch_env(scratch), PYPROBE_LUA_CONTROL="1")
    proc = run([lua, "-l", "harness", program], input="go\n", env=env, cwd=PROGRAMS, check_exit=False)
    counts = {}
    for line in proc.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] in ("call", "line") and len(fields) == 5:
            counts[(fields[0], fields[1], fields[2], int(fields[3]))] = int(fields[4])
    return counts, proc.returncode


def traced_run(lua, module, program, scratch, exit_status):
    """A run under bpftrace, every probe counted: (Trace, the program's stdout)."""
    output, stdout = trace_command(script(module, PROVIDER), [lua, "-l", "harness", program],
                                   env=scratch_env(scratch), cwd=PROGRAMS, go_line=True,
                                   exit_status=exit_status)
    return Trace(output), stdout


def expectations(stdout):
    """What the program printed with expect(): {what: [fields, ...]}."""
    found = collections.defaultdict(list)
    for line in stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == "expect":
            found[fields[1]].append(fields[2:])
    return found


def comparable(key, own):
    """Whether a key (kind, file, function, line) is the program's doing in
    both runs: not the harness's, not an ignored C function, not one of the
    functions the program counts itself (own: {(file, function): calls})."""
    _, file, function, _ = key
    if os.path.basename(file) == HARNESS or (file == "[C]" and function in IGNORED_C_FUNCTIONS):
        return False
    return (file, function) not in own


def check_calls_and_lines(trace, control, program, expected):
    own = {(file, function): int(n) for file, function, n in expected["calls"]}
    traced = {("call",) + key: n for key, n in trace["entry"].items()}
    traced.update({("line",) + key: n for key, n in trace["line"].items()})
    seen = {k: n for k, n in traced.items() if comparable(k, own)}
    want = {k: n for k, n in control.items() if comparable(k, own)}
    if expected["no control"]:  # a control run cannot count it: why, in its words
        print(f"{program}: no control run: {expected['no control'][0][0]}")
    else:
        expect_equal(f"{program}: calls and lines, bpftrace against Lua's hooks", seen, want)
    for (file, function), n in own.items():
        calls = sum(c for (f, name, _), c in trace["entry"].items() if (f, name) == (file, function))
        check(calls == n, f"{program}: {calls} entries of {file}'s {function}, the program counted {n}")
    expect_equal(f"{program}: function__return against function__entry", trace["return"], trace["entry"])
    return sum(n for k, n in seen.items() if k[0] == "call"), sum(n for k, n in seen.items() if k[0] == "line")


def check_made(trace, program, expected):
    """Instances, imports and audit events: exactly what the program says."""
    made = {(cls, file): int(n) for cls, file, n, _ in expected["instances"]}
    freed = {(cls, file): int(n) for cls, file, _, n in expected["instances"]}
    for probe, want in (("new_start", made), ("new_done", made), ("delete_start", freed), ("delete_done", freed)):
        expect_equal(f"{program}: instance__{probe.replace('_', '__')}", dict(trace[probe]), want)
    starts = {(name,): int(n) for name, _, n in expected["imports"]}
    dones = {(name, int(found)): int(n) for name, found, n in expected["imports"]}
    expect_equal(f"{program}: import__find__load__start", dict(trace["import_start"]), starts)
    expect_equal(f"{program}: import__find__load__done", dict(trace["import_done"]), dones)
    audit = collections.Counter()
    for (event, _), n in trace["audit"].items():
        audit[event] += n
    expect_equal(f"{program}: audit events", dict(audit), {event: int(n) for event, n in expected["audit"]})


def check_collections(trace, program, expected):
    """gc__start's generations in order, and gc__done's bytes where the
    program knows them (-1: any)."""
    if not expected["gc"]:
        return 0
    want = [(int(g), int(b)) for g, b in expected["gc"]]
    seen = [(g, b if w >= 0 else -1) for (g, b), (_, w) in zip(trace.collections, want)]
    check(len(trace.collections) == len(want) and seen == want,
          f"{program}: collections (generation, bytes freed):\n  saw      {trace.collections}\n  expected {want}")
    check(all(b >= 0 for _, b in trace.collections), f"{program}: negative bytes freed: {trace.collections}")
    return len(want)


def step_programs(opts):
    lua = lua_of(opts.work, "shared" if opts.shared else "static")
    module = module_of(opts.work, lua, opts.shared)
    for program in lua_programs():
        with tempfile.TemporaryDirectory(prefix="pyprobe-lua-") as scratch:
            control, status = control_run(lua, program, scratch)
            trace, stdout = traced_run(lua, module, program, scratch, status)
        expected = expectations(stdout)
        calls, lines = check_calls_and_lines(trace, control, program, expected)
        check_made(trace, program, expected)
        collections_seen = check_collections(trace, program, expected)
        made = sum(int(n) for _, _, n, _ in expected["instances"])
        print(f"ok: {program}: {calls} calls and {lines} lines"
              + ("" if expected["no control"] else " as Lua's hooks count them") + ", entries = returns"
              + (f", {made} instances made and freed" if made else "")
              + (f", {collections_seen} collections" if collections_seen else "")
              + (f", {len(expected['imports'])} imports" if expected["imports"] else "")
              + (f", {len(expected['audit'])} kinds of audit event" if expected["audit"] else ""))


# ---- behaviour ----

def as_lua(lua, *args):
    """A command that runs lua with argv[0] "lua" (its messages start
    with it, and `arg` holds it: the same memory for every build)."""
    return ["bash", "-c", 'exec -a lua "$0" "$@"', lua, *args]


def outcome(lua, program, scratch):
    """(stdout, stderr, exit status) of a run."""
    proc = subprocess.run(as_lua(lua, "-l", "harness", program), input="go\n", capture_output=True,
                          text=True, env=scratch_env(scratch), cwd=PROGRAMS, timeout=300)
    return proc.stdout, proc.stderr, proc.returncode


def step_behaviour(opts):
    plain, hooked = lua_of(opts.work, "plain"), lua_of(opts.work, "static")
    bpftrace_usable()
    for program in lua_programs():
        with tempfile.TemporaryDirectory(prefix="pyprobe-lua-") as scratch:
            want = outcome(plain, program, scratch)
            untraced = outcome(hooked, program, scratch)
            check(untraced == want, f"{program}: the hooked lua, untraced, differs from the unpatched one:\n"
                                    f"  unpatched {want}\n  hooked    {untraced}")
            traced = "not traced (exits non-zero)"
            if want[2] == 0:
                _, stdout = trace_command(script(hooked, PROVIDER), as_lua(hooked, "-l", "harness", program),
                                          env=scratch_env(scratch), cwd=PROGRAMS, go_line=True)
                check(stdout == want[0], f"{program}: the hooked lua, traced, prints otherwise:\n"
                                         f"  unpatched {want[0]!r}\n  traced    {stdout!r}")
                traced = "traced alike"
        print(f"ok: {program}: {len(want[0])} bytes out, {len(want[1])} bytes err, exit {want[2]}: "
              f"as the unpatched lua; {traced}")


STEPS = {"build": step_build, "probes": step_probes, "programs": step_programs, "behaviour": step_behaviour}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--work", required=True, help="examples/lua/build's --work directory")
    parser.add_argument("--shared", action="store_true", help="the lua linked with libpyprobe.so")
    parser.add_argument("--pyprobe", help="the pyprobe command, for the probes step")
    opts = parser.parse_args()
    opts.work = os.path.abspath(opts.work)
    if opts.step == "programs":
        bpftrace_usable()
    STEPS[opts.step](opts)


if __name__ == "__main__":
    main()
