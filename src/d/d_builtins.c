/*
 * d_builtins.c - the D names the front end knows, as tables: built-in
 * variables and functions with their bpftrace 0.17 spelling and D type (or
 * the reason they are refused), type names, declaration keywords, refused
 * providers, and the options of -x and #pragma D option.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d_builtins.h"

#define T_NONE {PYPROBE__D_T_NONE, 0, false}
#define T_I32 {PYPROBE__D_T_INT, 4, false}
#define T_U32 {PYPROBE__D_T_INT, 4, true}
#define T_I64 {PYPROBE__D_T_INT, 8, false}
#define T_U64 {PYPROBE__D_T_INT, 8, true}
#define T_STR {PYPROBE__D_T_STRING, 0, false}
#define T_STACK {PYPROBE__D_T_STACK, 0, false}

/* The type comes last: its braces hold commas. */
#define VAR(name, id, bpftrace, ...) {name, PYPROBE__D_BK_VARIABLE, id, 0, 0, __VA_ARGS__, bpftrace, NULL, false}
#define FN(name, kind, id, min, max, bpftrace, ...) {name, kind, id, min, max, __VA_ARGS__, bpftrace, NULL, true}
#define SUB(name, id, min, max, bpftrace, ...) FN(name, PYPROBE__D_BK_SUBROUTINE, id, min, max, bpftrace, __VA_ARGS__)
#define ACT(name, id, min, max) FN(name, PYPROBE__D_BK_ACTION, id, min, max, NULL, T_NONE)
#define AGG(name, id, min, max) FN(name, PYPROBE__D_BK_AGGFN, id, min, max, NULL, T_NONE)
#define NO(name, why) {name, PYPROBE__D_BK_REFUSED, PYPROBE__D_B_PLAIN, 0, -1, T_NONE, NULL, why, true}
#define NOVAR(name, why) {name, PYPROBE__D_BK_REFUSED, PYPROBE__D_B_PLAIN, 0, 0, T_NONE, NULL, why, false}

/* Why whole families are refused (each said once). */
#define WHY_STRFN "bpftrace 0.17 has no string functions on traced strings"
#define WHY_DESTRUCTIVE "destructive actions are not translated"
#define WHY_SPEC "speculations: bpftrace has no speculative buffers"
#define WHY_SOLARIS "it reads Solaris kernel structures"
#define WHY_ADDR "symbol and address lookups are not translated"
#define WHY_MEM "raw memory access is not translated"

/* bpftrace 0.17 gives its integer builtins unsigned types and warns when
 * they meet signed ones; D's values are carried as int64 throughout, hence
 * the casts. D's own types (T_*) still decide %d versus %u and widths. */
