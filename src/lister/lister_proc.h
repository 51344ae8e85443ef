/*
 * lister_proc.h - the ELF objects a running process has mapped, for a
 * lister of its probes: the executable, its shared libraries, objects
 * loaded with dlopen, from a memfd or a since deleted file, or from another
 * mount namespace, and the process's memory, for semaphore values.
 *
 *     struct pyprobe__proc *proc;
 *     struct pyprobe__proc_object object;
 *
 *     if (pyprobe__proc_open(pid, &proc) == 0) {
 *         for (size_t i = 0; i < pyprobe__proc_object_count(proc); i++)
 *             if (pyprobe__proc_object_open(proc, i, PYPROBE__OPEN_ANY, &object) == 0) {
 *                 ...object.elf, object.biases[0]...;
 *                 pyprobe__proc_object_close(&object);
 *             }
 *         pyprobe__proc_close(proc);
 *     }
 *
 * Reading another process takes what reading its memory takes (ptrace
 * access: root, or the same user under a permissive yama ptrace_scope), and
 * /proc/PID/map_files takes CAP_SYS_ADMIN; without it the files are found
 * through /proc/PID/root or the process's open file descriptors.
 */
#ifndef PYPROBE_LISTER_PROC_H
#define PYPROBE_LISTER_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "elf_file.h"

/* One line of /proc/PID/maps. */
struct pyprobe__mapping {
    uint64_t start, end, offset;
    unsigned dev_major, dev_minor;
    uint64_t inode;
    char perms[5];          /* "r-xp" */
    const char *path;       /* "" for an anonymous mapping; may end in " (deleted)" */
};

/* Parses one line (without or with its newline), in place: the path is
 * NUL-terminated where the line ends. 0, or -EINVAL. */
int pyprobe__maps_parse_line(char *line, struct pyprobe__mapping *out);
/* The length of a maps path without the " (deleted)" the kernel appends
 * to a file that no longer has that name (and to every memfd). */
size_t pyprobe__maps_path_length(const char *path);

struct pyprobe__proc;

/* Reads the process's mappings: 0, -ESRCH when there is no such process,
 * -EACCES or -EPERM when they may not be read, -EINVAL for pid <= 0 or a
 * maps file that cannot be parsed, -ENOMEM. */
int pyprobe__proc_open(int pid, struct pyprobe__proc **out);
void pyprobe__proc_close(struct pyprobe__proc *proc);
int pyprobe__proc_pid(const struct pyprobe__proc *proc);

/* The distinct files (device and inode) the process has mapped, in the
 * order of their lowest mapping; not all are ELF objects. */
size_t pyprobe__proc_object_count(const struct pyprobe__proc *proc);
/* The path of object `index` as the process's maps show it. */
const char *pyprobe__proc_object_path(const struct pyprobe__proc *proc, size_t index);

/* Ways to reach a mapped file, tried in this order. */
enum {
    PYPROBE__OPEN_MAP_FILES = 1, /* /proc/PID/map_files/START-END: any file, even deleted */
    PYPROBE__OPEN_ROOT = 2,      /* /proc/PID/root/PATH: the process's mount namespace */
    PYPROBE__OPEN_FD = 4,        /* /proc/PID/fd/N: a memfd or deleted file still open */
    PYPROBE__OPEN_ANY = 7
};

/* Opens the file of object `index` by the first of `methods` that works,
 * checking that it is the mapped file (same device and inode) and a
 * regular file (a device or a FIFO is never opened): a file descriptor, or
 * the first method's error (-ENOENT when no method applies). */
int pyprobe__proc_open_file(const struct pyprobe__proc *proc, size_t index, unsigned methods);

/* A mapped ELF object. */
struct pyprobe__proc_object {
    const char *path;       /* as the maps show it */
    int fd;                 /* the file, open for elf */
    struct pyprobe__elf *elf;
    uint64_t *biases;       /* per mapped instance: run-time address = file address + bias */
    size_t bias_count;      /* 0: mapped, but not as loaded code */
};

/* Opens object `index`: 0, -ENOEXEC when it is not an ELF file (data,
 * fonts, locale archives: nothing to list), or why it cannot be read. */
int pyprobe__proc_object_open(const struct pyprobe__proc *proc, size_t index, unsigned methods,
                             struct pyprobe__proc_object *out);
void pyprobe__proc_object_close(struct pyprobe__proc_object *object);

/* Reads `size` bytes of the process's memory at `address`: 0, or a
 * negative errno (-EIO: not mapped). */
int pyprobe__proc_read(const struct pyprobe__proc *proc, uint64_t address, void *buffer, size_t size);

#endif /* PYPROBE_LISTER_PROC_H */
