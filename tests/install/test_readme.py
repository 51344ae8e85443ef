#!/usr/bin/env python3
"""The README's "Build and install" section, run as written, in a clean
default prefix: a private mount namespace with an empty tmpfs on /usr/local,
so that its commands install into the real /usr/local of this test only.

Every ```sh block of the section runs word for word (bash -euo pipefail),
in a copy of the source tree that also holds interp.c (tests/install's
hook.c, an interpreter hook that waits for a tracer), with the PATH of a
fresh Debian root shell and no PKG_CONFIG_PATH, CMAKE_PREFIX_PATH or
PYTHONPATH. The ```cmake block is a project's CMakeLists.txt, built next to
its own interp.c. Then what they made must work:

  - interp (shared) starts and bpftrace sees its function__entry events in
    /usr/local/lib/libpyprobe.so.1, the library the README names;
  - interp-static carries the probes itself, and /usr/local/bin/pyprobe -l -v
    shows their argument types (the --undefined of the static line);
  - the CMake project's interp is traced the same way;
  - Debian's python3 imports pyprobe from /usr/local/lib/python3.X/dist-packages,
    and the venv pip made imports it from the venv;
  - every /usr/local path the README names for tracing exists.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import test_install  # trace_hook()
from common import check, fail, require_root, require_tool, run, skip
from installed import ROOT, copy_source_tree

SECTION = "## Build and install"
PREFIX = "/usr/local"
INSIDE = "PYPROBE_README_NAMESPACE"  # set once the test runs in its namespace
# A fresh root shell's on Debian; no pyenv shims, nothing of this test's.
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BLOCK_SECONDS = 1200


def section_blocks(readme):
    """The fenced blocks of SECTION, up to the next "## " heading: [(language, text)]."""
    with open(readme) as f:
        text = f.read()
    start = text.find(f"\n{SECTION}\n")
    check(start >= 0, f"{readme} has no section {SECTION!r}")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end >= 0 else len(text)]
    blocks = re.findall(r"^```(\w+)\n(.*?)^```$", body, re.M | re.S)
    check(any(lang == "sh" for lang, _ in blocks), f"{SECTION} has no sh block")
    return blocks, text


def enter_namespace():
    """Re-runs this script in a new mount namespace, where /usr/local is an
    empty tmpfs, and exits with its status."""
    unshare = require_tool("unshare")
    mount = require_tool("mount")
    probe = subprocess.run([unshare, "--mount", "--propagation", "private", mount, "-t", "tmpfs", "tmpfs", PREFIX],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        skip(f"cannot mount a private /usr/local here: {probe.stderr.strip()}")
    script = f'{mount} -t tmpfs -o mode=0755 tmpfs {PREFIX} && exec "$@"'
    proc = subprocess.run([unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                           sys.executable, *sys.argv], env=dict(os.environ, **{INSIDE: "1"}))
    sys.exit(proc.returncode)


def clean_env():
    drop = ("PKG_CONFIG_PATH", "CMAKE_PREFIX_PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "LD_PRELOAD", "CC",
            "CFLAGS", "LDFLAGS", "VIRTUAL_ENV", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PYENV", "ASAN", "UBSAN"))}
    env["PATH"] = CLEAN_PATH
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"  # no index is reachable; do not try
    return env


def run_block(number, text, cwd, env):
    print(f"--- block {number} (in {cwd}):\n{text.rstrip()}", flush=True)
    try:
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=BLOCK_SECONDS)
    except subprocess.TimeoutExpired:
        fail(f"README block {number} timed out after {BLOCK_SECONDS}s")
    check(proc.returncode == 0, f"README block {number} failed, exit {proc.returncode}:\n{text}\n"
          f"--- stdout\n{proc.stdout[-4000:]}--- stderr\n{proc.stderr[-4000:]}")
    return proc.stdout


def python_dist_packages():
    version = run(["/usr/bin/python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
    return f"{PREFIX}/lib/python{version}/dist-packages"


def check_outputs(source, project, outputs, readme_text, version):
    library = f"{PREFIX}/lib/libpyprobe.so.1"
    check(os.path.isfile(library), f"the README's install put no {library}")
    for named in sorted(set(re.findall(r"usdt:(/usr/local/[^:\s]+):", readme_text))):
        check(os.path.isfile(named), f"the README traces {named}, which the install did not make")
    programs = {"interp": os.path.join(source, "interp"), "interp-static": os.path.join(source, "interp-static"),
                "CMake's interp": os.path.join(project, "build", "interp")}
    for name, path in programs.items():
        check(os.path.isfile(path), f"the README's commands made no {name} ({path})")
    test_install.trace_hook(programs["interp"], library, "python")
    test_install.trace_hook(programs["interp-static"], programs["interp-static"], "python")
    test_install.trace_hook(programs["CMake's interp"], library, "python")
    listed = run([f"{PREFIX}/bin/pyprobe", "-l", "-v", "-n", "function-entry", programs["interp-static"]]).stdout
    check("args[0]: const char *" in listed, f"pyprobe -l -v shows no argument types for interp-static:\n{listed}")
    print("ok: pyprobe -l -v shows interp-static's argument types")
    where = os.path.join(python_dist_packages(), "pyprobe")
    check(any(where in out and version in out for out in outputs),
          f"no README command printed pyprobe {version} from {where}:\n" + "".join(outputs))
    print(f"ok: python3 imports pyprobe {version} from {where}")
    venv_python = os.path.join(source, "venv", "bin", "python")
    check(os.path.isfile(venv_python), "the README's pip command made no venv")
    found = run([venv_python, "-c", "import pyprobe; print(pyprobe.__file__, pyprobe.__version__)"],
                cwd="/", env=clean_env()).stdout.split()
    check(found[0].startswith(os.path.join(source, "venv") + "/") and found[1] == version,
          f"the venv's python imports {found}")
    print(f"ok: pip installed pyprobe {version} into the venv")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="CMakeLists.txt's project version")
    parser.add_argument("--consumer", required=True, help="tests/install/consumer (hook.c is interp.c)")
    opts = parser.parse_args()
    require_root("mounting a private /usr/local")
    if os.environ.get(INSIDE) != "1":
        enter_namespace()
    check(not os.listdir(PREFIX), f"{PREFIX} is not empty in the test's namespace")
    blocks, readme_text = section_blocks(os.path.join(ROOT, "README.md"))
    with tempfile.TemporaryDirectory(prefix="pyprobe-readme-") as tmp:
        source, project = os.path.join(tmp, "pyprobe"), os.path.join(tmp, "project")
        copy_source_tree(source)
        os.makedirs(project)
        for directory in (source, project):
            shutil.copy(os.path.join(opts.consumer, "hook.c"), os.path.join(directory, "interp.c"))
        env, outputs = clean_env(), []
        for number, (language, text) in enumerate(blocks, 1):
            if language == "sh":
                outputs.append(run_block(number, text, source, env))
            elif language == "cmake":
                with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
                    f.write(text)
                print(f"--- block {number}: CMakeLists.txt\n{text.rstrip()}")
                run_block(number, "cmake -S . -B build && cmake --build build", project, env)
            else:
                fail(f"README block {number} is ```{language}: this test runs only sh and cmake")
        print(f"ok: the {len(blocks)} blocks of {SECTION!r} ran as written")
        check_outputs(source, project, outputs, readme_text, opts.version)


if __name__ == "__main__":
    main()
