/*
 * d_emit.c - D expressions and statements as bpftrace 0.17 text.
 *
 * Integers are int64 in the kernel (d_builtins.c casts bpftrace's unsigned
 * builtins); D's own types still choose %d or %u, widths and narrowing.
 * Strings are lists of pieces (d_emit.h): what bpftrace 0.17 cannot
 * compute in the kernel (strjoin, basename and dirname of traced strings,
 * lltostr, %*s) stays in pieces that printf turns into the wire protocol's
 * inline segments (d_data.h) for pyprobe to finish, and that aggregation
 * keys turn into key parts (d_translate.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "d_builtins.h"
#include "d_emit.h"
#include "d_lex.h"

/* An expression longer than this once translated is refused, rather than
 * let nested signed divisions (whose exact form repeats the operands) grow
 * without bound. */
#define MAX_EXPRESSION 65536

void pyprobe__d_line(struct pyprobe__d_emitter *e, const char *format, ...)
{
    char *text;
    va_list args;
    int length;

    va_start(args, format);
    length = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (length < 0)
        pyprobe__d_fail_nomem(e->ctx);
    text = pyprobe__d_alloc(e->ctx, (size_t)length + 1);
    va_start(args, format);
    vsnprintf(text, (size_t)length + 1, format, args);
    va_end(args);
    for (int i = 0; i < e->indent; i++)
        pyprobe__d_buf_str(e->ctx, &e->out, "\t");
    pyprobe__d_buf_str(e->ctx, &e->out, text);
    pyprobe__d_buf_str(e->ctx, &e->out, "\n");
}

/* Text for a bpftrace string literal's inside: quotes, backslashes and
 * bytes that are not printable ASCII escaped (\xHH takes two digits). */
static void escape(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const char *text, size_t length,
                   bool percent)
{
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '"' || c == '\\')
            pyprobe__d_buf_printf(e->ctx, b, "\\%c", c);
        else if (c == '\n')
            pyprobe__d_buf_str(e->ctx, b, "\\n");
        else if (c == '\t')
            pyprobe__d_buf_str(e->ctx, b, "\\t");
        else if (c < ' ' || c >= 127)
            pyprobe__d_buf_printf(e->ctx, b, "\\x%02x", c);
        else if (c == '%' && percent)
            pyprobe__d_buf_str(e->ctx, b, "%%");
        else
            pyprobe__d_buf_add(e->ctx, b, (const char *)&c, 1);
    }
}

const char *pyprobe__d_where(struct pyprobe__d_emitter *e, const char *file, int line)
{
    char *text = pyprobe__d_format(e->ctx, "%s:%d", file, line);

    for (char *p = text; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 127)
            *p = '?';
    return text;
}

const char *pyprobe__d_quote(struct pyprobe__d_emitter *e, const char *text)
{
    struct pyprobe__d_buf b = {0};

    pyprobe__d_buf_str(e->ctx, &b, "\"");
    escape(e, &b, text, strlen(text), false);
    pyprobe__d_buf_str(e->ctx, &b, "\"");
    return b.text;
}

/* ---- integers ---- */

static void emit_int(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, int64_t value)
{
    if (value == INT64_MIN)
        pyprobe__d_buf_str(e->ctx, b, "(-9223372036854775807 - 1)");
    else if (value < 0)
        pyprobe__d_buf_printf(e->ctx, b, "(-%lld)", -(long long)value);
    else
        pyprobe__d_buf_printf(e->ctx, b, "%lld", (long long)value);
}

const char *pyprobe__d_expr_text(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    struct pyprobe__d_buf b = {0};

    pyprobe__d_emit_expr(e, &b, n);
    if (b.length > MAX_EXPRESSION)
        pyprobe__d_refuse(e, n, "the expression is too large once translated (signed divisions nest too deep)");
    return b.text;
}

/* argN: what the probe's arguments are in bpftrace, per kind of probe. */
static const char *argument(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n, int index)
{
    const struct pyprobe__d_target *t = e->target;

    switch (t->kind) {
    case PYPROBE__D_PROBE_USDT:
        return pyprobe__d_format(e->ctx, "(int64)arg%d", index);
    case PYPROBE__D_PROBE_PID:
        if (!t->is_return)
            return pyprobe__d_format(e->ctx, "(int64)arg%d", index);
        if (index == 0)
            pyprobe__d_refuse(e, n, "arg0 of a pid return probe (the return offset) is not supported");
        return index == 1 ? "(int64)retval" : "0";
    case PYPROBE__D_PROBE_SYSCALL:
        if (t->is_return)
            return index <= 1 ? "args->ret" : "0";
        return index < 6 ? pyprobe__d_format(e->ctx, "(int64)args->args[%d]", index) : "0";
    case PYPROBE__D_PROBE_PROFILE:
        pyprobe__d_refuse(e, n, "arg%d of a profile probe (the program counters) is not supported", index);
    default:
        return "0";
    }
}

