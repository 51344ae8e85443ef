#!/usr/bin/env python3
"""perf finds every probe of the module as an SDT event and counts each hit.

Adds --module to perf's build-id cache, checks that `perf list sdt` shows
sdt_PROVIDER:NAME for the 12 probes, makes a uprobe event of each with
`perf probe -x MODULE -a sdt_PROVIDER:NAME ...`, records all 12 while --program runs
and compares what `perf script` shows with what fire_all fires (events.py):
hits per probe exactly, and every integer argument exactly. The events and
the cache entry are removed afterwards, whatever happens.

What perf 6.1 does here (checked on Debian 12, kernel 6.18, as root):
- `perf probe -x` writes the probe's semaphore into the uprobe as its
  reference counter (uprobe_events shows `PATH:0xPC(0xSEMAPHORE_OFFSET)`), so
  the kernel raises the semaphore when `perf record` opens the event, also in
  a library that is mapped only after the program starts. fire_all's wait for
  12 enabled probes therefore completes; no --no-wait.
- No `-a`: `perf record -e ... -- PROGRAM` opens the events for the program
  (and its children) only, which is what we count. With -a it would also
  count any other process that hits these probes meanwhile, such as another
  tracer test running fire_all in parallel.
- `-N` (--no-buildid-cache) keeps perf record from adding the program, the
  vdso and the kernel to ~/.debug; the test removes the one entry it adds.
- The events carry the note's arguments as integers (arg1.. counting from 1,
  signed per the note), so the integer arguments are checked; strings come as
  pointers, which are only checked to be non-NULL. perf 6.1 silently ignores
  fetch arguments given on an SDT event (`sdt_python:line +0(%di):string`),
  so it cannot read the strings.
- `perf probe` fails with "event ... already exists" if an event of that name
  is left over, so any sdt_PROVIDER:* events are deleted first too.
"""
import collections
import os
import re
import subprocess
import tempfile

from common import check, fail, require_root, require_tool, run, skip
from events import EVENTS, PROBES, SIGNATURES, fire_all_options, hits_per_probe

# `perf probe` or `perf record` failing for one of these reasons means that
# this kernel or machine does not let perf use uprobes: a skip, not a failure.
UNUSABLE = re.compile(r"uprobe_events|tracefs|debugfs|Permission denied|Operation not permitted"
                      r"|not supported|sys_perf_event_open")


def cleanup(perf, group, module):
    """Deletes the test's uprobe events and build-id cache entry; never fails
    (nothing may be there), so it can run before and after."""
    for cmd in ([perf, "probe", "-q", "-d", f"{group}:*"],
                [perf, "buildid-cache", "--remove", module]):
        try:
            subprocess.run(cmd, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass


def sdt_listed(text, group, module):
    """Names of group's events in `perf list sdt` that belong to module.
    perf shows `GROUP:NAME`, or `GROUP:NAME@PATH(BUILDID)` when the cache
    holds the event for more than one file."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"\s*([^\s:]+):([^\s@]+)(?:@(\S+)\([0-9a-f]+\))?\s+\[SDT event\]", line)
        if m and m.group(1) == group and (m.group(3) is None or os.path.realpath(m.group(3)) == module):
            names.add(m.group(2))
    return names


def parse_script(text, group):
    """[(probe, {argN: value})] for each of group's events `perf script` printed."""
    hits = []
    for line in text.splitlines():
        m = re.search(rf"\s{re.escape(group)}:(\S+):\s+\([0-9a-f]+\)(.*)$", line)
        if m:
            args = dict(re.findall(r"(arg\d+)=(\S+)", m.group(2)))
            hits.append((m.group(1), args))
    return hits


def integers(kinds, values):
    return tuple(v for v, k in zip(values, kinds) if k == "i")


def main():
    opts = fire_all_options(__doc__)

    perf = require_tool("perf")
    require_root("perf probe (it writes the kernel's uprobe_events)")
    group = f"sdt_{opts.provider}"
    module = os.path.realpath(opts.module)

    with tempfile.TemporaryDirectory(prefix="pyprobe-perf-") as tmp:
        cleanup(perf, group, module)
        try:
            run([perf, "buildid-cache", "--add", module])
            listed = sdt_listed(run([perf, "list", "sdt"]).stdout, group, module)
            missing = [p for p in PROBES if p not in listed]
            check(not missing, f"perf list sdt does not show {group}:{missing} for {module}")

            # One `perf probe -x MODULE -a EVENT...` adds all 12 (12 separate
            # calls work too, at about 0.15 s each).
            adds = [arg for probe in PROBES for arg in ("-a", f"{group}:{probe}")]
            proc = run([perf, "probe", "-q", "-x", module, *adds], check_exit=False)
            if proc.returncode != 0:
                if UNUSABLE.search(proc.stderr):
                    skip(f"perf cannot add uprobe events here: {proc.stderr.strip()}")
                fail(f"perf probe -x {module} {' '.join(adds)}: exit {proc.returncode}\n{proc.stderr}")

            data = os.path.join(tmp, "perf.data")
            events = [arg for probe in PROBES for arg in ("-e", f"{group}:{probe}")]
            proc = run([perf, "record", "-N", "-q", "-o", data, *events, "--", opts.program],
                       timeout=180, check_exit=False)
            if proc.returncode != 0:
                if UNUSABLE.search(proc.stderr):
                    skip(f"perf cannot record uprobe events here: {proc.stderr.strip()}")
                # perf record exits with the program's status: 3 means that
                # fire_all saw fewer than 12 semaphores raised.
                fail(f"perf record -- {opts.program}: exit {proc.returncode}\n{proc.stderr}")
            script = run([perf, "script", "-i", data]).stdout
        finally:
            cleanup(perf, group, module)

    hits = parse_script(script, group)
    counts = collections.Counter(probe for probe, _ in hits)
    expected = hits_per_probe()
    for probe in sorted(set(counts) | set(expected)):
        check(counts[probe] == expected.get(probe, 0),
              f"{group}:{probe}: perf recorded {counts[probe]} hits, fire_all fired {expected.get(probe, 0)}")

    # Arguments: perf names them arg1..argN after the note.
    seen_ints = collections.Counter()
    for probe, args in hits:
        kinds = SIGNATURES[probe]
        names = [f"arg{i + 1}" for i in range(len(kinds))]
        check(sorted(args) == sorted(names), f"{probe}: perf recorded arguments {args}, expected {names}")
        values = [int(args[n], 0) for n in names]
        for value, kind, name in zip(values, kinds, names):
            check(kind != "s" or value != 0, f"{probe}: string argument {name} is a NULL pointer")
        seen_ints[(probe, integers(kinds, values))] += 1
    expected_ints = collections.Counter()
    for probe, n, values in EVENTS:
        expected_ints[(probe, integers(SIGNATURES[probe], values))] += n
    for key in sorted(set(seen_ints) | set(expected_ints)):
        check(seen_ints[key] == expected_ints[key],
              f"{key}: perf recorded {seen_ints[key]} hits with these integer arguments, "
              f"fire_all fired {expected_ints[key]}")
    print(f"ok: perf recorded {len(hits)} hits on {len(PROBES)} probes; counts and integer arguments match")


if __name__ == "__main__":
    main()
