/*
 * Aggregations as DTrace prints them: the default layout (dt_print_aggs,
 * dt_print_datum, dt_print_bytes), quantize and lquantize tables
 * (dt_print_quantize, dt_print_lquantize, dt_print_quantline), printa()
 * formats (dt_printf_create, dt_printf_format, the pfprint_* functions of
 * dt_printf.c), several aggregations in one printa (dtrace_aggregate_walk_
 * joined) and the dump of the unprinted ones at the end (dtrace_aggregate_
 * print). Files of illumos libdtrace, read for their layouts.
 */
#define _GNU_SOURCE /* qsort_r */
#include "d_render_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"

/* DTrace's default string size: a string key is this long, zero-padded. */
enum { STRSIZE = 256 };

static const struct pyprobe__d_plan_aggregation *plan_agg(const struct pyprobe__d_render *r, size_t agg)
{
    return &r->plan->aggregations[agg];
}

/* ---- the default layout ---- */

/* The C locale's isprint() and isspace(), with '\b' and '\a' (what
 * dt_print_bytes takes for text); bytes of 0x80 and more are not. */
static bool is_text(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r') || c == '\b' || c == '\a';
}

/* dt_print_bytes's hex dump, of the key's whole zero-padded record. */
static void print_raw(struct pyprobe__d_render *r, const unsigned char *bytes, size_t n)
{
    enum { MARGIN = 5 };

    pyprobe__d_say(r, "\n%*s      ", MARGIN, "");
    for (int i = 0; i < 16; i++)
        pyprobe__d_say(r, "  %c", "0123456789abcdef"[i]);
    pyprobe__d_say(r, "  0123456789abcdef\n");
    for (size_t i = 0; i < n; i += 16) {
        size_t j;

        pyprobe__d_say(r, "%*s%5zx:", MARGIN, "", i);
        for (j = i; j < i + 16 && j < n; j++)
            pyprobe__d_say(r, " %02x", bytes[j]);
        while (j++ % 16)
            pyprobe__d_say(r, "   ");
        pyprobe__d_say(r, "  ");
        for (j = i; j < i + 16 && j < n; j++)
            pyprobe__d_say(r, "%c", bytes[j] < ' ' || bytes[j] > '~' ? '.' : bytes[j]);
        pyprobe__d_say(r, "\n");
    }
}

/* A string key: "  %-50s" when it is text, else the hex dump (an empty
 * string is one: its first byte is the terminating nul). */
static void print_string_key(struct pyprobe__d_render *r, const char *s)
{
    unsigned char record[STRSIZE] = {0};
    size_t n = strnlen(s, STRSIZE - 1);

    memcpy(record, s, n);
    for (size_t i = 0; i < n; i++)
        if (!is_text(record[i]))
            n = 0;
    if (n == 0) {
        print_raw(r, record, sizeof record);
        return;
    }
    pyprobe__d_say(r, "  %-50s", (const char *)record);
}

/* An integer key, as wide as its type (3, 5, 8 or 16). */
static void print_int_key(struct pyprobe__d_render *r, int64_t value, int size)
{
    switch (size) {
    case 1:
        pyprobe__d_say(r, " %3d", (uint8_t)value);
        break;
    case 2:
        pyprobe__d_say(r, " %5d", (uint16_t)value);
        break;
    case 4:
        pyprobe__d_say(r, " %8d", (int32_t)value);
        break;
    default:
        pyprobe__d_say(r, " %16lld", (long long)value);
    }
}

static void print_keys(struct pyprobe__d_render *r, size_t agg, const struct agg_entry *e)
{
    const struct pyprobe__d_plan_aggregation *a = plan_agg(r, agg);

    for (size_t i = 0; i < e->key_count; i++) {
        if (e->keys[i].type == PYPROBE__D_KEY_STRING)
            print_string_key(r, e->keys[i].string);
        else
            print_int_key(r, e->keys[i].integer, i < a->column_count ? a->columns[i].size : 8);
    }
}

