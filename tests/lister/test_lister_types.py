#!/usr/bin/env python3
"""The argument types pyprobe records for `pyprobe -l -v`: the library and
a statically linked program carry every probe's C types as the provider
file declares them, also once stripped; and the generator (pyprobe-provider notes)
reads a .d file with parameter names, comments and two providers the way
dtrace would print its types.
"""
import argparse
import json
import os
import re
import shutil
import tempfile

from common import check, run

CRAFTED_D = """/* Two providers; parameter names; a comment in the middle. */
provider shop {
    probe order__placed(const char *customer, unsigned long cents, struct item *first);
    probe door(void);
    probe tick();
};
#pragma D attributes Evolving/Evolving/Common provider shop provider
provider till { probe open(int drawer /* which */, char **names); };
"""
CRAFTED_TYPES = {
    ("shop", "order__placed"): ["const char *", "unsigned long", "struct item *"],
    ("shop", "door"): [], ("shop", "tick"): [],
    ("till", "open"): ["int", "char **"],
}
CRAFTED_C = """#include <sys/sdt.h>
struct item;
void fire(const char *customer, unsigned long cents, struct item *first, int drawer, char **names)
{
    DTRACE_PROBE3(shop, order__placed, customer, cents, first);
    DTRACE_PROBE(shop, door);
    DTRACE_PROBE(shop, tick);
    DTRACE_PROBE2(till, open, drawer, names);
}
"""


def declared_types(provider_file):
    """provider, probe -> [type], read from the .d file independently."""
    text = re.sub(r"/\*.*?\*/", " ", open(provider_file).read(), flags=re.S)
    provider = re.search(r"provider\s+(\w+)", text).group(1)
    types = {}
    for name, params in re.findall(r"probe\s+(\w+)\s*\(([^)]*)\)", text):
        types[(provider, name)] = [" ".join(p.split()) for p in params.split(",") if p.strip()]
    return types


def listed_types(pyprobe, path):
    probes = json.loads(run([pyprobe, "-l", "--json", path]).stdout)["probes"]
    return {(p["provider"], p["note_name"]): p["types"] for p in probes}


def check_file(pyprobe, path, want):
    got = listed_types(pyprobe, path)
    check(got == want, f"{path}: types {got}, declared {want}")


def test_builds(opts, tmp):
    want = declared_types(opts.provider_file)
    check(len(want) == 12, f"{opts.provider_file}: {len(want)} probes")
    for path in (opts.library, opts.static_program):
        check_file(opts.pyprobe, path, want)
        stripped = os.path.join(tmp, "stripped-" + os.path.basename(path))
        run([opts.strip, "--strip-all", "-o", stripped, path])
        check_file(opts.pyprobe, stripped, want)
        print(f"ok: {path}: the types of all 12 probes, also stripped")
    verbose = run([opts.pyprobe, "-lv", "-n", "function-entry", opts.library]).stdout
    block = "\n\tArgument Types\n\t\targs[0]: const char *\n\t\targs[1]: const char *\n\t\targs[2]: int\n"
    check(block in verbose, f"-v has no dtrace Argument Types block:\n{verbose}")


def test_generator(opts, tmp):
    d_file = os.path.join(tmp, "shop.d")
    with open(d_file, "w") as f:
        f.write(CRAFTED_D)
    generated = os.path.join(tmp, "signatures.c")
    run([opts.provider_tool, "notes", d_file, generated])
    source = os.path.join(tmp, "fire.c")
    with open(source, "w") as f:
        f.write(CRAFTED_C)
    library = os.path.join(tmp, "libshop.so")
    run([opts.cc, "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-I", opts.include, "-o", library,
         source, generated])
    check_file(opts.pyprobe, library, CRAFTED_TYPES)
    print(f"ok: pyprobe-provider notes: {len(CRAFTED_TYPES)} probes of two providers, names and comments dropped")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--library", required=True)
    parser.add_argument("--static-program", required=True)
    parser.add_argument("--provider-file", required=True)
    parser.add_argument("--provider-tool", required=True, help="tools/pyprobe-provider")
    parser.add_argument("--cc", required=True)
    parser.add_argument("--include", required=True, help="pyprobe's include/ (<pyprobe/notes.h>)")
    parser.add_argument("--strip", default=shutil.which("strip") or "strip")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pyprobe-types-") as tmp:
        test_builds(opts, tmp)
        test_generator(opts, tmp)


if __name__ == "__main__":
    main()
