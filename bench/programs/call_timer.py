"""Timing calls of an empty function, for the per-event programs
(stock_events.py, sidebyside_calls.py)."""
import statistics
import time


def ns_per_call(f, iterations, rounds):
    """(wall, CPU): the medians of ROUNDS timed loops of ITERATIONS calls of
    f, in ns per call, by the wall clock and by this thread's CPU time (its
    user and kernel time, the uprobe's trap included; not the time it waited
    for a CPU, which a shared machine makes large and erratic)."""
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(iterations):
            f()
        cpu.append((time.thread_time_ns() - start_cpu) / iterations)
        wall.append((time.perf_counter_ns() - start) / iterations)
    return statistics.median(wall), statistics.median(cpu)


def trampoline():
    """Whether the kernel turned the hit sites into calls through a
    [uprobes-trampoline] mapping, instead of int3 traps."""
    with open("/proc/self/maps") as maps:
        return "[uprobes-trampoline]" in maps.read()
