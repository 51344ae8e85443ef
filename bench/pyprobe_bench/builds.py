"""The builds the parts measure: pyprobe three ways, bench/consumer (pint
and fire_loop) against each, and CPython 3.11 five ways. Each is built
once, when first asked for, and reused by later runs."""
import glob
import hashlib
import os
import re
import shlex
import shutil
import sys

from . import BENCH, ROOT
from .shell import Failure, read_text, run_logged, say

# pyprobe's build options for each kind of tree.
TREE_OPTIONS = {"nop5": [], "nop1": ["-DPYPROBE_NOP5=OFF"], "off": ["-DPYPROBE_PROBES=OFF"]}
# examples/cpython/build's builds: its options for each (the pyprobe ones
# also get --pyprobe-build, the default tree).
EXAMPLE_FLAGS = {"plain": ["--plain"], "static": [], "shared": ["--shared"]}
# CPython's objects that include the probe header, and what links them.
CPYTHON_PROBE_OBJECTS = ["Python/ceval.o", "Python/import.o", "Python/sysmodule.o", "Modules/gcmodule.o",
                         "python", "libpython3.11.a"]


def check_default_tree(tree):
    """Fails unless tree was configured with 5-byte sites and provider python."""
    cache = read_text(os.path.join(tree, "CMakeCache.txt"), "")
    if re.search(r"^PYPROBE_NOP5:BOOL=(OFF|0|FALSE|NO)", cache, re.M | re.I) or \
       not re.search(r"^PYPROBE_PROVIDER:STRING=python$", cache, re.M):
        raise Failure(f"--pyprobe-build {tree}: not a default tree (5-byte sites, provider python)")