static const struct pyprobe__d_builtin builtins[] = {
    VAR("arg0", PYPROBE__D_B_ARG, NULL, T_I64), VAR("arg1", PYPROBE__D_B_ARG, NULL, T_I64),
    VAR("arg2", PYPROBE__D_B_ARG, NULL, T_I64), VAR("arg3", PYPROBE__D_B_ARG, NULL, T_I64),
    VAR("arg4", PYPROBE__D_B_ARG, NULL, T_I64), VAR("arg5", PYPROBE__D_B_ARG, NULL, T_I64),
    VAR("arg6", PYPROBE__D_B_ARG, NULL, T_I64), VAR("arg7", PYPROBE__D_B_ARG, NULL, T_I64),
    VAR("arg8", PYPROBE__D_B_ARG, NULL, T_I64), VAR("arg9", PYPROBE__D_B_ARG, NULL, T_I64),
    VAR("timestamp", PYPROBE__D_B_PLAIN, "(int64)nsecs", T_U64),
    VAR("vtimestamp", PYPROBE__D_B_VTIMESTAMP, NULL, T_U64),
    VAR("walltimestamp", PYPROBE__D_B_WALLTIMESTAMP, NULL, T_I64),
    VAR("probeprov", PYPROBE__D_B_PROBEPROV, NULL, T_STR),
    VAR("probemod", PYPROBE__D_B_PROBEMOD, NULL, T_STR),
    VAR("probefunc", PYPROBE__D_B_PROBEFUNC, NULL, T_STR),
    VAR("probename", PYPROBE__D_B_PROBENAME, NULL, T_STR),
    VAR("id", PYPROBE__D_B_ID, NULL, T_U32),
    VAR("execname", PYPROBE__D_B_PLAIN, "comm", T_STR),
    VAR("pid", PYPROBE__D_B_PLAIN, "(int64)pid", T_I32),
    VAR("tid", PYPROBE__D_B_PLAIN, "(int64)tid", T_I32),
    VAR("uid", PYPROBE__D_B_PLAIN, "(int64)uid", T_U32),
    VAR("gid", PYPROBE__D_B_PLAIN, "(int64)gid", T_U32),
    VAR("cpu", PYPROBE__D_B_PLAIN, "(int64)cpu", T_I32),
    NOVAR("ppid", "bpftrace 0.17 reads the parent's pid only from kernel structures; use pid"),
    NOVAR("errno", "bpftrace has no errno of the traced thread"),
    NOVAR("args", "typed arguments (args[]) are not translated; use arg0..arg9"),
    NOVAR("curthread", WHY_SOLARIS), NOVAR("curpsinfo", WHY_SOLARIS), NOVAR("curlwpsinfo", WHY_SOLARIS),
    NOVAR("curcpu", WHY_SOLARIS), NOVAR("ipl", WHY_SOLARIS), NOVAR("zonename", WHY_SOLARIS),
    NOVAR("uregs", "registers are not translated"), NOVAR("caller", WHY_ADDR), NOVAR("ucaller", WHY_ADDR),
    NOVAR("stackdepth", "bpftrace 0.17 has no stack depth"), NOVAR("ustackdepth", "bpftrace 0.17 has no stack depth"),
    NOVAR("epid", "enabled probe ids are not translated"), NOVAR("root", "not translated"),
    NOVAR("cwd", "bpftrace 0.17 has no working directory of the traced process"),

    SUB("copyinstr", PYPROBE__D_F_COPYINSTR, 1, 2, "str", T_STR),
    SUB("stringof", PYPROBE__D_F_STRINGOF, 1, 1, NULL, T_STR),
    SUB("strjoin", PYPROBE__D_F_STRJOIN, 2, 2, NULL, T_STR),
    SUB("basename", PYPROBE__D_F_BASENAME, 1, 1, NULL, T_STR),
    SUB("dirname", PYPROBE__D_F_DIRNAME, 1, 1, NULL, T_STR),
    SUB("strlen", PYPROBE__D_F_STRLEN, 1, 1, NULL, T_U64),
    SUB("lltostr", PYPROBE__D_F_LLTOSTR, 1, 2, NULL, T_STR),
    SUB("ustack", PYPROBE__D_F_USTACK, 0, 2, "ustack", T_STACK),
    SUB("rand", PYPROBE__D_B_PLAIN, 0, 0, "(int64)rand", T_I32),
    ACT("printf", PYPROBE__D_F_PRINTF, 1, -1), ACT("trace", PYPROBE__D_F_TRACE, 1, 1),
    ACT("printa", PYPROBE__D_F_PRINTA, 1, -1), ACT("exit", PYPROBE__D_F_EXIT, 1, 1),
    ACT("trunc", PYPROBE__D_F_TRUNC, 1, 2), ACT("clear", PYPROBE__D_F_CLEAR, 1, 1),
    ACT("normalize", PYPROBE__D_F_NORMALIZE, 2, 2), ACT("denormalize", PYPROBE__D_F_DENORMALIZE, 1, 1),
    AGG("count", PYPROBE__D_F_COUNT, 0, 0), AGG("sum", PYPROBE__D_F_SUM, 1, 1), AGG("avg", PYPROBE__D_F_AVG, 1, 1),
    AGG("min", PYPROBE__D_F_MIN, 1, 1), AGG("max", PYPROBE__D_F_MAX, 1, 1),
    AGG("quantize", PYPROBE__D_F_QUANTIZE, 1, 1), AGG("lquantize", PYPROBE__D_F_LQUANTIZE, 3, 4),
    NO("jstack", "bpftrace cannot walk a Python stack: there is no jstack() on Linux"),
    NO("stack", "kernel stacks are not translated; ustack() is"),
    NO("llquantize", "bpftrace 0.17 has no log-linear histogram"),
    NO("stddev", "bpftrace 0.17 has no standard deviation"),
    NO("speculation", WHY_SPEC), NO("speculate", WHY_SPEC), NO("commit", WHY_SPEC), NO("discard", WHY_SPEC),
    NO("raise", WHY_DESTRUCTIVE), NO("stop", WHY_DESTRUCTIVE), NO("system", WHY_DESTRUCTIVE),
    NO("panic", WHY_DESTRUCTIVE), NO("breakpoint", WHY_DESTRUCTIVE), NO("chill", WHY_DESTRUCTIVE),
    NO("copyout", WHY_DESTRUCTIVE), NO("copyoutstr", WHY_DESTRUCTIVE),
    NO("tracemem", WHY_MEM), NO("printm", WHY_MEM), NO("copyin", WHY_MEM), NO("copyinto", WHY_MEM),
    NO("alloca", WHY_MEM), NO("bcopy", WHY_MEM),
    NO("setopt", "options cannot change while tracing"), NO("ftruncate", "the output file is pyprobe's"),
    NO("freopen", "the output file is pyprobe's"),
    NO("func", WHY_ADDR), NO("ufunc", WHY_ADDR), NO("usym", WHY_ADDR), NO("uaddr", WHY_ADDR),
    NO("umod", WHY_ADDR), NO("sym", WHY_ADDR), NO("mod", WHY_ADDR),
    NO("strtok", WHY_STRFN), NO("substr", WHY_STRFN), NO("index", WHY_STRFN), NO("rindex", WHY_STRFN),
    NO("strstr", WHY_STRFN), NO("strchr", WHY_STRFN), NO("strrchr", WHY_STRFN), NO("toupper", WHY_STRFN),
    NO("tolower", WHY_STRFN), NO("strtoll", WHY_STRFN), NO("cleanpath", WHY_STRFN),
    NO("inet_ntoa", WHY_STRFN), NO("inet_ntoa6", WHY_STRFN), NO("inet_ntop", WHY_STRFN),
    NO("htonl", "not translated"), NO("htonll", "not translated"), NO("htons", "not translated"),
    NO("ntohl", "not translated"), NO("ntohll", "not translated"), NO("ntohs", "not translated"),
    NO("progenyof", "bpftrace 0.17 cannot walk the process tree"),
    NO("getmajor", WHY_SOLARIS), NO("getminor", WHY_SOLARIS), NO("ddi_pathname", WHY_SOLARIS),
    NO("mutex_owned", WHY_SOLARIS), NO("mutex_owner", WHY_SOLARIS), NO("mutex_type_adaptive", WHY_SOLARIS),
    NO("mutex_type_spin", WHY_SOLARIS), NO("rw_read_held", WHY_SOLARIS), NO("rw_write_held", WHY_SOLARIS),
    NO("rw_iswriter", WHY_SOLARIS), NO("msgsize", WHY_SOLARIS), NO("msgdsize", WHY_SOLARIS),
    NO("sizeof", "sizeof is not translated"), NO("offsetof", "offsetof is not translated"),
    NO("xlate", "translators are not translated"),
};

