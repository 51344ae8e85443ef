/* A D script run from start to end (see d_session.h); the one place that
 * calls the D front end (d_front.h). */
#include "d_session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "d_fail.h"
#include "d_front.h"
#include "d_render.h"
#include "d_resolve.h"
#include "d_run.h"

/* bpftrace 0.17 keeps strings on the 512-byte BPF stack: 200 at most. */
enum { MAX_STRLEN = 200 };

/* ---- after translation ---- */

int pyprobe__d_trace_plan(const struct pyprobe__d_plan *plan, const struct pyprobe__d_trace *t, int *status,
                          char *message, size_t size)
{
    struct pyprobe__d_render *render = NULL;
    struct pyprobe__d_consumer *consumer = NULL;
    struct pyprobe__d_run_options run = {
        .bpftrace = t->bpftrace, .program = plan->program, .unsafe = t->unsafe, .quiet = plan->output.quiet,
        .strlen = t->strlen > MAX_STRLEN ? MAX_STRLEN : t->strlen, .perf_pages = t->perf_pages,
        .pid = t->pid_count == 1 && !t->child ? t->pids[0] : 0, .child = t->child, .watch = t->pids,
        .watch_count = t->pid_count, .interrupt_fd = t->interrupt_fd, .notice = t->notice,
        .notice_arg = t->notice_arg, .ready = t->ready, .ready_arg = t->ready_arg};
    int rc = pyprobe__d_render_new(t->out, plan, &render);

    for (size_t i = 0; i < plan->action_count; i++)
        run.attached_record |= plan->actions[i].kind == PYPROBE__D_ACTION_ATTACHED;
    /* No -x strsize: as long as the program's strings can be (d_run.h). */
    if (!run.strlen && strstr(plan->program, "str("))
        run.strlen = pyprobe__d_fit_strlen(&run, MAX_STRLEN);
    *status = 0;
    if (rc == 0)
        rc = pyprobe__d_consumer_new(plan, render, t->notice, t->notice_arg, &consumer);
    if (rc != 0)
        snprintf(message, size, "out of memory");
    else
        rc = pyprobe__d_run(&run, consumer, render, status, message, size);
    pyprobe__d_consumer_free(consumer);
    pyprobe__d_render_free(render);
    return rc;
}

/* bufsize=N[kmg] (dtrace's principal buffer per CPU) as bpftrace's perf
 * buffer: pages, a power of 2 (0 when not given or malformed). */
static unsigned bufsize_pages(const char *value)
{
    char *end;
    unsigned long long bytes = value ? strtoull(value, &end, 10) : 0;
    unsigned pages = 8;

    if (!value || end == value)
        return 0;
    switch (*end | 0x20) {
    case 'k': bytes <<= 10; break;
    case 'm': bytes <<= 20; break;
    case 'g': bytes <<= 30; break;
    default: break;
    }
    while ((unsigned long long)pages * 4096 < bytes && pages < (1u << 20))
        pages *= 2;
    return pages;
}

/* ---- from the sources ---- */

struct state {
    const struct pyprobe__d_session *s;
    unsigned perf_pages;        /* bufsize, from -x or a pragma */
    struct pyprobe__d_program *program;
    size_t *described;          /* descriptions after each source */
    struct pyprobe__d_translate_options options;
    struct pyprobe__d_child child;
    bool have_child;
    size_t *spec_description;   /* per resolver spec: its description */
    size_t spec_count;
    struct pyprobe__d_matches matches;
    struct pyprobe__d_plan *plan;
    char *message;
    size_t size;
};

/* The -n text as dtrace shows it in messages: up to its first {, / or ;. */
static void crop(const char *text, size_t length, char *out, size_t size)
{
    size_t n = strcspn(text, "{/;");

    snprintf(out, size, "%.*s", (int)(n < length ? n : length), text);
}

static const struct pyprobe__d_source *only_n(const struct pyprobe__d_session *s)
{
    const struct pyprobe__d_source *found = NULL;

    for (size_t i = 0; i < s->source_count; i++) {
        if (strcmp(s->sources[i].file, "-n") != 0)
            continue;
        if (found)
            return NULL;
        found = &s->sources[i];
    }
    return found;
}

/* dtrace's words: "failed to compile script x.d: line 7: ..." for a
 * script, "invalid probe specifier TEXT: ..." for -n. */
static int compile_error(struct state *st, const struct pyprobe__d_error *e, int rc)
{
    const struct pyprobe__d_source *n = only_n(st->s);

    if (rc == -ENOMEM)
        return pyprobe__d_fail(st->message, st->size, rc, "out of memory");
    if (strcmp(e->file, "-n") == 0)
        return pyprobe__d_fail(st->message, st->size, rc, "invalid probe specifier %.*s: %s", n ? (int)n->length : 2, n ? n->text : "-n",
                   e->message);
    if (e->line > 0)
        return pyprobe__d_fail(st->message, st->size, rc, "failed to compile script %s: line %d: %s", e->file, e->line, e->message);
    if (e->file[0])
        return pyprobe__d_fail(st->message, st->size, rc, "failed to compile script %s: %s", e->file, e->message);
    return pyprobe__d_fail(st->message, st->size, rc, "%s", e->message);
}

