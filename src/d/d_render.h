/*
 * d_render.h - DTrace's output of a translated D program, from what its
 * bpftrace program reported (see d_data.h): user output with its inline
 * segments, the probe prefix of records (-F flow indentation and the
 * default "CPU ID FUNCTION:NAME" layout), and the aggregations (printa with
 * and without formats, the default layout, quantize and lquantize tables,
 * trunc, clear, normalize, and the dump at the end).
 *
 *     struct pyprobe__d_render *render;
 *
 *     pyprobe__d_render_new(stdout, plan, &render);
 *     pyprobe__d_render_output(render, text, length);       a printf event
 *     pyprobe__d_render_action(render, id, ints, n, data);   a control record
 *     ...
 *     pyprobe__d_render_free(render);
 *
 * The renderer keeps what DTrace's consumer keeps between records: the
 * flow indentation, the last record's probe, and per aggregation what
 * bpftrace no longer holds ("carry"): a trunc() or clear() makes the
 * program print and clear its map, and the renderer keeps the entries
 * that survive, adding them to the data of later printings.
 *
 * The layouts follow illumos libdtrace: dt_consume.c (dt_print_aggs,
 * dt_print_datum, dt_print_bytes, dt_print_quantize, dt_print_lquantize,
 * dt_print_quantline, dt_flowindent, dt_trunc), dt_aggregate.c (the sort
 * orders and merges) and dt_printf.c (printa formats), and the dtrace
 * command's cmd/dtrace/dtrace.c (chew, chewrec, the newlines at the end).
 * It writes only to the FILE it is given.
 */
#ifndef PYPROBE_D_RENDER_H
#define PYPROBE_D_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "d_data.h"

struct pyprobe__d_render;

/* A renderer of `plan`'s output (both must outlive it): 0, -ENOMEM. */
int pyprobe__d_render_new(FILE *out, const struct pyprobe__d_plan *plan, struct pyprobe__d_render **render);
void pyprobe__d_render_free(struct pyprobe__d_render *render);

/* User output, its inline segments resolved: 0, or -EBADMSG for a
 * malformed segment (nothing printed). */
int pyprobe__d_render_output(struct pyprobe__d_render *render, const char *text, size_t length);

/*
 * The control record of plan action `action`, with its integers and, for
 * actions on aggregations, the data of each of the action's aggregations
 * as bpftrace printed it (NULL when it printed none: an empty map):
 * 0, -EINVAL for an action the plan lacks or integers it needs missing,
 * -ERANGE for data DTrace's layout cannot show exactly (a quantize()
 * value below 0, which bpftrace keeps in one bucket), -ENOTSUP for a
 * printa() conversion this renderer lacks, -ENOMEM.
 */
int pyprobe__d_render_action(struct pyprobe__d_render *render, size_t action, const int64_t *integers,
                             size_t integer_count, const struct pyprobe__d_aggregation *const *data);

/* Ctrl-C: dtrace prints a newline then, even when quiet. */
void pyprobe__d_render_interrupted(struct pyprobe__d_render *render);

/* Whether the EXIT action came, and the status its record carried. */
int pyprobe__d_render_exited(const struct pyprobe__d_render *render, int *status);

/* Writes what is buffered: 0, or -EIO. */
int pyprobe__d_render_flush(struct pyprobe__d_render *render);

/* The stream ended: a -F record held for the next is printed. */
void pyprobe__d_render_finish(struct pyprobe__d_render *render);

/* Whether two D keys of `count` columns are the same. */
bool pyprobe__d_same_key(const struct pyprobe__d_key *a, const struct pyprobe__d_key *b, size_t count);

/* D's basename() ('B') or dirname() ('D') of s[0..length), as the
 * kernel's DIF_SUBR_BASENAME and DIF_SUBR_DIRNAME compute them ("." for an
 * empty string, "/" for slashes only): its start (in s, or in a constant)
 * and length. */
size_t pyprobe__d_path_part(const char *s, size_t length, char op, const char **start);

#endif /* PYPROBE_D_RENDER_H */
