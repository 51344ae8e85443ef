/*
 * lister_args.h - the argument description of a stapsdt note, as a lister
 * shows it: "8@%rdi -4@%edx 8f@%xmm0 8@-16(%rbp) -4@$5".
 *
 *     struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];
 *     int count = pyprobe__parse_args(probe.args, args);
 *
 * Each item is [-]SIZE[f]@OPERAND: '-' for signed, 'f' for float, the
 * operand in assembler syntax.
 */
#ifndef PYPROBE_LISTER_ARGS_H
#define PYPROBE_LISTER_ARGS_H

#include <pyprobe/notes.h>
#include <stdbool.h>
#include <stddef.h>

struct pyprobe__arg {
    unsigned size;          /* bytes: 1, 2, 4, 8 or 16 */
    bool is_signed;         /* written with a leading '-' */
    bool is_float;          /* written with an 'f' after the size */
    const char *operand;    /* assembler operand, in the description, */
    size_t operand_length;  /* so not NUL-terminated at its end */
};

/* Splits `desc` into its arguments: returns how many (0 to
 * PYPROBE_MAX_PROBE_ARGS), or -EINVAL for a malformed item (no size, a size
 * other than above, no '@', an empty operand) or more arguments. */
int pyprobe__parse_args(const char *desc, struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS]);

#endif /* PYPROBE_LISTER_ARGS_H */
