"""A program the stock tests steer line by line on stdin, under
`python -m pyprobe run` (so pyprobe is enabled). Each command answers one
line on stdout:

  fire N          calls tick() N times                  -> fired N
  wait PROBES     waits until pyprobe follows exactly    -> ok
                  PROBES (comma-separated, - for none)
  state           what is registered with the interpreter -> JSON
                  (3.11: whether this thread is on the tracing
                  path, and threading's hook for new threads)
  hold-tool ID    another tool takes sys.monitoring's ID -> held ID
  cprofile N      tick() N times under cProfile           -> profiled N
  settrace N      tick() N times under sys.settrace       -> traced N CALLS
  fork N          a child waits for its tracer (entry and  -> child PID, then
                  return), fires N ticks, exits              child exit STATUS
  thread N        a thread waits for the tracer and fires -> thread fired N
                  N ticks while the main thread is blocked
                  in join (where no pending call runs)
"""
import cProfile
import gc
import json
import os
import pstats
import sys
import threading
import time

import pyprobe

WAIT_SECONDS = 30
# What pyprobe follows while a tracer holds entry and return: on 3.11 the
# interpreter's own function__entry alone (it fires the rest itself).
FUNCTION_PROBES = ("function__entry", "function__return") if sys.version_info >= (3, 12) else ("function__entry",)


def tick():
    return None


def fire(n):
    for _ in range(n):
        tick()


def wait_for(probes):
    deadline = time.monotonic() + WAIT_SECONDS
    while pyprobe.traced() != probes:
        if time.monotonic() > deadline:
            sys.exit(f"controlled: pyprobe follows {pyprobe.traced()}, not {probes}")
        time.sleep(0.001)


def state():
    if sys.version_info < (3, 12):  # no sys.monitoring: the interpreter's own probes
        return {"traced": list(pyprobe.traced()), "tracing_path": pyprobe._native.following_entry(),
                "thread_hook": threading.getprofile() is not None}
    monitoring = sys.monitoring
    tools = {tool: monitoring.get_tool(tool) for tool in range(6)}
    return {
        "tools": {str(t): name for t, name in tools.items() if name},
        "events": {str(t): monitoring.get_events(t) for t, name in tools.items() if name == "pyprobe"},
        "gc_callbacks": sum(1 for c in gc.callbacks if c is pyprobe._native.on_gc),
        "traced": list(pyprobe.traced()),
    }


def profiled(n):
    profile = cProfile.Profile()
    profile.runcall(fire, n)
    stats = pstats.Stats(profile).stats
    return sum(calls for (_, _, name), (_, calls, _, _, _) in stats.items() if name == "tick")


def traced_calls(n):
    calls = []

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code is tick.__code__:
            calls.append(1)
        return None

    sys.settrace(tracer)
    try:
        fire(n)
    finally:
        sys.settrace(None)
    return len(calls)


def fork(n):
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            print(f"child {os.getpid()}", flush=True)
            wait_for(FUNCTION_PROBES)
            fire(n)
            status = 0
        finally:
            os._exit(status)  # never back into the parent's loop
    _, status = os.waitpid(pid, 0)
    return f"child exit {os.waitstatus_to_exitcode(status)}"


def in_thread(n):
    done = []

    def work():
        wait_for(FUNCTION_PROBES)
        fire(n)
        done.append(n)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return f"thread fired {sum(done)}"


def do_fire(arg):
    fire(int(arg))
    return f"fired {arg}"


def do_wait(arg):
    wait_for(() if arg == "-" else tuple(arg.split(",")))
    return "ok"


def do_hold_tool(arg):
    sys.monitoring.use_tool_id(int(arg), "other")
    return f"held {arg}"


COMMANDS = {
    "fire": do_fire,
    "wait": do_wait,
    "state": lambda arg: json.dumps(state()),
    "hold-tool": do_hold_tool,
    "cprofile": lambda arg: f"profiled {profiled(int(arg))}",
    "settrace": lambda arg: f"traced {arg} {traced_calls(int(arg))}",
    "fork": lambda arg: fork(int(arg)),
    "thread": lambda arg: in_thread(int(arg)),
}


def main():
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        print(COMMANDS[command](arg), flush=True)


if __name__ == "__main__":
    main()
