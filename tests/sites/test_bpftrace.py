#!/usr/bin/env python3
"""bpftrace sees every probe of the module with exact arguments and counts.

Attaches a usdt: program to all 12 probes of --module (libpyprobe.so, or the
statically linked program itself), runs --program under it, and compares
every event bpftrace printed with what fire_all fires (events.py).
"""
import collections

from common import check, fail, run_bpftrace
from events import SIGNATURES, decode_event, expected_counts, fire_all_options

FORMAT = {"s": "%s", "i": "%ld"}


def script(module, provider):
    blocks = []
    for probe, kinds in SIGNATURES.items():
        fmt = "|".join([probe] + [FORMAT[k] for k in kinds])
        args = ", ".join(f"str(arg{i})" if k == "s" else f"(int64)arg{i}"
                         for i, k in enumerate(kinds))
        blocks.append(f'usdt:{module}:{provider}:{probe} {{ printf("{fmt}\\n", {args}); }}')
    return "\n".join(blocks)


def parse(output):
    events = collections.Counter()
    for line in output.splitlines():
        probe, *fields = line.split("|")
        event = decode_event(probe, fields)
        if event is None:
            fail(f"unexpected bpftrace line: {line!r}")
        events[event] += 1
    return events


def main():
    opts = fire_all_options(__doc__)

    seen = parse(run_bpftrace(script(opts.module, opts.provider), command=[opts.program]))
    expected = expected_counts()
    for key in sorted(set(seen) | set(expected)):
        check(seen[key] == expected.get(key, 0),
              f"{key}: bpftrace saw {seen[key]} hits, fire_all fired {expected.get(key, 0)}")
    print(f"ok: {sum(seen.values())} events on {len(SIGNATURES)} probes match exactly")


if __name__ == "__main__":
    main()
