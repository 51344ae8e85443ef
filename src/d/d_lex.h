/*
 * d_lex.h - D's tokens. The lexer has two modes, as D's own (dt_lex.l):
 * expressions, and probe descriptions (python$target:::function-entry,
 * tick-1sec, syscall::open*:entry), which the parser asks for at the top
 * level. Comments, `#pragma D option` lines (recorded in the program) and
 * a first-line `#!` are skipped as white space.
 */
#ifndef PYPROBE_D_LEX_H
#define PYPROBE_D_LEX_H

#include "d_ast.h"

enum pyprobe__d_token_kind {
    PYPROBE__D_TOK_EOF,
    PYPROBE__D_TOK_IDENT,
    PYPROBE__D_TOK_INT,         /* value, int_type */
    PYPROBE__D_TOK_STRING,      /* string (decoded) */
    PYPROBE__D_TOK_AGG,         /* @name: string is the name ("" for @) */
    PYPROBE__D_TOK_MACRO,       /* $name / $$name: string is the name, dollar2 */
    PYPROBE__D_TOK_OP,          /* op */
    PYPROBE__D_TOK_EPRED,       /* the "/" that ends a predicate */
    PYPROBE__D_TOK_PSPEC        /* a probe description: string */
};

struct pyprobe__d_token {
    enum pyprobe__d_token_kind kind;
    enum pyprobe__d_op op;
    const char *text;           /* the token in the source */
    size_t length;
    int64_t value;
    struct pyprobe__d_type int_type;
    const char *string;
    bool dollar2;
    int line, column;
    size_t offset;
};

struct pyprobe__d_lexer {
    struct pyprobe__d_ctx *ctx;
    struct pyprobe__d_program *program;     /* receives the pragmas */
    const char *file;
    const char *source;
    size_t length, pos, line_start;
    int line;
};

void pyprobe__d_lex_init(struct pyprobe__d_lexer *lexer, struct pyprobe__d_ctx *ctx,
                         struct pyprobe__d_program *program, const char *file, const char *source, size_t length);
struct pyprobe__d_token pyprobe__d_lex_next(struct pyprobe__d_lexer *lexer);
/* A probe description at the current position (after white space). */
struct pyprobe__d_token pyprobe__d_lex_pspec(struct pyprobe__d_lexer *lexer);
/* Back to where `token` started, to lex it again in the other mode. */
void pyprobe__d_lex_rewind(struct pyprobe__d_lexer *lexer, const struct pyprobe__d_token *token);
/* The operator's spelling, for messages. */
const char *pyprobe__d_op_text(enum pyprobe__d_op op);
/* A token as the error messages quote it ("syntax error near ..."). */
const char *pyprobe__d_token_text(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_token *token);

#endif /* PYPROBE_D_LEX_H */
