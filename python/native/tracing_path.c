/*
 * tracing_path.c - CPython 3.11's own function__entry, made to fire while
 * a tracer holds it, with no rebuild of the interpreter (gh-98894).
 *
 * 3.11's Python/ceval.c fires function__entry (DTRACE_FUNCTION_ENTRY) at
 * each RESUME only on its tracing path, the DO_TRACING case, which the
 * dispatch takes while cframe.use_tracing is set or `line` is traced; and
 * _PyThreadState_UpdateTracingState sets use_tracing while the thread has
 * a trace function *or* a profile function. A profile function is the
 * cheaper: 3.11 calls a trace function on every line too. (Its returns,
 * DTRACE_FUNCTION_EXIT, fire on every path: they need no help.)
 *
 * So while the interpreter's own function__entry semaphore is raised (the
 * watcher in provider.c reads it and calls tracing_path(mask)), every
 * thread that has no profile function gets an empty one, and new threads
 * of the threading module get it at their start; when the tracer leaves,
 * every thread that still has ours loses it, and the interpreter is back on
 * its ordinary path. pyprobe fires no function__entry of its own here: the
 * interpreter's is the only one, so none is doubled.
 *
 * The empty function is invisible to the program (sys.getprofile() gives
 * None), and any profiler the program sets replaces it, and still takes the
 * tracing path. One that removes itself while traced (cProfile's disable())
 * leaves its thread on the ordinary path until the watcher looks again: it
 * applies the mask every interval while the probe is traced, and puts the
 * empty function back.
 */
#include "native.h"

#if PY_VERSION_HEX < 0x030C0000

#include <stdbool.h>

static bool following; /* the semaphore was raised when last applied */

static int empty_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

/* Every thread of the interpreter whose profile function is `from` gets
 * `to`; the caller holds the GIL. 0, or -1 with an exception (an audit hook
 * may refuse sys.setprofile). */
static int replace_profiles(Py_tracefunc from, Py_tracefunc to)
{
    for (PyThreadState *t = PyInterpreterState_ThreadHead(PyInterpreterState_Get()); t; t = PyThreadState_Next(t))
        if (t->c_profilefunc == from && _PyEval_SetProfile(t, to, NULL) < 0)
            return -1;
    return 0;
}

/* thread_hook(frame, event, arg): the profile function threading gives each
 * new thread (threading.setprofile) while the probe is followed. At the
 * thread's first event it puts the empty C function in its own place. */
static PyObject *thread_hook(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    (void)args;
    (void)nargs;
    PyEval_SetProfile(following ? empty_profile : NULL, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef hook_method = {"_tracing_path_thread_hook", (PyCFunction)(void (*)(void))thread_hook,
                                  METH_FASTCALL, NULL};
static PyObject *hook; /* the function object of hook_method */

/* threading's hook for new threads: ours while following, unless the
 * program set one of its own. Set as the attribute threading.setprofile()
 * sets (3.11's threading is fixed), so that no Python code runs here: the
 * watcher's thread would fire returns without entries. Without threading
 * imported there are no threads of its making to hook; if the program
 * imports it later, the watcher's next look (every interval while traced)
 * hooks it. */
static int hook_threading(bool on)
{
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *threading = name ? PyImport_GetModule(name) : NULL;
    PyObject *current;
    int rc = 0;

    Py_XDECREF(name);
    if (!threading)
        return PyErr_Occurred() ? -1 : 0;
    current = PyObject_GetAttrString(threading, "_profile_hook");
    if (!current)
        rc = -1;
    else if (on && current == Py_None)
        rc = PyObject_SetAttrString(threading, "_profile_hook", hook);
    else if (!on && current == hook)
        rc = PyObject_SetAttrString(threading, "_profile_hook", Py_None);
    Py_XDECREF(current);
    Py_DECREF(threading);
    return rc;
}

/* tracing_path(mask): the watcher's apply() on 3.11. Bit 0 of mask is the
 * interpreter's own function__entry: while it is set, every thread takes
 * the tracing path; when it is clear, ours leave it. */
static PyObject *tracing_path(PyObject *module, PyObject *arg)
{
    unsigned long mask = PyLong_AsUnsignedLong(arg);

    (void)module;
    if (mask == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    following = mask & 1;
    if (hook_threading(following) != 0)
        return NULL;
    if ((following ? replace_profiles(NULL, empty_profile) : replace_profiles(empty_profile, NULL)) != 0)
        return NULL;
    Py_RETURN_NONE;
}

/* following_entry() -> bool: whether this thread has pyprobe's empty
 * profile function (for the tests: sys.getprofile() cannot tell). */
static PyObject *following_entry(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(PyThreadState_Get()->c_profilefunc == empty_profile);
}

static PyMethodDef tracing_path_methods[] = {
    {"tracing_path", tracing_path, METH_O, "tracing_path(mask): 3.11's function__entry on while bit 0 is set."},
    {"following_entry", following_entry, METH_NOARGS, "following_entry(): this thread has the empty profile."},
    {NULL, NULL, 0, NULL},
};

int pyprobe__py_add_tracing_path(PyObject *module)
{
    if (!hook && !(hook = PyCFunction_New(&hook_method, NULL)))
        return -1;
    return PyModule_AddFunctions(module, tracing_path_methods);
}

#else /* 3.12 and later: function__entry never fires from the interpreter */

int pyprobe__py_add_tracing_path(PyObject *module)
{
    (void)module;
    return 0;
}

#endif
