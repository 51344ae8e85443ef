"""What each raised probe needs registered with the interpreter, and its
removal when the tracer leaves.

The watcher (pyprobe._native.start) calls apply(mask) with the GIL whenever
the set of raised semaphores changes; bit i of mask is _native.PROBES[i].

  function__entry   sys.monitoring PY_START, PY_RESUME, PY_THROW
  function__return  sys.monitoring PY_RETURN, PY_YIELD, PY_UNWIND
  line              sys.monitoring LINE
  gc__start/done    a gc.callbacks entry
  import__...       a wrapper around importlib's _find_and_load, which
                    CPython's import.c calls (and brackets with its probes)
  audit             an audit hook, installed at the first attach for good
                    (hooks cannot be removed); untraced it reads a semaphore
  instance__...     nothing: stock CPython has no clean hook (they never
                    fire, as in CPython's own builds)

A probe the interpreter fires itself (a --with-dtrace build) is left alone,
so that no event is seen twice.
"""
import gc
import sys

from . import _native

BIT = {name: 1 << i for i, name in enumerate(_native.PROBES)}
ENTRY = BIT.get("function__entry", 0)
RETURN = BIT.get("function__return", 0)
LINE = BIT.get("line", 0)
GC = BIT.get("gc__start", 0) | BIT.get("gc__done", 0)
IMPORT = BIT.get("import__find__load__start", 0) | BIT.get("import__find__load__done", 0)
AUDIT = BIT.get("audit", 0)

# sys.monitoring's tool ids that pyprobe may take, in order: never
# DEBUGGER_ID (0), COVERAGE_ID (1) or PROFILER_ID (2), which pdb, coverage.py
# and profilers claim; 3 and 4 are unassigned, 5 is OPTIMIZER_ID.
TOOL_IDS = (3, 4, 5)
TOOL_NAME = "pyprobe"


def native_probes():
    """The probes this interpreter fires itself: a --with-dtrace build of
    3.12 to 3.14 fires gc, import and audit (its function and line probes
    never fire, gh-104280); 3.15 fires entry and return again (gh-142397)."""
    import sysconfig  # only once a tracer comes: it costs milliseconds to import

    if not sysconfig.get_config_var("WITH_DTRACE"):
        return 0
    fired = GC | IMPORT | AUDIT
    if sys.version_info >= (3, 15):
        fired |= ENTRY | RETURN
    return fired


def monitoring_callbacks():
    """(event, callback) for every sys.monitoring event pyprobe uses."""
    events = sys.monitoring.events
    return [(events.PY_START, _native.on_entry), (events.PY_RESUME, _native.on_entry),
            (events.PY_THROW, _native.on_entry), (events.PY_RETURN, _native.on_return),
            (events.PY_YIELD, _native.on_return), (events.PY_UNWIND, _native.on_return),
            (events.LINE, _native.on_line)]


def monitoring_events(mask):
    """The sys.monitoring events the function and line probes of mask need."""
    events = sys.monitoring.events
    wanted = 0
    if mask & ENTRY:
        wanted |= events.PY_START | events.PY_RESUME | events.PY_THROW
    if mask & RETURN:
        wanted |= events.PY_RETURN | events.PY_YIELD | events.PY_UNWIND
    if mask & LINE:
        wanted |= events.LINE
    return wanted


def say(message):
    """One line on stderr: the watcher has no caller to raise to."""
    print(f"pyprobe: {message}", file=sys.stderr, flush=True)


class Registrations:
    """What pyprobe has registered with the interpreter right now."""

    def __init__(self):
        self.native = None             # native_probes(), when first needed
        self.tool = None               # the sys.monitoring tool id held
        self.tool_refused = False      # said once that no id was free
        self.gc_callback = False
        self.find_and_load = None      # importlib's own, while wrapped
        self.audit_hook = False

    def apply(self, mask):
        if mask and self.native is None:
            self.native = native_probes()
        mask &= ~(self.native or 0)
        self.monitor(monitoring_events(mask))
        self.collect(bool(mask & GC))
        self.bracket_imports(bool(mask & IMPORT))
        if mask & AUDIT and not self.audit_hook:
            sys.addaudithook(_native.on_audit)
            self.audit_hook = True

    def monitor(self, events):
        monitoring = sys.monitoring
        if events and self.tool is None:
            self.tool = self.claim_tool()
            if self.tool is None:
                return
            for event, callback in monitoring_callbacks():
                monitoring.register_callback(self.tool, event, callback)
        if self.tool is None:
            return
        monitoring.set_events(self.tool, events)
        if not events:
            # 3.12's free_tool_id leaves callbacks and events in place.
            for event, _ in monitoring_callbacks():
                monitoring.register_callback(self.tool, event, None)
            monitoring.free_tool_id(self.tool)
            self.tool = None

    def claim_tool(self):
        for tool in TOOL_IDS:
            if sys.monitoring.get_tool(tool) is None:
                sys.monitoring.use_tool_id(tool, TOOL_NAME)
                self.tool_refused = False
                return tool
        if not self.tool_refused:
            holders = ", ".join(f"{t}: {sys.monitoring.get_tool(t)}" for t in TOOL_IDS)
            say(f"no free sys.monitoring tool id ({holders}): the function and line probes stay off")
            self.tool_refused = True
        return None

    def collect(self, wanted):
        if wanted and not self.gc_callback:
            gc.callbacks.append(_native.on_gc)
        elif not wanted and self.gc_callback:
            gc.callbacks.remove(_native.on_gc)
        self.gc_callback = wanted

    def bracket_imports(self, wanted):
        bootstrap = sys.modules["_frozen_importlib"]
        if wanted and self.find_and_load is None:
            self.find_and_load = bootstrap._find_and_load
            bootstrap._find_and_load = bracketed(self.find_and_load, bootstrap._gcd_import.__code__)
        elif not wanted and self.find_and_load is not None:
            bootstrap._find_and_load = self.find_and_load
            self.find_and_load = None


def bracketed(find_and_load, gcd_import_code):
    """importlib's _find_and_load between the import probes, when CPython's
    import.c calls it (not when importlib.import_module does, through
    _gcd_import, which import.c's probes do not see either)."""
    start, done = _native.on_import_start, _native.on_import_done

    def _find_and_load(name, import_):
        if sys._getframe(1).f_code is gcd_import_code:
            return find_and_load(name, import_)
        start(name)
        try:
            module = find_and_load(name, import_)
        except BaseException:
            done(name, False)
            raise
        done(name, True)
        return module

    return _find_and_load


registrations = Registrations()


def apply(mask):
    """The watcher's entry: registers what mask's probes need, removes the
    rest. Reports a failure in one line; never raises."""
    try:
        registrations.apply(mask)
    except Exception as e:  # the watcher has nobody to raise to
        say(f"could not follow the tracer: {type(e).__name__}: {e}")
