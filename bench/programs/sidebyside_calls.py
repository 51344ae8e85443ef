"""What a traced function__entry (or its equivalent) costs per call, the same
loop for every implementation (bench/run, part sidebyside).

    sidebyside_calls.py MODE ITERATIONS ROUNDS [FILE SEMAPHORE]

MODE: alone (the interpreter's own probes, if any), pyprobe (the pyprobe
package enabled), pyusdt (pyusdt imported: PYTHONPATH must reach it).
With FILE and SEMAPHORE (hex, as the probe's stapsdt note in FILE gives it)
it raises that semaphore itself, as the kernel does when a tracer attaches
(usdt_semaphore.py), and waits as below: everything of an event runs but
the uprobe, which nobody placed. With PYPROBE_READY_FILE set (bench/run's tracer creates it in its BEGIN,
once its probe is attached), it waits for that file, then until the module
has turned its events on (pyprobe: it follows function__entry; pyusdt: its
sys.monitoring tool has events set). Then it calls f() 100 times untimed
and times ROUNDS loops of ITERATIONS calls. Prints one JSON line:
"ns_per_call" and "cpu_ns_per_call" (median round, by the wall clock and by
the thread's CPU time), "calls" (of f, all told), "line" (f's first
line, which every implementation passes as the entry's third argument) and
"trampoline" (the kernel optimised a hit site into a call).
"""
import json
import os
import sys
import time

import call_timer

WAIT_SECONDS = 60


def f():
    return None


def module_follows(mode):
    """Whether the module has turned its function events on."""
    if mode == "pyprobe":
        import pyprobe
        return "function__entry" in pyprobe.traced()
    if mode == "pyusdt":
        return sys.monitoring.get_events(sys.monitoring.PROFILER_ID) != 0
    return True


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"sidebyside_calls: {what} within {WAIT_SECONDS} s")
        time.sleep(0.001)


def main():
    mode, iterations, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode == "pyprobe":
        import pyprobe
        pyprobe.enable()
    elif mode == "pyusdt":
        import pyusdt  # noqa: F401 (its import starts it)
    elif mode != "alone":
        sys.exit(f"sidebyside_calls: unknown mode {mode!r}")
    ready = os.environ.get("PYPROBE_READY_FILE")
    if len(sys.argv) == 6:
        import usdt_semaphore
        usdt_semaphore.at(sys.argv[4], int(sys.argv[5], 16)).value = 1
    if ready:
        wait_until(lambda: os.path.exists(ready), "no tracer")
    if ready or len(sys.argv) == 6:
        wait_until(lambda: module_follows(mode), f"{mode} did not follow the semaphore")
    for _ in range(100):
        f()
    wall, cpu = call_timer.ns_per_call(f, iterations, rounds)
    print(json.dumps({"ns_per_call": wall, "cpu_ns_per_call": cpu, "calls": 100 + iterations * rounds,
                      "line": f.__code__.co_firstlineno, "trampoline": call_timer.trampoline()}), flush=True)


if __name__ == "__main__":
    main()
