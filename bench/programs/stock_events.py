"""What pyprobe costs per call on a stock CPython (bench/run, part stock).

    stock_events.py MODE ITERATIONS ROUNDS

MODE idle: the package enabled, nobody tracing; simulated: the entry and
return semaphores raised by pyprobe._native.simulate (as the kernel raises
them), so the callbacks run but no uprobe is hit; traced: waits for a real
tracer on both probes (PYPROBE_READY_FILE, then pyprobe.traced()). Prints
{"ns_per_call": median of ROUNDS timed loops of ITERATIONS calls,
"trampoline": whether the kernel turned the hit sites into calls through a
[uprobes-trampoline] mapping, instead of int3 traps}.
"""
import json
import os
import sys
import time

import call_timer
import pyprobe
from pyprobe import _native

BOTH = ("function__entry", "function__return")


def f():
    return None


def followed(ready):
    """Whether pyprobe follows entry and return (and the tracer is ready)."""
    return pyprobe.traced() == BOTH and (not ready or os.path.exists(ready))


def main():
    mode, iterations, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    pyprobe.enable()
    if mode == "simulated":
        _native.simulate(1 << pyprobe.PROBES.index(BOTH[0]) | 1 << pyprobe.PROBES.index(BOTH[1]))
    ready = os.environ.get("PYPROBE_READY_FILE")
    for _ in range(60000 if mode != "idle" else 0):  # a minute at most
        if followed(ready):
            break
        time.sleep(0.001)
    if mode != "idle" and not followed(ready):
        sys.exit(f"stock_events: no tracer within 60 s (following {pyprobe.traced()})")
    print(json.dumps({"ns_per_call": call_timer.ns_per_call(f, iterations, rounds)[0],
                      "trampoline": call_timer.trampoline()}))


if __name__ == "__main__":
    main()
