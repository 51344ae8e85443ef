#!/usr/bin/env python3
"""pip builds and installs the pyprobe package offline (pyproject.toml and
its in-tree backend, python/backend), as the README says:

  1. `pip install --no-build-isolation --no-index SOURCE` into a fresh venv:
     the distribution pyprobe-usdt, version = CMakeLists.txt's =
     pyprobe.__version__, imported from the venv, libpyprobe linked in (no
     libpyprobe.so needed), and a provider defined from Python traced by
     bpftrace (tests/runtime/test_python_trace.py run by the venv's
     python: every argument type exact, enabled following the tracer).
  2. The backend's sdist, installed into a second fresh venv with build
     isolation and --no-index: the sdist holds all a build needs, and an
     isolated build needs nothing from an index.

--no-index: pip may not reach any index (none is reachable here anyway).
"""
import argparse
import os
import sys
import tarfile
import tempfile

from common import check, run
from installed import ROOT, trace_installed_package

DISTRIBUTION = "pyprobe-usdt"
BUILD_SECONDS = 900


def pip_env():
    # No version check against PyPI, no byte code left in the source tree.
    return dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1",
                PYTHONPATH="")


def fresh_venv(path):
    run([sys.executable, "-m", "venv", path], timeout=300)
    return os.path.join(path, "bin", "python")


def pip_install(python, *args):
    return run([python, "-m", "pip", "install", "--no-index", "--no-cache-dir", *args], env=pip_env(),
               timeout=BUILD_SECONDS)


def installed(python, venv, version):
    """What the venv's python imports: the package from the venv, with the
    project's version in the module and in the distribution's metadata."""
    code = ("import importlib.metadata, pyprobe; "
            f"print(pyprobe.__file__, pyprobe.__version__, importlib.metadata.version({DISTRIBUTION!r}))")
    path, module_version, dist_version = run([python, "-c", code], env=pip_env(), cwd="/").stdout.split()
    check(path.startswith(venv + "/"), f"{python} imports pyprobe from {path}, not from the venv")
    check(module_version == version and dist_version == version,
          f"pyprobe.__version__ {module_version}, {DISTRIBUTION} {dist_version}, CMakeLists.txt {version}")
    return os.path.dirname(path)


def extension_links_libpyprobe(package):
    native = [name for name in os.listdir(package) if name.startswith("_native.") and name.endswith(".so")]
    check(len(native) == 1, f"{package}: extension modules {native}")
    path = os.path.join(package, native[0])
    dynamic = run(["readelf", "-d", path]).stdout
    check("libpyprobe" not in dynamic, f"{path} needs a libpyprobe of the system:\n{dynamic}")
    # 3.12+: the module carries the python provider. 3.11: never (the
    # interpreter's own probes are the ones it fires; provider.c says why).
    notes = run(["readelf", "-n", path]).stdout
    own = sys.version_info >= (3, 12)
    check(("Provider: python" in notes) == own,
          f"{path} {'lacks' if own else 'carries'} python provider probes on Python "
          f"{sys.version_info.major}.{sys.version_info.minor}:\n{notes}")
    return path


def no_build_isolation_then_trace(opts, tmp):
    venv = os.path.join(tmp, "venv")
    python = fresh_venv(venv)
    pip_install(python, "--no-build-isolation", "--config-settings", f"build-dir={tmp}/build", ROOT)
    package = installed(python, venv, opts.version)
    native = extension_links_libpyprobe(package)
    print(f"ok: pip install --no-build-isolation: {DISTRIBUTION} {opts.version} in {package}, {os.path.basename(native)}"
          " with libpyprobe linked in")
    trace_installed_package(python, os.environ, "the pip-installed package")


def sdist_with_build_isolation(opts, tmp):
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import pyprobe_backend; "
            "print(pyprobe_backend.build_sdist(sys.argv[2]))")
    name = run([sys.executable, "-c", code, os.path.join(ROOT, "python", "backend"), tmp],
               env=pip_env()).stdout.strip()
    sdist = os.path.join(tmp, name)
    check(name == f"pyprobe_usdt-{opts.version}.tar.gz", f"the sdist is {name}")
    with tarfile.open(sdist) as tar:
        names = set(tar.getnames())
    base = name[:-len(".tar.gz")]
    for needed in ("PKG-INFO", "pyproject.toml", "CMakeLists.txt", "python/backend/pyprobe_backend.py",
                   "python/install", "probes/python.d", "LICENSE"):
        check(f"{base}/{needed}" in names, f"{name} lacks {needed}")
    check(not any(n.startswith(f"{base}/build") for n in names), f"{name} holds a build tree")
    venv = os.path.join(tmp, "venv-sdist")
    python = fresh_venv(venv)
    pip_install(python, sdist)
    installed(python, venv, opts.version)
    print(f"ok: the sdist ({len(names)} files) installs with build isolation and no index")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="CMakeLists.txt's project version")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pyprobe-pip-") as tmp:
        no_build_isolation_then_trace(opts, tmp)
        sdist_with_build_isolation(opts, tmp)


if __name__ == "__main__":
    main()
