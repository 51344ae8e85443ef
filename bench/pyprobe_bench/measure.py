"""Measuring commands: instructions (callgrind), wall time, peak memory."""
import os
import re
import shlex
import statistics
import subprocess
import time

from .shell import Failure, output, say


def median(values):
    return statistics.median(values)


def callgrind(cmd, env=None, out_file=None):
    """Instructions retired by cmd under callgrind (every instruction, the
    dynamic loader's too)."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file or '/dev/null'}",
                           *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    found = re.findall(r"==\d+== Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise Failure(f"callgrind {shlex.join(cmd)}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return int(found[-1])


def function_costs(out_file):
    """{function: self instructions} from a callgrind output file, summed
    over the files its code comes from (inlined headers) and recursion
    levels (name'2)."""
    text = output(["callgrind_annotate", "--auto=no", "--threshold=100", out_file])
    costs = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([\s\d.]+%\)\s+)?\S*?:([^\s:']+)(?:'\d+)?(?:\s|$)", line)
        if m:
            costs[m.group(2)] = costs.get(m.group(2), 0) + int(m.group(1).replace(",", ""))
    return costs


def largest_changes(base, costs, count=2):
    """The functions whose instructions changed most, as text."""
    changes = sorted(((costs.get(f, 0) - base.get(f, 0), f) for f in set(base) | set(costs)),
                     key=lambda c: -abs(c[0]))
    return ", ".join(f"{f} {d / 1e6:+.2f}M" for d, f in changes[:count] if d)


def wall(cmd, env=None):
    """Seconds cmd took, output discarded; a Failure when it fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise Failure(f"{shlex.join(cmd)}: exit {proc.returncode}\n{proc.stderr.decode(errors='replace')}")
    return elapsed


def peak_kib(cmd, scratch):
    """Peak RSS of cmd in KiB from GNU time (not ru_maxrss of a child of
    this script: Linux keeps a process's peak across exec)."""
    out = os.path.join(scratch, "time.out")
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out, *cmd], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        return int(f.read().split()[-1])


def measure(variants, workloads, runs, scratch, env=None):
    """variants: [(name, command prefix)]; workloads: [(name, args)].
    Returns {(workload, variant): (instructions, median seconds,
    {function: instructions})}."""
    results = {}
    for wname, wargs in workloads:
        for vname, prefix in variants:
            say(f"callgrind: {vname}, {wname}")
            out_file = os.path.join(scratch, "callgrind.out")
            ir = callgrind(prefix + wargs, env=env, out_file=out_file)
            results[(wname, vname)] = [ir, [], function_costs(out_file)]
        for vname, prefix in variants:  # warm the page cache
            wall(prefix + wargs, env=env)
        for _ in range(runs):  # interleaved, so that drift hits every variant alike
            for vname, prefix in variants:
                results[(wname, vname)][1].append(wall(prefix + wargs, env=env))
    return {k: (ir, median(times), costs) for k, (ir, times, costs) in results.items()}