const struct pyprobe__d_builtin *pyprobe__d_builtin_lookup(const char *name, bool call)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        const struct pyprobe__d_builtin *b = &builtins[i];

        if (strcmp(b->name, name) != 0)
            continue;
        if (b->call == call)
            return b;
    }
    return NULL;
}

#define TN(name, role, kind, size, is_unsigned) {name, role, {kind, size, is_unsigned}}
#define BASE(name, size) TN(name, PYPROBE__D_TN_BASE, PYPROBE__D_T_INT, size, false)
#define TYPEDEF(name, size, u) TN(name, PYPROBE__D_TN_TYPEDEF, PYPROBE__D_T_INT, size, u)

static const struct pyprobe__d_typename typenames[] = {
    BASE("char", 1), BASE("short", 2), BASE("int", 4), BASE("long", 8),
    TN("signed", PYPROBE__D_TN_MODIFIER, PYPROBE__D_T_INT, 4, false),
    TN("unsigned", PYPROBE__D_TN_MODIFIER, PYPROBE__D_T_INT, 4, true),
    TN("string", PYPROBE__D_TN_TYPEDEF, PYPROBE__D_T_STRING, 0, false),
    TYPEDEF("int8_t", 1, false), TYPEDEF("int16_t", 2, false), TYPEDEF("int32_t", 4, false),
    TYPEDEF("int64_t", 8, false), TYPEDEF("uint8_t", 1, true), TYPEDEF("uint16_t", 2, true),
    TYPEDEF("uint32_t", 4, true), TYPEDEF("uint64_t", 8, true), TYPEDEF("intptr_t", 8, false),
    TYPEDEF("uintptr_t", 8, true), TYPEDEF("size_t", 8, true), TYPEDEF("ssize_t", 8, false),
    TYPEDEF("off_t", 8, false), TYPEDEF("hrtime_t", 8, false), TYPEDEF("pid_t", 4, false),
    TYPEDEF("id_t", 4, false), TYPEDEF("uid_t", 4, true), TYPEDEF("gid_t", 4, true),
    TYPEDEF("processorid_t", 4, false), TYPEDEF("uint_t", 4, true), TYPEDEF("ulong_t", 8, true),
    TYPEDEF("u_longlong_t", 8, true), TYPEDEF("longlong_t", 8, false),
    TN("void", PYPROBE__D_TN_REFUSED, PYPROBE__D_T_NONE, 0, false),
    TN("float", PYPROBE__D_TN_REFUSED, PYPROBE__D_T_NONE, 0, false),
    TN("double", PYPROBE__D_TN_REFUSED, PYPROBE__D_T_NONE, 0, false),
    TN("struct", PYPROBE__D_TN_REFUSED, PYPROBE__D_T_NONE, 0, false),
    TN("union", PYPROBE__D_TN_REFUSED, PYPROBE__D_T_NONE, 0, false),
    TN("enum", PYPROBE__D_TN_REFUSED, PYPROBE__D_T_NONE, 0, false),
};

