#!/usr/bin/env python3
"""The installed pyprobe works from other projects.

Installs --build-dir into a fresh prefix and checks its files, then builds the
programs of tests/install against that prefix only (--path pkgconfig: cc with
pkg-config's flags; --path find_package: the CMake project there) and traces
each with bpftrace: exact hits and arguments. Only tracing may be skipped.
"""
import argparse
import collections
import os
import re
import shutil
import sys
import tempfile

from common import check, fail, run, run_bpftrace

HOOK_EVENTS = {("hook.py", "hook_fn", 40 + i): 1 for i in range(5)}  # hook.c
TICK_EVENTS = {-1: 1, -2: 1, -3: 1}  # tick.c


def install(opts, prefix):
    run([opts.cmake, "--install", opts.build_dir, "--prefix", prefix]
        + (["--config", opts.config] if opts.config else []))
    libdir = os.path.join(prefix, opts.libdir)
    cmake_dir = os.path.join(libdir, "cmake", "pyprobe")
    expected = [os.path.join(prefix, "include", name) for name in ("pyprobe.h", "pyprobe_config.h")]
    expected += [os.path.join(libdir, name) for name in ("libpyprobe.so", "libpyprobe.so.1", "libpyprobe.a")]
    expected += [os.path.join(prefix, "share", "pyprobe", f"{opts.provider}.d"),
                 os.path.join(libdir, "pkgconfig", "pyprobe.pc")]
    expected += [os.path.join(cmake_dir, name) for name in (
        "pyprobeConfig.cmake", "pyprobeConfigVersion.cmake", "pyprobeTargets.cmake",
        "PyprobeProvider.cmake")]
    expected += [os.path.join(prefix, "share", "pyprobe", "scripts", name) for name in ("flow.bt", "flow.d", "README.md")]
    for path in expected:
        check(os.path.isfile(path), f"not installed: {path}")
    dynamic = run(["readelf", "-d", os.path.join(libdir, "libpyprobe.so.1")]).stdout
    check("Library soname: [libpyprobe.so.1]" in dynamic, f"no SONAME libpyprobe.so.1:\n{dynamic}")
    check_symbol_versions(os.path.join(libdir, "libpyprobe.so.1"))
    # Relocatable and self-contained: nothing installed may point into the build.
    for root, _, files in os.walk(prefix):
        for name in files:
            if name.endswith((".cmake", ".pc", ".h")):
                text = open(os.path.join(root, name)).read()
                check(os.path.realpath(opts.build_dir) not in text,
                      f"{os.path.join(root, name)} names the build tree")
    return libdir


# The functions added after libpyprobe.so.1.0, by version node (src/libpyprobe.map.in).
LATER_NODES = {"pyprobe_provider_create_ex": "PYPROBE_1.1"}


def check_symbol_versions(library):
    """Every exported function carries its version node: PYPROBE_1, or the
    later node that added it."""
    versions = {}
    for line in run(["readelf", "--dyn-syms", "-W", library]).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[3] == "FUNC" and fields[6] != "UND" and "@@" in fields[7]:
            name, version = fields[7].split("@@")
            versions[name] = version
    check("pyprobe_provider_create" in versions, f"{library} exports no pyprobe_provider_create: {versions}")
    wrong = {name: version for name, version in versions.items()
             if version != LATER_NODES.get(name, "PYPROBE_1")}
    check(not wrong, f"{library}: functions in the wrong version node: {wrong}")
    check(all(name in versions for name in LATER_NODES), f"{library} lacks {set(LATER_NODES) - set(versions)}")


def needed(program):
    return [line.split("[")[1].rstrip("]") for line in run(["readelf", "-d", program]).stdout.splitlines()
            if "(NEEDED)" in line]


def check_python_dir(directory, opts, said_by):
    """The directory the .pc file or the CMake package names holds the
    Python package, and Python imports it from there (not in a sanitizer
    build, whose module needs the sanitizers' runtimes preloaded)."""
    if not opts.python_module:
        check(directory == "", f"{said_by} names {directory!r}, but this build has no Python module")
        return
    check(os.path.isfile(os.path.join(directory, "pyprobe", "__init__.py")),
          f"{said_by} names {directory!r}, which holds no pyprobe/__init__.py")
    if not opts.sanitize:
        found = run([sys.executable, "-c", "import pyprobe; print(pyprobe.__file__)"], cwd="/",
                    env=dict(os.environ, PYTHONPATH=directory)).stdout.strip()
        check(found == os.path.join(directory, "pyprobe", "__init__.py"), f"PYTHONPATH={directory}: pyprobe is {found}")
    print(f"ok: {said_by} names the Python package's directory {directory}")


def sanitize_flags(opts):
    return [f"-fsanitize={opts.sanitize}"] if opts.sanitize else []


