/*
 * d_parse.c - D's grammar (illumos dt_grammar.y, the part scripts use):
 *
 *   program     := (declaration | clause)*
 *   declaration := [self|this] type name ['[' type, ... ']'] (',' name...)* ';'
 *   clause      := description (',' description)* ['/' expression '/'] ['{' statements '}']
 *   statements  := (expression? ';')* [expression]        the last ';' may go
 *
 * and C's expressions with D's additions (^^, @aggregations, self->,
 * this->, $macros). A recursive descent parser; nesting is bounded.
 */
#include <string.h>

#include "d_builtins.h"
#include "d_lex.h"

struct parser {
    struct pyprobe__d_ctx *ctx;
    struct pyprobe__d_lexer lexer;
    struct pyprobe__d_program *program;
    struct pyprobe__d_token token;      /* the lookahead */
    const char *file;
};

static void next(struct parser *p)
{
    p->token = pyprobe__d_lex_next(&p->lexer);
}

static bool is_op(const struct parser *p, enum pyprobe__d_op op)
{
    return p->token.kind == PYPROBE__D_TOK_OP && p->token.op == op;
}

static bool is_ident(const struct parser *p, const char *name)
{
    return p->token.kind == PYPROBE__D_TOK_IDENT && strcmp(p->token.string, name) == 0;
}

/* D's own wording: "syntax error near "}"". */
static _Noreturn void syntax_error(struct parser *p)
{
    pyprobe__d_fail(p->ctx, p->file, p->token.line, p->token.column, "syntax error near \"%s\"",
                    pyprobe__d_token_text(p->ctx, &p->token));
}

static void expect(struct parser *p, enum pyprobe__d_op op)
{
    if (!is_op(p, op))
        syntax_error(p);
    next(p);
}

static struct pyprobe__d_node *new_node(struct parser *p, enum pyprobe__d_node_kind kind,
                                        const struct pyprobe__d_token *at)
{
    struct pyprobe__d_node *node = pyprobe__d_alloc(p->ctx, sizeof *node);

    node->kind = kind;
    node->file = p->file;
    node->line = at->line;
    node->column = at->column;
    return node;
}

/* A construct the translation refuses, kept in the tree so that the
 * checker reports it where it is (with the other errors in order). */
static struct pyprobe__d_node *refused(struct parser *p, const struct pyprobe__d_token *at, const char *what)
{
    struct pyprobe__d_node *node = new_node(p, PYPROBE__D_N_REFUSED, at);

    node->name = what;
    return node;
}

/* ---- types ---- */

/* A type: words such as "unsigned long long" or "uint64_t". Returns false
 * when the lookahead is no type name. */
static bool parse_type(struct parser *p, struct pyprobe__d_type *type)
{
    const struct pyprobe__d_typename *tn;
    bool any = false, have_base = false, is_unsigned = false;

    *type = (struct pyprobe__d_type){PYPROBE__D_T_INT, 4, false};
    while (p->token.kind == PYPROBE__D_TOK_IDENT && (tn = pyprobe__d_typename_lookup(p->token.string)) != NULL) {
        if (tn->role == PYPROBE__D_TN_REFUSED)
            pyprobe__d_fail(p->ctx, p->file, p->token.line, p->token.column,
                            "type %s is not supported: integers and strings only", tn->name);
        if (tn->role == PYPROBE__D_TN_TYPEDEF && any)
            syntax_error(p);
        if (tn->role == PYPROBE__D_TN_MODIFIER) {
            is_unsigned = tn->type.is_unsigned;
        } else {
            if (have_base && !(tn->type.size == 8 || (tn->type.size == 4 && type->size != 1)))
                syntax_error(p);
            if (!have_base || tn->type.size == 8)
                *type = tn->type;
            have_base = true;
        }
        any = true;
        next(p);
        if (tn->role == PYPROBE__D_TN_TYPEDEF)
            return true;
    }
    if (type->kind == PYPROBE__D_T_INT && is_unsigned)
        type->is_unsigned = true;
    if (any && is_op(p, PYPROBE__D_OP_MUL))
        pyprobe__d_fail(p->ctx, p->file, p->token.line, p->token.column,
                        "pointer types are not supported: integers and strings only");
    return any;
}

/* ---- expressions ---- */

static struct pyprobe__d_node *parse_expression(struct parser *p);
static struct pyprobe__d_node *parse_assignment(struct parser *p);
static struct pyprobe__d_node *parse_unary(struct parser *p);