static int parse(struct state *st)
{
    const struct pyprobe__d_session *s = st->s;
    struct pyprobe__d_error e = {0};
    int rc = 0;

    st->described = calloc(s->source_count + 1, sizeof *st->described);
    if (!st->described)
        return pyprobe__d_fail(st->message, st->size, -ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < s->source_count; i++) {
        const struct pyprobe__d_source *src = &s->sources[i];

        rc = i == 0 ? pyprobe__d_parse(src->file, src->text, src->length, &st->program, &e)
                    : pyprobe__d_program_append(st->program, src->file, src->text, src->length, &e);
        if (rc != 0 && strcmp(e.file, "-n") == 0) {
            /* this -n's own text in the message, whichever -n it is */
            return pyprobe__d_fail(st->message, st->size, rc, "invalid probe specifier %.*s: %s", (int)src->length, src->text, e.message);
        }
        if (rc != 0)
            return compile_error(st, &e, rc);
        st->described[i] = pyprobe__d_description_count(st->program);
    }
    return 0;
}

/* -x (and -q -F -Z -w) first, then the script's pragmas, which win. */
static int apply_options(struct state *st)
{
    const struct pyprobe__d_session *s = st->s;
    struct pyprobe__d_error e = {0};
    int rc;

    for (size_t i = 0; i < s->option_count; i++) {
        if (strcmp(s->options[i].name, "bufsize") == 0)
            st->perf_pages = bufsize_pages(s->options[i].value);
        rc = pyprobe__d_option_set(&st->options, s->options[i].name, s->options[i].value, &e);
        if (rc < 0)
            return pyprobe__d_fail(st->message, st->size, rc, "failed to set -x %s: %s", s->options[i].name, e.message);
        if (rc > 0 && s->notice)
            s->notice(s->notice_arg, e.message);
    }
    for (size_t i = 0; i < pyprobe__d_pragma_count(st->program); i++) {
        const struct pyprobe__d_pragma *p = pyprobe__d_pragma_at(st->program, i);

        if (strcmp(p->name, "bufsize") == 0)
            st->perf_pages = bufsize_pages(p->value);
        rc = pyprobe__d_option_set(&st->options, p->name, p->value, &e);
        if (rc < 0)
            return compile_error(st, &e, rc);
        if (rc > 0 && s->notice)
            s->notice(s->notice_arg, e.message);
    }
    return 0;
}

static int start_command(struct state *st)
{
    const struct pyprobe__d_session *s = st->s;
    struct pyprobe__d_error e = {0};
    int rc;

    if (s->command) {
        rc = pyprobe__d_child_spawn(s->command, &st->child, st->message, st->size);
        if (rc != 0)
            return rc;
        st->have_child = true;
    }
    st->options.macros = (struct pyprobe__d_macros){
        .args = s->macro_args, .count = s->macro_count, .dtrace_pid = (int)getpid(),
        .target_pid = st->have_child ? st->child.pid : s->pid_count ? s->pids[0] : 0};
    rc = pyprobe__d_program_bind(st->program, &st->options, &e);
    return rc ? compile_error(st, &e, rc) : 0;
}

static void description_words(const struct pyprobe__d_description *d, char *out, size_t size)
{
    snprintf(out, size, "%s:%s:%s:%s", d->provider, d->module, d->function, d->name);
}

/* The USDT and pid descriptions' probes; one that matches none is an error
 * unless -Z (zdefs), as in dtrace. */
