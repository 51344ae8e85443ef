/*
 * provider.c - CPython's python provider for the Pythons people run (3.12
 * and later, which no longer fire function, return and line probes):
 * libpyprobe.a's python probes, fired from sys.monitoring callbacks, and
 * the watcher that turns those on only while a tracer is attached.
 *
 * The probe sites and their semaphores are linked into this module from
 * libpyprobe.a, hidden: they never bind to the symbols of the same name of
 * a `--with-dtrace` libpython. Tracers find them in this file
 * (pyprobe.where()).
 *
 * The watcher is a plain thread, unknown to Python, that reads the
 * semaphores every interval without the GIL. When the set of raised
 * semaphores changes it takes the GIL and hands the new set to
 * pyprobe._activate.apply(), which registers exactly what those probes
 * need (sys.monitoring events, a gc callback, an import wrapper, an audit
 * hook) and removes it again when the tracer leaves. While nobody traces,
 * nothing of pyprobe is registered with the interpreter.
 *
 * On CPython 3.11 with probes of its own (Debian's --with-dtrace
 * python3.11), the watcher reads the interpreter's own function__entry
 * semaphore instead, and apply() is tracing_path.c's, which makes the
 * interpreter fire that probe itself (gh-98894): its other probes need no
 * help, and pyprobe fires none of its own there.
 *
 * N.B. The kernel raises a semaphore without telling the process (no
 * signal, no fault): polling is the only way to notice.
 */
#include "native.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "pyprobe.h"

#ifndef PYPROBE__COMPILED_OUT

/* The probes, in the order of the watcher's mask bits and of
 * pyprobe._native.PROBES. */
static const char *const probe_names[] = {
    "function__entry", "function__return", "line", "gc__start", "gc__done",
    "instance__new__start", "instance__new__done", "instance__delete__start",
    "instance__delete__done", "import__find__load__start", "import__find__load__done", "audit",
};
#define PROBE_COUNT (sizeof probe_names / sizeof probe_names[0])

/* CPython 3.11 has no sys.monitoring: pyprobe fires nothing there, and
 * makes a --with-dtrace 3.11 fire its own function__entry (tracing_path.c).
 * Its function__entry fires only on its tracing path, which tracing_path.c
 * keeps each thread on while the probe is traced; a thread can leave it
 * (its profiler removes itself), so the watcher applies the mask again
 * every interval while a probe is traced, not only when it changes. */
#define NATIVE_ENTRY (PY_VERSION_HEX < 0x030C0000)

#if !NATIVE_ENTRY
/* pyprobe's own probes. Not in a 3.11 module at all (nothing refers to
 * their sites there, so the linker leaves them out of libpyprobe.a): a
 * second python provider in the process stops bpftrace 0.17 from attaching
 * to the interpreter's own by pid ("Could not resolve symbol"). */
static const volatile unsigned short *const semaphores[PROBE_COUNT] = {
    PYPROBE__SEMAPHORE_ADDRESS(function_entry),
    PYPROBE__SEMAPHORE_ADDRESS(function_return),
    PYPROBE__SEMAPHORE_ADDRESS(line),
    PYPROBE__SEMAPHORE_ADDRESS(gc_start),
    PYPROBE__SEMAPHORE_ADDRESS(gc_done),
    PYPROBE__SEMAPHORE_ADDRESS(instance_new_start),
    PYPROBE__SEMAPHORE_ADDRESS(instance_new_done),
    PYPROBE__SEMAPHORE_ADDRESS(instance_delete_start),
    PYPROBE__SEMAPHORE_ADDRESS(instance_delete_done),
    PYPROBE__SEMAPHORE_ADDRESS(import_find_load_start),
    PYPROBE__SEMAPHORE_ADDRESS(import_find_load_done),
    PYPROBE__SEMAPHORE_ADDRESS(audit),
};
#endif

/* The semaphores the watcher reads, bit i for probe_names[i] (NULL: not
 * read): pyprobe's own; on 3.11 the interpreter's own function__entry
 * alone (bit 0). Filled when first needed (the 3.11 lookup reads a file). */
static const volatile unsigned short *watched[PROBE_COUNT];
static bool watched_filled;

