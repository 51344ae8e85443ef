/*
 * d_check.c - names, types and refusals: every expression gets its D type,
 * every variable and aggregation its symbol, and whatever the translation
 * cannot do as D would is refused here, with its place and its reason.
 *
 * D types a variable by its declaration or first assignment. The checker
 * makes lenient passes over the program until no new type appears (so
 * that clause order does not matter), then a strict one that reports
 * anything still unknown or inconsistent.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "d_builtins.h"
#include "d_lex.h"
#include "d_sema.h"

struct checker {
    struct pyprobe__d_ctx *ctx;
    struct pyprobe__d_program *program;
    struct pyprobe__d_sema *sema;
    bool strict;
    bool changed;               /* a lenient pass learnt a type */
};

static const struct pyprobe__d_type T_NONE = {PYPROBE__D_T_NONE, 0, false};
static const struct pyprobe__d_type T_INT = {PYPROBE__D_T_INT, 4, false};
static const struct pyprobe__d_type T_I64 = {PYPROBE__D_T_INT, 8, false};
static const struct pyprobe__d_type T_STRING = {PYPROBE__D_T_STRING, 0, false};

/* An error at a node, which ends the check. */
#define fail(c, at, ...) pyprobe__d_fail_at((c)->ctx, (at), __VA_ARGS__)

static const char *type_name(struct pyprobe__d_type t)
{
    static const char *const ints[2][9] = {
        {"", "char", "short", "", "int", "", "", "", "int64_t"},
        {"", "uchar_t", "ushort_t", "", "uint_t", "", "", "", "uint64_t"},
    };

    if (t.kind == PYPROBE__D_T_STRING)
        return "string";
    if (t.kind == PYPROBE__D_T_STACK)
        return "stack";
    if (t.kind == PYPROBE__D_T_INT && t.size <= 8)
        return ints[t.is_unsigned][t.size];
    return "void";
}

/* ---- shared helpers ---- */

const struct pyprobe__d_node *pyprobe__d_unmacro(const struct pyprobe__d_node *node)
{
    while (node && node->kind == PYPROBE__D_N_MACRO && node->macro)
        node = node->macro;
    return node;
}

static bool fold(enum pyprobe__d_op op, int64_t a, int64_t b, int64_t *out)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;

    switch (op) {
    case PYPROBE__D_OP_ADD: *out = (int64_t)(ua + ub); return true;
    case PYPROBE__D_OP_SUB: *out = (int64_t)(ua - ub); return true;
    case PYPROBE__D_OP_MUL: *out = (int64_t)(ua * ub); return true;
    case PYPROBE__D_OP_DIV: if (b == 0 || (a == INT64_MIN && b == -1)) return false; *out = a / b; return true;
    case PYPROBE__D_OP_MOD: if (b == 0 || (a == INT64_MIN && b == -1)) return false; *out = a % b; return true;
    case PYPROBE__D_OP_SHL: if (b < 0 || b > 63) return false; *out = (int64_t)(ua << b); return true;
    case PYPROBE__D_OP_SHR: if (b < 0 || b > 63) return false; *out = a >> b; return true;
    case PYPROBE__D_OP_BAND: *out = a & b; return true;
    case PYPROBE__D_OP_BOR: *out = a | b; return true;
    case PYPROBE__D_OP_BXOR: *out = a ^ b; return true;
    default: return false;
    }
}

bool pyprobe__d_constant(const struct pyprobe__d_node *node, int64_t *value)
{
    int64_t a, b;
    const char *text;

    node = pyprobe__d_unmacro(node);
    switch (node->kind) {
    case PYPROBE__D_N_INT:
        *value = node->value;
        return true;
    case PYPROBE__D_N_MACRO: /* not bound yet: the parse-time dry run may not refuse what it may be */
        *value = 0;
        return true;
    case PYPROBE__D_N_UNARY:
        if (!pyprobe__d_constant(node->a, &a))
            return false;
        *value = node->op == PYPROBE__D_OP_SUB ? (int64_t)(0 - (uint64_t)a)
                 : node->op == PYPROBE__D_OP_BNOT ? ~a
                 : node->op == PYPROBE__D_OP_NOT ? !a
                                                  : a;
        return true;
    case PYPROBE__D_N_BINARY:
        return pyprobe__d_constant(node->a, &a) && pyprobe__d_constant(node->b, &b) && fold(node->op, a, b, value);
    case PYPROBE__D_N_CAST:
        if (!pyprobe__d_constant(node->a, &a))
            return false;
        *value = pyprobe__d_narrow(a, node->cast);
        return true;
    case PYPROBE__D_N_CALL:
        if (!node->builtin || node->builtin->id != PYPROBE__D_F_STRLEN ||
            !pyprobe__d_constant_string(node->args[0], &text))
            return false;
        *value = (int64_t)strlen(text);
        return true;
    case PYPROBE__D_N_IDENT: case PYPROBE__D_N_SELF: case PYPROBE__D_N_THIS: case PYPROBE__D_N_INDEX:
        /* a variable nothing writes reads as D's 0 */
        if (!node->symbol || node->symbol->written || node->type.kind != PYPROBE__D_T_INT)
            return false;
        *value = 0;
        return true;
    default:
        return false;
    }
}