static int resolve(struct state *st)
{
    const struct pyprobe__d_session *s = st->s;
    size_t n = pyprobe__d_description_count(st->program), count = 0;
    struct pyprobe__d_probe_spec *specs = calloc(n + 1, sizeof *specs);
    struct pyprobe__d_targets targets = {.pids = s->pids, .pid_count = s->pid_count,
                                         .child = st->have_child ? &st->child : NULL};
    int rc;

    st->spec_description = calloc(n + 1, sizeof *st->spec_description);
    if (!specs || !st->spec_description) {
        free(specs);
        return pyprobe__d_fail(st->message, st->size, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const struct pyprobe__d_description *d = pyprobe__d_description_at(st->program, i);

        if (d->kind != PYPROBE__D_PROBE_USDT && d->kind != PYPROBE__D_PROBE_PID)
            continue;
        st->spec_description[count] = i;
        specs[count++] = (struct pyprobe__d_probe_spec){d->provider, d->module, d->function, d->name,
                                                        d->kind == PYPROBE__D_PROBE_PID};
    }
    st->spec_count = count;
    rc = pyprobe__d_resolve(specs, count, &targets, &st->matches, st->message, st->size);
    free(specs);
    for (size_t i = 0; rc == 0 && !st->options.zdefs && i < count; i++) {
        const struct pyprobe__d_description *d = pyprobe__d_description_at(st->program, st->spec_description[i]);
        struct pyprobe__d_error e = {.line = d->line, .column = d->column};
        char words[200];

        if (st->matches.per_spec[i] > 0)
            continue;
        description_words(d, words, sizeof words);
        snprintf(e.file, sizeof e.file, "%s", d->file);
        snprintf(e.message, sizeof e.message, "probe description %.200s does not match any probes", words);
        rc = compile_error(st, &e, -ENOENT);
    }
    return rc;
}

static int translate(struct state *st)
{
    const struct pyprobe__d_matches *m = &st->matches;
    struct pyprobe__d_resolved *resolved = calloc(m->count + 1, sizeof *resolved);
    struct pyprobe__d_error e = {0};
    int rc;

    if (!resolved)
        return pyprobe__d_fail(st->message, st->size, -ENOMEM, "out of memory");
    for (size_t i = 0; i < m->count; i++)
        resolved[i] = (struct pyprobe__d_resolved){
            .description = st->spec_description[m->items[i].spec], .path = m->items[i].path,
            .provider = m->items[i].provider, .name = m->items[i].name, .function = m->items[i].function,
            .id = m->items[i].id, .pid = m->items[i].pid};
    rc = pyprobe__d_translate(st->program, resolved, m->count, &st->options, &st->plan, &e);
    free(resolved);
    return rc ? compile_error(st, &e, rc) : 0;
}

/* How many probes description `d` matched: its distinct resolved probes,
 * or 1 for BEGIN, END, tick-... (one probe each). */
static size_t probes_of(const struct state *st, size_t d, size_t spec_count)
{
    for (size_t k = 0; k < spec_count; k++)
        if (st->spec_description[k] == d)
            return st->matches.per_spec[k];
    return 1;
}

/* dtrace's "script 'x.d' matched 3 probes", once per -s and -n. */
static void matched(struct state *st, size_t spec_count)
{
    const struct pyprobe__d_session *s = st->s;
    char words[512], name[256];

    for (size_t i = 0, first = 0; s->notice && i < s->source_count; first = st->described[i], i++) {
        const struct pyprobe__d_source *src = &s->sources[i];
        bool n = strcmp(src->file, "-n") == 0;
        size_t probes = 0;

        for (size_t d = first; d < st->described[i]; d++)
            probes += probes_of(st, d, spec_count);
        if (n)
            crop(src->text, src->length, name, sizeof name);
        snprintf(words, sizeof words, "%s '%s' matched %zu probe%s", n ? "description" : "script",
                 n ? name : src->file, probes, probes == 1 ? "" : "s");
        s->notice(s->notice_arg, words);
    }
}

int pyprobe__d_session_run(const struct pyprobe__d_session *s, int *status, char *message, size_t size)
{
    struct state st = {.s = s, .message = message, .size = size};
    int rc;

    *status = 0;
    message[0] = '\0';
    rc = s->source_count ? parse(&st) : pyprobe__d_fail(st.message, st.size, -EINVAL, "no program: give -s FILE or -n PROGRAM");
    if (rc == 0)
        rc = apply_options(&st);
    if (rc == 0)
        rc = start_command(&st);
    if (rc == 0)
        rc = resolve(&st);
    if (rc == 0)
        rc = translate(&st);
    if (rc == 0 && s->program_out)
        fprintf(s->program_out, "%s", st.plan->program);
    if (rc == 0) {
        struct pyprobe__d_trace t = {.out = s->out, .bpftrace = s->bpftrace, .pids = s->pids,
                                     .pid_count = s->pid_count, .child = st.have_child ? &st.child : NULL,
                                     .interrupt_fd = s->interrupt_fd, .unsafe = st.options.destructive != 0,
                                     .strlen = st.options.strsize > 0 ? (unsigned)st.options.strsize : 0,
                                     .perf_pages = st.perf_pages,
                                     .notice = s->notice, .notice_arg = s->notice_arg};

        if (!st.plan->output.quiet)
            matched(&st, st.spec_count);
        rc = pyprobe__d_trace_plan(st.plan, &t, status, message, size);
    }
    if (st.have_child) {
        pyprobe__d_child_cancel(&st.child);
        pyprobe__d_child_free(&st.child);
    }
    pyprobe__d_plan_free(st.plan);
    pyprobe__d_matches_free(&st.matches);
    pyprobe__d_program_free(st.program);
    free(st.described);
    free(st.spec_description);
    return rc;
}
