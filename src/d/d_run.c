/* bpftrace run and supervised (see d_run.h). */
#define _GNU_SOURCE /* memfd_create, pipe2 */
#include "d_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "d_fail.h"
#include "grow.h"

enum { PROGRAM_FD = 3, STDERR_KEPT = 65536 };
/* Seconds of silence after which bpftrace has read all it had. */
static const double DRAINED = 0.3;

/* ---- bpftrace's refusals ---- */

static bool has(const char *text, const char *part)
{
    return strstr(text, part) != NULL;
}

/* The first line holding `part`, without bpftrace's "ERROR: ". */
static void line_with(const char *text, const char *part, char *out, size_t size)
{
    const char *at = strstr(text, part), *start = at, *end;

    while (start > text && start[-1] != '\n')
        start--;
    end = start + strcspn(start, "\n");
    if (strncmp(start, "ERROR: ", 7) == 0)
        start += 7;
    snprintf(out, size, "%.*s", (int)(end - start), start);
}

/* Its first error that is not about RLIMIT_MEMLOCK (raised here anyway). */
static const char *first_error(const char *text)
{
    for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] ? 1 : 0)) {
        size_t length = strcspn(line, "\n");

        if (length && !memmem(line, length, "RLIMIT_MEMLOCK", 14) && memmem(line, length, "ERROR", 5))
            return line;
    }
    for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] ? 1 : 0))
        if (strcspn(line, "\n") && !memmem(line, strcspn(line, "\n"), "RLIMIT_MEMLOCK", 14))
            return line;
    return NULL;
}

void pyprobe__d_bpftrace_failure(const char *text, int wait_status, char *message, size_t size)
{
    const char *error = first_error(text ? text : "");
    char line[400] = "";

    if (error)
        line_with(error, error, line, sizeof line);
    if (error && has(text, "only supports running as the root user"))
        snprintf(message, size, "bpftrace needs root: run pyprobe as root (sudo pyprobe ...)");
    else if (error && (has(line, "Operation not permitted") || has(line, "Permission denied")))
        snprintf(message, size, "the kernel refused bpftrace's BPF programs (%s): run as root, and check "
                 "kernel.unprivileged_bpf_disabled, lockdown and seccomp", line);
    else if (error && (has(line, "/dev/fd/3:") || has(line, "stdin:")))
        snprintf(message, size, "bpftrace refused the translated program: %s (pyprobe -S shows it)", line);
    else if (error && (has(line, "attach") || has(line, "location") || has(line, "resolve")))
        snprintf(message, size, "bpftrace could not attach a probe: %s", line);
    else if (error)
        snprintf(message, size, "bpftrace failed: %s", line);
    else if (WIFSIGNALED(wait_status))
        snprintf(message, size, "bpftrace was killed by signal %d", WTERMSIG(wait_status));
    else
        snprintf(message, size, "bpftrace failed (exit status %d) without a message",
                 WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
}

/* ---- starting bpftrace ---- */

/* bpftrace 0.17 warns when it cannot raise the limit itself. */
static void raise_memlock(void)
{
    struct rlimit limit = {RLIM_INFINITY, RLIM_INFINITY};

    if (setrlimit(RLIMIT_MEMLOCK, &limit) != 0 && getrlimit(RLIMIT_MEMLOCK, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_MEMLOCK, &limit);
    }
}

/* The line that starts the BEGIN block, or NULL. */
static const char *find_begin(const char *program)
{
    for (const char *p = program; (p = strstr(p, "BEGIN")) != NULL; p += 5)
        if ((p == program || p[-1] == '\n') && (p[5] == ' ' || p[5] == '\n' || p[5] == '{'))
            return p;
    return NULL;
}

char *pyprobe__d_program_with_ready(const char *program, bool attached_record)
{
    static const char ready[] = " printf(\"\\x1eready\\n\");";
    const char *begin = find_begin(program), *brace = begin ? strchr(begin, '{') : NULL;
    char *out;

    if (attached_record || strstr(program, "\"\\x1eready\\n\""))
        return strdup(program);
    out = malloc(strlen(program) + sizeof ready + 16);
    if (out && brace)
        sprintf(out, "%.*s%s%s", (int)(brace + 1 - program), program, ready, brace + 1);
    else if (out)
        sprintf(out, "BEGIN {%s }\n%s", ready, program);
    return out;
}

/* The program as a file bpftrace reads (a memfd: no size limit as -e's
 * argument has, nothing left behind). */
static int program_file(const char *text, bool attached_record)
{
    char *program = pyprobe__d_program_with_ready(text, attached_record);
    size_t length = program ? strlen(program) : 0, done = 0;
    int fd = program ? memfd_create("pyprobe-program.bt", MFD_CLOEXEC) : -1;

    while (fd >= 0 && done < length) {
        ssize_t n = write(fd, program + done, length - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            fd = -1;
            break;
        }
        done += (size_t)n;
    }
    free(program);
    return fd;
}

struct bpftrace {
    pid_t pid;
    int out, err;               /* its stdout and stderr */
};

/* In a child: dies with `signo` when pyprobe dies, even by SIGKILL. A
 * bpftrace left running would go on tracing, its semaphores raised in
 * every process, with no one to read it. */
static void die_with_parent(int signo, pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, signo) != 0 || getppid() != parent)
        _exit(126);
}

