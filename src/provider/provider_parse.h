/*
 * provider_parse.h - pyprobe's reader of D provider files (the `.d` files of
 * `dtrace -h` and `dtrace -G`), so that a bad file is reported where it is
 * wrong, before systemtap's dtrace script sees it (which hangs on some
 * mistakes and accepts others silently).
 *
 * The language is the part of D that USDT provider files use:
 *
 *     provider NAME {
 *         probe NAME(TYPE [NAME], ...);   one or more
 *     };                                  one or more providers
 *
 * with C and C++ comments and #pragma lines (D's stability attributes, as in
 * CPython's Include/pydtrace.d). A TYPE is a C scalar type: the integer
 * keywords in any valid combination (unsigned long long ...), _Bool, float,
 * double, void *, the fixed-width and address-sized integer typedefs
 * (int8_t ... uint64_t, as the runtime names them in rt_types.c, uintptr_t,
 * size_t ...), enum TAG, pointers to any of these or to struct/union TAG,
 * with const and volatile. `()` and `(void)` declare no arguments. The file
 * is ASCII.
 *
 *     struct pyprobe__d_file file;
 *
 *     if (pyprobe__d_read("mine.d", &file) == -EINVAL)
 *         ...file.error_at.line, file.error_at.column, file.error...;
 *     pyprobe__d_free(&file);
 */
#ifndef PYPROBE_PROVIDER_PARSE_H
#define PYPROBE_PROVIDER_PARSE_H

#include <pyprobe/notes.h> /* PYPROBE_MAX_PROBE_ARGS */
#include <stddef.h>

/* Provider files are a few kilobytes; a larger one is refused (-EFBIG). */
#define PYPROBE_D_FILE_MAX (1024 * 1024)

/* A place in the file, both from 1; the column counts bytes. */
struct pyprobe__d_position {
    unsigned line;
    unsigned column;
};

struct pyprobe__d_probe {
    char *name; /* as declared: function__entry */
    struct pyprobe__d_position at;
    unsigned argc;
    char *types[PYPROBE_MAX_PROBE_ARGS]; /* as dtrace prints them: "const char *", "char **" */
};

struct pyprobe__d_provider {
    char *name;
    struct pyprobe__d_position at;
    struct pyprobe__d_probe *probes;
    size_t count, capacity;
};

struct pyprobe__d_file {
    struct pyprobe__d_provider *providers; /* in the file's order, each with at least one probe */
    size_t count, capacity;
    struct pyprobe__d_position error_at; /* after -EINVAL: where the first mistake is */
    char error[200];                     /* and what it is: "expected ')' after argument list" */
};

/* Parses the `size` bytes at `text` into *out (zeroed first): 0, -EINVAL
 * for a mistake (out->error_at and out->error say which; nothing else of
 * *out is kept), or -ENOMEM. pyprobe__d_free() frees *out in every case. */
int pyprobe__d_parse(const char *text, size_t size, struct pyprobe__d_file *out);

/* pyprobe__d_parse() of the file at `path`, or the errno of reading it
 * (-ENOENT ...), -EFBIG over PYPROBE_D_FILE_MAX. */
int pyprobe__d_read(const char *path, struct pyprobe__d_file *out);

void pyprobe__d_free(struct pyprobe__d_file *file);

/* The number of probes of all its providers. */
size_t pyprobe__d_probe_count(const struct pyprobe__d_file *file);

#endif /* PYPROBE_PROVIDER_PARSE_H */
