/*
 * runtime.c - USDT probes defined from Python, over libpyprobe's runtime
 * API (pyprobe_runtime.h): pyprobe.Provider, pyprobe.Probe and the
 * argument types.
 *
 *     import pyprobe
 *
 *     app = pyprobe.Provider("myapp")
 *     request = app.add_probe("request", str, int, pyprobe.UINT16)
 *     with app:                                  # load(); unload() at the end
 *         if request.enabled:                    # only while traced
 *             request.fire(path, size, status)
 *
 * Types: int (64-bit signed), str (UTF-8 string), or the module's
 * constants INT8 ... UINT64, STRING, POINTER. fire() checks the number and
 * types of its arguments, and the ranges of integers, on every call, traced
 * or not; strings are encoded only while traced (lone surrogates are
 * escaped, never an error: a tracer must not change what the program does).
 */
#include "native.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "pyprobe.h"
#include "pyprobe_runtime.h"
#include "rt_internal.h" /* pyprobe__rt_quote: names in messages as the library shows them */
#include "rt_types.h"

/* One of the module's types, pyprobe.NAME, with `object` as its instances'
 * struct and the slots given after its doc string. */
#define MODULE_TYPE(c_name, name, object, doc, ...) \
    static PyTypeObject c_name = { \
        PyVarObject_HEAD_INIT(NULL, 0) \
        .tp_name = "pyprobe." name, \
        .tp_basicsize = sizeof(object), \
        .tp_flags = Py_TPFLAGS_DEFAULT, \
        .tp_doc = doc, \
        __VA_ARGS__ \
    }

/* ---- argument types: pyprobe.INT8 ... ---- */

typedef struct {
    PyObject_HEAD
    enum pyprobe_arg_type code;
    const char *name;
} ArgTypeObject;

/* The argument types (src/runtime/rt_types.h), by enum pyprobe_arg_type. */
#define TYPE_END (PYPROBE__ARG_TYPE_LAST + 1)

static PyObject *type_constants[TYPE_END]; /* the module's constants, by type */

static PyObject *ArgType_repr(PyObject *self)
{
    return PyUnicode_FromFormat("pyprobe.%s", ((ArgTypeObject *)self)->name);
}

static PyObject *ArgType_get_name(PyObject *self, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(((ArgTypeObject *)self)->name);
}

static PyGetSetDef ArgType_getset[] = {
    {"name", ArgType_get_name, NULL, "The constant's name: 'INT8', 'STRING' ...", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

MODULE_TYPE(ArgTypeType, "ArgType", ArgTypeObject,
            "A probe argument's type: one of pyprobe.INT8 ... UINT64, STRING, POINTER.",
            .tp_repr = ArgType_repr, .tp_getset = ArgType_getset);

/* A type given to add_probe: int, str or a constant. -1 with TypeError. */
static int type_code(PyObject *given, Py_ssize_t index, enum pyprobe_arg_type *out)
{
    if (given == (PyObject *)&PyLong_Type)
        *out = PYPROBE_ARG_INT64;
    else if (given == (PyObject *)&PyUnicode_Type)
        *out = PYPROBE_ARG_STRING;
    else if (Py_IS_TYPE(given, &ArgTypeType))
        *out = ((ArgTypeObject *)given)->code;
    else {
        PyErr_Format(PyExc_TypeError,
                     "add_probe(): type %zd must be int, str or a pyprobe constant (INT8 ... UINT64, "
                     "STRING, POINTER), not %R", index, given);
        return -1;
    }
    return 0;
}

/* ---- errors ---- */

/* Raises the exception that fits a runtime error code, with `message`
 * (pyprobe_strerror's sentence when empty); returns NULL. Messages are
 * ASCII, but a path in one may not be UTF-8: it is escaped, never an error
 * of its own. */
static PyObject *raise_error(int rc, const char *message)
{
    PyObject *text, *args, *type = PyExc_OSError;

    if (rc == -ENOMEM)
        return PyErr_NoMemory();
    if (!*message)
        message = pyprobe_strerror(rc);
    if (!(text = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "backslashreplace")))
        return NULL;
    switch (rc) {
    case -EINVAL:
    case -ENAMETOOLONG:
    case -E2BIG:
    case -EEXIST:
        type = PyExc_ValueError;
        break;
    case -EBUSY:
    case -EALREADY:
    case -ENODEV:
        type = PyExc_RuntimeError;
        break;
    }
    if (type != PyExc_OSError) {
        PyErr_SetObject(type, text);
        Py_DECREF(text);
    } else if ((args = Py_BuildValue("(iN)", -rc, text))) {
        PyErr_SetObject(type, args);
        Py_DECREF(args);
    }
    return NULL;
}

/* The same for a failed call on a provider, with what it said. */
static PyObject *raise_runtime_error(int rc, const pyprobe_provider *provider)
{
    return raise_error(rc, pyprobe_provider_error(provider));
}

/* ---- Provider ---- */

typedef struct {
    PyObject_HEAD
    pyprobe_provider *provider;
} ProviderObject;

typedef struct {
    PyObject_HEAD
    ProviderObject *owner; /* keeps the C provider, which owns the probe, alive */
    pyprobe_probe *probe;
} ProbeObject;

static PyTypeObject ProviderType;
static PyTypeObject ProbeType;

static int Provider_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"name", NULL};
    ProviderObject *p = (ProviderObject *)self;
    char message[PYPROBE_ERROR_MAX];
    const char *name;
    int rc;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s:Provider", keywords, &name))
        return -1;
    if (p->provider) {
        PyErr_SetString(PyExc_RuntimeError, "Provider.__init__() called twice");
        return -1;
    }
    rc = pyprobe_provider_create_ex(name, &p->provider, message, sizeof message);
    if (rc != 0) {
        raise_error(rc, message);
        return -1;
    }
    return 0;
}

