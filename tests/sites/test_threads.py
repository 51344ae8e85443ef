#!/usr/bin/env python3
"""Threads firing while bpftrace attaches and detaches, again and again.

threads_fire runs THREADS threads that fire the line probe with their name
and a sequence number that advances only when the probe fires. Each of
SESSIONS bpftrace sessions attaches by pid for about a second and reports
per thread how many events it saw and the lowest and highest sequence
numbers: while attached no event may be lost (count == hi - lo + 1), every
thread must be seen, and the program must finish cleanly afterwards.
"""
import argparse
import json
import subprocess
import time

from common import bpftrace_usable, check, fail, run

SCRIPT = """
usdt:{module}:{provider}:line {{
    @n[str(arg0)] = count(); @lo[str(arg0)] = min(arg2); @hi[str(arg0)] = max(arg2);
}}
interval:s:1 {{ exit(); }}
"""


def session(bpftrace, script, pid):
    out = run([bpftrace, "-q", "-f", "json", "-e", script, "-p", str(pid)], timeout=60).stdout
    maps = {}
    for line in out.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("type") == "map":
                maps.update(record["data"])
    return maps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--program", required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--provider", default="python")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--sessions", type=int, default=3)
    opts = parser.parse_args()

    bpftrace = bpftrace_usable()
    script = SCRIPT.format(module=opts.module, provider=opts.provider)
    child = subprocess.Popen([opts.program, str(opts.threads)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    names = {f"thread-{i}" for i in range(opts.threads)}
    seen_total = 0
    try:
        for number in range(1, opts.sessions + 1):
            maps = session(bpftrace, script, child.pid)
            counts, lo, hi = maps.get("@n", {}), maps.get("@lo", {}), maps.get("@hi", {})
            check(set(counts) == names, f"session {number}: saw threads {sorted(counts)}, expected {sorted(names)}")
            for name in sorted(names):
                expect = hi[name] - lo[name] + 1
                check(counts[name] == expect,
                      f"session {number}: {name} saw {counts[name]} events for sequence {lo[name]}..{hi[name]}")
            seen_total += sum(counts.values())
            print(f"session {number}: {sum(counts.values())} events from {len(counts)} threads, none lost")
            time.sleep(0.2)  # detached for a moment: the program runs on untraced
        out, err = child.communicate(input="", timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    check(child.returncode == 0, f"threads_fire exit {child.returncode}: {err}")
    fired = {name: int(n) for name, n in (line.split() for line in out.splitlines())}
    check(set(fired) == names, f"threads_fire reported {sorted(fired)}")
    check(sum(fired.values()) >= seen_total,
          f"tracers saw {seen_total} events but the threads fired only {sum(fired.values())}")
    print(f"ok: {opts.sessions} attach/detach sessions, {seen_total} events seen, {sum(fired.values())} fired")


if __name__ == "__main__":
    main()
