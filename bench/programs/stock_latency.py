"""How long pyprobe takes to follow a tracer (bench/run, part stock): from
a semaphore's rise (pyprobe._native.simulate, what the kernel does when a
tracer attaches) until pyprobe follows it, while the main thread runs
Python code; TRIALS times, at random phases of the watcher's interval.

    stock_latency.py TRIALS       prints {"p50_ms": ..., "p99_ms": ...}
"""
import json
import random
import sys
import time

import pyprobe
from pyprobe import _native


def f():
    return None


def spin_until(condition):
    while not condition():
        f()


def main():
    trials = int(sys.argv[1])
    pyprobe.enable()
    random.seed(1)
    samples = []
    for _ in range(trials):
        time.sleep(random.random() * 0.01)
        start = time.perf_counter_ns()
        _native.simulate(1)  # function__entry
        spin_until(lambda: pyprobe.traced())
        samples.append((time.perf_counter_ns() - start) / 1e6)
        _native.simulate(0)
        spin_until(lambda: not pyprobe.traced())
    samples.sort()
    print(json.dumps({"p50_ms": samples[len(samples) // 2], "p99_ms": samples[int(len(samples) * 0.99)]}))


if __name__ == "__main__":
    main()
