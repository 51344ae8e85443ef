#!/usr/bin/env python3
"""The bpftrace scripts of examples/scripts, each run on pint and a sample.

    test_scripts.py --script NAME --pint PINT --module LIBPYPROBE
                    --programs DIR --scripts DIR [--provider P]
                    [--condition quiet|long-path|busy]

runs examples/scripts/NAME.bt as a user would (`bpftrace NAME.bt MODULE -p
PID`, or without -p for who.bt, with the BPFTRACE_STRLEN its first line
sets) on pint running a sample of examples/programs, and checks what it
printed against what the sample does: names and counts exactly, times
present and positive, exclusive times within inclusive ones, no number at
2^63 or above (a negative one wrapped) and no call left out.

The condition: `quiet`, the samples where they are, by relative names;
`late` (calltime, cputime, calldist), tests/late.pint, attached to while it
is inside calls it began untraced, whose returns must be left out;
`long-path`, copies of them in a directory whose path makes the longest
file name as long as the scripts that pair two names keep whole (159 bytes;
every file name over 150), run by absolute names, which the scripts must
print whole; `busy`, while one CPU-bound loop per CPU (at least two) keeps
every core busy, bounded in time and always killed.

pint starts first and waits (PINT_WAIT_FOR_TRACER) until the script's
probes are enabled and PYPROBE_READY_FILE exists; the test creates that
file once the script has printed the first line of its BEGIN, which
bpftrace runs after every probe is attached. So the script runs unchanged,
given the module and the provider (the build's -DPYPROBE_PROVIDER) as its
arguments.

The other test_scripts_*.py use this file's helpers.
"""
import argparse
import collections
import contextlib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
from common import bpftrace_usable, check, fail, interrupt

# The longest name the scripts that pair two names keep whole: their
# BPFTRACE_STRLEN (160) less the terminating NUL. The long-path workload's
# longest file name has exactly this length.
PAIR_NAME_MAX = 159
LONG_PATH_MIN = 151  # every file name of the long-path workload is longer than 150
from test_pint_bpftrace import fib_calls


# ---- running a script ----

def probes_of(text):
    """The probes a script attaches to: usdt:$1:$2:NAME (its module and
    provider are its arguments)."""
    return sorted(set(re.findall(r"usdt:\$1:\$2:(\w+)", text)))


def strlen_of(text):
    """The BPFTRACE_STRLEN a script's first line sets (`#!/usr/bin/env -S
    BPFTRACE_STRLEN=N bpftrace`), or None for a script that reads no
    strings."""
    m = re.fullmatch(r"#!/usr/bin/env -S BPFTRACE_STRLEN=(\d+) bpftrace", text.splitlines()[0])
    return int(m.group(1)) if m else None


def tracer_env(text):
    """The environment to run a script in, as its first line would."""
    env = dict(os.environ)
    env.pop("BPFTRACE_STRLEN", None)
    if strlen_of(text):
        env["BPFTRACE_STRLEN"] = str(strlen_of(text))
    return env