static void in_child(const struct pyprobe__d_run_options *o, int program, int out, int err, pid_t parent)
{
    char pid[24], strlen_value[24], pages[24];
    const char *argv[12];
    int argc = 0, devnull = open("/dev/null", O_RDONLY);
    sigset_t none;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    die_with_parent(SIGTERM, parent); /* bpftrace detaches and exits on SIGTERM */
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
        dup2(program, PROGRAM_FD) != PROGRAM_FD)
        _exit(126);
    if (o->strlen) {
        snprintf(strlen_value, sizeof strlen_value, "%u", o->strlen);
        setenv("BPFTRACE_STRLEN", strlen_value, 1);
    }
    snprintf(pages, sizeof pages, "%u", o->perf_pages ? o->perf_pages : 1024);
    setenv("BPFTRACE_PERF_RB_PAGES", pages, 1);
    argv[argc++] = o->bpftrace ? o->bpftrace : "bpftrace";
    argv[argc++] = "-f";
    argv[argc++] = "json";
    if (o->unsafe)
        argv[argc++] = "--unsafe";
    if (o->pid > 0) {
        snprintf(pid, sizeof pid, "%d", o->pid);
        argv[argc++] = "-p";
        argv[argc++] = pid;
    }
    argv[argc++] = "/dev/fd/3";
    argv[argc] = NULL;
    execvp(argv[0], (char *const *)argv);
    _exit(errno == ENOENT ? 127 : 126);
}

static int start(const struct pyprobe__d_run_options *o, struct bpftrace *b, char *message, size_t size)
{
    int out[2], err[2], program = program_file(o->program, o->attached_record);
    pid_t parent;

    if (program < 0 || pipe2(out, O_CLOEXEC) != 0) {
        if (program >= 0)
            close(program);
        snprintf(message, size, "cannot start bpftrace: %s", strerror(errno));
        return -errno;
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
        snprintf(message, size, "cannot start bpftrace: %s", strerror(errno));
        close(program);
        close(out[0]);
        close(out[1]);
        return -errno;
    }
    raise_memlock();
    parent = getpid();
    b->pid = fork();
    if (b->pid == 0)
        in_child(o, program, out[1], err[1], parent);
    close(program);
    close(out[1]);
    close(err[1]);
    b->out = out[0];
    b->err = err[0];
    if (b->pid < 0) {
        snprintf(message, size, "cannot start bpftrace: %s", strerror(errno));
        close(b->out);
        close(b->err);
        return -EAGAIN;
    }
    return 0;
}

/* ---- how long a string can be ---- */

enum { DEFAULT_STRLEN = 64, STRLEN_STEP = 16, DRY_RUN_SECONDS = 10 };