/* 0, or -1 with an exception. */
static int fill_watched(void)
{
    if (watched_filled)
        return 0;
#if NATIVE_ENTRY
    if (pyprobe__py_interpreter_semaphore("function__entry", &watched[0]) != 0)
        return -1;
#else
    memcpy(watched, semaphores, sizeof watched);
#endif
    watched_filled = true;
    return 0;
}

/* Which watched semaphores are raised now: bit i for watched[i]. */
static unsigned raised_mask(void)
{
    unsigned mask = 0;

    for (unsigned i = 0; i < PROBE_COUNT; i++)
        if (watched[i] && *watched[i])
            mask |= 1u << i;
    return mask;
}

/* ---- the watcher ---- */

static struct {
    pthread_t thread;
    bool running;          /* a thread was started and not yet joined */
    atomic_bool stop;
    struct timespec interval;
    _Atomic unsigned seen; /* the mask apply() was last given (written with the GIL) */
    unsigned asked;        /* the mask a pending call was last added for */
    PyObject *apply;       /* pyprobe._activate.apply */
} watcher;

/* Calls apply(mask); the caller holds the GIL. An error is apply's to
 * report (it says what failed in one line): here it is only cleared. */
static void hand_over(unsigned mask)
{
    PyObject *result = PyObject_CallFunction(watcher.apply, "I", mask);

    if (!result)
        PyErr_Clear();
    Py_XDECREF(result);
    watcher.seen = mask;
}

/* A pending call: runs in the main thread at its next bytecode, with the
 * GIL, and hands over what is raised then. */
static int apply_pending(void *unused)
{
    unsigned mask = raised_mask();

    (void)unused;
    if (watcher.running && !atomic_load(&watcher.stop) && mask != watcher.seen)
        hand_over(mask);
    return 0;
}

/* How the watcher gets a change to apply(). First as a pending call (3.13
 * and later), which a main thread running Python takes within microseconds.
 * If that has not happened one interval later (the main thread is blocked,
 * in a join or a read, and pending calls run only there), it takes the GIL
 * itself, which a busy thread gives up within the switch interval (5 ms).
 * 3.12 takes the GIL at once: its pending calls can stall when added from a
 * thread Python does not know (CPython gh-95820). */
