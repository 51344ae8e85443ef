"""Shared by the tracer tests: skipping, running tools, failing clearly.

A test that cannot run (no tracer, not root, no uprobes) exits 77, which
ctest reports as skipped. With PYPROBE_REQUIRE_TRACERS=1 (set by tests/run,
so in CI) such a skip is a failure instead.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP_EXIT = 77


def skip(reason):
    if os.environ.get("PYPROBE_REQUIRE_TRACERS") == "1":
        print(f"FAIL: {reason} (PYPROBE_REQUIRE_TRACERS=1 forbids skipping)")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP_EXIT)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def require_tool(name):
    path = shutil.which(name)
    if not path:
        skip(f"{name} is not installed")
    return path


def require_root(why):
    if os.geteuid() != 0:
        skip(f"{why} needs root")


def run(cmd, timeout=120, check_exit=True, **kwargs):
    """Runs cmd, returns the CompletedProcess; fails the test on a non-zero
    exit (when check_exit) or a timeout, showing the command's output."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as e:
        fail(f"timed out after {timeout}s: {' '.join(cmd)}\n{e.stdout or ''}{e.stderr or ''}")
    if check_exit and proc.returncode != 0:
        fail(f"exit {proc.returncode}: {' '.join(cmd)}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}")
    return proc


