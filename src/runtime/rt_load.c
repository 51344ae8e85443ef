/*
 * Loading a runtime provider: its ELF object goes into a memfd (or, where
 * none can be made, a private temporary file), which dlopen() maps like any
 * library; the probes then point at their site functions and semaphores in
 * the mapped object. Unloading undoes it all: dlclose, close, unlink.
 */
#define _GNU_SOURCE /* memfd_create, dlinfo, mkostemps, secure_getenv */
#include "rt_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt_image.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable even under vm.memfd_noexec=1 */
#endif

/* A memfd for the object: its descriptor, or a negative errno. */
static int open_memfd(const pyprobe_provider *provider)
{
    char name[PYPROBE_PROVIDER_NAME_MAX + 16];
    int fd;

    snprintf(name, sizeof name, "pyprobe-%s.so", provider->name);
    fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) /* a kernel before 6.3: no MFD_EXEC, memfds are executable */
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd < 0 ? -errno : fd;
}

/* A private temporary file in $TMPDIR or /tmp: its descriptor (its name
 * in object->path), or a negative errno. */
static int open_temporary(pyprobe_provider *provider)
{
    struct pyprobe__rt_object *object = &provider->object;
    const char *dir = secure_getenv("TMPDIR");
    int fd;

    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(object->path, sizeof object->path, "%s/pyprobe-%s-XXXXXX.so", dir, provider->name);
    fd = mkostemps(object->path, 3, O_CLOEXEC);
    if (fd < 0) {
        int error = -errno;

        pyprobe__rt_fail(provider, error, "cannot create a temporary file %s: %s", object->path, strerror(-error));
        object->path[0] = '\0';
        return error;
    }
    return fd;
}

/* Whether the dynamic loader already has an object of that name. */
static bool name_is_loaded(const char *path)
{
    void *handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);

    if (!handle)
        return false;
    dlclose(handle);
    return true;
}

/* The memfd's name for dlopen: /proc/PID/fd/N (not /proc/self, which gdb
 * and the like would resolve in their own process). The loader takes an
 * object whose name it knows for loaded already, and a descriptor number is
 * reused once closed: when an object of a previous load still has the name
 * (someone else dlopen()ed it too, so our dlclose left it mapped), the
 * memfd moves to another number. */
static int name_memfd(struct pyprobe__rt_object *object, int fd)
{
    for (int attempt = 0;; attempt++) {
        int moved;

        snprintf(object->path, sizeof object->path, "/proc/%ld/fd/%d", (long)getpid(), fd);
        if (!name_is_loaded(object->path))
            return fd;
        moved = attempt < 64 ? fcntl(fd, F_DUPFD_CLOEXEC, fd + 1) : -1;
        if (moved < 0) {
            close(fd);
            return attempt < 64 ? -errno : -EEXIST;
        }
        close(fd);
        fd = moved;
    }
}

/* The object's file, open for writing, with object->fd, memfd and path set. */
static int open_object_file(pyprobe_provider *provider)
{
    struct pyprobe__rt_object *object = &provider->object;
    const char *no_memfd = getenv("PYPROBE_RUNTIME_NO_MEMFD");
    int fd = -ENOSYS;

    if (!no_memfd || strcmp(no_memfd, "1") != 0)
        fd = open_memfd(provider);
    if (fd >= 0) {
        fd = name_memfd(object, fd);
        if (fd < 0) {
            object->path[0] = '\0';
            return pyprobe__rt_fail(provider, fd, "no name for provider %s's memfd: %s", provider->name, strerror(-fd));
        }
        object->memfd = true;
    } else {
        fd = open_temporary(provider);
        if (fd < 0)
            return fd; /* it said why */
    }
    object->fd = fd;
    return 0;
}

static void close_object_file(struct pyprobe__rt_object *object)
{
    if (object->fd >= 0)
        close(object->fd);
    if (!object->memfd && object->path[0])
        unlink(object->path);
    object->fd = -1;
    object->path[0] = '\0';
    object->memfd = false;
}

