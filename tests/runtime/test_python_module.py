#!/usr/bin/env python3
"""The pyprobe Python module without a tracer (unittest): its API, every
error it raises, where the object lives, several providers, load/unload
cycles without leaks, threads and fork. A tracer is simulated where needed
by raising the probe's semaphore through ctypes (what the kernel does when
a tracer attaches), so that the traced fire path runs too.
PYTHONPATH must reach the built module.
"""
import ctypes
import _ctypes
import errno
import gc
import os
import threading
import unittest

import pyprobe

EVERY_TYPE = (pyprobe.INT8, pyprobe.UINT8, pyprobe.INT16, pyprobe.UINT16, pyprobe.INT32, pyprobe.UINT32,
              pyprobe.INT64, pyprobe.UINT64, pyprobe.STRING, pyprobe.POINTER)
RANGES = {pyprobe.INT8: (-2**7, 2**7 - 1), pyprobe.UINT8: (0, 2**8 - 1),
          pyprobe.INT16: (-2**15, 2**15 - 1), pyprobe.UINT16: (0, 2**16 - 1),
          pyprobe.INT32: (-2**31, 2**31 - 1), pyprobe.UINT32: (0, 2**32 - 1),
          pyprobe.INT64: (-2**63, 2**63 - 1), pyprobe.UINT64: (0, 2**64 - 1),
          pyprobe.POINTER: (0, 2**64 - 1)}
UNDER_ASAN = "asan" in os.environ.get("LD_PRELOAD", "")


def raise_semaphore(provider, probe, value=1):
    """Sets the probe's semaphore in the loaded object, as a tracer's kernel does."""
    library = ctypes.CDLL(provider.path, mode=os.RTLD_NOLOAD | os.RTLD_NOW)
    try:
        ctypes.c_uint16.in_dll(library, f"{provider.name}_{probe.name}_semaphore").value = value
    finally:
        _ctypes.dlclose(library._handle)  # ctypes never drops its reference itself


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def maps_lines():
    with open("/proc/self/maps") as maps:
        return len(maps.readlines())


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def heap_in_use():
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


class Module(unittest.TestCase):
    def test_constants(self):
        self.assertEqual(pyprobe.MAX_ARGS, 12)
        self.assertEqual(repr(pyprobe.UINT16), "pyprobe.UINT16")
        self.assertEqual(pyprobe.STRING.name, "STRING")
        self.assertIsInstance(pyprobe.POINTER, pyprobe.ArgType)
        self.assertRegex(pyprobe.__version__, r"^\d+\.\d+\.\d+$")

    def test_int_and_str_are_int64_and_string(self):
        probe = pyprobe.Provider("pytypes").add_probe("p", int, str, *EVERY_TYPE)
        self.assertEqual(probe.types, (pyprobe.INT64, pyprobe.STRING) + EVERY_TYPE)
        self.assertEqual(probe.name, "p")
        self.assertEqual(repr(probe), "<pyprobe.Probe pytypes:p, 12 arguments>")