def build_with_pkgconfig(opts, libdir, out):
    """hook.c with pkg-config's flags: shared, then with libpyprobe.a. The static
    link brackets -lpyprobe with -Bstatic: a plain -lpyprobe picks the .so,
    and -static would also make libc static (no ASan, unlike interpreters)."""
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
    pkg_config = shutil.which("pkg-config") or fail("pkg-config is not installed")

    def flags(*args):
        return run([pkg_config, *args, "pyprobe"], env=env).stdout.split()

    check_python_dir(run([pkg_config, "--variable=pythondir", "pyprobe"], env=env).stdout.strip(), opts,
                     "pyprobe.pc's pythondir")
    check("-DPYPROBE_STATIC" not in flags("--cflags"), "--cflags has -DPYPROBE_STATIC")
    check("-DPYPROBE_STATIC" in flags("--static", "--cflags"), "--static --cflags lacks -DPYPROBE_STATIC")
    rpath = "-Wl,-rpath," + flags("--variable=libdir")[0]
    static_libs = [f for lib in flags("--static", "--libs")
                   for f in (["-Wl,-Bstatic", lib, "-Wl,-Bdynamic"] if lib == "-lpyprobe" else [lib])]
    hook = os.path.join(opts.consumer, "hook.c")
    cc = [opts.cc, "-Wall", "-Wextra", "-Werror", *sanitize_flags(opts)]
    programs = {"shared": os.path.join(out, "hook_shared"), "static": os.path.join(out, "hook_static")}
    run([*cc, hook, *flags("--cflags"), "-o", programs["shared"], *flags("--libs"), rpath])
    run([*cc, hook, *flags("--static", "--cflags"), "-o", programs["static"], *static_libs])
    return programs


def build_with_cmake(opts, prefix, out):
    """The consumer project, finding pyprobe in `prefix`: by
    CMAKE_PREFIX_PATH, except in /usr, where find_package looks by itself."""
    build = os.path.join(out, "build")
    configure = [opts.cmake, "-S", opts.consumer, "-B", build, "-G", opts.generator,
                 f"-DCMAKE_C_COMPILER={opts.cc}", "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON"]
    if prefix != "/usr":
        configure.append(f"-DCMAKE_PREFIX_PATH={prefix}")
    if opts.sanitize:
        configure.append("-DCMAKE_C_FLAGS=" + " ".join(sanitize_flags(opts)))
    said = re.search(r"^-- pyprobe_PYTHON_DIR=(.*)$", run(configure).stdout, re.M)
    check(said, "the consumer's configure printed no pyprobe_PYTHON_DIR")
    check_python_dir(said.group(1), opts, "the CMake package's pyprobe_PYTHON_DIR")
    run([opts.cmake, "--build", build])
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    found = os.path.join(prefix, opts.libdir, "cmake", "pyprobe")
    check(f"pyprobe_DIR:PATH={found}\n" in cache, f"find_package(pyprobe) did not use {found}")
    return {kind: os.path.join(build, name)
            for kind, name in (("shared", "hook_shared"), ("static", "hook_static"), ("tick", "tick"))}


def trace_hook(program, module, provider):
    """module: the installed libpyprobe.so.1, or the program linked statically."""
    shared = module != program
    check(("libpyprobe.so.1" in needed(program)) == shared,
          f"{program}: NEEDED {needed(program)}, but it is linked {'shared' if shared else 'static'}")
    # function__return last: the program's sign that function__entry is attached.
    script = (f'usdt:{module}:{provider}:function__entry '
              '{ printf("%s|%s|%ld\\n", str(arg0), str(arg1), (int64)arg2); }\n'
              f'usdt:{module}:{provider}:function__return {{ }}')
    seen = collections.Counter()
    for line in run_bpftrace(script, command=[program]).splitlines():
        file, func, lineno = line.split("|")
        seen[(file, func, int(lineno))] += 1
    check(seen == HOOK_EVENTS, f"{program}: bpftrace saw {dict(seen)}, expected {HOOK_EVENTS}")
    print(f"ok: {program}: {sum(seen.values())} function__entry events in {module}")


def trace_tick(program):
    # done last: the program's sign that tick is attached.
    script = (f'usdt:{program}:mylang:tick {{ printf("%ld\\n", (int64)arg0); }}\n'
              f'usdt:{program}:mylang:done {{ }}')
    seen = collections.Counter(int(v) for v in run_bpftrace(script, command=[program]).split())
    check(seen == TICK_EVENTS, f"{program}: bpftrace saw {dict(seen)}, expected {TICK_EVENTS}")
    print(f"ok: {program}: {sum(seen.values())} mylang:tick events")


def build_and_trace(opts, prefix, libdir, out):
    """Builds the consumer programs against the pyprobe installed in
    prefix (opts.path says how) and traces each."""
    if opts.path == "pkgconfig":
        programs = build_with_pkgconfig(opts, libdir, out)
    else:
        programs = build_with_cmake(opts, prefix, out)
    # Built; from here on a missing tracer skips.
    trace_hook(programs["shared"], os.path.join(libdir, "libpyprobe.so.1"), opts.provider)
    trace_hook(programs["static"], programs["static"], opts.provider)
    if "tick" in programs:
        trace_tick(programs["tick"])
    return programs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", choices=("pkgconfig", "find_package"), required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--config", default="")
    parser.add_argument("--consumer", required=True, help="tests/install")
    parser.add_argument("--libdir", default="lib", help="CMAKE_INSTALL_LIBDIR (relative)")
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--generator", default="Unix Makefiles")
    parser.add_argument("--cc", default="cc")
    parser.add_argument("--sanitize", default="", help="the build's PYPROBE_SANITIZE")
    parser.add_argument("--provider", default="python")
    parser.add_argument("--python-module", type=int, default=1, help="1: the build has the Python module")
    opts = parser.parse_args()
    check(not os.path.isabs(opts.libdir), f"--libdir {opts.libdir} must be relative to the prefix")

    with tempfile.TemporaryDirectory(prefix="pyprobe-install-") as tmp:
        prefix = os.path.join(tmp, "prefix")
        build_and_trace(opts, prefix, install(opts, prefix), tmp)


if __name__ == "__main__":
    main()