/* Generates the object into object->fd: 0 or a negative errno. */
static int write_object(pyprobe_provider *provider, struct pyprobe__rt_image_layout *layout)
{
    struct pyprobe__rt_image_probe *probes = calloc(provider->probe_count + 1, sizeof *probes);
    char message[200] = "";
    int rc;

    if (!probes)
        return pyprobe__rt_fail(provider, -ENOMEM, "out of memory generating provider %s", provider->name);
    for (size_t i = 0; i < provider->probe_count; i++)
        probes[i] = (struct pyprobe__rt_image_probe){provider->probes[i]->name, provider->probes[i]->arg_count,
                                            provider->probes[i]->types};
    rc = pyprobe__rt_image_write(provider->object.fd, provider->name, probes, provider->probe_count, layout, message,
                        sizeof message);
    free(probes);
    if (rc == -ENOMEM)
        return pyprobe__rt_fail(provider, rc, "out of memory generating provider %s", provider->name);
    if (rc != 0)
        return pyprobe__rt_fail(provider, rc, "cannot write provider %s's object to %s: %s", provider->name,
                       provider->object.path, message);
    /* Nobody may change it now (best effort: only memfds take seals). */
    if (provider->object.memfd)
        (void)fcntl(provider->object.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    return 0;
}

/* dlopen()s the written object: 0 with object->handle and *bias set. */
static int open_object(pyprobe_provider *provider, uintptr_t *bias)
{
    struct pyprobe__rt_object *object = &provider->object;
    struct link_map *map = NULL;
    const char *why;

    object->handle = dlopen(object->path, RTLD_NOW | RTLD_LOCAL);
    if (object->handle && dlinfo(object->handle, RTLD_DI_LINKMAP, &map) == 0 && map) {
        *bias = (uintptr_t)map->l_addr;
        return 0;
    }
    why = dlerror();
    if (object->handle)
        dlclose(object->handle);
    object->handle = NULL;
    return pyprobe__rt_fail(provider, -ENOEXEC, "cannot load provider %s's object from %s: %s", provider->name,
                   object->path, why ? why : "no link map");
}

/* Points every probe at its site and semaphore; the semaphore last, which
 * is what a concurrent fire looks at first. */
static void connect_probes(pyprobe_provider *provider, const struct pyprobe__rt_image_layout *layout, uintptr_t bias)
{
    for (size_t i = 0; i < provider->probe_count; i++) {
        pyprobe_probe *probe = provider->probes[i];
        uintptr_t site = bias + (uintptr_t)(layout->site_base + i * layout->site_stride);
        uintptr_t semaphore = bias + (uintptr_t)(layout->semaphore_base + 2 * i);

        __atomic_store_n(&probe->site, (pyprobe__rt_site_fn)site, __ATOMIC_RELEASE);
        __atomic_store_n(&probe->semaphore, (const volatile uint16_t *)semaphore, __ATOMIC_RELEASE);
    }
}

static void disconnect_probes(pyprobe_provider *provider)
{
    for (size_t i = 0; i < provider->probe_count; i++) {
        pyprobe_probe *probe = provider->probes[i];

        __atomic_store_n(&probe->semaphore, &pyprobe__rt_unloaded_semaphore, __ATOMIC_RELEASE);
        __atomic_store_n(&probe->site, (pyprobe__rt_site_fn)NULL, __ATOMIC_RELEASE);
    }
}

int pyprobe__rt_load(pyprobe_provider *provider)
{
    struct pyprobe__rt_image_layout layout;
    uintptr_t bias = 0;
    int rc;

    if (!pyprobe__rt_image_supported())
        return pyprobe__rt_fail(provider, -ENOTSUP, "no probe code generator for this architecture (x86-64 only)");
    rc = open_object_file(provider);
    if (rc < 0)
        return rc; /* open_temporary said why */
    rc = write_object(provider, &layout);
    if (rc == 0)
        rc = open_object(provider, &bias);
    if (rc != 0) {
        close_object_file(&provider->object);
        return rc;
    }
    connect_probes(provider, &layout, bias);
    return 0;
}

void pyprobe__rt_unload(pyprobe_provider *provider)
{
    disconnect_probes(provider);
    dlclose(provider->object.handle);
    provider->object.handle = NULL;
    close_object_file(&provider->object);
}
