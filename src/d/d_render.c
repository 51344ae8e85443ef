/* DTrace's output: user output, records, and the actions (see d_render.h). */
#define _GNU_SOURCE /* asprintf */
#include "d_render_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* ---- writing (held while a -F return record waits for the next) ---- */

static void hold(struct pyprobe__d_render *r, const char *text, size_t length)
{
    if (pyprobe__grow(&r->held, &r->held_capacity, r->held_length + length + 1, 1) != 0) {
        r->error = r->error ? r->error : -ENOMEM;
        return;
    }
    memcpy(r->held + r->held_length, text, length);
    r->held_length += length;
}

void pyprobe__d_write(struct pyprobe__d_render *r, const char *text, size_t length)
{
    if (r->holding)
        hold(r, text, length);
    else if (length && fwrite(text, 1, length, r->out) != length && !r->error)
        r->error = -EIO;
}

void pyprobe__d_say(struct pyprobe__d_render *r, const char *format, ...)
{
    char small[512], *text = small;
    va_list ap;
    int length;

    va_start(ap, format);
    length = vsnprintf(small, sizeof small, format, ap);
    va_end(ap);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof small) {
        text = malloc((size_t)length + 1);
        if (!text) {
            r->error = r->error ? r->error : -ENOMEM;
            return;
        }
        va_start(ap, format);
        vsnprintf(text, (size_t)length + 1, format, ap);
        va_end(ap);
    }
    pyprobe__d_write(r, text, (size_t)length);
    if (text != small)
        free(text);
}

/* ---- user output: the inline segments of d_data.h ---- */

struct text {
    char *data;
    size_t length, capacity;
};

static int append(struct text *t, const char *data, size_t length)
{
    if (pyprobe__grow(&t->data, &t->capacity, t->length + length + 1, 1) != 0)
        return -ENOMEM;
    memcpy(t->data + t->length, data, length);
    t->length += length;
    t->data[t->length] = '\0';
    return 0;
}

static int append_spaces(struct text *t, size_t count)
{
    static const char spaces[] = "                                ";

    for (size_t n; count > 0; count -= n) {
        n = count < sizeof spaces - 1 ? count : sizeof spaces - 1;
        if (append(t, spaces, n) != 0)
            return -ENOMEM;
    }
    return 0;
}

size_t pyprobe__d_path_part(const char *s, size_t length, char op, const char **start)
{
    long i, n = (long)length, lastbase = -1, firstbase = -1, lastdir = -1, first, last;

    if (n == 0) {
        s = ".";
        n = 1;
    }
    for (i = n - 1; i >= 0 && s[i] == '/'; i--)
        ;
    if (i >= 0)
        lastbase = i;
    for (; i >= 0 && s[i] != '/'; i--)
        ;
    if (i >= 0)
        firstbase = i + 1;
    for (; i >= 0 && s[i] == '/'; i--)
        ;
    if (i >= 0)
        lastdir = i;
    if (lastbase == -1)
        firstbase = lastbase = lastdir = 0; /* slashes only: "/" */
    if (firstbase == -1) {
        if (op == 'D') {
            s = ".";
            lastdir = 0;
        } else {
            firstbase = 0;
        }
    }
    first = op == 'D' ? 0 : firstbase;
    last = op == 'D' ? (lastdir == -1 ? 0 : lastdir) : lastbase;
    *start = s + first;
    return (size_t)(last - first + 1);
}

static int apply(char op, const char *arg, size_t arg_length, const struct text *inner, struct text *out)
{
    const char *s = inner->data ? inner->data : "";
    size_t length = inner->length, width;
    char number[24];
    long value;
    char *stop;

    switch (op) {
    case 'W': /* %*s: right-justified in |width|, left when negative */
        if (arg_length == 0 || arg_length >= sizeof number)
            return -EBADMSG;
        memcpy(number, arg, arg_length);
        number[arg_length] = '\0';
        value = strtol(number, &stop, 10);
        if (*stop)
            return -EBADMSG;
        width = (size_t)(value < 0 ? -value : value);
        if (value > 0 && width > length && append_spaces(out, width - length) != 0)
            return -ENOMEM;
        if (append(out, s, length) != 0)
            return -ENOMEM;
        return value < 0 && width > length ? append_spaces(out, width - length) : 0;
    case 'B':
    case 'D':
        if (arg_length != 0)
            return -EBADMSG;
        length = pyprobe__d_path_part(s, length, op, &s);
        return append(out, s, length);
    default:
        return -EBADMSG;
    }
}