static const char *builtin_text(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    const struct pyprobe__d_builtin *b = n->builtin;
    const struct pyprobe__d_target *t = e->target;

    switch (b->id) {
    case PYPROBE__D_B_ARG: return argument(e, n, b->name[3] - '0');
    case PYPROBE__D_B_VTIMESTAMP: return "(@pp_voncpu[tid] + (int64)nsecs - @pp_vsince[tid])";
    case PYPROBE__D_B_WALLTIMESTAMP:
        return pyprobe__d_format(e->ctx, "((int64)nsecs + %lld)", (long long)e->walltime_offset_ns);
    case PYPROBE__D_B_PROBEPROV: return pyprobe__d_quote(e, t->probeprov);
    case PYPROBE__D_B_PROBEMOD: return pyprobe__d_quote(e, t->probemod);
    case PYPROBE__D_B_PROBENAME: return pyprobe__d_quote(e, t->probename);
    case PYPROBE__D_B_PROBEFUNC: return t->probefunc ? pyprobe__d_quote(e, t->probefunc) : t->probefunc_expr;
    case PYPROBE__D_B_ID: return pyprobe__d_format(e->ctx, "%u", t->id);
    default: return b->bpftrace;
    }
}

/* ---- variables ---- */

static void emit_key(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const struct pyprobe__d_node *key)
{
    pyprobe__d_buf_str(e->ctx, b, ", ");
    pyprobe__d_emit_expr(e, b, key);
}

const char *pyprobe__d_variable_text(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    const struct pyprobe__d_symbol *s = n->symbol;
    struct pyprobe__d_buf b = {0};

    if (s->scope == PYPROBE__D_N_THIS)
        return pyprobe__d_format(e->ctx, "$this_%s", s->name);
    pyprobe__d_buf_printf(e->ctx, &b, "@%s_%s", s->scope == PYPROBE__D_N_SELF ? "self" : "g", s->name);
    if (s->scope == PYPROBE__D_N_SELF || n->kind == PYPROBE__D_N_INDEX) {
        pyprobe__d_buf_str(e->ctx, &b, s->scope == PYPROBE__D_N_SELF ? "[tid" : "[");
        for (size_t i = 0; n->kind == PYPROBE__D_N_INDEX && i < n->arg_count; i++) {
            if (i == 0 && s->scope != PYPROBE__D_N_SELF)
                pyprobe__d_emit_expr(e, &b, n->args[i]);
            else
                emit_key(e, &b, n->args[i]);
        }
        pyprobe__d_buf_str(e->ctx, &b, "]");
    }
    return b.text;
}

/* A variable's value: never-written variables read as D's zero values
 * (bpftrace refuses maps that are never assigned). */
static void emit_variable(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const struct pyprobe__d_node *n)
{
    if (!n->symbol->written)
        pyprobe__d_buf_str(e->ctx, b, n->type.kind == PYPROBE__D_T_STRING ? "\"\"" : "0");
    else
        pyprobe__d_buf_str(e->ctx, b, pyprobe__d_variable_text(e, n));
}

/* ---- strings ---- */

static void push_piece(struct pyprobe__d_emitter *e, struct pyprobe__d_vec *out, enum pyprobe__d_piece_kind kind,
                       const char *text, char op, const char *why)
{
    struct pyprobe__d_spiece *last = out->count ? out->items[out->count - 1] : NULL, *p;

    if (kind == PYPROBE__D_P_LITERAL && last && last->kind == PYPROBE__D_P_LITERAL) {
        last->text = pyprobe__d_format(e->ctx, "%s%s", last->text, text);
        return;
    }
    p = pyprobe__d_alloc(e->ctx, sizeof *p);
    *p = (struct pyprobe__d_spiece){kind, text, op, why};
    pyprobe__d_push(e->ctx, out, p);
}

/* basename and dirname of a constant, as POSIX defines them. */
static const char *path_part(struct pyprobe__d_emitter *e, const char *path, char op)
{
    size_t end = strlen(path), slash;

    while (end > 1 && path[end - 1] == '/')
        end--;
    if (end == 0)
        return ".";
    for (slash = end; slash > 0 && path[slash - 1] != '/'; slash--)
        continue;
    if (op == 'B')
        return end == 1 && path[0] == '/' ? "/" : pyprobe__d_strndup(e->ctx, path + slash, end - slash);
    if (slash == 0)
        return ".";
    while (slash > 1 && path[slash - 1] == '/')
        slash--;
    return pyprobe__d_strndup(e->ctx, path, slash);
}

static void path_pieces(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n, char op, const char *why,
                        struct pyprobe__d_vec *out)
{
    struct pyprobe__d_vec inner = {0};
    struct pyprobe__d_spiece *only;

    pyprobe__d_string_pieces(e, n->args[0], &inner);
    only = inner.count == 1 ? inner.items[0] : NULL;
    if (only && only->kind == PYPROBE__D_P_LITERAL) {
        push_piece(e, out, PYPROBE__D_P_LITERAL, path_part(e, only->text, op), 0, NULL);
        return;
    }
    push_piece(e, out, PYPROBE__D_P_OPEN, NULL, op, why);
    for (size_t i = 0; i < inner.count; i++)
        pyprobe__d_push(e->ctx, out, inner.items[i]);
    push_piece(e, out, PYPROBE__D_P_CLOSE, NULL, 0, why);
}

/* copyinstr's address: a uprobe's or USDT probe's argument is a user
 * address to bpftrace as it is; anything else (a syscall argument, a
 * variable) is marked as one with uptr(), or str() reads kernel memory. */