/* Comma-separated expressions up to `close` (which is consumed). */
static void parse_list(struct parser *p, enum pyprobe__d_op close, struct pyprobe__d_node *node)
{
    struct pyprobe__d_vec list = {0};

    if (!is_op(p, close)) {
        do {
            pyprobe__d_push(p->ctx, &list, parse_assignment(p));
        } while (is_op(p, PYPROBE__D_OP_COMMA) && (next(p), true));
    }
    expect(p, close);
    node->args = (struct pyprobe__d_node **)list.items;
    node->arg_count = list.count;
}

static struct pyprobe__d_node *parse_primary(struct parser *p)
{
    struct pyprobe__d_token at = p->token;
    struct pyprobe__d_node *node;

    switch (at.kind) {
    case PYPROBE__D_TOK_INT:
        node = new_node(p, PYPROBE__D_N_INT, &at);
        node->value = at.value;
        node->cast = at.int_type;
        break;
    case PYPROBE__D_TOK_STRING:
        node = new_node(p, PYPROBE__D_N_STRING, &at);
        node->string = at.string;
        break;
    case PYPROBE__D_TOK_IDENT:
        node = new_node(p, PYPROBE__D_N_IDENT, &at);
        node->name = at.string;
        break;
    case PYPROBE__D_TOK_MACRO:
        node = new_node(p, PYPROBE__D_N_MACRO, &at);
        node->name = at.string;
        node->op = at.dollar2 ? PYPROBE__D_OP_ASSIGN : PYPROBE__D_OP_NONE;
        pyprobe__d_push(p->ctx, &p->program->macros, node);
        break;
    case PYPROBE__D_TOK_AGG:
        node = new_node(p, PYPROBE__D_N_AGG, &at);
        node->name = at.string;
        next(p);
        if (is_op(p, PYPROBE__D_OP_LBRACKET)) {
            next(p);
            parse_list(p, PYPROBE__D_OP_RBRACKET, node);
        }
        return node;
    default:
        if (is_op(p, PYPROBE__D_OP_BACKQUOTE)) {
            next(p);
            if (p->token.kind == PYPROBE__D_TOK_IDENT)
                next(p);
            return refused(p, &at, "kernel symbols (`)");
        }
        syntax_error(p);
    }
    next(p);
    return node;
}

/* self->x and this->x; any other -> or . reaches into structs. */
static struct pyprobe__d_node *parse_member(struct parser *p, struct pyprobe__d_node *base)
{
    struct pyprobe__d_token at = p->token;
    bool arrow = is_op(p, PYPROBE__D_OP_ARROW);
    struct pyprobe__d_node *node;

    next(p);
    if (p->token.kind != PYPROBE__D_TOK_IDENT)
        syntax_error(p);
    if (!arrow || base->kind != PYPROBE__D_N_IDENT || (strcmp(base->name, "self") && strcmp(base->name, "this"))) {
        next(p);
        node = refused(p, &at, arrow ? "pointers and struct members (->)" : "struct members (.)");
        node->a = base; /* checked first: curpsinfo->... names curpsinfo */
        return node;
    }
    node = new_node(p, strcmp(base->name, "self") == 0 ? PYPROBE__D_N_SELF : PYPROBE__D_N_THIS, &at);
    node->line = base->line;
    node->column = base->column;
    node->name = p->token.string;
    next(p);
    return node;
}

/* The postfix operators after `node` (a primary, or a parenthesized
 * expression), or after the next primary when node is NULL. */
static struct pyprobe__d_node *parse_postfix(struct parser *p, struct pyprobe__d_node *node)
{
    struct pyprobe__d_node *outer;

    if (!node)
        node = parse_primary(p);

    for (;;) {
        struct pyprobe__d_token at = p->token;

        if (is_op(p, PYPROBE__D_OP_LBRACKET) && node->kind != PYPROBE__D_N_AGG) {
            outer = new_node(p, PYPROBE__D_N_INDEX, &at);
            outer->a = node;
            outer->line = node->line;
            outer->column = node->column;
            next(p);
            parse_list(p, PYPROBE__D_OP_RBRACKET, outer);
        } else if (is_op(p, PYPROBE__D_OP_LPAREN) && node->kind == PYPROBE__D_N_IDENT) {
            outer = node;
            outer->kind = PYPROBE__D_N_CALL;
            next(p);
            parse_list(p, PYPROBE__D_OP_RPAREN, outer);
        } else if (is_op(p, PYPROBE__D_OP_ARROW) || is_op(p, PYPROBE__D_OP_DOT)) {
            outer = parse_member(p, node);
        } else if (is_op(p, PYPROBE__D_OP_INC) || is_op(p, PYPROBE__D_OP_DEC)) {
            outer = new_node(p, PYPROBE__D_N_INCDEC, &at);
            outer->op = at.op;
            outer->postfix = true;
            outer->a = node;
            next(p);
        } else {
            return node;
        }
        node = outer;
    }
}

