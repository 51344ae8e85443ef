/*
 * d_run.h - bpftrace running a translated program, supervised: its JSON
 * events fed to the consumer (d_consume.h) as they come, a held -c
 * command released once every probe is attached (the ATTACHED record),
 * Ctrl-C forwarded so that END runs and the aggregations print, tracing
 * stopped when the traced processes are gone, time limits on attaching
 * and on stopping, and bpftrace's refusals turned into one line with the
 * fix.
 *
 * RLIMIT_MEMLOCK is raised first: bpftrace 0.17 otherwise says "couldn't
 * set RLIMIT_MEMLOCK" on every run. bpftrace runs in its own process
 * group, so that the terminal's Ctrl-C reaches it once, through here.
 */
#ifndef PYPROBE_D_RUN_H
#define PYPROBE_D_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "d_child.h"
#include "d_consume.h"
#include "d_render.h"

struct pyprobe__d_run_options {
    const char *bpftrace;       /* NULL: "bpftrace" on PATH */
    const char *program;
    unsigned strlen;            /* BPFTRACE_STRLEN; 0: bpftrace's default */
    unsigned perf_pages;        /* BPFTRACE_PERF_RB_PAGES, a power of 2 (0: 1024, 4 MB per
                                   CPU: dtrace's default bufsize; bpftrace's 64 overflow at
                                   once when a traced program runs faster than it prints) */
    int pid;                    /* bpftrace -p PID; 0: none */
    bool unsafe;                /* bpftrace --unsafe */
    bool quiet;                 /* no "pid N has exited" notices (-q) */
    bool attached_record;       /* BEGIN prints the plan's ATTACHED record first; false: the
                                   runner adds its own mark (PYPROBE__D_RUNNER_READY) there */
    struct pyprobe__d_child *child; /* -c: released once attached, then watched; NULL: none */
    const int *watch;           /* -p processes: tracing stops once all have exited */
    size_t watch_count;
    int interrupt_fd;           /* readable at Ctrl-C (the caller's self-pipe); -1: none */
    unsigned attach_seconds;    /* attached within this; 0: 120 */
    unsigned stop_seconds;      /* bpftrace's exit after SIGINT within this; 0: 60 */
    pyprobe__d_notice_fn *notice; /* "pid N has exited" */
    void *notice_arg;
    void (*ready)(void *arg);   /* told once every probe is attached; NULL: not */
    void *ready_arg;
};

/* Runs the program to its end: 0 with *status exit()'s (0 when the run
 * ended otherwise: Ctrl-C, the traced processes gone), or -errno with a
 * one-line message. */
int pyprobe__d_run(const struct pyprobe__d_run_options *options, struct pyprobe__d_consumer *consumer,
                   struct pyprobe__d_render *render, int *status, char *message, size_t size);

/* The largest BPFTRACE_STRLEN, bpftrace's own 64 + 16k or `most` (rounded
 * down to a multiple of 8), at which bpftrace compiles options->program. bpftrace 0.17 keeps
 * strings on the 512-byte BPF stack, so what fits depends on the program
 * (two strings printed side by side fit at 128, not at 200). DTrace's own
 * strsize is 256: without -x strsize, the run takes what fits, not 64.
 * Each try is a dry run (bpftrace --emit-elf, about 0.3 s, 10 s at most);
 * 64 when nothing larger compiles. */
unsigned pyprobe__d_fit_strlen(const struct pyprobe__d_run_options *options, unsigned most);

/* The program as bpftrace gets it: with the READY record first in its
 * BEGIN block unless it prints READY already or the plan has an ATTACHED
 * action (a -c command would otherwise stay held until the attach time
 * limit); malloc'd, NULL when out of memory (exposed for the tests). */
char *pyprobe__d_program_with_ready(const char *program, bool attached_record);

/* What bpftrace's stderr says went wrong, in one line with the fix
 * (exposed for the tests). */
void pyprobe__d_bpftrace_failure(const char *stderr_text, int wait_status, char *message, size_t size);

#endif /* PYPROBE_D_RUN_H */