static void Provider_dealloc(PyObject *self)
{
    pyprobe_provider_destroy(((ProviderObject *)self)->provider);
    Py_TYPE(self)->tp_free(self);
}

static pyprobe_provider *provider_of(PyObject *self)
{
    pyprobe_provider *provider = ((ProviderObject *)self)->provider;

    if (!provider)
        PyErr_SetString(PyExc_RuntimeError, "Provider.__init__() was not called");
    return provider;
}

static PyObject *Provider_add_probe(PyObject *self, PyObject *args)
{
    enum pyprobe_arg_type types[PYPROBE_MAX_PROBE_ARGS];
    pyprobe_provider *provider = provider_of(self);
    Py_ssize_t count = PyTuple_GET_SIZE(args) - 1;
    pyprobe_probe *probe;
    ProbeObject *result;
    const char *name;
    int rc;

    if (!provider)
        return NULL;
    if (count < 0)
        return PyErr_Format(PyExc_TypeError, "add_probe() takes a name and up to %d types", PYPROBE_MAX_PROBE_ARGS);
    if (!PyUnicode_Check(PyTuple_GET_ITEM(args, 0)))
        return PyErr_Format(PyExc_TypeError, "add_probe(): the name must be a str, not %s",
                            Py_TYPE(PyTuple_GET_ITEM(args, 0))->tp_name);
    if (!(name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(args, 0))))
        return NULL;
    if (count > PYPROBE_MAX_PROBE_ARGS) {
        char shown[PYPROBE__QUOTED_MAX];

        return PyErr_Format(PyExc_ValueError, "add_probe(): probe %s has %zd arguments, at most %d",
                            pyprobe__rt_quote(name, shown), count, PYPROBE_MAX_PROBE_ARGS);
    }
    for (Py_ssize_t i = 0; i < count; i++)
        if (type_code(PyTuple_GET_ITEM(args, i + 1), i, &types[i]) != 0)
            return NULL;
    rc = pyprobe_provider_add_probe(provider, name, types, (size_t)count, &probe);
    if (rc != 0)
        return raise_runtime_error(rc, provider);
    result = PyObject_New(ProbeObject, &ProbeType);
    if (!result)
        return NULL;
    Py_INCREF(self);
    result->owner = (ProviderObject *)self;
    result->probe = probe;
    return (PyObject *)result;
}

/* provider.load() and provider.unload(): the C call, errors raised. */
static PyObject *call_provider(PyObject *self, int (*call)(pyprobe_provider *))
{
    pyprobe_provider *provider = provider_of(self);
    int rc;

    if (!provider)
        return NULL;
    rc = call(provider);
    if (rc != 0)
        return raise_runtime_error(rc, provider);
    Py_RETURN_NONE;
}

static PyObject *Provider_load(PyObject *self, PyObject *unused)
{
    (void)unused;
    return call_provider(self, pyprobe_provider_load);
}

