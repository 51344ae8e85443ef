#!/usr/bin/env python3
"""py_target: a Python program with runtime probes, for test_python_trace.py.

Like runtime_target.c: prints "path PROVIDER PATH" and "loaded", then

  types    waits for a tracer on every probe of py_types (and the ready
           file, PYPROBE_READY_FILE), fires each with test_python_trace.py's
           values
  enabled  prints "enabled False", waits for a tracer, prints "enabled True",
           fires py_enabled:tick(1..5), waits until the tracer is gone and
           prints "enabled False"
"""
import os
import sys
import time

import pyprobe

WAIT_SECONDS = float(os.environ.get("PYPROBE_WAIT_SECONDS", "30"))


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"py_target: {what} after {WAIT_SECONDS} s")
        time.sleep(0.01)


def traced(probes):
    ready = os.environ.get("PYPROBE_READY_FILE")
    return all(p.enabled for p in probes) and (not ready or os.path.exists(ready))


def announce(provider):
    print("path", provider.name, provider.path)
    print("loaded", flush=True)


def mode_types():
    p = pyprobe.Provider("py_types")
    small = p.add_probe("small", pyprobe.INT8, pyprobe.UINT8, pyprobe.INT16, pyprobe.UINT16,
                        pyprobe.INT32, pyprobe.UINT32)
    wide = p.add_probe("wide", int, pyprobe.UINT64, str, pyprobe.POINTER)
    text = p.add_probe("text", str, pyprobe.STRING, str)
    twelve = p.add_probe("twelve", str, pyprobe.INT32, pyprobe.UINT8, pyprobe.INT16, pyprobe.UINT64,
                         pyprobe.POINTER, pyprobe.INT8, pyprobe.UINT16, int, pyprobe.UINT32, str, pyprobe.INT32)
    none = p.add_probe("none")
    with p:
        announce(p)
        wait_until(lambda: traced([small, wide, text, twelve, none]), "no tracer")
        small.fire(-128, 255, -32768, 65535, -2**31, 2**32 - 1)
        small.fire(127, 0, 32767, 0, 2**31 - 1, 0)
        small.fire(True, False, -1, 1, -2, 2)
        wide.fire(-2**63, 2**64 - 1, "wide string \u00e9", 0x1234abcd)
        wide.fire(2**63 - 1, 0, "", None)
        text.fire("snowman \u2603", b"raw bytes", "lone \udcff surrogate")
        twelve.fire("first string", -123456, 200, -300, 0xfedcba9876543210, 0xabcdef,
                    -7, 60000, -1234567890123, 3000000000, "last string", 2**31 - 1)
        for _ in range(3):
            none.fire()


def mode_enabled():
    p = pyprobe.Provider("py_enabled")
    tick = p.add_probe("tick", pyprobe.INT32)
    with p:
        announce(p)
        print("enabled", tick.enabled, flush=True)
        wait_until(lambda: traced([tick]), "no tracer")
        print("enabled", tick.enabled, flush=True)
        for i in range(1, 6):
            tick.fire(i)
        wait_until(lambda: not tick.enabled, "still traced")
        print("enabled", tick.enabled, flush=True)


if __name__ == "__main__":
    {"types": mode_types, "enabled": mode_enabled}[sys.argv[1]]()
