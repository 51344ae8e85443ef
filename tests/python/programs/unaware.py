"""A program that never imports pyprobe, for `python -m pyprobe attach`:
prints "waiting", waits until READY exists and the attached pyprobe
follows its tracer, calls tick() N times and prints "fired N"."""
import os
import sys
import time

N = 2000


def tick():
    return None


def main():
    ready = sys.argv[1]
    print("waiting", flush=True)
    deadline = time.monotonic() + 60
    while True:
        pyprobe = sys.modules.get("pyprobe")
        if pyprobe and pyprobe.traced() and os.path.exists(ready):
            break
        if time.monotonic() > deadline:
            sys.exit("unaware.py: no attach and tracer within 60 s")
        time.sleep(0.01)  # runs bytecode often: sys.remote_exec's safe point
    for _ in range(N):
        tick()
    print(f"fired {N}")


if __name__ == "__main__":
    main()