class Errors(unittest.TestCase):
    def test_invalid_provider_names(self):
        for name in ("", "1abc", "a-b", "a b", "a:b", "caf\u00e9", "x" * 60):
            with self.subTest(name=name), self.assertRaisesRegex(ValueError, "provider name"):
                pyprobe.Provider(name)
        with self.assertRaises(TypeError):
            pyprobe.Provider(3)
        pyprobe.Provider("x" * 59)

    def test_invalid_probe_names(self):
        provider = pyprobe.Provider("pynames")
        for name in ("", "9lives", "a.b", "tab\t", "y" * 64):
            with self.subTest(name=name), self.assertRaisesRegex(ValueError, "probe name"):
                provider.add_probe(name)
        with self.assertRaisesRegex(TypeError, "name must be a str"):
            provider.add_probe(b"bytes")
        with self.assertRaises(TypeError):
            provider.add_probe()
        provider.add_probe("y" * 63)

    def test_too_many_arguments(self):
        provider = pyprobe.Provider("pymany")
        with self.assertRaisesRegex(ValueError, "13 arguments, at most 12"):
            provider.add_probe("p", *([int] * 13))
        self.assertEqual(len(provider.add_probe("q", *([int] * 12)).types), 12)

    def test_unknown_types(self):
        provider = pyprobe.Provider("pyunknown")
        for bad in (float, bytes, "int", 3, None, object()):
            with self.subTest(type=bad), self.assertRaisesRegex(TypeError, "must be int, str or a pyprobe"):
                provider.add_probe("p", int, bad)

    def test_duplicate_probe(self):
        provider = pyprobe.Provider("pydup")
        provider.add_probe("tick", int)
        with self.assertRaisesRegex(ValueError, "already has a probe tick"):
            provider.add_probe("tick")

    def test_adding_after_load(self):
        provider = pyprobe.Provider("pylate")
        provider.add_probe("early")
        with provider:
            with self.assertRaisesRegex(RuntimeError, "is loaded"):
                provider.add_probe("late")
        provider.add_probe("late")  # unloaded: allowed again

    def test_loading_and_unloading_twice(self):
        provider = pyprobe.Provider("pytwice")
        provider.add_probe("p")
        with self.assertRaisesRegex(RuntimeError, "not loaded"):
            provider.unload()
        provider.load()
        with self.assertRaisesRegex(RuntimeError, "already loaded"):
            provider.load()
        provider.unload()
        self.assertFalse(provider.loaded)

    def test_firing_an_unloaded_probe(self):
        provider = pyprobe.Provider("pyunloaded")
        probe = provider.add_probe("p", int)
        with self.assertRaisesRegex(RuntimeError, "provider pyunloaded is not loaded"):
            probe.fire(1)
        with provider:
            probe.fire(1)
        with self.assertRaisesRegex(RuntimeError, "not loaded"):
            probe.fire(1)

    def test_wrong_argument_count(self):
        provider = pyprobe.Provider("pycount")
        two = provider.add_probe("two", int, str)
        none = provider.add_probe("none")
        with provider:
            with self.assertRaisesRegex(TypeError, r"two.fire\(\) takes 2 arguments \(1 given\)"):
                two.fire(1)
            with self.assertRaisesRegex(TypeError, r"takes 2 arguments \(3 given\)"):
                two.fire(1, "a", 3)
            with self.assertRaisesRegex(TypeError, r"none.fire\(\) takes 0 arguments \(1 given\)"):
                none.fire(1)
            with self.assertRaises(TypeError):
                two.fire(1, text="a")
            none.fire()

    def test_wrong_argument_types(self):
        provider = pyprobe.Provider("pywrong")
        probe = provider.add_probe("p", int, str, pyprobe.POINTER, pyprobe.UINT8)
        with provider:
            cases = [(("1", "a", None, 0), "argument 0 must be int"),
                     ((1.5, "a", None, 0), "argument 0 must be int"),
                     ((1, 2, None, 0), "argument 1 must be str or bytes"),
                     ((1, None, None, 0), "argument 1 must be str or bytes"),
                     ((1, "a", "0x10", 0), "argument 2 must be int or None"),
                     ((1, "a", None, b"\x01"), "argument 3 must be int")]
            for args, message in cases:
                with self.subTest(args=args), self.assertRaisesRegex(TypeError, message):
                    probe.fire(*args)
            probe.fire(True, b"bytes", 0x1000, False)

    def test_integers_out_of_range(self):
        provider = pyprobe.Provider("pyrange")
        probes = {t: provider.add_probe(t.name.lower(), t) for t in RANGES}
        with provider:
            for t, (low, high) in RANGES.items():
                probes[t].fire(low)
                probes[t].fire(high)
                for bad in (low - 1, high + 1, 2**200, -2**200):
                    with self.subTest(type=t, value=bad), self.assertRaisesRegex(ValueError, "out of range"):
                        probes[t].fire(bad)


