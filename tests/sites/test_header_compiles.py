#!/usr/bin/env python3
"""pyprobe.h compiles cleanly from C and C++ and turns wrong argument types
into compile errors.

Good hooks must compile with -Wall -Wextra -pedantic -Werror as C99, C11 and
C17, and as C++11 and C++17. Each bad hook must fail to compile, with a
diagnostic that names the problem (in C, the first error names the probe,
the argument and the type it takes), in both the compiled-in and the
compiled-out (PYPROBE_DISABLE) header.
"""
import argparse
import os
import tempfile

from common import check, run

GOOD = """
#include <pyprobe.h>
#include <pyprobe/cpython/pydtrace_probes.h>
#include <stddef.h>
void hook(const char *file, char *func, int line, short small, long collected, void *args)
{
    if (PYPROBE_LINE_ENABLED())
        PYPROBE_LINE(file, func, line);
    if (PyDTrace_LINE_ENABLED())  /* CPython's line guard */
        PyDTrace_LINE(file, func, line);
    PYPROBE_FUNCTION_ENTRY(file, func, small);
    PYPROBE_FUNCTION_RETURN("literal.py", func, 'c');
    PYPROBE_GC_START(2);
    PYPROBE_GC_DONE(collected);
    PYPROBE_GC_DONE(line);
    PYPROBE_INSTANCE_NEW_START(NULL, file);
    PYPROBE_INSTANCE_NEW_DONE(func, file);
    PYPROBE_INSTANCE_DELETE_START(func, file);
    PYPROBE_INSTANCE_DELETE_DONE(func, file);
    PYPROBE_IMPORT_FIND_LOAD_START(func);
    PYPROBE_IMPORT_FIND_LOAD_DONE(func, line > 0);
    PYPROBE_AUDIT("open", args);
}
"""

# (what is wrong, the hook's body, what the diagnostic must say: in C, its
# first error line, naming the probe and the type)
BAD = [
    ("long line number", "long n = 1; PYPROBE_LINE(\"f\", \"g\", n);",
     {"c": "pyprobe: argument line of PYPROBE_LINE must be an int (or a narrower integer type)", "c++": "pyprobe:"}),
    ("unsigned line number", "unsigned n = 1; PYPROBE_LINE(\"f\", \"g\", n);",
     {"c": "pyprobe: argument line of PYPROBE_LINE must be an int (or a narrower integer type)", "c++": "pyprobe:"}),
    ("double generation", "double g = 1; PYPROBE_GC_START(g);",
     {"c": "pyprobe: argument generation of PYPROBE_GC_START must be an int", "c++": "pyprobe:"}),
    ("unsigned long collected", "unsigned long c = 1; PYPROBE_GC_DONE(c);",
     {"c": "pyprobe: argument collected of PYPROBE_GC_DONE must be a long (or a narrower integer type)",
      "c++": "pyprobe:"}),
    ("int as file name", "int f = 1; PYPROBE_FUNCTION_ENTRY(f, \"g\", 1);",
     {"c": "pyprobe: argument file of PYPROBE_FUNCTION_ENTRY must be a string (char * or const char *)",
      "c++": "const char"}),
    ("int pointer as class", "int x; PYPROBE_INSTANCE_NEW_START(&x, \"f\");",
     {"c": "pyprobe: argument cls of PYPROBE_INSTANCE_NEW_START must be a string", "c++": "const char"}),
]

LANGS = {
    "c": ("c", ["-std=c99", "-std=c11", "-std=c17"]),
    "c++": ("cc", ["-std=c++11", "-std=c++17"]),
}


def compile_source(lang, compiler, std, source, tmp, disable, expect_ok):
    path = os.path.join(tmp, "hook." + LANGS[lang][0])
    with open(path, "w") as f:
        f.write(source)
    cmd = [compiler, std, "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only"]
    cmd += [f"-I{d}" for d in INCLUDES] + (["-DPYPROBE_DISABLE"] if disable else []) + [path]
    return run(cmd, check_exit=expect_ok)


def main():
    global INCLUDES
    parser = argparse.ArgumentParser()
    parser.add_argument("--cc", required=True)
    parser.add_argument("--cxx")
    parser.add_argument("--include", action="append", required=True)
    opts = parser.parse_args()
    INCLUDES = opts.include

    compilers = {"c": opts.cc, "c++": opts.cxx}
    checked = 0
    with tempfile.TemporaryDirectory(prefix="pyprobe-hdr-") as tmp:
        for lang, (_, stds) in LANGS.items():
            if not compilers[lang]:
                continue
            for std in stds:
                for disable in (False, True):
                    compile_source(lang, compilers[lang], std, GOOD, tmp, disable, expect_ok=True)
                    checked += 1
                    for what, body, words in BAD:
                        source = "#include <pyprobe.h>\n#include <stddef.h>\nvoid bad(void) { " + body + " }\n"
                        proc = compile_source(lang, compilers[lang], std, source, tmp, disable, expect_ok=False)
                        mode = f"{lang} {std}{' PYPROBE_DISABLE' if disable else ''}"
                        check(proc.returncode != 0, f"{mode}: {what} compiled without an error")
                        said = proc.stderr
                        if lang == "c":
                            said = next((line for line in said.splitlines() if "error" in line), "")
                        check(words[lang] in said,
                              f"{mode}: {what}: diagnostic lacks {words[lang]!r}:\n{proc.stderr}")
                        checked += 1
    print(f"ok: {checked} compilations behaved as expected")


if __name__ == "__main__":
    main()
