#!/usr/bin/env python3
"""The Debian packages, round trip: debian/ builds them, they pass lintian,
install on this machine and work from /usr, and are purged again.

  1. A copy of the source tree (its git files, or all but build trees) is
     built as the source package (dpkg-source -b) and the binary packages
     (dpkg-buildpackage -b -us -uc -j2 -Pnocheck, DEB_BUILD_OPTIONS=nocheck:
     no tests inside it).
  2. lintian on both: no errors (warnings are printed).
  3. Each package holds its files (dpkg -c), listed here.
  4. dpkg -i; the consumer of tests/install is built against /usr with
     pkg-config and with find_package(pyprobe), and traced by bpftrace
     (test_install.py's build_and_trace); pyprobe -l -v shows the static
     program's argument types; python3 imports pyprobe from
     /usr/lib/python3/dist-packages and a provider defined there is traced.
  5. dpkg --purge, always, even when a step fails; then nothing is left.

A test run that was killed leaves a marker (MARKER) next to its installed
packages, and the next run purges them; packages of that name installed
any other way are not touched: the test fails and says so.
"""
import argparse
import glob
import os
import shutil
import subprocess
import tempfile
import time
import types

import test_install  # the consumer's builds and traces
from common import check, fail, require_root, require_tool, run, skip
from installed import ROOT, copy_source_tree, trace_installed_package

PACKAGES = ("libpyprobe1", "libpyprobe-dev", "pyprobe", "python3-pyprobe")
MARKER = "/var/tmp/pyprobe-test-deb.installed"
TOOLS = ("dpkg-buildpackage", "dpkg-source", "dh", "lintian", "dpkg-architecture")
BUILD_SECONDS = 1800


def files_expected(multiarch):
    """What each package must hold (dpkg -c paths, without the leading ".")."""
    lib = f"/usr/lib/{multiarch}"
    return {
        "libpyprobe1": [f"{lib}/libpyprobe.so.1"],
        "libpyprobe-dev": ["/usr/include/pyprobe.h", "/usr/include/pyprobe_config.h",
                           "/usr/include/pyprobe_runtime.h", "/usr/include/pyprobe/notes.h",
                           "/usr/include/pyprobe/cpython/pydtrace_probes.h", f"{lib}/libpyprobe.a",
                           f"{lib}/libpyprobe.so", f"{lib}/pkgconfig/pyprobe.pc",
                           f"{lib}/cmake/pyprobe/pyprobeConfig.cmake", f"{lib}/cmake/pyprobe/PyprobeProvider.cmake",
                           f"{lib}/pyprobe/pyprobe-provider", "/usr/share/pyprobe/python.d"],
        "pyprobe": ["/usr/bin/pyprobe", "/usr/share/man/man1/pyprobe.1.gz", "/usr/share/pyprobe/scripts/README.md"]
                   + [f"/usr/share/pyprobe/scripts/{os.path.basename(p)}"
                      for p in glob.glob(os.path.join(ROOT, "examples", "scripts", "*.[bd]*"))],
        "python3-pyprobe": ["/usr/lib/python3/dist-packages/pyprobe/__init__.py",
                            "/usr/lib/python3/dist-packages/pyprobe-auto.pth"],
    }


class Timer:
    """Seconds per step, printed at the end."""

    def __init__(self):
        self.steps = []

    def step(self, name):
        self.steps.append((name, time.monotonic()))

    def report(self):
        ends = [t for _, t in self.steps[1:]] + [time.monotonic()]
        print("times: " + ", ".join(f"{name} {end - start:.0f} s" for (name, start), end in zip(self.steps, ends)))


def present_packages():
    """Which of PACKAGES dpkg knows as installed (or half-installed, or
    removed with their configuration left)."""
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n", *PACKAGES],
                          capture_output=True, text=True, timeout=60)
    return [line.split()[0] for line in proc.stdout.splitlines()
            if len(line.split()) > 1 and not line.split()[1].startswith("un")]


