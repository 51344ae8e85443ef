/*
 * d_program.c - the front end's public entry points (d_front.h): parsing
 * and appending scripts, their pragmas and descriptions, and binding the
 * macro arguments. Each entry point catches the errors of the steps below
 * it (d_ast.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d_sema.h"

/* The sizes of the program's lists, to undo a failed append. */
struct mark {
    size_t clauses, descriptions, decls, pragmas, macros;
};

static struct mark mark_of(const struct pyprobe__d_program *p)
{
    return (struct mark){p->clauses.count, p->descriptions.count, p->decls.count, p->pragmas.count,
                         p->macros.count};
}

static void restore(struct pyprobe__d_program *p, struct mark m)
{
    p->clauses.count = m.clauses;
    p->descriptions.count = m.descriptions;
    p->decls.count = m.decls;
    p->pragmas.count = m.pragmas;
    p->macros.count = m.macros;
}

/* The new clauses' descriptions join the program's list. */
static void collect_descriptions(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program, size_t first)
{
    for (size_t c = first; c < program->clauses.count; c++) {
        struct pyprobe__d_clause *clause = program->clauses.items[c];

        clause->index = c;
        for (size_t i = 0; i < clause->descriptions.count; i++) {
            struct pyprobe__d_description_impl *d = clause->descriptions.items[i];

            d->public.clause = c;
            pyprobe__d_push(ctx, &program->descriptions, d);
        }
    }
}

int pyprobe__d_program_append(struct pyprobe__d_program *program, const char *file, const char *source,
                              size_t length, struct pyprobe__d_error *error)
{
    struct pyprobe__d_ctx ctx = {.arena = &program->arena, .error = error};
    struct mark before = mark_of(program);
    const char *name;
    int rc;

    memset(error, 0, sizeof *error);
    rc = setjmp(ctx.jump);
    if (rc != 0) {
        restore(program, before);
        return rc;
    }
    name = pyprobe__d_strdup(&ctx, file ? file : "-");
    pyprobe__d_parse_source(&ctx, program, name, source ? source : "", source ? length : 0);
    collect_descriptions(&ctx, program, before.clauses);
    pyprobe__d_check(&ctx, program, NULL);
    pyprobe__d_translate_dry(&ctx, program);
    return 0;
}

int pyprobe__d_parse(const char *file, const char *source, size_t length, struct pyprobe__d_program **out,
                     struct pyprobe__d_error *error)
{
    struct pyprobe__d_program *program = calloc(1, sizeof *program);
    int rc;

    *out = NULL;
    if (!program) {
        memset(error, 0, sizeof *error);
        snprintf(error->message, sizeof error->message, "out of memory");
        return -ENOMEM;
    }
    rc = pyprobe__d_program_append(program, file, source, length, error);
    if (rc != 0) {
        pyprobe__d_program_free(program);
        return rc;
    }
    *out = program;
    return 0;
}

void pyprobe__d_program_free(struct pyprobe__d_program *program)
{
    if (!program)
        return;
    pyprobe__d_arena_free(&program->arena);
    free(program);
}

size_t pyprobe__d_pragma_count(const struct pyprobe__d_program *program)
{
    return program->pragmas.count;
}

const struct pyprobe__d_pragma *pyprobe__d_pragma_at(const struct pyprobe__d_program *program, size_t index)
{
    return index < program->pragmas.count ? program->pragmas.items[index] : NULL;
}

size_t pyprobe__d_description_count(const struct pyprobe__d_program *program)
{
    return program->descriptions.count;
}

const struct pyprobe__d_description *pyprobe__d_description_at(const struct pyprobe__d_program *program,
                                                               size_t index)
{
    struct pyprobe__d_description_impl *d;

    if (index >= program->descriptions.count)
        return NULL;
    d = program->descriptions.items[index];
    return &d->public;
}

/* Expands the macros of every description (translation does it too). */
void pyprobe__d_bind_all(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program,
                         const struct pyprobe__d_translate_options *options)
{
    for (size_t i = 0; i < program->descriptions.count; i++)
        pyprobe__d_describe_bind(ctx, program->descriptions.items[i], options);
}

int pyprobe__d_program_bind(struct pyprobe__d_program *program, const struct pyprobe__d_translate_options *options,
                            struct pyprobe__d_error *error)
{
    struct pyprobe__d_ctx ctx = {.arena = &program->arena, .error = error};
    int rc;

    memset(error, 0, sizeof *error);
    rc = setjmp(ctx.jump);
    if (rc != 0)
        return rc;
    pyprobe__d_bind_all(&ctx, program, options);
    pyprobe__d_check(&ctx, program, options);
    return 0;
}
