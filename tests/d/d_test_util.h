/*
 * d_test_util.h - what the D front end's unit tests share: parsing a
 * script that must parse (or fail), and translating one against made-up
 * probes, as a resolver would give them, without any ELF file.
 */
#ifndef PYPROBE_D_TEST_UTIL_H
#define PYPROBE_D_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "d_front.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* The made-up probes: every USDT description matches the python provider
 * of TEST_LIBRARY (its name in note form: function-entry is
 * function__entry; a glob becomes function__entry), every pid description
 * TEST_PROGRAM, in process TEST_PID when options give no target. */
#define TEST_LIBRARY "/opt/py/libpython3.11.so.1.0"
#define TEST_PROGRAM "/opt/py/python3.11"
#define TEST_FUNCTION "_PyEval_EvalFrameDefault"

static inline struct pyprobe__d_program *parse_ok(const char *source)
{
    struct pyprobe__d_program *program = NULL;
    struct pyprobe__d_error error;
    int rc = pyprobe__d_parse("test.d", source, strlen(source), &program, &error);

    ck_assert_msg(rc == 0, "%s:%d:%d: %s\n--- for\n%s", error.file, error.line, error.column, error.message, source);
    return program;
}

/* Parses a script that must fail: the error. */
static inline struct pyprobe__d_error parse_error(const char *source, size_t length)
{
    struct pyprobe__d_program *program = NULL;
    struct pyprobe__d_error error;
    int rc = pyprobe__d_parse("bad.d", source, length, &program, &error);

    ck_assert_msg(rc == -EINVAL, "rc %d, want -EINVAL, for\n%s", rc, source);
    ck_assert_ptr_null(program);
    return error;
}

/* The note's name for a description's name. */
static inline void note_name(const char *d_name, char *out, size_t size)
{
    size_t used = 0;

    if (!*d_name || strpbrk(d_name, "*?["))
        d_name = "function-entry";
    for (; *d_name && used + 2 < size; d_name++) {
        if (*d_name == '-') {
            out[used++] = '_';
            out[used++] = '_';
        } else {
            out[used++] = *d_name;
        }
    }
    out[used] = '\0';
}

struct made_up {
    struct pyprobe__d_resolved entries[64];
    char names[64][64];
    size_t count;
};

static inline void make_up_probes(const struct pyprobe__d_program *program, int pid, struct made_up *m)
{
    m->count = 0;
    for (size_t i = 0; i < pyprobe__d_description_count(program) && m->count < COUNT(m->entries); i++) {
        const struct pyprobe__d_description *d = pyprobe__d_description_at(program, i);
        struct pyprobe__d_resolved *r = &m->entries[m->count];

        if (d->kind != PYPROBE__D_PROBE_USDT && d->kind != PYPROBE__D_PROBE_PID)
            continue;
        note_name(d->name, m->names[m->count], sizeof m->names[0]);
        *r = (struct pyprobe__d_resolved){i, TEST_LIBRARY, "python", m->names[m->count], TEST_FUNCTION,
                                          (unsigned)(100 + m->count), pid};
        if (d->kind == PYPROBE__D_PROBE_PID)
            *r = (struct pyprobe__d_resolved){i, TEST_PROGRAM, "", "", d->function, (unsigned)(100 + m->count), pid};
        m->count++;
    }
}

/* Translates `source`: 0 and the plan, or the error's code and the error. */
static inline int translate_source(const char *source, const struct pyprobe__d_translate_options *options,
                                   struct pyprobe__d_plan **plan, struct pyprobe__d_error *error)
{
    struct pyprobe__d_program *program = NULL;
    struct made_up probes;
    int rc = pyprobe__d_parse("test.d", source, strlen(source), &program, error);

    *plan = NULL;
    if (rc != 0)
        return rc;
    rc = pyprobe__d_program_bind(program, options, error);
    if (rc == 0) {
        make_up_probes(program, options->macros.target_pid, &probes);
        rc = pyprobe__d_translate(program, probes.entries, probes.count, options, plan, error);
    }
    pyprobe__d_program_free(program);
    return rc;
}

/* The bpftrace program of a script that must translate (the plan is freed
 * unless `keep` takes it). */
static inline char *translate_ok(const char *source, const struct pyprobe__d_translate_options *options,
                                 struct pyprobe__d_plan **keep)
{
    struct pyprobe__d_plan *plan;
    struct pyprobe__d_error error;
    char *text;

    ck_assert_msg(translate_source(source, options, &plan, &error) == 0, "%s:%d:%d: %s\n--- for\n%s", error.file,
                  error.line, error.column, error.message, source);
    text = strdup(plan->program);
    if (keep)
        *keep = plan;
    else
        pyprobe__d_plan_free(plan);
    return text;
}

/* The program holds `needle` (a line, or part of one). */
#define ck_assert_has(program, needle) \
    ck_assert_msg(strstr((program), (needle)) != NULL, "no\n%s\n--- in\n%s", (needle), (program))
#define ck_assert_lacks(program, needle) \
    ck_assert_msg(strstr((program), (needle)) == NULL, "unwanted\n%s\n--- in\n%s", (needle), (program))

#endif /* PYPROBE_D_TEST_UTIL_H */