/* Resolves text[*pos..] into out, up to the end (depth 0) or the CLOSE of
 * the segment being read. */
static int resolve(const char *text, size_t length, size_t *pos, int depth, struct text *out)
{
    while (*pos < length) {
        char c = text[*pos];
        const char *arg, *marker;
        struct text inner = {0};
        char op;
        int rc;

        if (c == PYPROBE__D_SEGMENT_CLOSE) {
            (*pos)++;
            return depth > 0 ? 0 : -EBADMSG;
        }
        if (c != PYPROBE__D_SEGMENT_OPEN) {
            size_t run = *pos;

            while (run < length && text[run] != PYPROBE__D_SEGMENT_OPEN && text[run] != PYPROBE__D_SEGMENT_CLOSE)
                run++;
            if (append(out, text + *pos, run - *pos) != 0)
                return -ENOMEM;
            *pos = run;
            continue;
        }
        if (*pos + 1 >= length || depth > 16)
            return -EBADMSG;
        op = text[*pos + 1];
        arg = text + *pos + 2;
        marker = memchr(arg, PYPROBE__D_SEGMENT_TEXT, length - (*pos + 2));
        if (!marker)
            return -EBADMSG;
        *pos = (size_t)(marker - text) + 1;
        rc = resolve(text, length, pos, depth + 1, &inner);
        if (rc == 0)
            rc = apply(op, arg, (size_t)(marker - arg), &inner, out);
        free(inner.data);
        if (rc != 0)
            return rc;
    }
    return depth > 0 ? -EBADMSG : 0;
}

int pyprobe__d_render_output(struct pyprobe__d_render *r, const char *text, size_t length)
{
    struct text out = {0};
    size_t pos = 0;
    int rc;

    if (!memchr(text, PYPROBE__D_SEGMENT_OPEN, length) && !memchr(text, PYPROBE__D_SEGMENT_CLOSE, length)) {
        pyprobe__d_write(r, text, length);
        return 0;
    }
    rc = resolve(text, length, &pos, 0, &out);
    if (rc == 0)
        pyprobe__d_write(r, out.data, out.length);
    free(out.data);
    return rc;
}

/* ---- records: dtrace's chew(), chewrec() and dt_flowindent() ---- */

static const struct pyprobe__d_action *action_at(const struct pyprobe__d_render *r, size_t action)
{
    return action < r->plan->action_count ? &r->plan->actions[action] : NULL;
}

static bool is_syscall(const struct pyprobe__d_action *a)
{
    return a->probe_provider && strcmp(a->probe_provider, "syscall") == 0;
}

/* chew(): the heading once, then the record's prefix. */
static void print_prefix(struct pyprobe__d_render *r, const struct pyprobe__d_action *a, int64_t cpu,
                         enum pyprobe__d_flow flow)
{
    static const char *const arrows[2][2] = {{" -> ", " <- "}, {" => ", " <= "}};
    const struct pyprobe__d_output_options *o = &r->plan->output;
    const char *function = a->probe_function ? a->probe_function : "";
    const char *name = a->probe_name ? a->probe_name : "";
    char *label;