/* Whether bpftrace compiles the program at BPFTRACE_STRLEN=length. */
static bool compiles(const struct pyprobe__d_run_options *o, unsigned length)
{
    char value[24];
    const char *argv[] = {o->bpftrace ? o->bpftrace : "bpftrace", "--emit-elf", "/dev/null", "/dev/fd/3", NULL};
    int program = program_file(o->program, o->attached_record), status = 0;
    double deadline = pyprobe__d_now() + DRY_RUN_SECONDS;
    pid_t pid, parent = getpid();

    if (program < 0)
        return false;
    if ((pid = fork()) == 0) {
        int null = open("/dev/null", O_RDWR);

        setpgid(0, 0);
        die_with_parent(SIGKILL, parent);
        snprintf(value, sizeof value, "%u", length);
        setenv("BPFTRACE_STRLEN", value, 1);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
            dup2(program, PROGRAM_FD) != PROGRAM_FD)
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(program);
    if (pid < 0)
        return false;
    return pyprobe__d_reap_by(pid, deadline, &status) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

unsigned pyprobe__d_fit_strlen(const struct pyprobe__d_run_options *o, unsigned most)
{
    unsigned low = DEFAULT_STRLEN, high = most - most % 8; /* low fits (or nothing does) */

    if (high <= low || compiles(o, high))
        return high > low ? high : low;
    while (high - low > STRLEN_STEP) { /* high does not fit */
        unsigned middle = low + (high - low) / 2 / STRLEN_STEP * STRLEN_STEP;

        if (compiles(o, middle))
            low = middle;
        else
            high = middle;
    }
    return low;
}

/* ---- the loop ---- */

struct run {
    const struct pyprobe__d_run_options *o;
    struct pyprobe__d_consumer *consumer;
    struct pyprobe__d_render *render;
    struct bpftrace bpftrace;
    char *line;                 /* a partial line of stdout */
    size_t line_length, line_capacity;
    char *errors;               /* stderr, the start of it */
    size_t errors_length, errors_capacity;
    bool out_open, err_open;
    bool stopping;              /* SIGINT sent */
    bool told_ready;
    bool all_gone;              /* the traced processes have exited: stop once drained */
    double gone_at, last_output;
    double stop_sent, last_signal, started;
    bool *watch_gone;           /* per -p process */
    bool child_gone;
    int rc;
    char *message;
    size_t size;
};


/* The run's first error is the one it reports. */
#define FAILURE(run, error, ...) \
    ((run)->rc ? (run)->rc : ((run)->rc = pyprobe__d_fail((run)->message, (run)->size, error, __VA_ARGS__)))

static void stop(struct run *r)
{
    double t = pyprobe__d_now();


    if (!r->stopping)
        r->stop_sent = t;
    r->stopping = true;
    r->last_signal = t;
    kill(r->bpftrace.pid, SIGINT);
}

static void notice(struct run *r, const char *text)
{
    if (!r->o->quiet && r->o->notice)
        r->o->notice(r->o->notice_arg, text);
}

static void on_ready(struct run *r)
{
    char text[512];

    if (r->told_ready || !pyprobe__d_consumer_ready(r->consumer))
        return;
    r->told_ready = true;
    if (r->o->ready)
        r->o->ready(r->o->ready_arg);
    if (!r->o->child || r->o->child->released)
        return;
    if (pyprobe__d_child_release(r->o->child, text, sizeof text) != 0) {
        FAILURE(r, -ENOEXEC, "%s", text);
        r->child_gone = true;
        stop(r);
    }
}

static void take_line(struct run *r, const char *line, size_t length)
{
    if (r->rc)
        return; /* after an error, the rest only drains */
    if (pyprobe__d_consume(r->consumer, line, length) != 0) {
        FAILURE(r, -EPROTO, "%s", pyprobe__d_consumer_message(r->consumer));
        kill(r->bpftrace.pid, SIGKILL);
        return;
    }
    on_ready(r);
}

static void read_out(struct run *r)
{
    char buffer[65536];
    ssize_t n = read(r->bpftrace.out, buffer, sizeof buffer);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    r->last_output = pyprobe__d_now();
    if (n <= 0) {
        r->out_open = false;
        if (r->line_length)
            take_line(r, r->line, r->line_length);
        r->line_length = 0;
        return;
    }
    for (ssize_t i = 0, start = 0; i < n; i++) {
        if (buffer[i] != '\n' && i + 1 < n)
            continue;
        if (buffer[i] != '\n') { /* keep the unfinished line */
            if (pyprobe__grow(&r->line, &r->line_capacity, r->line_length + (size_t)(i + 1 - start), 1) != 0) {
                FAILURE(r, -ENOMEM, "out of memory");
                return;
            }
            memcpy(r->line + r->line_length, buffer + start, (size_t)(i + 1 - start));
            r->line_length += (size_t)(i + 1 - start);
            break;
        }
        if (r->line_length) {
            if (pyprobe__grow(&r->line, &r->line_capacity, r->line_length + (size_t)(i - start), 1) != 0) {
                FAILURE(r, -ENOMEM, "out of memory");
                return;
            }
            memcpy(r->line + r->line_length, buffer + start, (size_t)(i - start));
            take_line(r, r->line, r->line_length + (size_t)(i - start));
            r->line_length = 0;
        } else {
            take_line(r, buffer + start, (size_t)(i - start));
        }
        start = i + 1;
    }
    pyprobe__d_render_flush(r->render);
    r->last_output = pyprobe__d_now(); /* after the work too: a slow consumer is no silence */
}

static void read_err(struct run *r)
{
    char buffer[4096];
    ssize_t n = read(r->bpftrace.err, buffer, sizeof buffer);
    size_t keep;

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        r->err_open = false;
        return;
    }
    keep = r->errors_length + (size_t)n > STDERR_KEPT ? STDERR_KEPT - r->errors_length : (size_t)n;
    if (keep && pyprobe__grow(&r->errors, &r->errors_capacity, r->errors_length + keep + 1, 1) == 0) {
        memcpy(r->errors + r->errors_length, buffer, keep);
        r->errors_length += keep;
        r->errors[r->errors_length] = '\0';
    }
}

