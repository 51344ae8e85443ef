"""A USDT probe's semaphore in this process, to raise as the kernel does when
a tracer attaches (bench/programs/sidebyside_calls.py, stock_latency.py).

    semaphore = usdt_semaphore.at(path, address)   # ctypes.c_uint16
    semaphore.value = 1

path: the loaded file that holds the probe (an executable or a shared
object mapped in this process); address: the semaphore's address in that
file, as its stapsdt note gives it (readelf -n).
"""
import ctypes
import os

ET_EXEC = 2


def load_base(path):
    """Where path is loaded: 0 for a fixed-address executable, else the start
    of its lowest mapping (its first segment is at address 0)."""
    with open(path, "rb") as f:
        header = f.read(18)
    if int.from_bytes(header[16:18], "little") == ET_EXEC:
        return 0
    real = os.path.realpath(path)
    with open("/proc/self/maps") as maps:
        starts = [int(line.split("-")[0], 16) for line in maps if line.rstrip().endswith(" " + real)]
    if not starts:
        raise SystemExit(f"usdt_semaphore: {real} is not mapped in this process")
    return min(starts)


def at(path, address):
    return ctypes.c_uint16.from_address(load_base(path) + address)
