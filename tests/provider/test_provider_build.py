#!/usr/bin/env python3
"""pyprobe_add_provider() of an installed pyprobe, in projects of its users.

Installs --build-dir into a fresh prefix, then configures and builds small
projects with find_package(pyprobe):

  - malformed provider files (the issue's cases and more): configuring fails
    within seconds with the file:line:column line; a file that does not
    exist is a configure error naming it;
  - a provider file made at build time, and one broken after a good build:
    the build fails within seconds with that line;
  - dtrace interrupted (SIGINT to the build, as Ctrl-C), killed (SIGKILL) or
    hanging past PYPROBE_DTRACE_TIMEOUT (a stand-in that hangs): the build
    stops in time, nothing of dtrace is left running or on disk, and the
    next build, with systemtap's dtrace, works;
  - a good file with every kind of declaration, in a program and in a static
    library: the program builds with every probe macro, and `pyprobe -l`
    lists the C argument types of every probe, for the library's probes too.
"""
import argparse
import glob
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from common import check, fail, run

# Configuring or building a bad file must fail within this many seconds
# (a fresh configure includes CMake's compiler checks).
FAIL_WITHIN = 30

PROJECT = """cmake_minimum_required(VERSION 3.18)
project(provider_case LANGUAGES C)
find_package(pyprobe REQUIRED)
add_executable(prog prog.c)
{provider}
"""
PROVIDER_CALL = "pyprobe_add_provider(TARGET prog PROVIDER {file})"
GENERATED_CALL = """add_custom_command(OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/gen.d"
  COMMAND "${CMAKE_COMMAND}" -E copy "${CMAKE_CURRENT_SOURCE_DIR}/gen.d.in" "${CMAKE_CURRENT_BINARY_DIR}/gen.d"
  DEPENDS gen.d.in)
pyprobe_add_provider(TARGET prog PROVIDER "${CMAKE_CURRENT_BINARY_DIR}/gen.d" HEADER_NAME mine.h)"""
STATIC_LIBRARY = """add_library(shop STATIC shop.c)
pyprobe_add_provider(TARGET shop PROVIDER shop.d)
add_executable(till till.c)
target_link_libraries(till PRIVATE shop)"""

SMALL_D = "provider mine {\n  probe tick(int);\n  probe tock(int);\n};\n"
SMALL_C = '#include "mine.h"\nint main(int argc, char **argv)\n{\n    (void)argv;\n' \
          "    MINE_TICK(argc);\n    MINE_TOCK(argc);\n    return 0;\n}\n"

# Every kind of declaration the reader takes, and the types `pyprobe -l`
# must then list: (void), names, comments, pragmas, a probe whose name says
# "provider" (systemtap's fallback reader drops such lines), types its
# grammar does not read, twelve arguments, a second provider.
RICH_D = """/* Every kind of declaration. */
provider mine {
    probe start(void);
    probe provider__x(const char *const name, unsigned);  // two
    probe shapes(const unsigned char *,
                 long long int count /* a name */,
                 struct s *const *items);
    probe twelve(int, int, int, int, int, int, int, int, int, int, int, int);
};
#pragma D attributes Evolving/Evolving/Common provider mine provider
provider other { probe c(uint64_t, char **names); };
"""
RICH_C = """#include <stdint.h>
#include "mine.h"
struct s;
int main(int argc, char **argv)
{
    MINE_START();
    MINE_PROVIDER_X(argv[0], (unsigned)argc);
    MINE_SHAPES((const unsigned char *)argv[0], (long long)argc, (struct s *const *)0);
    MINE_TWELVE(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, argc);
    OTHER_C((uint64_t)argc, argv);
    return 0;
}
"""
RICH_TYPES = {
    ("mine", "start"): [],
    ("mine", "provider__x"): ["const char *const", "unsigned"],
    ("mine", "shapes"): ["const unsigned char *", "long long int", "struct s *const *"],
    ("mine", "twelve"): ["int"] * 12,
    ("other", "c"): ["uint64_t", "char **"],
}
SHOP_D = "provider shop { probe sale(const char *item, long cents); };\n"
SHOP_C = '#include "shop.h"\nvoid sell(const char *item, long cents) { SHOP_SALE(item, cents); }\n'
TILL_C = "void sell(const char *item, long cents);\nint main(void) { sell(\"tea\", 250); return 0; }\n"

