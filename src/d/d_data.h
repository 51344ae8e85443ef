/*
 * d_data.h - the contract between the D front end's two halves:
 *
 *   translation (d_lex, d_parse, d_check, d_translate): D in, a bpftrace
 *       program and a plan out;
 *   consumption (d_events, d_render, d_run): bpftrace's `-f json` events in,
 *       DTrace's output out.
 *
 * Both halves include this file and nothing of each other's internals.
 * Written once here: the wire protocol inside bpftrace's printf events, and
 * the shape of an aggregation's data as the renderer receives it.
 */
#ifndef PYPROBE_D_DATA_H
#define PYPROBE_D_DATA_H

#include <stddef.h>
#include <stdint.h>

/*
 * The wire protocol. Every printf the translated program makes is one of:
 *
 *   a control record    "\x1e" ID [" " INTEGER]... "\n"
 *       ID indexes the plan's actions; the integers are values the probe
 *       computed (normalize's factor, the CPU, exit()'s status, ...). A
 *       control record is never printed. Actions that print aggregations
 *       are followed, in the event stream, by one bpftrace map or hist
 *       event per bpftrace map that has entries (the translation emits
 *       `print(@map)` right after the record; bpftrace prints nothing for
 *       an empty map), then by the end record "\x1e\n" (no ID): the maps
 *       not seen by then are empty. Other CPUs' events may come in between.
 *
 *   user output         text, with inline segments the renderer resolves
 *       "\x1f" OP [ARG] "\x1d" TEXT "\x1c"
 *       OP 'W': %*s, ARG the decimal width (negative: left-justified);
 *       OP 'B': basename(TEXT); OP 'D': dirname(TEXT).
 *       Segments nest; each "\x1c" closes the innermost open one.
 *       N.B. these are what bpftrace 0.17 cannot do in the kernel (no %*s,
 *       no string functions on user strings); a traced string that itself
 *       holds these control bytes would be misread.
 */
#define PYPROBE__D_CONTROL '\x1e'
#define PYPROBE__D_SEGMENT_OPEN '\x1f'
#define PYPROBE__D_SEGMENT_TEXT '\x1d'
#define PYPROBE__D_SEGMENT_CLOSE '\x1c'
#define PYPROBE__D_CLOSE_RECORD "\x1e\n"
/* "every probe attached", first in BEGIN (bpftrace runs BEGIN after attaching;
 * its attached_probes event comes before): the same as an ATTACHED action. */
#define PYPROBE__D_READY_RECORD "\x1e" "ready\n"

/* DTrace's aggregating functions. */
enum pyprobe__d_aggfn {
    PYPROBE__D_COUNT,
    PYPROBE__D_SUM,
    PYPROBE__D_AVG,      /* carried as sum and count, so that merged keys stay exact */
    PYPROBE__D_MIN,
    PYPROBE__D_MAX,
    PYPROBE__D_QUANTIZE, /* bpftrace hist(): power-of-two buckets */
    PYPROBE__D_LQUANTIZE /* bpftrace lhist(): linear buckets */
};

/* One element of an aggregation's key. */
enum pyprobe__d_key_type { PYPROBE__D_KEY_INT, PYPROBE__D_KEY_STRING };

struct pyprobe__d_key {
    enum pyprobe__d_key_type type;
    int64_t integer;
    const char *string;
};

/* One histogram bucket: values in [min, max] (inclusive), as bpftrace's
 * hist events give them. */
struct pyprobe__d_bucket {
    int64_t min, max;
    uint64_t count;
};

/* One entry of an aggregation: its key (a tuple, possibly empty) and value. */
struct pyprobe__d_entry {
    struct pyprobe__d_key *keys;
    size_t key_count;
    int64_t value;              /* count, sum, min, max; for avg, the sum */
    uint64_t count;             /* avg: how many values were averaged */
    struct pyprobe__d_bucket *buckets; /* quantize, lquantize */
    size_t bucket_count;
};

/* An aggregation as printed at one moment. */
struct pyprobe__d_aggregation {
    const char *name;           /* D's name without '@': "" for the anonymous @ */
    enum pyprobe__d_aggfn fn;
    int64_t lq_lower, lq_upper, lq_step; /* lquantize's range and step */
    struct pyprobe__d_entry *entries;
    size_t entry_count;
};

