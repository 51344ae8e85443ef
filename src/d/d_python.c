/*
 * The pyprobe package's module for a held -c command that is CPython (see
 * d_resolve.h). On a stock CPython 3.12+ the python provider lives in the
 * package's extension module, which the interpreter maps only when it
 * imports pyprobe: after the tracer has attached. Probes attached by the
 * module's path are armed before then, and the package reads its
 * semaphores at import, so nothing is missed. The module's path is asked
 * of the command's own interpreter (its venv, its PYTHONPATH), under a
 * time limit: ARGV0 -c 'import pyprobe; print(pyprobe.where())'.
 */
#define _GNU_SOURCE /* pipe2 */
#include "d_child.h"
#include "d_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WHERE_SECONDS 10
#define WHERE_CODE "import pyprobe; print(pyprobe.where())"

/* CPython's executable, or a file it needs, defines Py_BytesMain. */
static bool defines_python(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t count = 0;

    if (fd < 0)
        return false;
    if (pyprobe__d_count_functions(fd, "Py_BytesMain", &count) != 0)
        count = 0;
    close(fd);
    return count > 0;
}

static bool is_python(const char *path, char *const *needed, size_t count)
{
    if (defines_python(path))
        return true;
    for (size_t i = 0; i < count; i++)
        if (defines_python(needed[i]))
            return true;
    return false;
}

static void ask(int out, const char *argv0)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    setpgid(0, 0);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
        _exit(127);
    execlp(argv0, argv0, "-c", WHERE_CODE, (char *)NULL);
    _exit(127);
}

/* What the interpreter printed, up to `size` - 1 bytes, within the limit:
 * its length, or -1 (it failed, hung or printed too much). */
static ssize_t answer(const char *argv0, char *line, size_t size)
{
    int pipefd[2], status = 0;
    size_t used = 0;
    double deadline = pyprobe__d_now() + WHERE_SECONDS;
    pid_t pid;
    ssize_t n;
    bool ended = false;         /* its stdout reached EOF within the limit */

    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -1;
    if ((pid = fork()) == 0)
        ask(pipefd[1], argv0);
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        return -1;
    }
    for (;;) {
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        int left_ms = (int)((deadline - pyprobe__d_now()) * 1000);

        if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0 || used + 1 >= size)
            break;
        if ((n = read(pipefd[0], line + used, size - 1 - used)) <= 0) {
            ended = n == 0;
            break;
        }
        used += (size_t)n;
    }
    close(pipefd[0]);
    /* Its exit too within the limit; too slow, too long or a read error:
     * at once (its group killed). */
    if (!pyprobe__d_reap_by(pid, ended ? deadline : 0, &status))
        ended = false;
    if (!ended || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    line[used] = '\0';
    return (ssize_t)used;
}

int pyprobe__d_python_module(const char *argv0, const char *path, char *const *needed, size_t count,
                             char **module)
{
    char line[PATH_MAX + 2];
    ssize_t length;

    *module = NULL;
    if (!is_python(path, needed, count) || (length = answer(argv0, line, sizeof line)) <= 0)
        return 0;
    line[strcspn(line, "\n")] = '\0';
    if (line[0] != '/')
        return 0;
    *module = realpath(line, NULL);
    if (*module && !strcmp(*module, path)) { /* 3.11 --with-dtrace: the interpreter's own probes */
        free(*module);
        *module = NULL;
    }
    return 0;
}