def bpftrace_usable():
    """Skips unless bpftrace can attach here (root, BPF, uprobes)."""
    bpftrace = require_tool("bpftrace")
    require_root("bpftrace")
    probe = subprocess.run([bpftrace, "-e", "BEGIN { exit(); }"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        skip(f"bpftrace cannot run BPF programs here: {probe.stderr.strip()}")
    return bpftrace


def run_bpftrace(script, command=None, pid=None, timeout=120):
    """Runs a bpftrace program against a process (a command it starts, see
    trace_command, or a pid) and returns what the program printed."""
    if command is not None:
        return trace_command(script, command, timeout=timeout)[0]
    with tempfile.TemporaryDirectory(prefix="pyprobe-bt-") as tmp:
        return _bpftrace_on_pid(script, pid, tmp, timeout)[1]


def trace_command(script, command, env=None, cwd=None, timeout=120, json_maps=False, go_line=False,
                  exit_status=0):
    """Starts command, attaches the bpftrace program by pid and returns
    (what bpftrace printed, what the command printed on stdout); with
    json_maps, bpftrace prints JSON and the first item is its maps
    (bpftrace_maps).

    Attaching by pid, because bpftrace 0.17's -c cannot find a second probe
    in a shared library the child has not mapped yet. The kernel raises a
    semaphore when a probe is opened, a moment before bpftrace's program is
    attached to it, so the command gets PYPROBE_READY_FILE, a file the
    script's BEGIN creates once every probe is attached; it must wait for it
    (as fire_all and pint do) and exit with exit_status. With go_line, the command reads a
    line from its stdin instead, which it gets once that file exists: for a
    program that cannot watch for a file without firing probes (a Lua
    script's every call does)."""
    with tempfile.TemporaryDirectory(prefix="pyprobe-bt-") as tmp:
        ready = os.path.join(tmp, "ready")
        env = dict(env if env is not None else os.environ, PYPROBE_READY_FILE=ready)
        child = subprocess.Popen(command, stdin=subprocess.PIPE if go_line else None, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
        sender = threading.Thread(target=_send_go_line, args=(child, ready, timeout), daemon=True)
        if go_line:
            sender.start()
        try:
            script = f'BEGIN {{ system("touch {ready}"); }}\n{script}'
            failure, text = _bpftrace_on_pid(script, child.pid, tmp, timeout, json_maps)
            if go_line:
                sender.join(timeout)
                child.stdin = None  # the sender closed it
            child_out, child_err = child.communicate(timeout=timeout)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    if failure:
        fail(failure)
    if child.returncode != exit_status:
        fail(f"{' '.join(command)} exit {child.returncode} under bpftrace: {child_err}")
    return (bpftrace_maps(text) if json_maps else text), child_out


def _send_go_line(child, ready, timeout):
    """trace_command's go_line: a line on the child's stdin once the ready
    file exists (then end of file)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(ready) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        child.stdin.write("go\n")
        child.stdin.close()
    except BrokenPipeError:
        pass  # it ended: trace_command reports it


def _bpftrace_on_pid(script, pid, tmp, timeout, json_maps=False):
    """Runs bpftrace -p pid: (a failure message or None, its output). Output
    goes through -o so that the traced program's cannot interleave with it."""
    bpftrace = bpftrace_usable()
    out = os.path.join(tmp, "out")
    cmd = [bpftrace, "--unsafe", "-q", "-o", out, "-e", script, "-p", str(pid)] + (["-f", "json"] if json_maps else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc = None
    text = open(out).read() if os.path.exists(out) else ""
    if proc is None or proc.returncode != 0:
        why = "timed out" if proc is None else f"exit {proc.returncode}\n{proc.stderr}"
        return f"bpftrace {why}\n--- script\n{script}\n--- output\n{text}", text
    return None, text


def bpftrace_maps(output):
    """The maps that `bpftrace -f json` printed: {"@name": value or {key: value}}."""
    maps = {}
    for line in output.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("type") == "map":
                maps.update(record["data"])
    return maps


def wait_mapped(pid, part, program=None, seconds=30):
    """Until process pid (running `program`, when given) maps a file whose
    path holds `part`: a process that tracers attach to with -p must have
    mapped the file with the probes first, as any process already running
    has (a traced command just started may still be in ld.so, or not yet
    have imported what holds them)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if not program or os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(program):
                with open(f"/proc/{pid}/maps") as f:
                    if part in f.read():
                        return
        except OSError:
            pass
        time.sleep(0.01)
    fail(f"pid {pid} did not map {part} within {seconds} s")


def interrupt(proc, timeout=60):
    """Stops bpftrace as Ctrl-C does and returns (stdout, stderr). SIGINT
    goes again every second: bpftrace ignores it while a system() action
    runs (glibc's system() does), as BEGIN's may still be, and while it is
    busy attaching or detaching."""
    deadline = time.monotonic() + timeout
    while True:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                proc.kill()
                fail(f"bpftrace did not stop on SIGINT within {timeout}s")


class Attached:
    """bpftrace attached by pid for the duration of a with block:

        with Attached(script, pid) as tracer:
            ...the process runs traced...
        tracer.maps   # what bpftrace printed when stopped (-f json)

    Entering waits until bpftrace's BEGIN has run, when every probe is
    attached; leaving stops it with SIGINT, as Ctrl-C would."""

    def __init__(self, script, pid, timeout=60):
        self.script, self.pid, self.timeout = script, pid, timeout
        self.maps = {}

    def __enter__(self):
        bpftrace = bpftrace_usable()
        self.tmp = tempfile.TemporaryDirectory(prefix="pyprobe-att-")
        ready = os.path.join(self.tmp.name, "ready")
        self.out = os.path.join(self.tmp.name, "out")
        script = f'BEGIN {{ system("touch {ready}"); }}\n{self.script}'
        self.proc = subprocess.Popen([bpftrace, "--unsafe", "-q", "-f", "json", "-o", self.out, "-e", script,
                                      "-p", str(self.pid)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.monotonic() + self.timeout
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                _, err = self.proc.communicate()
                fail(f"bpftrace did not attach to {self.pid}: {err.strip()}\n--- script\n{script}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        _, err = interrupt(self.proc, self.timeout)
        with open(self.out) as f:
            self.maps = bpftrace_maps(f.read())
        self.tmp.cleanup()
        if exc[0] is None:
            check(self.proc.returncode == 0, f"bpftrace exit {self.proc.returncode}: {err.strip()}")
        return False
