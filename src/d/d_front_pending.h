/*
 * d_front_pending.h - the calls of the D front end (d_front.h: parse,
 * options and pragmas, macro binding, descriptions, translation), as the
 * consumer side uses them, for a tree that does not have the front end
 * yet (see d_driver.h). Delete this file and d_front_pending.c once
 * d_front.h is in the tree: d_driver.h then includes that instead.
 */
#ifndef PYPROBE_D_FRONT_PENDING_H
#define PYPROBE_D_FRONT_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "d_data.h"

struct pyprobe__d_error {
    char file[256];
    int line, column;
    char message[256];
};

struct pyprobe__d_program;

int pyprobe__d_parse(const char *file, const char *source, size_t length, struct pyprobe__d_program **out,
                     struct pyprobe__d_error *error);
int pyprobe__d_program_append(struct pyprobe__d_program *program, const char *file, const char *source,
                              size_t length, struct pyprobe__d_error *error);
void pyprobe__d_program_free(struct pyprobe__d_program *program);

struct pyprobe__d_pragma {
    const char *name, *value;
    const char *file;
    int line, column;
};
size_t pyprobe__d_pragma_count(const struct pyprobe__d_program *program);
const struct pyprobe__d_pragma *pyprobe__d_pragma_at(const struct pyprobe__d_program *program, size_t index);

struct pyprobe__d_macros {
    const char *const *args;
    size_t count;
    int target_pid;
    int dtrace_pid;
};

struct pyprobe__d_translate_options {
    struct pyprobe__d_output_options output;
    struct pyprobe__d_macros macros;
    int zdefs;
    int defaultargs;
    int destructive;
    int64_t strsize;
    int64_t switchrate_hz;
    int64_t walltime_offset_ns;
};

int pyprobe__d_option_set(struct pyprobe__d_translate_options *options, const char *name, const char *value,
                          struct pyprobe__d_error *error);
int pyprobe__d_program_bind(struct pyprobe__d_program *program, const struct pyprobe__d_translate_options *options,
                            struct pyprobe__d_error *error);

enum pyprobe__d_probe_kind {
    PYPROBE__D_PROBE_USDT,
    PYPROBE__D_PROBE_BEGIN,
    PYPROBE__D_PROBE_END,
    PYPROBE__D_PROBE_TICK,
    PYPROBE__D_PROBE_PROFILE,
    PYPROBE__D_PROBE_SYSCALL,
    PYPROBE__D_PROBE_PID,
    PYPROBE__D_PROBE_PROC
};

struct pyprobe__d_description {
    enum pyprobe__d_probe_kind kind;
    const char *provider, *module, *function, *name;
    const char *text;
    const char *file;
    int line, column;
    size_t clause;
    int64_t period_ns;
    int64_t rate_hz;
};
size_t pyprobe__d_description_count(const struct pyprobe__d_program *program);
const struct pyprobe__d_description *pyprobe__d_description_at(const struct pyprobe__d_program *program,
                                                               size_t index);

struct pyprobe__d_resolved {
    size_t description;
    const char *path;
    const char *provider;
    const char *name;
    const char *function;
    unsigned id;
    int pid;
};

int pyprobe__d_translate(struct pyprobe__d_program *program, const struct pyprobe__d_resolved *resolved,
                         size_t resolved_count, const struct pyprobe__d_translate_options *options,
                         struct pyprobe__d_plan **out, struct pyprobe__d_error *error);
void pyprobe__d_plan_free(struct pyprobe__d_plan *plan);

#endif /* PYPROBE_D_FRONT_PENDING_H */