static const char *user_address(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *address)
{
    const struct pyprobe__d_node *n = pyprobe__d_unmacro(address);
    enum pyprobe__d_probe_kind kind = e->target->kind;

    if (n->kind == PYPROBE__D_N_IDENT && n->builtin && n->builtin->id == PYPROBE__D_B_ARG &&
        (kind == PYPROBE__D_PROBE_USDT || (kind == PYPROBE__D_PROBE_PID && !e->target->is_return)))
        return n->builtin->name;
    return pyprobe__d_format(e->ctx, "uptr(%s)", pyprobe__d_expr_text(e, address));
}

static void call_pieces(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n, struct pyprobe__d_vec *out)
{
    int64_t value;
    size_t first = out->count;

    switch (n->builtin->id) {
    case PYPROBE__D_F_COPYINSTR:
        push_piece(e, out, PYPROBE__D_P_STRING,
                   n->arg_count == 2 ? pyprobe__d_format(e->ctx, "str(%s, %s)", user_address(e, n->args[0]),
                                                         pyprobe__d_expr_text(e, n->args[1]))
                                     : pyprobe__d_format(e->ctx, "str(%s)", user_address(e, n->args[0])),
                   0, NULL);
        return;
    case PYPROBE__D_F_STRINGOF:
        pyprobe__d_string_pieces(e, n->args[0], out);
        return;
    case PYPROBE__D_F_STRJOIN:
        pyprobe__d_string_pieces(e, n->args[0], out);
        pyprobe__d_string_pieces(e, n->args[1], out);
        for (size_t i = first; i < out->count; i++) {
            struct pyprobe__d_spiece *p = out->items[i];

            p->why = p->why ? p->why : "strjoin";
        }
        return;
    case PYPROBE__D_F_BASENAME: path_pieces(e, n, 'B', "basename", out); return;
    case PYPROBE__D_F_DIRNAME: path_pieces(e, n, 'D', "dirname", out); return;
    case PYPROBE__D_F_LLTOSTR:
        if (pyprobe__d_constant(n->args[0], &value))
            push_piece(e, out, PYPROBE__D_P_LITERAL, pyprobe__d_format(e->ctx, "%lld", (long long)value), 0, NULL);
        else
            push_piece(e, out, PYPROBE__D_P_INT, pyprobe__d_expr_text(e, n->args[0]), 0, "lltostr");
        return;
    default:
        pyprobe__d_refuse(e, n, "%s( ) is not a string here", n->name);
    }
}

/* What made a string composite, for the refusal. */
static const char *composite_why(const struct pyprobe__d_vec *pieces)
{
    for (size_t i = 0; i < pieces->count; i++) {
        const struct pyprobe__d_spiece *p = pieces->items[i];

        if (p->why)
            return p->why;
    }
    return "this string";
}

/* A string that must be one bpftrace value. */
static const char *simple_string(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    struct pyprobe__d_vec pieces = {0};
    const struct pyprobe__d_spiece *p;

    pyprobe__d_string_pieces(e, n, &pieces);
    if (pieces.count == 0)
        return "\"\"";
    p = pieces.items[0];
    if (pieces.count == 1 && p->kind == PYPROBE__D_P_LITERAL)
        return pyprobe__d_quote(e, p->text);
    if (pieces.count == 1 && p->kind == PYPROBE__D_P_STRING)
        return p->text;
    pyprobe__d_refuse(e, n,
                      "%s( ) of a traced string can only be printed, traced or key an aggregation: "
                      "bpftrace 0.17 has no string functions",
                      composite_why(&pieces));
}

void pyprobe__d_string_pieces(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n,
                              struct pyprobe__d_vec *out)
{
    n = pyprobe__d_unmacro(n);
    switch (n->kind) {
    case PYPROBE__D_N_STRING:
        push_piece(e, out, PYPROBE__D_P_LITERAL, n->string, 0, NULL);
        return;
    case PYPROBE__D_N_MACRO: /* unbound: the parse-time dry run */
        push_piece(e, out, PYPROBE__D_P_LITERAL, "", 0, NULL);
        return;
    case PYPROBE__D_N_CALL:
        call_pieces(e, n, out);
        return;
    case PYPROBE__D_N_IDENT:
        if (n->builtin) {
            push_piece(e, out, PYPROBE__D_P_STRING, builtin_text(e, n), 0, NULL);
            return;
        }
        /* fall through */
    case PYPROBE__D_N_SELF: case PYPROBE__D_N_THIS: case PYPROBE__D_N_INDEX: {
        struct pyprobe__d_buf b = {0};

        if (n->symbol->shape) {
            for (size_t i = 0; i < n->symbol->shape->count; i++)
                pyprobe__d_push(e->ctx, out, n->symbol->shape->items[i]);
            return;
        }
        emit_variable(e, &b, n);
        push_piece(e, out, PYPROBE__D_P_STRING, b.text, 0, NULL);
        return;
    }
    case PYPROBE__D_N_TERNARY:
        push_piece(e, out, PYPROBE__D_P_STRING,
                   pyprobe__d_format(e->ctx, "(%s ? %s : %s)", pyprobe__d_expr_text(e, n->a), simple_string(e, n->b),
                                     simple_string(e, n->c)),
                   0, NULL);
        return;
    default:
        pyprobe__d_refuse(e, n, "this is not a string");
    }
}

/* ---- integer expressions ---- */

static bool has_side_effects(const struct pyprobe__d_node *n)
{
    if (!n)
        return false;
    if (n->kind == PYPROBE__D_N_INCDEC || n->kind == PYPROBE__D_N_ASSIGN || n->kind == PYPROBE__D_N_CALL)
        return true;
    for (size_t i = 0; i < n->arg_count; i++)
        if (has_side_effects(n->args[i]))
            return true;
    return has_side_effects(n->a) || has_side_effects(n->b) || has_side_effects(n->c);
}