static void interrupted(struct run *r)
{
    char drain[64];

    while (read(r->o->interrupt_fd, drain, sizeof drain) > 0)
        ;
    pyprobe__d_render_interrupted(r->render);
    stop(r);
}

/* A -p process is gone when it is no more, or a zombie (whose parent
 * has not reaped it yet). */
static bool gone(int pid)
{
    char name[64], text[256], *state;
    FILE *f;

    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    snprintf(name, sizeof name, "/proc/%d/stat", pid);
    f = fopen(name, "re");
    if (!f)
        return true;
    state = fgets(text, sizeof text, f) ? strrchr(text, ')') : NULL;
    fclose(f);
    return state && (state[2] == 'Z' || state[2] == 'X');
}

/* The traced processes: once all are gone, tracing stops (dtrace's
 * g_pslive), after "pid N has exited". */
static void check_processes(struct run *r)
{
    struct pyprobe__d_child *child = r->o->child;
    bool all_gone = true;
    char text[128];

    if (child && child->released && !r->child_gone && pyprobe__d_child_reap(child)) {
        r->child_gone = true;
        pyprobe__d_exit_words(child->pid, child->status, true, text, sizeof text);
        notice(r, text);
    }
    for (size_t i = 0; i < r->o->watch_count; i++) {
        if (!r->watch_gone[i] && gone(r->o->watch[i])) {
            r->watch_gone[i] = true;
            pyprobe__d_exit_words(r->o->watch[i], 0, false, text, sizeof text);
            notice(r, text);
        }
        all_gone &= r->watch_gone[i];
    }
    if (child)
        all_gone &= r->child_gone;
    if ((child || r->o->watch_count) && all_gone && !r->all_gone) {
        r->all_gone = true;
        r->gone_at = pyprobe__d_now();
    }
}

