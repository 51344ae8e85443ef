"""Runs a program as __main__ the way `python -m pyprobe run` does, with
the python provider enabled or not: bench/run's stock part compares the
two, so that both take the same path (runpy) and differ in pyprobe alone.
The sidebyside part also runs it with pyusdt imported (its PYTHONPATH).

    stock_run.py enabled|alone|pyusdt PROGRAM [ARGS...]
"""
import os
import runpy
import sys

if sys.argv[1] == "enabled":
    import pyprobe
    pyprobe.enable()
elif sys.argv[1] == "pyusdt":
    import pyusdt  # noqa: F401 (its import starts it)
mode = sys.argv[1]
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
if mode == "pyusdt":
    # pyusdt never stops its poll thread, which can take the GIL while the
    # interpreter finalizes and abort the process ("Fatal Python error:
    # gilstate_tss_set"): its exit is none of what is measured.
    sys.stdout.flush()
    os._exit(0)
