#!/usr/bin/env python3
"""pyprobe -l against readelf -n on the same file: time and memory.

    bench/lister_vs_readelf.py --pyprobe build/tools/pyprobe/pyprobe [--file LIBJVM] [--runs 21] [--check]

Runs the commands in turn, RUNS times each, output to /dev/null, and takes
the median of the wall time and of the peak resident memory (as GNU time
reports it) of each; prints both and their ratios pyprobe / readelf. The
file defaults to OpenJDK's libjvm.so (500+ probe sites, 58,000 symbols).
With --check, exits 1 when `pyprobe -l` takes longer or more memory than
readelf -n (ratio above 1 + --tolerance).
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def wall_time(cmd):
    """Seconds one run of cmd takes."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {proc.returncode}")
    return elapsed


def peak_memory(cmd, gnu_time, scratch):
    """Peak RSS of one run of cmd in KiB, as GNU time reports it. Not
    ru_maxrss of a child of this script: Linux keeps a process's peak across
    exec, so a child forked from Python starts with Python's 15 MB."""
    subprocess.run([gnu_time, "-f", "%M", "-o", scratch, *cmd], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    with open(scratch) as f:
        return int(f.read().split()[-1])


def default_file():
    found = sorted(glob.glob("/usr/lib/jvm/*/lib/server/libjvm.so"))
    if not found:
        sys.exit("no libjvm.so under /usr/lib/jvm: name a file with --file")
    return found[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--readelf", default="readelf")
    parser.add_argument("--file")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--tolerance", type=float, default=0.0, help="allowed excess ratio with --check")
    opts = parser.parse_args()
    path = opts.file or default_file()

    commands = {
        "readelf -n": [opts.readelf, "-n", path],
        "pyprobe -l": [opts.pyprobe, "-l", path],
        "pyprobe -lv": [opts.pyprobe, "-lv", path],
        "pyprobe -l --json": [opts.pyprobe, "-l", "--json", path],
    }
    gnu_time = shutil.which("time") or "/usr/bin/time"
    if not os.access(gnu_time, os.X_OK):
        sys.exit("GNU time is needed for the memory figures (apt-get install time)")
    samples = {name: [] for name in commands}
    with tempfile.NamedTemporaryFile(prefix="pyprobe-bench-") as scratch:
        for cmd in commands.values():  # warm the page cache
            wall_time(cmd)
        for _ in range(opts.runs):
            for name, cmd in commands.items():
                samples[name].append((wall_time(cmd), peak_memory(cmd, gnu_time, scratch.name)))

    base_time = statistics.median(t for t, _ in samples["readelf -n"])
    base_rss = statistics.median(r for _, r in samples["readelf -n"])
    print(f"{path}: median of {opts.runs} runs")
    print(f"{'command':<20} {'time ms':>9} {'ratio':>7} {'max RSS KiB':>12} {'ratio':>7}")
    ratios = {}
    for name in commands:
        wall = statistics.median(t for t, _ in samples[name])
        rss = statistics.median(r for _, r in samples[name])
        ratios[name] = (wall / base_time, rss / base_rss)
        print(f"{name:<20} {wall * 1000:9.2f} {ratios[name][0]:7.2f} {rss:12.0f} {ratios[name][1]:7.2f}")
    if opts.check:
        time_ratio, rss_ratio = ratios["pyprobe -l"]
        limit = 1 + opts.tolerance
        if time_ratio > limit or rss_ratio > limit:
            sys.exit(f"pyprobe -l: time ratio {time_ratio:.2f}, memory ratio {rss_ratio:.2f}: above {limit:.2f}")
        print(f"ok: pyprobe -l takes {time_ratio:.2f}x readelf -n's time and {rss_ratio:.2f}x its memory")


if __name__ == "__main__":
    main()