/* D divides signed integers as C does (towards zero); BPF divides unsigned
 * only, and bpftrace 0.17 warns about it. Unsigned operands divide as
 * they are; signed ones divide their magnitudes and fix the sign. */
static void emit_division(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const struct pyprobe__d_node *n,
                          const struct pyprobe__d_node *left, const struct pyprobe__d_node *right)
{
    const char *x = pyprobe__d_expr_text(e, left), *y = pyprobe__d_expr_text(e, right);
    const char *op = n->op == PYPROBE__D_OP_DIV || n->op == PYPROBE__D_OP_DIV_ASSIGN ? "/" : "%";
    const char *q;

    if (n->type.is_unsigned) {
        pyprobe__d_buf_printf(e->ctx, b, "(int64)((uint64)(%s) %s (uint64)(%s))", x, op, y);
        return;
    }
    if (has_side_effects(left) || has_side_effects(right))
        pyprobe__d_refuse(e, n, "signed %s of operands with side effects is not supported", op);
    q = pyprobe__d_format(e->ctx, "(int64)((uint64)((%s) < 0 ? -(%s) : (%s)) %s (uint64)((%s) < 0 ? -(%s) : (%s)))",
                          x, x, x, op, y, y, y);
    if (*op == '/')
        pyprobe__d_buf_printf(e->ctx, b, "(((%s) < 0) != ((%s) < 0) ? -%s : %s)", x, y, q, q);
    else
        pyprobe__d_buf_printf(e->ctx, b, "((%s) < 0 ? -%s : %s)", x, q, q);
}

/* A string literal compared with a traced string: bpftrace 0.17 warns
 * "Addrspace mismatch" at ==, so strncmp() over the literal and its NUL,
 * which is the same test. */
static void emit_string_compare(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b,
                                const struct pyprobe__d_node *n)
{
    const char *literal;
    const struct pyprobe__d_node *other = NULL;

    if (pyprobe__d_constant_string(n->b, &literal))
        other = n->a;
    else if (pyprobe__d_constant_string(n->a, &literal))
        other = n->b;
    if (!other || pyprobe__d_constant_string(other, &(const char *){NULL})) {
        pyprobe__d_buf_printf(e->ctx, b, "(%s %s %s)", simple_string(e, n->a), pyprobe__d_op_text(n->op),
                              simple_string(e, n->b));
        return;
    }
    pyprobe__d_buf_printf(e->ctx, b, "(strncmp(%s, %s, %zu) %s 0)", simple_string(e, other),
                          pyprobe__d_quote(e, literal), strlen(literal) + 1, pyprobe__d_op_text(n->op));
}

static void emit_binary(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const struct pyprobe__d_node *n)
{
    if (n->op == PYPROBE__D_OP_DIV || n->op == PYPROBE__D_OP_MOD) {
        emit_division(e, b, n, n->a, n->b);
    } else if (n->a->type.kind == PYPROBE__D_T_STRING) {
        emit_string_compare(e, b, n);
    } else if (n->op == PYPROBE__D_OP_LXOR) {
        pyprobe__d_buf_printf(e->ctx, b, "((%s != 0) != (%s != 0))", pyprobe__d_expr_text(e, n->a),
                              pyprobe__d_expr_text(e, n->b));
    } else {
        pyprobe__d_buf_printf(e->ctx, b, "(%s %s %s)", pyprobe__d_expr_text(e, n->a), pyprobe__d_op_text(n->op),
                              pyprobe__d_expr_text(e, n->b));
    }
}

/* A value narrowed to a D type of fewer than 8 bytes: signed ones
 * sign-extend through bpftrace's cast; unsigned ones are masked, since
 * bpftrace 0.17 sign-extends (int64)(uint32)-1 to -1. */
static void emit_narrowed(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, struct pyprobe__d_type to,
                          const char *value)
{
    if (to.size >= 8)
        pyprobe__d_buf_str(e->ctx, b, value);
    else if (to.is_unsigned)
        pyprobe__d_buf_printf(e->ctx, b, "((%s) & 0x%llx)", value, (1ULL << (to.size * 8)) - 1);
    else
        pyprobe__d_buf_printf(e->ctx, b, "(int64)(int%d)(%s)", to.size * 8, value);
}

static void emit_call(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const struct pyprobe__d_node *n)
{
    const char *text;

    switch (n->builtin->id) {
    case PYPROBE__D_F_STRLEN:
        if (!pyprobe__d_constant_string(n->args[0], &text))
            pyprobe__d_refuse(e, n, "strlen( ) of a traced string is not supported: bpftrace 0.17 has no strlen");
        pyprobe__d_buf_printf(e->ctx, b, "%zu", strlen(text));
        return;
    case PYPROBE__D_F_USTACK:
        pyprobe__d_refuse(e, n, "ustack( ) can only be traced or key an aggregation");
    default:
        if (n->type.kind == PYPROBE__D_T_STRING)
            pyprobe__d_buf_str(e->ctx, b, simple_string(e, n));
        else
            pyprobe__d_buf_str(e->ctx, b, n->builtin->bpftrace);
    }
}

