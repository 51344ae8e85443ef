#!/usr/bin/env python3
"""pyprobe -l -p: the probes of a library a process loaded with dlopen, by
path, from a memfd, from a deleted file and from another mount namespace,
under the provider with the pid and the right module; and, with
--semaphore, the semaphore's value going from 0 to 1 while bpftrace is
attached and back to 0 when it leaves.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from common import bpftrace_usable, check, fail, require_root, run, skip

OPTS = None


class Target:
    """dlopen_target MODE LIBRARY, from start to end of a `with`."""

    def __init__(self, mode, library, command=None):
        self.command = command or [OPTS.target, mode, library]

    def __enter__(self):
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line != "ready\n":
            self.proc.kill()
            fail(f"{' '.join(self.command)} did not start: {line!r} {self.proc.stderr.read()}")
        return self.proc.pid

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def listing(*args):
    proc = run([OPTS.pyprobe, "-l", "--json", *args], check_exit=False)
    check(proc.returncode == 0, f"pyprobe -l --json {' '.join(args)}: exit {proc.returncode}: {proc.stderr}")
    return json.loads(proc.stdout)


def file_probes():
    probes = listing(OPTS.library)["probes"]
    check(probes, f"{OPTS.library} has no probes to look for")
    return probes


def check_process(pid, module, path_part):
    """The library's probes are in the process as in the file, moved by one
    load bias, under provider+pid and module."""
    want = file_probes()
    # A ':' would split the description: "memfd:x" is provider memfd, module x.
    pattern = module.replace(":", "?")
    doc = listing("-p", str(pid), "-m", pattern)
    got = doc["probes"]
    check(len(got) == len(want), f"pid {pid}, module {module}: {len(got)} sites, the file has {len(want)}: "
          f"{doc['errors']}")
    biases = set()
    for mine, theirs in zip(got, want):
        for key in ("provider", "note_name", "function", "address", "semaphore", "arguments_text", "types"):
            check(mine[key] == theirs[key], f"pid {pid}: {key} {mine[key]!r}, in the file {theirs[key]!r}")
        check(mine["pid"] == pid and mine["module"] == module and path_part in mine["path"],
              f"pid {pid}: pid/module/path {mine['pid']} {mine['module']} {mine['path']}")
        biases.add(mine["process_address"] - mine["address"])
        if mine["semaphore"] is not None:
            biases.add(mine["process_semaphore"] - mine["semaphore"])
            check(mine["semaphore_value"] == 0, f"pid {pid}: {mine['note_name']}'s semaphore is "
                  f"{mine['semaphore_value']} ({mine['semaphore_error']}) with no tracer")
    check(len(biases) == 1, f"pid {pid}: sites moved by different biases: {sorted(map(hex, biases))}")
    # The table: provider with the pid, the module's name, filters by both.
    provider = f"{want[0]['provider']}{pid}"
    table = run([OPTS.pyprobe, "-l", "-p", str(pid), "-m", f"{provider}:{pattern}"]).stdout.splitlines()
    check(len(table) == len(want) + 1 and all(line.split()[1:3] == [provider, module] for line in table[1:]),
          f"pid {pid}: table:\n" + "\n".join(table))
    print(f"ok: pid {pid}: {len(got)} sites of {module} ({path_part})")


def test_modes():
    module = os.path.basename(os.path.realpath(OPTS.library))
    with Target("path", OPTS.library) as pid:
        check_process(pid, module, os.path.realpath(OPTS.library))
    with Target("memfd", OPTS.library) as pid:
        check_process(pid, "memfd:libpyprobe-copy.so", "/memfd:libpyprobe-copy.so (deleted)")
    with Target("deleted", OPTS.library) as pid:
        doc = listing("-p", str(pid), "-m", "pyprobe-deleted-*.so")
        check(doc["probes"], f"pid {pid}: nothing from the deleted copy: {doc}")
        check_process(pid, doc["probes"][0]["module"], " (deleted)")


def test_mount_namespace():
    unshare = shutil.which("unshare")
    if not unshare:
        skip("unshare (util-linux) is not installed")
    with tempfile.TemporaryDirectory(prefix="pyprobe-ns-") as where:
        inside = os.path.join(where, "libinside.so")
        script = f'mount -t tmpfs none "{where}" && cp "{OPTS.library}" "{inside}" && ' \
                 f'exec "{OPTS.target}" path "{inside}"'
        with Target(None, None, [unshare, "--mount", "--propagation", "private", "sh", "-c", script]) as pid:
            check(not os.path.exists(inside), f"{inside} is visible outside the namespace")
            check_process(pid, "libinside.so", inside)


def test_errors():
    proc = run([OPTS.pyprobe, "-l", "-p", "999999999"], check_exit=False)
    check(proc.returncode == 1 and proc.stderr == "pyprobe: pid 999999999: no such process\n",
          f"no such process: {proc.returncode} {proc.stderr!r}")
    with Target("path", "/nonexistent/x.so", [shutil.which("sh"), "-c", "echo ready; exec cat"]) as pid:
        proc = run([OPTS.pyprobe, "-lv", "-p", str(pid), "-P", "none"], check_exit=False)
        # sh maps no object with probes: it has none, whatever the filter
        check(proc.returncode == 0 and proc.stderr == f"pyprobe: pid {pid}: no stapsdt probes\n",
              f"no probes: {proc.returncode} {proc.stderr!r}")
    print("ok: errors")


def semaphore_values(pid, module):
    probes = listing("-p", str(pid), "-m", module)["probes"]
    return {p["note_name"]: p["semaphore_value"] for p in probes if p["semaphore"] is not None}


def wait_for(what, condition, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    fail(f"timed out waiting for {what}")


def test_semaphore():
    bpftrace = bpftrace_usable()
    library = os.path.realpath(OPTS.library)
    module = os.path.basename(library)
    probe = "function__entry"
    with Target("path", OPTS.library) as pid:
        before = semaphore_values(pid, module)
        check(before and set(before.values()) == {0}, f"semaphores before tracing: {before}")
        script = f"usdt:{library}:{OPTS.provider}:{probe} {{ @hits = count(); }}"
        tracer = subprocess.Popen([bpftrace, "-q", "-p", str(pid), "-e", script],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            during = wait_for("the semaphore to rise", lambda: (v := semaphore_values(pid, module))[probe] and v)
        finally:
            tracer.send_signal(signal.SIGINT)
            try:
                tracer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                tracer.kill()
        check(during[probe] == 1 and all(v == 0 for k, v in during.items() if k != probe),
              f"semaphores while bpftrace traces {probe}: {during}")
        verbose = run([OPTS.pyprobe, "-lv", "-p", str(pid), "-m", module]).stdout
        after = wait_for("the semaphore to fall", lambda: (v := semaphore_values(pid, module))[probe] == 0 and v)
        check(set(after.values()) == {0}, f"semaphores after bpftrace left: {after}")
    check("Semaphore value:" in verbose, f"-v shows no semaphore value:\n{verbose}")
    print(f"ok: {probe}'s semaphore went 0 -> 1 -> 0 with bpftrace; the others stayed 0")


def main():
    global OPTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--target", required=True, help="dlopen_target")
    parser.add_argument("--library", required=True, help="a shared library with stapsdt notes")
    parser.add_argument("--provider", default="python")
    parser.add_argument("--semaphore", action="store_true", help="the bpftrace semaphore test only")
    OPTS = parser.parse_args()
    require_root("reading another process's files and memory (map_files, mount namespaces)")
    if OPTS.semaphore:
        test_semaphore()
        return
    test_modes()
    test_errors()
    test_mount_namespace()


if __name__ == "__main__":
    main()
