/*
 * Aggregation data as DTrace's consumer holds it: bpftrace's buckets as
 * DTrace's bins, the carry of trunc() and clear() merged in, the sort
 * orders of dt_aggregate.c, and trunc() and clear() themselves.
 */
#define _GNU_SOURCE /* qsort_r */
#include "d_render_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* DTRACE_QUANTIZE_BUCKETVAL (sys/dtrace.h). */
int64_t pyprobe__d_quantize_value(int bin)
{
    if (bin < QUANTIZE_ZERO)
        return -(INT64_C(1) << (QUANTIZE_ZERO - 1 - bin));
    return bin == QUANTIZE_ZERO ? 0 : INT64_C(1) << (bin - QUANTIZE_ZERO - 1);
}

size_t pyprobe__d_lq_levels(const struct pyprobe__d_plan_aggregation *agg)
{
    if (agg->lq_step <= 0 || agg->lq_upper <= agg->lq_lower)
        return 0;
    return (size_t)((agg->lq_upper - agg->lq_lower) / agg->lq_step);
}

size_t pyprobe__d_bin_count(const struct pyprobe__d_plan_aggregation *agg)
{
    switch (agg->fn) {
    case PYPROBE__D_QUANTIZE:
        return QUANTIZE_BINS;
    case PYPROBE__D_LQUANTIZE:
        return pyprobe__d_lq_levels(agg) + 2;
    default:
        return 0;
    }
}

/* ---- entries ---- */

void pyprobe__d_agg_entry_clear(struct agg_entry *entry)
{
    for (size_t i = 0; i < entry->key_count; i++)
        free((char *)entry->keys[i].string);
    free(entry->keys);
    free(entry->bins);
    *entry = (struct agg_entry){0};
}

void pyprobe__d_agg_list_clear(struct agg_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        pyprobe__d_agg_entry_clear(&list->entries[i]);
    free(list->entries);
    *list = (struct agg_list){0};
}

static int copy_keys(const struct pyprobe__d_key *keys, size_t count, struct agg_entry *out)
{
    out->keys = calloc(count ? count : 1, sizeof *out->keys);
    if (!out->keys)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        out->keys[i] = keys[i];
        out->keys[i].string = NULL;
        out->key_count = i + 1;
        if (keys[i].type == PYPROBE__D_KEY_STRING &&
            !(out->keys[i].string = strdup(keys[i].string ? keys[i].string : "")))
            return -ENOMEM;
    }
    return 0;
}

static int copy_entry(const struct pyprobe__d_plan_aggregation *agg, const struct agg_entry *from,
                      struct agg_entry *out)
{
    size_t bins = pyprobe__d_bin_count(agg);

    *out = (struct agg_entry){.value = from->value, .count = from->count};
    if (copy_keys(from->keys, from->key_count, out) != 0)
        return -ENOMEM;
    if (bins) {
        out->bins = malloc(bins * sizeof *out->bins);
        if (!out->bins)
            return -ENOMEM;
        memcpy(out->bins, from->bins, bins * sizeof *out->bins);
    }
    return 0;
}

int pyprobe__d_agg_zero(const struct pyprobe__d_plan_aggregation *agg, const struct agg_entry *like,
                        struct agg_entry *out)
{
    size_t bins = pyprobe__d_bin_count(agg);

    *out = (struct agg_entry){0};
    if (copy_keys(like->keys, like->key_count, out) != 0 ||
        (bins && !(out->bins = calloc(bins, sizeof *out->bins)))) {
        pyprobe__d_agg_entry_clear(out);
        return -ENOMEM;
    }
    return 0;
}

/* The DTrace bin of one bpftrace hist() bucket (power of two), or -ERANGE
 * for its one bucket of negative values (DTrace has 63 of them). */
static int quantize_bin(const struct pyprobe__d_bucket *bucket)
{
    int bin = QUANTIZE_ZERO + 1;

    if (bucket->max < 0)
        return -ERANGE;
    if (bucket->min <= 0)
        return QUANTIZE_ZERO;
    for (uint64_t v = (uint64_t)bucket->min; v > 1; v >>= 1)
        bin++;
    return bin < QUANTIZE_BINS ? bin : QUANTIZE_BINS - 1;
}

/* The lquantize() bin of one bpftrace lhist() bucket: 0 below the range,
 * levels + 1 at or above its end (dtrace_aggregate_lquantize). */
