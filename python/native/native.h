/*
 * native.h - pyprobe._native, the extension module of the pyprobe package:
 * its two parts, each adding itself to the module (module.c).
 *
 *   runtime.c   probes defined at run time: Provider, Probe, INT8 ...
 *   provider.c  CPython's python provider for a stock interpreter: the
 *               sys.monitoring callbacks and the semaphore watcher
 */
#ifndef PYPROBE_PY_NATIVE_H
#define PYPROBE_PY_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

int pyprobe__py_add_runtime(PyObject *module);
int pyprobe__py_add_provider(PyObject *module);

#endif /* PYPROBE_PY_NATIVE_H */