/* dt_print_quantline: one row's bar, '@' per 40th of the total. */
static void print_bar(struct pyprobe__d_render *r, int64_t value, uint64_t normal, long double total, bool positives,
                      bool negatives)
{
    static const char ats[] = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";
    static const char spaces[] = "                                        ";
    long double magnitude = value < 0 ? -(long double)value : (long double)value;
    long long shown = (long long)((uint64_t)value / normal);
    unsigned len = 40, depth = 0;

    if (!negatives) {
        if (positives)
            depth = (unsigned)(magnitude * len / total + 0.5);
        pyprobe__d_say(r, "|%s%s %-9lld\n", ats + len - depth, spaces + depth, shown);
        return;
    }
    if (!positives) {
        depth = (unsigned)(magnitude * len / total + 0.5);
        pyprobe__d_say(r, "%s%s| %-9lld\n", spaces + depth, ats + len - depth, shown);
        return;
    }
    /* Both signs: half bars either side of a centre line. */
    len /= 2;
    depth = (unsigned)(magnitude * len / total + 0.5);
    if (value <= 0)
        pyprobe__d_say(r, "%s%s|%*s %-9lld\n", spaces + 20 + depth, ats + 20 + len - depth, (int)len, "", shown);
    else
        pyprobe__d_say(r, "%20s|%s%s %-9lld\n", "", ats + 20 + len - depth, spaces + 20 + depth, shown);
}

static void print_table_header(struct pyprobe__d_render *r)
{
    pyprobe__d_say(r, "\n%16s %41s %-9s\n", "value", "------------- Distribution -------------", "count");
}

/* The rows to show: from the bin before the first with data to the bin
 * after the last (dt_print_quantize, dt_print_lquantize); `empty_first`
 * and `empty_last` when there is no data at all. */
static void table_range(const int64_t *bins, int n, int empty_first, int empty_last, int *first, int *last)
{
    int f = 0, l = n - 1;

    while (f < n && bins[f] == 0)
        f++;
    if (f >= n) {
        *first = empty_first;
        *last = empty_last;
        return;
    }
    if (f > 0)
        f--;
    while (l > 0 && bins[l] == 0)
        l--;
    if (l < n - 1)
        l++;
    *first = f;
    *last = l;
}

static void bar_totals(const int64_t *bins, int first, int last, long double *total, bool *positives,
                       bool *negatives)
{
    *total = 0;
    *positives = *negatives = false;
    for (int i = first; i <= last; i++) {
        *positives |= bins[i] > 0;
        *negatives |= bins[i] < 0;
        *total += bins[i] < 0 ? -(long double)bins[i] : (long double)bins[i];
    }
}

static void print_quantize(struct pyprobe__d_render *r, const int64_t *bins, uint64_t normal)
{
    int first, last, f = 0;
    long double total;
    bool positives, negatives;

    /* dt_print_quantize stops its search one short of the last bin. */
    while (f < QUANTIZE_BINS - 1 && bins[f] == 0)
        f++;
    if (f == QUANTIZE_BINS - 1) {
        first = QUANTIZE_ZERO - 1;
        last = QUANTIZE_ZERO + 1;
    } else {
        table_range(bins, QUANTIZE_BINS, 0, 0, &first, &last);
    }
    bar_totals(bins, first, last, &total, &positives, &negatives);
    print_table_header(r);
    for (int i = first; i <= last; i++) {
        pyprobe__d_say(r, "%16lld ", (long long)pyprobe__d_quantize_value(i));
        print_bar(r, bins[i], normal, total, positives, negatives);
    }
}

static void print_lquantize(struct pyprobe__d_render *r, const struct pyprobe__d_plan_aggregation *agg,
                            const int64_t *bins, uint64_t normal)
{
    int levels = (int)pyprobe__d_lq_levels(agg), base = (int)agg->lq_lower, step = (int)agg->lq_step;
    int first, last;
    long double total;
    bool positives, negatives;
    char label[32];

    table_range(bins, levels + 2, 0, 2, &first, &last);
    bar_totals(bins, first, last, &total, &positives, &negatives);
    print_table_header(r);
    for (int i = first; i <= last; i++) {
        if (i == 0 || i == levels + 1) {
            snprintf(label, sizeof label, i == 0 ? "< %d" : ">= %d", i == 0 ? base : base + levels * step);
            pyprobe__d_say(r, "%16s ", label);
        } else {
            pyprobe__d_say(r, "%16d ", base + (i - 1) * step);
        }
        print_bar(r, bins[i], normal, total, positives, negatives);
    }
}

