/*
 * interpreter.c - the python provider's probes that the running interpreter
 * has of its own (a --with-dtrace build, such as Debian's python3.11): the
 * file that holds them, and where their semaphores are in this process.
 *
 * The file is the loaded object that holds the interpreter's code (the
 * python executable, or libpython for a shared build): the one whose
 * segments hold PyEval_SetProfile. Its stapsdt notes name each probe site
 * and its semaphore; the semaphore's address in this process is the note's
 * address plus the object's load bias. Read once, when first asked.
 */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "native.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_file.h"
#include "elf_notes.h"

/* More than the provider's 12 probes: a note of another name is kept too. */
#define MAX_PROBES 16

static struct {
    bool read;
    int error; /* -errno of the read, 0 when it worked */
    char path[PATH_MAX];
    unsigned count;
    char names[MAX_PROBES][64];
    const volatile unsigned short *semaphores[MAX_PROBES];
} interpreter;

/* The object whose loaded segments hold `address`. */
struct holder {
    uintptr_t address;
    const char *name;
    uintptr_t bias;
    bool found;
};

static int find_holder(struct dl_phdr_info *info, size_t size, void *data)
{
    struct holder *holder = data;

    (void)size;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];

        if (segment->p_type == PT_LOAD &&
            holder->address - (info->dlpi_addr + segment->p_vaddr) < segment->p_memsz) {
            holder->name = info->dlpi_name;
            holder->bias = info->dlpi_addr;
            holder->found = true;
            return 1;
        }
    }
    return 0;
}

/* Keeps a python probe with a semaphore (one entry per name; a probe has as
 * many sites as the compiler made copies, all on the one semaphore). The
 * semaphore must be in a writable segment of the file: the kernel writes it. */
static void keep(const struct pyprobe__elf *elf, const struct pyprobe__stapsdt_probe *probe, uintptr_t bias)
{
    struct pyprobe__elf_segment segment;

    if (strcmp(probe->provider, "python") != 0 || !probe->semaphore || interpreter.count == MAX_PROBES ||
        strlen(probe->name) >= sizeof interpreter.names[0])
        return;
    if (pyprobe__elf_segment_at(elf, probe->semaphore, &segment) != 0 || !(segment.flags & PF_W))
        return;
    for (unsigned i = 0; i < interpreter.count; i++)
        if (strcmp(interpreter.names[i], probe->name) == 0)
            return;
    strcpy(interpreter.names[interpreter.count], probe->name);
    interpreter.semaphores[interpreter.count++] = (const volatile unsigned short *)(bias + probe->semaphore);
}

/* Fills `interpreter` from the holder's file: 0 or -errno. */
static int read_probes(void)
{
    struct holder holder = {.address = (uintptr_t)&PyEval_SetProfile};
    struct pyprobe__elf *elf;
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__stapsdt_probe probe;
    int rc;

    dl_iterate_phdr(find_holder, &holder);
    if (!holder.found)
        return -ENOENT;
    /* The main program's name is "": its file is /proc/self/exe. */
    if (!realpath(holder.name[0] ? holder.name : "/proc/self/exe", interpreter.path))
        return -errno;
    rc = pyprobe__elf_open_path(interpreter.path, &elf);
    if (rc != 0)
        return rc;
    pyprobe__stapsdt_begin(elf, &it);
    while ((rc = pyprobe__stapsdt_next(&it, &probe)) != 0) {
        if (rc > 0)
            keep(elf, &probe, holder.bias);
        else if (pyprobe__stapsdt_stuck(&it))
            break; /* the notes after a broken one cannot be read: keep what came before */
    }
    pyprobe__elf_close(elf);
    return 0;
}

/* Reads the probes once; -1 with OSError set when that failed. */
static int ensure_read(void)
{
    if (!interpreter.read) {
        interpreter.error = read_probes();
        interpreter.read = true;
    }
    if (interpreter.error == 0)
        return 0;
    errno = -interpreter.error;
    PyErr_Format(PyExc_OSError, "cannot read the interpreter's own probes%s%s: %s",
                 interpreter.path[0] ? " in " : "", interpreter.path, strerror(-interpreter.error));
    return -1;
}

int pyprobe__py_interpreter_semaphore(const char *name, const volatile unsigned short **out)
{
    *out = NULL;
    if (ensure_read() != 0)
        return -1;
    for (unsigned i = 0; i < interpreter.count; i++)
        if (strcmp(interpreter.names[i], name) == 0)
            *out = interpreter.semaphores[i];
    return 0;
}

/* interpreter_probes() -> (path, names): the file that holds the running
 * interpreter, and the python probes it has of its own (empty unless it was
 * built --with-dtrace), in note order. */
static PyObject *interpreter_probes(PyObject *module, PyObject *unused)
{
    PyObject *names;

    (void)module;
    (void)unused;
    if (ensure_read() != 0)
        return NULL;
    names = PyTuple_New(interpreter.count);
    for (unsigned i = 0; names && i < interpreter.count; i++) {
        PyObject *name = PyUnicode_FromString(interpreter.names[i]);

        if (!name) {
            Py_CLEAR(names);
            break;
        }
        PyTuple_SET_ITEM(names, i, name);
    }
    return names ? Py_BuildValue("(sN)", interpreter.path, names) : NULL;
}

static PyMethodDef interpreter_methods[] = {
    {"interpreter_probes", interpreter_probes, METH_NOARGS,
     "interpreter_probes() -> (path, names): the interpreter's file and its own python probes."},
    {NULL, NULL, 0, NULL},
};

int pyprobe__py_add_interpreter(PyObject *module)
{
    return PyModule_AddFunctions(module, interpreter_methods);
}