static PyObject *Provider_unload(PyObject *self, PyObject *unused)
{
    (void)unused;
    return call_provider(self, pyprobe_provider_unload);
}

/* with provider: loads it unless loaded; unloads it at the end. */
static PyObject *Provider_enter(PyObject *self, PyObject *unused)
{
    pyprobe_provider *provider = provider_of(self);

    (void)unused;
    if (!provider)
        return NULL;
    if (!pyprobe_provider_loaded(provider)) {
        PyObject *result = Provider_load(self, NULL);

        if (!result)
            return NULL;
        Py_DECREF(result);
    }
    Py_INCREF(self);
    return self;
}

static PyObject *Provider_exit(PyObject *self, PyObject *args)
{
    pyprobe_provider *provider = provider_of(self);

    (void)args;
    if (!provider)
        return NULL;
    if (pyprobe_provider_loaded(provider))
        pyprobe_provider_unload(provider);
    Py_RETURN_FALSE;
}

static PyObject *Provider_get_name(PyObject *self, void *closure)
{
    pyprobe_provider *provider = provider_of(self);

    (void)closure;
    return provider ? PyUnicode_FromString(pyprobe_provider_name(provider)) : NULL;
}

static PyObject *Provider_get_loaded(PyObject *self, void *closure)
{
    pyprobe_provider *provider = provider_of(self);

    (void)closure;
    return provider ? PyBool_FromLong(pyprobe_provider_loaded(provider)) : NULL;
}

static PyObject *Provider_get_path(PyObject *self, void *closure)
{
    pyprobe_provider *provider = provider_of(self);
    const char *path;

    (void)closure;
    if (!provider)
        return NULL;
    path = pyprobe_provider_path(provider);
    if (!path)
        Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(path);
}

static PyObject *Provider_get_uses_memfd(PyObject *self, void *closure)
{
    pyprobe_provider *provider = provider_of(self);

    (void)closure;
    return provider ? PyBool_FromLong(pyprobe_provider_uses_memfd(provider)) : NULL;
}

static PyObject *Provider_repr(PyObject *self)
{
    pyprobe_provider *provider = ((ProviderObject *)self)->provider;

    if (!provider)
        return PyUnicode_FromString("<pyprobe.Provider (uninitialised)>");
    return PyUnicode_FromFormat("<pyprobe.Provider %s, %zu probes, %s>", pyprobe_provider_name(provider),
                                pyprobe_provider_probe_count(provider),
                                pyprobe_provider_loaded(provider) ? "loaded" : "not loaded");
}

