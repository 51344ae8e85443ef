/* The runtime's argument types (rt_types.h). */
#include "rt_types.h"

const struct pyprobe__arg_type pyprobe__arg_types[PYPROBE__ARG_TYPE_LAST + 1] = {
    [PYPROBE_ARG_INT8] = {"INT8", "int8_t", 8, true},
    [PYPROBE_ARG_UINT8] = {"UINT8", "uint8_t", 8, false},
    [PYPROBE_ARG_INT16] = {"INT16", "int16_t", 16, true},
    [PYPROBE_ARG_UINT16] = {"UINT16", "uint16_t", 16, false},
    [PYPROBE_ARG_INT32] = {"INT32", "int32_t", 32, true},
    [PYPROBE_ARG_UINT32] = {"UINT32", "uint32_t", 32, false},
    [PYPROBE_ARG_INT64] = {"INT64", "int64_t", 64, true},
    [PYPROBE_ARG_UINT64] = {"UINT64", "uint64_t", 64, false},
    [PYPROBE_ARG_STRING] = {"STRING", "const char *", 64, false},
    [PYPROBE_ARG_POINTER] = {"POINTER", "void *", 64, false},
};

uint64_t pyprobe__arg_convert(enum pyprobe_arg_type type, uint64_t value)
{
    unsigned bits = pyprobe__arg_types[type].bits;
    uint64_t sign;

    if (type == PYPROBE_ARG_STRING && value == 0)
        return (uint64_t)(uintptr_t)"";
    if (bits == 64)
        return value;
    value &= (UINT64_C(1) << bits) - 1;
    sign = UINT64_C(1) << (bits - 1);
    return pyprobe__arg_types[type].is_signed && (value & sign) ? value | ~((sign << 1) - 1) : value;
}