# (what is wrong, the file, the line configuring must print)
MALFORMED = [
    ("unclosed parenthesis", "provider mine {\n  probe tick(int);\n  probe tock(int;\n};\n",
     "mine.d:3:17: expected ')' after argument list"),
    ("missing semicolon", "provider mine {\n  probe tick(int)\n  probe tock(int);\n};\n",
     "mine.d:2:18: expected ';' after probe declaration"),
    ("unknown type", "provider mine {\n  probe tick(foo_t);\n};\n", "mine.d:2:14: unknown type 'foo_t'"),
    ("empty provider", "provider mine {\n};\n", "mine.d:1:10: provider 'mine' declares no probes"),
    ("duplicate probe", "provider mine {\n  probe tick(int);\n  probe tick(long);\n};\n",
     "mine.d:3:9: duplicate probe 'tick' in provider 'mine' (first declared at 2:9)"),
    ("non-ASCII", "provider mine {\n  probe t\u00f6ck(int);\n};\n",
     "mine.d:2:10: non-ASCII byte 0xc3: a provider file is ASCII"),
    ("empty file", "", "mine.d:1:1: empty file: no provider declared"),
    ("too many arguments", "provider mine {\n  probe tick(" + ", ".join(["int"] * 13) + ");\n};\n",
     "mine.d:2:74: probe 'tick' has more than 12 arguments (PYPROBE_MAX_PROBE_ARGS)"),
    ("(void) with more", "provider mine {\n  probe tick(void, int);\n};\n",
     "mine.d:2:14: a 'void' argument must be a pointer ('void *')"),
]

# A stand-in for dtrace that hangs, as systemtap's did on `probe tock(int;`,
# after leaving a temporary file where it runs, as systemtap's does. It
# records its pid first.
HANGING_DTRACE = """#!/bin/sh
echo $$ >> "$PYPROBE_TEST_DTRACE_PIDS"
touch .dtrace-temp.deadbeef.h
exec sleep 300
"""


class Project:
    def __init__(self, opts, tmp, name):
        self.opts = opts
        self.source = os.path.join(tmp, name)
        self.build = os.path.join(tmp, name + "-build")
        os.makedirs(self.source)

    def write(self, name, text):
        with open(os.path.join(self.source, name), "w", encoding="utf-8") as f:
            f.write(text)

    def configure(self, *args, expect_ok=True):
        cmd = [self.opts.cmake, "-S", self.source, "-B", self.build, f"-DCMAKE_PREFIX_PATH={self.opts.prefix}",
               f"-DCMAKE_C_COMPILER={self.opts.cc}", "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON", *args]
        return timed(cmd, expect_ok)

    def build_cmd(self):
        return [self.opts.cmake, "--build", self.build, "-j1"]

    def build_it(self, expect_ok=True):
        return timed(self.build_cmd(), expect_ok)

    def path(self, *names):
        return os.path.join(self.build, *names)


def timed(cmd, expect_ok):
    start = time.monotonic()
    proc = run(cmd, timeout=FAIL_WITHIN * 4, check_exit=expect_ok)
    took = time.monotonic() - start
    if not expect_ok:
        check(proc.returncode != 0, f"succeeded, but should have failed: {' '.join(cmd)}\n{proc.stdout}")
        check(took < FAIL_WITHIN, f"failed only after {took:.1f} s: {' '.join(cmd)}")
    return proc, took


def message_line(proc, expected):
    """The line of the output that is `expected`, whole and from its start;
    fails when there is none."""
    output = proc.stdout + proc.stderr
    check(expected in output.splitlines(), f"no line {expected!r} in:\n{output}")
    return expected


def test_malformed(opts, tmp):
    project = Project(opts, tmp, "malformed")
    project.write("CMakeLists.txt", PROJECT.format(provider=PROVIDER_CALL.format(file="mine.d")))
    project.write("prog.c", SMALL_C)
    times = []
    for i, (what, text, expected) in enumerate(MALFORMED):
        project.write("mine.d", text)
        proc, took = project.configure(expect_ok=False)
        times.append(took)
        print(f"ok: {what}: configure failed in {took:.1f} s{' (fresh)' if i == 0 else ''}: "
              f"{message_line(proc, expected)}")
        if i == 0:
            check(not os.path.exists(project.path("pyprobe_provider")), "a bad file got as far as the build steps")
    # A good file configures and builds; then a missing one is named.
    project.write("mine.d", SMALL_D)
    project.configure()
    project.build_it()
    missing = Project(opts, tmp, "missing")
    missing.write("CMakeLists.txt", PROJECT.format(provider=PROVIDER_CALL.format(file="probes/nothere.d")))
    missing.write("prog.c", SMALL_C)
    proc, took = missing.configure(expect_ok=False)
    expected = f"pyprobe_add_provider: PROVIDER probes/nothere.d: no such file ({missing.source}/probes/nothere.d)"
    said = " ".join((proc.stdout + proc.stderr).split())  # CMake wraps its messages
    check(expected in said, f"no {expected!r} in:\n{proc.stdout}{proc.stderr}")
    print(f"ok: a file that does not exist: configure failed in {took:.1f} s: {expected}")
    return project, max(times + [took])


