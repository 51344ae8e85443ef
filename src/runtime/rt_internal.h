/*
 * rt_internal.h - the runtime providers' bookkeeping, shared by the files of
 * src/runtime: rt_provider.c (create, add, names, errors), pyprobe__rt_load.c (the
 * object's file, dlopen), rt_fire.c (fire, enabled) and rt_image.c (the ELF
 * object itself).
 */
#ifndef PYPROBE_RT_INTERNAL_H
#define PYPROBE_RT_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyprobe_runtime.h"

/* The site's calling convention: every fire passes all twelve values. */
typedef void (*pyprobe__rt_site_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                    uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

struct pyprobe_probe {
    /* Read by every fire, written by load and unload (atomically: a fire
     * may run while its provider loads). While unloaded `semaphore` points
     * at a zero that never changes and `site` is NULL. */
    const volatile uint16_t *semaphore;
    pyprobe__rt_site_fn site;
    unsigned arg_count;
    uint8_t types[PYPROBE_MAX_PROBE_ARGS]; /* enum pyprobe_arg_type */
    char *name;
    pyprobe_provider *provider;
};

/* The loaded object: where its file lives and what dlopen made of it. */
struct pyprobe__rt_object {
    void *handle;       /* dlopen's; NULL while unloaded */
    int fd;             /* the memfd or temporary file, open while loaded */
    bool memfd;         /* false: path is a temporary file, removed on unload */
    char path[PATH_MAX]; /* what dlopen was given */
};

struct pyprobe_provider {
    char *name;
    pyprobe_probe **probes; /* each allocated on its own: the pointers handed out stay valid */
    size_t probe_count, probe_capacity;
    struct pyprobe__rt_object object;
    char error[PYPROBE_ERROR_MAX];
};

/* The zero an unloaded probe's semaphore points at. */
extern const volatile uint16_t pyprobe__rt_unloaded_semaphore;

/* Records a failure of a provider's call: returns `error` (a negative errno)
 * and keeps the message for pyprobe_provider_error(). */
int pyprobe__rt_fail(pyprobe_provider *provider, int error, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The same for a message that has no provider to live in: it goes to
 * `message` (`size` bytes; NULL or 0 drops it). */
int pyprobe__rt_fail_into(char *message, size_t size, int error, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* How messages show a name that came from the caller: quoted, its first
 * PYPROBE__NAME_SHOWN bytes and then "..." when it is longer, and every
 * byte that is not printable ASCII as \xNN, so that any name, a megabyte
 * or a line break, makes one short line. Returns `out`. */
#define PYPROBE__NAME_SHOWN 64
#define PYPROBE__QUOTED_MAX (PYPROBE__NAME_SHOWN * 4 + sizeof "\"\"...")
const char *pyprobe__rt_quote(const char *name, char out[PYPROBE__QUOTED_MAX]);

/* 0 when `name` is a C identifier of 1 to `max` characters; -EINVAL or
 * -ENAMETOOLONG otherwise, with why in `message` (`size` bytes) and `what`
 * ("provider", "probe") in it. */
int pyprobe__rt_check_name(char *message, size_t size, const char *what, const char *name, size_t max);

/* rt_load.c */
int pyprobe__rt_load(pyprobe_provider *provider);
void pyprobe__rt_unload(pyprobe_provider *provider);

#endif /* PYPROBE_RT_INTERNAL_H */
