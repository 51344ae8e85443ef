/*
 * d_ast.h - the D front end's internals: memory, errors, the syntax tree
 * and the program, shared by d_lex.c, d_parse.c, d_check.c, d_translate.c.
 *
 * Memory: everything a program holds comes from its arena and is freed
 * with it, so that an error may leave a half-built tree behind without
 * leaking. Errors: a failing step formats the error and longjmp()s back to
 * the public entry point (struct pyprobe__d_ctx), which returns -EINVAL or
 * -ENOMEM; the recursive parser and checker stay free of error plumbing.
 */
#ifndef PYPROBE_D_AST_H
#define PYPROBE_D_AST_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "d_front.h"

/* ---- memory ---- */

struct pyprobe__d_chunk;
struct pyprobe__d_arena {
    struct pyprobe__d_chunk *chunks;
};

/* A growable array of pointers in an arena (the old storage is left to
 * the arena when it grows). */
struct pyprobe__d_vec {
    void **items;
    size_t count, capacity;
};

/* A growable string in an arena (old storage is left to the arena). */
struct pyprobe__d_buf {
    char *text;             /* NUL-terminated once anything is appended */
    size_t length, capacity;
};

/* ---- errors ---- */

struct pyprobe__d_ctx {
    jmp_buf jump;
    struct pyprobe__d_arena *arena;  /* where this step allocates */
    struct pyprobe__d_error *error;
    int depth;                       /* recursion depth (parser, checker) */
};