def test_build_time(opts, tmp, project):
    """A provider file made by the build, and one broken after a build."""
    generated = Project(opts, tmp, "generated")
    generated.write("CMakeLists.txt", PROJECT.format(provider=GENERATED_CALL))
    generated.write("prog.c", SMALL_C)
    generated.write("gen.d.in", MALFORMED[0][1])
    generated.configure()
    proc, took = generated.build_it(expect_ok=False)
    line = message_line(proc, f"{generated.build}/gen.d:3:17: expected ')' after argument list")
    print(f"ok: a file made at build time: the build failed in {took:.1f} s: {line}")
    generated.write("gen.d.in", SMALL_D)
    generated.build_it()
    print("ok: fixed, it builds")

    project.write("mine.d", MALFORMED[1][1])
    proc, took = project.build_it(expect_ok=False)
    line = message_line(proc, f"{MALFORMED[1][2]}")
    print(f"ok: a file broken after a good build: the build failed in {took:.1f} s: {line}")
    check(not glob.glob(project.path("**", "*.dtrace-tmp"), recursive=True), "a scratch directory was left")
    return max(took, 0)


def live(pid):
    """Whether pid runs (a zombie that no one reaps does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def leftovers(project):
    return glob.glob(project.path("**", "*.dtrace-tmp"), recursive=True) + \
        glob.glob(project.path("**", ".dtrace-temp.*"), recursive=True)


def interrupt_dtrace(project, pids_file, how):
    """Builds with the hanging dtrace and stops the build once it runs: `how`
    is SIGINT (Ctrl-C: the whole foreground group) or SIGKILL (of the build's
    group; dtrace runs in a group of its own). Returns the seconds from the
    signal to the end of the build."""
    open(pids_file, "w").close()
    env = dict(os.environ, PYPROBE_TEST_DTRACE_PIDS=pids_file)
    build = subprocess.Popen(project.build_cmd(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env, start_new_session=True)
    try:
        check(wait_for(lambda: os.path.getsize(pids_file) > 0, FAIL_WITHIN), "the stand-in dtrace never started")
        pid = int(open(pids_file).read().split()[0])
        start = time.monotonic()
        os.killpg(build.pid, how)
        output, _ = build.communicate(timeout=FAIL_WITHIN)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait()
    took = time.monotonic() - start
    check(build.returncode != 0, f"the interrupted build succeeded:\n{output}")
    check(wait_for(lambda: not live(pid), 10), f"dtrace ({pid}) still runs after the build's {how.name}")
    return took, output


def test_interrupted(opts, tmp, project):
    hanging = os.path.join(tmp, "hanging-dtrace")
    with open(hanging, "w") as f:
        f.write(HANGING_DTRACE)
    os.chmod(hanging, 0o755)
    pids = os.path.join(tmp, "dtrace-pids")
    project.write("mine.d", SMALL_D)

    project.configure(f"-DPYPROBE_DTRACE_EXECUTABLE={hanging}")
    took, output = interrupt_dtrace(project, pids, signal.SIGINT)
    check(wait_for(lambda: not leftovers(project), 10), f"left behind: {leftovers(project)}")
    print(f"ok: SIGINT while dtrace runs: the build stopped in {took:.1f} s, dtrace was killed and its scratch "
          f"directory removed: {[l for l in output.splitlines() if 'dtrace -' in l and 'interrupted' in l]}")
    project.configure(f"-DPYPROBE_DTRACE_EXECUTABLE={opts.dtrace}")
    project.build_it()
    check(not leftovers(project), f"left behind: {leftovers(project)}")
    print("ok: the next build, with systemtap's dtrace, works")

    project.write("mine.d", SMALL_D.replace("tock", "tack").replace("TOCK", "TACK"))
    project.write("prog.c", SMALL_C.replace("TOCK", "TACK"))
    project.configure(f"-DPYPROBE_DTRACE_EXECUTABLE={hanging}")
    took, _ = interrupt_dtrace(project, pids, signal.SIGKILL)
    print(f"ok: SIGKILL of the build while dtrace runs: it stopped in {took:.1f} s and dtrace died with it "
          f"(left for the next build: {[os.path.basename(p) for p in leftovers(project)]})")
    project.configure(f"-DPYPROBE_DTRACE_EXECUTABLE={opts.dtrace}")
    project.build_it()
    check(not leftovers(project), f"left behind: {leftovers(project)}")
    print("ok: the next build, with systemtap's dtrace, works and cleaned up")

    project.write("mine.d", SMALL_D)
    project.write("prog.c", SMALL_C)
    project.configure(f"-DPYPROBE_DTRACE_EXECUTABLE={hanging}", "-DPYPROBE_DTRACE_TIMEOUT=2")
    proc, took = project.build_it(expect_ok=False)
    line = re.search(r"mine\.d: dtrace -[hG] did not finish in 2 s and was killed \(PYPROBE_DTRACE_TIMEOUT\)",
                     proc.stdout + proc.stderr)
    check(line, f"no time-out message in:\n{proc.stdout}{proc.stderr}")
    check(wait_for(lambda: all(not live(int(p)) for p in open(pids).read().split()), 10), "a dtrace still runs")
    check(not leftovers(project), f"left behind: {leftovers(project)}")
    print(f"ok: a dtrace that hangs: the build failed in {took:.1f} s: {line.group(0)}")
    project.configure(f"-DPYPROBE_DTRACE_EXECUTABLE={opts.dtrace}", "-DPYPROBE_DTRACE_TIMEOUT=60")
    project.build_it()
    print("ok: and the next build works")


def listed_types(opts, program):
    probes = json.loads(run([opts.pyprobe, "-l", "--json", program]).stdout)["probes"]
    return {(p["provider"], p["note_name"]): p["types"] for p in probes}


def test_good(opts, tmp):
    project = Project(opts, tmp, "good")
    project.write("CMakeLists.txt", PROJECT.format(provider=PROVIDER_CALL.format(file="mine.d") + "\n" +
                                                   STATIC_LIBRARY))
    project.write("mine.d", RICH_D)
    project.write("prog.c", RICH_C)
    project.write("shop.d", SHOP_D)
    project.write("shop.c", SHOP_C)
    project.write("till.c", TILL_C)
    project.configure()
    project.build_it()
    run([project.path("prog")])
    got = listed_types(opts, project.path("prog"))
    check(got == RICH_TYPES, f"pyprobe -l lists the types {got}, declared {RICH_TYPES}")
    verbose = run([opts.pyprobe, "-l", "-v", "-n", "provider-x", project.path("prog")]).stdout
    block = "\n\tArgument Types\n\t\targs[0]: const char *const\n\t\targs[1]: unsigned\n"
    check(block in verbose, f"pyprobe -l -v has no Argument Types block:\n{verbose}")
    print(f"ok: every kind of declaration: the program builds with all {len(RICH_TYPES)} probe macros and "
          "pyprobe -l -v lists their types")
    got = listed_types(opts, project.path("till"))
    check(got == {("shop", "sale"): ["const char *", "long"]}, f"till, linked with libshop.a: types {got}")
    print("ok: a static library's provider: the program linked with it lists its types too")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--config", default="")
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--cc", default="cc")
    parser.add_argument("--dtrace", required=True, help="systemtap's dtrace")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pyprobe-provider-") as tmp:
        opts.prefix = os.path.join(tmp, "prefix")
        run([opts.cmake, "--install", opts.build_dir, "--prefix", opts.prefix]
            + (["--config", opts.config] if opts.config else []))
        opts.pyprobe = os.path.join(opts.prefix, "bin", "pyprobe")
        project, configure_max = test_malformed(opts, tmp)
        build_max = test_build_time(opts, tmp, project)
        test_interrupted(opts, tmp, project)
        test_good(opts, tmp)
        print(f"ok: the slowest failing configure took {configure_max:.1f} s, the slowest failing build "
              f"{build_max:.1f} s")


if __name__ == "__main__":
    main()