void pyprobe__d_emit_expr(struct pyprobe__d_emitter *e, struct pyprobe__d_buf *b, const struct pyprobe__d_node *n)
{
    n = pyprobe__d_unmacro(n);
    pyprobe__d_enter(e->ctx, n->file, n->line, n->column);
    if (n->type.kind == PYPROBE__D_T_STRING && n->kind != PYPROBE__D_N_BINARY) {
        pyprobe__d_buf_str(e->ctx, b, simple_string(e, n));
        pyprobe__d_leave(e->ctx);
        return;
    }
    switch (n->kind) {
    case PYPROBE__D_N_INT: emit_int(e, b, n->value); break;
    case PYPROBE__D_N_MACRO: pyprobe__d_buf_str(e->ctx, b, "0"); break; /* unbound: the parse-time dry run */
    case PYPROBE__D_N_IDENT:
        if (n->builtin)
            pyprobe__d_buf_str(e->ctx, b, builtin_text(e, n));
        else
            emit_variable(e, b, n);
        break;
    case PYPROBE__D_N_SELF: case PYPROBE__D_N_THIS: case PYPROBE__D_N_INDEX: emit_variable(e, b, n); break;
    case PYPROBE__D_N_CALL: emit_call(e, b, n); break;
    case PYPROBE__D_N_UNARY:
        pyprobe__d_buf_printf(e->ctx, b, "(%s%s)", n->op == PYPROBE__D_OP_ADD ? "" : pyprobe__d_op_text(n->op),
                              pyprobe__d_expr_text(e, n->a));
        break;
    case PYPROBE__D_N_INCDEC:
        pyprobe__d_buf_printf(e->ctx, b, n->postfix ? "%2$s%1$s" : "%1$s%2$s", pyprobe__d_op_text(n->op),
                              pyprobe__d_variable_text(e, n->a));
        break;
    case PYPROBE__D_N_BINARY: emit_binary(e, b, n); break;
    case PYPROBE__D_N_TERNARY:
        pyprobe__d_buf_printf(e->ctx, b, "(%s ? %s : %s)", pyprobe__d_expr_text(e, n->a),
                              pyprobe__d_expr_text(e, n->b), pyprobe__d_expr_text(e, n->c));
        break;
    case PYPROBE__D_N_CAST: emit_narrowed(e, b, n->cast, pyprobe__d_expr_text(e, n->a)); break;
    default: pyprobe__d_refuse(e, n, "this expression is not supported");
    }
    pyprobe__d_leave(e->ctx);
}

/* ---- printf and trace ---- */

/* A bpftrace printf under construction: its format and arguments. */
struct output {
    struct pyprobe__d_buf format;
    struct pyprobe__d_buf args;
};

static void out_text(struct pyprobe__d_emitter *e, struct output *o, const char *text, size_t length)
{
    escape(e, &o->format, text, length, true);
}

static void out_conversion(struct pyprobe__d_emitter *e, struct output *o, const char *conversion, const char *arg)
{
    pyprobe__d_buf_str(e->ctx, &o->format, conversion);
    pyprobe__d_buf_printf(e->ctx, &o->args, ", %s", arg);
}

/* The wire protocol's segment markers (d_data.h), as bpftrace escapes. */
static void out_open(struct pyprobe__d_emitter *e, struct output *o, char op)
{
    pyprobe__d_buf_printf(e->ctx, &o->format, "\\x%02x%c", PYPROBE__D_SEGMENT_OPEN, op);
}

static void out_segment_text(struct pyprobe__d_emitter *e, struct output *o)
{
    pyprobe__d_buf_printf(e->ctx, &o->format, "\\x%02x", PYPROBE__D_SEGMENT_TEXT);
}

static void out_close(struct pyprobe__d_emitter *e, struct output *o)
{
    pyprobe__d_buf_printf(e->ctx, &o->format, "\\x%02x", PYPROBE__D_SEGMENT_CLOSE);
}

static void out_pieces(struct pyprobe__d_emitter *e, struct output *o, const struct pyprobe__d_vec *pieces)
{
    for (size_t i = 0; i < pieces->count; i++) {
        const struct pyprobe__d_spiece *p = pieces->items[i];

        switch (p->kind) {
        case PYPROBE__D_P_LITERAL: out_text(e, o, p->text, strlen(p->text)); break;
        case PYPROBE__D_P_STRING: out_conversion(e, o, "%s", p->text); break;
        case PYPROBE__D_P_INT: out_conversion(e, o, "%lld", p->text); break;
        case PYPROBE__D_P_OPEN: out_open(e, o, p->op), out_segment_text(e, o); break;
        case PYPROBE__D_P_CLOSE: out_close(e, o); break;
        }
    }
}

/* How a conversion prints one value: its flags, width and precision with
 * any '*' resolved. width_arg is the bpftrace expression of a width known
 * only when the probe fires (then width is -1). */
struct spec {
    const struct pyprobe__d_conversion *conv;
    bool left, zero;
    int width, precision;
    const char *width_arg;
};

/* C's (and bpftrace's) spelling of a conversion, width included unless it
 * is dynamic; integers get "ll" as dt_printf.c gives 8-byte ones, and %d
 * of an unsigned type prints as %u (dt_printf.c's pfcheck_dint). */