def wait_for_begin(out, bpftrace, timeout=60):
    """Waits until bpftrace wrote a whole first line (its BEGIN ran, so
    every probe is attached); fails if bpftrace ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(out):
            with open(out) as f:
                if "\n" in f.read():
                    return
        if bpftrace.poll() is not None:
            fail(f"bpftrace exit {bpftrace.returncode} before its BEGIN:\n{bpftrace.stderr.read()}")
        time.sleep(0.05)
    fail(f"bpftrace printed nothing in {timeout}s")


def finish(proc, what, timeout):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        fail(f"{what} timed out after {timeout}s\n{err}")
    if proc.returncode != 0:
        fail(f"{what} exit {proc.returncode}\n{err}")
    return out


def wait_for_cpu(pid, seconds, timeout=60):
    """Waits until process pid has run `seconds` of CPU time, user and
    system (/proc/PID/stat, in clock ticks); fails if it ends first."""
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            fail(f"process {pid} ended before it ran {seconds} s of CPU")
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:  # utime, stime
            return
        time.sleep(0.01)
    fail(f"process {pid} did not run {seconds} s of CPU in {timeout} s")


class Run:
    """Runs one script. `run.pid(command)` attaches to one command with -p
    and returns (what bpftrace printed, [the command's stdout]);
    `run.late(command, flag)` does the same, but attaches once the command
    has been running a while, then creates the file `flag` for it;
    `run.system_wide(commands)` traces without -p while the commands run,
    ends bpftrace with Ctrl-C (SIGINT) and returns (what bpftrace printed,
    [each command's stdout], [their pids])."""

    def __init__(self, script, module, provider="python", cwd=None, env=None, timeout=120):
        self.bpftrace = bpftrace_usable()
        self.module, self.provider, self.cwd, self.env, self.timeout = module, provider, cwd, env or {}, timeout
        self.tmp = tempfile.TemporaryDirectory(prefix="pyprobe-scripts-")
        self.script = script
        with open(script) as f:
            text = f.read()
        self.nprobes = len(probes_of(text))
        self.tracer_env = tracer_env(text)
        self.out = os.path.join(self.tmp.name, "out")
        self.ready = os.path.join(self.tmp.name, "ready")

    def _start(self, command, wait=True):
        env = dict(os.environ, PINT_WAIT_FOR_TRACER=str(self.nprobes), PINT_WAIT_SECONDS="60",
                   PYPROBE_READY_FILE=self.ready, **self.env)
        if not wait:
            env.pop("PINT_WAIT_FOR_TRACER")
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=self.cwd)

    def _bpftrace(self, extra):
        # Its stdout goes to a file: bpftrace flushes stdout after each
        # event, but not a -o file (BEGIN's line would stay in a buffer).
        with open(self.out, "w") as out:
            return subprocess.Popen([self.bpftrace, "-q", self.script, self.module, self.provider] + extra,
                                    stdout=out, stderr=subprocess.PIPE, text=True, env=self.tracer_env)

    # What may print a number below 0 (None: nothing).
    allowed_negative = None

    def _output(self):
        with open(self.out) as f:
            text = f.read()
        check(not re.search(r"^Lost \d+ events", text, re.M), f"bpftrace lost events:\n{text}")
        numbers_in_range(text if self.allowed_negative is None else self.allowed_negative.sub("", text))
        return text

    def pid(self, command):
        return self._attach(self._start(command), command, self.ready)

    def late(self, command, flag):
        child = self._start(command, wait=False)
        wait_for_cpu(child.pid, 0.2)  # well into the calls it makes before `flag`
        return self._attach(child, command, flag)

    def _go(self, child, release):
        """Lets child run once the script is attached: creates the file
        `release` that it waits for."""
        open(release, "w").close()

    def _attach(self, child, command, release):
        """Attaches to child, then lets it run (_go)."""
        try:
            tracer = self._bpftrace(["-p", str(child.pid)])
            try:
                wait_for_begin(self.out, tracer)
                self._go(child, release)
                stdout = finish(child, " ".join(command), self.timeout)
                finish(tracer, "bpftrace", self.timeout)
            finally:
                if tracer.poll() is None:
                    tracer.kill()
                    tracer.wait()
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        return self._output(), [stdout]

    def system_wide(self, commands):
        tracer = self._bpftrace([])
        children = []
        try:
            wait_for_begin(self.out, tracer)
            open(self.ready, "w").close()
            children = [self._start(c) for c in commands]
            for child in children:
                self._go(child, self.ready)
            outputs = [finish(p, " ".join(c), self.timeout) for p, c in zip(children, commands)]
            _, err = interrupt(tracer, self.timeout)  # Ctrl-C: END prints the maps
            check(tracer.returncode == 0, f"bpftrace exit {tracer.returncode}\n{err}")
        finally:
            for p in children + [tracer]:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        return self._output(), outputs, [p.pid for p in children]


# ---- reading what bpftrace printed ----

# A number on its own (not a part of a name): counts, times, line numbers.
NUMBER_RE = re.compile(r"(?<![\w/.-])-?\d+(?![\w/.])")


def numbers_in_range(text):
    """Every number the script printed is in [0, 2^63): a time below 0, or
    one that wrapped around 2^64, is a bug whichever way it is printed."""
    bad = [n for n in NUMBER_RE.findall(text) if not 0 <= int(n) < 2 ** 63]
    check(not bad, f"numbers out of [0, 2^63): {bad[:5]}\n{text}")

MAP_RE = re.compile(r"@(\w+)(?:\[(.*)\])?: (-?\d+)$")
HIST_HEAD_RE = re.compile(r"@(\w+)(?:\[(.*)\])?: $")
BUCKET_RE = re.compile(r"(\[[^\]]*[\])]|\([^)]*\))\s+(\d+) \|[@ ]*\|$")


def key_of(text):
    return tuple(text.split(", ")) if text is not None else ()


def parse_maps(text):
    """{map name: {key tuple (fields as strings): integer value}}."""
    maps = collections.defaultdict(dict)
    for line in text.splitlines():
        m = MAP_RE.match(line)
        if m:
            key = key_of(m.group(2))
            check(key not in maps[m.group(1)], f"@{m.group(1)}{list(key)} printed twice")
            maps[m.group(1)][key] = int(m.group(3))
    return maps


def parse_hists(text):
    """{map name: {key tuple: [(bucket label, count), ...]}}."""
    hists = collections.defaultdict(dict)
    current = None
    for line in text.splitlines():
        head = HIST_HEAD_RE.match(line)
        bucket = BUCKET_RE.match(line)
        if head:
            current = hists[head.group(1)].setdefault(key_of(head.group(2)), [])
        elif bucket and current is not None:
            current.append((bucket.group(1), int(bucket.group(2))))
        else:
            current = None
    return hists


def expect_equal(what, seen, expected):
    if seen != expected:
        keys = sorted(set(seen) | set(expected), key=repr)
        rows = "\n".join(f"  {k}: saw {seen.get(k)}, expected {expected.get(k)}"
                         for k in keys if seen.get(k) != expected.get(k))
        fail(f"{what}:\n{rows}")


def positive(what, values):
    bad = {k: v for k, v in values.items() if not v > 0}
    check(values and not bad, f"{what}: times not positive: {bad or 'none printed'}")


def histogram_total(what, buckets):
    """The number of values in a histogram whose buckets are all > 0."""
    for label, count in buckets:
        check(count == 0 or not (label.startswith("(") or label == "[0]"),
              f"{what}: {count} values in bucket {label}")
    return sum(count for _, count in buckets)


# ---- what the samples do ----

TOUR, GEOMETRY = "tour.pint", "geometry.pint"


def prime_trials(n):
    """How often is_prime(n) calls divides(d, n), and whether its while
    loop ends on its condition (not on a divisor)."""
    if n < 2:
        return 0, False
    trials, d = 0, 2
    while d * d <= n:
        trials += 1
        if n % d == 0:
            return trials, False
        d += 1
    return trials, True


PARTICLES, KEEP_EVERY, PRIMES_BELOW, FIB_N, ROOMS = 3000, 10, 200, 12, 8


def tour_calls(w):
    """{(file, function): calls} of tour.pint, files named as in workload w."""
    TOUR, GEOMETRY = w.name("tour.pint"), w.name("geometry.pint")
    return {(TOUR, "<module>"): 1, (GEOMETRY, "<module>"): 1,
            (TOUR, "fib"): fib_calls(FIB_N)[0],
            (TOUR, "count_primes"): 1, (TOUR, "is_prime"): PRIMES_BELOW,
            (TOUR, "divides"): sum(prime_trials(n)[0] for n in range(PRIMES_BELOW)),
            (TOUR, "Swarm.init"): 1, (TOUR, "simulate"): 1,
            (TOUR, "Particle.init"): PARTICLES, (TOUR, "Particle.step"): 2 * PARTICLES,
            (TOUR, "Swarm.keep"): PARTICLES // KEEP_EVERY,
            (TOUR, "total_energy"): 1, (TOUR, "Particle.energy"): PARTICLES // KEEP_EVERY,
            (TOUR, "floor_area"): 1, (GEOMETRY, "Rect.init"): ROOMS, (GEOMETRY, "Rect.area"): ROOMS,
            (GEOMETRY, "square"): 1, (TOUR, "report"): 7}


class Source:
    """Line numbers of a sample's lines, by their text, within a function."""

    def __init__(self, path):
        with open(path) as f:
            self.lines = f.read().splitlines()

    def at(self, text, within=None, nth=0):
        start = 0
        if within:
            start = next(i for i, line in enumerate(self.lines) if line.strip().startswith(within))
        found = [n for n, line in enumerate(self.lines[start:], start + 1) if line.strip() == text]
        check(len(found) > nth, f"no line {text!r} after {within!r}")
        return found[nth]


def tour_hot_lines(w):
    """{(file, line, function): times run} for every line of tour.pint run
    at least 200 times."""
    src = Source(os.path.join(w.dir, TOUR))
    at = src.at
    particles, kept = PARTICLES, PARTICLES // KEEP_EVERY
    trials = [prime_trials(n) for n in range(PRIMES_BELOW)]
    divides = sum(t for t, _ in trials)
    composites = sum(1 for n in range(2, PRIMES_BELOW) if not trials[n][1])
    loop_ends = sum(1 for n in range(2, PRIMES_BELOW) if trials[n][1])
    leaves = fib_calls(FIB_N)[1]
    lines = {
        ("Particle.init", at("self.x = x", "class Particle")): particles,
        ("Particle.init", at("self.speed = speed", "class Particle")): particles,
        ("Particle.init", at("self.next = nil", "class Particle")): particles,
        ("Particle.step", at("self.x = self.x + self.speed")): 2 * particles,
        ("Particle.energy", at("return self.speed * self.speed")): kept,
        ("Swarm.keep", at("particle.next = self.first")): kept,
        ("Swarm.keep", at("self.first = particle")): kept,
        ("Swarm.keep", at("self.count = self.count + 1")): kept,
        ("fib", at("if n < 2", "func fib(")): fib_calls(FIB_N)[0],
        ("fib", at("return n", "func fib(")): leaves,
        ("fib", at("return fib(n - 1) + fib(n - 2)")): fib_calls(FIB_N)[0] - leaves,
        ("divides", at("return n % d == 0")): divides,
        ("is_prime", at("if n < 2", "func is_prime(")): PRIMES_BELOW,
        ("is_prime", at("d = 2")): PRIMES_BELOW - 2,
        ("is_prime", at("while d * d <= n")): divides + loop_ends,
        ("is_prime", at("if divides(d, n)")): divides,
        ("is_prime", at("d = d + 1")): divides - composites,
        ("count_primes", at("while n < limit")): PRIMES_BELOW + 1,
        ("count_primes", at("found = found + is_prime(n)")): PRIMES_BELOW,
        ("count_primes", at("n = n + 1")): PRIMES_BELOW,
        ("simulate", at("while i < count")): particles + 1,
        ("simulate", at("p = Particle(i, i % 7)")): particles,
        ("simulate", at("p.step()", "func simulate(", 0)): particles,
        ("simulate", at("p.step()", "func simulate(", 1)): particles,
        ("simulate", at("if i % 10 == 0")): particles,
        ("simulate", at("swarm.keep(p)")): kept,
        ("simulate", at("i = i + 1", "func simulate(")): particles,
        ("total_energy", at("while p != nil")): kept + 1,
        ("total_energy", at("total = total + p.energy()")): kept,
        ("total_energy", at("p = p.next")): kept,
    }
    check(trials[2][1] and trials[3][1], "is_prime: 2 and 3 end their loop at once")
    return {(w.name(TOUR), str(line), func): n for (func, line), n in lines.items() if n >= 200}


def fib_sample_calls():
    calls, _ = fib_calls(15)
    calls += sum(fib_calls(i)[0] for i in range(10))
    return calls + 10 + 1  # factorial(10) and <module>


# ---- where the samples run ----

class Workload:
    """Where pint runs the samples (`dir`), and the names the probes give
    their files (`name(file)`): in the samples' own directory by relative
    names, or with long_path in a copy of them whose directory makes the
    longest sample's name PAIR_NAME_MAX bytes long, by absolute names."""

    def __init__(self, programs, long_path=False):
        self.dir, self.prefix, self.tmp = programs, "", None
        if not long_path:
            return
        samples = glob.glob(os.path.join(programs, "*.pint"))
        longest = max(len(os.path.basename(f)) for f in samples)
        shortest = min(len(os.path.basename(f)) for f in samples)
        self.tmp = tempfile.TemporaryDirectory(prefix="pyprobe-long-")
        self.dir = long_directory(self.tmp.name, PAIR_NAME_MAX - 1 - longest)
        for f in samples:
            shutil.copy(f, self.dir)
        self.prefix = self.dir + "/"
        self.lengths = (len(self.prefix) + shortest, len(self.prefix) + longest)
        check(self.lengths[0] >= LONG_PATH_MIN, f"long path too short: {self.prefix}")

    def name(self, file):
        return self.prefix + file


def long_directory(base, length):
    """Makes and returns a directory below base whose path is `length`
    bytes long, in components of at most 100 bytes."""
    path, rest = base, length - len(base)
    check(rest >= 2, f"{base} is too long to make a path of {length} bytes below it")
    while rest > 0:
        step = min(101, rest)
        step -= 1 if rest - step == 1 else 0  # leave no "/" alone at the end
        path += "/" + "d" * (step - 1)
        rest -= step
    os.makedirs(path)
    return path


@contextlib.contextmanager
def busy_cpus(seconds=240):
    """Keeps every CPU busy while the with block runs: one CPU-bound shell
    loop per CPU (at least two), each ended by `timeout` after `seconds`
    at the latest, and killed when the block ends."""
    loops = [subprocess.Popen(["timeout", str(seconds), "sh", "-c", "while :; do :; done"],
                              start_new_session=True)
             for _ in range(max(2, os.cpu_count() or 2))]
    try:
        yield len(loops)
    finally:
        for loop in loops:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(loop.pid, signal.SIGKILL)
            loop.wait()


# ---- the checks, one per script ----

def sample(opts, name, program):
    w = opts.workload
    return Run(os.path.join(opts.scripts, name + ".bt"), opts.module, opts.provider,
               cwd=w.dir).pid([opts.pint, w.name(program)])


def expect_none_left_out(maps):
    """The sample's every call was traced from its start: the script left
    no return (or collection, or import) out."""
    check(not maps.get("untraced"), f"left out, their start not traced: {maps.get('untraced')}")


def expect_tour_output(stdout):
    check(f"particles kept: {PARTICLES // KEEP_EVERY}" in stdout, f"tour.pint printed:\n{stdout}")


def check_calls(opts):
    out, (stdout,) = sample(opts, "calls", TOUR)
    expect_tour_output(stdout)
    calls = tour_calls(opts.workload)
    expect_equal("calls", parse_maps(out)["calls"], calls)
    return f"{len(calls)} functions, {sum(calls.values())} calls"


def check_top10(opts):
    out, _ = sample(opts, "top10", TOUR)
    ranked = sorted(tour_calls(opts.workload).items(), key=lambda kv: -kv[1])
    check(ranked[9][1] > ranked[10][1], "tour.pint: a tie at the 10th place")
    expect_equal("top 10", parse_maps(out)["calls"], dict(ranked[:10]))
    return f"top 10 of {len(ranked)}: {ranked[0][0][1]} {ranked[0][1]} ... {ranked[9][0][1]} {ranked[9][1]}"


def check_entry_return(opts):
    out, _ = sample(opts, "entry_return", "classes.pint")
    seen = collections.Counter(line for line in out.splitlines() if line.startswith(("->", "<-")))
    calls = {"<module>": 1, "Point.init": 5, "Point.move": 3, "Point.show": 4, "Path.add": 3}
    expected = {f"{arrow} {func}": n for func, n in calls.items() for arrow in ("->", "<-")}
    expect_equal("entries and returns", dict(seen), expected)
    return f"{sum(seen.values())} events"


# A function's name may hold spaces (Lua's "for iterator"), a file does not;
# a C function's line is -1 in Lua.
FLOW_RE = re.compile(r"\s*(\d+)\s+(\d+)  ( *)(->|<-) (.+) (\S+):(-?\d+)")


def flow_rows(out):
    """What flow.bt printed, as rows (time, delta, depth, arrow, function,
    file:line) in time order, with its header, the times distinct and each
    delta the time since the row before."""
    lines = out.splitlines()
    check(lines[0].split() == ["TIME(ns)", "DELTA(ns)", "CALL", "FLOW"], f"flow: header {lines[0]!r}")
    rows = []
    for line in filter(str.strip, lines[1:]):
        m = FLOW_RE.fullmatch(line)
        check(m, f"flow: unexpected line {line!r}")
        time_ns, delta, pad, arrow, func, file, line_no = m.groups()
        rows.append((int(time_ns), int(delta), len(pad) // 2, arrow, func, f"{file}:{line_no}"))
    rows.sort()  # by TIME: lines of different CPUs may come out of order
    times, deltas = [r[0] for r in rows], [r[1] for r in rows]
    check(len(set(times)) == len(times), f"flow: equal times {times}")
    check(deltas[0] == 0 and all(d > 0 for d in deltas[1:]), f"flow: deltas {deltas}")
    check(deltas[1:] == [b - a for a, b in zip(times, times[1:])],
          f"flow: a delta is not the time since the previous event: {times} {deltas}")
    return rows


def imports_flow(w):
    """imports.pint's flow as the flow scripts print it: (depth, arrow,
    function, file:line) of every call, in order."""
    src = Source(os.path.join(w.dir, GEOMETRY))
    square, init, area = (f"{GEOMETRY}:{src.at(text)}" for text in
                          ("func square(n)", "func init(width, height)", "func area()"))
    module, geometry = "imports.pint:1", f"{GEOMETRY}:1"
    return [(0, "->", "<module>", module),
            (1, "->", "<module>", geometry), (1, "<-", "<module>", geometry),
            (1, "->", "square", square), (1, "<-", "square", square),
            (1, "->", "Rect.init", init), (1, "<-", "Rect.init", init),
            (1, "->", "Rect.area", area), (1, "<-", "Rect.area", area),
            (0, "<-", "<module>", module)]


def check_flow(opts):
    out, _ = sample(opts, "flow", "imports.pint")
    rows = flow_rows(out)
    times = [r[0] for r in rows]
    expected = imports_flow(opts.workload)
    seen = [r[2:] for r in rows]
    check(seen == expected, "flow (depth, arrow, function, file:line):\n" +
          "\n".join(f"  saw {s}" for s in seen) + "\nexpected:\n" + "\n".join(f"  {e}" for e in expected))
    return f"{len(rows)} events in order, {times[-1] - times[0]} ns"


def check_calltime(opts, name="calltime"):
    out, (stdout,) = sample(opts, name, TOUR)
    expect_tour_output(stdout)
    maps = parse_maps(out)
    calls = tour_calls(opts.workload)
    expect_equal("calls", maps["calls"], calls)
    expect_none_left_out(maps)
    inclusive, exclusive = maps["inclusive_ns"], maps["exclusive_ns"]
    check(set(inclusive) == set(calls) == set(exclusive), "times: not every function")
    positive("inclusive", inclusive)
    positive("exclusive", exclusive)
    bigger = {k: (exclusive[k], inclusive[k]) for k in inclusive if exclusive[k] > inclusive[k]}
    check(not bigger, f"exclusive > inclusive: {bigger}")
    # Each function's time is its own or one of its callees': the exclusive
    # times add up to the whole program's inclusive time, to the nanosecond.
    root = inclusive[(opts.workload.name(TOUR), "<module>")]
    check(sum(exclusive.values()) == root,
          f"exclusive times sum to {sum(exclusive.values())}, the program took {root}")
    return f"{len(inclusive)} functions, {root} ns in all"


def check_cputime(opts):
    return check_calltime(opts, "cputime") + " on CPU"


def check_calldist(opts):
    out, (stdout,) = sample(opts, "calldist", TOUR)
    expect_tour_output(stdout)
    hists = parse_hists(out)["ns"]
    totals = {k: histogram_total(f"{k}", buckets) for k, buckets in hists.items()}
    expect_equal("calls in the histograms", totals, tour_calls(opts.workload))
    expect_none_left_out(parse_maps(out))
    return f"{len(totals)} histograms, {sum(totals.values())} calls"


def check_who(opts):
    # Without -p, bpftrace enables the probes in every process that maps the
    # module: a copy of the library of our own (pint's RUNPATH gives way to
    # LD_LIBRARY_PATH) keeps other tests' processes out of it.
    with tempfile.TemporaryDirectory(prefix="pyprobe-who-") as lib_dir:
        module = os.path.join(lib_dir, "libpyprobe.so.1")
        shutil.copy(os.path.realpath(opts.module), module)
        w = opts.workload
        run = Run(os.path.join(opts.scripts, "who.bt"), module, opts.provider, cwd=w.dir,
                  env={"LD_LIBRARY_PATH": lib_dir})
        out, _, pids = run.system_wide([[opts.pint, w.name("fib.pint")], [opts.pint, w.name("classes.pint")]])
    seen = {k: v for k, v in parse_maps(out)["calls"].items() if k[0] in map(str, pids)}
    uid = str(os.getuid())
    expect_equal("calls by process", seen, {(str(pids[0]), uid, "pint"): fib_sample_calls(),
                                            (str(pids[1]), uid, "pint"): 16})
    return f"two processes at once: {fib_sample_calls()} and 16 calls"


def garbage_truth(stdout):
    """What garbage.pint printed: gc()'s results, and gc_collected()."""
    returned = [int(n) for n in re.findall(r"collected: (\d+)", stdout)]
    total = int(re.search(r"collected in all: (\d+)", stdout).group(1))
    return returned, total


def check_gc(opts):
    out, (stdout,) = sample(opts, "gc", "garbage.pint")
    maps = parse_maps(out)
    returned, total = garbage_truth(stdout)
    young = maps["collections"].get(("0",), 0)
    check(young > 0, "no young collection")
    expect_equal("collections", maps["collections"], {("0",): young, ("1",): len(returned)})
    expect_equal("collected", maps["collected"], {("0",): total - sum(returned), ("1",): sum(returned)})
    return f"{young} young and {len(returned)} full collections, {total} objects"


def check_gcpause(opts):
    out, (stdout,) = sample(opts, "gcpause", "garbage.pint")
    returned, _ = garbage_truth(stdout)
    hists = parse_hists(out)["pause_ns"]
    totals = {k: histogram_total(f"generation {k}", b) for k, b in hists.items()}
    expect_none_left_out(parse_maps(out))
    # The young collections: as many as gc.bt counts on the same program.
    reference, _ = sample(opts, "gc", "garbage.pint")
    young = parse_maps(reference)["collections"].get(("0",), 0)
    expect_equal("pauses", totals, {("0",): young, ("1",): len(returned)})
    return f"{young} young and {len(returned)} full pauses"


def check_instances(opts):
    out, (stdout,) = sample(opts, "instances", TOUR)
    expect_tour_output(stdout)
    maps = parse_maps(out)
    kept = PARTICLES // KEEP_EVERY
    tour, geometry = opts.workload.name(TOUR), opts.workload.name(GEOMETRY)
    expect_equal("created", maps["created"], {("Particle", tour): PARTICLES, ("Swarm", tour): 1,
                                              ("Rect", geometry): ROOMS})
    expect_equal("deleted", maps["deleted"], {("Particle", tour): PARTICLES - kept,
                                              ("Rect", geometry): ROOMS})
    expect_equal("live", maps["live"], {("Particle", tour): kept, ("Swarm", tour): 1, ("Rect", geometry): 0})
    return f"live: {kept} Particle, 1 Swarm, 0 Rect"


def check_lines(opts):
    out, (stdout,) = sample(opts, "lines", TOUR)
    expect_tour_output(stdout)
    return expect_hottest_lines(parse_maps(out)["lines"], tour_hot_lines(opts.workload))


def expect_hottest_lines(seen, hot):
    """lines.bt printed the 20 hottest lines of hot ({(file, line,
    function): runs}, the hot ones at least), as many runs as each had."""
    check(len(seen) == 20, f"{len(seen)} lines printed, not 20")
    expect_equal("hottest lines", seen, {k: hot.get(k) for k in seen})
    cut = min(seen.values())
    missing = {k: n for k, n in hot.items() if n > cut and k not in seen}
    check(not missing, f"hotter than the 20th ({cut}) but not printed: {missing}")
    top = max(seen, key=seen.get)
    return f"20 lines from {seen[top]} ({top[0]}:{top[1]}) down to {cut} runs"


def check_imports(opts):
    out, _ = sample(opts, "imports", "imports.pint")
    live, _, end = out.partition("\n\n")  # what it printed as it went, and its END
    expect_none_left_out(parse_maps(end))
    lines = [line.split() for line in live.splitlines() if line.strip()]
    check(lines[0] == ["RESULT", "TIME(ns)", "MODULE"], f"imports: header {lines[0]}")
    rows = [(" ".join(f[:-2]), f[-1]) for f in lines[1:]]
    times = [int(f[-2]) for f in lines[1:]]
    check(rows == [("loaded", "geometry"), ("not found", "nosuch")], f"imports: {lines[1:]}")
    check(all(t > 0 for t in times), f"imports: times {times}")
    return f"geometry loaded in {times[0]} ns, nosuch not found"


def check_audit(opts):
    out, _ = sample(opts, "audit", "imports.pint")
    expect_equal("audit events", parse_maps(out)["events"], {("open",): 2, ("import",): 2})
    return "open 2, import 2"


def check_late(opts):
    """The script attaches while late.pint is inside three calls (its
    module, outer and wait): it must leave their returns out, count them
    for the pid, and time the calls it saw whole."""
    with tempfile.TemporaryDirectory(prefix="pyprobe-late-") as tmp:
        shutil.copy(os.path.join(HERE, "late.pint"), tmp)
        run = Run(os.path.join(opts.scripts, opts.script + ".bt"), opts.module, opts.provider, cwd=tmp)
        out, (stdout,) = run.late([opts.pint, "late.pint"], os.path.join(tmp, "go.pint"))
    check(stdout.split() == ["9"], f"late.pint printed {stdout!r}")
    maps = parse_maps(out)
    seen = {("late.pint", "after"): 3, ("go.pint", "<module>"): 1}
    if opts.script == "calldist":
        hists = parse_hists(out)["ns"]
        expect_equal("calls in the histograms", {k: histogram_total(f"{k}", b) for k, b in hists.items()}, seen)
    else:
        expect_equal("calls", maps["calls"], seen)
        inclusive, exclusive = maps["inclusive_ns"], maps["exclusive_ns"]
        positive("inclusive", inclusive)
        positive("exclusive", exclusive)
        check(all(exclusive[k] <= inclusive[k] for k in seen), f"exclusive > inclusive: {exclusive} {inclusive}")
    untraced = maps.get("untraced", {})
    check(list(untraced.values()) == [3] and len(untraced) == 1,
          f"returns left out: {untraced}, expected 3 for one pid")
    return "3 returns of calls begun before tracing left out and counted, the calls after timed"


# Only where a script times calls from their entry.
LATE_CHECKS = {"calltime": check_late, "cputime": check_late, "calldist": check_late}

CHECKS = {"calls": check_calls, "top10": check_top10, "entry_return": check_entry_return,
          "flow": check_flow, "calltime": check_calltime, "cputime": check_cputime,
          "calldist": check_calldist, "who": check_who, "gc": check_gc, "gcpause": check_gcpause,
          "instances": check_instances, "lines": check_lines, "imports": check_imports,
          "audit": check_audit}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", required=True, choices=sorted(CHECKS))
    parser.add_argument("--pint", required=True)
    parser.add_argument("--module", required=True, help="libpyprobe.so, where the probes are")
    parser.add_argument("--provider", default="python")
    parser.add_argument("--programs", required=True, help="the samples' directory")
    parser.add_argument("--scripts", required=True, help="examples/scripts")
    parser.add_argument("--condition", choices=("quiet", "long-path", "busy", "late"), default="quiet")
    opts = parser.parse_args()
    if opts.condition == "late" and opts.script not in LATE_CHECKS:
        parser.error(f"--condition late: only for {', '.join(sorted(LATE_CHECKS))}")

    bpftrace_usable()  # or skip, before starting anything
    opts.workload = Workload(opts.programs, long_path=opts.condition == "long-path")
    with busy_cpus() if opts.condition == "busy" else contextlib.nullcontext():
        result = (LATE_CHECKS if opts.condition == "late" else CHECKS)[opts.script](opts)
    where = {"quiet": "", "busy": ", every CPU busy", "late": ", attached late",
             "long-path": ", files named by paths of %d to %d bytes" % getattr(opts.workload, "lengths", (0, 0))}
    where = where[opts.condition]
    print(f"ok: {opts.script}.bt{where}: {result}")


if __name__ == "__main__":
    main()
