"""bench/run's parts and what they share.

    builds   the pyprobe trees, bench/consumer against each, CPython
    shell    running commands: logs, output, failures, progress
    report   the markdown the parts write: tables, ratios, the results file
    measure  callgrind, wall time, peak memory, medians
    idle     part 1, cost while nobody traces (pint, CPython)
    hits     part 2, cost per probe hit while bpftrace counts
    lister   part 3, pyprobe -l against readelf -n and bpftrace -l
    sites    part 4, tests/sites/test_site_code.py's checks on both site kinds
    stock    part 5, the pyprobe package on stock CPython 3.12 to 3.14
    sidebyside  part 6, the ways to get function__entry on one table
    lua      part 7, Lua 5.4 built with pyprobe (examples/lua)
    dscripts part 8, D on Linux: pyprobe -n against bpftrace
"""
import os

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
PROGRAMS = os.path.join(BENCH, "programs")
