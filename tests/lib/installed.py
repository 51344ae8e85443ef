"""Shared by the tests of pyprobe as people install it (tests/install,
tests/python/test_pip.py): a copy of the source tree to build, and the
Python tracing test run against an installed package.
"""
import os
import shutil
import subprocess
import sys

from common import SKIP_EXIT, check, skip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python", "backend"))
import pyprobe_backend  # noqa: E402 - source_files(): the tree as the sdist has it


def copy_source_tree(destination):
    """The source tree's files (git's, or all but build trees), into destination."""
    for name in pyprobe_backend.source_files():
        target = os.path.join(destination, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), target, follow_symlinks=False)
    return destination


def trace_installed_package(python, env, what):
    """tests/runtime/test_python_trace.py run by `python`, so that the
    pyprobe it imports is the installed one (env must not reach a build
    tree's): every argument type exact under bpftrace, enabled following
    the tracer."""
    env = dict(env, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "tests", "lib"),
                                                os.path.join(ROOT, "tests", "runtime")]))
    proc = subprocess.run([python, os.path.join(ROOT, "tests", "runtime", "test_python_trace.py")],
                          env=env, capture_output=True, text=True, timeout=600)
    print(proc.stdout, end="")
    if proc.returncode == SKIP_EXIT:
        skip(proc.stdout.strip().splitlines()[-1])
    check(proc.returncode == 0, f"test_python_trace.py with {what}: exit {proc.returncode}\n{proc.stderr}")
    print(f"ok: {what}: a provider defined from Python, traced by bpftrace")
