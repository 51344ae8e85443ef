/*
 * d_child.h - the command of `pyprobe -c CMD`, started but held before it
 * executes anything, so that a tracer can attach to the files it will map
 * (by path, with its pid in a predicate) before its first event; then
 * released. bpftrace 0.17's own -c cannot attach to probes in a shared
 * library the command has not mapped yet ("Error finding location").
 *
 *     struct pyprobe__d_child child;
 *
 *     pyprobe__d_child_spawn("python3 x.py", &child, message, sizeof message);
 *     ...child.pid, child.path: resolve and attach...
 *     pyprobe__d_child_release(&child, ...);      or _cancel() on error
 *     ...poll child.pidfd; pyprobe__d_child_reap()...
 *
 * The command is split at white space, as dtrace's make_argv() does (no
 * quoting), and found on PATH as execvp() would.
 */
#ifndef PYPROBE_D_CHILD_H
#define PYPROBE_D_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pyprobe__d_child {
    pid_t pid;
    char *path;                 /* the executable it will run */
    char *argv0;                /* as the command names it (a venv's python) */
    int release_fd;             /* closing it without a byte cancels */
    int error_fd;               /* the exec's errno, or EOF once it ran */
    int pidfd;                  /* readable when it exits; -1 where unsupported */
    bool released, reaped;
    int status;                 /* waitpid()'s, once reaped */
};

/* Forks the held command: 0, or -errno with a message (no such command). */
int pyprobe__d_child_spawn(const char *command, struct pyprobe__d_child *child, char *message, size_t size);
/* Lets it run: 0, or -errno when its exec failed (message says why). */
int pyprobe__d_child_release(struct pyprobe__d_child *child, char *message, size_t size);
/* Ends a child that was never released (it exits without running). */
void pyprobe__d_child_cancel(struct pyprobe__d_child *child);
/* 1 when it has exited (status set), 0 when it still runs. */
int pyprobe__d_child_reap(struct pyprobe__d_child *child);
void pyprobe__d_child_free(struct pyprobe__d_child *child);

/* Seconds on CLOCK_MONOTONIC: the clock of every time limit here. */
double pyprobe__d_now(void);

/* For a short-lived helper in a process group of its own (bpftrace's dry
 * runs, the interpreter asked where pyprobe is): reaps it by `deadline`
 * (pyprobe__d_now()'s clock), or kills its group and reaps it. True when it
 * exited in time, with *status. */
bool pyprobe__d_reap_by(pid_t pid, double deadline, int *status);

/* "pid N has exited", "pid N exited with status S", "pid N terminated by
 * SIGNAME": dtrace's words for a process that ended (its prochandler). */
void pyprobe__d_exit_words(pid_t pid, int status, bool known, char *out, size_t size);

#endif /* PYPROBE_D_CHILD_H */
