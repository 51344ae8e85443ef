/*
 * libFuzzer target: the D front end (src/d) on whatever bytes the fuzzer
 * makes up, as `pyprobe -s` takes a script: parse it, apply its pragmas,
 * bind macro arguments, and translate it for made-up probes (one per USDT
 * or pid description, as a resolver would give them), with the options the
 * first byte chooses. Every error must say where it is (a line and a
 * column); a translation must have a program and consistent actions.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "d_front.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RESOLVED 32

/* The harness's own invariants: abort() is what libFuzzer reports. */
static void expect(int condition)
{
    if (!condition)
        abort();
}

static void expect_placed(int rc, const struct pyprobe__d_error *error)
{
    expect(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc == -EINVAL)
        expect(error->line > 0 && error->column > 0 && error->message[0] && error->file[0]);
}

static size_t made_up_probes(const struct pyprobe__d_program *program, struct pyprobe__d_resolved *out)
{
    size_t count = 0;

    for (size_t i = 0; i < pyprobe__d_description_count(program) && count < MAX_RESOLVED; i++) {
        const struct pyprobe__d_description *d = pyprobe__d_description_at(program, i);

        if (d->kind == PYPROBE__D_PROBE_USDT)
            out[count++] = (struct pyprobe__d_resolved){i, "/usr/lib/libpython3.11.so", "python", "function__entry",
                                                        "_PyEval_EvalFrameDefault", 7, 42};
        else if (d->kind == PYPROBE__D_PROBE_PID)
            out[count++] = (struct pyprobe__d_resolved){i, "/usr/bin/python3.11", "", "", "main", 8, 42};
    }
    return count;
}

static void check_plan(const struct pyprobe__d_plan *plan)
{
    expect(plan->program && strstr(plan->program, "END\n{") != NULL);
    for (size_t i = 0; i < plan->action_count; i++)
        for (size_t k = 0; k < plan->actions[i].aggregation_count; k++)
            expect(plan->actions[i].aggregations[k] < plan->aggregation_count);
    for (size_t i = 0; i < plan->aggregation_count; i++)
        for (size_t c = 0; c < plan->aggregations[i].column_count; c++)
            for (size_t p = 0; p < plan->aggregations[i].columns[c].piece_count; p++) {
                const struct pyprobe__d_piece *piece = &plan->aggregations[i].columns[c].pieces[p];

                expect(piece->literal || piece->part < plan->aggregations[i].part_count);
            }
}

static void translate(struct pyprobe__d_program *program, uint8_t choice)
{
    static const char *const args[] = {"1", "execname", "a b", "0x10"};
    struct pyprobe__d_translate_options options = {.output = {.quiet = choice & 1, .flowindent = (choice >> 1) & 1},
                                                   .macros = {args, 4, (choice & 4) ? 42 : 0, 4242},
                                                   .zdefs = (choice >> 3) & 1, .walltime_offset_ns = 1};
    struct pyprobe__d_resolved resolved[MAX_RESOLVED];
    struct pyprobe__d_plan *plan = NULL;
    struct pyprobe__d_error error;
    int rc;

    for (size_t i = 0; i < pyprobe__d_pragma_count(program); i++) {
        const struct pyprobe__d_pragma *p = pyprobe__d_pragma_at(program, i);

        pyprobe__d_option_set(&options, p->name, p->value, &error);
    }
    rc = pyprobe__d_program_bind(program, &options, &error);
    expect_placed(rc, &error);
    if (rc != 0)
        return;
    rc = pyprobe__d_translate(program, resolved, made_up_probes(program, resolved), &options, &plan, &error);
    expect_placed(rc, &error);
    expect((rc == 0) == (plan != NULL));
    if (plan)
        check_plan(plan);
    pyprobe__d_plan_free(plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pyprobe__d_program *program = NULL;
    struct pyprobe__d_error error;
    int rc = pyprobe__d_parse("fuzz.d", (const char *)data, size, &program, &error);

    expect_placed(rc, &error);
    expect((rc == 0) == (program != NULL));
    if (program)
        translate(program, size ? data[0] : 0);
    pyprobe__d_program_free(program);
    return 0;
}
