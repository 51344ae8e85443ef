"""Tracing programs with runtime providers (shared by the runtime tests).

A runtime provider's object is named after the process (/proc/PID/fd/N), so
the bpftrace program is written once the traced program has loaded its
providers: Target starts the program and reads its first lines, up to
"loaded" (runtime_target.c and py_target.py print "path PROVIDER PATH" for
each provider first), and trace() attaches bpftrace by pid, with the ready
file of tracers/common.py: the program waits until its probes are enabled
and bpftrace's BEGIN has created PYPROBE_READY_FILE.
"""
import os
import re
import subprocess
import sys
import tempfile

from common import bpftrace_usable, check, fail, require_root, require_tool, run, skip  # noqa: F401


class Target:
    """A started program, its header read (self.paths: provider -> path)."""

    def __init__(self, command, env=None, until="loaded"):
        self.command = command
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.paths = {}
        self.lines = []
        while True:
            line = self.readline()
            if line is None:
                _, err = self.proc.communicate(timeout=30)
                fail(f"{' '.join(command)} exited {self.proc.returncode} before '{until}':\n{err}")
            if line.startswith("path "):
                _, provider, path = line.split(" ", 2)
                self.paths[provider] = path
            if line == until:
                break

    @property
    def pid(self):
        return self.proc.pid

    def readline(self):
        line = self.proc.stdout.readline()
        if not line:
            return None
        self.lines.append(line.rstrip("\n"))
        return self.lines[-1]

    def finish(self, timeout=120):
        """Waits for the program: its exit status; self.lines gets the rest."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            fail(f"{' '.join(self.command)} did not finish in {timeout}s")
        self.lines += out.splitlines()
        self.stderr = err
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def bpftrace_pid(script, pid, ready, timeout=120):
    """Runs the bpftrace program on pid (or system-wide: None), its BEGIN
    creating `ready`: what it printed. Fails the test when bpftrace fails."""
    bpftrace = bpftrace_usable()
    with tempfile.TemporaryDirectory(prefix="pyprobe-rt-out-") as tmp:
        out = os.path.join(tmp, "out")
        script = f'BEGIN {{ system("touch {ready}"); }}\n{script}'
        cmd = [bpftrace, "--unsafe", "-q", "-o", out, "-e", script] + (["-p", str(pid)] if pid else [])
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            fail(f"bpftrace timed out after {timeout}s\n--- script\n{script}")
        text = ""
        if os.path.exists(out):
            with open(out) as f:
                text = f.read()
        if proc.returncode != 0:
            fail(f"bpftrace exit {proc.returncode}\n{proc.stderr}\n--- script\n{script}\n--- output\n{text}")
        return text


def trace(command, make_script, env=None, attach=None, by_pid=True, timeout=120):
    """Starts command, attaches the bpftrace program make_script(target, pid)
    to it (or to the pid that attach(target) returns; by_pid=False: runs it
    without -p, so it must exit() itself), waits for both: (what bpftrace
    printed, the program's stdout lines). The program must exit 0."""
    with tempfile.TemporaryDirectory(prefix="pyprobe-rt-") as tmp:
        ready = os.path.join(tmp, "ready")
        env = dict(env if env is not None else os.environ, PYPROBE_READY_FILE=ready)
        bpftrace_usable()  # skips before starting anything
        target = Target(command, env)
        try:
            pid = attach(target) if attach else target.pid
            text = bpftrace_pid(make_script(target, pid), pid if by_pid else None, ready, timeout)
            rc = target.finish(timeout)
        finally:
            target.kill()
    check(rc == 0, f"{' '.join(command)} exit {rc} under bpftrace:\n{target.stderr}")
    return text, target.lines


def parse_maps(text):
    """bpftrace's printed maps: {(map, key): value} for lines '@map[key]: N'."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"^@(\w*)\[(.*)\]: (-?\d+)$", line)
        if m:
            found[(m.group(1), m.group(2))] = int(m.group(3))
    return found


# The argument-type probes, as runtime_target.c (provider rt_types) and
# py_target.py (py_types) fire them: (probe, printed values) -> count. Both
# fire these; each adds events of its own.
TYPES_EVENTS = {
    ("small", "-128|255|-32768|65535|-2147483648|4294967295"): 1,
    ("small", "127|0|32767|0|2147483647|0"): 1,
    ("wide", "-9223372036854775808|18446744073709551615|wide string \u00e9|1234abcd"): 1,
    ("twelve", "first string|-123456|200|-300|fedcba9876543210|abcdef|"
               "-7|60000|-1234567890123|3000000000|last string|2147483647"): 1,
    ("none", ""): 3,
}

# The stack arguments of twelve, at the site: the return address is at (%rsp).
_STACK = [f'*({t} *)(reg("sp") + {8 * (i + 1)})'
          for i, t in enumerate(("int8", "uint16", "int64", "uint32", "uint64", "int32"))]

# What bpftrace prints for each probe, as "probe|values".
_TYPES_ACTIONS = {
    "small": 'printf("small|%ld|%ld|%ld|%ld|%ld|%ld\\n", arg0, arg1, arg2, arg3, arg4, arg5);',
    "wide": 'printf("wide|%ld|%lu|%s|%lx\\n", arg0, arg1, str(arg2), arg3);',
    "text": 'printf("text|%s|%s|%s\\n", str(arg0), str(arg1), str(arg2));',
    "twelve": 'printf("twelve|%s|%ld|%ld|%ld|%lx|%lx|", str(arg0), arg1, arg2, arg3, arg4, arg5); '
              f'printf("%d|%d|%ld|%u|%s|%d\\n", {_STACK[0]}, {_STACK[1]}, {_STACK[2]}, {_STACK[3]}, '
              f'str({_STACK[4]}), {_STACK[5]});',
    "none": 'printf("none|\\n");',
    "nulls": 'printf("nulls|%s\\n", str(arg0));',
}


def types_script(path, provider, probes):
    """The bpftrace program that prints the named probes of provider in the
    object at path."""
    return "".join(f"usdt:{path}:{provider}:{p} {{ {_TYPES_ACTIONS[p]} }}\n" for p in probes)
