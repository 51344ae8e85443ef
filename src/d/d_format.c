/*
 * d_format.c - D's printf/printa formats taken apart, as libdtrace's
 * dt_printf_create() reads them: flags, width and precision (numbers or
 * '*'), '@' for printa's value, a length (h, hh, l, ll, L) and the
 * conversion. Checking a conversion against its argument is the
 * checker's; spelling it for bpftrace is the translation's.
 */
#include <ctype.h>
#include <string.h>

#include "d_sema.h"

static _Noreturn void fail(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_node *at, const char *function,
                           size_t number, const char *what)
{
    pyprobe__d_fail(ctx, at->file, at->line, at->column, "%s( ) format conversion #%zu %s", function, number, what);
}

/* The conversion characters dt_printf.c knows (its _dtrace_conversions). */
static bool known(char c)
{
    return c && strchr("aAcCdeEfgGiIkopPsSTuxXY", c) != NULL;
}

static int number(const char *text, size_t *i)
{
    long value = 0;

    while (isdigit((unsigned char)text[*i])) {
        if (value < 100000)
            value = value * 10 + (text[*i] - '0');
        (*i)++;
    }
    return (int)value;
}

/* The part after '%' (at *i), up to and including the conversion. */
static void parse_one(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_node *at, const char *function,
                      const char *text, size_t *i, size_t n, struct pyprobe__d_conversion *c)
{
    size_t flag_count = 0, length_count = 0;
    bool dot = false;

    c->width = c->precision = -1;
    for (;; (*i)++) {
        char ch = text[*i];

        if (strchr("-+ #'0", ch) && ch && !dot && c->width < 0) {
            if (flag_count < sizeof c->flags - 1)
                c->flags[flag_count++] = ch;
        } else if (ch == '@') {
            c->aggregation = true;
        } else if (ch == '?') {
            c->width = 16;
        } else if (ch == '*') {
            if (dot ? c->star_precision : c->star_width)
                fail(ctx, at, function, n, "has more than one '*'");
            *(dot ? &c->star_precision : &c->star_width) = true;
        } else if (isdigit((unsigned char)ch)) {
            *(dot ? &c->precision : &c->width) = number(text, i);
            (*i)--;
        } else if (ch == '.') {
            if (dot)
                fail(ctx, at, function, n, "has more than one '.'");
            dot = true;
            c->precision = 0;
        } else if (ch == 'h' || ch == 'l' || ch == 'L') {
            if (length_count == sizeof c->length - 1)
                fail(ctx, at, function, n, "has too many length letters");
            c->length[length_count++] = ch;
        } else if (ch == '$') {
            fail(ctx, at, function, n, "uses unsupported positional format (%n$)");
        } else if (ch == '\0') {
            fail(ctx, at, function, n, "name expected before end of format string");
        } else {
            break;
        }
    }
    c->conversion = text[*i];
    if (c->conversion == '%' && text[*i - 1] != '%')
        fail(ctx, at, function, n, "cannot be combined with other format flags: %%");
    if (c->conversion != '%' && !known(c->conversion))
        pyprobe__d_fail(ctx, at->file, at->line, at->column, "%s( ) format conversion #%zu is undefined: %%%c",
                        function, n, isprint((unsigned char)c->conversion) ? c->conversion : '?');
}

void pyprobe__d_format_parse(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_node *at, const char *function,
                             const char *text, struct pyprobe__d_format *out)
{
    struct pyprobe__d_vec list = {0};

    out->text = text;
    if (!*text)
        pyprobe__d_fail(ctx, at->file, at->line, at->column, "%s( ) format string is empty", function);
    for (size_t i = 0; text[i]; i++) {
        struct pyprobe__d_conversion *c;

        if (text[i] != '%')
            continue;
        c = pyprobe__d_alloc(ctx, sizeof *c);
        c->start = i++;
        parse_one(ctx, at, function, text, &i, list.count + 1, c);
        c->end = i;
        pyprobe__d_push(ctx, &list, c);
    }
    out->count = list.count;
    out->conversions = pyprobe__d_alloc(ctx, (list.count + 1) * sizeof *out->conversions);
    for (size_t k = 0; k < list.count; k++)
        out->conversions[k] = *(struct pyprobe__d_conversion *)list.items[k];
}
