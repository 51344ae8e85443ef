/* Running dtrace under a time limit, in a scratch directory (see
 * provider_run.h). */
#define _GNU_SOURCE /* nftw's FTW_DEPTH, asprintf */
#include "provider_run.h"
#include "provider_write.h" /* pyprobe__write_file */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The signals that end a wait early: what a terminal, make or a CI runner
 * sends to stop a build. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: never returns. Exec's errno goes up the close-on-exec pipe. */
static void start_child(char *const argv[], const char *dir, const sigset_t *mask, pid_t parent, int report)
{
    int fd, error;

    sigprocmask(SIG_SETMASK, mask, NULL);
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || chdir(dir) != 0) {
        error = errno;
    } else {
        execvp(argv[0], argv);
        error = errno;
    }
    if (write(report, &error, sizeof error) != (ssize_t)sizeof error)
        _exit(127);
    _exit(127);
}

/* Kills the child's whole process group and reaps the child. */
static void kill_group(pid_t pid)
{
    int status;

    kill(-pid, SIGKILL);
    kill(pid, SIGKILL); /* in case it had no group of its own yet */
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}

/* Waits for the child until the deadline or a stop signal (see the header). */
static int wait_child(pid_t pid, const sigset_t *waited, unsigned timeout_seconds, int *status)
{
    double deadline = now() + timeout_seconds, left;
    struct timespec wait_for;
    int signal;

    for (;;) {
        pid_t done = waitpid(pid, status, WNOHANG);

        if (done == pid)
            return 0;
        if (done < 0 && errno != EINTR)
            return -errno;
        left = deadline - now();
        if (left <= 0) {
            kill_group(pid);
            return -ETIMEDOUT;
        }
        wait_for.tv_sec = (time_t)left;
        wait_for.tv_nsec = (long)((left - (double)wait_for.tv_sec) * 1e9);
        signal = sigtimedwait(waited, NULL, &wait_for);
        if (signal > 0 && signal != SIGCHLD) {
            kill_group(pid);
            *status = signal;
            return -EINTR;
        }
    }
}

int pyprobe__run_limited(char *const argv[], const char *dir, unsigned timeout_seconds, int *status)
{
    struct sigaction default_chld = {.sa_handler = SIG_DFL}, old_chld, current;
    sigset_t waited, old_mask;
    pid_t parent = getpid(), pid;
    int report[2], error = 0, rc;
    ssize_t got;

    if (!argv || !argv[0] || !dir || !status)
        return -EINVAL;
    /* An ignored SIGCHLD would make the kernel reap the child itself. */
    sigaction(SIGCHLD, &default_chld, &old_chld);
    sigemptyset(&waited);
    sigaddset(&waited, SIGCHLD);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
        if (sigaction(stop_signals[i], NULL, &current) == 0 && current.sa_handler != SIG_IGN)
            sigaddset(&waited, stop_signals[i]);
    sigprocmask(SIG_BLOCK, &waited, &old_mask);
    if (pipe2(report, O_CLOEXEC) != 0) {
        rc = -errno;
        goto out;
    }
    pid = fork();
    if (pid == 0)
        start_child(argv, dir, &old_mask, parent, report[1]);
    close(report[1]);
    if (pid < 0) {
        rc = -errno;
        close(report[0]);
        goto out;
    }
    setpgid(pid, pid); /* also here: no signal may find it in ours */
    while ((got = read(report[0], &error, sizeof error)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (got == (ssize_t)sizeof error) {
        kill_group(pid);
        rc = -error;
    } else {
        rc = wait_child(pid, &waited, timeout_seconds, status);
    }
out:
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

int pyprobe__remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -errno;
}

/* The arguments of dtrace: MODE OPTIONS... -s SOURCE -o NAME, malloc'd. */
static char **dtrace_argv(const char *dtrace, const char *mode, char *const options[], char *source, char *name)
{
    size_t count = 0, n = 0;
    char **argv;

    while (options && options[count])
        count++;
    argv = calloc(count + 7, sizeof *argv);
    if (!argv)
        return NULL;
    argv[n++] = (char *)dtrace;
    argv[n++] = (char *)mode;
    for (size_t i = 0; i < count; i++)
        argv[n++] = options[i];
    argv[n++] = "-s";
    argv[n++] = source;
    argv[n++] = "-o";
    argv[n++] = name;
    return argv;
}

int pyprobe__dtrace(const char *dtrace, const char *mode, char *const options[], const char *source,
                    const char *source_name, const char *output, unsigned timeout_seconds, int *status)
{
    char *scratch = NULL, *input = NULL, *result = NULL, *copy = NULL, **argv = NULL;
    int rc, cleanup;

    if (!dtrace || !mode || !source || !source_name || strchr(source_name, '/') || !output || !status)
        return -EINVAL;
    if (asprintf(&scratch, "%s.dtrace-tmp", output) < 0)
        return -ENOMEM;
    rc = pyprobe__remove_tree(scratch);
    if (rc == 0 && mkdir(scratch, 0700) != 0)
        rc = -errno;
    if (rc != 0) {
        free(scratch);
        return rc;
    }
    /* dtrace runs in the scratch directory, where its input and output are. */
    copy = strdup(output);
    if (!copy || asprintf(&input, "%s/%s", scratch, source_name) < 0) {
        input = NULL;
        rc = -ENOMEM;
    } else if (asprintf(&result, "%s/%s", scratch, basename(copy)) < 0) {
        result = NULL;
        rc = -ENOMEM;
    } else if (!(argv = dtrace_argv(dtrace, mode, options, (char *)source_name, basename(copy)))) {
        rc = -ENOMEM;
    }
    if (rc == 0)
        rc = pyprobe__write_file(input, source);
    if (rc == 0)
        rc = pyprobe__run_limited(argv, scratch, timeout_seconds, status);
    if (rc == 0 && WIFEXITED(*status) && WEXITSTATUS(*status) == 0 && rename(result, output) != 0)
        rc = -errno;
    cleanup = pyprobe__remove_tree(scratch);
    free(argv);
    free(copy);
    free(input);
    free(result);
    free(scratch);
    return rc ? rc : cleanup;
}