/* Zeroed memory from the ctx's arena; out of memory: fails with -ENOMEM. */
void *pyprobe__d_alloc(struct pyprobe__d_ctx *ctx, size_t size);
char *pyprobe__d_strndup(struct pyprobe__d_ctx *ctx, const char *text, size_t length);
char *pyprobe__d_strdup(struct pyprobe__d_ctx *ctx, const char *text);
char *pyprobe__d_format(struct pyprobe__d_ctx *ctx, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void pyprobe__d_push(struct pyprobe__d_ctx *ctx, struct pyprobe__d_vec *vec, void *item);
void pyprobe__d_arena_free(struct pyprobe__d_arena *arena);
void pyprobe__d_buf_add(struct pyprobe__d_ctx *ctx, struct pyprobe__d_buf *buf, const char *text, size_t length);
void pyprobe__d_buf_str(struct pyprobe__d_ctx *ctx, struct pyprobe__d_buf *buf, const char *text);
void pyprobe__d_buf_printf(struct pyprobe__d_ctx *ctx, struct pyprobe__d_buf *buf, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the error at FILE:LINE:COLUMN and leaves the step (-EINVAL). */
_Noreturn void pyprobe__d_fail(struct pyprobe__d_ctx *ctx, const char *file, int line, int column,
                               const char *format, ...) __attribute__((format(printf, 5, 6)));
struct pyprobe__d_node;
/* The same at a node of the tree. */
_Noreturn void pyprobe__d_fail_at(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_node *at, const char *format,
                                  ...) __attribute__((format(printf, 3, 4)));
_Noreturn void pyprobe__d_fail_nomem(struct pyprobe__d_ctx *ctx);
/* Deep nesting ends in an error, not a stack overflow. */
void pyprobe__d_enter(struct pyprobe__d_ctx *ctx, const char *file, int line, int column);
void pyprobe__d_leave(struct pyprobe__d_ctx *ctx);
#define PYPROBE__D_MAX_DEPTH 200

/* ---- types ---- */

enum pyprobe__d_kind { PYPROBE__D_T_NONE, PYPROBE__D_T_INT, PYPROBE__D_T_STRING, PYPROBE__D_T_STACK };

struct pyprobe__d_type {
    enum pyprobe__d_kind kind;
    unsigned char size;         /* INT: 1, 2, 4 or 8 bytes */
    bool is_unsigned;           /* INT */
};

/* ---- the syntax tree ---- */

enum pyprobe__d_node_kind {
    PYPROBE__D_N_INT,           /* value, type */
    PYPROBE__D_N_STRING,        /* string */
    PYPROBE__D_N_IDENT,         /* name: a builtin variable or a global */
    PYPROBE__D_N_SELF,          /* self->name */
    PYPROBE__D_N_THIS,          /* this->name */
    PYPROBE__D_N_INDEX,         /* a[args]: a is IDENT, SELF or THIS */
    PYPROBE__D_N_AGG,           /* @name[args] */
    PYPROBE__D_N_MACRO,         /* $name or $$name (op '$' when $$) */
    PYPROBE__D_N_CALL,          /* name(args) */
    PYPROBE__D_N_UNARY,         /* op a: - + ! ~ */
    PYPROBE__D_N_INCDEC,        /* ++a --a (op), a++ a-- (op, postfix) */
    PYPROBE__D_N_BINARY,        /* a op b */
    PYPROBE__D_N_TERNARY,       /* a ? b : c */
    PYPROBE__D_N_ASSIGN,        /* a op= b (op '=' for plain) */
    PYPROBE__D_N_CAST,          /* (type) a */
    PYPROBE__D_N_REFUSED        /* a construct the translation refuses: name says which */
};

/* Operators, as their tokens spell them (d_lex.c's table). */
enum pyprobe__d_op {
    PYPROBE__D_OP_NONE,
    PYPROBE__D_OP_ADD, PYPROBE__D_OP_SUB, PYPROBE__D_OP_MUL, PYPROBE__D_OP_DIV, PYPROBE__D_OP_MOD,
    PYPROBE__D_OP_SHL, PYPROBE__D_OP_SHR, PYPROBE__D_OP_LT, PYPROBE__D_OP_LE, PYPROBE__D_OP_GT,
    PYPROBE__D_OP_GE, PYPROBE__D_OP_EQ, PYPROBE__D_OP_NE, PYPROBE__D_OP_BAND, PYPROBE__D_OP_BXOR,
    PYPROBE__D_OP_BOR, PYPROBE__D_OP_LAND, PYPROBE__D_OP_LXOR, PYPROBE__D_OP_LOR,
    PYPROBE__D_OP_NOT, PYPROBE__D_OP_BNOT, PYPROBE__D_OP_INC, PYPROBE__D_OP_DEC,
    PYPROBE__D_OP_ASSIGN, PYPROBE__D_OP_ADD_ASSIGN, PYPROBE__D_OP_SUB_ASSIGN, PYPROBE__D_OP_MUL_ASSIGN,
    PYPROBE__D_OP_DIV_ASSIGN, PYPROBE__D_OP_MOD_ASSIGN, PYPROBE__D_OP_SHL_ASSIGN, PYPROBE__D_OP_SHR_ASSIGN,
    PYPROBE__D_OP_AND_ASSIGN, PYPROBE__D_OP_XOR_ASSIGN, PYPROBE__D_OP_OR_ASSIGN,
    PYPROBE__D_OP_QUESTION, PYPROBE__D_OP_COLON, PYPROBE__D_OP_COMMA, PYPROBE__D_OP_SEMI,
    PYPROBE__D_OP_LPAREN, PYPROBE__D_OP_RPAREN, PYPROBE__D_OP_LBRACKET, PYPROBE__D_OP_RBRACKET,
    PYPROBE__D_OP_LBRACE, PYPROBE__D_OP_RBRACE, PYPROBE__D_OP_ARROW, PYPROBE__D_OP_DOT,
    PYPROBE__D_OP_AMP_UNUSED, PYPROBE__D_OP_BACKQUOTE, PYPROBE__D_OP_COUNT
};

struct pyprobe__d_builtin;
struct pyprobe__d_symbol;

struct pyprobe__d_node {
    enum pyprobe__d_node_kind kind;
    enum pyprobe__d_op op;
    bool postfix;               /* INCDEC */
    int line, column;
    const char *file;
    const char *name;           /* IDENT, SELF, THIS, AGG, MACRO, CALL, REFUSED */
    struct pyprobe__d_node *a, *b, *c;
    struct pyprobe__d_node **args;  /* CALL arguments, INDEX and AGG keys */
    size_t arg_count;
    int64_t value;              /* INT */
    const char *string;         /* STRING (no NUL inside: D strings end at one) */
    struct pyprobe__d_type cast;    /* CAST: the target type; INT: the literal's type */
    /* Set by the checker (each run overwrites them): */
    struct pyprobe__d_type type;
    const struct pyprobe__d_builtin *builtin;   /* IDENT of a builtin variable, CALL */
    struct pyprobe__d_symbol *symbol;           /* IDENT, SELF, THIS, INDEX, AGG */
    struct pyprobe__d_node *macro;              /* MACRO: what it stands for, once bound */
};

/* ---- the program ---- */

struct pyprobe__d_decl {
    enum pyprobe__d_node_kind scope;    /* IDENT (global), SELF or THIS */
    const char *name;
    struct pyprobe__d_type type;
    struct pyprobe__d_type *keys;       /* an associative array's key types */
    size_t key_count;
    bool is_array;
    const char *file;
    int line, column;
};

struct pyprobe__d_clause {
    struct pyprobe__d_vec descriptions; /* struct pyprobe__d_description_impl * */
    struct pyprobe__d_node *predicate;  /* NULL: none */
    struct pyprobe__d_vec statements;   /* struct pyprobe__d_node * */
    const char *file;
    int line, column;
    size_t index;
};

struct pyprobe__d_description_impl {
    struct pyprobe__d_description public;   /* first: the accessor returns it */
    const char *fields[4];      /* as written, before macro expansion */
};

struct pyprobe__d_program {
    struct pyprobe__d_arena arena;
    struct pyprobe__d_vec clauses;      /* struct pyprobe__d_clause * */
    struct pyprobe__d_vec descriptions; /* struct pyprobe__d_description_impl * */
    struct pyprobe__d_vec decls;        /* struct pyprobe__d_decl * */
    struct pyprobe__d_vec pragmas;      /* struct pyprobe__d_pragma * */
    struct pyprobe__d_vec macros;       /* struct pyprobe__d_node * (MACRO), for bind */
};

/* d_parse.c: parses `source` into the vectors of `program` (clauses,
 * descriptions, decls, pragmas, macros), allocating from ctx. */
void pyprobe__d_parse_source(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program, const char *file,
                             const char *source, size_t length);

/* d_describe.c: a description's kind and fields from its text. */
void pyprobe__d_describe(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *description);
/* Expands macros in the description's fields (NULL macros: none bound yet). */
void pyprobe__d_describe_bind(struct pyprobe__d_ctx *ctx, struct pyprobe__d_description_impl *description,
                              const struct pyprobe__d_translate_options *options);

/* d_program.c: expands the macros in every description. */
void pyprobe__d_bind_all(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program,
                         const struct pyprobe__d_translate_options *options);

/* d_check.c: names, types and refusals of the whole program. `options`
 * NULL: the macro arguments are not bound yet (checked as placeholders). */
struct pyprobe__d_sema;
struct pyprobe__d_sema *pyprobe__d_check(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program,
                                         const struct pyprobe__d_translate_options *options);

/* d_translate.c: translates for made-up probes, unbound macros: refusals
 * fail at parse time. */
void pyprobe__d_translate_dry(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program);

#endif /* PYPROBE_D_AST_H */
