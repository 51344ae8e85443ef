"""CPython 3.11 built with pyprobe's pydtrace_probes.h, against CPython's own
scenarios, side by side with Debian's python3.11 (built --with-dtrace).

    test_cpython.py --work DIR STEP [options]

STEP is one ctest test (label cpython):
  build       examples/cpython/build into DIR (the fixture of the others)
  probes      the built python publishes all 12 probes (pyprobe -l, or readelf)
  scenarios   Lib/test/dtracedata's call_stack.d, gc.d and line.d, unchanged,
              run by `pyprobe -q -s NAME.d -c 'PYTHON NAME.py'` (the D front
              end), normalised as test_dtrace.py does and compared with the
              .expected files, on the pyprobe build and on Debian's
              python3.11 (--with-dtrace, gh-98894): both must match
  entry-only  gh-98894: function__entry alone fires for every ordinary call,
              and line's fire function is never called unless line is traced
  imports-audit  import__find__load__start/done and audit arguments
  regrtest    some of CPython's regression tests, untraced and (tracing
              paths) with function__entry traced
With --shared, build and scenarios take the CPython linked with
libpyprobe.so (examples/cpython/build --shared), whose probes are in the
library.

The steps build CPython (minutes, network); they run only with
PYPROBE_CPYTHON=1 (tests/run in CI) and exit 77 (skipped) otherwise.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
from common import check, fail, run, trace_command, bpftrace_usable

SCENARIOS = ["call_stack", "gc", "line"]
PROBES = ["function-entry", "function-return", "line", "gc-start", "gc-done",
          "instance-new-start", "instance-new-done", "instance-delete-start",
          "instance-delete-done", "import-find-load-start", "import-find-load-done", "audit"]
LAUNCH = os.path.join(HERE, "launch.py")
REGRTESTS = ["test_gc", "test_audit", "test_import", "test_sys",
             "test_sys_settrace", "test_sys_setprofile", "test_trace", "test_generators"]
# Run in one process with function__entry traced: every instruction then
# takes 3.11's tracing path (DO_TRACING), also under sys.settrace/setprofile.
TRACED_REGRTESTS = ["test_sys_settrace", "test_sys_setprofile", "test_generators", "test_gc"]


def python_of(work, shared=False):
    python = os.path.join(work, "build-shared" if shared else "build-static", "python")
    if not os.access(python, os.X_OK):
        test = "cpython_build_shared" if shared else "cpython_build"
        fail(f"no CPython build at {python}: the {test} test makes it (PYPROBE_CPYTHON=1)")
    return python


def dtracedata_of(work):
    found = sorted(glob.glob(os.path.join(work, "src", "Python-3.11*", "Lib", "test", "dtracedata")))
    if not found:
        fail(f"no CPython source under {work}/src: the cpython_build test fetches it")
    return found[-1]


def anchor_of(path):
    """Debian's python3.11 when it is there with its python probes, else None."""
    if not path or not os.path.exists(path):
        return None
    path = os.path.realpath(path)
    notes = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return path if "Provider: python" in notes else None


def normalize_trace_output(output):
    """test_dtrace.py's normalisation: rows are "TIMESTAMP<TAB>TEXT"; skip
    empty rows and '#' rows, sort on the timestamp, keep TEXT."""
    output = re.sub(r"\[[0-9]+ refs\]", "", output)
    try:
        result = [row.split("\t") for row in output.splitlines() if row and not row.startswith("#")]
        result.sort(key=lambda row: int(row[0]))
        return "\n".join(row[1] for row in result)
    except (IndexError, ValueError):
        fail(f"tracer produced unparsable output:\n{output}")


def run_scenario(pyprobe, python, directory, name):
    """(matches, expected lines, actual lines) for one scenario on one build,
    as test_dtrace.py runs it: `dtrace -q -s NAME.d -c 'PYTHON NAME.py'`
    from the scenarios' directory, with pyprobe for dtrace. pyprobe holds
    the command until the probes are attached, so nothing is missed.
    python: the interpreter, or the words that run a file with it (a stock
    one's `python -m pyprobe run`)."""
    words = python if isinstance(python, list) else [python]
    cmd = [pyprobe, "-q", "-s", name + ".d", "-c", " ".join(words + [name + ".py"])]
    # The scenario prints on the same stdout: block-buffered, as a python
    # started from a terminal-less dtrace is, its lines come out whole (its
    # one write at exit) and never split ours; PYTHONUNBUFFERED (CI sets it)
    # would write print()'s pieces one by one.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=directory, timeout=300, env=env)
    check(proc.returncode == 0, f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr}")
    actual = normalize_trace_output(proc.stdout)
    with open(os.path.join(directory, name + ".d.expected")) as f:
        expected = f.read().rstrip()
    return actual == expected, expected.splitlines(), actual.splitlines()


# ---- steps ----

