/*
 * d_translate.c - a checked D program and its resolved probes in, a
 * bpftrace 0.17 program and its plan (d_data.h) out.
 *
 * Every clause runs on one or more targets (a probe, as bpftrace attaches
 * it, with a guard such as `pid == 1234` and the values of D's probe
 * builtins there). Targets that share a bpftrace probe become one block,
 * their clauses in program order, each inside `if (guard && predicate)`:
 * D runs a probe's clauses in program order and bpftrace gives no order
 * between blocks on one probe (the kernel runs uprobe consumers in
 * reverse), and this-> variables live across a probe's clauses as D's do.
 *
 * Output beyond printf (printa, trunc, clear, normalize, denormalize, the
 * end, and the default CPU/ID/FUNCTION:NAME prefix) goes through control
 * records and bpftrace's print() of the maps, for pyprobe to print as
 * DTrace does.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "d_builtins.h"
#include "d_emit.h"
#include "d_syscalls.h"

/* More syscalls than this on one description share one target, their
 * names in @pp_sysname (one copy of the clause per syscall would make the
 * BPF program too large). */
#define MAX_SYSCALL_TARGETS 16

struct block {
    const char *attach;
    struct pyprobe__d_vec targets;      /* struct pyprobe__d_target * */
    bool has_exit;
    struct pyprobe__d_vec this_vars;    /* struct pyprobe__d_symbol * used by its clauses */
};

struct translation {
    struct pyprobe__d_emitter e;
    struct pyprobe__d_program *program;
    struct pyprobe__d_arena *plan_arena;
    const struct pyprobe__d_resolved *resolved;
    size_t resolved_count;
    struct pyprobe__d_vec targets;      /* all, in clause order */
    struct pyprobe__d_vec blocks;       /* struct block * */
    struct pyprobe__d_vec sysnames;     /* struct pyprobe__d_syscall * for @pp_sysname */
};

/* ---- the plan's memory ---- */

static void *plan_alloc(struct translation *t, size_t size)
{
    struct pyprobe__d_arena *saved = t->e.ctx->arena;
    void *memory;

    t->e.ctx->arena = t->plan_arena;
    memory = pyprobe__d_alloc(t->e.ctx, size);
    t->e.ctx->arena = saved;
    return memory;
}

static const char *plan_strdup(struct translation *t, const char *text)
{
    char *copy;

    if (!text)
        return NULL;
    copy = plan_alloc(t, strlen(text) + 1);
    memcpy(copy, text, strlen(text));
    return copy;
}

/* ---- targets ---- */

static struct pyprobe__d_target *new_target(struct translation *t, const struct pyprobe__d_clause *clause,
                                            const struct pyprobe__d_description *d, const char *attach)
{
    struct pyprobe__d_target *target = pyprobe__d_alloc(t->e.ctx, sizeof *target);

    target->clause = clause;
    target->kind = d->kind;
    target->attach = attach;
    target->probeprov = d->provider;
    target->probemod = d->module;
    target->probefunc = d->function;
    target->probename = d->name;
    target->is_return = strcmp(d->name, "return") == 0;
    pyprobe__d_push(t->e.ctx, &t->targets, target);
    return target;
}

static _Noreturn void fail_description(struct translation *t, const struct pyprobe__d_description *d,
                                       const char *message, const char *detail)
{
    pyprobe__d_fail(t->e.ctx, d->file, d->line, d->column, "probe description %s: %s%s", d->text, message, detail);
}

/* bpftrace's probe syntax ends a path at ':' or white space. */
static const char *probe_path(struct translation *t, const struct pyprobe__d_description *d, const char *path)
{
    if (!path || !*path)
        fail_description(t, d, "the resolved probe has no file", "");
    for (const char *p = path; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("/._+-@~", *p)))
            fail_description(t, d, "bpftrace cannot name a probe in the file ", path);
    return path;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* A note's probe name in D form: function__entry is function-entry. */
static const char *d_form(struct translation *t, const char *name)
{
    char *out = pyprobe__d_strdup(t->e.ctx, name), *w = out;

    for (const char *r = name; *r; r++, w++) {
        *w = *r;
        if (r[0] == '_' && r[1] == '_')
            *w = '-', r++;
    }
    *w = '\0';
    return out;
}

static const char *pid_guard(struct translation *t, int pid)
{
    return pid > 0 ? pyprobe__d_format(t->e.ctx, "(int64)pid == %d", pid) : NULL;
}

/* The resolved entries of description `index`, one per bpftrace probe:
 * several sites of one probe in one file are one uprobe for bpftrace. */
static bool same_probe(const struct pyprobe__d_resolved *a, const struct pyprobe__d_resolved *b)
{
    return a->pid == b->pid && !strcmp(a->path ? a->path : "", b->path ? b->path : "") &&
           !strcmp(a->provider ? a->provider : "", b->provider ? b->provider : "") &&
           !strcmp(a->name ? a->name : "", b->name ? b->name : "") &&
           !strcmp(a->function ? a->function : "", b->function ? b->function : "");
}

static bool seen_before(const struct translation *t, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (t->resolved[k].description == t->resolved[i].description && same_probe(&t->resolved[k], &t->resolved[i]))
            return true;
    return false;
}

