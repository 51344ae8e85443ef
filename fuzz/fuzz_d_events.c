/*
 * libFuzzer target: the D consumer (src/d) on whatever lines bpftrace
 * might print: each input is split into lines, read as `bpftrace -f json`
 * events (d_events.c: bpftrace's sign-extended escapes undone, then
 * json-c), and fed to the consumer of a plan with every kind of action
 * and aggregation (d_consume.c: control records, end records, held lines, key
 * tuples split and made D keys), whose renderer (d_render.c, d_aggstate.c,
 * d_aggprint.c: segments, -F records, carry, sorting, tables, printa
 * formats) writes to /dev/null.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "d_consume.h"
#include "d_render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum pyprobe__d_key_type string_int[] = {PYPROBE__D_KEY_STRING, PYPROBE__D_KEY_INT};
static const struct pyprobe__d_piece pieces[] = {{.part = 0, .transform = 'B'}, {.literal = ":"}, {.part = 1}};
static const struct pyprobe__d_piece part1 = {.part = 1};
static const struct pyprobe__d_column columns[] = {
    {.type = PYPROBE__D_KEY_STRING, .pieces = pieces, .piece_count = 3},
    {.type = PYPROBE__D_KEY_INT, .pieces = &part1, .piece_count = 1, .size = 4}};

#define AGG(NAME, FN) \
    {.name = NAME, .fn = FN, .maps = {"@" NAME, "@" NAME "_n"}, .part_types = string_int, .part_count = 2, \
     .columns = columns, .column_count = 2, .lq_lower = -5, .lq_upper = 20, .lq_step = 5}

/* Aggregations 0-6: count, sum, avg, min, max, quantize, lquantize. */
static const struct pyprobe__d_plan_aggregation aggs[] = {
    AGG("c", PYPROBE__D_COUNT), AGG("s", PYPROBE__D_SUM),      AGG("a", PYPROBE__D_AVG),
    AGG("i", PYPROBE__D_MIN),   AGG("x", PYPROBE__D_MAX),      AGG("q", PYPROBE__D_QUANTIZE),
    AGG("l", PYPROBE__D_LQUANTIZE)};
static const size_t all[] = {0, 1, 2, 3, 4, 5, 6}, first[] = {0}, pair[] = {1, 2}, quantized[] = {5},
                    linear[] = {6};

/* Record ids: 0 printa, 1 printa with a format, 2 joined printa, 3 trunc,
 * 4 clear, 5 normalize, 6 denormalize, 7 entry, 8 return, 9 another
 * clause of the entry probe, 10 exit, 11 printa of the quantize, 12
 * attached. */
static const struct pyprobe__d_action actions[] = {
    {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = first, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_PRINTA, .format = "%-8s %*d %@x|%@5u %S %Y %%\n", .aggregations = pair,
     .aggregation_count = 2},
    {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = pair, .aggregation_count = 2},
    {.kind = PYPROBE__D_ACTION_TRUNC, .aggregations = first, .aggregation_count = 1, .n = -2, .has_n = 1},
    {.kind = PYPROBE__D_ACTION_CLEAR, .aggregations = linear, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_NORMALIZE, .aggregations = quantized, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_DENORMALIZE, .aggregations = quantized, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 4, .probe_function = "f", .probe_name = "function-entry",
     .flow = PYPROBE__D_FLOW_ENTRY},
    {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 5, .probe_function = "f", .probe_name = "function-return",
     .flow = PYPROBE__D_FLOW_RETURN, .probe_provider = "syscall"},
    {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 4, .probe_function = "f", .probe_name = "function-entry",
     .flow = PYPROBE__D_FLOW_ENTRY},
    {.kind = PYPROBE__D_ACTION_EXIT, .aggregations = all, .aggregation_count = 7},
    {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = quantized, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_ATTACHED},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *out;
    struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 7, .actions = actions,
                                   .action_count = sizeof actions / sizeof actions[0]};
    struct pyprobe__d_render *render;
    struct pyprobe__d_consumer *consumer;
    const char *text = (const char *)data, *end = text + size;

    if (!out && !(out = fopen("/dev/null", "w")))
        return 0;
    /* The input's first byte picks the output options. */
    if (size > 0) {
        plan.output = (struct pyprobe__d_output_options){
            .quiet = data[0] & 1, .flowindent = (data[0] >> 1) & 1, .aggsortkey = (data[0] >> 2) & 1,
            .aggsortrev = (data[0] >> 3) & 1, .aggsortpos = (data[0] >> 4) & 1, .aggsortkeypos = (data[0] >> 5) & 1};
        text++;
    }
    if (pyprobe__d_render_new(out, &plan, &render) != 0)
        return 0;
    if (pyprobe__d_consumer_new(&plan, render, NULL, NULL, &consumer) == 0) {
        while (text < end) {
            const char *newline = memchr(text, '\n', (size_t)(end - text));
            size_t length = newline ? (size_t)(newline - text) : (size_t)(end - text);

            if (pyprobe__d_consume(consumer, text, length) != 0)
                break;
            text += length + (newline ? 1 : 0);
        }
        pyprobe__d_consume_end(consumer);
        pyprobe__d_consumer_free(consumer);
    }
    pyprobe__d_render_free(render);
    return 0;
}