def step_build(opts):
    cmd = [opts.build_script, "--work", opts.work]
    if opts.pyprobe_build:
        cmd += ["--pyprobe-build", opts.pyprobe_build]
    if opts.shared:
        cmd.append("--shared")
    print("$ " + " ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    lines = proc.stdout.strip().splitlines()
    check(proc.returncode == 0, f"examples/cpython/build exit {proc.returncode}")
    python = python_of(opts.work, opts.shared)
    check(lines and lines[-1] == python, f"examples/cpython/build's last line is {lines[-1:]}, not {python}")
    version = run([lines[-1], "-c", "import sys; print(sys.version)"]).stdout.strip()
    print(f"built {lines[-1]} ({version}) in {seconds:.0f} s")


def step_probes(opts):
    python = python_of(opts.work)
    if opts.pyprobe and os.access(opts.pyprobe, os.X_OK):
        listing = run([opts.pyprobe, "-l", python]).stdout
        print(listing, end="")
        rows = [line.split() for line in listing.splitlines()[1:] if line.strip()]
        found = {row[-1] for row in rows if row[1] == "python" and row[2] == "python"}
        tool = "pyprobe -l"
    else:
        notes = run([opts.readelf, "-n", python]).stdout
        pairs = re.findall(r"Provider: (\S+)\s+Name: (\S+)", notes)
        for provider, name in pairs:
            print(f"{provider}:{name}")
        found = {name.replace("__", "-") for provider, name in pairs if provider == "python"}
        tool = "readelf -n"
    missing = [p for p in PROBES if p not in found]
    check(not missing, f"{tool} {python}: missing probes {missing}")
    print(f"{tool}: all {len(PROBES)} python probes in {python}")


def step_scenarios(opts):
    check(opts.pyprobe and os.access(opts.pyprobe, os.X_OK), f"scenarios: no pyprobe command ({opts.pyprobe})")
    python = python_of(opts.work, opts.shared)
    directory = dtracedata_of(opts.work)
    mine = "pyprobe build (libpyprobe.so)" if opts.shared else "pyprobe build"
    builds = [(mine, python)]
    anchor = None if opts.shared else anchor_of(opts.anchor)
    if anchor:
        builds.append((f"Debian {os.path.basename(anchor)}", anchor))
    results = {}
    for label, path in builds:
        for name in SCENARIOS:
            results[label, name] = run_scenario(opts.pyprobe, path, directory, name)
    if not anchor and not opts.shared:
        builds.append((f"{opts.anchor}", None))

    def cell(label, name):
        if (label, name) not in results:
            return "n/a (no python probes)"
        same, expected, actual = results[label, name]
        if same:
            return f"match ({len(expected)} lines)"
        common = sum(1 for line in actual if line in expected)
        return f"DIFFERS ({len(actual)} lines, {common} of {len(expected)} expected)"

    widths = [12] + [max(len(b[0]), 32) for b in builds]
    print(f"scenarios from {directory}, normalised as test_dtrace.py does:")
    print("  ".join(h.ljust(w) for h, w in zip(["scenario"] + [b[0] for b in builds], widths)).rstrip())
    for name in SCENARIOS:
        cells = [name] + [cell(b[0], name) for b in builds]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    bad = [(label, name) for (label, name), result in results.items() if not result[0]]
    for label, name in bad:
        _, expected, actual = results[label, name]
        print(f"--- {name}.d.expected\n" + "\n".join(expected) + f"\n--- {label}\n" + "\n".join(actual))
    check(not bad, "differs from CPython's expected output: " + ", ".join(f"{name}.d on {label}" for label, name in bad))


def count_script(python, with_line, fire_uprobe):
    maps = ["entries"]
    script = f'usdt:{python}:python:function__entry /str(arg1) == "callee"/ {{ @entries += 1; }}\n'
    if with_line:
        maps.append("lines")
        script += f'usdt:{python}:python:line /str(arg1) == "caller"/ {{ @lines += 1; }}\n'
    if fire_uprobe:
        # Called only when PyDTrace_LINE()'s own check passes: a plain uprobe
        # raises no semaphore.
        maps.append("line_fires")
        script += f'uprobe:{python}:pyprobe_fire_line {{ @line_fires += 1; }}\n'
    fmt = " ".join(f"{m}=%d" for m in maps)
    args = ", ".join(f"@{m}" for m in maps)
    clears = " ".join(f"clear(@{m});" for m in maps)
    return script + f'END {{ printf("{fmt}\\n", {args}); {clears} }}\n'


def counts(python, with_line, fire_uprobe=True):
    """(entries of callee, lines in caller, calls of pyprobe_fire_line) while
    calls.py runs; None for what was not traced."""
    output, _ = trace_command(count_script(python, with_line, fire_uprobe),
                              [python, LAUNCH, os.path.join(HERE, "calls.py")])
    found = dict(re.findall(r"(\w+)=(\d+)", output))
    check("entries" in found, f"no counts in bpftrace's output:\n{output}")
    return tuple(int(found[k]) if k in found else None for k in ("entries", "lines", "line_fires"))


def step_entry_only(opts):
    python = python_of(opts.work)
    calls = 100
    entries, _, line_fires = counts(python, with_line=False)
    print(f"pyprobe build, function__entry only: {entries} entries of callee() for {calls} calls, "
          f"pyprobe_fire_line called {line_fires} times")
    anchor = anchor_of(opts.anchor)
    if anchor:
        anchor_entries, _, _ = counts(anchor, with_line=False, fire_uprobe=False)
        print(f"Debian {anchor}, function__entry only: {anchor_entries} entries of callee() "
              f"(gh-98894 when 0)")
    check(entries == calls, f"function__entry alone fired {entries} times for {calls} calls")
    check(line_fires == 0, f"line fired {line_fires} times while only function__entry was traced")
    # The control: with line traced too, both fire, and the uprobe sees it.
    entries, lines, line_fires = counts(python, with_line=True)
    print(f"pyprobe build, function__entry and line: {entries} entries, {lines} lines in caller(), "
          f"pyprobe_fire_line called {line_fires} times")
    check(entries == calls, f"with line traced too, function__entry fired {entries} times for {calls} calls")
    check(lines > 0 and line_fires >= lines, f"line traced: {lines} lines, {line_fires} fire calls")


def step_imports_audit(opts):
    python = python_of(opts.work)
    script = (
        f'usdt:{python}:python:import__find__load__start {{ printf("start %s\\n", str(arg0)); }}\n'
        f'usdt:{python}:python:import__find__load__done {{ printf("done %s %d\\n", str(arg0), arg1); }}\n'
        # args is the event's tuple: ob_size at 16, ob_item[0] at 24; a
        # compact ASCII str's characters follow its 48-byte header (3.11).
        f'usdt:{python}:python:audit /str(arg0) == "open"/ {{\n'
        f'  printf("audit %s %d %s\\n", str(arg0), *(int64 *)(arg1 + 16),\n'
        f'         str(*(uint64 *)(arg1 + 24) + 48));\n'
        f'}}\n')
    with tempfile.TemporaryDirectory(prefix="pyprobe-cpy-") as tmp:
        target = os.path.join(tmp, "audited.txt")
        output, _ = trace_command(script, [python, LAUNCH, os.path.join(HERE, "imports_audit.py"), target])
    lines = output.splitlines()
    print("\n".join(line for line in lines if "colorsys" in line or "pyprobe_no_such" in line
                    or target in line))
    for want in ["start colorsys", "done colorsys 1", "start pyprobe_no_such_module",
                 "done pyprobe_no_such_module 0", f"audit open 3 {target}"]:
        check(want in lines, f"no '{want}' in the trace:\n{output}")
    print("import__find__load__start/done and audit: right arguments")


def step_regrtest(opts):
    python = python_of(opts.work)
    start = time.monotonic()
    proc = run([python, "-m", "test", f"-j{os.cpu_count() or 1}", *REGRTESTS], timeout=900,
               check_exit=False)
    print(proc.stdout[-3000:], end="")
    check(proc.returncode == 0, f"{python} -m test {' '.join(REGRTESTS)}: exit {proc.returncode}\n"
                                f"{proc.stderr[-3000:]}")
    print(f"untraced: {' '.join(REGRTESTS)} passed in {time.monotonic() - start:.0f} s")
    start = time.monotonic()
    script = f'usdt:{python}:python:function__entry {{ @entries += 1; }}\n' \
             'END { printf("entries=%d\\n", @entries); clear(@entries); }\n'
    output, child_out = trace_command(script, [python, LAUNCH, "-m", "test", *TRACED_REGRTESTS],
                                      timeout=900)
    found = re.search(r"entries=(\d+)", output)
    check(found and int(found.group(1)) > 1000, f"function__entry barely fired while traced:\n{output}")
    check("Tests result: SUCCESS" in child_out, f"traced regression tests:\n{child_out[-3000:]}")
    print(f"with function__entry traced ({found.group(1)} entries): {' '.join(TRACED_REGRTESTS)} "
          f"passed in {time.monotonic() - start:.0f} s")


STEPS = {"build": step_build, "probes": step_probes, "scenarios": step_scenarios,
         "entry-only": step_entry_only, "imports-audit": step_imports_audit, "regrtest": step_regrtest}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--work", required=True, help="examples/cpython/build's --work directory")
    parser.add_argument("--build-script", help="examples/cpython/build")
    parser.add_argument("--pyprobe-build", help="the pyprobe build tree to link")
    parser.add_argument("--pyprobe", help="the pyprobe command (probes: pyprobe -l; scenarios: pyprobe -s)")
    parser.add_argument("--readelf", default="readelf")
    parser.add_argument("--shared", action="store_true",
                        help="build and scenarios: the CPython linked with libpyprobe.so")
    parser.add_argument("--anchor", default="/usr/bin/python3.11",
                        help="Debian's python3.11, shown side by side")
    opts = parser.parse_args()
    if os.environ.get("PYPROBE_CPYTHON") != "1":
        print("SKIP: the cpython tests build CPython 3.11 (minutes, network, root): set PYPROBE_CPYTHON=1")
        sys.exit(77)
    opts.work = os.path.abspath(opts.work)
    if opts.step not in ("build", "probes"):
        bpftrace_usable()
    STEPS[opts.step](opts)


if __name__ == "__main__":
    main()
