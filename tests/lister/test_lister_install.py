#!/usr/bin/env python3
"""pyprobe and its man page are installed: `cmake --install` into a fresh
prefix puts bin/pyprobe (which runs, and lists from there) and
share/man/man1/pyprobe.1 (which groff formats without a warning)."""
import argparse
import os
import shutil
import tempfile

from common import check, run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True, help="the built command, to list with once installed")
    parser.add_argument("--cmake", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--config", default="")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pyprobe-install-") as prefix:
        cmd = [opts.cmake, "--install", opts.build_dir, "--prefix", prefix]
        if opts.config:
            cmd += ["--config", opts.config]
        run(cmd)
        tool = os.path.join(prefix, "bin", "pyprobe")
        page = os.path.join(prefix, "share", "man", "man1", "pyprobe.1")
        check(os.access(tool, os.X_OK), f"{tool} is not installed")
        check(os.path.isfile(page), f"{page} is not installed")
        check(run([tool, "--version"]).stdout.startswith("pyprobe "), "the installed pyprobe does not run")
        check(run([tool, "-l", tool]).stdout.startswith("   ID   PROVIDER"), "the installed pyprobe does not list")
        groff = shutil.which("groff")
        if groff:
            out = run([groff, "-man", "-ww", "-z", page])
            check(out.stderr == "", f"groff warns about {page}:\n{out.stderr}")
        print(f"ok: bin/pyprobe and share/man/man1/pyprobe.1 installed{'; groff formats the page' if groff else ''}")


if __name__ == "__main__":
    main()