bool pyprobe__d_constant_string(const struct pyprobe__d_node *node, const char **text)
{
    node = pyprobe__d_unmacro(node);
    if (node->kind != PYPROBE__D_N_STRING)
        return false;
    *text = node->string;
    return true;
}

int64_t pyprobe__d_narrow(int64_t value, struct pyprobe__d_type t)
{
    uint64_t mask = t.size >= 8 || t.size == 0 ? UINT64_MAX : (1ULL << (t.size * 8)) - 1;
    uint64_t bits = (uint64_t)value & mask;

    if (!t.is_unsigned && mask != UINT64_MAX && (bits >> (t.size * 8 - 1)))
        bits |= ~mask;
    return (int64_t)bits;
}

static struct pyprobe__d_type promote(struct pyprobe__d_type t)
{
    return t.size < 4 ? T_INT : t;
}

struct pyprobe__d_type pyprobe__d_arith_type(struct pyprobe__d_type a, struct pyprobe__d_type b)
{
    a = promote(a);
    b = promote(b);
    if (a.size != b.size)
        return a.size > b.size ? a : b;
    a.is_unsigned = a.is_unsigned || b.is_unsigned;
    return a;
}

struct pyprobe__d_symbol *pyprobe__d_symbol_find(struct pyprobe__d_sema *sema, enum pyprobe__d_node_kind scope,
                                                 const char *name)
{
    for (size_t i = 0; i < sema->symbols.count; i++) {
        struct pyprobe__d_symbol *s = sema->symbols.items[i];

        if (s->scope == scope && strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

static struct pyprobe__d_symbol *symbol(struct checker *c, enum pyprobe__d_node_kind scope, const char *name)
{
    struct pyprobe__d_symbol *s = pyprobe__d_symbol_find(c->sema, scope, name);

    if (!s) {
        s = pyprobe__d_alloc(c->ctx, sizeof *s);
        s->scope = scope;
        s->name = name;
        pyprobe__d_push(c->ctx, &c->sema->symbols, s);
    }
    return s;
}

static const char *scope_prefix(enum pyprobe__d_node_kind scope)
{
    return scope == PYPROBE__D_N_SELF ? "self->" : scope == PYPROBE__D_N_THIS ? "this->" : "";
}

/* ---- expressions ---- */

static struct pyprobe__d_type check_expr(struct checker *c, struct pyprobe__d_node *n);

static struct pyprobe__d_type need(struct checker *c, struct pyprobe__d_node *n, enum pyprobe__d_kind kind,
                                   const char *what)
{
    struct pyprobe__d_type t = check_expr(c, n);

    if (t.kind != kind && t.kind != PYPROBE__D_T_NONE)
        fail(c, n, "%s must be %s, not %s", what, kind == PYPROBE__D_T_INT ? "an integer" : "a string",
             type_name(t));
    return t;
}

static struct pyprobe__d_type builtin_variable(struct checker *c, struct pyprobe__d_node *n,
                                               const struct pyprobe__d_builtin *b)
{
    if (b->kind == PYPROBE__D_BK_REFUSED)
        fail(c, n, "%s is not supported: %s", b->name, b->why);
    n->builtin = b;
    if (b->id == PYPROBE__D_B_VTIMESTAMP)
        c->sema->uses_vtimestamp = true;
    return b->type;
}

/* The value of a variable: its type once known. */
static struct pyprobe__d_type variable_value(struct checker *c, struct pyprobe__d_node *n,
                                             struct pyprobe__d_symbol *s, bool indexed)
{
    n->symbol = s;
    if ((s->is_array || indexed) && s->type.kind != PYPROBE__D_T_NONE && s->is_array != indexed)
        fail(c, n, "%s%s is used both as a scalar and as an associative array", scope_prefix(s->scope), s->name);
    if (s->type.kind == PYPROBE__D_T_NONE && c->strict)
        fail(c, n, "%s%s has not yet been declared or assigned", scope_prefix(s->scope), s->name);
    return s->type;
}

static struct pyprobe__d_type check_ident(struct checker *c, struct pyprobe__d_node *n)
{
    const struct pyprobe__d_builtin *b = pyprobe__d_builtin_lookup(n->name, false);

    if (b)
        return builtin_variable(c, n, b);
    if (!strcmp(n->name, "self") || !strcmp(n->name, "this"))
        fail(c, n, "%s needs -> and a variable name", n->name);
    return variable_value(c, n, symbol(c, PYPROBE__D_N_IDENT, n->name), false);
}

/* The keys of an associative array: their types, consistent at every use. */
static void check_keys(struct checker *c, struct pyprobe__d_node *at, struct pyprobe__d_node **keys, size_t count,
                       struct pyprobe__d_symbol *s, bool stack_allowed)
{
    struct pyprobe__d_type *types = pyprobe__d_alloc(c->ctx, (count + 1) * sizeof *types);
    bool known = true;

    if (count == 0 && s->scope != PYPROBE__D_N_AGG)
        fail(c, at, "an associative array needs at least one key");
    for (size_t i = 0; i < count; i++) {
        types[i] = check_expr(c, keys[i]);
        if (types[i].kind == PYPROBE__D_T_STACK && !stack_allowed)
            fail(c, keys[i], "ustack() can key aggregations only");
        known = known && types[i].kind != PYPROBE__D_T_NONE;
    }
    if (s->keys_known) {
        if (s->key_count != count)
            fail(c, at, "%s%s%s has %zu key%s here, %zu elsewhere", s->scope == PYPROBE__D_N_AGG ? "@" : "",
                 scope_prefix(s->scope), s->name, count, count == 1 ? "" : "s", s->key_count);
        for (size_t i = 0; i < count; i++)
            if (types[i].kind != PYPROBE__D_T_NONE && types[i].kind != s->keys[i].kind)
                fail(c, keys[i], "key #%zu of %s%s%s is %s here, %s elsewhere", i + 1,
                     s->scope == PYPROBE__D_N_AGG ? "@" : "", scope_prefix(s->scope), s->name,
                     type_name(types[i]), type_name(s->keys[i]));
    } else if (known) {
        s->keys = types;
        s->key_count = count;
        s->keys_known = true;
        c->changed = true;
    }
}

static struct pyprobe__d_symbol *index_symbol(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_node *base = n->a;

    if (base->kind == PYPROBE__D_N_IDENT) {
        const struct pyprobe__d_builtin *b = pyprobe__d_builtin_lookup(base->name, false);

        if (b && b->kind == PYPROBE__D_BK_REFUSED)
            fail(c, base, "%s is not supported: %s", b->name, b->why);
        if (b)
            fail(c, base, "%s is not an associative array", base->name);
        return symbol(c, PYPROBE__D_N_IDENT, base->name);
    }
    if (base->kind == PYPROBE__D_N_SELF)
        return symbol(c, PYPROBE__D_N_SELF, base->name);
    if (base->kind == PYPROBE__D_N_THIS)
        fail(c, n, "this->%s: clause-local variables cannot be associative arrays", base->name);
    fail(c, n, "only variables can be indexed");
}

static struct pyprobe__d_type check_index(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_symbol *s = index_symbol(c, n);

    check_keys(c, n, n->args, n->arg_count, s, false);
    if (!s->is_array && s->type.kind != PYPROBE__D_T_NONE)
        fail(c, n, "%s%s is used both as a scalar and as an associative array", scope_prefix(s->scope), s->name);
    s->is_array = true;
    return variable_value(c, n, s, true);
}

/* $N, $$N, $target, $pid... once bound: a constant or an identifier. */
static struct pyprobe__d_type check_macro(struct checker *c, struct pyprobe__d_node *n)
{
    if (n->macro)
        return check_expr(c, n->macro);
    if (n->op == PYPROBE__D_OP_ASSIGN)
        return T_STRING;
    /* unbound $N may yet be an identifier: its type is unknown until then */
    return isdigit((unsigned char)n->name[0]) ? T_NONE : T_I64;
}

static void arity(struct checker *c, struct pyprobe__d_node *n, const struct pyprobe__d_builtin *b)
{
    size_t got = n->arg_count, min = (size_t)b->min_args;

    if (got >= min && (b->max_args < 0 || got <= (size_t)b->max_args))
        return;
    if (b->max_args == b->min_args)
        fail(c, n, "%s( ) requires %d argument%s", b->name, b->min_args, b->min_args == 1 ? "" : "s");
    if (b->max_args < 0)
        fail(c, n, "%s( ) requires at least %d argument%s", b->name, b->min_args, b->min_args == 1 ? "" : "s");
    fail(c, n, "%s( ) requires %d to %d arguments", b->name, b->min_args, b->max_args);
}

static const struct pyprobe__d_builtin *function(struct checker *c, struct pyprobe__d_node *n)
{
    const struct pyprobe__d_builtin *b = pyprobe__d_builtin_lookup(n->name, true);

    if (!b)
        fail(c, n, "%s( ) is not a D function", n->name);
    if (b->kind == PYPROBE__D_BK_REFUSED)
        fail(c, n, "%s( ) is not supported: %s", b->name, b->why);
    n->builtin = b;
    arity(c, n, b);
    return b;
}

static void constant_arg(struct checker *c, struct pyprobe__d_node *n, size_t i, int64_t *value)
{
    if (!pyprobe__d_constant(n->args[i], value))
        fail(c, n->args[i], "%s( ) argument #%zu must be an integer constant", n->name, i + 1);
}

static struct pyprobe__d_type check_subroutine(struct checker *c, struct pyprobe__d_node *n,
                                               const struct pyprobe__d_builtin *b)
{
    int64_t value;

    switch (b->id) {
    case PYPROBE__D_F_COPYINSTR:
        for (size_t i = 0; i < n->arg_count; i++)
            need(c, n->args[i], PYPROBE__D_T_INT, "copyinstr( )'s argument");
        break;
    case PYPROBE__D_F_STRINGOF:
        if (check_expr(c, n->args[0]).kind == PYPROBE__D_T_INT)
            fail(c, n, "stringof( ) of an integer is not supported: use copyinstr( ) for a traced address");
        break;
    case PYPROBE__D_F_STRJOIN: case PYPROBE__D_F_BASENAME: case PYPROBE__D_F_DIRNAME: case PYPROBE__D_F_STRLEN:
        for (size_t i = 0; i < n->arg_count; i++)
            need(c, n->args[i], PYPROBE__D_T_STRING, "the argument");
        break;
    case PYPROBE__D_F_LLTOSTR:
        need(c, n->args[0], PYPROBE__D_T_INT, "lltostr( )'s argument");
        if (n->arg_count == 2 && (constant_arg(c, n, 1, &value), value != 10))
            fail(c, n, "lltostr( ) is supported in base 10 only");
        break;
    case PYPROBE__D_F_USTACK:
        if (n->arg_count >= 1)
            constant_arg(c, n, 0, &value);
        if (n->arg_count == 2)
            fail(c, n, "ustack( ) with a string size is not supported: bpftrace cannot ask a ustack helper");
        break;
    default:
        break;
    }
    return b->type;
}

static struct pyprobe__d_type check_call(struct checker *c, struct pyprobe__d_node *n)
{
    const struct pyprobe__d_builtin *b = function(c, n);

    if (b->kind == PYPROBE__D_BK_ACTION)
        fail(c, n, "%s( ) is an action: it is a statement of its own, not part of an expression", b->name);
    if (b->kind == PYPROBE__D_BK_AGGFN)
        fail(c, n, "%s( ) is an aggregating function: only @aggregation = %s(...) uses it", b->name, b->name);
    return check_subroutine(c, n, b);
}

static struct pyprobe__d_type check_binary(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_type a = check_expr(c, n->a), b = check_expr(c, n->b);
    enum pyprobe__d_op op = n->op;
    bool compare = op >= PYPROBE__D_OP_LT && op <= PYPROBE__D_OP_NE;

    if (a.kind == PYPROBE__D_T_NONE || b.kind == PYPROBE__D_T_NONE)
        return compare || op >= PYPROBE__D_OP_LAND ? T_INT : T_NONE;
    if (a.kind == PYPROBE__D_T_STACK || b.kind == PYPROBE__D_T_STACK)
        fail(c, n, "ustack( ) can only be traced or key an aggregation");
    if (compare && a.kind == PYPROBE__D_T_STRING && b.kind == PYPROBE__D_T_STRING) {
        if (op != PYPROBE__D_OP_EQ && op != PYPROBE__D_OP_NE)
            fail(c, n, "strings compare with == and != only: bpftrace 0.17 cannot order strings");
        return T_INT;
    }
    if (a.kind != PYPROBE__D_T_INT || b.kind != PYPROBE__D_T_INT)
        fail(c, n, "operator %s needs integer operands, not %s and %s", pyprobe__d_op_text(op), type_name(a),
             type_name(b));
    if (compare || op >= PYPROBE__D_OP_LAND)
        return T_INT;
    if (op == PYPROBE__D_OP_SHL || op == PYPROBE__D_OP_SHR)
        return promote(a);
    return pyprobe__d_arith_type(a, b);
}

static struct pyprobe__d_type check_ternary(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_type b, d;

    need(c, n->a, PYPROBE__D_T_INT, "the condition of ?:");
    b = check_expr(c, n->b);
    d = check_expr(c, n->c);
    if (b.kind == PYPROBE__D_T_NONE || d.kind == PYPROBE__D_T_NONE)
        return b.kind == PYPROBE__D_T_NONE ? d : b;
    if (b.kind != d.kind || b.kind == PYPROBE__D_T_STACK)
        fail(c, n, "the two values of ?: must both be integers or both strings, not %s and %s", type_name(b),
             type_name(d));
    return b.kind == PYPROBE__D_T_INT ? pyprobe__d_arith_type(b, d) : b;
}

/* The variable an assignment, ++ or -- writes: its symbol. */
static struct pyprobe__d_symbol *lvalue(struct checker *c, struct pyprobe__d_node *n)
{
    switch (n->kind) {
    case PYPROBE__D_N_IDENT:
        if (pyprobe__d_builtin_lookup(n->name, false))
            fail(c, n, "%s is a built-in variable: it cannot be assigned", n->name);
        check_ident(c, n);
        return n->symbol;
    case PYPROBE__D_N_SELF: case PYPROBE__D_N_THIS:
        n->symbol = symbol(c, n->kind, n->name);
        if (n->symbol->is_array)
            fail(c, n, "%s%s is an associative array: index it", scope_prefix(n->kind), n->name);
        return n->symbol;
    case PYPROBE__D_N_INDEX:
        check_index(c, n);
        return n->symbol;
    case PYPROBE__D_N_MACRO:
        if (n->macro && n->macro->kind == PYPROBE__D_N_IDENT)
            return lvalue(c, n->macro);
        /* fall through */
    default:
        fail(c, n, "only a variable can be assigned");
    }
}

/* Gives an untyped variable its type; a typed one must keep its kind. */
static void define(struct checker *c, struct pyprobe__d_node *at, struct pyprobe__d_symbol *s,
                   struct pyprobe__d_type t)
{
    if (t.kind == PYPROBE__D_T_NONE)
        return;
    if (t.kind == PYPROBE__D_T_STACK)
        fail(c, at, "ustack( ) can only be traced or key an aggregation");
    if (s->type.kind == PYPROBE__D_T_NONE) {
        s->type = t;
        c->changed = true;
    } else if (s->type.kind != t.kind) {
        fail(c, at, "%s%s is %s: it cannot be assigned %s", scope_prefix(s->scope), s->name, type_name(s->type),
             type_name(t));
    }
}

static struct pyprobe__d_type check_incdec(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_symbol *s = lvalue(c, n->a);

    define(c, n, s, T_I64);
    s->stored = s->written = true;
    return need(c, n->a, PYPROBE__D_T_INT, "the operand of ++ or --");
}

static struct pyprobe__d_type check_assign(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_symbol *s;
    struct pyprobe__d_type t;
    int64_t value;

    if (n->a->kind == PYPROBE__D_N_AGG)
        fail(c, n, "@%s: aggregations are assigned in statements of their own", n->a->name);
    s = lvalue(c, n->a);
    t = check_expr(c, n->b);
    if (n->op != PYPROBE__D_OP_ASSIGN) {
        define(c, n, s, T_I64);
        if (t.kind == PYPROBE__D_T_STRING || s->type.kind == PYPROBE__D_T_STRING)
            fail(c, n, "operator %s needs integers", pyprobe__d_op_text(n->op));
    } else {
        define(c, n, s, t);
    }
    s->written = true;
    if (n->op != PYPROBE__D_OP_ASSIGN || !pyprobe__d_constant(n->b, &value) || value != 0)
        s->stored = true;
    return s->type;
}

static struct pyprobe__d_type check_expr_kind(struct checker *c, struct pyprobe__d_node *n)
{
    switch (n->kind) {
    case PYPROBE__D_N_INT: return n->cast;
    case PYPROBE__D_N_STRING: return T_STRING;
    case PYPROBE__D_N_IDENT: return check_ident(c, n);
    case PYPROBE__D_N_SELF: case PYPROBE__D_N_THIS:
        return variable_value(c, n, symbol(c, n->kind, n->name), false);
    case PYPROBE__D_N_INDEX: return check_index(c, n);
    case PYPROBE__D_N_MACRO: return check_macro(c, n);
    case PYPROBE__D_N_CALL: return check_call(c, n);
    case PYPROBE__D_N_UNARY:
        if (need(c, n->a, PYPROBE__D_T_INT, "the operand").kind == PYPROBE__D_T_NONE)
            return T_NONE;
        return n->op == PYPROBE__D_OP_NOT ? T_INT : promote(n->a->type);
    case PYPROBE__D_N_INCDEC: return check_incdec(c, n);
    case PYPROBE__D_N_BINARY: return check_binary(c, n);
    case PYPROBE__D_N_TERNARY: return check_ternary(c, n);
    case PYPROBE__D_N_ASSIGN:
        fail(c, n, "assignments inside expressions are not supported: bpftrace 0.17 assigns in statements only");
    case PYPROBE__D_N_CAST:
        need(c, n->a, PYPROBE__D_T_INT, "the operand of a cast");
        return n->cast;
    case PYPROBE__D_N_AGG:
        fail(c, n, "@%s: an aggregation can only be assigned an aggregating function or printed", n->name);
    case PYPROBE__D_N_REFUSED:
    default:
        if (n->a)
            check_expr(c, n->a);
        fail(c, n, "%s: not supported", n->name ? n->name : "this construct");
    }
}

static struct pyprobe__d_type check_expr(struct checker *c, struct pyprobe__d_node *n)
{
    pyprobe__d_enter(c->ctx, n->file, n->line, n->column);
    n->type = check_expr_kind(c, n);
    pyprobe__d_leave(c->ctx);
    return n->type;
}

/* ---- aggregations ---- */

static const enum pyprobe__d_aggfn aggfns[] = {
    [PYPROBE__D_F_COUNT] = PYPROBE__D_COUNT, [PYPROBE__D_F_SUM] = PYPROBE__D_SUM,
    [PYPROBE__D_F_AVG] = PYPROBE__D_AVG, [PYPROBE__D_F_MIN] = PYPROBE__D_MIN,
    [PYPROBE__D_F_MAX] = PYPROBE__D_MAX, [PYPROBE__D_F_QUANTIZE] = PYPROBE__D_QUANTIZE,
    [PYPROBE__D_F_LQUANTIZE] = PYPROBE__D_LQUANTIZE,
};

/* lquantize(value, lower, upper[, step]): constants, as D wants them. */
static void lquantize_range(struct checker *c, struct pyprobe__d_node *call, int64_t range[3])
{
    range[2] = 1;
    for (size_t i = 1; i < call->arg_count; i++)
        constant_arg(c, call, i, &range[i - 1]);
    if (range[2] <= 0 || range[0] >= range[1])
        fail(c, call, "lquantize( ) needs lower < upper and a positive step");
    if ((range[1] - range[0]) / range[2] > 1000)
        fail(c, call, "lquantize( ) with more than 1000 buckets is not supported: bpftrace's lhist() limit");
}

static void define_aggregation(struct checker *c, struct pyprobe__d_node *at, struct pyprobe__d_symbol *s,
                               enum pyprobe__d_aggfn fn, const int64_t range[3])
{
    if (!s->has_fn) {
        s->has_fn = true;
        s->fn = fn;
        s->lq_lower = range[0];
        s->lq_upper = range[1];
        s->lq_step = range[2];
        s->defined_at = at;
        s->index = c->sema->aggregations.count;
        pyprobe__d_push(c->ctx, &c->sema->aggregations, s);
        c->changed = true;
    } else if (s->fn != fn || (fn == PYPROBE__D_LQUANTIZE && (s->lq_lower != range[0] || s->lq_upper != range[1] ||
                                                             s->lq_step != range[2]))) {
        fail(c, at, "@%s is assigned another aggregating function (or other lquantize( ) bounds) elsewhere",
             s->name);
    }
}

static void check_aggregation(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_node *agg = n->a, *call = n->b;
    struct pyprobe__d_symbol *s = symbol(c, PYPROBE__D_N_AGG, agg->name);
    const struct pyprobe__d_builtin *b;
    int64_t range[3] = {0, 0, 0};

    if (n->op != PYPROBE__D_OP_ASSIGN || call->kind != PYPROBE__D_N_CALL ||
        ((b = function(c, call)), b->kind != PYPROBE__D_BK_AGGFN))
        fail(c, n, "@%s must be assigned an aggregating function: count, sum, avg, min, max, quantize, lquantize",
             agg->name);
    agg->symbol = s;
    check_keys(c, agg, agg->args, agg->arg_count, s, true);
    for (size_t i = 0; i < call->arg_count && i < 1; i++)
        need(c, call->args[i], PYPROBE__D_T_INT, "the aggregated value");
    if (b->id == PYPROBE__D_F_LQUANTIZE)
        lquantize_range(c, call, range);
    define_aggregation(c, n, s, aggfns[b->id], range);
}

/* ---- actions ---- */

static struct pyprobe__d_symbol *aggregation_arg(struct checker *c, struct pyprobe__d_node *call, size_t i)
{
    struct pyprobe__d_node *arg = call->args[i];
    struct pyprobe__d_symbol *s;

    if (arg->kind != PYPROBE__D_N_AGG || arg->arg_count)
        fail(c, arg, "%s( ) argument #%zu must be an aggregation (@name, no keys)", call->name, i + 1);
    s = symbol(c, PYPROBE__D_N_AGG, arg->name);
    arg->symbol = s;
    if (c->strict && !s->has_fn)
        fail(c, arg, "@%s is used but never assigned an aggregating function", arg->name);
    return s;
}

/* The conversions D's printf accepts and bpftrace can print. */
static void conversion_supported(struct checker *c, const struct pyprobe__d_node *at, const char *function,
                                 const struct pyprobe__d_conversion *conv, size_t number)
{
    if (strchr("eEfgG", conv->conversion))
        fail(c, at, "%s( ) conversion #%zu %%%c: floating point is not supported", function, number,
             conv->conversion);
    if (!strchr("diuoxXcsp%", conv->conversion))
        fail(c, at, "%s( ) conversion #%zu %%%c is not supported", function, number, conv->conversion);
    for (const char *f = conv->flags; *f; f++)
        if (strchr("+ #'", *f))
            fail(c, at, "%s( ) conversion #%zu: the '%c' flag is not supported: bpftrace 0.17's printf lacks it",
                 function, number, *f);
    if (conv->star_precision)
        fail(c, at, "%s( ) conversion #%zu: a '*' precision is not supported", function, number);
}

static bool conversion_takes_string(const struct pyprobe__d_conversion *conv)
{
    return conv->conversion == 's';
}

static void check_printf(struct checker *c, struct pyprobe__d_node *n)
{
    struct pyprobe__d_format format;
    const char *text;
    size_t next = 1;

    if (!pyprobe__d_constant_string(n->args[0], &text))
        fail(c, n, "printf( ) argument #1 must be a string constant (the format)");
    pyprobe__d_format_parse(c->ctx, n, "printf", text, &format);
    for (size_t i = 0; i < format.count; i++) {
        const struct pyprobe__d_conversion *conv = &format.conversions[i];
        struct pyprobe__d_type t;

        if (conv->conversion == '%')
            continue;
        conversion_supported(c, n, "printf", conv, i + 1);
        if (conv->aggregation)
            fail(c, n, "%%@ conversion requires an aggregation and is not for use with printf( )");
        if (conv->star_width && next < n->arg_count)
            need(c, n->args[next++], PYPROBE__D_T_INT, "a '*' width");
        if (next >= n->arg_count)
            fail(c, n, "printf( ) prototype mismatch: conversion #%zu (%%%c) is missing a corresponding value "
                 "argument", i + 1, conv->conversion);
        t = check_expr(c, n->args[next]);
        if (t.kind != PYPROBE__D_T_NONE && (t.kind == PYPROBE__D_T_STRING) != conversion_takes_string(conv))
            fail(c, n->args[next], "printf( ) argument #%zu is incompatible with conversion #%zu prototype: "
                 "%%%c and %s", next + 1, i + 1, conv->conversion, type_name(t));
        next++;
    }
    if (next < n->arg_count)
        fail(c, n, "printf( ) prototype mismatch: only %zu arguments required by this format string", next);
}

/* printa's format against the aggregations' keys (dt_printa_validate). */
static void check_printa_format(struct checker *c, struct pyprobe__d_node *n, const char *text,
                                struct pyprobe__d_symbol *first)
{
    struct pyprobe__d_format format;
    size_t key = 0;

    pyprobe__d_format_parse(c->ctx, n, "printa", text, &format);
    for (size_t i = 0; i < format.count; i++) {
        const struct pyprobe__d_conversion *conv = &format.conversions[i];

        if (conv->conversion == '%')
            continue;
        conversion_supported(c, n, "printa", conv, i + 1);
        if (conv->star_width)
            fail(c, n, "printa( ) conversion #%zu: a '*' width is not supported", i + 1);
        if (conv->aggregation) {
            if (conv->conversion == 's')
                fail(c, n, "printa( ) conversion #%zu: %%@s needs an integer conversion", i + 1);
            continue;
        }
        if (!first->keys_known)
            continue;
        if (key >= first->key_count)
            fail(c, n, "printa( ) format has more conversions than @%s has keys", first->name);
        if ((first->keys[key].kind == PYPROBE__D_T_STRING || first->keys[key].kind == PYPROBE__D_T_STACK) !=
            conversion_takes_string(conv))
            fail(c, n, "printa( ) conversion #%zu (%%%c) does not fit key #%zu of @%s (%s)", i + 1,
                 conv->conversion, key + 1, first->name, type_name(first->keys[key]));
        key++;
    }
}

static void check_printa(struct checker *c, struct pyprobe__d_node *n)
{
    const char *text = NULL;
    size_t i = pyprobe__d_constant_string(n->args[0], &text) ? 1 : 0;
    struct pyprobe__d_symbol *first;

    if (i == n->arg_count)
        fail(c, n, "printa( ) needs an aggregation");
    first = aggregation_arg(c, n, i);
    for (size_t k = i + 1; k < n->arg_count; k++) {
        struct pyprobe__d_symbol *s = aggregation_arg(c, n, k);

        if (s->keys_known && first->keys_known && s->key_count != first->key_count)
            fail(c, n->args[k], "printa( ): @%s and @%s do not have matching key signatures", first->name, s->name);
    }
    if (text)
        check_printa_format(c, n, text, first);
}

static void check_action(struct checker *c, struct pyprobe__d_node *n, const struct pyprobe__d_builtin *b)
{
    switch (b->id) {
    case PYPROBE__D_F_PRINTF:
        check_printf(c, n);
        break;
    case PYPROBE__D_F_TRACE:
        check_expr(c, n->args[0]);
        break;
    case PYPROBE__D_F_PRINTA:
        check_printa(c, n);
        break;
    case PYPROBE__D_F_EXIT:
        need(c, n->args[0], PYPROBE__D_T_INT, "exit( )'s status");
        c->sema->uses_exit = true;
        break;
    case PYPROBE__D_F_TRUNC: case PYPROBE__D_F_NORMALIZE:
        aggregation_arg(c, n, 0);
        if (n->arg_count == 2)
            need(c, n->args[1], PYPROBE__D_T_INT, "the count");
        break;
    default:
        aggregation_arg(c, n, 0);
        break;
    }
}

static void check_statement(struct checker *c, struct pyprobe__d_node *n)
{
    const struct pyprobe__d_builtin *b;

    if (n->kind == PYPROBE__D_N_ASSIGN && n->a->kind == PYPROBE__D_N_AGG) {
        check_aggregation(c, n);
    } else if (n->kind == PYPROBE__D_N_ASSIGN) {
        n->type = check_assign(c, n);
    } else if (n->kind == PYPROBE__D_N_INCDEC) {
        check_expr(c, n);
    } else if (n->kind == PYPROBE__D_N_CALL) {
        b = function(c, n);
        if (b->kind == PYPROBE__D_BK_ACTION) {
            check_action(c, n, b);
        } else if (b->id == PYPROBE__D_F_USTACK) {
            check_expr(c, n);
        } else {
            check_call(c, n); /* an aggregating function says so */
            fail(c, n, "%s( ) alone has no effect: use trace( ) to print a value", b->name);
        }
    } else {
        fail(c, n, "a statement is an assignment, ++, -- or an action: use trace( ) to print a value");
    }
}

/* ---- macros ---- */

static struct pyprobe__d_node *macro_node(struct checker *c, const struct pyprobe__d_node *n,
                                          enum pyprobe__d_node_kind kind)
{
    struct pyprobe__d_node *m = pyprobe__d_alloc(c->ctx, sizeof *m);

    *m = (struct pyprobe__d_node){.kind = kind, .file = n->file, .line = n->line, .column = n->column};
    m->cast = T_I64;
    return m;
}

static struct pyprobe__d_node *int_macro(struct checker *c, const struct pyprobe__d_node *n, int64_t value)
{
    struct pyprobe__d_node *m = macro_node(c, n, PYPROBE__D_N_INT);

    m->value = value;
    return m;
}

/* $N: an integer when it reads as one, an identifier when it is one. */
static struct pyprobe__d_node *argument_macro(struct checker *c, const struct pyprobe__d_node *n, const char *text)
{
    struct pyprobe__d_node *m;
    char *end;
    long long value;

    if (n->op == PYPROBE__D_OP_ASSIGN) {
        m = macro_node(c, n, PYPROBE__D_N_STRING);
        m->string = text;
        return m;
    }
    errno = 0;
    value = strtoll(text, &end, 0);
    if (*text && !*end && errno == 0)
        return int_macro(c, n, value);
    if (!isalpha((unsigned char)*text) && *text != '_')
        fail(c, n, "macro argument $%s is not an integer or an identifier: use $$%s for a string", n->name, n->name);
    for (const char *p = text; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            fail(c, n, "macro argument $%s is not an integer or an identifier: use $$%s for a string", n->name,
                 n->name);
    m = macro_node(c, n, PYPROBE__D_N_IDENT);
    m->name = text;
    return m;
}

static struct pyprobe__d_node *bind_macro(struct checker *c, const struct pyprobe__d_node *n)
{
    const struct pyprobe__d_translate_options *o = c->sema->options;
    const char *name = n->name;
    char *end;
    unsigned long index;

    if (strcmp(name, "target") == 0) {
        if (o->macros.target_pid <= 0)
            fail(c, n, "$target needs a process: -p PID or -c COMMAND");
        return int_macro(c, n, o->macros.target_pid);
    }
    if (strcmp(name, "pid") == 0)
        return int_macro(c, n, o->macros.dtrace_pid > 0 ? o->macros.dtrace_pid : getpid());
    if (strcmp(name, "ppid") == 0)
        return int_macro(c, n, getppid());
    if (strcmp(name, "uid") == 0)
        return int_macro(c, n, getuid());
    if (strcmp(name, "gid") == 0)
        return int_macro(c, n, getgid());
    index = strtoul(name, &end, 10);
    if (!isdigit((unsigned char)*name) || *end)
        fail(c, n, "unknown macro variable $%s", name);
    if (index >= 1 && index <= o->macros.count && o->macros.args[index - 1])
        return argument_macro(c, n, o->macros.args[index - 1]);
    if (index == 0)
        return argument_macro(c, n, "pyprobe");
    if (!o->defaultargs)
        fail(c, n, "macro argument $%s is not defined", name);
    return n->op == PYPROBE__D_OP_ASSIGN ? argument_macro(c, n, "") : int_macro(c, n, 0);
}

static void bind_macros(struct checker *c)
{
    for (size_t i = 0; i < c->program->macros.count; i++) {
        struct pyprobe__d_node *n = c->program->macros.items[i];

        n->macro = c->sema->options ? bind_macro(c, n) : NULL;
    }
}

/* ---- the program ---- */

static void declare(struct checker *c, const struct pyprobe__d_decl *d)
{
    struct pyprobe__d_node at = {.file = d->file, .line = d->line, .column = d->column};
    struct pyprobe__d_symbol *s = symbol(c, d->scope, d->name);

    if (s->declared)
        fail(c, &at, "%s%s is declared twice", scope_prefix(d->scope), d->name);
    if (d->scope == PYPROBE__D_N_THIS && d->is_array)
        fail(c, &at, "this->%s: clause-local variables cannot be associative arrays", d->name);
    s->declared = true;
    s->type = d->type;
    s->is_array = d->is_array;
    if (d->is_array) {
        s->keys = d->keys;
        s->key_count = d->key_count;
        s->keys_known = true;
    }
}

static void check_clause(struct checker *c, struct pyprobe__d_clause *clause)
{
    if (clause->predicate)
        need(c, clause->predicate, PYPROBE__D_T_INT, "a predicate");
    for (size_t i = 0; i < clause->statements.count; i++)
        check_statement(c, clause->statements.items[i]);
}

static void check_pass(struct checker *c)
{
    for (size_t i = 0; i < c->program->clauses.count; i++)
        check_clause(c, c->program->clauses.items[i]);
}

struct pyprobe__d_sema *pyprobe__d_check(struct pyprobe__d_ctx *ctx, struct pyprobe__d_program *program,
                                         const struct pyprobe__d_translate_options *options)
{
    struct pyprobe__d_sema *sema = pyprobe__d_alloc(ctx, sizeof *sema);
    struct checker c = {.ctx = ctx, .program = program, .sema = sema};

    sema->options = options;
    bind_macros(&c);
    for (size_t i = 0; i < program->decls.count; i++)
        declare(&c, program->decls.items[i]);
    do {
        c.changed = false;
        check_pass(&c);
    } while (c.changed);
    c.strict = true;
    check_pass(&c);
    return sema;
}
