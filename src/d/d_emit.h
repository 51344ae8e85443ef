/*
 * d_emit.h - the translation's state, shared by d_emit.c (D expressions,
 * strings and output statements in bpftrace) and d_translate.c (probes,
 * blocks, aggregations, control records and the plan).
 */
#ifndef PYPROBE_D_EMIT_H
#define PYPROBE_D_EMIT_H

#include "d_sema.h"

/* One probe a clause fires on, with what D's probe builtins mean there. */
struct pyprobe__d_target {
    const struct pyprobe__d_clause *clause;
    enum pyprobe__d_probe_kind kind;
    const char *attach;         /* bpftrace's probe: usdt:/usr/bin/python3.11:python:line */
    const char *guard;          /* bpftrace condition for this probe on that attach point, or NULL */
    bool is_return;             /* SYSCALL, PID: the return probe */
    const char *probeprov, *probemod, *probename;
    const char *probefunc;      /* a string constant, or NULL when probefunc_expr says it */
    const char *probefunc_expr; /* bpftrace expression (several syscalls on one target) */
    unsigned id;
    const char *path;           /* USDT: the file, and the provider as its note says */
    const char *note_provider;
};

/* A piece of a D string value as bpftrace can carry it. */
enum pyprobe__d_piece_kind {
    PYPROBE__D_P_LITERAL,       /* text known now */
    PYPROBE__D_P_STRING,        /* a bpftrace string expression */
    PYPROBE__D_P_INT,           /* a bpftrace integer expression, as decimal text (lltostr) */
    PYPROBE__D_P_OPEN,          /* a transform of what follows up to CLOSE: op 'B' or 'D' */
    PYPROBE__D_P_CLOSE
};

struct pyprobe__d_spiece {
    enum pyprobe__d_piece_kind kind;
    const char *text;           /* LITERAL: the text; STRING, INT: the expression */
    char op;                    /* OPEN */
    const char *why;            /* the D function that made the string composite */
};

struct pyprobe__d_emitter {
    struct pyprobe__d_ctx *ctx;         /* temporary memory (freed after translation) */
    struct pyprobe__d_ctx *plan_ctx;    /* the plan's memory */
    struct pyprobe__d_sema *sema;
    const struct pyprobe__d_translate_options *options;
    struct pyprobe__d_buf out;          /* the bpftrace program */
    const struct pyprobe__d_target *target;     /* the clause being emitted */
    int indent;
    int comment_line;                   /* the line the last "// FILE:LINE" named */
    int64_t walltime_offset_ns;
    struct pyprobe__d_vec actions;      /* struct pyprobe__d_action * (plan memory) */
    struct pyprobe__d_plan_aggregation *aggregations;   /* sema->aggregations.count, plan memory */
    bool *layout_known;                 /* per aggregation: its key layout is fixed */
};

/* ---- d_emit.c ---- */

/* A line of the program at the current indentation (printf-like). */
void pyprobe__d_line(struct pyprobe__d_emitter *e, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* A D expression of integer type (or a string that is one bpftrace value). */
void pyprobe__d_emit_expr(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const struct pyprobe__d_node *n);
const char *pyprobe__d_expr_text(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n);
/* A D string value as pieces. */
void pyprobe__d_string_pieces(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n,
                              struct pyprobe__d_vec *out);
/* "FILE:LINE" for comments and messages, control characters replaced. */
const char *pyprobe__d_where(struct pyprobe__d_emitter *e, const char *file, int line);
/* A bpftrace string literal for `text`. */
const char *pyprobe__d_quote(struct pyprobe__d_emitter *e, const char *text);
/* A statement of the clause (not aggregations or printa and friends,
 * which d_translate.c emits): assignments, ++/--, printf, trace, exit. */
void pyprobe__d_emit_statement(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n);
/* For `this->x = STRING` (n): fixes the pieces this->x holds (sema). */
void pyprobe__d_this_shape(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n);
/* The map or scratch variable that holds a D variable. */
const char *pyprobe__d_variable_text(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n);
/* What the translation refuses, at its node. */
#define pyprobe__d_refuse(e, at, ...) pyprobe__d_fail_at((e)->ctx, (at), __VA_ARGS__)

/* ---- d_translate.c ---- */

/* A control record's printf for a new plan action (its ID is its index). */
struct pyprobe__d_action *pyprobe__d_new_action(struct pyprobe__d_emitter *e, enum pyprobe__d_action_kind kind,
                                               const struct pyprobe__d_node *at);
size_t pyprobe__d_action_id(struct pyprobe__d_emitter *e, const struct pyprobe__d_action *action);
/* @name[keys] = aggfn(args); and printa, trunc, clear, normalize, denormalize. */
void pyprobe__d_emit_aggregation(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n);
void pyprobe__d_emit_agg_action(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n);

#endif /* PYPROBE_D_EMIT_H */
