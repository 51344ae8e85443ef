/*
 * A process for `pyprobe -l -p` to list: it loads a library with dlopen
 * the way MODE says, prints "ready", and waits until its stdin closes.
 *
 *   dlopen_target path    LIBRARY   dlopen(LIBRARY)
 *   dlopen_target memfd   LIBRARY   a copy in a memfd, as /proc/self/fd/N
 *   dlopen_target deleted LIBRARY   a copy in a temporary file, deleted once loaded
 */
#define _GNU_SOURCE /* memfd_create, mkstemps */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int copy_into(int out, const char *library)
{
    char buffer[65536];
    int in = open(library, O_RDONLY | O_CLOEXEC);
    ssize_t got;

    if (in < 0)
        return -1;
    while ((got = read(in, buffer, sizeof buffer)) > 0)
        if (write(out, buffer, (size_t)got) != got)
            got = -1;
    close(in);
    return got == 0 ? 0 : -1;
}

/* Loads the library as `mode` says: what dlopen returned, or NULL. */
static void *load(const char *mode, const char *library)
{
    char path[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    int fd;

    if (strcmp(mode, "path") == 0)
        return dlopen(library, RTLD_NOW);
    if (strcmp(mode, "memfd") == 0) {
        /* The descriptor stays open: the process holds the memfd. */
        fd = memfd_create("libpyprobe-copy.so", 0);
        if (fd < 0 || copy_into(fd, library) != 0)
            return NULL;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        return dlopen(path, RTLD_NOW);
    }
    if (strcmp(mode, "deleted") == 0) {
        snprintf(path, sizeof path, "%s/pyprobe-deleted-XXXXXX.so", tmp && *tmp ? tmp : "/tmp");
        fd = mkstemps(path, 3);
        if (fd < 0 || copy_into(fd, library) != 0)
            return NULL;
        close(fd);
        void *handle = dlopen(path, RTLD_NOW);
        unlink(path);
        return handle;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char byte;

    if (argc != 3) {
        fprintf(stderr, "usage: dlopen_target path|memfd|deleted LIBRARY\n");
        return 2;
    }
    if (!load(argv[1], argv[2])) {
        const char *why = dlerror();

        fprintf(stderr, "dlopen_target: %s %s: %s\n", argv[1], argv[2], why ? why : "cannot copy it");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (read(0, &byte, 1) > 0)
        ;
    return 0;
}