static const char *spec_text(struct pyprobe__d_emitter *e, const struct spec *s, struct pyprobe__d_type type,
                             bool with_width)
{
    struct pyprobe__d_buf b = {0};
    char conv = s->conv->conversion;

    pyprobe__d_buf_printf(e->ctx, &b, "%%%s%s", s->left ? "-" : "", s->zero ? "0" : "");
    if (with_width && s->width >= 0)
        pyprobe__d_buf_printf(e->ctx, &b, "%d", s->width);
    if (s->precision >= 0)
        pyprobe__d_buf_printf(e->ctx, &b, ".%d", s->precision);
    if (conv == 'd' || conv == 'i')
        conv = type.is_unsigned ? 'u' : 'd';
    if (conv == 'p')
        conv = 'x';
    if (conv != 's' && conv != 'c')
        pyprobe__d_buf_str(e->ctx, &b, "ll");
    pyprobe__d_buf_add(e->ctx, &b, &conv, 1);
    return b.text;
}

/* The type an integer is printed as: h and hh narrow it, and the unsigned
 * conversions see a narrow type's bits only (as pfprint_uint reads them). */
static struct pyprobe__d_type print_type(const struct pyprobe__d_conversion *c, struct pyprobe__d_type t)
{
    bool is_unsigned_conv = strchr("uoxXp", c->conversion) != NULL;

    if (!strcmp(c->length, "hh"))
        return (struct pyprobe__d_type){PYPROBE__D_T_INT, 1, is_unsigned_conv};
    if (!strcmp(c->length, "h"))
        return (struct pyprobe__d_type){PYPROBE__D_T_INT, 2, is_unsigned_conv};
    if (is_unsigned_conv && t.size < 8)
        t.is_unsigned = true;
    else if (!is_unsigned_conv)
        t.size = 8;
    return t;
}

static void out_folded(struct pyprobe__d_emitter *e, struct output *o, const char *spec, const char *string,
                       int64_t value)
{
    char small[512], *text = small;
    int length = string ? snprintf(small, sizeof small, spec, string) : snprintf(small, sizeof small, spec, value);

    if (length < 0)
        pyprobe__d_fail_nomem(e->ctx);
    if ((size_t)length >= sizeof small) {
        text = pyprobe__d_alloc(e->ctx, (size_t)length + 1);
        if (string)
            snprintf(text, (size_t)length + 1, spec, string);
        else
            snprintf(text, (size_t)length + 1, spec, value);
    }
    out_text(e, o, text, (size_t)length);
}

/* A width bpftrace cannot apply (dynamic, or over pieces): a 'W' segment. */
static void out_width_open(struct pyprobe__d_emitter *e, struct output *o, const struct spec *s)
{
    out_open(e, o, 'W');
    if (s->width_arg)
        out_conversion(e, o, "%lld", s->width_arg);
    else
        pyprobe__d_buf_printf(e->ctx, &o->format, "%s%d", s->left ? "-" : "", s->width);
    out_segment_text(e, o);
}

static void out_integer(struct pyprobe__d_emitter *e, struct output *o, const struct spec *s,
                        const struct pyprobe__d_node *value)
{
    struct pyprobe__d_type t = print_type(s->conv, value->type);
    struct pyprobe__d_buf arg = {0};
    int64_t constant;

    if (!s->width_arg && pyprobe__d_constant(value, &constant)) {
        out_folded(e, o, spec_text(e, s, value->type, true), NULL, pyprobe__d_narrow(constant, t));
        return;
    }
    emit_narrowed(e, &arg, t, pyprobe__d_expr_text(e, value));
    if (s->width_arg) {
        struct spec inner = *s; /* the segment justifies */

        inner.left = false;
        out_width_open(e, o, s);
        out_conversion(e, o, spec_text(e, &inner, value->type, false), arg.text);
        out_close(e, o);
        return;
    }
    out_conversion(e, o, spec_text(e, s, value->type, true), arg.text);
}

static void out_string(struct pyprobe__d_emitter *e, struct output *o, const struct spec *s,
                       const struct pyprobe__d_node *value)
{
    struct pyprobe__d_vec pieces = {0};
    const struct pyprobe__d_spiece *only;
    bool segment;

    pyprobe__d_string_pieces(e, value, &pieces);
    only = pieces.count == 1 ? pieces.items[0] : NULL;
    if (!s->width_arg && (!pieces.count || (only && only->kind == PYPROBE__D_P_LITERAL))) {
        out_folded(e, o, spec_text(e, s, value->type, true), only ? only->text : "", 0);
        return;
    }
    if (only && only->kind == PYPROBE__D_P_STRING && !s->width_arg) {
        out_conversion(e, o, spec_text(e, s, value->type, true), only->text);
        return;
    }
    if (s->precision >= 0)
        pyprobe__d_refuse(e, value, "a precision over %s( ) of a traced string is not supported",
                          composite_why(&pieces));
    segment = s->width_arg || s->width > 0;
    if (segment)
        out_width_open(e, o, s);
    out_pieces(e, o, &pieces);
    if (segment)
        out_close(e, o);
}

/* printf's '*' width: constant, or a 'W' segment's argument. C's rule: a
 * negative width is the '-' flag with its magnitude. */
static void resolve_width(struct pyprobe__d_emitter *e, struct spec *s, const struct pyprobe__d_node *width)
{
    int64_t w;
    const char *text;

    if (pyprobe__d_constant(width, &w)) {
        s->left = s->left || w < 0;
        s->width = w < 0 ? (w < -100000 ? 100000 : (int)-w) : (w > 100000 ? 100000 : (int)w);
        return;
    }
    if (s->zero)
        pyprobe__d_refuse(e, width, "a '0' flag with a '*' width is not supported");
    if (s->left && has_side_effects(width))
        pyprobe__d_refuse(e, width, "a '-*' width with side effects is not supported");
    text = pyprobe__d_expr_text(e, width);
    s->width_arg = s->left ? pyprobe__d_format(e->ctx, "((%s) < 0 ? (%s) : -(%s))", text, text, text) : text;
}

