/* Argument descriptions of stapsdt notes (see lister_args.h). */
#include "lister_args.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool valid_size(unsigned long size)
{
    return size == 1 || size == 2 || size == 4 || size == 8 || size == 16;
}

/* An operand runs to the next space outside brackets: AArch64 writes memory
 * operands as "[sp, 16]". NULL if a bracket is left open. */
static const char *operand_end(const char *p)
{
    int depth = 0;

    for (; *p && (depth > 0 || (*p != ' ' && *p != '\t')); p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']')
            depth--;
    }
    return depth == 0 ? p : NULL;
}

/* Parses one "[-]SIZE[f]@OPERAND": the text after it, or NULL. */
static const char *parse_arg(const char *p, struct pyprobe__arg *arg)
{
    char *end;
    unsigned long size;

    arg->is_signed = *p == '-';
    p += arg->is_signed;
    if (!isdigit((unsigned char)*p))
        return NULL; /* strtoul would also take spaces and signs */
    size = strtoul(p, &end, 10);
    if (!valid_size(size))
        return NULL;
    arg->size = (unsigned)size;
    p = end;
    arg->is_float = *p == 'f';
    p += arg->is_float;
    if (*p++ != '@')
        return NULL;
    arg->operand = p;
    p = operand_end(p);
    if (!p || p == arg->operand)
        return NULL;
    arg->operand_length = (size_t)(p - arg->operand);
    /* A second '@' means two arguments ran together. */
    if (memchr(arg->operand, '@', arg->operand_length))
        return NULL;
    return p;
}

int pyprobe__parse_args(const char *desc, struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS])
{
    int count = 0;

    if (!desc || !args)
        return -EINVAL;
    for (const char *p = skip_spaces(desc); *p; p = skip_spaces(p)) {
        if (count == PYPROBE_MAX_PROBE_ARGS)
            return -EINVAL;
        p = parse_arg(p, &args[count]);
        if (!p)
            return -EINVAL;
        count++;
    }
    return count;
}
