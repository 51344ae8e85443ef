/*
 * d_resolve.h - the probes that D probe descriptions name, found where
 * they are: in running processes (the lister's src/lister), in the files
 * a -c command will map before it runs, or in a file named as the module.
 *
 *   python4242:::function-entry   the python provider of process 4242
 *   python$target:::...           of -p's or -c's process ($target bound)
 *   python*:::...                 of every running process that has it
 *   python:::..., :::NAME         of the -p/-c processes, else of every one
 *                                 (as `pyprobe -l -P python` matches; dtrace
 *                                 would take every process even with -c: a
 *                                 glob, *:::NAME, still does)
 *   python*:/path/lib.so::...     that file's, even before a process maps it
 *   pid4242:MODULE:FUNCTION:entry the functions of process 4242 (or of the
 *                                 held command's files), by their symbols
 *
 * Provider, module, function and name are globs; the name matches the D
 * form (function-entry) and the note's (function__entry) alike; the
 * module is the object's base name, or its path when the glob has a '/'.
 * A process's objects are attached by a path to the very file mapped.
 * The command of -c is held before exec (d_child.h): its files are its
 * executable and the shared libraries it needs (DT_NEEDED, searched as
 * ld.so does: RPATH, LD_LIBRARY_PATH, RUNPATH, /etc/ld.so.conf, the
 * system directories); a library it opens later with dlopen() must be
 * named as the module.
 */
#ifndef PYPROBE_D_RESOLVE_H
#define PYPROBE_D_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "d_child.h"

struct pyprobe__d_probe_spec {
    const char *provider, *module, *function, *name; /* NULL or "": any */
    bool functions;             /* the pid provider: pid4242:MODULE:FUNCTION:entry|return,
                                   the functions of the process's objects (a.out: its
                                   program), by their symbols */
};

struct pyprobe__d_targets {
    const int *pids;            /* -p */
    size_t pid_count;
    const struct pyprobe__d_child *child; /* -c, held: NULL for none */
};

/* One probe found for spec `spec`. */
struct pyprobe__d_match {
    size_t spec;
    char *path;                 /* the file to attach to */
    char *module;               /* its base name */
    char *provider;             /* as in the note: python */
    char *name;                 /* as in the note: function__entry */
    char *function;             /* the C function of the site, "" when none */
    unsigned id;                /* one per distinct probe (provider, pid, module, function, name) */
    int pid;                    /* 0: any process that maps the file */
};

struct pyprobe__d_matches {
    struct pyprobe__d_match *items;
    size_t count;
    size_t *per_spec;           /* distinct probes per spec: dtrace's "matched N probes" */
    int *kept_fds;              /* files reached through /proc/self/fd: open until freed */
    size_t kept_count;
};

/* Finds every probe of the specs: 0, or -errno with a message (-EINVAL:
 * a spec still holding "$target" with no target; a -p process that cannot
 * be read). A spec that matches nothing is no error here: per_spec says. */
int pyprobe__d_resolve(const struct pyprobe__d_probe_spec *specs, size_t count,
                       const struct pyprobe__d_targets *targets, struct pyprobe__d_matches *out, char *message,
                       size_t size);
void pyprobe__d_matches_free(struct pyprobe__d_matches *matches);

/* The shared libraries `path` needs, recursively, as ld.so finds them:
 * 0 and a malloc'd array of malloc'd paths (without `path` itself). */
int pyprobe__d_needed_files(const char *path, char ***out, size_t *count);

/* d_python.c: for a held command whose executable (`path`, or a file it
 * needs) is CPython, the file of the pyprobe package's module that holds
 * its python provider, as the interpreter run as `argv0` says: 0 and a
 * malloc'd path, or 0 and NULL (not CPython, no package, the interpreter's
 * own probes, no answer within 10 s). */
int pyprobe__d_python_module(const char *argv0, const char *path, char *const *needed, size_t count,
                             char **module);

/* How many defined functions of the ELF file open at `fd` match the glob
 * (.symtab, else .dynsym): 0 and *count, or -errno. */
int pyprobe__d_count_functions(int fd, const char *glob, size_t *count);

#endif /* PYPROBE_D_RESOLVE_H */