static void out_value(struct pyprobe__d_emitter *e, struct output *o, const struct pyprobe__d_conversion *c,
                      const struct pyprobe__d_node *width, const struct pyprobe__d_node *value)
{
    struct spec s = {.conv = c, .left = strchr(c->flags, '-') != NULL, .width = c->width, .precision = c->precision};

    s.zero = !s.left && strchr(c->flags, '0') != NULL;
    if (width)
        resolve_width(e, &s, width);
    if (pyprobe__d_unmacro(value)->type.kind == PYPROBE__D_T_STRING || value->type.kind == PYPROBE__D_T_STRING)
        out_string(e, o, &s, value);
    else if (value->type.kind == PYPROBE__D_T_STACK)
        out_conversion(e, o, "%s", value->arg_count ? pyprobe__d_format(e->ctx, "ustack(%s)",
                                                                        pyprobe__d_expr_text(e, value->args[0]))
                                                    : "ustack");
    else
        out_integer(e, o, &s, value);
}

static void out_emit(struct pyprobe__d_emitter *e, struct output *o)
{
    if (o->format.length == 0)
        return;
    pyprobe__d_line(e, "printf(\"%s\"%s);", o->format.text, o->args.text ? o->args.text : "");
}

/* D's format text may not hold the wire protocol's own control bytes. */
static void check_text(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *at, const char *text,
                       size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] >= PYPROBE__D_SEGMENT_CLOSE && text[i] <= PYPROBE__D_CONTROL)
            pyprobe__d_refuse(e, at, "the bytes \\x1c to \\x1f are reserved for pyprobe's output protocol");
}

static void emit_printf(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    struct output o = {{0}, {0}};
    struct pyprobe__d_format format;
    const char *text;
    size_t arg = 1, at = 0;

    pyprobe__d_constant_string(n->args[0], &text);
    pyprobe__d_format_parse(e->ctx, n, "printf", text, &format);
    for (size_t i = 0; i < format.count; i++) {
        const struct pyprobe__d_conversion *c = &format.conversions[i];
        const struct pyprobe__d_node *width = c->star_width ? n->args[arg++] : NULL;

        check_text(e, n, text + at, c->start - at);
        out_text(e, &o, text + at, c->start - at);
        at = c->end + 1;
        if (c->conversion == '%')
            pyprobe__d_buf_str(e->ctx, &o.format, "%%");
        else
            out_value(e, &o, c, width, n->args[arg++]);
    }
    check_text(e, n, text + at, strlen(text + at));
    out_text(e, &o, text + at, strlen(text + at));
    out_emit(e, &o);
}

/* trace(): dt_consume.c prints an 8-byte integer "%lld" (" %16lld" unless
 * quiet), smaller ones "%d" (" %8d", " %5d", " %3d") of their unsigned
 * bits, a string "%s" ("  %-33s", dt_print_bytes with width -33). */
static void emit_trace(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *value)
{
    static const int widths[9] = {0, 3, 5, 0, 8, 0, 0, 0, 16};
    static const struct pyprobe__d_conversion str_conv = {.conversion = 's', .width = -1, .precision = -1};
    bool quiet = e->options->output.quiet;
    struct output o = {{0}, {0}};
    struct spec s = {.precision = -1, .width = -1};
    struct pyprobe__d_type t = value->type;

    if (t.kind == PYPROBE__D_T_STRING) {
        s.conv = &str_conv;
        s.left = !quiet;
        s.width = quiet ? -1 : 33;
        if (!quiet)
            out_text(e, &o, "  ", 2);
        out_string(e, &o, &s, value);
    } else if (t.kind == PYPROBE__D_T_STACK) {
        out_value(e, &o, &str_conv, NULL, value);
    } else {
        /* 4 bytes print signed, 1 and 2 as their unsigned bits */
        struct pyprobe__d_type as = {PYPROBE__D_T_INT, t.size, t.size < 4};
        const char *spec = quiet ? "%lld" : pyprobe__d_format(e->ctx, " %%%dlld", widths[t.size <= 8 ? t.size : 8]);
        struct pyprobe__d_buf arg = {0};
        int64_t constant;

        if (pyprobe__d_constant(value, &constant)) {
            out_folded(e, &o, spec, NULL, pyprobe__d_narrow(constant, as));
        } else {
            emit_narrowed(e, &arg, as, pyprobe__d_expr_text(e, value));
            out_conversion(e, &o, spec, arg.text);
        }
    }
    out_emit(e, &o);
}

/* ---- statements ---- */

/* this->x = basename(copyinstr(arg0)) and the like: what bpftrace cannot
 * join or cut stays in pieces, each traced value in its own scratch
 * variable ($this_x_0, ...), and this->x reads as those pieces
 * (pyprobe__d_this_shape() fixed them). */
