/*
 * d_builtins.h - the tables of D names the front end knows: built-in
 * variables and functions (one table: name, kind, bpftrace spelling, type,
 * or why it is refused), type names, and options. d_builtins.c holds them.
 */
#ifndef PYPROBE_D_BUILTINS_H
#define PYPROBE_D_BUILTINS_H

#include "d_ast.h"

/* What the translation does with a builtin beyond spelling it. */
enum pyprobe__d_builtin_id {
    PYPROBE__D_B_PLAIN,         /* the bpftrace spelling says it all */
    PYPROBE__D_B_ARG,           /* arg0..arg9: depends on the probe */
    PYPROBE__D_B_VTIMESTAMP,    /* on-CPU time: sched_switch accounting */
    PYPROBE__D_B_WALLTIMESTAMP, /* nsecs + the wall clock's offset */
    PYPROBE__D_B_PROBEPROV, PYPROBE__D_B_PROBEMOD, PYPROBE__D_B_PROBEFUNC, PYPROBE__D_B_PROBENAME,
    PYPROBE__D_B_ID,            /* the probe's id: a constant per probe */
    /* functions */
    PYPROBE__D_F_COPYINSTR, PYPROBE__D_F_STRINGOF, PYPROBE__D_F_STRJOIN, PYPROBE__D_F_BASENAME,
    PYPROBE__D_F_DIRNAME, PYPROBE__D_F_STRLEN, PYPROBE__D_F_LLTOSTR, PYPROBE__D_F_USTACK,
    PYPROBE__D_F_PRINTF, PYPROBE__D_F_TRACE, PYPROBE__D_F_PRINTA, PYPROBE__D_F_EXIT,
    PYPROBE__D_F_TRUNC, PYPROBE__D_F_CLEAR, PYPROBE__D_F_NORMALIZE, PYPROBE__D_F_DENORMALIZE,
    PYPROBE__D_F_COUNT, PYPROBE__D_F_SUM, PYPROBE__D_F_AVG, PYPROBE__D_F_MIN, PYPROBE__D_F_MAX,
    PYPROBE__D_F_QUANTIZE, PYPROBE__D_F_LQUANTIZE
};

enum pyprobe__d_builtin_kind {
    PYPROBE__D_BK_VARIABLE,     /* a built-in variable */
    PYPROBE__D_BK_SUBROUTINE,   /* a function with a value */
    PYPROBE__D_BK_ACTION,       /* a function used as a statement */
    PYPROBE__D_BK_AGGFN,        /* an aggregating function: @x[...] = f(...) */
    PYPROBE__D_BK_REFUSED       /* known to D, not translated: `why` says so */
};

struct pyprobe__d_builtin {
    const char *name;
    enum pyprobe__d_builtin_kind kind;
    enum pyprobe__d_builtin_id id;
    signed char min_args, max_args;
    struct pyprobe__d_type type;    /* the value's D type */
    const char *bpftrace;           /* PLAIN variables, simple subroutines; see the table */
    const char *why;                /* REFUSED: the reason, completing "NAME is not supported: " */
    bool call;                      /* a function, not a variable */
};

/* The builtin called `name`, as a variable (call false) or a function. */
const struct pyprobe__d_builtin *pyprobe__d_builtin_lookup(const char *name, bool call);

/* C and D type names: a base (int), a modifier (unsigned), a typedef
 * (uint64_t), or one the translation refuses (float). */
enum pyprobe__d_typename_role { PYPROBE__D_TN_BASE, PYPROBE__D_TN_MODIFIER, PYPROBE__D_TN_TYPEDEF,
                                PYPROBE__D_TN_REFUSED };

struct pyprobe__d_typename {
    const char *name;
    enum pyprobe__d_typename_role role;
    struct pyprobe__d_type type;
};
const struct pyprobe__d_typename *pyprobe__d_typename_lookup(const char *name);

/* Words that start a top-level declaration, and those D has but we refuse. */
bool pyprobe__d_is_decl_keyword(const char *name);

/* Probe providers of Solaris and the kernel that Linux lacks or that
 * bpftrace cannot reach as D does: the reason, or NULL. */
const char *pyprobe__d_refused_provider(const char *provider);

#endif /* PYPROBE_D_BUILTINS_H */