/* '(' type ')' expression, when the parenthesis holds a type name. */
static struct pyprobe__d_node *parse_cast(struct parser *p, const struct pyprobe__d_token *at)
{
    struct pyprobe__d_node *node = new_node(p, PYPROBE__D_N_CAST, at);

    parse_type(p, &node->cast);
    expect(p, PYPROBE__D_OP_RPAREN);
    if (node->cast.kind == PYPROBE__D_T_STRING)
        pyprobe__d_fail(p->ctx, p->file, at->line, at->column,
                        "casts to string are not supported: use stringof() or copyinstr()");
    node->a = parse_unary(p);
    return node;
}

static bool is_prefix_op(const struct pyprobe__d_token *at)
{
    static const enum pyprobe__d_op prefix[] = {PYPROBE__D_OP_SUB, PYPROBE__D_OP_ADD, PYPROBE__D_OP_NOT,
                                                PYPROBE__D_OP_BNOT, PYPROBE__D_OP_INC, PYPROBE__D_OP_DEC,
                                                PYPROBE__D_OP_MUL, PYPROBE__D_OP_BAND};

    for (size_t i = 0; at->kind == PYPROBE__D_TOK_OP && i < sizeof prefix / sizeof prefix[0]; i++)
        if (at->op == prefix[i])
            return true;
    return false;
}

static struct pyprobe__d_node *parse_prefix(struct parser *p, const struct pyprobe__d_token *at)
{
    bool incdec = at->op == PYPROBE__D_OP_INC || at->op == PYPROBE__D_OP_DEC;
    struct pyprobe__d_node *node = new_node(p, incdec ? PYPROBE__D_N_INCDEC : PYPROBE__D_N_UNARY, at);

    next(p);
    node->op = at->op;
    node->a = parse_unary(p);
    if (at->op == PYPROBE__D_OP_MUL || at->op == PYPROBE__D_OP_BAND)
        node = refused(p, at, at->op == PYPROBE__D_OP_MUL ? "pointer dereference (*)" : "addresses (&)");
    return node;
}

/* '(' starts a cast when a type name follows, else a parenthesized
 * expression (which postfix operators may follow). */
static struct pyprobe__d_node *parse_parenthesis(struct parser *p, const struct pyprobe__d_token *at)
{
    struct pyprobe__d_node *node;

    next(p);
    if (p->token.kind == PYPROBE__D_TOK_IDENT && pyprobe__d_typename_lookup(p->token.string))
        return parse_cast(p, at);
    node = parse_expression(p);
    expect(p, PYPROBE__D_OP_RPAREN);
    return parse_postfix(p, node);
}

static struct pyprobe__d_node *parse_unary(struct parser *p)
{
    struct pyprobe__d_token at = p->token;
    struct pyprobe__d_node *node;

    pyprobe__d_enter(p->ctx, p->file, at.line, at.column);
    if (is_op(p, PYPROBE__D_OP_LPAREN))
        node = parse_parenthesis(p, &at);
    else if (is_prefix_op(&at))
        node = parse_prefix(p, &at);
    else
        node = parse_postfix(p, NULL);
    pyprobe__d_leave(p->ctx);
    return node;
}

/* C's binary operators and D's ^^, by precedence (higher binds tighter). */
static int precedence(enum pyprobe__d_op op)
{
    static const struct {
        enum pyprobe__d_op op;
        int precedence;
    } table[] = {
        {PYPROBE__D_OP_LOR, 1}, {PYPROBE__D_OP_LXOR, 2}, {PYPROBE__D_OP_LAND, 3}, {PYPROBE__D_OP_BOR, 4},
        {PYPROBE__D_OP_BXOR, 5}, {PYPROBE__D_OP_BAND, 6}, {PYPROBE__D_OP_EQ, 7}, {PYPROBE__D_OP_NE, 7},
        {PYPROBE__D_OP_LT, 8}, {PYPROBE__D_OP_LE, 8}, {PYPROBE__D_OP_GT, 8}, {PYPROBE__D_OP_GE, 8},
        {PYPROBE__D_OP_SHL, 9}, {PYPROBE__D_OP_SHR, 9}, {PYPROBE__D_OP_ADD, 10}, {PYPROBE__D_OP_SUB, 10},
        {PYPROBE__D_OP_MUL, 11}, {PYPROBE__D_OP_DIV, 11}, {PYPROBE__D_OP_MOD, 11},
    };

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].op == op)
            return table[i].precedence;
    return 0;
}

