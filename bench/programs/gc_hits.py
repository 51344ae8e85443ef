# One probe hit per iteration on CPython: gc.collect(0) fires gc__start
# (and gc__done) once, with nothing to prepare (the generation, an int).
#
#   python gc_hits.py ITERATIONS ROUNDS
#
# As bench/fire_loop.c: with PYPROBE_READY_FILE set, waits (at most 30 s)
# until that file exists (the tracer's BEGIN creates it), fires 100 times
# untimed, then times ROUNDS rounds and prints one JSON line. Automatic
# collections are off and it exits without the interpreter's final
# collection, so gc__start fires exactly "fires" times after the wait.
import gc
import json
import os
import sys
import time


def main():
    gc.disable()
    iterations, rounds = int(sys.argv[1]), int(sys.argv[2])
    ready = os.environ.get("PYPROBE_READY_FILE")
    if ready:
        deadline = time.monotonic() + 30
        while not os.path.exists(ready):
            if time.monotonic() > deadline:
                sys.exit("gc_hits: no tracer after 30 s")
            time.sleep(0.005)
    collect, clock = gc.collect, time.perf_counter_ns
    for _ in range(100):
        collect(0)
    times = []
    for _ in range(rounds):
        start = clock()
        for _ in range(iterations):
            collect(0)
        times.append(round((clock() - start) / iterations, 3))
    with open("/proc/self/maps") as maps:
        trampoline = "[uprobes-trampoline]" in maps.read()
    print(json.dumps({"mode": "gc.collect(0)", "fires": 100 + iterations * rounds,
                      "ns_per_iteration": times, "trampoline": trampoline}), flush=True)
    os._exit(0)


main()