def purge():
    proc = subprocess.run(["dpkg", "--purge", *PACKAGES], capture_output=True, text=True, timeout=300)
    left = present_packages()
    check(not left, f"dpkg --purge left {left}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    check(not os.path.exists("/usr/include/pyprobe.h"), "/usr/include/pyprobe.h is left after the purge")
    if os.path.exists(MARKER):
        os.unlink(MARKER)
    print(f"ok: purged {' '.join(PACKAGES)}; nothing of them is left")


def clear_the_way():
    present = present_packages()
    if not present:
        return
    if not os.path.exists(MARKER):
        fail(f"{', '.join(present)} installed already, not by this test, which would replace them: "
             f"dpkg --purge {' '.join(PACKAGES)} first")
    print(f"purging {', '.join(present)}, left by an interrupted run of this test")
    purge()


def logged(command, log, cwd, env=None, timeout=BUILD_SECONDS):
    """Runs command with its output to log; on failure shows the log's end."""
    with open(log, "w") as out:
        try:
            proc = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc = None
    if proc is None or proc.returncode != 0:
        with open(log) as f:
            tail = "".join(f.readlines()[-60:])
        fail(f"{' '.join(command)}: {'timed out' if proc is None else f'exit {proc.returncode}'} (in {cwd})\n{tail}")


def build(tmp, version):
    source = os.path.join(tmp, "pyprobe")
    copy_source_tree(source)
    said = run(["dpkg-parsechangelog", "-l", os.path.join(source, "debian", "changelog"), "-SVersion"]).stdout.strip()
    check(said == version, f"debian/changelog says {said}, CMakeLists.txt {version}")
    logged(["dpkg-source", "-b", "pyprobe"], os.path.join(tmp, "source.log"), tmp)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
    logged(["dpkg-buildpackage", "-b", "-us", "-uc", "-j2", "-Pnocheck"], os.path.join(tmp, "build.log"), source,
           env=env)
    debs = {name: os.path.join(tmp, f"{name}_{version}_{arch()}.deb") for name in PACKAGES}
    for name, path in debs.items():
        check(os.path.isfile(path), f"dpkg-buildpackage made no {path}")
    return debs


def arch():
    return run(["dpkg-architecture", "-qDEB_HOST_ARCH"]).stdout.strip()


def lint(tmp, version):
    proc = run(["lintian", "--pedantic", "--info", os.path.join(tmp, f"pyprobe_{version}_{arch()}.changes"),
                os.path.join(tmp, f"pyprobe_{version}.dsc")], timeout=900, check_exit=False)
    tags = [line for line in proc.stdout.splitlines() if line[:2] in ("E:", "W:", "I:", "P:", "X:")]
    print("lintian: " + (f"{len(tags)} tags\n" + "\n".join(tags) if tags else "no tags"))
    errors = [line for line in tags if line.startswith("E:")]
    check(proc.returncode == 0 and not errors, f"lintian: exit {proc.returncode}, errors:\n" + "\n".join(errors)
          + f"\n{proc.stderr}")
    print("ok: lintian finds no errors")


def contents(debs, multiarch):
    """dpkg -c of each package holds what it should, and no file is in two."""
    owner = {}
    for name, path in debs.items():
        listing = run(["dpkg-deb", "-c", path]).stdout.splitlines()
        files = [line.split()[5][1:] for line in listing if not line.startswith("d")]
        for f in files:
            check(f not in owner, f"{f} is in {owner.get(f)} and {name}")
            owner[f] = name
        missing = [f for f in files_expected(multiarch)[name] if f not in files]
        check(not missing, f"{name} lacks {missing}; it holds:\n" + "\n".join(files))
        print(f"{name}: {len(files)} files\n  " + "\n  ".join(sorted(files)))
    print("ok: every package holds its files")


def use_installed(tmp, version, multiarch, opts):
    env = {k: v for k, v in os.environ.items() if k not in ("PKG_CONFIG_PATH", "PYTHONPATH")}
    prefix = run(["pkg-config", "--variable=prefix", "pyprobe"], env=env).stdout.strip()
    modversion = run(["pkg-config", "--modversion", "pyprobe"], env=env).stdout.strip()
    check(prefix == "/usr" and modversion == version, f"pkg-config finds pyprobe {modversion} in {prefix}")
    libdir = f"/usr/lib/{multiarch}"
    for path in ("pkgconfig", "find_package"):
        build_opts = types.SimpleNamespace(path=path, consumer=opts.consumer, cc=opts.cc, cmake=opts.cmake,
                                           generator=opts.generator, libdir=f"lib/{multiarch}", sanitize="",
                                           provider="python", python_module=1)
        out = os.path.join(tmp, f"consumer-{path}")
        os.makedirs(out)
        programs = test_install.build_and_trace(build_opts, "/usr", libdir, out)
    listed = run(["/usr/bin/pyprobe", "-l", "-v", "-n", "function-entry", programs["static"]]).stdout
    check("args[0]: const char *" in listed, f"pyprobe -l -v shows no argument types:\n{listed}")
    check(version in run(["/usr/bin/pyprobe", "--version"]).stdout, "pyprobe --version is not the project's")
    print("ok: /usr/bin/pyprobe lists the static program's probes with their argument types")
    found = run(["/usr/bin/python3", "-c", "import pyprobe; print(pyprobe.__file__, pyprobe.__version__)"],
                env=env, cwd="/").stdout.split()
    check(found == ["/usr/lib/python3/dist-packages/pyprobe/__init__.py", version], f"python3 imports {found}")
    trace_installed_package("/usr/bin/python3", env, "python3-pyprobe")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="CMakeLists.txt's project version")
    parser.add_argument("--consumer", required=True, help="tests/install/consumer")
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--generator", default="Unix Makefiles")
    parser.add_argument("--cc", default="cc")
    opts = parser.parse_args()
    require_root("installing packages")
    for tool in TOOLS:
        if not shutil.which(tool):
            skip(f"{tool} is not installed (apt-get install dpkg-dev debhelper dh-python lintian)")
    require_tool("bpftrace")
    clear_the_way()
    multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    timer = Timer()
    with tempfile.TemporaryDirectory(prefix="pyprobe-deb-") as tmp:
        timer.step("build")
        debs = build(tmp, opts.version)
        timer.step("lintian")
        lint(tmp, opts.version)
        contents(debs, multiarch)
        timer.step("install, use, purge")
        try:
            open(MARKER, "w").close()
            run(["dpkg", "-i", *debs.values()], timeout=600)
            print(f"ok: installed {' '.join(PACKAGES)}")
            use_installed(tmp, opts.version, multiarch, opts)
        finally:
            purge()
    timer.report()


if __name__ == "__main__":
    main()