static PyMethodDef Provider_methods[] = {
    {"add_probe", Provider_add_probe, METH_VARARGS,
     "add_probe(name, *types) -> Probe\n\nAdds a probe with up to " PYPROBE__STRING(PYPROBE_MAX_PROBE_ARGS) " arguments, each int (64-bit signed), "
     "str (UTF-8 string) or a pyprobe constant. Only before load()."},
    {"load", Provider_load, METH_NOARGS, "Loads the provider: tracers see its probes from now on."},
    {"unload", Provider_unload, METH_NOARGS, "Unloads the provider; it may be loaded again."},
    {"__enter__", Provider_enter, METH_NOARGS, "Loads the provider unless it is loaded."},
    {"__exit__", Provider_exit, METH_VARARGS, "Unloads the provider."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Provider_getset[] = {
    {"name", Provider_get_name, NULL, "The provider's name.", NULL},
    {"loaded", Provider_get_loaded, NULL, "Whether the provider is loaded.", NULL},
    {"path", Provider_get_path, NULL,
     "The loaded object as tracers name it (/proc/PID/fd/N for a memfd), or None.", NULL},
    {"uses_memfd", Provider_get_uses_memfd, NULL, "Whether the loaded object lives in a memfd.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

MODULE_TYPE(ProviderType, "Provider", ProviderObject,
            "Provider(name): a USDT provider whose probes are defined at run time.",
            .tp_new = PyType_GenericNew, .tp_init = Provider_init, .tp_dealloc = Provider_dealloc,
            .tp_repr = Provider_repr, .tp_methods = Provider_methods, .tp_getset = Provider_getset);

/* ---- Probe ---- */

static void Probe_dealloc(PyObject *self)
{
    Py_XDECREF(((ProbeObject *)self)->owner);
    PyObject_Free(self);
}

/* An integer argument in the range of its type, as 64 bits. -1 with
 * TypeError or ValueError. */
static int convert_integer(const ProbeObject *p, size_t index, const struct pyprobe__arg_type *row,
                           PyObject *value, uint64_t *out)
{
    int overflow = 0;
    long long v;

    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s.fire(): argument %zu must be int (%s), not %s",
                     pyprobe_probe_name(p->probe), index, row->name, Py_TYPE(value)->tp_name);
        return -1;
    }
    v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow > 0 && !row->is_signed && row->bits == 64) {
        unsigned long long u = PyLong_AsUnsignedLongLong(value);

        if (!(u == (unsigned long long)-1 && PyErr_Occurred())) {
            *out = u;
            return 0;
        }
        PyErr_Clear();
    } else if (!overflow) {
        unsigned long long high = row->is_signed ? (1ULL << (row->bits - 1)) - 1
                                  : row->bits == 64 ? ULLONG_MAX : (1ULL << row->bits) - 1;
        long long low = row->is_signed ? -(long long)high - 1 : 0;

        if (v >= low && (v < 0 || (unsigned long long)v <= high)) {
            *out = (uint64_t)v;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "%s.fire(): argument %zu = %R is out of range for %s",
                 pyprobe_probe_name(p->probe), index, value, row->name);
    return -1;
}

/* A string argument's address; when `traced` is false only its type is
 * checked. A re-encoded copy (lone surrogates escaped) goes to *keep. */
static int convert_string(const ProbeObject *p, size_t index, PyObject *value, int traced, uint64_t *out,
                          PyObject **keep)
{
    const char *s;

    if (PyBytes_Check(value)) {
        *out = (uint64_t)(uintptr_t)PyBytes_AS_STRING(value);
        return 0;
    }
    if (!PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s.fire(): argument %zu must be str or bytes (STRING), not %s",
                     pyprobe_probe_name(p->probe), index, Py_TYPE(value)->tp_name);
        return -1;
    }
    if (!traced)
        return 0;
    s = PyUnicode_AsUTF8(value);
    if (!s) {
        PyErr_Clear();
        *keep = PyUnicode_AsEncodedString(value, "utf-8", "backslashreplace");
        if (!*keep)
            return -1;
        s = PyBytes_AS_STRING(*keep);
    }
    *out = (uint64_t)(uintptr_t)s;
    return 0;
}

static int convert_pointer(const ProbeObject *p, size_t index, PyObject *value, uint64_t *out)
{
    if (value == Py_None) {
        *out = 0;
        return 0;
    }
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s.fire(): argument %zu must be int or None (POINTER), not %s",
                     pyprobe_probe_name(p->probe), index, Py_TYPE(value)->tp_name);
        return -1;
    }
    return convert_integer(p, index, &pyprobe__arg_types[PYPROBE_ARG_POINTER], value, out);
}

static int convert_arg(const ProbeObject *p, size_t index, PyObject *value, int traced, uint64_t *out,
                       PyObject **keep)
{
    enum pyprobe_arg_type type = pyprobe_probe_arg_type(p->probe, index);

    if (type == PYPROBE_ARG_STRING)
        return convert_string(p, index, value, traced, out, keep);
    if (type == PYPROBE_ARG_POINTER)
        return convert_pointer(p, index, value, out);
    return convert_integer(p, index, &pyprobe__arg_types[type], value, out);
}

