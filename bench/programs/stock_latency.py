"""How long pyprobe takes to follow a tracer (bench/run, parts stock and
sidebyside): from a semaphore's rise (pyprobe._native.simulate, what the
kernel does when a tracer attaches) until pyprobe follows it, while the
main thread runs Python code; TRIALS times, at random phases of the
watcher's interval.

    stock_latency.py TRIALS                      prints {"p50_ms": ..., "p99_ms": ...}
    stock_latency.py TRIALS pyusdt SEMAPHORE     the same for pyusdt

With pyusdt (PYTHONPATH reaching it): its PY_START semaphore, at address
SEMAPHORE (hex) of libpyusdt.so as its stapsdt note gives it, is raised
(usdt_semaphore.py), and pyusdt follows once its sys.monitoring tool has events;
the phases spread over its 100 ms interval.
"""
import json
import os
import random
import sys
import time


def f():
    return None


def spin_until(condition):
    while not condition():
        f()


class Pyprobe:
    interval = 0.01

    def __init__(self):
        import pyprobe
        from pyprobe import _native
        pyprobe.enable()
        self.pyprobe, self.native = pyprobe, _native

    def simulate(self, on):
        self.native.simulate(1 if on else 0)  # function__entry

    def follows(self):
        return bool(self.pyprobe.traced())


class Pyusdt:
    interval = 0.1

    def __init__(self, semaphore):
        import pyusdt  # noqa: F401 (its import starts it)
        import usdt_semaphore
        library = os.path.join(os.path.dirname(sys.modules["libpyusdt"].__file__), "libpyusdt.so")
        self.semaphore = usdt_semaphore.at(library, int(semaphore, 16))

    def simulate(self, on):
        self.semaphore.value = 1 if on else 0

    def follows(self):
        return sys.monitoring.get_events(sys.monitoring.PROFILER_ID) != 0


def main():
    trials = int(sys.argv[1])
    module = Pyusdt(sys.argv[3]) if sys.argv[2:3] == ["pyusdt"] else Pyprobe()
    random.seed(1)
    samples = []
    for _ in range(trials):
        time.sleep(random.random() * module.interval)
        start = time.perf_counter_ns()
        module.simulate(True)
        spin_until(module.follows)
        samples.append((time.perf_counter_ns() - start) / 1e6)
        module.simulate(False)
        spin_until(lambda: not module.follows())
    samples.sort()
    print(json.dumps({"p50_ms": samples[len(samples) // 2], "p99_ms": samples[int(len(samples) * 0.99)]}))


if __name__ == "__main__":
    main()
