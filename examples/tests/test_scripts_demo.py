#!/usr/bin/env python3
"""examples/demo on a tree already built.

    test_scripts_demo.py --demo examples/demo --build-dir DIR [--unprivileged]

Without --unprivileged (ctest demo_runs, root only): the demo must show
every section, and the traced ones real data: the 12 probes, the call flow
of imports.pint in order, the top ten of tour.pint with its exact counts,
pauses of both generations, live instances by class, the talk's D one-liner
through pyprobe -n (the top ten, ascending), and a stock CPython's
call flow through the pyprobe package (when the machine has a 3.12+).

With --unprivileged (ctest demo_unprivileged): the demo runs as a user who
cannot trace (nobody, when the test runs as root). It must say why and what
to do, still list the probes, run the sample untraced and exit 0.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
from common import bpftrace_usable, check, fail, run

PROBES = ["function-entry", "function-return", "line", "gc-start", "gc-done", "instance-new-start",
          "instance-new-done", "instance-delete-start", "instance-delete-done",
          "import-find-load-start", "import-find-load-done", "audit"]


def sections(output):
    """{section number: its text}, from the `== N. title` headers."""
    parts = re.split(r"^== (\d)\. ", output, flags=re.M)
    return {int(n): text for n, text in zip(parts[1::2], parts[2::2])}


def check_probe_listing(text):
    names = set(re.findall(r"\b([a-z]+(?:[-_]{1,2}[a-z]+)*)\b", text))
    missing = [p for p in PROBES if p not in names and p.replace("-", "__") not in names]
    check(not missing, f"probe listing without {missing}:\n{text}")


def demo(opts, prefix=()):
    env = dict(os.environ)
    env.pop("PYPROBE_DEMO_BUILD_DIR", None)
    proc = run(list(prefix) + [opts.demo, "--build-dir", opts.build_dir], timeout=300, env=env, cwd="/")
    print(proc.stdout)
    check(not proc.stderr.strip(), f"the demo wrote on stderr:\n{proc.stderr}")
    return proc.stdout


def check_traced(opts):
    bpftrace_usable()
    out = sections(demo(opts))
    check(sorted(out) == [1, 2, 3, 4, 5, 6, 7], f"sections {sorted(out)}, expected 1 to 7")
    check_probe_listing(out[1])

    flow = re.findall(r"(->|<-) (\S+) (\S+):\d+$", out[2], flags=re.M)
    check([f"{a} {f} {m}" for a, f, m in flow] == [
        "-> <module> imports.pint", "-> <module> geometry.pint", "<- <module> geometry.pint",
        "-> square geometry.pint", "<- square geometry.pint", "-> Rect.init geometry.pint",
        "<- Rect.init geometry.pint", "-> Rect.area geometry.pint", "<- Rect.area geometry.pint",
        "<- <module> imports.pint"], f"call flow:\n{out[2]}")
    times = [int(t) for t in re.findall(r"^\s+(\d+)\s+\d+\s+(?:->|<-)", out[2], flags=re.M)]
    check(len(times) == 10 and all(t > 0 for t in times), f"call flow times: {times}")

    top = dict(((f, fn), int(n)) for f, fn, n in re.findall(r"@calls\[(\S+), (\S+)\]: (\d+)", out[3]))
    check(len(top) == 10 and top.get(("tour.pint", "Particle.step")) == 6000
          and top.get(("tour.pint", "report")) == 7 and top.get(("tour.pint", "fib")) == 465,
          f"top ten:\n{out[3]}")

    for generation in ("0", "1"):
        check(re.search(rf"@pause_ns\[{generation}\]: \n\s+\[\S+, \S+\)\s+[1-9]", out[4]),
              f"no pause of generation {generation}:\n{out[4]}")

    for row in ("@live[Particle, tour.pint]: 300", "@live[Swarm, tour.pint]: 1",
                "@live[Rect, geometry.pint]: 0",
                "@created[Particle, tour.pint]: 3000", "@deleted[Particle, tour.pint]: 2700"):
        check(row in out[5], f"instances: no {row!r}:\n{out[5]}")
    # The talk's one-liner through pyprobe -n: DTrace's rows, "FILE-FUNCTION"
    # keys, the ten largest counts, ascending.
    talk = [(key, int(n)) for key, n in re.findall(r"^\s+(\S+-\S+)\s+(\d+)$", out[6], flags=re.M)]
    check(len(talk) == 10 and talk[-1] == ("tour.pint-Particle.step", 6000) and ("tour.pint-fib", 465) in talk
          and [n for _, n in talk] == sorted(n for _, n in talk), f"the talk's one-liner:\n{out[6]}")
    stock = check_stock_flow(out[7])
    print(f"ok: the demo shows 7 sections, traced ones with the expected data ({stock})")


def check_stock_flow(text):
    """Section 7: a stock CPython's flow of prog.py through the pyprobe
    package, when the machine has a CPython 3.12+ with headers."""
    if text.startswith("No CPython 3.12+"):
        return "no stock CPython here"
    flow = [f"{a} {f}" for a, f in re.findall(r"(->|<-) (branch|leaf) prog\.py:\d+$", text, flags=re.M)]
    check(flow == ["-> branch", "<- branch", "-> branch", "-> leaf", "<- leaf", "<- branch", "-> branch",
                   "-> leaf", "<- leaf", "-> leaf", "<- leaf", "<- branch"], f"stock call flow:\n{text}")
    return "a stock CPython's flow exact"


def readable_by_nobody(prefix, opts):
    for path in (opts.demo, os.path.join(opts.build_dir, "examples", "pint")):
        if subprocess.run(list(prefix) + ["test", "-r", path], capture_output=True).returncode != 0:
            return False
    return True


def check_unprivileged(opts):
    """Without the right to trace: as nobody when nobody can reach the tree,
    else as root without capabilities (a tree under /root, say), where BPF
    itself is refused."""
    prefix, expect = (), ("needs root", "sudo ")
    if os.geteuid() == 0:
        setpriv = "/usr/bin/setpriv"
        if not os.access(setpriv, os.X_OK):
            fail("setpriv (util-linux) is needed to run the demo without privileges")
        prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
        if not readable_by_nobody(prefix, opts):
            prefix, expect = (setpriv, "--bounding-set=-all"), ("cannot run BPF programs here", "CAP_BPF")
    out = sections(demo(opts, prefix))
    check(sorted(out) == [1, 2], f"sections {sorted(out)}, expected 1 and 2")
    check_probe_listing(out[1])
    check("Cannot trace: " in out[2], f"no reason given:\n{out[2]}")
    for words in expect:
        check(words in out[2], f"the reason lacks {words!r}:\n{out[2]}")
    check("particles kept: 300" in out[2], f"the sample did not run untraced:\n{out[2]}")
    print(f"ok: without the right to trace ({' '.join(prefix[1:]) or 'not root'}) the demo says why, "
          "lists the probes and runs the sample untraced")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--unprivileged", action="store_true")
    opts = parser.parse_args()
    (check_unprivileged if opts.unprivileged else check_traced)(opts)


if __name__ == "__main__":
    main()