static struct pyprobe__d_node *parse_binary(struct parser *p, int min_precedence)
{
    struct pyprobe__d_node *left = parse_unary(p);

    for (;;) {
        struct pyprobe__d_token at = p->token;
        int prec = at.kind == PYPROBE__D_TOK_OP ? precedence(at.op) : 0;
        struct pyprobe__d_node *node;

        if (prec == 0 || prec < min_precedence)
            return left;
        next(p);
        pyprobe__d_enter(p->ctx, p->file, at.line, at.column);
        node = new_node(p, PYPROBE__D_N_BINARY, &at);
        node->op = at.op;
        node->a = left;
        node->b = parse_binary(p, prec + 1);
        pyprobe__d_leave(p->ctx);
        left = node;
    }
}

static struct pyprobe__d_node *parse_conditional(struct parser *p)
{
    struct pyprobe__d_node *condition = parse_binary(p, 1), *node;
    struct pyprobe__d_token at = p->token;

    if (!is_op(p, PYPROBE__D_OP_QUESTION))
        return condition;
    next(p);
    pyprobe__d_enter(p->ctx, p->file, at.line, at.column);
    node = new_node(p, PYPROBE__D_N_TERNARY, &at);
    node->a = condition;
    node->b = parse_expression(p);
    expect(p, PYPROBE__D_OP_COLON);
    node->c = parse_conditional(p);
    pyprobe__d_leave(p->ctx);
    return node;
}

static bool is_assign_op(enum pyprobe__d_op op)
{
    return op >= PYPROBE__D_OP_ASSIGN && op <= PYPROBE__D_OP_OR_ASSIGN;
}

static struct pyprobe__d_node *parse_assignment(struct parser *p)
{
    struct pyprobe__d_node *left = parse_conditional(p), *node;
    struct pyprobe__d_token at = p->token;

    if (at.kind != PYPROBE__D_TOK_OP || !is_assign_op(at.op))
        return left;
    next(p);
    pyprobe__d_enter(p->ctx, p->file, at.line, at.column);
    node = new_node(p, PYPROBE__D_N_ASSIGN, &at);
    node->op = at.op;
    node->line = left->line;
    node->column = left->column;
    node->a = left;
    node->b = parse_assignment(p);
    pyprobe__d_leave(p->ctx);
    return node;
}

static struct pyprobe__d_node *parse_expression(struct parser *p)
{
    if (is_op(p, PYPROBE__D_OP_COMMA))
        syntax_error(p);
    return parse_assignment(p);
}

/* ---- clauses ---- */

static void parse_statements(struct parser *p, struct pyprobe__d_clause *clause)
{
    static const char *const not_d[] = {"if", "else", "for", "while", "do", "switch", "return", "break",
                                        "continue", "goto"};

    expect(p, PYPROBE__D_OP_LBRACE);
    while (!is_op(p, PYPROBE__D_OP_RBRACE)) {
        if (is_op(p, PYPROBE__D_OP_SEMI)) {
            next(p);
            continue;
        }
        for (size_t i = 0; i < sizeof not_d / sizeof not_d[0]; i++)
            if (is_ident(p, not_d[i]))
                pyprobe__d_fail(p->ctx, p->file, p->token.line, p->token.column,
                                "%s statements are not part of D: use a predicate or ?:", not_d[i]);
        pyprobe__d_push(p->ctx, &clause->statements, parse_expression(p));
        if (!is_op(p, PYPROBE__D_OP_RBRACE))
            expect(p, PYPROBE__D_OP_SEMI);
    }
    /* The brace ends the clause: what follows is lexed at the top level. */
}

static void add_description(struct parser *p, struct pyprobe__d_clause *clause, const struct pyprobe__d_token *at)
{
    struct pyprobe__d_description_impl *d = pyprobe__d_alloc(p->ctx, sizeof *d);

    d->public.text = at->string;
    d->public.file = p->file;
    d->public.line = at->line;
    d->public.column = at->column;
    pyprobe__d_describe(p->ctx, d);
    pyprobe__d_push(p->ctx, &clause->descriptions, d);
}