    if (!r->heading) {
        if (o->flowindent)
            pyprobe__d_say(r, "%3s %-41s\n", "CPU", "FUNCTION");
        else if (!o->quiet)
            pyprobe__d_say(r, "%3s %6s %32s\n", "CPU", "ID", "FUNCTION:NAME");
        r->heading = true;
    }
    if (!o->flowindent) {
        if (!o->quiet && asprintf(&label, "%s:%s", function, name) >= 0) {
            pyprobe__d_say(r, "%3d %6u %32s ", (int)cpu, a->probe_id, label);
            free(label);
        }
        return;
    }
    if (flow == PYPROBE__D_FLOW_NONE ? asprintf(&label, "%*s| %s:%s", r->indent, "", function, name) < 0
                                     : asprintf(&label, "%*s%s%s", r->indent, "",
                                                arrows[is_syscall(a)][flow == PYPROBE__D_FLOW_RETURN], function) < 0)
        return;
    pyprobe__d_say(r, "%3d %-41s ", (int)cpu, label);
    free(label);
}

/* A record begins whose flow is now known. */
static void begin_record(struct pyprobe__d_render *r, size_t action, int64_t cpu, enum pyprobe__d_flow flow)
{
    if (flow == PYPROBE__D_FLOW_RETURN && r->indent > 0)
        r->indent -= 2;
    print_prefix(r, action_at(r, action), cpu, flow);
    if (flow == PYPROBE__D_FLOW_ENTRY)
        r->indent += 2;
    r->last_probe = action;
}

/* The held return record learns what follows it (`next`: SIZE_MAX for no
 * record): dt_flowindent() makes it unindent only when the next record is
 * not another clause of the same probe. */
static void release(struct pyprobe__d_render *r, size_t next)
{
    const struct pyprobe__d_action *held = action_at(r, r->held_action);
    const struct pyprobe__d_action *after = next == SIZE_MAX ? NULL : action_at(r, next);
    enum pyprobe__d_flow flow = PYPROBE__D_FLOW_RETURN;
    char *output = r->held;
    size_t length = r->held_length;

    if (!r->holding)
        return;
    if (after && next != r->held_action && after->probe_id == held->probe_id)
        flow = PYPROBE__D_FLOW_NONE;
    r->holding = false;
    r->held = NULL;
    r->held_length = r->held_capacity = 0;
    begin_record(r, r->held_action, r->held_cpu, flow);
    pyprobe__d_write(r, output, length);
    free(output);
}

static int probe_record(struct pyprobe__d_render *r, size_t action, int64_t cpu)
{
    const struct pyprobe__d_action *a = action_at(r, action);
    const struct pyprobe__d_action *last = r->last_probe == SIZE_MAX ? NULL : action_at(r, r->last_probe);
    enum pyprobe__d_flow flow = r->plan->output.flowindent ? a->flow : PYPROBE__D_FLOW_NONE;

    release(r, action);
    /* An entry right after another clause of the same probe is no new level. */
    if (flow == PYPROBE__D_FLOW_ENTRY && last && r->last_probe != action && last->probe_id == a->probe_id)
        flow = PYPROBE__D_FLOW_NONE;
    if (flow == PYPROBE__D_FLOW_RETURN && r->shared_probe[action]) {
        r->holding = true;
        r->held_action = action;
        r->held_cpu = cpu;
        r->last_probe = action;
        return 0;
    }
    begin_record(r, action, cpu, flow);
    return 0;
}

/* ---- actions ---- */

static const struct pyprobe__d_aggregation *only(const struct pyprobe__d_aggregation *const *data)
{
    return data ? data[0] : NULL;
}

