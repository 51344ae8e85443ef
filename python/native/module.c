/*
 * module.c - pyprobe._native: the extension module of the pyprobe package
 * (python/pyprobe/), built from libpyprobe.a and this directory.
 *
 * It holds state of its own (the watcher, the types), so it refuses a
 * second interpreter; and it runs without the GIL on a free-threaded
 * build, where pyprobe.enable() refuses instead of re-enabling the GIL.
 */
#include "native.h"

#include "pyprobe.h"

static int exec_module(PyObject *module)
{
    if (pyprobe__py_add_runtime(module) != 0 || pyprobe__py_add_provider(module) != 0 ||
        pyprobe__py_add_interpreter(module) != 0 || pyprobe__py_add_tracing_path(module) != 0)
        return -1;
    return PyModule_AddStringConstant(module, "VERSION", pyprobe_version());
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyprobe._native",
    .m_doc = "pyprobe's native part: run-time providers and the python provider (see the pyprobe package).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModuleDef_Init(&native_module);
}
