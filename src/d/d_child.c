/* The -c command, held before exec (see d_child.h). */
#define _GNU_SOURCE /* pipe2, sigabbrev_np */
#include "d_child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* dtrace's make_argv(): words between white space, no quoting. */
static char **split(char *text)
{
    static const char spaces[] = "\f\n\r\t\v ";
    char **argv = calloc(strlen(text) / 2 + 2, sizeof *argv);
    size_t argc = 0;

    if (!argv)
        return NULL;
    for (char *save = NULL, *word = strtok_r(text, spaces, &save); word; word = strtok_r(NULL, spaces, &save))
        argv[argc++] = word;
    return argv;
}

/* The file execvp() would run, its symbolic links resolved (the file
 * that a tracer attaches to and that dtrace -l calls the module). */
static char *find_program(const char *name)
{
    const char *path = getenv("PATH");
    char candidate[PATH_MAX];

    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? realpath(name, NULL) : NULL;
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *dir = path; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
        size_t length = strcspn(dir, ":");
        int n = snprintf(candidate, sizeof candidate, "%.*s/%s", (int)length, length ? dir : ".", name);

        if (n > 0 && (size_t)n < sizeof candidate && access(candidate, X_OK) == 0)
            return realpath(candidate, NULL);
    }
    errno = ENOENT;
    return NULL;
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

/* In the child: wait for the byte that releases it, then run. */
static void held(int release, int error, const char *path, char **argv)
{
    sigset_t none;
    char go;
    int e;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (read(release, &go, 1) != 1)
        _exit(127);
    execv(path, argv);
    e = errno;
    if (write(error, &e, sizeof e) < 0)
        _exit(126);
    _exit(127);
}

int pyprobe__d_child_spawn(const char *command, struct pyprobe__d_child *child, char *message, size_t size)
{
    int release[2], error[2];
    char *text = strdup(command), **argv = text ? split(text) : NULL;
    int rc = 0;

    *child = (struct pyprobe__d_child){.release_fd = -1, .error_fd = -1, .pidfd = -1};
    if (!argv || !argv[0]) {
        rc = argv ? -EINVAL : -ENOMEM;
        snprintf(message, size, argv ? "-c needs a command" : "out of memory");
    } else if (!(child->path = find_program(argv[0]))) {
        rc = -errno;
        snprintf(message, size, "failed to execute %s: %s", argv[0], strerror(errno));
    } else if (!(child->argv0 = strdup(argv[0]))) {
        rc = -ENOMEM;
        snprintf(message, size, "out of memory");
    } else if (pipe2(release, O_CLOEXEC) != 0) {
        rc = -errno;
        snprintf(message, size, "cannot start %s: %s", argv[0], strerror(errno));
    } else if (pipe2(error, O_CLOEXEC) != 0) {
        rc = -errno;
        close(release[0]);
        close(release[1]);
        snprintf(message, size, "cannot start %s: %s", argv[0], strerror(errno));
    } else if ((child->pid = fork()) < 0) {
        rc = -errno;
        snprintf(message, size, "cannot start %s: %s", argv[0], strerror(errno));
        close(release[0]);
        close(release[1]);
        close(error[0]);
        close(error[1]);
    } else if (child->pid == 0) {
        close(release[1]);
        close(error[0]);
        held(release[0], error[1], child->path, argv);
    } else {
        close(release[0]);
        close(error[1]);
        child->release_fd = release[1];
        child->error_fd = error[0];
        child->pidfd = pidfd_of(child->pid);
    }
    free(argv);
    free(text);
    if (rc != 0) {
        free(child->path);
        free(child->argv0);
        child->path = child->argv0 = NULL;
    }
    return rc;
}

int pyprobe__d_child_release(struct pyprobe__d_child *child, char *message, size_t size)
{
    int e = 0;
    ssize_t got;

    if (child->released)
        return 0;
    child->released = true;
    if (write(child->release_fd, "", 1) != 1) {
        snprintf(message, size, "cannot start %s: %s", child->path, strerror(errno));
        return -EPIPE;
    }
    close(child->release_fd);
    child->release_fd = -1;
    /* EOF: the exec closed the pipe; else its errno. */
    do
        got = read(child->error_fd, &e, sizeof e);
    while (got < 0 && errno == EINTR);
    close(child->error_fd);
    child->error_fd = -1;
    if (got == (ssize_t)sizeof e) {
        snprintf(message, size, "failed to execute %s: %s", child->path, strerror(e));
        return -e;
    }
    return 0;
}

void pyprobe__d_child_cancel(struct pyprobe__d_child *child)
{
    if (child->pid <= 0 || child->reaped)
        return;
    if (child->released)
        kill(child->pid, SIGKILL);
    if (child->release_fd >= 0) {
        close(child->release_fd); /* it reads EOF and exits */
        child->release_fd = -1;
    }
    while (waitpid(child->pid, &child->status, 0) < 0 && errno == EINTR)
        ;
    child->reaped = true;
}

int pyprobe__d_child_reap(struct pyprobe__d_child *child)
{
    pid_t got;

    if (child->reaped)
        return 1;
    got = waitpid(child->pid, &child->status, WNOHANG);
    if (got == child->pid || (got < 0 && errno == ECHILD)) {
        child->reaped = true;
        return 1;
    }
    return 0;
}

void pyprobe__d_child_free(struct pyprobe__d_child *child)
{
    if (child->release_fd >= 0)
        close(child->release_fd);
    if (child->error_fd >= 0)
        close(child->error_fd);
    if (child->pidfd >= 0)
        close(child->pidfd);
    free(child->path);
    free(child->argv0);
    *child = (struct pyprobe__d_child){.release_fd = -1, .error_fd = -1, .pidfd = -1};
}

double pyprobe__d_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

bool pyprobe__d_reap_by(pid_t pid, double deadline, int *status)
{
    pid_t w;

    while ((w = waitpid(pid, status, WNOHANG)) != pid) {
        if ((w < 0 && errno != EINTR) || pyprobe__d_now() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL); /* in case it had no group of its own yet */
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                continue;
            return false;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    return true;
}

void pyprobe__d_exit_words(pid_t pid, int status, bool known, char *out, size_t size)
{
    const char *name;

    if (known && WIFSIGNALED(status) && (name = sigabbrev_np(WTERMSIG(status))))
        snprintf(out, size, "pid %d terminated by SIG%s", (int)pid, name);
    else if (known && WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(out, size, "pid %d exited with status %d", (int)pid, WEXITSTATUS(status));
    else
        snprintf(out, size, "pid %d has exited", (int)pid);
}
