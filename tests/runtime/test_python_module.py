#!/usr/bin/env python3
"""The pyprobe Python module without a tracer: its API, every error it
raises, where the object lives, several providers, load/unload cycles
without leaks, threads and fork. A tracer is simulated where needed
by raising the probe's semaphore through ctypes (what the kernel does when
a tracer attaches), so that the traced fire path runs too.
PYTHONPATH must reach the built module and tests/lib.
"""
import ctypes
import _ctypes
import errno
import gc
import os
import re
import subprocess
import sys
import threading
import types

import pyprobe
from common import check, fail

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


def describe(function, args, kwargs):
    """function(args) as a failure message names it."""
    owner = getattr(function, "__self__", None)
    name = (f"{owner!r}.{function.__name__}" if owner is not None and not isinstance(owner, types.ModuleType)
            else function.__qualname__)
    return f"{name}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])})"


def raises(exception, pattern, function, *args, **kwargs):
    """Calls function(*args, **kwargs), which must raise exception with a
    message that pattern matches (re.search; None: any message). Returns the
    exception, or fails the test."""
    call = describe(function, args, kwargs)
    try:
        function(*args, **kwargs)
    except exception as e:
        check(pattern is None or re.search(pattern, str(e)),
              f"{call} raised {type(e).__name__}({str(e)!r}), which does not match {pattern!r}")
        return e
    except Exception as e:  # noqa: BLE001 - reported as the failure
        fail(f"{call} raised {type(e).__name__}({str(e)!r}), expected {exception.__name__}")
    fail(f"{call} raised nothing, expected {exception.__name__}")


def constants_have_their_values():
    check(pyprobe.MAX_ARGS == 12, f"MAX_ARGS is {pyprobe.MAX_ARGS!r}")
    check(repr(pyprobe.UINT16) == "pyprobe.UINT16", f"repr(UINT16) is {pyprobe.UINT16!r}")
    check(pyprobe.STRING.name == "STRING", f"STRING.name is {pyprobe.STRING.name!r}")
    check(isinstance(pyprobe.POINTER, pyprobe.ArgType), f"POINTER is a {type(pyprobe.POINTER)}, not an ArgType")
    expected = os.environ.get("PYPROBE_EXPECTED_VERSION")  # CMake's project version
    check(pyprobe.__version__ == expected, f"__version__ is {pyprobe.__version__!r}, the project's {expected!r}")
    print("ok: constants, argument types and version")


def int_and_str_mean_int64_and_string():
    probe = pyprobe.Provider("pytypes").add_probe("p", int, str, *EVERY_TYPE)
    expected = (pyprobe.INT64, pyprobe.STRING) + EVERY_TYPE
    check(probe.types == expected, f"types are {probe.types}, expected {expected}")
    check(probe.name == "p", f"name is {probe.name!r}")
    check(repr(probe) == "<pyprobe.Probe pytypes:p, 12 arguments>", f"repr is {probe!r}")
    print("ok: int and str mean INT64 and STRING")


# A bad name, and the start of what the error says (after "provider name"
# or "probe name"); names are shown quoted, their first 64 bytes, then "...".
BAD_NAMES = {
    "1abc": '"1abc" starts with a digit: names are C identifiers',
    "a-b": "\"a-b\": character 2 ('-') is not a letter, digit or '_'",
    "a b": "\"a b\": character 2 (' ')",
    "a:b": "\"a:b\": character 2 (':')",
    "caf\u00e9": "\"caf\\xc3\\xa9\": byte 4 (0xc3) is not an ASCII letter",
    "tab\t": "\"tab\\x09\": byte 4 (0x09)",
    "x" * 1_000_000: '"' + "x" * 64 + '"... has 1000000 characters: at most',
}


def says(prefix, why):
    return "^" + re.escape(f"{prefix} {why}")