/*
 * The plan: what the translation tells the consumer about its program.
 */

/* How one column of a D aggregation key is made from bpftrace's key tuple.
 * D keys that bpftrace cannot build in the kernel (strjoin, basename of a
 * user string) are kept apart there and joined here, and entries whose D
 * keys then coincide are merged (count, sum, avg, min, max and buckets all
 * merge exactly). */
struct pyprobe__d_piece {
    const char *literal;        /* a constant string, or NULL: */
    size_t part;                /* index into bpftrace's key tuple (an INT part in a
                                   STRING column is its decimal text: lltostr) */
    char transform;             /* 0, or 'B' (basename), 'D' (dirname) */
};

struct pyprobe__d_column {
    enum pyprobe__d_key_type type;
    const struct pyprobe__d_piece *pieces;
    size_t piece_count;
    int size;                   /* INT: the D type's bytes (1, 2, 4, 8), which set the
                                   default layout's width (dt_print_datum) */
};

struct pyprobe__d_plan_aggregation {
    const char *name;           /* D's name without '@' */
    enum pyprobe__d_aggfn fn;
    int64_t lq_lower, lq_upper, lq_step;
    const char *maps[2];        /* bpftrace maps: the value (avg: the sum, then the count) */
    const enum pyprobe__d_key_type *part_types; /* bpftrace's key tuple, to split its "a,b" text */
    size_t part_count;
    const struct pyprobe__d_column *columns;    /* D's key */
    size_t column_count;
};

enum pyprobe__d_action_kind {
    PYPROBE__D_ACTION_PRINTA,    /* format (NULL: default layout), aggregations; map events follow */
    PYPROBE__D_ACTION_EXIT,      /* the end: print each aggregation not printed yet; map events follow;
                                    the record's integer: exit()'s status (0 without exit) */
    PYPROBE__D_ACTION_TRUNC,     /* keep the top `n` (all gone when !has_n); one map event follows */
    PYPROBE__D_ACTION_CLEAR,     /* zero the values, keep the keys; one map event follows */
    PYPROBE__D_ACTION_NORMALIZE, /* factor in the record's first integer */
    PYPROBE__D_ACTION_DENORMALIZE,
    PYPROBE__D_ACTION_PROBE,     /* a probe fired and will print: for -F and the default
                                    (not quiet) CPU/ID/FUNCTION:NAME prefix; the record's
                                    integers: CPU */
    PYPROBE__D_ACTION_ATTACHED   /* every probe is attached (the first record, from BEGIN,
                                    which bpftrace runs after attaching; its "attached_probes"
                                    event comes before): a held -c command may run now */
};

enum pyprobe__d_flow { PYPROBE__D_FLOW_NONE, PYPROBE__D_FLOW_ENTRY, PYPROBE__D_FLOW_RETURN };

struct pyprobe__d_action {
    enum pyprobe__d_action_kind kind;
    const char *format;
    const size_t *aggregations; /* indexes into plan->aggregations */
    size_t aggregation_count;
    int64_t n;
    int has_n;
    /* PROBE: */
    unsigned probe_id;
    const char *probe_function, *probe_name; /* as -F and the default prefix show them */
    const char *probe_provider; /* NULL, or "syscall": -F shows its flow as => and <= */
    enum pyprobe__d_flow flow;
    const char *script_line;    /* "FILE:LINE" of the D code, for messages */
};

/* Options that change what the consumer prints. */
struct pyprobe__d_output_options {
    int quiet, flowindent, aggsortkey, aggsortrev, aggsortpos, aggsortkeypos;
};

struct pyprobe__d_plan {
    const char *program;        /* the bpftrace program */
    const struct pyprobe__d_plan_aggregation *aggregations;
    size_t aggregation_count;
    const struct pyprobe__d_action *actions;
    size_t action_count;
    struct pyprobe__d_output_options output;
};

/* Aggregation arithmetic as the kernel's 64-bit maps do it: sums wrap, and
 * no quotient traps (x / 0 is 0, INT64_MIN / -1 wraps). Data from bpftrace
 * is untrusted input here, so C's undefined cases must not be reachable. */
static inline int64_t pyprobe__d_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int64_t pyprobe__d_div(int64_t a, int64_t b)
{
    if (b == 0)
        return 0;
    return b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b;
}

#endif /* PYPROBE_D_DATA_H */