/* dt_print_datum of the aggregating action's record. */
static void print_value(struct pyprobe__d_render *r, size_t agg, const struct agg_entry *e)
{
    const struct pyprobe__d_plan_aggregation *a = plan_agg(r, agg);
    uint64_t normal = r->aggs[agg].normal;

    switch (a->fn) {
    case PYPROBE__D_QUANTIZE:
        print_quantize(r, e->bins, normal);
        break;
    case PYPROBE__D_LQUANTIZE:
        print_lquantize(r, a, e->bins, normal);
        break;
    case PYPROBE__D_AVG: /* dt_print_average */
        pyprobe__d_say(r, " %16lld", (long long)pyprobe__d_div(pyprobe__d_div(e->value, (int64_t)normal), e->count));
        break;
    default:
        pyprobe__d_say(r, " %16lld", (long long)((uint64_t)e->value / normal));
    }
}

/* ---- printa() formats ---- */

struct conversion {
    const char *prefix;         /* the text before it */
    size_t prefix_length;
    char conv;                  /* 0: no conversion (the text at the end) */
    bool alt, zpad, left, plus, group, space; /* # 0 - + ' and space */
    int width, precision;       /* 0: none */
    bool width_star, precision_star, agg;
};

/* One flag of a conversion (dt_printf_create: '-' and '0' undo each other). */
static bool take_flag(struct conversion *c, char flag)
{
    switch (flag) {
    case '#': c->alt = true; return true;
    case '-': c->left = true; c->zpad = false; return true;
    case '+': c->plus = true; return true;
    case '\'': c->group = true; return true;
    case ' ': c->space = true; return true;
    case '@': c->agg = true; return true;
    case '?': c->width = 16; return true;
    case 'h': case 'l': case 'L': case 'w': return true; /* sizes: the values are 64-bit anyway */
    default: return false;
    }
}

/* Reads one conversion after its '%': the character after it, or NULL
 * when malformed. */
static const char *parse_conversion(const char *p, struct conversion *c)
{
    bool dot = false;
    int digits = 0;

    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            int n = 0;

            if (*p == '0' && !dot && digits == 0) {
                c->zpad = true;
                c->left = false;
                continue;
            }
            while (*p >= '0' && *p <= '9' && n < 100000)
                n = n * 10 + (*p++ - '0');
            p--;
            *(dot ? &c->precision : &c->width) = n;
            digits++;
        } else if (*p == '*') {
            *(dot ? &c->precision_star : &c->width_star) = true;
        } else if (*p == '.') {
            if (dot)
                return NULL;
            dot = true;
            digits = 0;
        } else if (!take_flag(c, *p)) {
            if (*p == '\0' || *p == '$')
                return NULL;
            c->conv = *p;
            return p + 1;
        }
    }
}

/* dt_printf_create: the format in pieces; -EINVAL when malformed. */
static int parse_format(const char *format, struct conversion **out, size_t *count)
{
    size_t capacity = 0;
    const char *q = format;

    *out = NULL;
    *count = 0;
    for (;;) {
        const char *p = strchr(q, '%');
        struct conversion c = {.prefix = q, .prefix_length = p ? (size_t)(p - q) : strlen(q)};

        if (p && !(q = parse_conversion(p + 1, &c)))
            return -EINVAL;
        if (pyprobe__grow(out, &capacity, *count + 1, sizeof **out) != 0)
            return -ENOMEM;
        (*out)[(*count)++] = c;
        if (!p || !*q)
            return 0;
    }
}