class Loading(unittest.TestCase):
    def test_load_failure_says_why(self):
        provider = pyprobe.Provider("pyfails")
        provider.add_probe("p")
        saved = {name: os.environ.get(name) for name in ("PYPROBE_RUNTIME_NO_MEMFD", "TMPDIR")}
        os.environ.update(PYPROBE_RUNTIME_NO_MEMFD="1", TMPDIR="/nonexistent-pyprobe-dir")
        try:
            with self.assertRaises(OSError) as caught:
                provider.load()
        finally:
            for name, value in saved.items():
                if value is None:
                    del os.environ[name]
                else:
                    os.environ[name] = value
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        self.assertIn("/nonexistent-pyprobe-dir/pyprobe-pyfails-", str(caught.exception))
        self.assertFalse(provider.loaded)
        with provider:  # with a memfd it loads
            self.assertTrue(provider.uses_memfd)

    def test_temporary_file_where_no_memfd(self):
        provider = pyprobe.Provider("pyondisk")
        provider.add_probe("p", int)
        os.environ["PYPROBE_RUNTIME_NO_MEMFD"] = "1"
        try:
            provider.load()
        finally:
            del os.environ["PYPROBE_RUNTIME_NO_MEMFD"]
        path = provider.path
        self.assertFalse(provider.uses_memfd)
        self.assertRegex(path, r"/pyprobe-pyondisk-\w{6}\.so$")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        provider.unload()
        self.assertFalse(os.path.exists(path))

    def test_context_manager_loads_and_unloads(self):
        provider = pyprobe.Provider("pywith")
        provider.add_probe("p")
        with provider as entered:
            self.assertIs(entered, provider)
            self.assertTrue(provider.loaded)
        self.assertFalse(provider.loaded)
        with self.assertRaises(ZeroDivisionError):
            with provider:
                1 / 0
        self.assertFalse(provider.loaded)
        self.assertIsNone(provider.path)

    def test_object_lives_in_a_memfd(self):
        provider = pyprobe.Provider("pymemfd")
        provider.add_probe("p")
        with provider:
            self.assertTrue(provider.uses_memfd)
            self.assertRegex(provider.path, rf"^/proc/{os.getpid()}/fd/\d+$")
            self.assertEqual(os.readlink(provider.path), "/memfd:pyprobe-pymemfd.so (deleted)")
            with open("/proc/self/maps") as maps:
                self.assertEqual(maps.read().count("/memfd:pyprobe-pymemfd.so"), 3)
        with open("/proc/self/maps") as maps:
            self.assertNotIn("pymemfd", maps.read())

    def test_probe_keeps_its_provider_alive(self):
        provider = pyprobe.Provider("pyalive")
        probe = provider.add_probe("p", int)
        provider.load()
        del provider
        gc.collect()
        probe.fire(1)
        self.assertTrue(probe.provider.loaded)
        self.assertEqual(probe.provider.name, "pyalive")

    def test_several_providers(self):
        providers = [pyprobe.Provider(name) for name in ("pya", "pyb", "pyc")]
        probes = [p.add_probe("tick", int) for p in providers]
        for p in providers:
            p.load()
        self.assertEqual(len({p.path for p in providers}), 3)
        raise_semaphore(providers[2], probes[2])
        self.assertEqual([p.enabled for p in probes], [False, False, True])
        providers[1].unload()
        probes[0].fire(1)
        probes[2].fire(3)
        with self.assertRaises(RuntimeError):
            probes[1].fire(2)
        for p in providers:
            if p.loaded:
                p.unload()

    def test_a_thousand_cycles_leak_nothing(self):
        provider = pyprobe.Provider("pycycles")
        probe = provider.add_probe("all", *EVERY_TYPE)
        args = (-1, 1, -2, 2, -3, 3, -4, 4, "text", None)

        def cycle():
            with provider:
                raise_semaphore(provider, probe)
                probe.fire(*args)

        for _ in range(10):
            cycle()
        gc.collect()  # ctypes' objects of the cycles are garbage in cycles
        fds, maps, heap = open_fds(), maps_lines(), heap_in_use()
        for _ in range(1000):
            cycle()
        gc.collect()
        self.assertEqual(open_fds(), fds)
        with open("/proc/self/maps") as f:
            self.assertNotIn("/memfd:pyprobe-pycycles.so", f.read())
        if not UNDER_ASAN:  # whose allocator maps memory of its own as it goes
            self.assertEqual(maps_lines(), maps)
            self.assertLess(heap_in_use() - heap, 65536)


class Firing(unittest.TestCase):
    def test_enabled_follows_the_semaphore(self):
        provider = pyprobe.Provider("pyenabled")
        probe = provider.add_probe("p", str)
        self.assertFalse(probe.enabled)
        with provider:
            self.assertIs(probe.enabled, False)
            raise_semaphore(provider, probe, 1)
            self.assertIs(probe.enabled, True)
            probe.fire("traced")
            raise_semaphore(provider, probe, 0)
            self.assertIs(probe.enabled, False)
        self.assertFalse(probe.enabled)

    def test_strings_never_fail_to_encode(self):
        provider = pyprobe.Provider("pystrings")
        probe = provider.add_probe("p", str)
        with provider:
            for traced in (0, 1):
                raise_semaphore(provider, probe, traced)
                for text in ("plain", "\u2603 snowman", "lone \udcff surrogate", "nul\0inside", ""):
                    probe.fire(text)

    def test_threads_fire_at_once(self):
        provider = pyprobe.Provider("pythreads")
        probe = provider.add_probe("tick", str, int)
        errors = []

        def run(name):
            try:
                for i in range(5000):
                    probe.fire(name, i)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        with provider:
            raise_semaphore(provider, probe)
            threads = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])

    def test_child_after_fork_keeps_working_probes(self):
        provider = pyprobe.Provider("pyfork")
        probe = provider.add_probe("p", int)
        with provider:
            pid = os.fork()
            if pid == 0:
                try:
                    raise_semaphore(provider, probe)
                    probe.fire(os.getpid())
                    os._exit(0 if probe.enabled else 1)
                except BaseException:  # noqa: BLE001 - the child must not return into unittest
                    os._exit(2)
            _, status = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(status), 0)
            self.assertFalse(probe.enabled)  # the child's semaphore was its own
            probe.fire(1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
