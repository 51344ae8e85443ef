#!/usr/bin/env python3
"""The pyprobe Python module under bpftrace (unittest): py_target.py's
probes of every type with exact values, and enabled going from False to
True while bpftrace is attached and back after it detaches.

Needs root and a working bpftrace; without them the tests are skipped
(exit 77 for ctest), unless PYPROBE_REQUIRE_TRACERS=1 makes that a failure.
PYTHONPATH must reach the built module.
"""
import collections
import os
import shutil
import subprocess
import sys
import unittest

import rt_trace

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = [sys.executable, os.path.join(HERE, "py_target.py")]


def target_env():
    """The traced program's environment: a sanitizer build's module needs
    the sanitizers' runtimes preloaded (PYPROBE_TARGET_PRELOAD); bpftrace
    must not get them."""
    env = dict(os.environ)
    if env.get("PYPROBE_TARGET_PRELOAD"):
        env["LD_PRELOAD"] = env["PYPROBE_TARGET_PRELOAD"]
    return env

# (probe, printed values) -> count, as py_target.py fires them.
TYPES_EVENTS = {
    ("small", "-128|255|-32768|65535|-2147483648|4294967295"): 1,
    ("small", "127|0|32767|0|2147483647|0"): 1,
    ("small", "1|0|-1|1|-2|2"): 1,
    ("wide", "-9223372036854775808|18446744073709551615|wide string \u00e9|1234abcd"): 1,
    ("wide", "9223372036854775807|0||0"): 1,
    ("text", "snowman \u2603|raw bytes|lone \\udcff surrogate"): 1,
    ("twelve", "first string|-123456|200|-300|fedcba9876543210|abcdef|"
               "-7|60000|-1234567890123|3000000000|last string|2147483647"): 1,
    ("none", ""): 3,
}

STACK = '*({type} *)(reg("sp") + {offset})'


def types_script(path):
    stack = [STACK.format(type=t, offset=8 * (i + 1))
             for i, t in enumerate(("int8", "uint16", "int64", "uint32", "uint64", "int32"))]
    return f"""
usdt:{path}:py_types:small {{ printf("small|%ld|%ld|%ld|%ld|%ld|%ld\\n", arg0, arg1, arg2, arg3, arg4, arg5); }}
usdt:{path}:py_types:wide {{ printf("wide|%ld|%lu|%s|%lx\\n", arg0, arg1, str(arg2), arg3); }}
usdt:{path}:py_types:text {{ printf("text|%s|%s|%s\\n", str(arg0), str(arg1), str(arg2)); }}
usdt:{path}:py_types:twelve {{
    printf("twelve|%s|%ld|%ld|%ld|%lx|%lx|", str(arg0), arg1, arg2, arg3, arg4, arg5);
    printf("%d|%d|%ld|%u|%s|%d\\n", {stack[0]}, {stack[1]}, {stack[2]}, {stack[3]}, str({stack[4]}), {stack[5]});
}}
usdt:{path}:py_types:none {{ printf("none|\\n"); }}
"""


def tracers_missing():
    """Why bpftrace cannot trace here, or None."""
    if not shutil.which("bpftrace"):
        return "bpftrace is not installed"
    if os.geteuid() != 0:
        return "bpftrace needs root"
    probe = subprocess.run(["bpftrace", "-e", "BEGIN { exit(); }"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return f"bpftrace cannot run BPF programs here: {probe.stderr.strip()}"
    return None


class PythonUnderBpftrace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = tracers_missing()
        if why and os.environ.get("PYPROBE_REQUIRE_TRACERS") == "1":
            raise AssertionError(f"{why} (PYPROBE_REQUIRE_TRACERS=1 forbids skipping)")
        if why:
            raise unittest.SkipTest(why)

    def memfd_path(self, target, provider):
        path = target.paths[provider]
        self.assertRegex(path, rf"^/proc/{target.pid}/fd/\d+$")
        self.assertEqual(os.readlink(path), f"/memfd:pyprobe-{provider}.so (deleted)")
        return path

    def test_every_type_reaches_bpftrace_exactly(self):
        text, _ = rt_trace.trace(TARGET + ["types"],
                                 lambda target, pid: types_script(self.memfd_path(target, "py_types")),
                                 env=target_env())
        seen = collections.Counter(tuple(line.split("|", 1)) for line in text.splitlines())
        self.assertEqual(dict(seen), TYPES_EVENTS)

    def test_enabled_follows_the_tracer(self):
        before = []

        def script(target, pid):
            before.append(target.readline())
            path = self.memfd_path(target, "py_enabled")
            return (f'usdt:{path}:py_enabled:tick {{ printf("%d\\n", arg0); @n++; if (@n == 5) {{ exit(); }} }}\n'
                    'END { clear(@n); }')

        text, lines = rt_trace.trace(TARGET + ["enabled"], script, env=target_env())
        self.assertEqual(before, ["enabled False"])
        self.assertEqual([line for line in lines if line.startswith("enabled")],
                         ["enabled False", "enabled True", "enabled False"])
        self.assertEqual(text.split(), ["1", "2", "3", "4", "5"])


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    # Skipped as a whole (setUpClass): ctest's SKIP_RETURN_CODE.
    sys.exit(77 if result.skipped and result.testsRun <= len(result.skipped) else 0)
