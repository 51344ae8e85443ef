/* A plan's events turned into DTrace's output (see d_consume.h). */
#include "d_consume.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d_events.h"
#include "d_fail.h"
#include "grow.h"

struct pyprobe__d_consumer {
    const struct pyprobe__d_plan *plan;
    struct pyprobe__d_render *render;
    pyprobe__d_notice_fn *notice;
    void *notice_arg;
    bool ready;
    uint64_t attached;
    /* An action whose maps are being collected, up to the end record. */
    bool pending;
    size_t action;
    int64_t integers[8];
    size_t integer_count;
    struct pyprobe__d_event *maps;
    size_t map_count, map_capacity;
    /* Other CPUs' lines that came while maps were collected: they are
     * taken once the action has run, so that its output stays whole. */
    struct held_line *held;
    size_t held_count, held_capacity;
    char message[512];
};

struct held_line {
    char *text;
    size_t length;
};

static void notice(struct pyprobe__d_consumer *c, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void notice(struct pyprobe__d_consumer *c, const char *format, ...)
{
    char text[512];
    va_list ap;

    if (!c->notice)
        return;
    va_start(ap, format);
    vsnprintf(text, sizeof text, format, ap);
    va_end(ap);
    c->notice(c->notice_arg, text);
}

/* ---- keys: bpftrace's tuple text split, then D's columns built ---- */

static bool is_integer(const char *text, size_t length)
{
    size_t i = length > 0 && text[0] == '-' ? 1 : 0;

    if (i >= length)
        return false;
    for (; i < length; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

struct split {
    const char *text;
    size_t length;
    const enum pyprobe__d_key_type *types;
    size_t count;
    struct pyprobe__d_span *parts;
    unsigned budget;            /* tries left: a bound on backtracking */
};

static bool fits(const struct split *s, size_t part, size_t start, size_t end)
{
    return s->types[part] == PYPROBE__D_KEY_STRING || is_integer(s->text + start, end - start);
}

/* Parts `part`.. from `start`: strings as short as they can be. */
static bool split_from(struct split *s, size_t part, size_t start)
{
    if (s->budget-- == 0)
        return false;
    if (part == s->count - 1) {
        s->parts[part] = (struct pyprobe__d_span){s->text + start, s->length - start};
        return fits(s, part, start, s->length);
    }
    for (size_t end = start; end < s->length; end++) {
        if (s->text[end] != ',' || !fits(s, part, start, end))
            continue;
        s->parts[part] = (struct pyprobe__d_span){s->text + start, end - start};
        if (split_from(s, part + 1, end + 1))
            return true;
        if (s->types[part] == PYPROBE__D_KEY_INT)
            return false; /* an integer ends at its first comma */
    }
    return false;
}

int pyprobe__d_split_key(const char *text, size_t length, const enum pyprobe__d_key_type *types, size_t count,
                         struct pyprobe__d_span *parts)
{
    struct split s = {text, length, types, count, parts, 100000};

    if (count == 0)
        return length == 0 ? 0 : -EBADMSG;
    return split_from(&s, 0, 0) ? 0 : -EBADMSG;
}

static int append(char **text, size_t *length, size_t *capacity, const char *more, size_t n)
{
    if (pyprobe__grow(text, capacity, *length + n + 1, 1) != 0)
        return -ENOMEM;
    memcpy(*text + *length, more, n);
    *length += n;
    (*text)[*length] = '\0';
    return 0;
}

/* One D key column from bpftrace's parts. */
static int build_column(const struct pyprobe__d_column *column, const struct pyprobe__d_span *parts, size_t part_count,
                        struct pyprobe__d_key *out)
{
    char *text = NULL;
    size_t length = 0, capacity = 0;

    for (size_t i = 0; i < column->piece_count; i++) {
        const struct pyprobe__d_piece *piece = &column->pieces[i];
        const char *s = piece->literal;
        size_t n = s ? strlen(s) : 0;

        if (!s) {
            if (piece->part >= part_count) {
                free(text);
                return -EINVAL;
            }
            s = parts[piece->part].text;
            n = parts[piece->part].length;
            if (piece->transform)
                n = pyprobe__d_path_part(s, n, piece->transform, &s);
        }
        if (append(&text, &length, &capacity, s, n) != 0) {
            free(text);
            return -ENOMEM;
        }
    }
    if (!text && append(&text, &length, &capacity, "", 0) != 0)
        return -ENOMEM;
    out->type = column->type;
    if (column->type == PYPROBE__D_KEY_STRING) {
        out->string = text;
        return 0;
    }
    out->integer = strtoll(text, NULL, 10);
    free(text);
    return 0;
}

static void free_keys(struct pyprobe__d_key *keys, size_t count)
{
    for (size_t i = 0; keys && i < count; i++)
        if (keys[i].type == PYPROBE__D_KEY_STRING)
            free((char *)keys[i].string);
    free(keys);
}

static int build_key(const struct pyprobe__d_plan_aggregation *agg, const struct pyprobe__d_map_entry *entry,
                     struct pyprobe__d_key **out)
{
    struct pyprobe__d_span parts[agg->part_count ? agg->part_count : 1];
    struct pyprobe__d_key *keys;
    int rc = 0;

    *out = NULL;
    if ((entry->key == NULL) != (agg->part_count == 0))
        return -EBADMSG;
    if (agg->part_count &&
        pyprobe__d_split_key(entry->key, entry->key_length, agg->part_types, agg->part_count, parts) != 0)
        return -EBADMSG;
    keys = calloc(agg->column_count ? agg->column_count : 1, sizeof *keys);
    if (!keys)
        return -ENOMEM;
    for (size_t i = 0; rc == 0 && i < agg->column_count; i++)
        rc = build_column(&agg->columns[i], parts, agg->part_count, &keys[i]);
    if (rc != 0) {
        free_keys(keys, agg->column_count);
        return rc;
    }
    *out = keys;
    return 0;
}

/* ---- aggregations from map events ---- */

static void free_aggregation(struct pyprobe__d_aggregation *agg, size_t column_count)
{
    if (!agg)
        return;
    for (size_t i = 0; i < agg->entry_count; i++) {
        free_keys(agg->entries[i].keys, column_count);
        free(agg->entries[i].buckets);
    }
    free(agg->entries);
    free(agg);
}

static const struct pyprobe__d_event *find_map(const struct pyprobe__d_consumer *c, const char *name)
{
    for (size_t i = 0; name && i < c->map_count; i++)
        if (strcmp(c->maps[i].map + 1, name[0] == '@' ? name + 1 : name) == 0)
            return &c->maps[i];
    return NULL;
}

/* avg(): the count map's value for the sum map's key. */
static int64_t avg_count(const struct pyprobe__d_event *counts, const struct pyprobe__d_map_entry *sum)
{
    for (size_t i = 0; counts && i < counts->entry_count; i++) {
        const struct pyprobe__d_map_entry *e = &counts->entries[i];

        if ((e->key == NULL && sum->key == NULL) ||
            (e->key && sum->key && e->key_length == sum->key_length && memcmp(e->key, sum->key, e->key_length) == 0))
            return e->value;
    }
    return 0;
}

/* The value of one bpftrace entry, merged into `into` (dt_aggregate.c's
 * aggregating actions; buckets simply collect, the renderer bins them). */
static int add_value(const struct pyprobe__d_plan_aggregation *agg, const struct pyprobe__d_map_entry *from,
                     int64_t count, struct pyprobe__d_entry *into, bool fresh)
{
    switch (agg->fn) {
    case PYPROBE__D_QUANTIZE:
    case PYPROBE__D_LQUANTIZE: {
        struct pyprobe__d_bucket *grown;

        if (from->kind != PYPROBE__D_VALUE_HIST)
            return -EBADMSG;
        grown = realloc(into->buckets, (into->bucket_count + from->bucket_count + 1) * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        memcpy(grown + into->bucket_count, from->buckets, from->bucket_count * sizeof *grown);
        into->buckets = grown;
        into->bucket_count += from->bucket_count;
        return 0;
    }
    case PYPROBE__D_MIN:
    case PYPROBE__D_MAX:
        if (from->kind != PYPROBE__D_VALUE_INT)
            return -EBADMSG;
        if (fresh || (agg->fn == PYPROBE__D_MIN ? from->value < into->value : from->value > into->value))
            into->value = from->value;
        return 0;
    default:
        if (from->kind != PYPROBE__D_VALUE_INT)
            return -EBADMSG;
        into->value = pyprobe__d_add(into->value, from->value);
        into->count += (uint64_t)count;
        return 0;
    }
}

/* bpftrace prints an unkeyed map even when nothing was ever stored in it;
 * DTrace prints nothing for such an aggregation. */
static bool never_stored(const struct pyprobe__d_plan_aggregation *agg, const struct pyprobe__d_map_entry *e,
                         int64_t count)
{
    return e->key == NULL && ((agg->fn == PYPROBE__D_COUNT && e->value == 0) ||
                              (agg->fn == PYPROBE__D_AVG && count == 0));
}

static int add_entry(const struct pyprobe__d_plan_aggregation *agg, struct pyprobe__d_aggregation *out,
                     const struct pyprobe__d_map_entry *e, int64_t count)
{
    struct pyprobe__d_key *keys;
    struct pyprobe__d_entry *into = NULL;
    int rc = build_key(agg, e, &keys);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < out->entry_count && !into; i++)
        if (pyprobe__d_same_key(out->entries[i].keys, keys, agg->column_count))
            into = &out->entries[i];
    if (into) {
        free_keys(keys, agg->column_count);
        return add_value(agg, e, count, into, false);
    }
    into = &out->entries[out->entry_count++];
    *into = (struct pyprobe__d_entry){.keys = keys, .key_count = agg->column_count};
    return add_value(agg, e, count, into, true);
}

/* The D aggregation from the map events collected for it: NULL data when
 * bpftrace printed none (an empty map). */
static int make_aggregation(const struct pyprobe__d_consumer *c, size_t index, struct pyprobe__d_aggregation **out)
{
    const struct pyprobe__d_plan_aggregation *agg = &c->plan->aggregations[index];
    const struct pyprobe__d_event *values = find_map(c, agg->maps[0]);
    const struct pyprobe__d_event *counts = agg->fn == PYPROBE__D_AVG ? find_map(c, agg->maps[1]) : NULL;
    struct pyprobe__d_aggregation *data;
    struct pyprobe__d_entry *entries;
    int rc = 0;

    *out = NULL;
    if (!values)
        return 0;
    data = calloc(1, sizeof *data);
    entries = calloc(values->entry_count + 1, sizeof *entries);
    if (!data || !entries) {
        free(data);
        free(entries);
        return -ENOMEM;
    }
    *data = (struct pyprobe__d_aggregation){.name = agg->name, .fn = agg->fn, .lq_lower = agg->lq_lower,
                                            .lq_upper = agg->lq_upper, .lq_step = agg->lq_step, .entries = entries};
    for (size_t i = 0; rc == 0 && i < values->entry_count; i++) {
        const struct pyprobe__d_map_entry *e = &values->entries[i];
        int64_t count = agg->fn == PYPROBE__D_AVG ? avg_count(counts, e) : 0;

        if (!never_stored(agg, e, count))
            rc = add_entry(agg, data, e, count);
    }
    if (rc != 0) {
        free_aggregation(data, agg->column_count);
        return rc;
    }
    *out = data;
    return 0;
}

/* ---- actions ---- */

static const char *where(const struct pyprobe__d_action *a)
{
    return a->script_line ? a->script_line : "pyprobe";
}

static int explain(struct pyprobe__d_consumer *c, const struct pyprobe__d_action *a, int rc)
{
    switch (rc) {
    case -ERANGE:
        return pyprobe__d_fail(c->message, sizeof c->message, rc, "%s: quantize() of a value below 0: bpftrace's hist() keeps all of them in one "
                    "bucket, where DTrace's layout needs 63", where(a));
    case -ENOTSUP:
        return pyprobe__d_fail(c->message, sizeof c->message, rc, "%s: printa(): a conversion of this format has no equivalent here", where(a));
    case -EBADMSG:
        return pyprobe__d_fail(c->message, sizeof c->message, rc, "%s: bpftrace printed a map that does not fit the aggregation's key or kind", where(a));
    case -ENOMEM:
        return pyprobe__d_fail(c->message, sizeof c->message, rc, "out of memory");
    case -EIO:
        return pyprobe__d_fail(c->message, sizeof c->message, rc, "cannot write the output");
    default:
        return pyprobe__d_fail(c->message, sizeof c->message, rc, "%s: malformed action (%s)", where(a), strerror(-rc));
    }
}

static void drop_maps(struct pyprobe__d_consumer *c)
{
    for (size_t i = 0; i < c->map_count; i++)
        pyprobe__d_event_free(&c->maps[i]);
    c->map_count = 0;
}

static int run_action(struct pyprobe__d_consumer *c)
{
    const struct pyprobe__d_action *a = &c->plan->actions[c->action];
    struct pyprobe__d_aggregation **data = calloc(a->aggregation_count + 1, sizeof *data);
    int rc = data ? 0 : -ENOMEM;

    c->pending = false;
    for (size_t i = 0; rc == 0 && i < a->aggregation_count; i++)
        rc = a->aggregations[i] < c->plan->aggregation_count ? make_aggregation(c, a->aggregations[i], &data[i])
                                                             : -EINVAL;
    if (rc == 0)
        rc = pyprobe__d_render_action(c->render, c->action, c->integers, c->integer_count,
                                      (const struct pyprobe__d_aggregation *const *)data);
    for (size_t i = 0; data && i < a->aggregation_count; i++)
        if (data[i])
            free_aggregation(data[i], c->plan->aggregations[a->aggregations[i]].column_count);
    free(data);
    drop_maps(c);
    return rc ? explain(c, a, rc) : 0;
}

static bool takes_maps(enum pyprobe__d_action_kind kind)
{
    return kind == PYPROBE__D_ACTION_PRINTA || kind == PYPROBE__D_ACTION_EXIT || kind == PYPROBE__D_ACTION_TRUNC ||
           kind == PYPROBE__D_ACTION_CLEAR;
}

static int finish_action(struct pyprobe__d_consumer *c);

/* "\x1e" ID [" " INTEGER]... "\n" */
static int control_record(struct pyprobe__d_consumer *c, const char *text, size_t length)
{
    char record[256], *p, *end;
    unsigned long long id;

    if (length == strlen(PYPROBE__D_RUNNER_READY) && memcmp(text, PYPROBE__D_RUNNER_READY, length) == 0) {
        c->ready = true;
        return 0;
    }
    if (length == strlen(PYPROBE__D_END_RECORD) && memcmp(text, PYPROBE__D_END_RECORD, length) == 0)
        return c->pending ? finish_action(c) : 0;
    if (length >= sizeof record)
        return pyprobe__d_fail(c->message, sizeof c->message, -EBADMSG, "malformed control record from bpftrace");
    memcpy(record, text + 1, length - 1);
    record[length - 1] = '\0';
    record[strcspn(record, "\n")] = '\0';
    errno = 0;
    id = strtoull(record, &p, 10);
    if (errno || p == record || id >= c->plan->action_count)
        return pyprobe__d_fail(c->message, sizeof c->message, -EBADMSG, "malformed control record from bpftrace: no action %s", record);
    c->action = (size_t)id;
    c->integer_count = 0;
    while (*p == ' ' && c->integer_count < sizeof c->integers / sizeof c->integers[0]) {
        c->integers[c->integer_count++] = strtoll(p + 1, &end, 10);
        if (end == p + 1)
            return pyprobe__d_fail(c->message, sizeof c->message, -EBADMSG, "malformed control record from bpftrace: %s", record);
        p = end;
    }
    if (*p != '\0')
        return pyprobe__d_fail(c->message, sizeof c->message, -EBADMSG, "malformed control record from bpftrace: %s", record);
    if (c->plan->actions[c->action].kind == PYPROBE__D_ACTION_ATTACHED)
        c->ready = true;
    if (takes_maps(c->plan->actions[c->action].kind)) {
        c->pending = true;
        return 0;
    }
    return run_action(c);
}

static int keep_map(struct pyprobe__d_consumer *c, struct pyprobe__d_event *event)
{
    if (!c->pending) {
        pyprobe__d_event_free(event); /* bpftrace's own dump at its exit */
        return 0;
    }
    if (pyprobe__grow(&c->maps, &c->map_capacity, c->map_count + 1, sizeof *c->maps) != 0) {
        pyprobe__d_event_free(event);
        return pyprobe__d_fail(c->message, sizeof c->message, -ENOMEM, "out of memory");
    }
    c->maps[c->map_count++] = *event;
    return 0;
}

static int printf_event(struct pyprobe__d_consumer *c, const struct pyprobe__d_event *event)
{
    int rc;

    if (event->length > 0 && event->text[0] == PYPROBE__D_CONTROL)
        return control_record(c, event->text, event->length);
    if ((rc = pyprobe__d_render_output(c->render, event->text, event->length)) != 0)
        return pyprobe__d_fail(c->message, sizeof c->message, rc, rc == -EBADMSG ? "malformed output segment from bpftrace" : "cannot write the output");
    return 0;
}

static bool is_close(const struct pyprobe__d_event *event)
{
    return event->kind == PYPROBE__D_EVENT_PRINTF && event->length == strlen(PYPROBE__D_END_RECORD) &&
           memcmp(event->text, PYPROBE__D_END_RECORD, event->length) == 0;
}

static int hold(struct pyprobe__d_consumer *c, const char *line, size_t length)
{
    char *copy = malloc(length + 1);

    if (!copy || pyprobe__grow(&c->held, &c->held_capacity, c->held_count + 1, sizeof *c->held) != 0) {
        free(copy);
        return pyprobe__d_fail(c->message, sizeof c->message, -ENOMEM, "out of memory");
    }
    memcpy(copy, line, length);
    c->held[c->held_count++] = (struct held_line){copy, length};
    return 0;
}

/* The action, then the lines held meanwhile, in their order (one may
 * start another action, whose own lines are held again). */
static int finish_action(struct pyprobe__d_consumer *c)
{
    struct held_line *lines = c->held;
    size_t count = c->held_count;
    int rc = run_action(c);

    c->held = NULL;
    c->held_count = c->held_capacity = 0;
    for (size_t i = 0; i < count; i++) {
        if (rc == 0)
            rc = pyprobe__d_consume(c, lines[i].text, lines[i].length);
        free(lines[i].text);
    }
    free(lines);
    return rc;
}

int pyprobe__d_consume(struct pyprobe__d_consumer *c, const char *line, size_t length)
{
    struct pyprobe__d_event event;
    int rc = pyprobe__d_event_parse(line, length, &event);

    if (rc == 0 && c->pending && event.kind == PYPROBE__D_EVENT_PRINTF && !is_close(&event)) {
        pyprobe__d_event_free(&event);
        return hold(c, line, length);
    }

    if (rc == -ENODATA)
        return 0;
    if (rc == -EBADMSG) {
        notice(c, "bpftrace: %.*s", (int)(length > 400 ? 400 : length), line);
        return 0;
    }
    if (rc != 0)
        return pyprobe__d_fail(c->message, sizeof c->message, rc, "out of memory");
    switch (event.kind) {
    case PYPROBE__D_EVENT_MAP:
        return keep_map(c, &event);
    case PYPROBE__D_EVENT_PRINTF:
        rc = printf_event(c, &event);
        break;
    case PYPROBE__D_EVENT_ATTACHED:
        c->attached = event.count;
        break;
    case PYPROBE__D_EVENT_LOST:
        notice(c, "%" PRIu64 " event%s lost (bpftrace's buffers were full)", event.count, event.count == 1 ? "" : "s");
        break;
    case PYPROBE__D_EVENT_ERROR:
        notice(c, "bpftrace: %.*s", (int)event.length, event.text);
        break;
    default:
        break;
    }
    pyprobe__d_event_free(&event);
    return rc;
}

int pyprobe__d_consume_end(struct pyprobe__d_consumer *c)
{
    int rc = 0;

    /* An end record that never came: the maps seen are all there is. */
    while (rc == 0 && c->pending)
        rc = finish_action(c);
    pyprobe__d_render_finish(c->render);
    return rc;
}

/* ---- life ---- */

int pyprobe__d_consumer_new(const struct pyprobe__d_plan *plan, struct pyprobe__d_render *render,
                            pyprobe__d_notice_fn *notice_fn, void *notice_arg, struct pyprobe__d_consumer **out)
{
    struct pyprobe__d_consumer *c;

    if (!plan || !render || !out)
        return -EINVAL;
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    *c = (struct pyprobe__d_consumer){.plan = plan, .render = render, .notice = notice_fn, .notice_arg = notice_arg};
    *out = c;
    return 0;
}

void pyprobe__d_consumer_free(struct pyprobe__d_consumer *c)
{
    if (!c)
        return;
    drop_maps(c);
    free(c->maps);
    for (size_t i = 0; i < c->held_count; i++)
        free(c->held[i].text);
    free(c->held);
    free(c);
}

const char *pyprobe__d_consumer_message(const struct pyprobe__d_consumer *c)
{
    return c->message;
}

bool pyprobe__d_consumer_ready(const struct pyprobe__d_consumer *c)
{
    return c->ready;
}

uint64_t pyprobe__d_consumer_attached(const struct pyprobe__d_consumer *c)
{
    return c->attached;
}
