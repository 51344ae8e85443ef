/*
 * d_describe.c - probe descriptions: provider:module:function:name, fields
 * filled from the right (BEGIN is :::BEGIN), their macros expanded, and
 * their kind: USDT, BEGIN/END, tick-N/profile-N, syscall, pid, proc.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "d_builtins.h"

#define FIELDS 4

static _Noreturn void fail_at(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_description_impl *d,
                              const char *message, const char *detail)
{
    pyprobe__d_fail(ctx, d->public.file, d->public.line, d->public.column, "probe description %s: %s%s",
                    d->public.text, message, detail);
}

static void split(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *d)
{
    const char *text = d->public.text, *parts[FIELDS];
    size_t lengths[FIELDS], count = 0;

    for (const char *p = text;; p++) {
        const char *colon = strchr(p, ':');
        size_t length = colon ? (size_t)(colon - p) : strlen(p);

        if (count == FIELDS)
            fail_at(ctx, d, "more than four fields (provider:module:function:name)", "");
        parts[count] = p;
        lengths[count++] = length;
        if (!colon)
            break;
        p = colon;
    }
    for (size_t i = 0; i < FIELDS; i++) {
        size_t from_right = FIELDS - 1 - i;

        d->fields[i] = from_right < count
                           ? pyprobe__d_strndup(ctx, parts[count - 1 - from_right], lengths[count - 1 - from_right])
                           : "";
    }
}

/* ---- tick-N and profile-N ---- */

static const struct {
    const char *suffix;
    int64_t ns;             /* 0: a rate in hz */
} units[] = {
    {"ns", 1}, {"nsec", 1}, {"us", 1000}, {"usec", 1000}, {"ms", 1000000}, {"msec", 1000000},
    {"s", 1000000000}, {"sec", 1000000000}, {"m", 60000000000}, {"min", 60000000000},
    {"h", 3600000000000}, {"hour", 3600000000000}, {"d", 86400000000000}, {"day", 86400000000000},
    {"hz", 0}, {"", 0},
};

/* "tick-" or "profile-" then N[unit]; false when the name is not one. */
static bool timer(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *d, const char *prefix)
{
    const char *name = d->fields[3], *p = name + strlen(prefix);
    int64_t n = 0;

    if (strncmp(name, prefix, strlen(prefix)) != 0 || !isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (INT64_MAX - 9) / 10)
            fail_at(ctx, d, "the number is too large", "");
        n = n * 10 + (*p - '0');
    }
    if (n == 0)
        fail_at(ctx, d, "the period or rate must not be 0", "");
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(units[i].suffix, p) != 0)
            continue;
        if (units[i].ns && n > INT64_MAX / units[i].ns)
            fail_at(ctx, d, "the period is too long", "");
        d->public.period_ns = units[i].ns ? n * units[i].ns : 0;
        d->public.rate_hz = units[i].ns ? 0 : n;
        return true;
    }
    fail_at(ctx, d, "unknown time unit ", p);
}

/* ---- kinds ---- */

static bool is_entry_or_return(const char *name)
{
    return strcmp(name, "entry") == 0 || strcmp(name, "return") == 0;
}

static bool empty(const char *field)
{
    return field[0] == '\0';
}

/* pid1234 or pid$target: the pid provider. */
static bool is_pid_provider(const char *provider)
{
    const char *rest = provider + 3;

    if (strncmp(provider, "pid", 3) != 0 || !*rest)
        return false;
    if (strcmp(rest, "$target") == 0)
        return true;
    for (; *rest; rest++)
        if (!isdigit((unsigned char)*rest))
            return false;
    return true;
}

static enum pyprobe__d_probe_kind dtrace_kind(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *d)
{
    const char *name = d->fields[3];

    if (!empty(d->fields[1]) || !empty(d->fields[2]))
        fail_at(ctx, d, "the dtrace provider's probes have no module or function", "");
    if (strcmp(name, "BEGIN") == 0)
        return PYPROBE__D_PROBE_BEGIN;
    if (strcmp(name, "END") == 0)
        return PYPROBE__D_PROBE_END;
    if (strcmp(name, "ERROR") == 0)
        fail_at(ctx, d, "dtrace:::ERROR is not supported: bpftrace reports its own errors", "");
    fail_at(ctx, d, "the dtrace provider has BEGIN, END and ERROR only", "");
}

static enum pyprobe__d_probe_kind named_kind(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *d)
{
    const char *provider = d->fields[0], *name = d->fields[3], *why;

