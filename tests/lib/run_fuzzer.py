#!/usr/bin/env python3
"""Runs a fuzz target (fuzz/*.c, libFuzzer with AddressSanitizer and
UndefinedBehaviorSanitizer; cmake/PyprobeTesting.cmake's pyprobe_fuzz_test)
from its seed corpora for a bounded time. Any crash, sanitizer report, leak
or time-out fails the test; the executions and coverage are printed.
"""
import argparse
import os
import re
import shutil
import subprocess

from common import check, fail


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fuzzer", required=True)
    parser.add_argument("--seeds", action="append", required=True, help="a seed corpus (read only)")
    parser.add_argument("--work", required=True, help="a directory for the grown corpus and crash files")
    parser.add_argument("--seconds", type=int, default=60)
    opts = parser.parse_args()

    corpus = os.path.join(opts.work, "corpus")
    shutil.rmtree(opts.work, ignore_errors=True)
    os.makedirs(corpus)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    cmd = [opts.fuzzer, f"-max_total_time={opts.seconds}", "-timeout=10", "-rss_limit_mb=4096",
           "-print_final_stats=1", f"-artifact_prefix={opts.work}/", corpus, *opts.seeds]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=opts.seconds + 300, env=env,
                              errors="replace")
    except subprocess.TimeoutExpired:
        fail(f"the fuzzer did not stop: {' '.join(cmd)}")
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 or re.search(r"ERROR: |runtime error:|SUMMARY: ", log):
        artifacts = [f for f in os.listdir(opts.work) if f != "corpus"]
        fail(f"exit {proc.returncode}; crash files in {opts.work}: {artifacts}\n" + log[-6000:])
    status = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/", log)
    runs = re.search(r"stat::number_of_executed_units: (\d+)", log)
    rate = re.search(r"stat::average_exec_per_sec: +(\d+)", log)
    check(status and runs, f"no libFuzzer statistics in its output:\n{log[-3000:]}")
    cov, features, units = status[-1]
    print(f"ok: {runs.group(1)} executions in {opts.seconds} s ({rate.group(1) if rate else '?'}/s), "
          f"coverage {cov} edges, {features} features, corpus {units} inputs; no crash, leak or time-out")


if __name__ == "__main__":
    main()
