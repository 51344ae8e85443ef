#!/usr/bin/env python3
"""gdb lists every probe of the module and stops at each with exact arguments.

Runs --program under gdb in batch mode with a generated command file: after
`start` (the shared library is loaded by then) it prints `info probes`, then
puts a `break -probe-stap PROVIDER:NAME` on each of the 12 probes whose
commands print $_probe_argc and every argument and continue. gdb raises a
probe's semaphore itself when it inserts the breakpoint, so fire_all's wait
for all 12 enabled probes completes. Every stop is compared with what fire_all
fires (events.py); `info probes` must list the 12 probes in --module.
"""
import collections
import os
import re
import tempfile

from common import check, fail, require_tool, run, skip
from events import PROBES, SIGNATURES, decode_event, expected_counts, fire_all_options

# Lines the command file prints start with this; nothing else is parsed.
MARK = "@pyprobe-gdb@"
FORMAT = {"s": "%s", "i": "%ld"}


def command_file(provider, log):
    lines = [
        "set pagination off",
        "set confirm off",
        "set width 0",
        "set height 0",
        "set debuginfod enabled off",
        # gdb's own output goes to a file, as bpftrace's -o: the traced
        # program's output cannot end up in the middle of a line of it.
        f"set logging file {log}",
        "set logging overwrite on",
        "set logging redirect on",
        "set logging enabled on",
        "start",
        f'printf "{MARK}probes-begin\\n"',
        "info probes stap",
        f'printf "{MARK}probes-end\\n"',
    ]
    for probe, kinds in SIGNATURES.items():
        # argc first, then one printf per argument: should a probe have
        # fewer arguments than its signature, gdb reports which is missing.
        lines += [f"break -probe-stap {provider}:{probe}", "commands", "silent",
                  f'printf "{MARK}stop|{probe}|%d", $_probe_argc']
        for i, kind in enumerate(kinds):
            value = f"(const char *) $_probe_arg{i}" if kind == "s" else f"$_probe_arg{i}"
            lines.append(f'printf "|{FORMAT[kind]}", {value}')
        lines += ['printf "\\n"', "continue", "end"]
    lines += ["continue", f'printf "{MARK}exit|%d\\n", $_exitcode']
    return "\n".join(lines) + "\n"


def run_gdb(gdb, program, provider):
    with tempfile.TemporaryDirectory(prefix="pyprobe-gdb-") as tmp:
        cmdfile, log = os.path.join(tmp, "commands.gdb"), os.path.join(tmp, "gdb.log")
        with open(cmdfile, "w") as f:
            f.write(command_file(provider, log))
        # LeakSanitizer cannot run under ptrace; the sanitizer build's other
        # tests still check for leaks.
        asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        env = dict(os.environ, DEBUGINFOD_URLS="", ASAN_OPTIONS=asan)
        proc = run([gdb, "-nx", "-batch", "-x", cmdfile, "--args", program],
                   timeout=180, check_exit=False, env=env)
        text = open(log).read() if os.path.exists(log) else ""
    everything = f"--- gdb log\n{text}--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
    if f"{MARK}probes-begin" not in text:
        if re.search(r"ptrace|Operation not permitted|Cannot create process", everything):
            skip(f"gdb cannot run a program here:\n{everything}")
        fail(f"gdb did not start {program}:\n{everything}")
    return text, everything, proc.returncode


def probes_listed(text):
    """{(provider, name): [object, ...]} from the `info probes` block."""
    block = text.split(f"{MARK}probes-begin\n", 1)[1].split(f"{MARK}probes-end", 1)[0]
    rows = block.splitlines()
    header = next((i for i, row in enumerate(rows) if row.startswith("Type ")), None)
    if header is None:
        return {}
    # Columns are padded to their widest entry; Object is the last one.
    object_column = rows[header].index("Object")
    listed = collections.defaultdict(list)
    for row in rows[header + 1:]:
        fields = row.split()
        if len(fields) >= 3 and fields[0] == "stap":
            listed[(fields[1], fields[2])].append(row[object_column:].strip())
    return listed


def stops(text):
    """Counter of (probe, args) and the set of (probe, argc) seen."""
    seen, argcs = collections.Counter(), set()
    for line in text.splitlines():
        if not line.startswith(f"{MARK}stop|"):
            continue
        _, probe, argc, *fields = line.split("|")
        event = decode_event(probe, fields)
        if event is None or not argc.isdigit():
            fail(f"unexpected gdb line: {line!r}")
        argcs.add((probe, int(argc)))
        seen[event] += 1
    return seen, argcs


def main():
    opts = fire_all_options(__doc__)

    gdb = require_tool("gdb")
    text, everything, status = run_gdb(gdb, opts.program, opts.provider)

    # (a) info probes: each of the 12 probes, and only in the module.
    module = os.path.realpath(opts.module)
    listed = probes_listed(text)
    for probe in PROBES:
        objects = listed.get((opts.provider, probe), [])
        check(objects, f"info probes does not list {opts.provider}:{probe}:\n{everything}")
        check(all(os.path.realpath(o) == module for o in objects),
              f"info probes lists {opts.provider}:{probe} in {objects}, expected {module}")
    extra = sorted(name for provider, name in listed if provider == opts.provider and name not in PROBES)
    check(not extra, f"info probes lists unknown {opts.provider} probes: {extra}")

    # An error in the command file (say a breakpoint gdb could not set, or
    # an argument a probe lacks) stops gdb there with a non-zero exit.
    check(status == 0, f"gdb exit {status} (an error in the command file?):\n{everything}")

    # (b) the stops: counts, argc and every argument exactly.
    seen, argcs = stops(text)
    for probe, argc in sorted(argcs):
        check(argc == len(SIGNATURES[probe]),
              f"{probe}: $_probe_argc is {argc}, its signature has {len(SIGNATURES[probe])}")
    expected = expected_counts()
    for key in sorted(set(seen) | set(expected)):
        check(seen[key] == expected.get(key, 0),
              f"{key}: gdb stopped {seen[key]} times, fire_all fired {expected.get(key, 0)}\n{everything}")
    check(f"{MARK}exit|0" in text, f"{opts.program} did not exit 0 under gdb:\n{everything}")
    print(f"ok: info probes lists {len(PROBES)} probes in {module}; "
          f"{sum(seen.values())} stops match exactly")


if __name__ == "__main__":
    main()