def files_digest(paths):
    """One hash of the names and contents of files."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            digest.update(path.encode() + b"\0" + f.read())
    return digest.hexdigest()


class Builds:
    """The pyprobe trees and the programs built against them, under opts.out."""

    def __init__(self, opts):
        self.opts = opts
        self.out = opts.out
        self.logs = os.path.join(self.out, "logs")
        self.cmake = shutil.which("cmake")
        if not self.cmake:
            raise Failure("cmake not found: apt-get install cmake")
        self.trees = {}
        self.consumers = {}
        self.pythons = None  # {build: python}, or the Failure that building them raised
        self.examples = {}   # {kind: python or Failure} of examples/cpython/build

    def build(self, tree, log, *targets):
        """cmake --build tree [--target targets...], logged."""
        run_logged([self.cmake, "--build", tree, "-j", str(self.opts.jobs),
                    *(["--target", *targets] if targets else [])], log)

    def tree(self, kind):
        """kind: nop5 (default options), nop1 (-DPYPROBE_NOP5=OFF), off
        (-DPYPROBE_PROBES=OFF). Returns the build tree."""
        if kind in self.trees:
            return self.trees[kind]
        if kind == "nop5" and self.opts.pyprobe_build:
            check_default_tree(self.opts.pyprobe_build)
            self.trees[kind] = self.opts.pyprobe_build
            return self.opts.pyprobe_build
        tree = os.path.join(self.out, f"pyprobe-{kind}")
        log = os.path.join(self.logs, f"pyprobe-{kind}.log")
        say(f"building pyprobe ({kind}) in {tree}")
        run_logged([self.cmake, "-S", ROOT, "-B", tree, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    "-DPYPROBE_TESTS=OFF", *TREE_OPTIONS[kind]], log)
        self.build(tree, log, "pyprobe", "pyprobe_static", *(["pyprobe_cli"] if kind == "nop5" else []))
        self.trees[kind] = tree
        return tree

    def library(self, kind):
        """libpyprobe.so.1 of tree `kind`."""
        return os.path.join(self.tree(kind), "src", "libpyprobe.so.1")

    def consumer(self, kind):
        """bench/consumer built against tree `kind`: pint_*, fire_loop_*."""
        if kind in self.consumers:
            return self.consumers[kind]
        tree = self.tree(kind)
        out = os.path.join(self.out, f"consumer-{kind}")
        log = os.path.join(self.logs, f"consumer-{kind}.log")
        say(f"building pint and fire_loop against {tree}")
        run_logged([self.cmake, "-S", os.path.join(BENCH, "consumer"), "-B", out,
                    f"-DPYPROBE_BUILD={tree}", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], log)
        self.build(out, log)
        self.consumers[kind] = out
        return out

    def lister(self):
        """The pyprobe command (pyprobe -l) of the default tree."""
        tree = self.tree("nop5")
        path = os.path.join(tree, "tools", "pyprobe", "pyprobe")
        if not os.access(path, os.X_OK):
            self.build(tree, os.path.join(self.logs, "pyprobe-nop5.log"), "pyprobe_cli")
        return path

    def cpython(self):
        """{build: python} for plain, dtrace (CPython's own --with-dtrace),
        exact (the line guard made exact), static and shared, built from
        one source tree. A failure is remembered: every part that asks
        gets it without a second attempt."""
        if isinstance(self.pythons, Failure):
            raise self.pythons
        if self.pythons is None:
            try:
                self.pythons = self.build_cpython()
            except Failure as e:
                self.pythons = e
                raise
        return self.pythons

    def build_cpython(self):
        work = self.opts.cpython_work
        pythons = self.cpython_examples(work)
        sources = sorted(glob.glob(os.path.join(work, "src", "Python-3.11*", "configure")))
        if not sources:
            raise Failure(f"no CPython source under {work}/src")
        if not shutil.which("dtrace"):
            raise Failure("no dtrace for CPython's --with-dtrace build: apt-get install systemtap-sdt-dev")
        pythons["dtrace"] = self.cpython_variant(work, "dtrace", [sources[-1], "--with-dtrace"], [])
        pythons["exact"] = self.cpython_exact(work)
        for kind, python in pythons.items():
            if not os.access(python, os.X_OK):
                raise Failure(f"CPython ({kind}): no {python}")
        return pythons

    def cpython_examples(self, work):
        """plain, static and shared, as examples/cpython/build builds them."""
        return {kind: self.cpython_example(kind) for kind in EXAMPLE_FLAGS}

    def cpython_example(self, kind):
        """The python of one CPython 3.11 that examples/cpython/build builds
        in --cpython-work: plain, static or shared (for a part that needs
        only some of them). A failure is remembered, as cpython()'s is."""
        if kind not in self.examples:
            try:
                self.examples[kind] = self.build_example(kind)
            except Failure as e:
                self.examples[kind] = e
        if isinstance(self.examples[kind], Failure):
            raise self.examples[kind]
        return self.examples[kind]

    def build_example(self, kind):
        work = self.opts.cpython_work
        flags = EXAMPLE_FLAGS[kind]
        if kind != "plain":
            tree = self.tree("nop5")
            # cmake --install (which examples/cpython/build runs) wants every target.
            self.build(tree, os.path.join(self.logs, "pyprobe-nop5.log"))
            flags = flags + ["--pyprobe-build", tree]
        say(f"CPython ({kind}) in {work} (examples/cpython/build; minutes the first time)")
        log = os.path.join(self.logs, f"cpython-{kind}.log")
        run_logged([sys.executable, os.path.join(ROOT, "examples", "cpython", "build"), "--work", work,
                    "-j", str(self.opts.jobs), *flags], log)
        return read_text(log).strip().splitlines()[-1]  # the script's last line

    def cpython_exact(self, work):
        """The static build's configure line with the line guard made exact
        (-DPYPROBE_CPYTHON_EXACT_LINE_GUARD)."""
        configure = shlex.split(read_text(os.path.join(work, "build-static", ".pyprobe-configure")))
        configure = [re.sub(r"^CPPFLAGS=", "CPPFLAGS=-DPYPROBE_CPYTHON_EXACT_LINE_GUARD ", a) for a in configure]
        prefix = os.path.join(work, "prefix")
        inputs = sorted(glob.glob(os.path.join(prefix, "lib*", "**", "libpyprobe.a"), recursive=True))
        inputs += [os.path.join(prefix, "include", "pyprobe.h"), os.path.join(prefix, "include", "pyprobe_config.h"),
                   os.path.join(prefix, "include", "pyprobe", "cpython", "pydtrace_probes.h")]
        return self.cpython_variant(work, "exact", configure, inputs)

    def cpython_variant(self, work, kind, configure, inputs):
        """CPython configured with `configure` in WORK/build-KIND; `make
        python` (the interpreter alone: the workloads need no extension
        module). When an input file changes, the objects that include the
        probe header are rebuilt."""
        build = os.path.join(work, f"build-{kind}")
        stamp = os.path.join(build, ".bench-configure")
        log = os.path.join(self.logs, f"cpython-{kind}.log")
        if read_text(stamp) != shlex.join(configure) or not os.path.exists(os.path.join(build, "Makefile")):
            say(f"CPython ({kind}) in {build} (minutes the first time)")
            shutil.rmtree(build, ignore_errors=True)
            os.makedirs(build)
            run_logged(configure, log, cwd=build)
            with open(stamp, "w") as f:
                f.write(shlex.join(configure))
        digest = files_digest(inputs)
        inputs_stamp = os.path.join(build, ".bench-inputs")
        if read_text(inputs_stamp) != digest:
            for name in CPYTHON_PROBE_OBJECTS:
                if os.path.exists(os.path.join(build, name)):
                    os.remove(os.path.join(build, name))
        run_logged(["make", f"-j{self.opts.jobs}", "python"], log, cwd=build)
        with open(inputs_stamp, "w") as f:
            f.write(digest)
        return os.path.join(build, "python")
