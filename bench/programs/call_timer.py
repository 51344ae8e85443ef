"""Timing calls of an empty function, for the per-event programs
(stock_events.py, sidebyside_calls.py)."""
import statistics
import time


def ns_per_call(f, iterations, rounds):
    """The median of ROUNDS timed loops of ITERATIONS calls of f, in ns per call."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            f()
        samples.append((time.perf_counter_ns() - start) / iterations)
    return statistics.median(samples)


def trampoline():
    """Whether the kernel turned the hit sites into calls through a
    [uprobes-trampoline] mapping, instead of int3 traps."""
    with open("/proc/self/maps") as maps:
        return "[uprobes-trampoline]" in maps.read()