/* The C format of one conversion, flags in dt_printf_format's order
 * ("%-8lld"), its conversion character and length given. */
static void c_format(const struct conversion *c, int width, const char *length, char conv, char *out, size_t size)
{
    int n = snprintf(out, size, "%%%s%s%s%s%s%s", c->alt ? "#" : "", c->zpad ? "0" : "",
                     width < 0 || c->left ? "-" : "", c->plus ? "+" : "", c->group ? "'" : "", c->space ? " " : "");

    if (width != 0)
        n += snprintf(out + n, size - (size_t)n, "%d", width < 0 ? -width : width);
    if (c->precision > 0)
        n += snprintf(out + n, size - (size_t)n, ".%d", c->precision);
    snprintf(out + n, size - (size_t)n, "%s%c", length, conv);
}

static bool is_signed_conv(char conv)
{
    return conv == 'd' || conv == 'i' || conv == 'c';
}

static int print_integer(struct pyprobe__d_render *r, const struct conversion *c, int width, int64_t value,
                         bool as_unsigned)
{
    char format[48];

    switch (c->conv) {
    case 'd': case 'i': case 'u': case 'o': case 'x': case 'X':
        c_format(c, width, "ll", as_unsigned && c->conv == 'd' ? 'u' : c->conv, format, sizeof format);
        if (is_signed_conv(c->conv) && !(as_unsigned && c->conv == 'd'))
            pyprobe__d_say(r, format, (long long)value);
        else
            pyprobe__d_say(r, format, (unsigned long long)value);
        return 0;
    case 'p': /* ofmt "x" */
        c_format(c, width, "ll", 'x', format, sizeof format);
        pyprobe__d_say(r, format, (unsigned long long)value);
        return 0;
    case 'c':
        c_format(c, width, "", 'c', format, sizeof format);
        pyprobe__d_say(r, format, (int)(char)value);
        return 0;
    case 's': case 'S':
        return -EINVAL; /* a string conversion of an integer */
    default:
        return -ENOTSUP;
    }
}

/* pfprint_time (%Y): ctime's fields as "1973 Dec  3 17:20:00". */
static int print_time(struct pyprobe__d_render *r, const struct conversion *c, int width, int64_t ns)
{
    time_t seconds = (time_t)(ns / 1000000000);
    char src[32], text[24], format[32];
    struct tm tm;

    if (!localtime_r(&seconds, &tm) || !asctime_r(&tm, src) || strlen(src) < 24)
        return -ERANGE;
    snprintf(text, sizeof text, "%.4s%.16s", src + 20, src + 3);
    c_format(c, width, "", 's', format, sizeof format);
    pyprobe__d_say(r, format, text);
    return 0;
}

/* strchr2esc (%S): C escapes for what is not printable. */
static int print_escaped(struct pyprobe__d_render *r, const struct conversion *c, int width, const char *s)
{
    static const char from[] = "\a\b\f\n\r\t\v\\\"", to[] = "abfnrtv\\\"";
    char *text = malloc(strlen(s) * 4 + 1), *q = text, format[32];

    if (!text)
        return -ENOMEM;
    for (; *s; s++) {
        const char *e = strchr(from, *s);

        if (e && *s) {
            *q++ = '\\';
            *q++ = to[e - from];
        } else if ((unsigned char)*s < ' ' || (unsigned char)*s > '~') {
            q += sprintf(q, "\\%03o", (unsigned char)*s);
        } else {
            *q++ = *s;
        }
    }
    *q = '\0';
    c_format(c, width, "", 's', format, sizeof format);
    pyprobe__d_say(r, format, text);
    free(text);
    return 0;
}

