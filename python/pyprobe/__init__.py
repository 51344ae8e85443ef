"""pyprobe: CPython's USDT probes for the Pythons people run, and probes
defined at run time.

The python provider (CPython 3.12 and later, which no longer fire their
function, return and line probes):

    import pyprobe
    pyprobe.enable()     # from now on, tracers see python:function__entry ...
    pyprobe.where()      # the file that holds the probes, for bpftrace & co.

or, with no change to the program: `python3 -m pyprobe run script.py`,
`PYPROBE_AUTO=1 python3 app.py` (the installed start-up hook), and on 3.14
`python3 -m pyprobe attach PID`. The probes, names, argument order and C
types are CPython's own (probes/python.d), so existing scripts work: attach
them by pid (usdt:*:python:function__entry with -p PID) or by where().

While no tracer is attached nothing is registered with the interpreter: a
watcher thread reads the probes' semaphores without the GIL and turns on
what a tracer asks for (pyprobe._activate) only while it is there.

On CPython 3.11 built --with-dtrace (Debian's python3.11), the probes are
the interpreter's own (where() is its file): pyprobe fires none of them,
and makes its function__entry fire while it is traced, which it otherwise
does only on the interpreter's tracing path (gh-98894; the native module's
tracing_path.c says how).

Probes defined at run time, for any program:

    app = pyprobe.Provider("myapp")
    request = app.add_probe("request", str, int)
    with app:
        request.fire("/index.html", 200)
"""
import atexit
import os
import sys

from ._native import (INT8, INT16, INT32, INT64, MAX_ARGS, POINTER, STRING, UINT8, UINT16, UINT32,  # noqa: F401
                      UINT64, ArgType, Probe, Provider)
from ._native import PROBES, VERSION as __version__
from . import _native

# How often the watcher reads the semaphores, in seconds: the delay between
# a tracer's attaching and the first probe is at most about this long.
DEFAULT_INTERVAL = 0.01


# 3.11: no sys.monitoring; the interpreter's own probes, if it has them.
_BEFORE_MONITORING = sys.version_info < (3, 12)


class _State:
    enabled = False
    interval = DEFAULT_INTERVAL
    hooks = False  # atexit and fork handlers registered


def where():
    """The file that holds the python provider's probes: what a tracer
    names as the module (usdt:WHERE:python:function__entry). On 3.11 built
    --with-dtrace, the interpreter's own file."""
    if _BEFORE_MONITORING and _native_entry():
        return _native.interpreter_probes()[0]
    return os.path.realpath(_native.__file__)


def _native_entry():
    """Whether this 3.11 has a function__entry probe of its own."""
    return "function__entry" in _native.interpreter_probes()[1]


def _apply():
    """What the watcher hands the raised semaphores to."""
    if _BEFORE_MONITORING:
        return _native.tracing_path
    from . import _activate
    return _activate.apply


def unsupported():
    """Why enable() cannot work in this interpreter, or None."""
    if not PROBES:
        return "this pyprobe was built without probes (PYPROBE_PROBES=OFF or no systemtap-sdt-dev)"
    if _BEFORE_MONITORING and not _native_entry():
        return (f"the python provider needs Python 3.12 or later (sys.monitoring), or a --with-dtrace 3.11; "
                f"this is {sys.version_info.major}.{sys.version_info.minor} without probes of its own")
    if "t" in sys.abiflags:  # a free-threaded build (no sysconfig: a costly import)
        return "free-threaded Python is not supported yet (the probes would need the GIL)"
    return None


def enable(interval=None):
    """Publishes CPython's python provider for this interpreter: from now on
    a tracer that attaches gets its probes, and nothing is registered while
    none is attached. Idempotent. interval: how often to look for tracers
    (seconds; default PYPROBE_INTERVAL from the environment, else 0.01)."""
    if _State.enabled:
        return
    why = unsupported()
    if why:
        raise RuntimeError(f"pyprobe.enable(): {why}")
    if interval is None:
        interval = float(os.environ.get("PYPROBE_INTERVAL", DEFAULT_INTERVAL))
    _native.start(_apply(), interval)
    _State.enabled, _State.interval = True, interval
    if not _State.hooks:
        atexit.register(disable)
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _State.hooks = True


def disable():
    """Stops watching and removes whatever a tracer had turned on (an audit
    hook, once installed, stays, reading its semaphore)."""
    if not _State.enabled:
        return
    _native.stop()
    _apply()(0)
    _State.enabled = False


def enabled():
    """Whether enable() is in force."""
    return _State.enabled


def traced():
    """The probes a tracer is attached to, as far as the watcher has seen
    (it looks every interval): names as in python.d ("function__entry")."""
    return _names(_native.masks()[1] if _State.enabled else 0)


def attached():
    """The probes whose semaphores are raised right now."""
    return _names(_native.masks()[0])


def _names(mask):
    return tuple(name for bit, name in enumerate(PROBES) if mask >> bit & 1)


def _after_fork_in_child():
    """The child has no watcher thread: it gets its own."""
    if _State.enabled:
        _native.stop(False)  # the parent's thread is not the child's
        _native.start(_apply(), _State.interval)