static void usdt_target(struct translation *t, const struct pyprobe__d_clause *clause,
                        const struct pyprobe__d_description *d, const struct pyprobe__d_resolved *r)
{
    const char *path = probe_path(t, d, r->path);
    struct pyprobe__d_target *target;

    if (!r->provider || !r->name || !*r->provider || !*r->name)
        fail_description(t, d, "the resolved probe has no provider or name", "");
    for (const char *p = r->provider; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            fail_description(t, d, "bpftrace cannot name the provider ", r->provider);
    for (const char *p = r->name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            fail_description(t, d, "bpftrace cannot name the probe ", r->name);
    target = new_target(t, clause, d, pyprobe__d_format(t->e.ctx, "usdt:%s:%s:%s", path, r->provider, r->name));
    target->guard = pid_guard(t, r->pid);
    target->probeprov = r->pid > 0 ? pyprobe__d_format(t->e.ctx, "%s%d", r->provider, r->pid) : r->provider;
    target->probemod = base_name(path);
    target->probefunc = r->function ? r->function : "";
    target->probename = d_form(t, r->name);
    target->id = r->id;
    target->path = path;
    target->note_provider = r->provider;
}

static void pid_target(struct translation *t, const struct pyprobe__d_clause *clause,
                       const struct pyprobe__d_description *d, const struct pyprobe__d_resolved *r)
{
    const char *function = r->function && *r->function ? r->function : d->function;
    struct pyprobe__d_target *target;

    for (const char *p = function; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.*?$@", *p))
            fail_description(t, d, "bpftrace cannot name the function ", function);
    target = new_target(t, clause, d, pyprobe__d_format(t->e.ctx, "%s:%s:%s", strcmp(d->name, "return") ? "uprobe"
                                                                             : "uretprobe",
                                                         probe_path(t, d, r->path), function));
    target->guard = pid_guard(t, r->pid);
    target->probeprov = r->pid > 0 ? pyprobe__d_format(t->e.ctx, "pid%d", r->pid) : "pid";
    target->probemod = base_name(r->path);
    target->probefunc = function;
    target->id = r->id;
}

/* tick-N and profile-N: bpftrace counts periods in s, ms or us. */
static const char *timer_attach(struct translation *t, const struct pyprobe__d_description *d)
{
    const char *kind = d->kind == PYPROBE__D_PROBE_TICK ? "interval" : "profile";
    int64_t ns = d->period_ns;

    if (!ns)
        return pyprobe__d_format(t->e.ctx, "%s:hz:%lld", kind, (long long)d->rate_hz);
    if (ns % 1000000000 == 0)
        return pyprobe__d_format(t->e.ctx, "%s:s:%lld", kind, (long long)(ns / 1000000000));
    if (ns % 1000000 == 0)
        return pyprobe__d_format(t->e.ctx, "%s:ms:%lld", kind, (long long)(ns / 1000000));
    if (ns % 1000 == 0)
        return pyprobe__d_format(t->e.ctx, "%s:us:%lld", kind, (long long)(ns / 1000));
    fail_description(t, d, "bpftrace 0.17 times probes in whole microseconds at the finest", "");
}

/* syscall::NAME:entry|return on the raw_syscalls tracepoints, which see
 * every call by number: D's arguments are args->args[], its return value
 * args->ret, and the guard picks the calls the description names. */
static void syscall_targets(struct translation *t, const struct pyprobe__d_clause *clause,
                            const struct pyprobe__d_description *d)
{
    const char *attach = strcmp(d->name, "entry") == 0 ? "tracepoint:raw_syscalls:sys_enter"
                                                        : "tracepoint:raw_syscalls:sys_exit";
    struct pyprobe__d_vec matched = {0};
    struct pyprobe__d_buf guard = {0};
    struct pyprobe__d_target *target;

    for (size_t i = 0; i < pyprobe__d_syscall_count; i++)
        if (!*d->function || fnmatch(d->function, pyprobe__d_syscalls[i].name, 0) == 0)
            pyprobe__d_push(t->e.ctx, &matched, (void *)&pyprobe__d_syscalls[i]);
    if (matched.count == 0 && !t->e.options->zdefs)
        fail_description(t, d, "does not match any probes", "");
    for (size_t i = 0; i < matched.count && matched.count <= MAX_SYSCALL_TARGETS; i++) {
        const struct pyprobe__d_syscall *sc = matched.items[i];

        target = new_target(t, clause, d, attach);
        target->guard = pyprobe__d_format(t->e.ctx, "args->id == %d", sc->number);
        target->probefunc = sc->name;
    }
    if (matched.count <= MAX_SYSCALL_TARGETS)
        return;
    for (size_t i = 0; *d->function && i < matched.count; i++)
        pyprobe__d_buf_printf(t->e.ctx, &guard, "%sargs->id == %d", i ? " || " : "(",
                              ((const struct pyprobe__d_syscall *)matched.items[i])->number);
    if (guard.text)
        pyprobe__d_buf_str(t->e.ctx, &guard, ")");
    target = new_target(t, clause, d, attach);
    target->guard = guard.text;
    target->probefunc = NULL;
    target->probefunc_expr = "@pp_sysname[args->id]";
    for (size_t i = 0; i < matched.count; i++)
        pyprobe__d_push(t->e.ctx, &t->sysnames, matched.items[i]);
}

/* proc:::exec-success and proc:::exit on the scheduler's tracepoints
 * (sched_process_exit fires per thread: the guard keeps the process's). */
static void proc_target(struct translation *t, const struct pyprobe__d_clause *clause,
                        const struct pyprobe__d_description *d)
{
    bool exec = strcmp(d->name, "exec-success") == 0;
    struct pyprobe__d_target *target = new_target(t, clause, d, exec ? "tracepoint:sched:sched_process_exec"
                                                                     : "tracepoint:sched:sched_process_exit");

    target->guard = exec ? NULL : "(int64)pid == (int64)tid";
}

static const struct pyprobe__d_resolved *first_resolved(const struct translation *t, size_t index)
{
    for (size_t i = 0; i < t->resolved_count; i++)
        if (t->resolved[i].description == index)
            return &t->resolved[i];
    return NULL;
}

static void fixed_target(struct translation *t, const struct pyprobe__d_clause *clause,
                         const struct pyprobe__d_description *d, size_t index)
{
    const struct pyprobe__d_resolved *r = first_resolved(t, index);
    const char *attach = d->kind == PYPROBE__D_PROBE_BEGIN ? "BEGIN"
                         : d->kind == PYPROBE__D_PROBE_END ? "END"
                                                           : timer_attach(t, d);
    struct pyprobe__d_target *target = new_target(t, clause, d, attach);

    target->probeprov = d->kind == PYPROBE__D_PROBE_BEGIN || d->kind == PYPROBE__D_PROBE_END ? "dtrace" : "profile";
    target->id = r ? r->id : d->kind == PYPROBE__D_PROBE_BEGIN ? 1 : d->kind == PYPROBE__D_PROBE_END ? 2 : 0;
}

static void description_targets(struct translation *t, const struct pyprobe__d_clause *clause, size_t index)
{
    const struct pyprobe__d_description *d = pyprobe__d_description_at(t->program, index);
    size_t found = 0;

    switch (d->kind) {
    case PYPROBE__D_PROBE_USDT: case PYPROBE__D_PROBE_PID:
        for (size_t i = 0; i < t->resolved_count; i++) {
            if (t->resolved[i].description != index || seen_before(t, i))
                continue;
            found++;
            if (d->kind == PYPROBE__D_PROBE_USDT)
                usdt_target(t, clause, d, &t->resolved[i]);
            else
                pid_target(t, clause, d, &t->resolved[i]);
        }
        if (!found && !t->e.options->zdefs)
            fail_description(t, d, "does not match any probes", "");
        return;
    case PYPROBE__D_PROBE_SYSCALL: syscall_targets(t, clause, d); return;
    case PYPROBE__D_PROBE_PROC: proc_target(t, clause, d); return;
    default: fixed_target(t, clause, d, index); return;
    }
}

static void all_targets(struct translation *t)
{
    for (size_t i = 0; i < t->program->descriptions.count; i++) {
        const struct pyprobe__d_description *d = pyprobe__d_description_at(t->program, i);

        description_targets(t, t->program->clauses.items[d->clause], i);
    }
}

/* ---- which variables and aggregations the emitted clauses write ---- */

static void mark_written(struct pyprobe__d_node *n)
{
    if (!n)
        return;
    if ((n->kind == PYPROBE__D_N_ASSIGN || n->kind == PYPROBE__D_N_INCDEC) && n->a->symbol)
        n->a->symbol->written = true;
    for (size_t i = 0; i < n->arg_count; i++)
        mark_written(n->args[i]);
    mark_written(n->a);
    mark_written(n->b);
    mark_written(n->c);
}

static bool has_targets(const struct translation *t, const struct pyprobe__d_clause *clause)
{
    for (size_t i = 0; i < t->targets.count; i++)
        if (((const struct pyprobe__d_target *)t->targets.items[i])->clause == clause)
            return true;
    return false;
}

/* bpftrace refuses maps that are never assigned: a variable written only
 * in clauses that match no probe (-Z) reads as 0, and is never cleared. */
static void mark_emitted(struct translation *t)
{
    for (size_t i = 0; i < t->e.sema->symbols.count; i++)
        ((struct pyprobe__d_symbol *)t->e.sema->symbols.items[i])->written = false;
    for (size_t c = 0; c < t->program->clauses.count; c++) {
        struct pyprobe__d_clause *clause = t->program->clauses.items[c];

        if (!has_targets(t, clause))
            continue;
        for (size_t i = 0; i < clause->statements.count; i++)
            mark_written(clause->statements.items[i]);
    }
}

/* ---- blocks ---- */

static struct block *block_for(struct translation *t, const char *attach)
{
    struct block *b;

    for (size_t i = 0; i < t->blocks.count; i++)
        if (strcmp(((struct block *)t->blocks.items[i])->attach, attach) == 0)
            return t->blocks.items[i];
    b = pyprobe__d_alloc(t->e.ctx, sizeof *b);
    b->attach = attach;
    pyprobe__d_push(t->e.ctx, &t->blocks, b);
    return b;
}

/* Before emitting: what each this-> variable given a composite string
 * holds, in the order the blocks will emit their clauses. */
static void this_shapes(struct translation *t, const struct pyprobe__d_target *target)
{
    const struct pyprobe__d_clause *clause = target->clause;

    t->e.target = target;
    for (size_t i = 0; i < clause->statements.count; i++) {
        const struct pyprobe__d_node *n = clause->statements.items[i];

        if (n->kind == PYPROBE__D_N_ASSIGN && n->op == PYPROBE__D_OP_ASSIGN && n->a->kind == PYPROBE__D_N_THIS &&
            n->a->symbol->type.kind == PYPROBE__D_T_STRING)
            pyprobe__d_this_shape(&t->e, n);
    }
}

static void note_uses(struct translation *t, struct block *b, const struct pyprobe__d_node *n)
{
    if (!n)
        return;
    n = pyprobe__d_unmacro(n);
    if (n->kind == PYPROBE__D_N_THIS) {
        for (size_t i = 0; i < b->this_vars.count; i++)
            if (b->this_vars.items[i] == n->symbol)
                goto children;
        pyprobe__d_push(t->e.ctx, &b->this_vars, n->symbol);
    }
    if (n->kind == PYPROBE__D_N_CALL && n->builtin && n->builtin->id == PYPROBE__D_F_EXIT)
        b->has_exit = true;
children:
    for (size_t i = 0; i < n->arg_count; i++)
        note_uses(t, b, n->args[i]);
    note_uses(t, b, n->a);
    note_uses(t, b, n->b);
    note_uses(t, b, n->c);
}

/* CPython 3.11 fires function__entry only while its line probe is
 * enabled (gh-98894): every python function-entry target gets an empty
 * line block in its file. */
static void add_line_blocks(struct translation *t)
{
    size_t count = t->targets.count;

    for (size_t i = 0; i < count; i++) {
        const struct pyprobe__d_target *target = t->targets.items[i];

        if (target->kind == PYPROBE__D_PROBE_USDT && !strcmp(target->note_provider, "python") &&
            !strcmp(target->probename, "function-entry"))
            block_for(t, pyprobe__d_format(t->e.ctx, "usdt:%s:python:line", target->path));
    }
}

static void make_blocks(struct translation *t)
{
    block_for(t, "BEGIN");
    for (size_t i = 0; i < t->targets.count; i++) {
        struct pyprobe__d_target *target = t->targets.items[i];
        struct block *b = block_for(t, target->attach);

        pyprobe__d_push(t->e.ctx, &b->targets, target);
        note_uses(t, b, target->clause->predicate);
        for (size_t k = 0; k < target->clause->statements.count; k++)
            note_uses(t, b, target->clause->statements.items[k]);
    }
    add_line_blocks(t);
    for (size_t i = 0; i < t->blocks.count; i++) {
        const struct block *b = t->blocks.items[i];

        for (size_t k = 0; k < b->targets.count; k++)
            this_shapes(t, b->targets.items[k]);
    }
    if (t->e.sema->uses_vtimestamp)
        block_for(t, "tracepoint:sched:sched_switch");
}

/* ---- control records ---- */

struct pyprobe__d_action *pyprobe__d_new_action(struct pyprobe__d_emitter *e, enum pyprobe__d_action_kind kind,
                                               const struct pyprobe__d_node *at)
{
    struct translation *t = (struct translation *)e;
    struct pyprobe__d_action *action = plan_alloc(t, sizeof *action);

    action->kind = kind;
    if (at)
        action->script_line = plan_strdup(t, pyprobe__d_where(e, at->file, at->line));
    pyprobe__d_push(e->ctx, &e->actions, action);
    return action;
}

size_t pyprobe__d_action_id(struct pyprobe__d_emitter *e, const struct pyprobe__d_action *action)
{
    for (size_t i = 0; i < e->actions.count; i++)
        if (e->actions.items[i] == action)
            return i;
    return 0;
}

static void record(struct pyprobe__d_emitter *e, const struct pyprobe__d_action *action, const char *integer)
{
    if (integer)
        pyprobe__d_line(e, "printf(\"\\x%02x%zu %%lld\\n\", %s);", PYPROBE__D_CONTROL,
                        pyprobe__d_action_id(e, action), integer);
    else
        pyprobe__d_line(e, "printf(\"\\x%02x%zu\\n\");", PYPROBE__D_CONTROL, pyprobe__d_action_id(e, action));
}

/* After the map events of an action: the CLOSE record (d_data.h). */
static void record_end(struct pyprobe__d_emitter *e)
{
    pyprobe__d_line(e, "printf(%s);", pyprobe__d_quote(e, PYPROBE__D_CLOSE_RECORD));
}

/* ---- aggregations ---- */

static const struct pyprobe__d_plan_aggregation *plan_aggregation(struct pyprobe__d_emitter *e,
                                                                  const struct pyprobe__d_symbol *s)
{
    return &e->aggregations[s->index];
}

/* bpftrace's maps of an aggregation: the value, and avg's count. */
static void for_each_map(struct pyprobe__d_emitter *e, const struct pyprobe__d_symbol *s, const char *format)
{
    const struct pyprobe__d_plan_aggregation *a = plan_aggregation(e, s);

    if (!s->written)
        return;
    for (size_t m = 0; m < 2 && a->maps[m]; m++)
        pyprobe__d_line(e, format, a->maps[m]);
}

/* A key layout under construction: bpftrace's key tuple and D's columns. */
struct layout {
    struct pyprobe__d_vec parts;        /* bpftrace expressions */
    struct pyprobe__d_vec part_types;   /* enum pyprobe__d_key_type, boxed */
    struct pyprobe__d_vec columns;      /* struct pyprobe__d_column * */
};

static size_t add_part(struct translation *t, struct layout *l, const char *text, enum pyprobe__d_key_type type)
{
    enum pyprobe__d_key_type *boxed = pyprobe__d_alloc(t->e.ctx, sizeof *boxed);

    *boxed = type;
    pyprobe__d_push(t->e.ctx, &l->parts, (void *)text);
    pyprobe__d_push(t->e.ctx, &l->part_types, boxed);
    return l->parts.count - 1;
}

static struct pyprobe__d_piece *add_piece(struct translation *t, struct pyprobe__d_vec *pieces)
{
    struct pyprobe__d_piece *piece = plan_alloc(t, sizeof *piece);

    pyprobe__d_push(t->e.ctx, pieces, piece);
    return piece;
}

/* A D string key: literals stay with pyprobe, traced strings become key
 * parts, a transform (basename, dirname) applies to the one part inside. */
static void string_column(struct translation *t, struct layout *l, const struct pyprobe__d_node *key,
                          struct pyprobe__d_vec *pieces)
{
    struct pyprobe__d_vec spieces = {0};

    pyprobe__d_string_pieces(&t->e, key, &spieces);
    if (spieces.count == 1 && ((struct pyprobe__d_spiece *)spieces.items[0])->kind == PYPROBE__D_P_LITERAL) {
        /* a constant key is a part too, so that "total" and a traced
         * string can key one aggregation */
        struct pyprobe__d_spiece *only = spieces.items[0];

        only->kind = PYPROBE__D_P_STRING;
        only->text = pyprobe__d_quote(&t->e, only->text);
    }
    for (size_t i = 0; i < spieces.count; i++) {
        const struct pyprobe__d_spiece *p = spieces.items[i], *inner, *close;
        char transform = 0;

        if (p->kind == PYPROBE__D_P_OPEN) {
            inner = i + 1 < spieces.count ? spieces.items[i + 1] : NULL;
            close = i + 2 < spieces.count ? spieces.items[i + 2] : NULL;
            if (!inner || !close || close->kind != PYPROBE__D_P_CLOSE || inner->kind == PYPROBE__D_P_OPEN ||
                inner->kind == PYPROBE__D_P_LITERAL)
                pyprobe__d_refuse(&t->e, key, "%s( ) of a joined or nested string is not supported in an "
                                  "aggregation key", p->why);
            transform = p->op;
            p = inner;
            i += 2;
        }
        if (p->kind == PYPROBE__D_P_LITERAL) {
            add_piece(t, pieces)->literal = plan_strdup(t, p->text);
        } else {
            struct pyprobe__d_piece *piece = add_piece(t, pieces);

            piece->part = add_part(t, l, p->text, p->kind == PYPROBE__D_P_INT ? PYPROBE__D_KEY_INT
                                                                               : PYPROBE__D_KEY_STRING);
            piece->transform = transform;
        }
    }
}

static void key_column(struct translation *t, struct layout *l, const struct pyprobe__d_node *key)
{
    struct pyprobe__d_column *column = plan_alloc(t, sizeof *column);
    struct pyprobe__d_vec pieces = {0};
    struct pyprobe__d_piece *piece;

    column->size = key->type.kind == PYPROBE__D_T_INT ? (int)key->type.size : 0;
    if (key->type.kind == PYPROBE__D_T_STRING) {
        column->type = PYPROBE__D_KEY_STRING;
        string_column(t, l, key, &pieces);
    } else {
        bool stack = key->type.kind == PYPROBE__D_T_STACK;
        const struct pyprobe__d_node *k = pyprobe__d_unmacro(key);

        column->type = stack ? PYPROBE__D_KEY_STRING : PYPROBE__D_KEY_INT;
        piece = add_piece(t, &pieces);
        piece->part = add_part(t, l, stack ? (k->arg_count ? pyprobe__d_format(t->e.ctx, "ustack(%s)",
                                                                               pyprobe__d_expr_text(&t->e, k->args[0]))
                                                           : "ustack")
                                           : pyprobe__d_expr_text(&t->e, key),
                               column->type);
    }
    column->piece_count = pieces.count;
    column->pieces = plan_alloc(t, (pieces.count + 1) * sizeof *column->pieces);
    for (size_t i = 0; i < pieces.count; i++)
        ((struct pyprobe__d_piece *)column->pieces)[i] = *(struct pyprobe__d_piece *)pieces.items[i];
    pyprobe__d_push(t->e.ctx, &l->columns, column);
}

static bool same_pieces(const struct pyprobe__d_column *a, const struct pyprobe__d_column *b)
{
    if (a->type != b->type || a->piece_count != b->piece_count)
        return false;
    for (size_t i = 0; i < a->piece_count; i++) {
        const struct pyprobe__d_piece *x = &a->pieces[i], *y = &b->pieces[i];

        if (!x->literal != !y->literal || (x->literal && strcmp(x->literal, y->literal)) ||
            (!x->literal && (x->part != y->part || x->transform != y->transform)))
            return false;
    }
    return true;
}

static bool same_layout(const struct pyprobe__d_plan_aggregation *a, const struct layout *l)
{
    if (a->part_count != l->parts.count || a->column_count != l->columns.count)
        return false;
    for (size_t i = 0; i < a->part_count; i++)
        if (a->part_types[i] != *(enum pyprobe__d_key_type *)l->part_types.items[i])
            return false;
    for (size_t i = 0; i < a->column_count; i++)
        if (!same_pieces(&a->columns[i], l->columns.items[i]))
            return false;
    return true;
}

/* The first use fixes the aggregation's key layout; every other use must
 * build the same bpftrace key (the maps are typed by their first use). */
static void fix_layout(struct translation *t, const struct pyprobe__d_node *at, const struct pyprobe__d_symbol *s,
                       const struct layout *l)
{
    struct pyprobe__d_plan_aggregation *a = &t->e.aggregations[s->index];
    enum pyprobe__d_key_type *types;
    struct pyprobe__d_column *columns;

    if (t->e.layout_known[s->index]) {
        if (!same_layout(a, l))
            pyprobe__d_refuse(&t->e, at, "@%s is keyed differently here than elsewhere (strjoin, basename and "
                              "dirname must build the same key everywhere)", s->name);
        return;
    }
    types = plan_alloc(t, (l->parts.count + 1) * sizeof *types);
    columns = plan_alloc(t, (l->columns.count + 1) * sizeof *columns);
    for (size_t i = 0; i < l->parts.count; i++)
        types[i] = *(enum pyprobe__d_key_type *)l->part_types.items[i];
    for (size_t i = 0; i < l->columns.count; i++)
        columns[i] = *(struct pyprobe__d_column *)l->columns.items[i];
    a->part_types = types;
    a->part_count = l->parts.count;
    a->columns = columns;
    a->column_count = l->columns.count;
    t->e.layout_known[s->index] = true;
}

static const char *map_key(struct translation *t, const struct layout *l)
{
    struct pyprobe__d_buf b = {0};

    if (l->parts.count == 0)
        return "";
    for (size_t i = 0; i < l->parts.count; i++)
        pyprobe__d_buf_printf(t->e.ctx, &b, "%s%s", i ? ", " : "[", (const char *)l->parts.items[i]);
    pyprobe__d_buf_str(t->e.ctx, &b, "]");
    return b.text;
}

/* D's aggregating functions in bpftrace: quantize is hist, lquantize
 * lhist, and avg is kept as a sum and a count so that keys pyprobe merges
 * (strjoin pieces) still average exactly. */
void pyprobe__d_emit_aggregation(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    struct translation *t = (struct translation *)e;
    const struct pyprobe__d_node *agg = n->a, *call = n->b;
    const struct pyprobe__d_symbol *s = agg->symbol;
    const struct pyprobe__d_plan_aggregation *a = plan_aggregation(e, s);
    struct layout l = {{0}, {0}, {0}};
    const char *key, *value = call->arg_count ? pyprobe__d_expr_text(e, call->args[0]) : NULL;

    for (size_t i = 0; i < agg->arg_count; i++)
        key_column(t, &l, agg->args[i]);
    if (agg->arg_count == 0) /* d_data.h: bpftrace prints an unkeyed map as 0 even when empty */
        add_part(t, &l, "0", PYPROBE__D_KEY_INT);
    fix_layout(t, n, s, &l);
    key = map_key(t, &l);
    switch (s->fn) {
    case PYPROBE__D_COUNT: pyprobe__d_line(e, "%s%s = count();", a->maps[0], key); break;
    case PYPROBE__D_SUM: pyprobe__d_line(e, "%s%s = sum(%s);", a->maps[0], key, value); break;
    case PYPROBE__D_AVG:
        pyprobe__d_line(e, "%s%s = sum(%s);", a->maps[0], key, value);
        pyprobe__d_line(e, "%s%s = count();", a->maps[1], key);
        break;
    case PYPROBE__D_MIN: pyprobe__d_line(e, "%s%s = min(%s);", a->maps[0], key, value); break;
    case PYPROBE__D_MAX: pyprobe__d_line(e, "%s%s = max(%s);", a->maps[0], key, value); break;
    case PYPROBE__D_QUANTIZE: pyprobe__d_line(e, "%s%s = hist(%s);", a->maps[0], key, value); break;
    case PYPROBE__D_LQUANTIZE:
        pyprobe__d_line(e, "%s%s = lhist(%s, %lld, %lld, %lld);", a->maps[0], key, value, (long long)s->lq_lower,
                        (long long)s->lq_upper, (long long)s->lq_step);
        break;
    }
}

static size_t *aggregation_list(struct translation *t, const struct pyprobe__d_node *n, size_t first,
                                size_t *count)
{
    size_t *list = plan_alloc(t, (n->arg_count + 1) * sizeof *list);

    *count = 0;
    for (size_t i = first; i < n->arg_count && n->args[i]->kind == PYPROBE__D_N_AGG; i++)
        list[(*count)++] = n->args[i]->symbol->index;
    return list;
}

/* printa, trunc, clear: the record, the maps, the end; trunc and clear
 * then empty bpftrace's maps (pyprobe keeps what survives, d_data.h). */
void pyprobe__d_emit_agg_action(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    static const enum pyprobe__d_action_kind kinds[] = {
        [PYPROBE__D_F_PRINTA] = PYPROBE__D_ACTION_PRINTA, [PYPROBE__D_F_TRUNC] = PYPROBE__D_ACTION_TRUNC,
        [PYPROBE__D_F_CLEAR] = PYPROBE__D_ACTION_CLEAR, [PYPROBE__D_F_NORMALIZE] = PYPROBE__D_ACTION_NORMALIZE,
        [PYPROBE__D_F_DENORMALIZE] = PYPROBE__D_ACTION_DENORMALIZE,
    };
    struct translation *t = (struct translation *)e;
    enum pyprobe__d_builtin_id id = n->builtin->id;
    struct pyprobe__d_action *action = pyprobe__d_new_action(e, kinds[id], n);
    const char *format = NULL;
    size_t first = id == PYPROBE__D_F_PRINTA && pyprobe__d_constant_string(n->args[0], &format) ? 1 : 0;
    const struct pyprobe__d_symbol *s = n->args[first]->symbol;

    action->format = plan_strdup(t, format);
    action->aggregations = aggregation_list(t, n, first, &action->aggregation_count);
    if (id == PYPROBE__D_F_TRUNC && n->arg_count == 2) {
        if (!pyprobe__d_constant(n->args[1], &action->n))
            pyprobe__d_refuse(e, n->args[1], "trunc( ) with a computed count is not supported: use a constant");
        action->has_n = 1;
    }
    if (id == PYPROBE__D_F_NORMALIZE) {
        record(e, action, pyprobe__d_expr_text(e, n->args[1]));
        return;
    }
    record(e, action, NULL);
    if (id == PYPROBE__D_F_DENORMALIZE)
        return;
    for (size_t i = 0; i < action->aggregation_count; i++)
        for_each_map(e, e->sema->aggregations.items[action->aggregations[i]], "print(%s);");
    record_end(e);
    if (id == PYPROBE__D_F_TRUNC || id == PYPROBE__D_F_CLEAR)
        for_each_map(e, s, "clear(%s);");
}

/* ---- emission ---- */

static bool uses_vtimestamp(const struct pyprobe__d_node *n)
{
    if (!n)
        return false;
    n = pyprobe__d_unmacro(n);
    if (n->kind == PYPROBE__D_N_IDENT && n->builtin && n->builtin->id == PYPROBE__D_B_VTIMESTAMP)
        return true;
    for (size_t i = 0; i < n->arg_count; i++)
        if (uses_vtimestamp(n->args[i]))
            return true;
    return uses_vtimestamp(n->a) || uses_vtimestamp(n->b) || uses_vtimestamp(n->c);
}

static bool clause_uses_vtimestamp(const struct pyprobe__d_clause *clause)
{
    for (size_t i = 0; i < clause->statements.count; i++)
        if (uses_vtimestamp(clause->statements.items[i]))
            return true;
    return uses_vtimestamp(clause->predicate);
}

/* Whether a firing of the clause puts a record in DTrace's buffer, the
 * only thing dtrace prints a probe line (and -F indents) for: the default
 * action of an empty clause, or a statement that is an action (trace,
 * printf, printa, trunc, exit, ustack, ...). Assignments and aggregations
 * record nothing (dt_compile_exp's void DIFEXPR; dtrace_ecb_resize sets
 * such an ECB's size to 0), so such a clause prints nothing. */
static bool clause_records(const struct pyprobe__d_clause *clause)
{
    for (size_t i = 0; i < clause->statements.count; i++) {
        const struct pyprobe__d_node *n = clause->statements.items[i];

        if (n->kind == PYPROBE__D_N_CALL && n->builtin &&
            (n->builtin->kind == PYPROBE__D_BK_ACTION || n->builtin->id == PYPROBE__D_F_USTACK))
            return true;
    }
    return clause->statements.count == 0;
}

/* vtimestamp: each thread's on-CPU time, kept by sched_switch for the
 * threads that fired a probe whose clause reads it (from then on: only
 * differences of vtimestamp are exact, which is what scripts take). */
static void emit_vtimestamp_start(struct translation *t, const struct pyprobe__d_target *target)
{
    pyprobe__d_line(&t->e, "if (%s%s!@pp_vtracked[tid]) {", target->guard ? target->guard : "",
                    target->guard ? " && " : "");
    pyprobe__d_line(&t->e, "\t@pp_vtracked[tid] = 1;");
    pyprobe__d_line(&t->e, "\t@pp_vsince[tid] = (int64)nsecs;");
    pyprobe__d_line(&t->e, "}");
}

static void emit_probe_record(struct translation *t, const struct pyprobe__d_target *target)
{
    struct pyprobe__d_action *action = pyprobe__d_new_action(&t->e, PYPROBE__D_ACTION_PROBE, NULL);
    const char *name = target->probename;
    size_t length = strlen(name);
    const struct pyprobe__d_clause *clause = target->clause;

    action->probe_id = target->id;
    action->probe_function = plan_strdup(t, target->probefunc ? target->probefunc : "");
    action->probe_name = plan_strdup(t, name);
    action->script_line = plan_strdup(t, pyprobe__d_where(&t->e, clause->file, clause->line));
    /* dt_flowindent(): "entry" or a name ending in "-entry" enters; the
     * same for "return". */
    if (!strcmp(name, "entry") || (length > 6 && !strcmp(name + length - 6, "-entry")))
        action->flow = PYPROBE__D_FLOW_ENTRY;
    else if (!strcmp(name, "return") || (length > 7 && !strcmp(name + length - 7, "-return")))
        action->flow = PYPROBE__D_FLOW_RETURN;
    record(&t->e, action, "(int64)cpu");
}

static void emit_clause(struct translation *t, const struct pyprobe__d_target *target)
{
    const struct pyprobe__d_clause *clause = target->clause;
    const struct pyprobe__d_output_options *o = &t->e.options->output;
    struct pyprobe__d_buf condition = {0};
    bool records;

    t->e.target = target;
    pyprobe__d_line(&t->e, "// %s", pyprobe__d_where(&t->e, clause->file, clause->line));
    t->e.comment_line = clause->line;
    if (clause_uses_vtimestamp(clause))
        emit_vtimestamp_start(t, target);
    if (target->guard)
        pyprobe__d_buf_str(t->e.ctx, &condition, target->guard);
    if (clause->predicate)
        pyprobe__d_buf_printf(t->e.ctx, &condition, "%s%s", condition.text ? " && " : "",
                              pyprobe__d_expr_text(&t->e, clause->predicate));
    if (condition.text) {
        pyprobe__d_line(&t->e, "if (%s) {", condition.text);
        t->e.indent++;
    }
    records = clause_records(clause);
    if (records && (!o->quiet || o->flowindent))
        emit_probe_record(t, target);
    for (size_t i = 0; i < clause->statements.count; i++)
        pyprobe__d_emit_statement(&t->e, clause->statements.items[i]);
    if (records && !o->quiet)
        pyprobe__d_line(&t->e, "printf(\"\\n\");");
    if (condition.text) {
        t->e.indent--;
        pyprobe__d_line(&t->e, "}");
    }
}

static void emit_sched_switch(struct translation *t)
{
    pyprobe__d_line(&t->e, "if (@pp_vsince[args->prev_pid]) {");
    pyprobe__d_line(&t->e, "\t@pp_voncpu[args->prev_pid] += (int64)nsecs - @pp_vsince[args->prev_pid];");
    pyprobe__d_line(&t->e, "\t@pp_vsince[args->prev_pid] = 0;");
    pyprobe__d_line(&t->e, "}");
    pyprobe__d_line(&t->e, "if (@pp_vtracked[args->next_pid]) {");
    pyprobe__d_line(&t->e, "\t@pp_vsince[args->next_pid] = (int64)nsecs;");
    pyprobe__d_line(&t->e, "}");
}

/* bpftrace 0.17 types a map by its first use in the program's text, and
 * a map first written by += is unsigned (negative values then compare as
 * huge ones). So BEGIN, first in the text, writes every integer map once
 * as int64 and deletes the entry again: D's variables start at 0. */
static const char *zero_keys(struct translation *t, const struct pyprobe__d_symbol *s)
{
    struct pyprobe__d_buf b = {0};
    bool self = s->scope == PYPROBE__D_N_SELF;

    if (!self && !s->is_array)
        return "";
    pyprobe__d_buf_str(t->e.ctx, &b, self ? "[tid" : "[");
    for (size_t i = 0; s->is_array && i < s->key_count; i++)
        pyprobe__d_buf_printf(t->e.ctx, &b, "%s%s", i || self ? ", " : "",
                              s->keys[i].kind == PYPROBE__D_T_STRING ? "\"\"" : "(int64)0");
    pyprobe__d_buf_str(t->e.ctx, &b, "]");
    return b.text;
}

static void declare_maps(struct translation *t)
{
    struct pyprobe__d_sema *sema = t->e.sema;

    for (size_t i = 0; i < sema->symbols.count; i++) {
        const struct pyprobe__d_symbol *s = sema->symbols.items[i];
        const char *map;

        if (!s->written || s->type.kind != PYPROBE__D_T_INT ||
            (s->scope != PYPROBE__D_N_SELF && s->scope != PYPROBE__D_N_IDENT))
            continue;
        map = pyprobe__d_format(t->e.ctx, "@%s_%s%s", s->scope == PYPROBE__D_N_SELF ? "self" : "g", s->name,
                                zero_keys(t, s));
        pyprobe__d_line(&t->e, "%s = (int64)0; delete(%s);", map, map);
    }
    if (sema->uses_exit)
        pyprobe__d_line(&t->e, "@pp_exit = (int64)0;");
    if (sema->uses_vtimestamp)
        pyprobe__d_line(&t->e, "@pp_vsince[tid] = (int64)0; @pp_voncpu[tid] = (int64)0;");
}

static void emit_sysnames(struct translation *t)
{
    for (size_t i = 0; i < t->sysnames.count; i++) {
        const struct pyprobe__d_syscall *sc = t->sysnames.items[i];

        pyprobe__d_line(&t->e, "@pp_sysname[%d] = \"%s\";", sc->number, sc->name);
    }
}

/* Every map the program writes, for the end's clear(): bpftrace would
 * print the ones left at exit. */
static void clear_maps(struct translation *t)
{
    struct pyprobe__d_sema *sema = t->e.sema;

    for (size_t i = 0; i < sema->symbols.count; i++) {
        const struct pyprobe__d_symbol *s = sema->symbols.items[i];

        if (s->scope == PYPROBE__D_N_AGG)
            for_each_map(&t->e, s, "clear(%s);");
        else if (s->written && s->scope != PYPROBE__D_N_THIS)
            pyprobe__d_line(&t->e, "clear(@%s_%s);", s->scope == PYPROBE__D_N_SELF ? "self" : "g", s->name);
    }
    if (sema->uses_exit)
        pyprobe__d_line(&t->e, "clear(@pp_exit);");
    if (t->sysnames.count)
        pyprobe__d_line(&t->e, "clear(@pp_sysname);");
    if (sema->uses_vtimestamp)
        pyprobe__d_line(&t->e, "clear(@pp_vtracked); clear(@pp_vsince); clear(@pp_voncpu);");
}

/* The end (bpftrace's END, after the script's own END clauses): the EXIT
 * record with exit()'s status, every aggregation's maps, then nothing
 * left for bpftrace to print itself. */
static void emit_epilogue(struct translation *t)
{
    struct pyprobe__d_action *action = pyprobe__d_new_action(&t->e, PYPROBE__D_ACTION_EXIT, NULL);
    struct pyprobe__d_sema *sema = t->e.sema;
    size_t *list = plan_alloc(t, (sema->aggregations.count + 1) * sizeof *list);

    for (size_t i = 0; i < sema->aggregations.count; i++)
        list[i] = i;
    action->aggregations = list;
    action->aggregation_count = sema->aggregations.count;
    pyprobe__d_line(&t->e, "// pyprobe: the end");
    t->e.comment_line = 0;
    record(&t->e, action, sema->uses_exit ? "@pp_exit" : "0");
    for (size_t i = 0; i < sema->aggregations.count; i++)
        for_each_map(&t->e, sema->aggregations.items[i], "print(%s);");
    record_end(&t->e);
    clear_maps(t);
}

static void emit_this_vars(struct translation *t, const struct block *b)
{
    for (size_t i = 0; i < b->this_vars.count; i++) {
        const struct pyprobe__d_symbol *s = b->this_vars.items[i];

        for (size_t k = 0; s->shape && k < s->shape->count; k++) {
            const struct pyprobe__d_spiece *slot = s->shape->items[k];

            if (slot->kind == PYPROBE__D_P_STRING || slot->kind == PYPROBE__D_P_INT)
                pyprobe__d_line(&t->e, "%s = %s;", slot->text, slot->kind == PYPROBE__D_P_INT ? "0" : "\"\"");
        }
        if (!s->shape)
            pyprobe__d_line(&t->e, "$this_%s = %s;", s->name, s->type.kind == PYPROBE__D_T_STRING ? "\"\"" : "0");
    }
}

static void emit_block(struct translation *t, const struct block *b)
{
    bool is_end = strcmp(b->attach, "END") == 0, is_switch = strstr(b->attach, "sched_switch") != NULL;

    pyprobe__d_line(&t->e, "%s", b->attach);
    pyprobe__d_line(&t->e, "{");
    t->e.indent++;
    if (is_switch)
        emit_sched_switch(t);
    if (!strcmp(b->attach, "BEGIN")) {
        /* READY: bpftrace runs BEGIN once every probe is attached */
        pyprobe__d_line(&t->e, "printf(%s);", pyprobe__d_quote(&t->e, PYPROBE__D_READY_RECORD));
        declare_maps(t);
        emit_sysnames(t);
    }
    if (b->has_exit && !is_end)
        pyprobe__d_line(&t->e, "$pp_exit = 0;");
    emit_this_vars(t, b);
    for (size_t i = 0; i < b->targets.count; i++)
        emit_clause(t, b->targets.items[i]);
    if (b->has_exit && !is_end)
        pyprobe__d_line(&t->e, "if ($pp_exit) { exit(); }");
    if (is_end)
        emit_epilogue(t);
    t->e.indent--;
    pyprobe__d_line(&t->e, "}");
}

static void emit_program(struct translation *t)
{
    struct block *end;

    pyprobe__d_line(&t->e, "// Translated from D by pyprobe for bpftrace 0.17; control records and");
    pyprobe__d_line(&t->e, "// segments in printf are pyprobe's output protocol (src/d/d_data.h).");
    make_blocks(t);
    end = block_for(t, "END");
    for (size_t i = 0; i < t->blocks.count; i++)
        if (t->blocks.items[i] != end)
            emit_block(t, t->blocks.items[i]);
    emit_block(t, end);
}

/* ---- the plan ---- */

static void plan_aggregations(struct translation *t)
{
    struct pyprobe__d_sema *sema = t->e.sema;
    size_t count = sema->aggregations.count;

    t->e.aggregations = plan_alloc(t, (count + 1) * sizeof *t->e.aggregations);
    t->e.layout_known = pyprobe__d_alloc(t->e.ctx, (count + 1) * sizeof *t->e.layout_known);
    for (size_t i = 0; i < count; i++) {
        const struct pyprobe__d_symbol *s = sema->aggregations.items[i];
        struct pyprobe__d_plan_aggregation *a = &t->e.aggregations[i];

        a->name = plan_strdup(t, s->name);
        a->fn = s->fn;
        a->lq_lower = s->lq_lower;
        a->lq_upper = s->lq_upper;
        a->lq_step = s->lq_step;
        a->maps[0] = plan_strdup(t, pyprobe__d_format(t->e.ctx, "@a_%s", s->name));
        if (s->fn == PYPROBE__D_AVG)
            a->maps[1] = plan_strdup(t, pyprobe__d_format(t->e.ctx, "@c_%s", s->name));
    }
}

/* What translation keeps: the plan and its arena, freed together. */
struct plan_holder {
    struct pyprobe__d_plan plan;
    struct pyprobe__d_arena arena;
};

static void assemble(struct translation *t, struct pyprobe__d_plan *plan)
{
    struct pyprobe__d_action *actions = plan_alloc(t, (t->e.actions.count + 1) * sizeof *actions);

    for (size_t i = 0; i < t->e.actions.count; i++)
        actions[i] = *(struct pyprobe__d_action *)t->e.actions.items[i];
    plan->program = plan_strdup(t, t->e.out.text);
    plan->aggregations = t->e.aggregations;
    plan->aggregation_count = t->e.sema->aggregations.count;
    plan->actions = actions;
    plan->action_count = t->e.actions.count;
    plan->output = t->e.options->output;
}

static int64_t wall_offset(const struct pyprobe__d_translate_options *options)
{
    struct timespec real, mono;

    if (options->walltime_offset_ns)
        return options->walltime_offset_ns;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

/* The translation proper, in ctx (whose errors the caller catches): the
 * macros bound with `bind` (NULL: not yet, as placeholders). */
static void translate(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program,
                      const struct pyprobe__d_resolved *resolved, size_t resolved_count,
                      const struct pyprobe__d_translate_options *bind,
                      const struct pyprobe__d_translate_options *options, struct pyprobe__d_arena *plan_arena,
                      struct pyprobe__d_plan *plan)
{
    struct translation t = {.program = program, .resolved = resolved, .resolved_count = resolved_count,
                            .plan_arena = plan_arena, .e = {.ctx = ctx, .options = options}};

    pyprobe__d_bind_all(ctx, program, bind);
    t.e.sema = pyprobe__d_check(ctx, program, bind);
    t.e.walltime_offset_ns = wall_offset(options);
    all_targets(&t);
    mark_emitted(&t);
    plan_aggregations(&t);
    emit_program(&t);
    assemble(&t, plan);
}

int pyprobe__d_translate(struct pyprobe__d_program *program, const struct pyprobe__d_resolved *resolved,
                         size_t resolved_count, const struct pyprobe__d_translate_options *options,
                         struct pyprobe__d_plan **out, struct pyprobe__d_error *error)
{
    struct pyprobe__d_ctx ctx = {.arena = &program->arena, .error = error};
    struct plan_holder *holder = calloc(1, sizeof *holder);
    int rc;

    memset(error, 0, sizeof *error);
    *out = NULL;
    if (!holder)
        return -ENOMEM;
    rc = setjmp(ctx.jump);
    if (rc != 0) {
        pyprobe__d_arena_free(&holder->arena);
        free(holder);
        return rc;
    }
    translate(&ctx, program, resolved, resolved_count, options, options, &holder->arena, &holder->plan);
    *out = &holder->plan;
    return 0;
}

/* A translation for probes made up (one per USDT and pid description) and
 * macros not yet bound, done when parsing: what the translation refuses
 * fails the script before anything runs, as dtrace's compiler would. */
void pyprobe__d_translate_dry(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program)
{
    static const struct pyprobe__d_translate_options dry = {.output = {.quiet = 1}, .zdefs = 1,
                                                            .walltime_offset_ns = 1};
    struct pyprobe__d_resolved *made_up = pyprobe__d_alloc(ctx, (program->descriptions.count + 1) * sizeof *made_up);
    struct pyprobe__d_plan plan;
    size_t count = 0;

    for (size_t i = 0; i < program->descriptions.count; i++) {
        const struct pyprobe__d_description *d = pyprobe__d_description_at(program, i);

        if (d->kind == PYPROBE__D_PROBE_USDT || d->kind == PYPROBE__D_PROBE_PID)
            made_up[count++] = (struct pyprobe__d_resolved){i, "/dry/run", "python", "function__entry", "f", 1, 1};
    }
    /* the plan's memory is the program's, freed with it, even when an
     * error leaves here */
    translate(ctx, program, made_up, count, NULL, &dry, ctx->arena, &plan);
}

void pyprobe__d_plan_free(struct pyprobe__d_plan *plan)
{
    struct plan_holder *holder = (struct plan_holder *)plan;

    if (!plan)
        return;
    pyprobe__d_arena_free(&holder->arena);
    free(holder);
}
