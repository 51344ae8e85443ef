/*
 * pyprobe-provider: the build steps of pyprobe_add_provider()
 * (cmake/PyprobeProvider.cmake) for one D provider file. CMake builds it
 * when it configures pyprobe and installs it with the CMake package.
 *
 *   pyprobe-provider check FILE
 *       reads FILE (src/provider/provider_parse.h): silent when it is good,
 *       else one line, FILE:LINE:COLUMN: what is wrong
 *   pyprobe-provider notes FILE OUTPUT [ANCHOR]
 *       checks FILE and writes its argument-type note source to OUTPUT
 *       (left untouched when unchanged)
 *   pyprobe-provider dtrace -h|-G FILE OUTPUT SECONDS DTRACE [OPTION...]
 *       checks FILE, then runs `DTRACE -h|-G [OPTION...]` on it, as read
 *       (src/provider/provider_write.h), for at most SECONDS, in a scratch
 *       directory (src/provider/provider_run.h), into OUTPUT
 *
 * Exit status: 0; 1 for a bad file or a failed step; 2 for a wrong command
 * line. A signal that interrupted dtrace is raised again once its scratch
 * directory is gone, so that make sees the interruption.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "provider_write.h"
#include "provider_parse.h"
#include "provider_run.h"

static int usage(void)
{
    fprintf(stderr, "usage: pyprobe-provider check FILE\n"
                    "       pyprobe-provider notes FILE OUTPUT [ANCHOR]\n"
                    "       pyprobe-provider dtrace -h|-G FILE OUTPUT SECONDS DTRACE [OPTION...]\n");
    return 2;
}

/* Reads the provider file, saying what is wrong with it: 0 or 1. */
static int read_provider(const char *path, struct pyprobe__d_file *file)
{
    int rc = pyprobe__d_read(path, file);

    if (rc == -EINVAL)
        fprintf(stderr, "%s:%u:%u: %s\n", path, file->error_at.line, file->error_at.column, file->error);
    else if (rc != 0)
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-rc));
    return rc ? 1 : 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int check(int argc, char **argv)
{
    struct pyprobe__d_file file;
    int rc;

    if (argc != 3)
        return usage();
    rc = read_provider(argv[2], &file);
    pyprobe__d_free(&file);
    return rc;
}

static int notes(int argc, char **argv)
{
    struct pyprobe__d_file file;
    char *source = NULL;
    int rc;

    if (argc != 4 && argc != 5)
        return usage();
    rc = read_provider(argv[2], &file);
    if (rc == 0 && (rc = pyprobe__d_notes_source(&file, base_name(argv[2]), argv[4], &source)) == 0)
        rc = pyprobe__write_if_changed(argv[3], source);
    if (rc < 0)
        fprintf(stderr, "%s: cannot write %s: %s\n", argv[2], argv[3], strerror(-rc));
    free(source);
    pyprobe__d_free(&file);
    return rc ? 1 : 0;
}

/* What became of dtrace, in one line (nothing when it succeeded). */
static int dtrace_result(const char *path, const char *mode, unsigned long seconds, int rc, int status)
{
    if (rc == -ETIMEDOUT)
        fprintf(stderr, "%s: dtrace %s did not finish in %lu s and was killed (PYPROBE_DTRACE_TIMEOUT)\n", path,
                mode, seconds);
    else if (rc == -EINTR)
        fprintf(stderr, "%s: dtrace %s was interrupted (%s); its scratch directory is removed\n", path, mode,
                strsignal(status));
    else if (rc < 0)
        fprintf(stderr, "%s: dtrace %s: %s\n", path, mode, strerror(-rc));
    else if (WIFSIGNALED(status))
        fprintf(stderr, "%s: dtrace %s was killed by signal %d (%s)\n", path, mode, WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
        fprintf(stderr, "%s: dtrace %s failed with exit status %d\n", path, mode, WEXITSTATUS(status));
    else
        return 0;
    if (rc == -EINTR) {
        signal(status, SIG_DFL);
        raise(status);
    }
    return 1;
}

static int dtrace(int argc, char **argv)
{
    struct pyprobe__d_file file;
    unsigned long seconds;
    char *end, *source = NULL;
    int rc, status = 0;

    if (argc < 7 || (strcmp(argv[2], "-h") != 0 && strcmp(argv[2], "-G") != 0))
        return usage();
    errno = 0;
    seconds = strtoul(argv[5], &end, 10);
    if (errno || *end || end == argv[5] || seconds == 0 || seconds > UINT_MAX) {
        fprintf(stderr, "pyprobe-provider: SECONDS '%s' is not a whole number of seconds from 1\n", argv[5]);
        return 2;
    }
    rc = read_provider(argv[3], &file);
    if (rc == 0 && (rc = pyprobe__d_dtrace_source(&file, &source)) == 0)
        rc = pyprobe__dtrace(argv[6], argv[2], argv + 7, source, base_name(argv[3]), argv[4], (unsigned)seconds,
                             &status);
    free(source);
    pyprobe__d_free(&file);
    return rc > 0 ? rc : dtrace_result(argv[3], argv[2], seconds, rc, status);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {{"check", check}, {"notes", notes}, {"dtrace", dtrace}};

    for (size_t i = 0; argc > 1 && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc, argv);
    return usage();
}