static PyObject *Probe_fire(PyObject *self, PyObject *args)
{
    ProbeObject *p = (ProbeObject *)self;
    size_t count = pyprobe_probe_arg_count(p->probe);
    PyObject *keep[PYPROBE_MAX_PROBE_ARGS] = {NULL};
    uint64_t values[PYPROBE_MAX_PROBE_ARGS];
    int traced = pyprobe_probe_enabled(p->probe), rc = 0;

    if ((size_t)PyTuple_GET_SIZE(args) != count)
        return PyErr_Format(PyExc_TypeError, "%s.fire() takes %zu argument%s (%zd given)",
                            pyprobe_probe_name(p->probe), count, count == 1 ? "" : "s", PyTuple_GET_SIZE(args));
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = convert_arg(p, i, PyTuple_GET_ITEM(args, i), traced, &values[i], &keep[i]);
    if (rc == 0 && !pyprobe_provider_loaded(p->owner->provider)) {
        PyErr_Format(PyExc_RuntimeError, "%s.fire(): provider %s is not loaded", pyprobe_probe_name(p->probe),
                     pyprobe_provider_name(p->owner->provider));
        rc = -1;
    }
    if (rc == 0 && traced)
        pyprobe_probe_fire(p->probe, values, count); /* count checked, loaded: cannot fail */
    for (size_t i = 0; i < count; i++)
        Py_XDECREF(keep[i]);
    if (rc != 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Probe_get_enabled(PyObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(pyprobe_probe_enabled(((ProbeObject *)self)->probe));
}

static PyObject *Probe_get_name(PyObject *self, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(pyprobe_probe_name(((ProbeObject *)self)->probe));
}

static PyObject *Probe_get_types(PyObject *self, void *closure)
{
    const pyprobe_probe *probe = ((ProbeObject *)self)->probe;
    size_t count = pyprobe_probe_arg_count(probe);
    PyObject *types = PyTuple_New((Py_ssize_t)count);

    (void)closure;
    for (size_t i = 0; types && i < count; i++) {
        PyObject *constant = type_constants[pyprobe_probe_arg_type(probe, i)];

        Py_INCREF(constant);
        PyTuple_SET_ITEM(types, (Py_ssize_t)i, constant);
    }
    return types;
}

static PyObject *Probe_get_provider(PyObject *self, void *closure)
{
    PyObject *owner = (PyObject *)((ProbeObject *)self)->owner;

    (void)closure;
    Py_INCREF(owner);
    return owner;
}

static PyObject *Probe_repr(PyObject *self)
{
    const ProbeObject *p = (const ProbeObject *)self;

    return PyUnicode_FromFormat("<pyprobe.Probe %s:%s, %zu arguments>", pyprobe_provider_name(p->owner->provider),
                                pyprobe_probe_name(p->probe), pyprobe_probe_arg_count(p->probe));
}

static PyMethodDef Probe_methods[] = {
    {"fire", Probe_fire, METH_VARARGS,
     "fire(*args)\n\nFires the probe: the tracers attached see the arguments. Untraced it only checks them."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Probe_getset[] = {
    {"enabled", Probe_get_enabled, NULL,
     "Whether a tracer is attached (the probe's semaphore): test it before preparing costly arguments.", NULL},
    {"name", Probe_get_name, NULL, "The probe's name.", NULL},
    {"types", Probe_get_types, NULL, "The argument types, as pyprobe constants.", NULL},
    {"provider", Probe_get_provider, NULL, "The Provider the probe belongs to.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

MODULE_TYPE(ProbeType, "Probe", ProbeObject, "A probe of a Provider: made by Provider.add_probe().",
            .tp_dealloc = Probe_dealloc, .tp_repr = Probe_repr, .tp_methods = Probe_methods,
            .tp_getset = Probe_getset);

/* ---- into the module ---- */

static int add_type_constants(PyObject *module)
{
    for (int type = PYPROBE__ARG_TYPE_FIRST; type <= PYPROBE__ARG_TYPE_LAST; type++) {
        ArgTypeObject *constant = PyObject_New(ArgTypeObject, &ArgTypeType);

        if (!constant)
            return -1;
        constant->code = (enum pyprobe_arg_type)type;
        constant->name = pyprobe__arg_types[type].name;
        type_constants[type] = (PyObject *)constant;
        Py_INCREF(constant); /* one reference for the table, one for the module */
        if (PyModule_AddObject(module, constant->name, (PyObject *)constant) != 0) {
            Py_DECREF(constant);
            return -1;
        }
    }
    return 0;
}

static int add_types(PyObject *module)
{
    PyTypeObject *types[] = {&ArgTypeType, &ProviderType, &ProbeType};
    const char *names[] = {"ArgType", "Provider", "Probe"};

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (PyType_Ready(types[i]) != 0)
            return -1;
        Py_INCREF(types[i]);
        if (PyModule_AddObject(module, names[i], (PyObject *)types[i]) != 0) {
            Py_DECREF(types[i]);
            return -1;
        }
    }
    return 0;
}

int pyprobe__py_add_runtime(PyObject *module)
{
    if (add_types(module) != 0 || add_type_constants(module) != 0 ||
        PyModule_AddIntConstant(module, "MAX_ARGS", PYPROBE_MAX_PROBE_ARGS) != 0)
        return -1;
    return 0;
}
