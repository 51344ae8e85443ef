/*
 * rt_types.h - the runtime's argument types, written once: what a note says
 * of each (size, sign, C type), how a fire converts a value to it, and its
 * name in the Python module (pyprobe.INT8 ...).
 */
#ifndef PYPROBE_RT_TYPES_H
#define PYPROBE_RT_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "pyprobe_runtime.h"

struct pyprobe__arg_type {
    const char *name;   /* "INT8" */
    const char *c_type; /* "int8_t": .note.pyprobe's, as dtrace -l -v prints */
    unsigned bits;      /* 8, 16, 32 or 64: the stapsdt note's size is bits / 8 */
    bool is_signed;     /* the note's size is negative */
};

/* The first and last enum pyprobe_arg_type. */
#define PYPROBE__ARG_TYPE_FIRST PYPROBE_ARG_INT8
#define PYPROBE__ARG_TYPE_LAST PYPROBE_ARG_POINTER

/* Indexed by enum pyprobe_arg_type, FIRST to LAST. */
extern const struct pyprobe__arg_type pyprobe__arg_types[PYPROBE__ARG_TYPE_LAST + 1];

static inline bool pyprobe__arg_type_valid(int type)
{
    return type >= PYPROBE__ARG_TYPE_FIRST && type <= PYPROBE__ARG_TYPE_LAST;
}

/* The value as the declared type holds it, widened back to 64 bits the way
 * C converts (so a tracer reading the whole register agrees with one
 * reading the note's size); a NULL string becomes "", which tracers' str()
 * can read. */
uint64_t pyprobe__arg_convert(enum pyprobe_arg_type type, uint64_t value);

#endif /* PYPROBE_RT_TYPES_H */
