/*
 * d_sema.h - what the checker (d_check.c) learns about a program and the
 * translation (d_translate.c) uses: its variables and aggregations with
 * their types, and D's printf formats taken apart (d_format.c).
 */
#ifndef PYPROBE_D_SEMA_H
#define PYPROBE_D_SEMA_H

#include "d_ast.h"

/* A variable (global, self->, this->) or an aggregation (@). */
struct pyprobe__d_symbol {
    enum pyprobe__d_node_kind scope;    /* IDENT (global), SELF, THIS or AGG */
    const char *name;
    struct pyprobe__d_type type;        /* variables: the value's type (NONE while unknown) */
    bool is_array;                      /* indexed: keys[] */
    struct pyprobe__d_type *keys;
    size_t key_count;
    bool keys_known;
    bool stored;                        /* assigned a value other than a literal 0 somewhere */
    bool written;                       /* assigned (or ++/--) somewhere: else reads are 0 or "" */
    /* this-> holding a string bpftrace cannot build (basename of a traced
     * string...): its pieces (d_emit.h), each value in $this_NAME_K; NULL
     * for one bpftrace string. Set by the translation. */
    struct pyprobe__d_vec *shape;
    bool declared;
    /* aggregations */
    bool has_fn;
    enum pyprobe__d_aggfn fn;
    int64_t lq_lower, lq_upper, lq_step;
    const struct pyprobe__d_node *defined_at;
    size_t index;                       /* among the aggregations, in order of definition */
};

struct pyprobe__d_sema {
    struct pyprobe__d_vec symbols;      /* struct pyprobe__d_symbol * */
    struct pyprobe__d_vec aggregations; /* the AGG symbols, in order of definition */
    bool uses_vtimestamp, uses_exit;
    const struct pyprobe__d_translate_options *options; /* NULL before the macros are bound */
};

/* ---- formats (printf, printa) ---- */

/* One conversion of a D format: "%-*s" or "%@10d". */
struct pyprobe__d_conversion {
    size_t start, end;          /* in the format: '%' .. the conversion character, inclusive */
    char flags[8];              /* the flag characters as written: - 0 + space # */
    int width;                  /* -1: none */
    bool star_width;            /* '*': the width is an argument */
    int precision;              /* -1: none */
    bool star_precision;
    bool aggregation;           /* '@': printa's value */
    char length[3];             /* h hh l ll L as written */
    char conversion;            /* d i u o x X c s p ... or '%' */
};

struct pyprobe__d_format {
    const char *text;
    struct pyprobe__d_conversion *conversions;
    size_t count;
};

/* Takes `text` apart (errors at `at`: "printf( ) format conversion #2 is
 * undefined: %q"). */
void pyprobe__d_format_parse(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_node *at, const char *function,
                             const char *text, struct pyprobe__d_format *out);

/* ---- helpers the translation shares ---- */

struct pyprobe__d_symbol *pyprobe__d_symbol_find(struct pyprobe__d_sema *sema, enum pyprobe__d_node_kind scope,
                                                 const char *name);
/* The node a macro stands for once bound, else the node itself. */
const struct pyprobe__d_node *pyprobe__d_unmacro(const struct pyprobe__d_node *node);
/* Whether `node` is an integer constant; *value receives it. */
bool pyprobe__d_constant(const struct pyprobe__d_node *node, int64_t *value);
/* Whether `node` is a string constant; *text receives it. */
bool pyprobe__d_constant_string(const struct pyprobe__d_node *node, const char **text);
/* `value` as a D integer type of t.size bytes holds it (C's conversion). */
int64_t pyprobe__d_narrow(int64_t value, struct pyprobe__d_type t);
/* C's usual arithmetic conversions of two integer types. */
struct pyprobe__d_type pyprobe__d_arith_type(struct pyprobe__d_type a, struct pyprobe__d_type b);

#endif /* PYPROBE_D_SEMA_H */
