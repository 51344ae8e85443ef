"""Runs a Python program once the tracer is attached.

    python launch.py PROGRAM.py [ARGS...]     runs PROGRAM.py as __main__
    python launch.py -m MODULE [ARGS...]      runs MODULE as __main__

First waits (up to 60 s) for the file named by PYPROBE_READY_FILE, which the
tracer's BEGIN creates once every probe is attached (tests/lib/common.py
trace_command), so that the program's first events are not lost; under
`python -m pyprobe run` also for pyprobe to follow the tracer. Runs the
program as `python PROGRAM.py` would: same __main__, same sys.argv, and the
code objects carry the path given (CPython's scenarios are run by absolute
path, as test_dtrace.py does).
"""
import os
import runpy
import sys
import time


def wait_for_pyprobe(deadline):
    """Under `python -m pyprobe run` (a stock CPython with the pyprobe
    package), also waits until its watcher has turned on what the tracer
    attached to: it looks every 10 ms. On 3.11 it watches the interpreter's
    own function__entry alone (the interpreter fires the rest itself), so a
    tracer of other probes leaves nothing to wait for."""
    pyprobe = sys.modules.get("pyprobe")
    if not pyprobe or not pyprobe.enabled():
        return
    own_probes = sys.version_info >= (3, 12)
    while (own_probes and not pyprobe.attached()) or pyprobe.traced() != pyprobe.attached():
        if time.monotonic() > deadline:
            sys.exit(f"launch.py: pyprobe followed {pyprobe.traced()}, tracer attached {pyprobe.attached()}")
        time.sleep(0.001)


def main():
    ready = os.environ.get("PYPROBE_READY_FILE")
    deadline = time.monotonic() + 60
    while ready and not os.path.exists(ready):
        if time.monotonic() > deadline:
            sys.exit(f"launch.py: the tracer did not attach within 60 s ({ready} not created)")
        time.sleep(0.01)
    wait_for_pyprobe(deadline)
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        sys.argv = sys.argv[2:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    elif len(sys.argv) >= 2:
        sys.argv = sys.argv[1:]
        sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
        runpy.run_path(sys.argv[0], run_name="__main__")
    else:
        sys.exit("usage: launch.py PROGRAM.py [ARGS...] | launch.py -m MODULE [ARGS...]")


if __name__ == "__main__":
    main()
