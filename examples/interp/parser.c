/*
 * parser.c - recursive descent, one function per rule:
 *
 *   module     := statement* EOF
 *   statement  := 'import' NAME
 *               | 'func' NAME '(' [NAME (',' NAME)*] ')' NL block 'end'
 *               | 'class' NAME NL ('func' ...)* 'end'
 *               | 'if' expr NL block ('elif' expr NL block)* ['else' NL block] 'end'
 *               | 'while' expr NL block 'end'
 *               | 'return' [expr]
 *               | expr ['=' expr]                    (to a NAME or a field)
 *               ... each ended by a newline
 *   expr       := and ('or' and)*
 *   and        := not ('and' not)*
 *   not        := 'not' not | comparison
 *   comparison := sum [('==' | '!=' | '<' | '<=' | '>' | '>=') sum]
 *   sum        := product (('+' | '-') product)*
 *   product    := unary (('*' | '/' | '%') unary)*
 *   unary      := '-' unary | postfix
 *   postfix    := primary ('(' [expr (',' expr)*] ')' | '.' NAME)*
 *   primary    := INT | STRING | 'nil' | NAME | '(' expr ')'
 */
#include "parser.h"

#include <stdbool.h>

typedef struct {
    Lexer lexer;
    Arena *arena;
    Token current;
    bool in_function;  /* no nested func or class, no return at top level */
} Parser;

static Node *statement(Parser *p);
static Node *expression(Parser *p);

/* ---- tokens ---- */

static void advance(Parser *p)
{
    p->current = lexer_next(&p->lexer);
}

static bool match(Parser *p, TokenKind kind)
{
    if (p->current.kind != kind)
        return false;
    advance(p);
    return true;
}

_Noreturn static void error_here(Parser *p, const char *message)
{
    fail_at(p->lexer.file, p->current.line, "syntax error: %s", message);
}

_Noreturn static void error_expected(Parser *p, const char *what)
{
    fail_at(p->lexer.file, p->current.line, "syntax error: expected %s, found %s",
            what, token_kind_text(p->current.kind));
}

static void expect(Parser *p, TokenKind kind, const char *what)
{
    if (!match(p, kind))
        error_expected(p, what);
}

static const char *expect_name(Parser *p, const char *what)
{
    Token name = p->current;

    expect(p, TOK_NAME, what);
    return arena_strndup(p->arena, name.start, (size_t)name.length);
}

static void end_of_line(Parser *p)
{
    if (p->current.kind != TOK_EOF)
        expect(p, TOK_NEWLINE, "the end of the line");
}

static Node *new_node(Parser *p, NodeKind kind, int line)
{
    Node *node = arena_alloc(p->arena, sizeof *node);
    node->kind = kind;
    node->line = line;
    return node;
}

/* Each nesting level recurses once more in the parser, and later in the
 * evaluator: refuse what the C stack cannot hold. */
static void check_depth(Parser *p)
{
    if (stack_exhausted())
        error_here(p, "program nested too deeply");
}

/* ---- expressions ---- */

static const char *decode_string(Parser *p, Token token)
{
    char *text = arena_alloc(p->arena, (size_t)token.length + 1), *out = text;

    for (const char *in = token.start; in < token.start + token.length; in++) {
        if (*in != '\\') {
            *out++ = *in;
            continue;
        }
        switch (*++in) {
        case 'n': *out++ = '\n'; break;
        case 't': *out++ = '\t'; break;
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        default: error_here(p, "unknown escape in string (use \\n \\t \\\" \\\\)");
        }
    }
    return text;
}

static Node *primary(Parser *p)
{
    Token token = p->current;
    Node *node;

    switch (token.kind) {
    case TOK_INT:
        node = new_node(p, N_INT, token.line);
        node->value = token.value;
        break;
    case TOK_STRING:
        node = new_node(p, N_STRING, token.line);
        node->name = decode_string(p, token);
        break;
    case TOK_NIL:
        node = new_node(p, N_NIL, token.line);
        break;
    case TOK_NAME:
        node = new_node(p, N_NAME, token.line);
        node->name = arena_strndup(p->arena, token.start, (size_t)token.length);
        break;
    case TOK_LPAREN:
        advance(p);
        node = expression(p);
        expect(p, TOK_RPAREN, "')'");
        return node;
    default:
        error_expected(p, "an expression");
    }
    advance(p);
    return node;
}

static Node *call_arguments(Parser *p, Node *callee)
{
    Node *call = new_node(p, N_CALL, p->current.line), **tail = &call->body;

    call->a = callee;
    if (!match(p, TOK_RPAREN)) {
        do {
            *tail = expression(p);
            tail = &(*tail)->next;
        } while (match(p, TOK_COMMA));
        expect(p, TOK_RPAREN, "')' after the arguments");
    }
    return call;
}

