/*
 * d_syscalls.h - this machine's system calls by name and number: the
 * syscall provider is translated to the raw_syscalls tracepoints, which
 * know calls by number only. d_syscalls.c is generated at build time from
 * the C library's <sys/syscall.h> (src/d/CMakeLists.txt).
 */
#ifndef PYPROBE_D_SYSCALLS_H
#define PYPROBE_D_SYSCALLS_H

#include <stddef.h>

struct pyprobe__d_syscall {
    const char *name;
    int number;
};

extern const struct pyprobe__d_syscall pyprobe__d_syscalls[];
extern const size_t pyprobe__d_syscall_count;

#endif /* PYPROBE_D_SYSCALLS_H */
