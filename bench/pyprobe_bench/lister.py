"""Part 3, listing probes: `pyprobe -l` against `readelf -n` and `bpftrace
-l` on OpenJDK's libjvm.so and on synthetic ELF files (bench/synth_elf.py):
median time, instructions and peak memory, as ratios to readelf."""
import glob
import os
import shutil

import synth_elf  # bench/, on sys.path as bench/run's directory

from .measure import callgrind, median, peak_kib, wall
from .report import ratio
from .shell import output, say

BASE = "readelf -n"


def synthetic_file(out, sites):
    """A synthetic ELF file with `sites` probe sites, generated once."""
    path = os.path.join(out, f"synth-{sites}.so")
    if not os.path.exists(path):
        say(f"generating a synthetic ELF with {sites:,} probe sites")
        synth_elf.generate(sites, min(1000, sites), path + ".tmp")
        os.rename(path + ".tmp", path)
    return path


def files_to_list(builds, opts):
    """[(path, sites or None)]: libjvm.so if there is one (its sites are
    counted later), then the synthetic files."""
    files = []
    jvms = sorted(glob.glob("/usr/lib/jvm/*/lib/server/libjvm.so"))
    if jvms:
        files.append((os.path.realpath(jvms[0]), None))
    for sites in ([1000] if opts.quick else [1000, 10000, 100000]):
        files.append((synthetic_file(builds.out, sites), sites))
    return files


def sample(commands, runs, scratch):
    """{command name: ([seconds], [peak KiB])} of runs runs each."""
    samples = {name: ([], []) for name, _ in commands}
    for _, cmd in commands:  # warm the page cache
        wall(cmd)
    # readelf and pyprobe interleaved (drift hits both alike), then
    # bpftrace on its own: a run of it disturbs the next few milliseconds.
    for group in (commands[:2], commands[2:]):
        for _ in range(runs):
            for name, cmd in group:
                samples[name][0].append(wall(cmd))
    for _ in range(runs):
        for name, cmd in commands:
            samples[name][1].append(peak_kib(cmd, scratch))
    return samples


def scaling(per_site, synth, report):
    """Time against the number of sites, on the synthetic files."""
    lo, hi = synth[0], synth[-1]
    rows = []
    for name, by_sites in per_site.items():
        marginal = (by_sites[hi] - by_sites[lo]) / (hi - lo) * 1e6
        rows.append([name] + [f"{by_sites[s] * 1000:.1f}" for s in synth] +
                    [f"{by_sites[hi] / by_sites[synth[-2]]:.1f}x", f"{marginal:.2f}"])
    report.emit("Scaling on the synthetic files (time ms):")
    report.emit()
    report.table(["command"] + [f"{s:,} sites" for s in synth] +
                 [f"{synth[-2]:,} -> {hi:,}", "us per added site"], rows)


def run(builds, opts, scratch, report):
    report.emit("## 3. Listing probes: pyprobe -l, readelf -n, bpftrace -l")
    report.emit()
    if not os.access("/usr/bin/time", os.X_OK):
        report.emit("skipped: GNU time is needed for the memory figures (apt-get install time)")
        report.emit()
        return
    pyprobe = builds.lister()
    runs = 3 if opts.quick else 21
    files = files_to_list(builds, opts)
    bpftrace = shutil.which("bpftrace") if os.geteuid() == 0 else None
    rows, per_site = [], {}
    for path, sites in files:
        if sites is None:
            sites = sum(1 for line in output(["readelf", "-n", path]).splitlines() if "NT_STAPSDT" in line)
        commands = [(BASE, ["readelf", "-n", path]), ("pyprobe -l", [pyprobe, "-l", path])]
        if bpftrace:
            commands.append(("bpftrace -l", [bpftrace, "-l", f"usdt:{path}:*"]))
        say(f"lister: {os.path.basename(path)}")
        samples = sample(commands, runs, scratch)
        # Instructions do not vary from run to run as the times here do
        # (bpftrace does not run under valgrind).
        instructions = {name: callgrind(cmd) for name, cmd in commands[:2]}
        base_t, base_m = median(samples[BASE][0]), median(samples[BASE][1])
        for name, _ in commands:
            t, m = median(samples[name][0]), median(samples[name][1])
            ir = instructions.get(name)
            per_site.setdefault(name, {})[sites] = t
            rows.append([os.path.basename(path), f"{sites:,}", name, f"{t * 1000:.1f}", ratio(t, base_t),
                         f"{ir:,}" if ir else "-", ratio(ir, instructions[BASE]) if ir else "-",
                         f"{m:,}", ratio(m, base_m)])
    report.emit(f"time: median of {runs} runs each, output to /dev/null; instructions: callgrind; "
                "memory: peak RSS (GNU time)")
    report.emit()
    report.table(["file", "sites", "command", "time ms", "vs readelf", "instructions", "vs readelf",
                  "peak KiB", "vs readelf"], rows, ["l", "r", "l", "r", "r", "r", "r", "r", "r"])
    synth = sorted(s for p, s in files if p.startswith(builds.out))
    if len(synth) > 1:
        scaling(per_site, synth, report)
