/*
 * native.h - pyprobe._native, the extension module of the pyprobe package:
 * its two parts, each adding itself to the module (module.c).
 *
 *   runtime.c       probes defined at run time: Provider, Probe, INT8 ...
 *   provider.c      CPython's python provider for a stock interpreter: the
 *                   sys.monitoring callbacks and the semaphore watcher
 *   interpreter.c   the python probes the interpreter has of its own (a
 *                   --with-dtrace build) and where their semaphores are
 *   tracing_path.c  3.11: its own function__entry made to fire while
 *                   traced (gh-98894)
 */
#ifndef PYPROBE_PY_NATIVE_H
#define PYPROBE_PY_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

int pyprobe__py_add_runtime(PyObject *module);
int pyprobe__py_add_provider(PyObject *module);
int pyprobe__py_add_interpreter(PyObject *module);
int pyprobe__py_add_tracing_path(PyObject *module);

/* The semaphore of the interpreter's own probe `name` in this process, or
 * NULL in *out when it has none: 0, or -1 with OSError set when its file
 * cannot be read. */
int pyprobe__py_interpreter_semaphore(const char *name, const volatile unsigned short **out);

#endif /* PYPROBE_PY_NATIVE_H */