static size_t lquantize_bin(const struct pyprobe__d_plan_aggregation *agg, const struct pyprobe__d_bucket *bucket)
{
    size_t levels = pyprobe__d_lq_levels(agg);
    uint64_t offset;

    if (bucket->min == INT64_MIN || bucket->min < agg->lq_lower)
        return 0;
    offset = ((uint64_t)bucket->min - (uint64_t)agg->lq_lower) / (uint64_t)agg->lq_step;
    return offset >= levels ? levels + 1 : (size_t)offset + 1;
}

static int fill_bins(const struct pyprobe__d_plan_aggregation *agg, const struct pyprobe__d_entry *from,
                     int64_t *bins)
{
    for (size_t i = 0; i < from->bucket_count; i++) {
        const struct pyprobe__d_bucket *bucket = &from->buckets[i];
        int bin;

        if (bucket->count == 0)
            continue;
        if (agg->fn == PYPROBE__D_LQUANTIZE) {
            bins[lquantize_bin(agg, bucket)] = pyprobe__d_add(bins[lquantize_bin(agg, bucket)], (int64_t)bucket->count);
            continue;
        }
        bin = quantize_bin(bucket);
        if (bin < 0)
            return bin;
        bins[bin] = pyprobe__d_add(bins[bin], (int64_t)bucket->count);
    }
    return 0;
}

static int convert(const struct pyprobe__d_plan_aggregation *agg, const struct pyprobe__d_entry *from,
                   struct agg_entry *out)
{
    size_t bins = pyprobe__d_bin_count(agg);
    int rc;

    *out = (struct agg_entry){.value = from->value, .count = (int64_t)from->count};
    rc = copy_keys(from->keys, from->key_count, out);
    if (rc == 0 && bins)
        rc = (out->bins = calloc(bins, sizeof *out->bins)) ? fill_bins(agg, from, out->bins) : -ENOMEM;
    if (rc != 0)
        pyprobe__d_agg_entry_clear(out);
    return rc;
}

bool pyprobe__d_same_key(const struct pyprobe__d_key *a, const struct pyprobe__d_key *b, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (a[i].type != b[i].type)
            return false;
        if (a[i].type == PYPROBE__D_KEY_INT ? a[i].integer != b[i].integer : strcmp(a[i].string, b[i].string) != 0)
            return false;
    }
    return true;
}

/* The aggregating action applied to a held entry (dt_aggregate_count,
 * _min, _max, _lquantize). */
static void merge(const struct pyprobe__d_plan_aggregation *agg, struct agg_entry *into, const struct agg_entry *from)
{
    size_t bins = pyprobe__d_bin_count(agg);

    switch (agg->fn) {
    case PYPROBE__D_MIN:
        if (from->value < into->value)
            into->value = from->value;
        break;
    case PYPROBE__D_MAX:
        if (from->value > into->value)
            into->value = from->value;
        break;
    default:
        into->value = pyprobe__d_add(into->value, from->value);
        into->count = pyprobe__d_add(into->count, from->count);
        for (size_t i = 0; i < bins; i++)
            into->bins[i] = pyprobe__d_add(into->bins[i], from->bins[i]);
    }
}

static struct agg_entry *find(struct agg_list *list, const struct agg_entry *like)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->entries[i].key_count == like->key_count &&
            pyprobe__d_same_key(list->entries[i].keys, like->keys, like->key_count))
            return &list->entries[i];
    return NULL;
}

int pyprobe__d_agg_current(const struct pyprobe__d_render *r, size_t index, const struct pyprobe__d_aggregation *data,
                           struct agg_list *out)
{
    const struct pyprobe__d_plan_aggregation *agg = &r->plan->aggregations[index];
    const struct agg_list *carry = &r->aggs[index].carry;
    size_t total = carry->count + (data ? data->entry_count : 0), capacity = 0;
    int rc = 0;

    *out = (struct agg_list){0};
    if (pyprobe__grow(&out->entries, &capacity, total ? total : 1, sizeof *out->entries) != 0)
        return -ENOMEM;
    for (size_t i = 0; rc == 0 && i < carry->count; i++) {
        rc = copy_entry(agg, &carry->entries[i], &out->entries[out->count]);
        out->count++;
    }
    for (size_t i = 0; rc == 0 && data && i < data->entry_count; i++) {
        struct agg_entry fresh, *held;

        rc = convert(agg, &data->entries[i], &fresh);
        if (rc != 0)
            break;
        held = carry->count ? find(out, &fresh) : NULL;
        if (held) {
            merge(agg, held, &fresh);
            pyprobe__d_agg_entry_clear(&fresh);
        } else {
            out->entries[out->count++] = fresh;
        }
    }
    if (rc != 0)
        pyprobe__d_agg_list_clear(out);
    return rc;
}