int pyprobe__d_render_action(struct pyprobe__d_render *r, size_t action, const int64_t *integers,
                             size_t integer_count, const struct pyprobe__d_aggregation *const *data)
{
    const struct pyprobe__d_action *a = action_at(r, action);
    int rc;

    if (!a)
        return -EINVAL;
    if (a->kind == PYPROBE__D_ACTION_PROBE)
        return probe_record(r, action, integer_count > 0 ? integers[0] : 0);
    if (a->kind == PYPROBE__D_ACTION_ATTACHED)
        return 0;
    if (a->kind != PYPROBE__D_ACTION_EXIT && a->kind != PYPROBE__D_ACTION_PRINTA &&
        (a->aggregation_count != 1 || a->aggregations[0] >= r->plan->aggregation_count))
        return -EINVAL;
    switch (a->kind) {
    case PYPROBE__D_ACTION_PRINTA:
        return pyprobe__d_agg_printa(r, a->format, a->aggregations, a->aggregation_count, data);
    case PYPROBE__D_ACTION_TRUNC:
        return pyprobe__d_agg_trunc(r, a->aggregations[0], only(data), a->has_n, a->n);
    case PYPROBE__D_ACTION_CLEAR:
        return pyprobe__d_agg_clear(r, a->aggregations[0], only(data));
    case PYPROBE__D_ACTION_NORMALIZE:
        if (integer_count < 1 || integers[0] <= 0)
            return -EINVAL;
        r->aggs[a->aggregations[0]].normal = (uint64_t)integers[0];
        return 0;
    case PYPROBE__D_ACTION_DENORMALIZE:
        r->aggs[a->aggregations[0]].normal = 1;
        return 0;
    case PYPROBE__D_ACTION_EXIT:
        /* dtrace's end: a newline after its loop, then the dump. */
        release(r, SIZE_MAX);
        r->exited = true;
        r->status = integer_count > 0 ? (int)integers[0] : 0;
        pyprobe__d_say(r, "\n");
        rc = pyprobe__d_agg_dump(r, a, data);
        return rc ? rc : r->error;
    default:
        return -EINVAL;
    }
}

void pyprobe__d_render_interrupted(struct pyprobe__d_render *r)
{
    if (r->interrupted)
        return;
    r->interrupted = true;
    release(r, SIZE_MAX);
    pyprobe__d_say(r, "\n");
}

int pyprobe__d_render_exited(const struct pyprobe__d_render *r, int *status)
{
    if (status)
        *status = r->status;
    return r->exited;
}

int pyprobe__d_render_flush(struct pyprobe__d_render *r)
{
    return fflush(r->out) == 0 && !ferror(r->out) ? r->error : -EIO;
}

void pyprobe__d_render_finish(struct pyprobe__d_render *r)
{
    release(r, SIZE_MAX);
}

/* ---- life ---- */

/* Which PROBE actions share their probe with another (only those need
 * dt_flowindent's look at the next record). */
static int find_shared(struct pyprobe__d_render *r)
{
    const struct pyprobe__d_plan *plan = r->plan;

    r->shared_probe = calloc(plan->action_count ? plan->action_count : 1, sizeof *r->shared_probe);
    if (!r->shared_probe)
        return -ENOMEM;
    for (size_t i = 0; i < plan->action_count; i++)
        for (size_t j = 0; j < plan->action_count; j++)
            if (i != j && plan->actions[i].kind == PYPROBE__D_ACTION_PROBE &&
                plan->actions[j].kind == PYPROBE__D_ACTION_PROBE &&
                plan->actions[i].probe_id == plan->actions[j].probe_id)
                r->shared_probe[i] = true;
    return 0;
}

int pyprobe__d_render_new(FILE *out, const struct pyprobe__d_plan *plan, struct pyprobe__d_render **render)
{
    struct pyprobe__d_render *r;

    if (!out || !plan || !render)
        return -EINVAL;
    *render = NULL;
    r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->out = out;
    r->plan = plan;
    r->last_probe = SIZE_MAX;
    r->aggs = calloc(plan->aggregation_count ? plan->aggregation_count : 1, sizeof *r->aggs);
    if (!r->aggs || find_shared(r) != 0) {
        pyprobe__d_render_free(r);
        return -ENOMEM;
    }
    for (size_t i = 0; i < plan->aggregation_count; i++)
        r->aggs[i].normal = 1;
    *render = r;
    return 0;
}

void pyprobe__d_render_free(struct pyprobe__d_render *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->aggs && i < r->plan->aggregation_count; i++)
        pyprobe__d_agg_list_clear(&r->aggs[i].carry);
    free(r->aggs);
    free(r->shared_probe);
    free(r->held);
    free(r);
}
