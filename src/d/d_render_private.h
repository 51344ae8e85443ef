/*
 * d_render_private.h - the renderer's parts (d_render.c: records and user
 * output; d_aggstate.c: aggregation data, merged, sorted, truncated;
 * d_aggprint.c: aggregation layouts). Not for other users.
 */
#ifndef PYPROBE_D_RENDER_PRIVATE_H
#define PYPROBE_D_RENDER_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "d_data.h"
#include "d_render.h"

/* DTrace's quantize() bins (sys/dtrace.h): 63 negative, zero, 63 positive. */
enum { QUANTIZE_BINS = 127, QUANTIZE_ZERO = 63 };
int64_t pyprobe__d_quantize_value(int bin);

/* One entry of an aggregation as DTrace's consumer holds it: the key, and
 * the value as its aggregating function keeps it (dt_aggregate.c). */
struct agg_entry {
    struct pyprobe__d_key *keys; /* owned, strings too */
    size_t key_count;
    int64_t value;              /* count, sum, min, max; avg: the sum */
    int64_t count;              /* avg: how many */
    int64_t *bins;              /* quantize: QUANTIZE_BINS; lquantize: levels + 2 */
};

struct agg_list {
    struct agg_entry *entries;
    size_t count;
};

/* What the renderer keeps per plan aggregation. */
struct agg_state {
    struct agg_list carry;      /* survivors of trunc() and clear() */
    uint64_t normal;            /* normalize()'s factor, 1 by default */
    bool printed;               /* by printa(): the end's dump skips it */
};

struct pyprobe__d_render {
    FILE *out;
    const struct pyprobe__d_plan *plan;
    struct agg_state *aggs;
    /* Records (dtrace's chew and chewrec). */
    bool heading;               /* the column heading was printed */
    bool interrupted;
    bool exited;
    int status;
    int indent;                 /* -F: the flow indentation */
    size_t last_probe;          /* the action of the previous record, or SIZE_MAX */
    /* -F: a return record whose flow depends on the record after it
     * (dt_flowindent looks ahead); its output waits in `held`. */
    bool holding;
    size_t held_action;
    int64_t held_cpu;
    char *held;
    size_t held_length, held_capacity;
    bool *shared_probe;         /* per action: another PROBE action has its probe id */
    int error;                  /* the first write error (-ENOMEM while holding) */
};

/* Everything printed goes through here (held or written). */
void pyprobe__d_say(struct pyprobe__d_render *r, const char *format, ...) __attribute__((format(printf, 2, 3)));
void pyprobe__d_write(struct pyprobe__d_render *r, const char *text, size_t length);

/* ---- d_aggstate.c ---- */

size_t pyprobe__d_lq_levels(const struct pyprobe__d_plan_aggregation *agg);
size_t pyprobe__d_bin_count(const struct pyprobe__d_plan_aggregation *agg);
void pyprobe__d_agg_list_clear(struct agg_list *list);
/* The aggregation now: its carry merged with bpftrace's data (NULL: none). */
int pyprobe__d_agg_current(const struct pyprobe__d_render *r, size_t agg, const struct pyprobe__d_aggregation *data,
                           struct agg_list *out);
/* An empty entry with `keys` (copied): a joined printa's missing value. */
int pyprobe__d_agg_zero(const struct pyprobe__d_plan_aggregation *agg, const struct agg_entry *like,
                        struct agg_entry *out);
void pyprobe__d_agg_entry_clear(struct agg_entry *entry);

/* Sorting as dt_aggregate.c does: options from the plan (aggsortrev,
 * aggsortkey, aggsortkeypos) unless `fixed_reverse` (trunc's own order). */
enum agg_order { ORDER_DEFAULT, ORDER_TRUNC_TOP, ORDER_TRUNC_BOTTOM };
void pyprobe__d_agg_sort(const struct pyprobe__d_render *r, size_t agg, struct agg_list *list, enum agg_order order);
int pyprobe__d_agg_keycmp(const struct pyprobe__d_render *r, size_t agg, const struct agg_entry *a,
                          const struct agg_entry *b);
int pyprobe__d_agg_valcmp(const struct pyprobe__d_render *r, size_t agg, const struct agg_entry *a,
                          const struct agg_entry *b);

int pyprobe__d_agg_trunc(struct pyprobe__d_render *r, size_t agg, const struct pyprobe__d_aggregation *data,
                         bool has_n, int64_t n);
int pyprobe__d_agg_clear(struct pyprobe__d_render *r, size_t agg, const struct pyprobe__d_aggregation *data);

/* ---- d_aggprint.c ---- */

/* printa(): `format` NULL for the default layout. */
int pyprobe__d_agg_printa(struct pyprobe__d_render *r, const char *format, const size_t *aggs, size_t count,
                          const struct pyprobe__d_aggregation *const *data);
/* The dump at the end: every aggregation printa() never printed. */
int pyprobe__d_agg_dump(struct pyprobe__d_render *r, const struct pyprobe__d_action *exit_action,
                        const struct pyprobe__d_aggregation *const *data);

#endif /* PYPROBE_D_RENDER_PRIVATE_H */