static int print_key_conversion(struct pyprobe__d_render *r, const struct conversion *c, int width,
                                const struct pyprobe__d_key *key, int size)
{
    char format[32];

    if (key->type == PYPROBE__D_KEY_STRING) {
        if (c->conv == 'S')
            return print_escaped(r, c, width, key->string);
        if (c->conv != 's')
            return strchr("diuoxXcpY", c->conv) ? -EINVAL : -ENOTSUP;
        c_format(c, width, "", 's', format, sizeof format);
        pyprobe__d_say(r, format, key->string);
        return 0;
    }
    if (c->conv == 'Y')
        return print_time(r, c, width, key->integer);
    /* A key narrower than 64 bits is printed at its size (pfprint_sint/uint). */
    if (size == 4)
        return print_integer(r, c, width, is_signed_conv(c->conv) ? (int64_t)(int32_t)key->integer
                                                                  : (int64_t)(uint32_t)key->integer, false);
    return print_integer(r, c, width, key->integer, false);
}

/* The aggregation's value under a %@ conversion (pfprint_dint, _average,
 * _quantize, _lquantize); a count is unsigned (dt_printf_validate). */
static int print_agg_conversion(struct pyprobe__d_render *r, const struct conversion *c, int width, size_t agg,
                                const struct agg_entry *e)
{
    const struct pyprobe__d_plan_aggregation *a = plan_agg(r, agg);
    uint64_t normal = r->aggs[agg].normal;

    switch (a->fn) {
    case PYPROBE__D_QUANTIZE:
        print_quantize(r, e->bins, normal);
        return 0;
    case PYPROBE__D_LQUANTIZE:
        print_lquantize(r, a, e->bins, normal);
        return 0;
    case PYPROBE__D_AVG:
        return print_integer(r, c, width, e->count ? (int64_t)((uint64_t)e->value / normal / (uint64_t)e->count) : 0,
                             false);
    default:
        if (c->conv == 'i')
            return print_integer(r, c, width, e->value / (int64_t)normal, false);
        return print_integer(r, c, width, (int64_t)((uint64_t)e->value / normal), a->fn == PYPROBE__D_COUNT);
    }
}

/* One row: aggs[0] and entries[0] give the keys; a %@ conversion takes
 * the next aggregation's value, the last one again past the end
 * (dt_printf_format). */
