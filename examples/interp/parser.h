/*
 * parser.h - pint's syntax tree, and the parser that builds it.
 *
 * One node type serves the whole tree; what its fields mean depends on the
 * kind (a dash: unused):
 *
 *   kind      name         a                  b        body          orelse
 *   INT       -            -                  -        -             -       (value: the number)
 *   STRING    the text     -                  -        -             -
 *   NIL       -            -                  -        -             -
 *   NAME      the name     -                  -        -             -
 *   UNARY     -            operand            -        -             -       (op: '-' or 'not')
 *   BINARY    -            left               right    -             -       (op: + - * / % == ...)
 *   AND, OR   -            left               right    -             -
 *   CALL      -            callee             -        arguments     -
 *   GET       field name   object             -        -             -
 *   EXPR      -            expression         -        -             -
 *   ASSIGN    variable     value              -        -             -
 *   SET       field name   object             value    -             -
 *   IF        -            condition          -        then-block    else-block (an IF for elif)
 *   WHILE     -            condition          -        block         -
 *   RETURN    -            value, or NULL     -        -             -
 *   FUNC      its name     parameters (NAMEs) -        block         -       (value: parameter count)
 *   CLASS     its name     -                  -        methods (FUNCs)
 *   IMPORT    module name  -                  -        -             -
 *
 * Lists (statements, arguments, parameters, methods) are chained by `next`.
 * Nodes and their names live in the module's arena: for the whole run.
 */
#ifndef PINT_PARSER_H
#define PINT_PARSER_H

#include "lexer.h"
#include "util.h"

typedef enum {
    N_INT, N_STRING, N_NIL, N_NAME, N_UNARY, N_BINARY, N_AND, N_OR, N_CALL, N_GET,
    N_EXPR, N_ASSIGN, N_SET, N_IF, N_WHILE, N_RETURN, N_FUNC, N_CLASS, N_IMPORT,
} NodeKind;

typedef struct Node Node;
struct Node {
    NodeKind kind;
    int line;
    Node *next;
    const char *name;
    long long value;
    TokenKind op;
    Node *a, *b, *body, *orelse;
};

/* Parses a whole source file into its list of statements. Syntax errors are
 * fatal (`file:line: syntax error: ...`). */
Node *parse_module(Arena *arena, const char *file, const char *source);

#endif