/* ---- sorting (dt_aggregate.c) ---- */

struct sort_context {
    const struct pyprobe__d_render *r;
    size_t agg;
    int reverse;                /* DT_LESSTHAN is then 1 */
    int keypos;
    enum agg_order order;
};

static int less(const struct sort_context *c)
{
    return c->reverse ? 1 : -1;
}

static int compare(const struct sort_context *c, long double a, long double b)
{
    return a < b ? less(c) : a > b ? -less(c) : 0;
}

static int compare_u(const struct sort_context *c, uint64_t a, uint64_t b)
{
    return a < b ? less(c) : a > b ? -less(c) : 0;
}

/* An integer key as dt_aggregate_keycmp reads it: unsigned, of its size. */
static uint64_t key_bits(int64_t value, int size)
{
    return size > 0 && size < 8 ? (uint64_t)value & ((UINT64_C(1) << (size * 8)) - 1) : (uint64_t)value;
}

/* dt_aggregate_keycmp, from key `keypos` round to it. */
static int keycmp(const struct sort_context *c, const struct agg_entry *a, const struct agg_entry *b)
{
    const struct pyprobe__d_plan_aggregation *agg = &c->r->plan->aggregations[c->agg];
    size_t n = a->key_count < b->key_count ? a->key_count : b->key_count;
    size_t keypos = c->keypos >= 0 && (size_t)c->keypos < n ? (size_t)c->keypos : 0;

    for (size_t i = 0; i < n; i++) {
        size_t k = (i + keypos) % n;
        const struct pyprobe__d_key *x = &a->keys[k], *y = &b->keys[k];
        int size = k < agg->column_count ? agg->columns[k].size : 8;
        int rc;

        if (x->type == PYPROBE__D_KEY_STRING && y->type == PYPROBE__D_KEY_STRING) {
            rc = strcmp(x->string, y->string);
            rc = rc < 0 ? less(c) : rc > 0 ? -less(c) : 0;
        } else {
            rc = compare_u(c, key_bits(x->integer, size), key_bits(y->integer, size));
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* dt_aggregate_lquantizedsum: each bin weighted by its value, the ends by
 * one past the range. */
static long double lquantized_sum(const struct pyprobe__d_plan_aggregation *agg, const int64_t *bins)
{
    size_t levels = pyprobe__d_lq_levels(agg);
    int64_t base = agg->lq_lower;
    long double total = (long double)bins[0] * (long double)(base - 1);

    for (size_t i = 0; i < levels; base += agg->lq_step, i++)
        total += (long double)bins[i + 1] * (long double)base;
    return total + (long double)bins[levels + 1] * (long double)(base + 1);
}

/* dt_aggregate_lquantizedzero: the count of the bin whose weight is 0. */
static int64_t lquantized_zero(const struct pyprobe__d_plan_aggregation *agg, const int64_t *bins)
{
    size_t levels = pyprobe__d_lq_levels(agg);
    int64_t base = agg->lq_lower;

    if (base - 1 == 0)
        return bins[0];
    for (size_t i = 0; i < levels; base += agg->lq_step, i++)
        if (base == 0)
            return bins[i + 1];
    return base + 1 == 0 ? bins[levels + 1] : 0;
}

/* dt_aggregate_quantizedcmp's weight: the sum of value times count. */
static long double quantized_sum(const int64_t *bins, int64_t *zero)
{
    long double total = 0;

    for (int i = 0; i < QUANTIZE_BINS; i++)
        total += (long double)pyprobe__d_quantize_value(i) * (long double)bins[i];
    *zero = bins[QUANTIZE_ZERO];
    return total;
}

/* dt_aggregate_valcmp. */
static int valcmp(const struct sort_context *c, const struct agg_entry *a, const struct agg_entry *b)
{
    const struct pyprobe__d_plan_aggregation *agg = &c->r->plan->aggregations[c->agg];
    int64_t za, zb;
    int rc;

    switch (agg->fn) {
    case PYPROBE__D_AVG:
        return compare(c, (long double)pyprobe__d_div(a->value, a->count),
                       (long double)pyprobe__d_div(b->value, b->count));
    case PYPROBE__D_QUANTIZE:
        rc = compare(c, quantized_sum(a->bins, &za), quantized_sum(b->bins, &zb));
        return rc ? rc : compare(c, (long double)za, (long double)zb);
    case PYPROBE__D_LQUANTIZE:
        rc = compare(c, lquantized_sum(agg, a->bins), lquantized_sum(agg, b->bins));
        return rc ? rc
                  : compare(c, (long double)lquantized_zero(agg, a->bins), (long double)lquantized_zero(agg, b->bins));
    default:
        return compare(c, (long double)a->value, (long double)b->value);
    }
}

static int sort_compare(const void *x, const void *y, void *context)
{
    const struct sort_context *c = context;
    const struct agg_entry *a = x, *b = y;
    int rc;

    switch (c->order) {
    case ORDER_TRUNC_TOP: /* dt_aggregate_valvarrevcmp */
        a = y;
        b = x;
        /* fall through */
    case ORDER_TRUNC_BOTTOM: /* dt_aggregate_valvarcmp */
        rc = valcmp(c, a, b);
        return rc ? rc : keycmp(c, a, b);
    default: /* dt_aggregate_qsort's own choice: varkeycmp or varvalcmp */
        if (c->r->plan->output.aggsortkey)
            return keycmp(c, a, b);
        rc = valcmp(c, a, b);
        return rc ? rc : keycmp(c, a, b);
    }
}

static struct sort_context context(const struct pyprobe__d_render *r, size_t agg, enum agg_order order)
{
    const struct pyprobe__d_output_options *o = &r->plan->output;

    /* trunc() names its sort function: the options do not apply. */
    return (struct sort_context){.r = r, .agg = agg, .order = order,
                                 .reverse = order == ORDER_DEFAULT && o->aggsortrev,
                                 .keypos = order == ORDER_DEFAULT ? o->aggsortkeypos : 0};
}

void pyprobe__d_agg_sort(const struct pyprobe__d_render *r, size_t agg, struct agg_list *list, enum agg_order order)
{
    struct sort_context c = context(r, agg, order);

    if (list->count > 1)
        qsort_r(list->entries, list->count, sizeof *list->entries, sort_compare, &c);
}

int pyprobe__d_agg_keycmp(const struct pyprobe__d_render *r, size_t agg, const struct agg_entry *a,
                          const struct agg_entry *b)
{
    struct sort_context c = context(r, agg, ORDER_DEFAULT);

    return keycmp(&c, a, b);
}

int pyprobe__d_agg_valcmp(const struct pyprobe__d_render *r, size_t agg, const struct agg_entry *a,
                          const struct agg_entry *b)
{
    struct sort_context c = context(r, agg, ORDER_DEFAULT);

    return valcmp(&c, a, b);
}

/* ---- trunc() and clear(): what survives becomes the carry ---- */

static void replace_carry(struct pyprobe__d_render *r, size_t agg, struct agg_list *now)
{
    pyprobe__d_agg_list_clear(&r->aggs[agg].carry);
    r->aggs[agg].carry = *now;
}

/* dt_trunc: keep the top n by value (the bottom -n when negative), in the
 * order of dtrace_aggregate_walk_valrevsorted (valsorted). */
int pyprobe__d_agg_trunc(struct pyprobe__d_render *r, size_t agg, const struct pyprobe__d_aggregation *data,
                         bool has_n, int64_t n)
{
    struct agg_list now;
    uint64_t keep = !has_n ? 0 : n < 0 ? -(uint64_t)n : (uint64_t)n;
    int rc = pyprobe__d_agg_current(r, agg, data, &now);

    if (rc != 0)
        return rc;
    pyprobe__d_agg_sort(r, agg, &now, n < 0 ? ORDER_TRUNC_BOTTOM : ORDER_TRUNC_TOP);
    while (now.count > keep)
        pyprobe__d_agg_entry_clear(&now.entries[--now.count]);
    replace_carry(r, agg, &now);
    return 0;
}

/* dt_clear_agg: every value zero, every key kept (lquantize()'s range too). */
int pyprobe__d_agg_clear(struct pyprobe__d_render *r, size_t agg, const struct pyprobe__d_aggregation *data)
{
    size_t bins = pyprobe__d_bin_count(&r->plan->aggregations[agg]);
    struct agg_list now;
    int rc = pyprobe__d_agg_current(r, agg, data, &now);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < now.count; i++) {
        now.entries[i].value = now.entries[i].count = 0;
        if (bins)
            memset(now.entries[i].bins, 0, bins * sizeof *now.entries[i].bins);
    }
    replace_carry(r, agg, &now);
    return 0;
}
