"""Runs a program as __main__ the way `python -m pyprobe run` does, with
the python provider enabled or not: bench/run's stock part compares the
two, so that both take the same path (runpy) and differ in pyprobe alone.
The sidebyside part also runs it with pyusdt imported (its PYTHONPATH).

    stock_run.py enabled|alone|pyusdt PROGRAM [ARGS...]
"""
import runpy
import sys

if sys.argv[1] == "enabled":
    import pyprobe
    pyprobe.enable()
elif sys.argv[1] == "pyusdt":
    import pyusdt  # noqa: F401 (its import starts it)
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