static void follow(unsigned mask)
{
    if (PY_VERSION_HEX >= 0x030D0000 && watcher.asked != mask) {
        watcher.asked = mask;
        if (Py_AddPendingCall(apply_pending, NULL) == 0)
            return;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    if (!atomic_load(&watcher.stop))
        hand_over(mask);
    PyGILState_Release(gil);
}

static void *watch(void *unused)
{
    (void)unused;
    while (!atomic_load(&watcher.stop)) {
        unsigned mask;

        nanosleep(&watcher.interval, NULL);
        mask = raised_mask();
        if ((mask != watcher.seen || (NATIVE_ENTRY && mask)) && !atomic_load(&watcher.stop))
            follow(mask);
    }
    return NULL;
}

/* start(apply, interval_seconds): hands apply() the semaphores as they are
 * now, then watches them. */
static PyObject *watcher_start(PyObject *module, PyObject *args)
{
    PyObject *apply;
    double interval;
    int rc;

    (void)module;
    if (!PyArg_ParseTuple(args, "Od:start", &apply, &interval))
        return NULL;
    if (watcher.running)
        return PyErr_Format(PyExc_RuntimeError, "the watcher is already running");
    if (!(interval > 0 && interval <= 10))
        return PyErr_Format(PyExc_ValueError, "interval %g s: it must be above 0 and at most 10", interval);
    if (fill_watched() != 0)
        return NULL;
    Py_INCREF(apply);
    Py_XSETREF(watcher.apply, apply);
    watcher.interval.tv_sec = (time_t)interval;
    watcher.interval.tv_nsec = (long)((interval - (double)watcher.interval.tv_sec) * 1e9);
    hand_over(raised_mask()); /* a tracer attached before we started misses nothing */
    atomic_store(&watcher.stop, false);
    rc = pthread_create(&watcher.thread, NULL, watch, NULL);
    if (rc != 0) {
        errno = rc;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    watcher.running = true;
    Py_RETURN_NONE;
}

/* stop(join=True): stops the watcher and joins its thread; apply() is not
 * called. join=False in a forked child, which has no such thread. */
static PyObject *watcher_stop(PyObject *module, PyObject *args)
{
    int join = 1;

    (void)module;
    if (!PyArg_ParseTuple(args, "|p:stop", &join))
        return NULL;
    if (watcher.running && join) {
        atomic_store(&watcher.stop, true);
        /* Without the GIL: the watcher may be waiting for it. */
        Py_BEGIN_ALLOW_THREADS
        pthread_join(watcher.thread, NULL);
        Py_END_ALLOW_THREADS
    }
    watcher.running = false;
    watcher.seen = 0;
    watcher.asked = 0;
    Py_RETURN_NONE;
}

/* masks() -> (raised, followed): the semaphores raised now, and the mask
 * apply() was last given. */
static PyObject *masks(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    if (fill_watched() != 0)
        return NULL;
    return Py_BuildValue("(II)", raised_mask(), watcher.seen);
}

/* simulate(mask): sets each watched semaphore to 1 where mask has its bit,
 * else 0, as the kernel does when tracers attach and leave: for benchmarks
 * and tests that measure pyprobe without a tracer (on 3.11, the
 * interpreter's own function__entry: its site then runs, on no uprobe).
 * N.B. It overwrites what a real tracer's kernel raised. */
static PyObject *simulate(PyObject *module, PyObject *arg)
{
    unsigned long mask = PyLong_AsUnsignedLong(arg);

    (void)module;
    if ((mask == (unsigned long)-1 && PyErr_Occurred()) || fill_watched() != 0)
        return NULL;
    for (unsigned i = 0; i < PROBE_COUNT; i++)
        if (watched[i])
            *(volatile unsigned short *)watched[i] = (mask >> i) & 1;
    Py_RETURN_NONE;
}

/* ---- the callbacks (3.12 and later) ---- */

#if !NATIVE_ENTRY

/* A str as UTF-8 for a probe: "" where it has none (a lone surrogate):
 * tracing never raises into the program. */
static const char *utf8(PyObject *text)
{
    const char *s = PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;

    if (!s) {
        PyErr_Clear();
        return "";
    }
    return s;
}

/* The line running at `offset`, a byte offset into the code object's
 * bytecode as sys.monitoring gives it: the frame's line, as CPython 3.11's
 * probes report it. An instruction of no line (the cleanup an exception
 * unwinds through) reports the function's first line, never -1. */
static int line_at(PyCodeObject *code, PyObject *offset)
{
    int line = PyCode_Addr2Line(code, (int)PyLong_AsLong(offset));

    return line >= 0 ? line : code->co_firstlineno;
}

/* Fires a function probe for the frame of args' code object at args'
 * offset: (file, function, line). */
static void fire_frame(void (*fire)(const char *, const char *, int), PyObject *const *args)
{
    PyCodeObject *code = (PyCodeObject *)args[0];

    fire(utf8(code->co_filename), utf8(code->co_name), line_at(code, args[1]));
}

/* PY_START, PY_RESUME, PY_THROW (code, offset[, exception]): a frame
 * starts or goes on. */
static PyObject *on_entry(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs >= 2 && PYPROBE_FUNCTION_ENTRY_ENABLED())
        fire_frame(pyprobe_fire_function_entry, args);
    Py_RETURN_NONE;
}

/* PY_RETURN, PY_YIELD, PY_UNWIND (code, offset, value): a frame returns,
 * yields, or is left by an exception. */
static PyObject *on_return(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs >= 2 && PYPROBE_FUNCTION_RETURN_ENABLED())
        fire_frame(pyprobe_fire_function_return, args);
    Py_RETURN_NONE;
}

/* LINE (code, line). */
static PyObject *on_line(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs >= 2 && PYPROBE_LINE_ENABLED()) {
        PyCodeObject *code = (PyCodeObject *)args[0];

        pyprobe_fire_line(utf8(code->co_filename), utf8(code->co_name), (int)PyLong_AsLong(args[1]));
    }
    Py_RETURN_NONE;
}

/* gc.callbacks (phase, info): gc__start(generation) at "start",
 * gc__done(collected + uncollectable) at "stop", where CPython's own probes
 * fire. */