static void check_time(struct run *r)
{
    double t = pyprobe__d_now();
    unsigned attach = r->o->attach_seconds ? r->o->attach_seconds : 120;
    unsigned patience = r->o->stop_seconds ? r->o->stop_seconds : 60;
    bool ready = pyprobe__d_consumer_ready(r->consumer);

    if (!ready && !r->stopping && t - r->started > attach) {
        FAILURE(r, -ETIMEDOUT, "bpftrace did not attach its probes within %u seconds", attach);
        kill(r->bpftrace.pid, SIGKILL);
    } else if (r->stopping && t - r->stop_sent > patience) {
        FAILURE(r, -ETIMEDOUT, "bpftrace did not stop within %u seconds of SIGINT", patience);
        kill(r->bpftrace.pid, SIGKILL);
    } else if (r->stopping && t - r->last_signal >= 1.5 && r->last_output < r->last_signal &&
               !pyprobe__d_render_exited(r->render, NULL)) {
        /* bpftrace ignores SIGINT while it attaches, and in moments around
         * that; not a word since the last one: again. (Once END prints, a
         * second SIGINT would make bpftrace drop the rest.) */
        stop(r);
    } else if (r->all_gone && !r->stopping &&
               ((t - r->gone_at >= DRAINED && t - r->last_output >= DRAINED) || t - r->gone_at > 10)) {
        /* bpftrace 0.17 drops the events it reads while a SIGINT is
         * pending: the traced processes' last events are left to arrive
         * (bpftrace reads every 100 ms), so that none is lost. */
        stop(r);
    }
}

static void loop(struct run *r)
{
    struct pyprobe__d_child *child = r->o->child;

    while (r->out_open || r->err_open) {
        struct pollfd fds[5];
        nfds_t n = 0;
        int interrupt_slot = -1;

        if (r->out_open)
            fds[n++] = (struct pollfd){.fd = r->bpftrace.out, .events = POLLIN};
        if (r->err_open)
            fds[n++] = (struct pollfd){.fd = r->bpftrace.err, .events = POLLIN};
        if (r->o->interrupt_fd >= 0) {
            interrupt_slot = (int)n;
            fds[n++] = (struct pollfd){.fd = r->o->interrupt_fd, .events = POLLIN};
        }
        if (child && child->released && !r->child_gone && child->pidfd >= 0)
            fds[n++] = (struct pollfd){.fd = child->pidfd, .events = POLLIN};
        if (poll(fds, n, 100) < 0 && errno != EINTR)
            break;
        /* The child's pidfd only wakes the loop: check_processes reaps. */
        for (nfds_t i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if ((int)i == interrupt_slot)
                interrupted(r);
            else if (fds[i].fd == r->bpftrace.out)
                read_out(r);
            else if (fds[i].fd == r->bpftrace.err)
                read_err(r);
        }
        check_processes(r);
        check_time(r);
    }
}

int pyprobe__d_run(const struct pyprobe__d_run_options *o, struct pyprobe__d_consumer *consumer,
                   struct pyprobe__d_render *render, int *status, char *message, size_t size)
{
    struct run r = {.o = o, .consumer = consumer, .render = render, .message = message, .size = size,
                    .out_open = true, .err_open = true, .started = pyprobe__d_now()};
    int wait_status = 0, rc;

    *status = 0;
    r.watch_gone = calloc(o->watch_count + 1, sizeof *r.watch_gone);
    if (!r.watch_gone) {
        snprintf(message, size, "out of memory");
        return -ENOMEM;
    }
    rc = start(o, &r.bpftrace, message, size);
    if (rc == 0) {
        loop(&r);
        while (waitpid(r.bpftrace.pid, &wait_status, 0) < 0 && errno == EINTR)
            ;
        check_processes(&r); /* bpftrace -p ends by itself when its process does */
        close(r.bpftrace.out);
        close(r.bpftrace.err);
        rc = r.rc;
    }
    /* dtrace kills the command it created when it stops first. */
    if (o->child && o->child->released && !pyprobe__d_child_reap(o->child))
        pyprobe__d_child_cancel(o->child);
    if (rc == 0 && pyprobe__d_consume_end(consumer) != 0)
        rc = FAILURE(&r, -EPROTO, "%s", pyprobe__d_consumer_message(consumer));
    if (rc == 0 && !pyprobe__d_render_exited(render, status)) {
        if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 127 && r.errors_length == 0)
            rc = FAILURE(&r, -ENOENT, "bpftrace is not installed (apt-get install bpftrace)");
        else
            pyprobe__d_bpftrace_failure(r.errors, wait_status, message, size), rc = -EPROTO;
    }
    pyprobe__d_render_flush(render);
    free(r.line);
    free(r.errors);
    free(r.watch_gone);
    return rc;
}