    if (strcmp(provider, "syscall") == 0) {
        if (!is_entry_or_return(name))
            fail_at(ctx, d, "a syscall probe is named entry or return", "");
        return PYPROBE__D_PROBE_SYSCALL;
    }
    if (is_pid_provider(provider)) {
        if (!is_entry_or_return(name))
            fail_at(ctx, d, "pid probes are supported at entry and return only, not at offsets", "");
        if (empty(d->fields[2]))
            fail_at(ctx, d, "a pid probe needs a function", "");
        return PYPROBE__D_PROBE_PID;
    }
    if (strcmp(provider, "proc") == 0) {
        if (strcmp(name, "exec-success") != 0 && strcmp(name, "exit") != 0)
            fail_at(ctx, d, "the proc provider is supported for exec-success and exit only", "");
        return PYPROBE__D_PROBE_PROC;
    }
    if ((why = pyprobe__d_refused_provider(provider)) != NULL)
        fail_at(ctx, d, "the provider is not supported: ", why);
    return PYPROBE__D_PROBE_USDT;
}

static void classify(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *d)
{
    struct pyprobe__d_description *pub = &d->public;
    const char *provider = d->fields[0];
    bool plain = empty(d->fields[1]) && empty(d->fields[2]);

    pub->period_ns = pub->rate_hz = 0;
    if (strcmp(provider, "dtrace") == 0 ||
        (empty(provider) && plain && (!strcmp(d->fields[3], "BEGIN") || !strcmp(d->fields[3], "END"))))
        pub->kind = dtrace_kind(ctx, d);
    else if ((empty(provider) || !strcmp(provider, "profile")) && plain && timer(ctx, d, "tick-"))
        pub->kind = PYPROBE__D_PROBE_TICK;
    else if ((empty(provider) || !strcmp(provider, "profile")) && plain && timer(ctx, d, "profile-"))
        pub->kind = PYPROBE__D_PROBE_PROFILE;
    else if (strcmp(provider, "profile") == 0)
        fail_at(ctx, d, "the profile provider has tick-N and profile-N probes", "");
    else
        pub->kind = named_kind(ctx, d);
}

static void publish(struct pyprobe__d_description_impl *d, const char *const fields[FIELDS])
{
    d->public.provider = fields[0];
    d->public.module = fields[1];
    d->public.function = fields[2];
    d->public.name = fields[3];
}

void pyprobe__d_describe(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *d)
{
    split(ctx, d);
    publish(d, d->fields);
    classify(ctx, d);
}

/* ---- macros in descriptions ---- */

/* The text a macro stands for in a description, or NULL to keep it
 * ($target before the target is known). */
static const char *macro_text(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_description_impl *d,
                              const char *name, const struct pyprobe__d_translate_options *options)
{
    const struct pyprobe__d_macros *m = &options->macros;
    char *end;
    unsigned long n;

    if (strcmp(name, "target") == 0)
        return m->target_pid > 0 ? pyprobe__d_format(ctx, "%d", m->target_pid) : NULL;
    if (strcmp(name, "pid") == 0)
        return pyprobe__d_format(ctx, "%d", m->dtrace_pid > 0 ? m->dtrace_pid : (int)getpid());
    n = strtoul(name, &end, 10);
    if (!isdigit((unsigned char)name[0]) || *end)
        fail_at(ctx, d, "unknown macro variable $", name);
    if (n == 0)
        return "pyprobe";
    if (n <= m->count && m->args[n - 1])
        return m->args[n - 1];
    if (options->defaultargs)
        return "";
    fail_at(ctx, d, "no macro argument for $", name);
}

static const char *expand(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_description_impl *d, const char *field,
                          const struct pyprobe__d_translate_options *options)
{
    struct pyprobe__d_buf out = {0};
    const char *dollar;

    if (!strchr(field, '$'))
        return field;
    while ((dollar = strchr(field, '$')) != NULL) {
        const char *name = dollar + 1 + (dollar[1] == '$'), *end = name, *text;

        while (isalnum((unsigned char)*end) || *end == '_')
            end++;
        text = macro_text(ctx, d, pyprobe__d_strndup(ctx, name, (size_t)(end - name)), options);
        pyprobe__d_buf_add(ctx, &out, field, text ? (size_t)(dollar - field) : (size_t)(end - field));
        if (text)
            pyprobe__d_buf_str(ctx, &out, text);
        field = end;
    }
    pyprobe__d_buf_str(ctx, &out, field);
    return out.text;
}

void pyprobe__d_describe_bind(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *d,
                              const struct pyprobe__d_translate_options *options)
{
    const char *fields[FIELDS];
    struct pyprobe__d_description_impl expanded = *d;

    for (size_t i = 0; i < FIELDS; i++)
        fields[i] = options ? expand(ctx, d, d->fields[i], options) : d->fields[i];
    memcpy(expanded.fields, fields, sizeof fields);
    classify(ctx, &expanded);
    d->public = expanded.public;
    publish(d, fields);
}