static Node *postfix(Parser *p)
{
    Node *node = primary(p);

    for (;;) {
        int line = p->current.line;
        if (match(p, TOK_LPAREN)) {
            node = call_arguments(p, node);
        } else if (match(p, TOK_DOT)) {
            Node *get = new_node(p, N_GET, line);
            get->a = node;
            get->name = expect_name(p, "a field name after '.'");
            node = get;
        } else {
            return node;
        }
    }
}

/* A prefix operator: `op` applied to what `self` parses (so that it nests:
 * - - x, not not x), or, without `op`, the next level down. */
static Node *prefix_operator(Parser *p, TokenKind op, Node *(*self)(Parser *), Node *(*next)(Parser *))
{
    int line = p->current.line;

    check_depth(p);
    if (!match(p, op))
        return next(p);
    Node *node = new_node(p, N_UNARY, line);
    node->op = op;
    node->a = self(p);
    return node;
}

static Node *unary(Parser *p)
{
    return prefix_operator(p, TOK_MINUS, unary, postfix);
}

static Node *binary(Parser *p, NodeKind kind, TokenKind op, int line, Node *left, Node *right)
{
    Node *node = new_node(p, kind, line);
    node->op = op;
    node->a = left;
    node->b = right;
    return node;
}

static Node *product(Parser *p)
{
    Node *node = unary(p);

    for (;;) {
        Token op = p->current;
        if (!match(p, TOK_STAR) && !match(p, TOK_SLASH) && !match(p, TOK_PERCENT))
            return node;
        node = binary(p, N_BINARY, op.kind, op.line, node, unary(p));
    }
}

static Node *sum(Parser *p)
{
    Node *node = product(p);

    for (;;) {
        Token op = p->current;
        if (!match(p, TOK_PLUS) && !match(p, TOK_MINUS))
            return node;
        node = binary(p, N_BINARY, op.kind, op.line, node, product(p));
    }
}

static bool is_comparison(TokenKind kind)
{
    return kind == TOK_EQ || kind == TOK_NE || kind == TOK_LT || kind == TOK_LE ||
           kind == TOK_GT || kind == TOK_GE;
}

static Node *comparison(Parser *p)
{
    Node *node = sum(p);
    Token op = p->current;

    if (!is_comparison(op.kind))
        return node;
    advance(p);
    return binary(p, N_BINARY, op.kind, op.line, node, sum(p));
}

static Node *not_expression(Parser *p)
{
    return prefix_operator(p, TOK_NOT, not_expression, comparison);
}

static Node *and_expression(Parser *p)
{
    Node *node = not_expression(p);

    for (int line = p->current.line; match(p, TOK_AND); line = p->current.line)
        node = binary(p, N_AND, TOK_AND, line, node, not_expression(p));
    return node;
}

static Node *expression(Parser *p)
{
    Node *node = and_expression(p);

    for (int line = p->current.line; match(p, TOK_OR); line = p->current.line)
        node = binary(p, N_OR, TOK_OR, line, node, and_expression(p));
    return node;
}

/* ---- statements ---- */

/* Statements up to (not including) 'end', 'elif', 'else' or the end of file. */
static Node *block(Parser *p)
{
    Node *first = NULL, **tail = &first;

    while (p->current.kind != TOK_END && p->current.kind != TOK_ELIF &&
           p->current.kind != TOK_ELSE && p->current.kind != TOK_EOF) {
        *tail = statement(p);
        tail = &(*tail)->next;
    }
    return first;
}

static void expect_end(Parser *p, const char *opener, int opener_line)
{
    if (p->current.kind != TOK_END) {
        fail_at(p->lexer.file, p->current.line,
                "syntax error: expected 'end' to close the '%s' on line %d, found %s",
                opener, opener_line, token_kind_text(p->current.kind));
    }
    advance(p);
    end_of_line(p);
}

static Node *parameters(Parser *p, long long *count)
{
    Node *first = NULL, **tail = &first;

    expect(p, TOK_LPAREN, "'(' after the function name");
    if (match(p, TOK_RPAREN))
        return NULL;
    do {
        *tail = new_node(p, N_NAME, p->current.line);
        (*tail)->name = expect_name(p, "a parameter name");
        tail = &(*tail)->next;
        ++*count;
    } while (match(p, TOK_COMMA));
    expect(p, TOK_RPAREN, "')' after the parameters");
    return first;
}