static PyObject *on_gc(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyDict_Check(args[1]))
        Py_RETURN_NONE;
    if (PyUnicode_CompareWithASCIIString(args[0], "start") == 0) {
        if (PYPROBE_GC_START_ENABLED()) {
            PyObject *generation = PyDict_GetItemString(args[1], "generation");

            pyprobe_fire_gc_start(generation ? (int)PyLong_AsLong(generation) : -1);
        }
    } else if (PYPROBE_GC_DONE_ENABLED()) {
        PyObject *collected = PyDict_GetItemString(args[1], "collected");
        PyObject *uncollectable = PyDict_GetItemString(args[1], "uncollectable");

        pyprobe_fire_gc_done((collected ? PyLong_AsLong(collected) : 0) +
                             (uncollectable ? PyLong_AsLong(uncollectable) : 0));
    }
    if (PyErr_Occurred())
        PyErr_Clear();
    Py_RETURN_NONE;
}

/* import_start(name), import_done(name, found): around importlib's
 * _find_and_load, as CPython's import.c brackets it. */
static PyObject *on_import_start(PyObject *module, PyObject *name)
{
    (void)module;
    if (PYPROBE_IMPORT_FIND_LOAD_START_ENABLED())
        pyprobe_fire_import_find_load_start(utf8(name));
    Py_RETURN_NONE;
}

static PyObject *on_import_done(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs == 2 && PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED())
        pyprobe_fire_import_find_load_done(utf8(args[0]), PyObject_IsTrue(args[1]) == 1);
    Py_RETURN_NONE;
}

/* The audit hook (event, args): audit(event, the args tuple's address), as
 * CPython's sysmodule.c passes it. Installed for good at the first attach
 * of the audit probe (a hook cannot be removed); after that it costs one
 * semaphore read per event. */
static PyObject *on_audit(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs == 2 && PYPROBE_AUDIT_ENABLED())
        pyprobe_fire_audit(utf8(args[0]), args[1]);
    Py_RETURN_NONE;
}

static PyMethodDef callback_methods[] = {
    {"on_entry", (PyCFunction)(void (*)(void))on_entry, METH_FASTCALL, NULL},
    {"on_return", (PyCFunction)(void (*)(void))on_return, METH_FASTCALL, NULL},
    {"on_line", (PyCFunction)(void (*)(void))on_line, METH_FASTCALL, NULL},
    {"on_gc", (PyCFunction)(void (*)(void))on_gc, METH_FASTCALL, NULL},
    {"on_import_start", on_import_start, METH_O, NULL},
    {"on_import_done", (PyCFunction)(void (*)(void))on_import_done, METH_FASTCALL, NULL},
    {"on_audit", (PyCFunction)(void (*)(void))on_audit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

#endif /* !NATIVE_ENTRY */

static PyMethodDef watcher_methods[] = {
    {"start", watcher_start, METH_VARARGS, "start(apply, interval): watch the semaphores."},
    {"stop", watcher_stop, METH_VARARGS, "stop(join=True): stop watching."},
    {"masks", masks, METH_NOARGS, "masks() -> (raised, followed) probe masks."},
    {"simulate", simulate, METH_O, "simulate(mask): raise the semaphores of mask, as a tracer would."},
    {NULL, NULL, 0, NULL},
};

int pyprobe__py_add_provider(PyObject *module)
{
    PyObject *names = PyTuple_New(PROBE_COUNT);

    if (!names)
        return -1;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)PROBE_COUNT; i++) {
        PyObject *name = PyUnicode_FromString(probe_names[i]);

        if (!name) {
            Py_DECREF(names);
            return -1;
        }
        PyTuple_SET_ITEM(names, i, name);
    }
    if (PyModule_AddObject(module, "PROBES", names) != 0) {
        Py_DECREF(names);
        return -1;
    }
#if !NATIVE_ENTRY
    if (PyModule_AddFunctions(module, callback_methods) != 0)
        return -1;
#endif
    return PyModule_AddFunctions(module, watcher_methods);
}

#else /* PYPROBE__COMPILED_OUT */

int pyprobe__py_add_provider(PyObject *module)
{
    /* No probe sites: pyprobe.enable() says so (PROBES is empty). */
    PyObject *names = PyTuple_New(0);

    if (!names || PyModule_AddObject(module, "PROBES", names) != 0) {
        Py_XDECREF(names);
        return -1;
    }
    return 0;
}

#endif