def invalid_provider_names_are_refused():
    for name, why in BAD_NAMES.items():
        error = raises(ValueError, says("provider name", why), pyprobe.Provider, name)
        check(len(str(error)) < 200, f"a {len(name)}-character name gives a {len(str(error))}-character message")
    raises(ValueError, "^empty provider name$", pyprobe.Provider, "")
    raises(ValueError, says("provider name", '"' + "x" * 60 + '" has 60 characters: at most 59'), pyprobe.Provider,
           "x" * 60)
    raises(ValueError, "embedded null character", pyprobe.Provider, "a\0b")
    raises(TypeError, None, pyprobe.Provider, 3)
    pyprobe.Provider("x" * 59)
    print("ok: invalid provider names are refused, each with its cause")


def a_keyword_name_is_read_from_the_keywords():
    """Provider(name=...) takes the name from the keywords, never from past
    the end of the empty argument tuple. CPython's () is a static
    singleton that AddressSanitizer cannot guard, so a child calls tp_init
    with an empty tuple of its own on the heap, with PYTHONMALLOC=malloc:
    under ASan (the sanitize suite) a read past it is a heap-buffer-overflow."""
    raises(ValueError, says("provider name", BAD_NAMES["1abc"]), pyprobe.Provider, name="1abc")
    check(pyprobe.Provider(name="kw").name == "kw", "Provider(name='kw') has another name")
    child = r"""
import ctypes, pyprobe
api = ctypes.pythonapi
api.PyType_GetSlot.restype, api.PyType_GetSlot.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_int]
api._PyObject_GC_NewVar.restype = ctypes.py_object
api._PyObject_GC_NewVar.argtypes = [ctypes.py_object, ctypes.c_ssize_t]
Py_tp_init = 60
init = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.py_object, ctypes.py_object)(
    api.PyType_GetSlot(pyprobe.Provider, Py_tp_init))
empty = api._PyObject_GC_NewVar(tuple, 0)
try:
    init(pyprobe.Provider.__new__(pyprobe.Provider), empty, {"name": "1abc"})
except ValueError as e:
    print(e)
"""
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONMALLOC="malloc"))
    check(proc.returncode == 0 and re.search(says("provider name", BAD_NAMES["1abc"]), proc.stdout),
          f"tp_init with a heap empty tuple: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    print("ok: Provider(name=...) reads its name from the keywords (a heap empty tuple, PYTHONMALLOC=malloc"
          + (", ASan" if UNDER_ASAN else "") + ")")


def invalid_probe_names_are_refused():
    provider = pyprobe.Provider("pynames")
    for name, why in BAD_NAMES.items():
        raises(ValueError, says("probe name", why), provider.add_probe, name)
    raises(ValueError, "^empty probe name$", provider.add_probe, "")
    raises(ValueError, says("probe name", '"' + "y" * 64 + '" has 64 characters: at most 63'), provider.add_probe,
           "y" * 64)
    raises(ValueError, says("probe name", '"' + "y" * 64 + '"... has 65 characters'), provider.add_probe, "y" * 65)
    raises(TypeError, "name must be a str", provider.add_probe, b"bytes")
    raises(TypeError, None, provider.add_probe)
    provider.add_probe("y" * 63)
    print("ok: invalid probe names are refused, each with its cause; long ones cut at 64 bytes")


def more_than_twelve_arguments_are_refused():
    provider = pyprobe.Provider("pymany")
    raises(ValueError, "13 arguments, at most 12", provider.add_probe, "p", *([int] * 13))
    raises(ValueError, re.escape('probe "' + "z" * 64 + '"... has 13 arguments'), provider.add_probe, "z" * 10**6,
           *([int] * 13))
    types_of_twelve = provider.add_probe("q", *([int] * 12)).types
    check(len(types_of_twelve) == 12, f"a probe of 12 arguments has types {types_of_twelve}")
    print("ok: more than 12 arguments are refused")


def unknown_argument_types_are_refused():
    provider = pyprobe.Provider("pyunknown")
    for bad in (float, bytes, "int", 3, None, object()):
        raises(TypeError, "must be int, str or a pyprobe", provider.add_probe, "p", int, bad)
    print("ok: unknown argument types are refused")


def a_duplicate_probe_is_refused():
    provider = pyprobe.Provider("pydup")
    provider.add_probe("tick", int)
    raises(ValueError, "already has a probe tick", provider.add_probe, "tick")
    print("ok: a duplicate probe is refused")


def probes_cannot_be_added_while_loaded():
    provider = pyprobe.Provider("pylate")
    provider.add_probe("early")
    with provider:
        raises(RuntimeError, "is loaded", provider.add_probe, "late")
    provider.add_probe("late")  # unloaded: allowed again
    print("ok: probes cannot be added while loaded, again once unloaded")


def loading_or_unloading_twice_is_refused():
    provider = pyprobe.Provider("pytwice")
    provider.add_probe("p")
    raises(RuntimeError, "not loaded", provider.unload)
    provider.load()
    raises(RuntimeError, "already loaded", provider.load)
    provider.unload()
    check(not provider.loaded, f"loaded is {provider.loaded!r} after unload")
    print("ok: loading twice or unloading what is not loaded is refused")


def an_unloaded_probe_cannot_fire():
    provider = pyprobe.Provider("pyunloaded")
    probe = provider.add_probe("p", int)
    raises(RuntimeError, "provider pyunloaded is not loaded", probe.fire, 1)
    with provider:
        probe.fire(1)
    raises(RuntimeError, "not loaded", probe.fire, 1)
    print("ok: a probe fires only while its provider is loaded")


def a_wrong_argument_count_is_refused():
    provider = pyprobe.Provider("pycount")
    two = provider.add_probe("two", int, str)
    none = provider.add_probe("none")
    with provider:
        raises(TypeError, r"two.fire\(\) takes 2 arguments \(1 given\)", two.fire, 1)
        raises(TypeError, r"takes 2 arguments \(3 given\)", two.fire, 1, "a", 3)
        raises(TypeError, r"none.fire\(\) takes 0 arguments \(1 given\)", none.fire, 1)
        raises(TypeError, None, two.fire, 1, text="a")
        none.fire()
    print("ok: a wrong argument count or keyword arguments are refused")


def wrong_argument_types_are_refused():
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
            raises(TypeError, message, probe.fire, *args)
        probe.fire(True, b"bytes", 0x1000, False)
    print("ok: wrong argument types are refused")


def integers_out_of_range_are_refused():
    provider = pyprobe.Provider("pyrange")
    probes = {t: provider.add_probe(t.name.lower(), t) for t in RANGES}
    with provider:
        for t, (low, high) in RANGES.items():
            probes[t].fire(low)
            probes[t].fire(high)
            for bad in (low - 1, high + 1, 2**200, -2**200):
                raises(ValueError, "out of range", probes[t].fire, bad)
    print(f"ok: integers out of range are refused ({len(RANGES)} types, limits accepted)")


def a_load_failure_says_why():
    provider = pyprobe.Provider("pyfails")
    provider.add_probe("p")
    saved = {name: os.environ.get(name) for name in ("PYPROBE_RUNTIME_NO_MEMFD", "TMPDIR")}
    os.environ.update(PYPROBE_RUNTIME_NO_MEMFD="1", TMPDIR="/nonexistent-pyprobe-dir")
    try:
        error = raises(OSError, None, provider.load)
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
    check(error.errno == errno.ENOENT, f"errno is {error.errno!r}, expected ENOENT: {error}")
    check("/nonexistent-pyprobe-dir/pyprobe-pyfails-" in str(error), f"the error names no file: {error}")
    check(not provider.loaded, f"loaded is {provider.loaded!r} after a failed load")
    with provider:  # with a memfd it loads
        check(provider.uses_memfd, f"uses_memfd is {provider.uses_memfd!r}")
    print("ok: a load failure says why (errno and file), the next load works")


def a_temporary_file_is_used_where_no_memfd():
    provider = pyprobe.Provider("pyondisk")
    provider.add_probe("p", int)
    os.environ["PYPROBE_RUNTIME_NO_MEMFD"] = "1"
    try:
        provider.load()
    finally:
        del os.environ["PYPROBE_RUNTIME_NO_MEMFD"]
    path = provider.path
    check(not provider.uses_memfd, f"uses_memfd is {provider.uses_memfd!r} with PYPROBE_RUNTIME_NO_MEMFD=1")
    check(re.search(r"/pyprobe-pyondisk-\w{6}\.so$", path), f"path is {path!r}")
    mode = os.stat(path).st_mode & 0o777
    check(mode == 0o600, f"{path} has mode {mode:o}")
    provider.unload()
    check(not os.path.exists(path), f"{path} is left after unload")
    print("ok: without a memfd, a temporary file of mode 600, removed at unload")


def the_context_manager_loads_and_unloads():
    provider = pyprobe.Provider("pywith")
    provider.add_probe("p")
    with provider as entered:
        check(entered is provider, f"with gave {entered!r}, not the provider")
        check(provider.loaded, f"loaded is {provider.loaded!r} inside with")
    check(not provider.loaded, f"loaded is {provider.loaded!r} after with")

    def divide_by_zero_while_loaded():
        with provider:
            1 / 0

    raises(ZeroDivisionError, None, divide_by_zero_while_loaded)
    check(not provider.loaded, f"loaded is {provider.loaded!r} after an exception in with")
    check(provider.path is None, f"path is {provider.path!r} after unload")
    print("ok: with loads and unloads, also on an exception")


def the_object_lives_in_a_memfd():
    provider = pyprobe.Provider("pymemfd")
    provider.add_probe("p")
    with provider:
        check(provider.uses_memfd, f"uses_memfd is {provider.uses_memfd!r}")
        check(re.search(rf"^/proc/{os.getpid()}/fd/\d+$", provider.path), f"path is {provider.path!r}")
        link = os.readlink(provider.path)
        check(link == "/memfd:pyprobe-pymemfd.so (deleted)", f"{provider.path} -> {link!r}")
        with open("/proc/self/maps") as maps:
            mappings = maps.read().count("/memfd:pyprobe-pymemfd.so")
        check(mappings == 3, f"/proc/self/maps has {mappings} mappings of the memfd, expected 3")
    with open("/proc/self/maps") as maps:
        left = [line for line in maps.read().splitlines() if "pymemfd" in line]
    check(not left, f"mapped after unload: {left}")
    print("ok: the object lives in a memfd, mapped until unload")


def a_probe_keeps_its_provider_alive():
    provider = pyprobe.Provider("pyalive")
    probe = provider.add_probe("p", int)
    provider.load()
    del provider
    gc.collect()
    probe.fire(1)
    check(probe.provider.loaded, f"the provider of a live probe: loaded is {probe.provider.loaded!r}")
    check(probe.provider.name == "pyalive", f"the probe's provider is {probe.provider.name!r}")
    print("ok: a probe keeps its provider alive and loaded")


def several_providers_live_side_by_side():
    providers = [pyprobe.Provider(name) for name in ("pya", "pyb", "pyc")]
    probes = [p.add_probe("tick", int) for p in providers]
    for p in providers:
        p.load()
    paths = [p.path for p in providers]
    check(len(set(paths)) == 3, f"paths are not distinct: {paths}")
    raise_semaphore(providers[2], probes[2])
    enabled = [p.enabled for p in probes]
    check(enabled == [False, False, True], f"enabled are {enabled}, expected only pyc's")
    providers[1].unload()
    probes[0].fire(1)
    probes[2].fire(3)
    raises(RuntimeError, None, probes[1].fire, 2)
    for p in providers:
        if p.loaded:
            p.unload()
    print("ok: several providers, each with its own object and semaphores")


def a_thousand_cycles_leak_nothing():
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
    check(open_fds() == fds, f"{open_fds()} open descriptors after 1000 cycles, {fds} before")
    with open("/proc/self/maps") as f:
        left = [line for line in f.read().splitlines() if "/memfd:pyprobe-pycycles.so" in line]
    check(not left, f"mapped after the cycles: {left}")
    if not UNDER_ASAN:  # whose allocator maps memory of its own as it goes
        check(maps_lines() == maps, f"{maps_lines()} lines in /proc/self/maps after 1000 cycles, {maps} before")
        grown = heap_in_use() - heap
        check(grown < 65536, f"the heap grew by {grown} bytes in 1000 cycles")
    print("ok: 1000 load/fire/unload cycles leak no descriptor, mapping"
          + (" (heap not measured under ASan)" if UNDER_ASAN else " or memory"))


def enabled_follows_the_semaphore():
    provider = pyprobe.Provider("pyenabled")
    probe = provider.add_probe("p", str)
    check(not probe.enabled, f"enabled is {probe.enabled!r} before load")
    with provider:
        check(probe.enabled is False, f"enabled is {probe.enabled!r} once loaded")
        raise_semaphore(provider, probe, 1)
        check(probe.enabled is True, f"enabled is {probe.enabled!r} with the semaphore raised")
        probe.fire("traced")
        raise_semaphore(provider, probe, 0)
        check(probe.enabled is False, f"enabled is {probe.enabled!r} with the semaphore lowered")
    check(not probe.enabled, f"enabled is {probe.enabled!r} after unload")
    print("ok: enabled follows the semaphore")


def strings_never_fail_to_encode():
    provider = pyprobe.Provider("pystrings")
    probe = provider.add_probe("p", str)
    with provider:
        for traced in (0, 1):
            raise_semaphore(provider, probe, traced)
            for text in ("plain", "\u2603 snowman", "lone \udcff surrogate", "nul\0inside", ""):
                probe.fire(text)
    print("ok: strings never fail to encode, traced or not")


def threads_fire_at_once():
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
    check(errors == [], f"threads failed: {errors!r}")
    print("ok: 8 threads fire 5000 times each at once")


def a_forked_child_keeps_working_probes():
    provider = pyprobe.Provider("pyfork")
    probe = provider.add_probe("p", int)
    with provider:
        pid = os.fork()
        if pid == 0:
            try:
                raise_semaphore(provider, probe)
                probe.fire(os.getpid())
                os._exit(0 if probe.enabled else 1)
            except BaseException:  # noqa: BLE001 - the child must not return into main()
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        check(code == 0, f"the forked child exited {code} (1: not enabled, 2: an exception)")
        check(not probe.enabled, f"enabled is {probe.enabled!r} in the parent: the child's semaphore was its own")
        probe.fire(1)
    print("ok: a forked child's probes work, its semaphore is its own")


def main():
    constants_have_their_values()
    int_and_str_mean_int64_and_string()
    invalid_provider_names_are_refused()
    a_keyword_name_is_read_from_the_keywords()
    invalid_probe_names_are_refused()
    more_than_twelve_arguments_are_refused()
    unknown_argument_types_are_refused()
    a_duplicate_probe_is_refused()
    probes_cannot_be_added_while_loaded()
    loading_or_unloading_twice_is_refused()
    an_unloaded_probe_cannot_fire()
    a_wrong_argument_count_is_refused()
    wrong_argument_types_are_refused()
    integers_out_of_range_are_refused()
    a_load_failure_says_why()
    a_temporary_file_is_used_where_no_memfd()
    the_context_manager_loads_and_unloads()
    the_object_lives_in_a_memfd()
    a_probe_keeps_its_provider_alive()
    several_providers_live_side_by_side()
    a_thousand_cycles_leak_nothing()
    enabled_follows_the_semaphore()
    strings_never_fail_to_encode()
    threads_fire_at_once()
    a_forked_child_keeps_working_probes()


if __name__ == "__main__":
    main()