const struct pyprobe__d_typename *pyprobe__d_typename_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof typenames / sizeof typenames[0]; i++)
        if (strcmp(typenames[i].name, name) == 0)
            return &typenames[i];
    return NULL;
}

bool pyprobe__d_is_decl_keyword(const char *name)
{
    static const char *const keywords[] = {"self", "this", "typedef", "inline", "translator", "provider",
                                           "extern", "static", "register", "const", "volatile"};

    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(keywords[i], name) == 0)
            return true;
    return pyprobe__d_typename_lookup(name) != NULL;
}

const char *pyprobe__d_refused_provider(const char *provider)
{
    static const char *const solaris[] = {"fbt", "sdt", "sched", "io", "mib", "ip", "tcp", "udp", "lockstat",
                                          "cpc", "sysinfo", "vminfo", "fsinfo", "nfsv3", "nfsv4", "iscsi",
                                          "fc", "srp", "xpv", "plockstat", "fasttrap", "vm"};

    for (size_t i = 0; i < sizeof solaris / sizeof solaris[0]; i++)
        if (strcmp(solaris[i], provider) == 0)
            return "its probes are Solaris kernel instrumentation that Linux does not have";
    return NULL;
}

/* ---- options ---- */

enum option_kind {
    OPT_FLAG,       /* sets an int to 1 */
    OPT_NUMBER,     /* an int64 from NUMBER[kmgt] */
    OPT_IGNORED     /* accepted, no effect: `why` */
};

struct option {
    const char *name;
    enum option_kind kind;
    size_t offset;          /* in struct pyprobe__d_translate_options */
    size_t size;            /* of the field: int or int64_t */
    const char *why;
};

#define OPTION(name, kind, field) \
    {name, kind, offsetof(struct pyprobe__d_translate_options, field), \
     sizeof(((struct pyprobe__d_translate_options *)0)->field), NULL}
#define IGNORED(name, why) {name, OPT_IGNORED, 0, 0, why}
#define WHY_BPFTRACE_BUFFERS "bpftrace sizes and drains its own buffers"

