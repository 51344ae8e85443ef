/*
 * d_session.h - `pyprobe -s FILE` and `pyprobe -n TEXT` from start to end,
 * as dtrace runs a script: the sources parsed into one program, -x options
 * and #pragma D option applied, a -c command started (held), the macros
 * bound ($1..$9, $target, $pid), the descriptions' probes found
 * (d_resolve.h), the program translated (d_front.h), "matched N probes",
 * bpftrace run (d_run.h), DTrace's output written (d_render.h).
 *
 * Library code: it writes only DTrace's output to `out` (and with -S the
 * bpftrace program to `program_out`); what dtrace prints on stderr comes
 * through the notice callback, errors come back as one line.
 */
#ifndef PYPROBE_D_SESSION_H
#define PYPROBE_D_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "d_child.h"
#include "d_consume.h"
#include "d_data.h"

/* One -s FILE or -n TEXT, in command-line order. */
struct pyprobe__d_source {
    const char *file;           /* the script's path; "-n" for -n */
    const char *text;
    size_t length;
};

/* One -x NAME[=VALUE]; -q -F -Z -w come as quiet, flowindent, zdefs,
 * destructive, in their command-line order. */
struct pyprobe__d_option {
    const char *name, *value;
};

struct pyprobe__d_session {
    const struct pyprobe__d_source *sources;
    size_t source_count;
    const char *const *macro_args; /* the operands: $1 is macro_args[0] */
    size_t macro_count;
    const struct pyprobe__d_option *options;
    size_t option_count;
    const int *pids;            /* -p */
    size_t pid_count;
    const char *command;        /* -c, or NULL */
    FILE *out;                  /* DTrace's output */
    FILE *program_out;          /* -S: the bpftrace program; NULL: not shown */
    const char *bpftrace;       /* NULL: on PATH */
    int interrupt_fd;           /* readable at Ctrl-C; -1: none */
    pyprobe__d_notice_fn *notice; /* dtrace's stderr lines, without "pyprobe: " */
    void *notice_arg;
};

/* Runs it: 0 with *status the exit status dtrace would have (exit()'s,
 * else 0), or -errno with a one-line message (a script that does not
 * compile: "failed to compile script x.d: line 7: ..."). */
int pyprobe__d_session_run(const struct pyprobe__d_session *session, int *status, char *message, size_t size);

/* The part after translation, for a plan made otherwise (the tests). */
struct pyprobe__d_trace {
    FILE *out;
    const char *bpftrace;
    const int *pids;            /* -p: watched; bpftrace -p when one and no child */
    size_t pid_count;
    struct pyprobe__d_child *child; /* -c, held */
    int interrupt_fd;
    unsigned strlen;            /* BPFTRACE_STRLEN (-x strsize); 0: bpftrace's */
    unsigned perf_pages;        /* bpftrace's perf buffer per CPU, from bufsize (0: 4 MB) */
    bool unsafe;
    pyprobe__d_notice_fn *notice;
    void *notice_arg;
    void (*ready)(void *arg);   /* once every probe is attached */
    void *ready_arg;
};
int pyprobe__d_trace_plan(const struct pyprobe__d_plan *plan, const struct pyprobe__d_trace *trace, int *status,
                          char *message, size_t size);

#endif /* PYPROBE_D_SESSION_H */