static int print_formatted(struct pyprobe__d_render *r, const struct conversion *convs, size_t nconvs,
                           const size_t *aggs, const struct agg_entry *const *entries, size_t naggs)
{
    const struct pyprobe__d_plan_aggregation *keyed = plan_agg(r, aggs[0]);
    const struct agg_entry *keys = entries[0];
    size_t next_key = 0, current = 0;

    for (size_t i = 0; i < nconvs; i++) {
        struct conversion local = convs[i], *c = &local;
        int rc;

        pyprobe__d_write(r, c->prefix, c->prefix_length);
        if (!c->conv)
            continue;
        if (c->conv == '%') {
            pyprobe__d_say(r, "%%");
            continue;
        }
        /* A '*' width or precision is the next key (dt_printf_getint). */
        for (int star = 0; star < 2; star++) {
            if (!(star ? c->precision_star : c->width_star))
                continue;
            if (next_key >= keys->key_count || keys->keys[next_key].type != PYPROBE__D_KEY_INT)
                return -EINVAL;
            *(star ? &c->precision : &c->width) = (int)keys->keys[next_key++].integer;
        }
        if (c->agg) {
            rc = print_agg_conversion(r, c, c->width, aggs[current], entries[current]);
            if (current + 1 < naggs)
                current++;
        } else if (next_key < keys->key_count) {
            rc = print_key_conversion(r, c, c->width, &keys->keys[next_key],
                                      next_key < keyed->column_count ? keyed->columns[next_key].size : 8);
            next_key++;
        } else {
            rc = -EINVAL;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- one aggregation ---- */

static void print_default_row(struct pyprobe__d_render *r, const size_t *aggs, const struct agg_entry *const *entries,
                              size_t naggs)
{
    print_keys(r, aggs[0], entries[0]);
    for (size_t i = 0; i < naggs; i++)
        print_value(r, aggs[i], entries[i]);
    pyprobe__d_say(r, "\n");
}

static int print_rows(struct pyprobe__d_render *r, const struct conversion *convs, size_t nconvs, const size_t *aggs,
                      const struct agg_entry *const *entries, size_t naggs)
{
    if (!convs) {
        print_default_row(r, aggs, entries, naggs);
        return 0;
    }
    return print_formatted(r, convs, nconvs, aggs, entries, naggs);
}

static int print_one(struct pyprobe__d_render *r, const struct conversion *convs, size_t nconvs, size_t agg,
                     const struct pyprobe__d_aggregation *data)
{
    struct agg_list now;
    int rc = pyprobe__d_agg_current(r, agg, data, &now);

    if (rc != 0)
        return rc;
    pyprobe__d_agg_sort(r, agg, &now, ORDER_DEFAULT);
    for (size_t i = 0; rc == 0 && i < now.count; i++) {
        const struct agg_entry *entry = &now.entries[i];

        rc = print_rows(r, convs, nconvs, &agg, &entry, 1);
    }
    pyprobe__d_agg_list_clear(&now);
    return rc;
}

/* ---- several aggregations in one printa(): dtrace_aggregate_walk_joined ---- */

struct bundle {
    const struct agg_entry **values; /* per aggregation, in printa()'s order */
    const struct agg_entry *key;
};

struct joined {
    const struct pyprobe__d_render *r;
    const size_t *aggs;
    size_t naggs, sortpos;
    struct agg_list *lists;     /* each aggregation's entries now */
    struct agg_list zeros;      /* stand-ins where one has no entry for a key */
};

/* bundlecmp: the key first under aggsortkey, then each value from the
 * aggsortpos-th aggregation round, then the key. */
static int bundle_compare(const void *x, const void *y, void *context)
{
    const struct joined *j = context;
    const struct bundle *a = x, *b = y;
    int rc;

    if (j->r->plan->output.aggsortkey && (rc = pyprobe__d_agg_keycmp(j->r, j->aggs[0], a->key, b->key)) != 0)
        return rc;
    for (size_t i = 0; i < j->naggs; i++) {
        size_t k = (i + j->sortpos) % j->naggs;

        if ((rc = pyprobe__d_agg_valcmp(j->r, j->aggs[k], a->values[k], b->values[k])) != 0)
            return rc;
    }
    return j->r->plan->output.aggsortkey ? 0 : pyprobe__d_agg_keycmp(j->r, j->aggs[0], a->key, b->key);
}

static const struct agg_entry *entry_for(struct joined *j, size_t k, const struct agg_entry *key, int *rc)
{
    struct agg_list *list = &j->lists[k];

    for (size_t i = 0; i < list->count; i++)
        if (pyprobe__d_agg_keycmp(j->r, j->aggs[0], &list->entries[i], key) == 0)
            return &list->entries[i];
    /* Missing: a zero value of its aggregation's kind. */
    *rc = pyprobe__d_agg_zero(plan_agg(j->r, j->aggs[k]), key, &j->zeros.entries[j->zeros.count]);
    return *rc ? NULL : &j->zeros.entries[j->zeros.count++];
}

static bool seen(const struct joined *j, const struct bundle *bundles, size_t count, const struct agg_entry *key)
{
    for (size_t i = 0; i < count; i++)
        if (pyprobe__d_agg_keycmp(j->r, j->aggs[0], bundles[i].key, key) == 0)
            return true;
    return false;
}

static int make_bundles(struct joined *j, struct bundle **out, size_t *count)
{
    size_t total = 0;
    int rc = 0;

    for (size_t k = 0; k < j->naggs; k++)
        total += j->lists[k].count;
    *out = calloc(total ? total : 1, sizeof **out);
    j->zeros.entries = calloc(total * j->naggs + 1, sizeof *j->zeros.entries);
    if (!*out || !j->zeros.entries)
        return -ENOMEM;
    for (size_t k = 0; rc == 0 && k < j->naggs; k++) {
        for (size_t i = 0; rc == 0 && i < j->lists[k].count; i++) {
            const struct agg_entry *key = &j->lists[k].entries[i];
            struct bundle *b = &(*out)[*count];

            if (seen(j, *out, *count, key))
                continue;
            b->key = key;
            b->values = calloc(j->naggs, sizeof *b->values);
            if (!b->values)
                return -ENOMEM;
            (*count)++;
            for (size_t m = 0; rc == 0 && m < j->naggs; m++)
                b->values[m] = entry_for(j, m, key, &rc);
        }
    }
    return rc;
}

static int print_joined(struct pyprobe__d_render *r, const struct conversion *convs, size_t nconvs, const size_t *aggs,
                        size_t naggs, const struct pyprobe__d_aggregation *const *data)
{
    struct joined j = {.r = r, .aggs = aggs, .naggs = naggs};
    struct bundle *bundles = NULL;
    size_t count = 0;
    int rc = 0;

    j.sortpos = r->plan->output.aggsortpos > 0 && (size_t)r->plan->output.aggsortpos < naggs
                    ? (size_t)r->plan->output.aggsortpos : 0;
    j.lists = calloc(naggs, sizeof *j.lists);
    if (!j.lists)
        return -ENOMEM;
    for (size_t k = 0; rc == 0 && k < naggs; k++)
        rc = pyprobe__d_agg_current(r, aggs[k], data ? data[k] : NULL, &j.lists[k]);
    if (rc == 0)
        rc = make_bundles(&j, &bundles, &count);
    if (rc == 0 && count > 1)
        qsort_r(bundles, count, sizeof *bundles, bundle_compare, &j);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        /* The row's keys come from the first aggregation's entry (a
         * stand-in has the same keys). */
        const struct agg_entry *row[naggs];

        for (size_t k = 0; k < naggs; k++)
            row[k] = bundles[i].values[k];
        rc = print_rows(r, convs, nconvs, aggs, row, naggs);
    }
    for (size_t i = 0; i < count; i++)
        free(bundles[i].values);
    free(bundles);
    pyprobe__d_agg_list_clear(&j.zeros);
    for (size_t k = 0; k < naggs; k++)
        pyprobe__d_agg_list_clear(&j.lists[k]);
    free(j.lists);
    return rc;
}

/* ---- printa() and the end ---- */

int pyprobe__d_agg_printa(struct pyprobe__d_render *r, const char *format, const size_t *aggs, size_t count,
                          const struct pyprobe__d_aggregation *const *data)
{
    struct conversion *convs = NULL;
    size_t nconvs = 0;
    int rc = 0;

    if (count == 0)
        return -EINVAL;
    for (size_t i = 0; i < count; i++)
        if (aggs[i] >= r->plan->aggregation_count)
            return -EINVAL;
    if (format && (rc = parse_format(format, &convs, &nconvs)) != 0)
        return rc;
    /* printa() without a format starts with a blank line. */
    if (!format)
        pyprobe__d_say(r, "\n");
    if (count == 1)
        rc = print_one(r, convs, nconvs, aggs[0], data ? data[0] : NULL);
    else
        rc = print_joined(r, convs, nconvs, aggs, count, data);
    for (size_t i = 0; i < count; i++)
        r->aggs[aggs[i]].printed = true;
    free(convs);
    return rc ? rc : r->error;
}

/* dtrace_aggregate_print: every aggregation printa() never printed, in
 * the order of their variables (reversed by aggsortrev, as
 * dt_aggregate_varcmp is). */
int pyprobe__d_agg_dump(struct pyprobe__d_render *r, const struct pyprobe__d_action *exit_action,
                        const struct pyprobe__d_aggregation *const *data)
{
    size_t n = r->plan->aggregation_count;

    for (size_t k = 0; k < n; k++) {
        size_t agg = r->plan->output.aggsortrev ? n - 1 - k : k;
        const struct pyprobe__d_aggregation *mine = NULL;
        int rc;

        if (r->aggs[agg].printed)
            continue;
        for (size_t i = 0; data && i < exit_action->aggregation_count; i++)
            if (exit_action->aggregations[i] == agg)
                mine = data[i];
        rc = print_one(r, NULL, 0, agg, mine);
        if (rc != 0)
            return rc;
    }
    return 0;
}
