#!/usr/bin/env python3
"""The pyprobe Python module under bpftrace: py_target.py's probes of every
type with exact values, and enabled going from False to True while bpftrace
is attached and back after it detaches.

Needs root and a working bpftrace (skipped, exit 77, without them, unless
PYPROBE_REQUIRE_TRACERS=1 makes that a failure). PYTHONPATH must reach the
built module.
"""
import collections
import os
import re
import sys

from rt_trace import TYPES_EVENTS, check, trace, types_script

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = [sys.executable, os.path.join(HERE, "py_target.py")]

# py_types as py_target.py fires it: (probe, printed values) -> count.
PY_TYPES_EVENTS = {
    **TYPES_EVENTS,
    ("small", "1|0|-1|1|-2|2"): 1,
    ("wide", "9223372036854775807|0||0"): 1,
    ("text", "snowman \u2603|raw bytes|lone \\udcff surrogate"): 1,
}
PY_TYPES_PROBES = ("small", "wide", "text", "twelve", "none")


def target_env():
    """The traced program's environment: a sanitizer build's module needs
    the sanitizers' runtimes preloaded (PYPROBE_TARGET_PRELOAD); bpftrace
    must not get them."""
    env = dict(os.environ)
    if env.get("PYPROBE_TARGET_PRELOAD"):
        env["LD_PRELOAD"] = env["PYPROBE_TARGET_PRELOAD"]
    return env


def memfd_path(target, provider):
    """The provider's object as the target names it: /proc/PID/fd/N."""
    path = target.paths[provider]
    check(re.match(rf"^/proc/{target.pid}/fd/\d+$", path), f"{provider}: path {path!r}")
    link = os.readlink(path)
    check(link == f"/memfd:pyprobe-{provider}.so (deleted)", f"{provider}: {path} -> {link!r}")
    return path


def every_type_reaches_bpftrace_exactly():
    text, _ = trace(TARGET + ["types"],
                    lambda target, pid: types_script(memfd_path(target, "py_types"), "py_types", PY_TYPES_PROBES),
                    env=target_env())
    seen = dict(collections.Counter(tuple(line.split("|", 1)) for line in text.splitlines()))
    check(seen == PY_TYPES_EVENTS, f"bpftrace saw\n{seen}\nexpected\n{PY_TYPES_EVENTS}")
    print(f"ok: every argument type exact ({sum(PY_TYPES_EVENTS.values())} events)")


def enabled_follows_the_tracer():
    before = []

    def script(target, pid):
        before.append(target.readline())
        path = memfd_path(target, "py_enabled")
        return (f'usdt:{path}:py_enabled:tick {{ printf("%d\\n", arg0); @n++; if (@n == 5) {{ exit(); }} }}\n'
                'END { clear(@n); }')

    text, lines = trace(TARGET + ["enabled"], script, env=target_env())
    check(before == ["enabled False"], f"before attaching: {before}")
    states = [line for line in lines if line.startswith("enabled")]
    check(states == ["enabled False", "enabled True", "enabled False"], f"enabled went {states}")
    check(text.split() == ["1", "2", "3", "4", "5"], f"ticks seen: {text.split()}")
    print("ok: enabled is False, True while traced, False after")


def main():
    every_type_reaches_bpftrace_exactly()
    enabled_follows_the_tracer()


if __name__ == "__main__":
    main()