static Node *func_statement(Parser *p, int line)
{
    Node *node = new_node(p, N_FUNC, line);

    if (p->in_function)
        error_here(p, "'func' inside a function (pint has no closures)");
    node->name = expect_name(p, "a function name");
    node->a = parameters(p, &node->value);
    end_of_line(p);
    p->in_function = true;
    node->body = block(p);
    p->in_function = false;
    expect_end(p, "func", line);
    return node;
}

static Node *class_statement(Parser *p, int line)
{
    Node *node = new_node(p, N_CLASS, line), **tail = &node->body;

    if (p->in_function)
        error_here(p, "'class' inside a function");
    node->name = expect_name(p, "a class name");
    end_of_line(p);
    while (p->current.kind == TOK_FUNC) {
        int method_line = p->current.line;
        advance(p);
        *tail = func_statement(p, method_line);
        tail = &(*tail)->next;
    }
    if (p->current.kind != TOK_END && p->current.kind != TOK_EOF)
        error_here(p, "a class body holds only 'func' definitions");
    expect_end(p, "class", line);
    return node;
}

/* What 'if', 'elif' and 'while' share: the condition, the end of its line
 * and the block under it, into a new node of `kind`. */
static Node *condition_and_block(Parser *p, NodeKind kind, int line)
{
    Node *node = new_node(p, kind, line);

    node->a = expression(p);
    end_of_line(p);
    node->body = block(p);
    return node;
}

/* After 'if' or 'elif': an 'elif' becomes an IF in the else branch, which
 * takes the one closing 'end'. */
static Node *if_statement(Parser *p, int line)
{
    Node *node = condition_and_block(p, N_IF, line);
    int elif_line = p->current.line;
    if (match(p, TOK_ELIF)) {
        node->orelse = if_statement(p, elif_line);
        return node;
    }
    if (match(p, TOK_ELSE)) {
        end_of_line(p);
        node->orelse = block(p);
    }
    expect_end(p, "if", line);
    return node;
}

static Node *while_statement(Parser *p, int line)
{
    Node *node = condition_and_block(p, N_WHILE, line);

    expect_end(p, "while", line);
    return node;
}

static Node *return_statement(Parser *p, int line)
{
    Node *node = new_node(p, N_RETURN, line);

    if (!p->in_function)
        error_here(p, "'return' outside a function");
    if (p->current.kind != TOK_NEWLINE && p->current.kind != TOK_EOF)
        node->a = expression(p);
    end_of_line(p);
    return node;
}

static Node *import_statement(Parser *p, int line)
{
    Node *node = new_node(p, N_IMPORT, line);

    node->name = expect_name(p, "a module name after 'import'");
    end_of_line(p);
    return node;
}

/* An expression, or an assignment to a variable or a field. */
static Node *expression_statement(Parser *p, int line)
{
    Node *target = expression(p), *node;

    if (!match(p, TOK_ASSIGN)) {
        node = new_node(p, N_EXPR, line);
        node->a = target;
    } else if (target->kind == N_NAME) {
        node = new_node(p, N_ASSIGN, line);
        node->name = target->name;
        node->a = expression(p);
    } else if (target->kind == N_GET) {
        node = new_node(p, N_SET, line);
        node->name = target->name;
        node->a = target->a;
        node->b = expression(p);
    } else {
        fail_at(p->lexer.file, line, "syntax error: cannot assign to this expression");
    }
    end_of_line(p);
    return node;
}

/* The statements that start with a keyword, by their keyword. */
static const struct {
    TokenKind keyword;
    Node *(*parse)(Parser *p, int line);
} keyword_statements[] = {
    {TOK_IMPORT, import_statement}, {TOK_FUNC, func_statement},   {TOK_CLASS, class_statement},
    {TOK_IF, if_statement},         {TOK_WHILE, while_statement}, {TOK_RETURN, return_statement},
};

static Node *statement(Parser *p)
{
    int line = p->current.line;

    check_depth(p);
    for (size_t i = 0; i < sizeof keyword_statements / sizeof keyword_statements[0]; i++)
        if (match(p, keyword_statements[i].keyword))
            return keyword_statements[i].parse(p, line);
    return expression_statement(p, line);
}

Node *parse_module(Arena *arena, const char *file, const char *source)
{
    Parser p = {.arena = arena};

    lexer_init(&p.lexer, file, source);
    advance(&p);
    Node *statements = block(&p);
    if (p.current.kind != TOK_EOF)
        error_here(&p, p.current.kind == TOK_END ? "'end' without a block to close"
                                                  : "'elif' or 'else' without an 'if'");
    return statements;
}
