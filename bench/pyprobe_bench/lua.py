"""Part 7, Lua 5.4 built with pyprobe (examples/lua): one source built four
ways by examples/lua/build (unpatched, the hooks with every probe compiled
out, the hooks with libpyprobe.so, with libpyprobe.a); the cost while
nobody traces (instructions, time) on call-, loop- and allocation-heavy
programs, and the cost per hit of function__entry while bpftrace counts."""
import os
import sys

from . import PROGRAMS, ROOT
from .hits import Loop, bpftrace_path, sample
from .idle import emit_idle
from .measure import measure
from .shell import Failure, read_text, run_logged, say

BUILD = os.path.join(ROOT, "examples", "lua", "build")
# examples/lua/build's variant: (its flag, the name in the tables)
VARIANTS = {"plain": ("--plain", "unpatched"), "disabled": ("--disabled", "hooks, probes compiled out"),
            "shared": ("--shared", "hooks, libpyprobe.so"), "static": (None, "hooks, libpyprobe.a")}
# Lua's string hash seed comes from the time (and addresses): it changes
# the hash tables' collisions, and instruction counts by 0.4 % from run to
# run. A fixed one, for every build (not for --quick: those are the tests'
# builds, which it takes as they are).
SEED_CFLAGS = "-D'luai_makeseed(L)=0x2c4f8e68u'"  # make's shell reads it
WORKLOADS = {"calls": ("calls (recursion)", 25, 12), "loop": ("loop (simple statements)", 1000000, 20000),
             "alloc": ("allocation (instances, gc)", 100000, 2000)}


def build(opts, kind):
    """examples/lua/build's lua of one variant, in opts.lua_work."""
    flag = VARIANTS[kind][0]
    log = os.path.join(opts.out, "logs", f"lua-{kind}.log")
    say(f"Lua ({kind}) in {opts.lua_work} (examples/lua/build)")
    cflags = [] if opts.quick else [f"--cflags={SEED_CFLAGS}"]
    run_logged([sys.executable, BUILD, "--work", opts.lua_work, "-j", str(opts.jobs), *cflags,
                *([flag] if flag else [])], log)
    return read_text(log).strip().splitlines()[-1]  # the script's last line


def build_all(opts):
    """{variant: lua}, or a Failure."""
    return {kind: build(opts, kind) for kind in VARIANTS}


def library(opts):
    """The libpyprobe.so.1 that the shared variant links (examples/lua/build
    installs it into WORK/prefix)."""
    for dirpath, _, files in os.walk(os.path.join(opts.lua_work, "prefix")):
        if "libpyprobe.so.1" in files:
            return os.path.realpath(os.path.join(dirpath, "libpyprobe.so.1"))
    raise Failure(f"no libpyprobe.so.1 under {opts.lua_work}/prefix")


def idle(luas, opts, scratch, report, runs):
    base = VARIANTS["plain"][1]
    variants = [(VARIANTS[kind][1], [luas[kind]]) for kind in VARIANTS]
    workloads = [(name, [os.path.join(PROGRAMS, f"{name}.lua"), str(quick if opts.quick else size)])
                 for name, (_, size, quick) in WORKLOADS.items()]
    results = measure(variants, workloads, runs, scratch)
    seed = "" if opts.quick else f", {SEED_CFLAGS}"
    emit_idle(report, f"Lua 5.4.4 from Debian's lua5.4 source (examples/lua/build; upstream's Makefile, -O2{seed}, "
                      f"the same flags for the four builds; bench/programs/*.lua); instructions: callgrind, one "
                      f"run; time: median of {runs} runs",
              "Lua", results, workloads, {name: label for name, (label, _, _) in WORKLOADS.items()},
              [v for v, _ in variants], base, [] if opts.quick else [VARIANTS[k][1] for k in ("shared", "static")])


def hits(luas, opts, scratch, report):
    try:
        bpftrace_path()
    except Failure as e:
        report.emit(f"Cost per hit: skipped: {e}")
        report.emit()
        return
    iterations, rounds, repeats = (2000, 3, 1) if opts.quick else (100000, 9, 3)
    program = os.path.join(PROGRAMS, "lua_hits.lua")
    loops = {kind: Loop(f"Lua, function__entry, {VARIANTS[kind][1]}", "5-byte nop",
                        [luas[kind], program, str(iterations), str(rounds)],
                        f"usdt:{luas[kind] if kind == 'static' else library(opts)}:lua:function__entry", None)
             for kind in ("static", "shared")}
    results, problems = sample(loops, repeats, scratch)
    rows = [[loop.name, f"{r['idle']:.1f}", f"{r['traced']:.1f}", f"{r['hit']:.0f}",
             f"{1e9 / r['hit'] / 1e6:.2f}M", "yes" if r["trampoline"] else "no", "yes" if r["counted"] else "no"]
            for loop, r in ((loops[k], results[k]) for k in loops)]
    report.emit(f"Cost per hit: bpftrace `@hits = count()` on function__entry, attached by pid; {repeats} runs of "
                f"{rounds} rounds of {iterations:,} calls of an empty Lua function (bench/programs/lua_hits.lua, "
                "timed with os.clock); median round; ns/hit = traced - untraced ns/call. A hit also pays for its "
                "arguments (Lua's debug information: the chunk, the function's name) and takes Lua's hook path "
                "for the return; part 2 has the same measure for pint's fire path (fire_loop) and CPython.")
    report.emit()
    report.table(["program, probe", "untraced ns/call", "traced ns/call", "ns/hit", "hits/s", "trampoline",
                  "all counted"], rows, ["l", "r", "r", "r", "r", "l", "l"])
    for problem in problems:
        report.emit(f"WARNING: {problem}")
    if problems:
        report.emit()


def run(builds, opts, scratch, report):
    report.emit("## 7. Lua 5.4 built with pyprobe")
    report.emit()
    try:
        luas = build_all(opts)
    except Failure as e:
        report.emit(f"Lua: not built: {str(e).splitlines()[0]}")
        report.emit()
        return
    idle(luas, opts, scratch, report, 3 if opts.quick else 21)
    hits(luas, opts, scratch, report)
