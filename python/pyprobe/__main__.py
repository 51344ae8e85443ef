"""python3 -m pyprobe: CPython's python provider for a program, with no
change to it.

    python3 -m pyprobe run script.py [args...]     the script, probes enabled
    python3 -m pyprobe run -m module [args...]     the module, likewise
    python3 -m pyprobe attach PID                  enable them in a running
                                                   Python 3.14+ (PEP 768)
    python3 -m pyprobe where                       the file holding the probes

Errors are one line on stderr and exit status 1 (2 for usage).
"""
import os
import runpy
import sys
import time

import pyprobe

USAGE = ("usage: python3 -m pyprobe run script.py [args...]\n"
         "       python3 -m pyprobe run -m module [args...]\n"
         "       python3 -m pyprobe attach PID\n"
         "       python3 -m pyprobe where")

# How long attach waits for the target to load pyprobe.
ATTACH_SECONDS = 10


class Failure(Exception):
    pass


def enable():
    why = pyprobe.unsupported()
    if why:
        raise Failure(f"run: {why}")
    pyprobe.enable()


def run(args):
    """Runs a script or module as __main__ with the probes enabled, as
    python3 -m cProfile does. What the program raises is its own."""
    if not args or args[0] == "-m" and len(args) < 2:
        raise Failure("run: no script or module given (run script.py [args...] or run -m module [args...])")
    if args[0] == "-m":
        module = args[1]
        import importlib.util
        if importlib.util.find_spec(module) is None:
            raise Failure(f"run: no module named {module!r}")
        sys.argv = [module] + args[2:]
        enable()
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    path = args[0]
    if not os.path.isfile(path):
        raise Failure(f"run: can't open file {path!r}: no such file")
    sys.argv = args
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    enable()
    runpy.run_path(path, run_name="__main__")


def process_is_python(pid):
    """Whether /proc/PID's executable or a mapped library is a CPython."""
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        with open(f"/proc/{pid}/maps") as maps:
            mapped = maps.read()
    except PermissionError:
        raise Failure(f"attach {pid}: not permitted to inspect the process (run as its user or as root)")
    except FileNotFoundError:
        raise Failure(f"attach {pid}: no such process")
    return exe.startswith("python") or "/libpython3" in mapped


def loaded(pid):
    """Whether pyprobe's probes are mapped in the process."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return pyprobe.where() in maps.read()
    except OSError:
        return False


def attach(args):
    """Enables the probes in a running Python 3.14+ that never imported
    pyprobe, through sys.remote_exec (PEP 768), and waits until it has."""
    if len(args) != 1 or not args[0].isdigit():
        raise Failure(f"attach: {' '.join(args) or 'no process'}: give one process id (attach PID)")
    pid = int(args[0])
    if not hasattr(sys, "remote_exec"):
        raise Failure(f"attach needs Python 3.14 or later (sys.remote_exec, PEP 768); this is "
                      f"{sys.version_info.major}.{sys.version_info.minor}")
    if not process_is_python(pid):
        raise Failure(f"attach {pid}: not a Python process")
    if loaded(pid):
        print(f"pyprobe: {pid} already has the python provider in {pyprobe.where()}")
        return
    import tempfile
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(pyprobe.__file__)))
    with tempfile.NamedTemporaryFile("w", prefix="pyprobe-attach-", suffix=".py", delete=False) as f:
        f.write(f"import os, sys\n"
                f"try:\n"
                f"    sys.path.insert(0, {package_parent!r})\n"
                f"    import pyprobe\n"
                f"    pyprobe.enable()\n"
                f"finally:\n"
                f"    os.unlink({f.name!r})\n")
    os.chmod(f.name, 0o644)  # the target may run as another user
    try:
        sys.remote_exec(pid, f.name)
    except PermissionError:
        os.unlink(f.name)
        raise Failure(f"attach {pid}: not permitted (ptrace: run as its user or as root, "
                      f"see /proc/sys/kernel/yama/ptrace_scope)")
    except (OSError, RuntimeError) as e:
        os.unlink(f.name)
        raise Failure(f"attach {pid}: {e}")
    deadline = time.monotonic() + ATTACH_SECONDS
    while not loaded(pid):
        if time.monotonic() > deadline:
            raise Failure(f"attach {pid}: the process did not load pyprobe within {ATTACH_SECONDS} s "
                          f"(it runs the request at its next bytecode: is it blocked in a call?)")
        time.sleep(0.01)
    print(f"pyprobe: enabled in {pid}; probes in {pyprobe.where()}")


def main(argv):
    commands = {"run": run, "attach": attach, "where": lambda args: print(pyprobe.where())}
    if not argv or argv[0] not in commands:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        commands[argv[0]](argv[1:])
    except Failure as e:
        print(f"pyprobe: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