static void emit_shaped_assign(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    struct pyprobe__d_vec pieces = {0};

    pyprobe__d_string_pieces(e, n->b, &pieces);
    for (size_t i = 0; i < pieces.count; i++) {
        const struct pyprobe__d_spiece *p = pieces.items[i], *slot = n->a->symbol->shape->items[i];

        if (p->kind == PYPROBE__D_P_STRING || p->kind == PYPROBE__D_P_INT)
            pyprobe__d_line(e, "%s = %s;", slot->text, p->text);
    }
}

/* The pieces a this-> variable holds when one assignment gives it a
 * string bpftrace cannot build; every assignment must give the same kind. */
void pyprobe__d_this_shape(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    struct pyprobe__d_symbol *s = n->a->symbol;
    struct pyprobe__d_vec pieces = {0}, *shape;
    const struct pyprobe__d_spiece *only;

    pyprobe__d_string_pieces(e, n->b, &pieces);
    only = pieces.count == 1 ? pieces.items[0] : NULL;
    if (only && (only->kind == PYPROBE__D_P_STRING || only->kind == PYPROBE__D_P_LITERAL) && !s->shape)
        return;
    if (s->shape) {
        bool same = s->shape->count == pieces.count;

        for (size_t i = 0; same && i < pieces.count; i++) {
            const struct pyprobe__d_spiece *a = s->shape->items[i], *b = pieces.items[i];

            same = a->kind == b->kind && a->op == b->op && (a->kind != PYPROBE__D_P_LITERAL || !strcmp(a->text, b->text));
        }
        if (!same)
            pyprobe__d_refuse(e, n, "this->%s holds strings built differently here and elsewhere", s->name);
        return;
    }
    shape = pyprobe__d_alloc(e->ctx, sizeof *shape);
    for (size_t i = 0; i < pieces.count; i++) {
        struct pyprobe__d_spiece *p = pieces.items[i], *slot = pyprobe__d_alloc(e->ctx, sizeof *slot);

        *slot = *p;
        if (p->kind == PYPROBE__D_P_STRING || p->kind == PYPROBE__D_P_INT) {
            if (strstr(p->text, pyprobe__d_format(e->ctx, "$this_%s", s->name)))
                pyprobe__d_refuse(e, n, "this->%s is built from itself", s->name);
            slot->text = pyprobe__d_format(e->ctx, "$this_%s_%zu", s->name, i);
        }
        pyprobe__d_push(e->ctx, shape, slot);
    }
    s->shape = shape;
}

static void emit_assign(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    const char *target = pyprobe__d_variable_text(e, n->a);
    const struct pyprobe__d_symbol *s = n->a->symbol;
    int64_t value;
    struct pyprobe__d_buf b = {0};

    if (n->op == PYPROBE__D_OP_DIV_ASSIGN || n->op == PYPROBE__D_OP_MOD_ASSIGN) {
        struct pyprobe__d_node division = *n;

        division.type = pyprobe__d_arith_type(n->a->type, n->b->type);
        emit_division(e, &b, &division, n->a, n->b);
        pyprobe__d_line(e, "%s = %s;", target, b.text);
    } else if (n->op != PYPROBE__D_OP_ASSIGN) {
        pyprobe__d_line(e, "%s %s %s;", target, pyprobe__d_op_text(n->op), pyprobe__d_expr_text(e, n->b));
    } else if (s->shape) {
        emit_shaped_assign(e, n);
    } else if (s->scope != PYPROBE__D_N_THIS && s->stored && pyprobe__d_constant(n->b, &value) && value == 0) {
        /* D frees a dynamic variable assigned 0; bpftrace maps have a
         * size limit, so deleting keeps long traces within it. */
        pyprobe__d_line(e, "delete(%s);", target);
    } else {
        pyprobe__d_line(e, "%s = %s;", target, pyprobe__d_expr_text(e, n->b));
    }
}

/* exit(n): bpftrace's exit() ends the probe's program at once, while D
 * runs the rest of the clause and the probe's other clauses: the status
 * is kept and exit() comes at the end of the block (d_translate.c). */
static void emit_exit(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    pyprobe__d_line(e, "@pp_exit = %s;", pyprobe__d_expr_text(e, n->args[0]));
    pyprobe__d_line(e, "$pp_exit = 1;");
}

void pyprobe__d_emit_statement(struct pyprobe__d_emitter *e, const struct pyprobe__d_node *n)
{
    if (n->line != e->comment_line)
        pyprobe__d_line(e, "// %s", pyprobe__d_where(e, n->file, n->line));
    e->comment_line = n->line;
    if (n->kind == PYPROBE__D_N_ASSIGN && n->a->kind == PYPROBE__D_N_AGG) {
        pyprobe__d_emit_aggregation(e, n);
    } else if (n->kind == PYPROBE__D_N_ASSIGN) {
        emit_assign(e, n);
    } else if (n->kind == PYPROBE__D_N_INCDEC) {
        pyprobe__d_line(e, "%s%s;", pyprobe__d_variable_text(e, n->a), pyprobe__d_op_text(n->op));
    } else if (n->builtin->id == PYPROBE__D_F_PRINTF) {
        emit_printf(e, n);
    } else if (n->builtin->id == PYPROBE__D_F_TRACE) {
        emit_trace(e, n->args[0]);
    } else if (n->builtin->id == PYPROBE__D_F_USTACK) {
        emit_trace(e, n);
    } else if (n->builtin->id == PYPROBE__D_F_EXIT) {
        emit_exit(e, n);
    } else {
        pyprobe__d_emit_agg_action(e, n);
    }
}
