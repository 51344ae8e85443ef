/*
 * d_fail.h - the one-line message of a src/d function that fails: written
 * into the caller's buffer, and the error returned, in one call:
 *
 *     return pyprobe__d_fail(message, size, -ENOENT, "pid %d: no such process", pid);
 */
#ifndef PYPROBE_D_FAIL_H
#define PYPROBE_D_FAIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline int pyprobe__d_fail(char *message, size_t size, int rc, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static inline int pyprobe__d_fail(char *message, size_t size, int rc, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    vsnprintf(message, size, format, ap);
    va_end(ap);
    return rc;
}

#endif /* PYPROBE_D_FAIL_H */