static const struct option options[] = {
    OPTION("quiet", OPT_FLAG, output.quiet),
    OPTION("flowindent", OPT_FLAG, output.flowindent),
    OPTION("aggsortkey", OPT_FLAG, output.aggsortkey),
    OPTION("aggsortrev", OPT_FLAG, output.aggsortrev),
    OPTION("aggsortpos", OPT_NUMBER, output.aggsortpos),
    OPTION("aggsortkeypos", OPT_NUMBER, output.aggsortkeypos),
    OPTION("zdefs", OPT_FLAG, zdefs),
    OPTION("defaultargs", OPT_FLAG, defaultargs),
    OPTION("destructive", OPT_FLAG, destructive),
    OPTION("strsize", OPT_NUMBER, strsize),
    IGNORED("switchrate", "bpftrace polls its buffers at its own rate"),
    IGNORED("bufsize", WHY_BPFTRACE_BUFFERS), IGNORED("aggsize", WHY_BPFTRACE_BUFFERS),
    IGNORED("dynvarsize", WHY_BPFTRACE_BUFFERS), IGNORED("specsize", WHY_BPFTRACE_BUFFERS),
    IGNORED("bufpolicy", WHY_BPFTRACE_BUFFERS), IGNORED("bufresize", WHY_BPFTRACE_BUFFERS),
    IGNORED("aggrate", WHY_BPFTRACE_BUFFERS), IGNORED("cleanrate", WHY_BPFTRACE_BUFFERS),
    IGNORED("statusrate", WHY_BPFTRACE_BUFFERS), IGNORED("nspec", "speculations are not translated"),
    IGNORED("stackframes", "kernel stacks are not translated"),
    IGNORED("ustackframes", "bpftrace takes the frame count from ustack(N)"),
    IGNORED("jstackframes", "jstack() is not translated"), IGNORED("jstackstrsize", "jstack() is not translated"),
    IGNORED("stackindent", "stacks are printed as bpftrace prints them"),
    IGNORED("temporal", "events are printed as bpftrace delivers them"),
};

/* NUMBER[kmgt]: dtrace's sizes (the suffix multiplies by 1024s). */
static int parse_number(const char *value, int64_t *out)
{
    static const char suffixes[] = "kmgt";
    char *end;
    long long number;
    const char *suffix;

    if (!value || !isdigit((unsigned char)value[0]))
        return -EINVAL;
    errno = 0;
    number = strtoll(value, &end, 10);
    if (errno != 0)
        return -EINVAL;
    if (*end && (suffix = strchr(suffixes, tolower((unsigned char)*end))) != NULL && end[1] == '\0') {
        for (const char *s = suffixes; s <= suffix; s++) {
            if (number > INT64_MAX / 1024)
                return -EINVAL;
            number *= 1024;
        }
    } else if (*end) {
        return -EINVAL;
    }
    *out = number;
    return 0;
}

static void option_error(struct pyprobe__d_error *error, const char *format, const char *name, const char *detail)
{
    memset(error, 0, sizeof *error);
    snprintf(error->message, sizeof error->message, format, name, detail);
}

int pyprobe__d_option_set(struct pyprobe__d_translate_options *target, const char *name, const char *value,
                          struct pyprobe__d_error *error)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const struct option *o = &options[i];
        char *field = (char *)target + o->offset;
        int64_t number = 1;

        if (strcmp(o->name, name) != 0)
            continue;
        if (o->kind == OPT_IGNORED) {
            option_error(error, "option %s is ignored: %s", name, o->why);
            return 1;
        }
        if (o->kind == OPT_NUMBER && parse_number(value, &number) != 0) {
            option_error(error, "option %s needs a number, not \"%s\"", name, value ? value : "");
            return -EINVAL;
        }
        if (o->size == sizeof(int)) {
            int small = number > INT32_MAX ? INT32_MAX : (int)number;

            memcpy(field, &small, sizeof small);
        } else {
            memcpy(field, &number, sizeof number);
        }
        return 0;
    }
    option_error(error, "unknown option %s%s", name, "");
    return -EINVAL;
}