static void parse_clause(struct parser *p, const struct pyprobe__d_token *first)
{
    struct pyprobe__d_clause *clause = pyprobe__d_alloc(p->ctx, sizeof *clause);
    struct pyprobe__d_token at = *first;

    clause->file = p->file;
    clause->line = first->line;
    clause->column = first->column;
    for (;;) {
        if (at.kind != PYPROBE__D_TOK_PSPEC)
            syntax_error(p);
        add_description(p, clause, &at);
        next(p);
        if (!is_op(p, PYPROBE__D_OP_COMMA))
            break;
        at = pyprobe__d_lex_pspec(&p->lexer);
        p->token = at;
    }
    if (is_op(p, PYPROBE__D_OP_DIV)) {
        next(p);
        clause->predicate = parse_expression(p);
        if (p->token.kind != PYPROBE__D_TOK_EPRED)
            syntax_error(p);
        next(p);
    }
    if (p->token.kind != PYPROBE__D_TOK_EOF)
        parse_statements(p, clause);
    pyprobe__d_push(p->ctx, &p->program->clauses, clause);
}

/* ---- declarations ---- */

static void parse_declarator(struct parser *p, enum pyprobe__d_node_kind scope, struct pyprobe__d_type type)
{
    struct pyprobe__d_decl *decl = pyprobe__d_alloc(p->ctx, sizeof *decl);
    struct pyprobe__d_vec keys = {0};

    if (p->token.kind != PYPROBE__D_TOK_IDENT)
        syntax_error(p);
    decl->scope = scope;
    decl->name = p->token.string;
    decl->type = type;
    decl->file = p->file;
    decl->line = p->token.line;
    decl->column = p->token.column;
    next(p);
    if (is_op(p, PYPROBE__D_OP_LBRACKET)) {
        decl->is_array = true;
        next(p);
        while (!is_op(p, PYPROBE__D_OP_RBRACKET)) {
            struct pyprobe__d_type *key = pyprobe__d_alloc(p->ctx, sizeof *key);

            if (keys.count && !is_op(p, PYPROBE__D_OP_COMMA))
                syntax_error(p);
            if (keys.count)
                next(p);
            if (!parse_type(p, key))
                syntax_error(p);
            pyprobe__d_push(p->ctx, &keys, key);
        }
        next(p);
        decl->key_count = keys.count;
        decl->keys = pyprobe__d_alloc(p->ctx, (keys.count + 1) * sizeof *decl->keys);
        for (size_t i = 0; i < keys.count; i++)
            decl->keys[i] = *(struct pyprobe__d_type *)keys.items[i];
    }
    pyprobe__d_push(p->ctx, &p->program->decls, decl);
}

static void parse_declaration(struct parser *p)
{
    enum pyprobe__d_node_kind scope = PYPROBE__D_N_IDENT;
    struct pyprobe__d_type type;

    if (is_ident(p, "self") || is_ident(p, "this")) {
        scope = is_ident(p, "self") ? PYPROBE__D_N_SELF : PYPROBE__D_N_THIS;
        next(p);
    }
    if (p->token.kind == PYPROBE__D_TOK_IDENT && !pyprobe__d_typename_lookup(p->token.string))
        pyprobe__d_fail(p->ctx, p->file, p->token.line, p->token.column,
                        "%s declarations are not supported: only variables of integer or string type",
                        p->token.string);
    if (!parse_type(p, &type))
        syntax_error(p);
    for (;;) {
        parse_declarator(p, scope, type);
        if (!is_op(p, PYPROBE__D_OP_COMMA))
            break;
        next(p);
    }
    if (!is_op(p, PYPROBE__D_OP_SEMI))
        syntax_error(p);
}

/* At the top level, D's lexer tells declarations from probe descriptions
 * by their first word: a keyword followed by white space declares. */
static bool starts_declaration(struct parser *p, const struct pyprobe__d_token *t)
{
    size_t after = t->offset + t->length;
    char c = after < p->lexer.length ? p->lexer.source[after] : ' ';

    return t->kind == PYPROBE__D_TOK_PSPEC && pyprobe__d_is_decl_keyword(t->string) &&
           (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

/* Each item ends on its last token (';', '}', the predicate's '/' or the
 * end): the next one is lexed afresh, as a description or a declaration. */
void pyprobe__d_parse_source(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program, const char *file,
                             const char *source, size_t length)
{
    struct parser p = {.ctx = ctx, .program = program, .file = file};

    pyprobe__d_lex_init(&p.lexer, ctx, program, file, source, length);
    for (;;) {
        struct pyprobe__d_token first = pyprobe__d_lex_pspec(&p.lexer);

        p.token = first;
        if (first.kind == PYPROBE__D_TOK_EOF)
            return;
        if (is_op(&p, PYPROBE__D_OP_SEMI))
            continue;
        if (starts_declaration(&p, &first)) {
            pyprobe__d_lex_rewind(&p.lexer, &first);
            next(&p);
            parse_declaration(&p);
            continue;
        }
        parse_clause(&p, &first);
    }
}
