/*
 * pyprobe_runtime.h - USDT probes defined while the program runs.
 *
 * For code that has no compiler at hand (a dynamic language's libraries, a
 * plugin): create a provider, add probes with typed arguments, load it, fire.
 *
 *     pyprobe_provider *app;
 *     pyprobe_probe *request;
 *     const enum pyprobe_arg_type types[] = {PYPROBE_ARG_STRING, PYPROBE_ARG_INT32};
 *
 *     pyprobe_provider_create("myapp", &app);
 *     pyprobe_provider_add_probe(app, "request", types, 2, &request);
 *     pyprobe_provider_load(app);
 *     ...
 *     if (pyprobe_probe_enabled(request))               only while traced
 *         PYPROBE_PROBE_FIRE(request, path_of(r), r->status);
 *     ...
 *     pyprobe_provider_destroy(app);                    unloads it too
 *
 * Loading builds an ELF shared object in memory (probe sites, .note.stapsdt,
 * .stapsdt.base, one 16-bit semaphore per probe in .probes), writes it to a
 * memfd and dlopen()s it: bpftrace, gdb and `pyprobe -l -p PID` see the
 * probes as they see those of any library (README: how each names it). A probe is enabled while its
 * semaphore is raised, which the kernel does while a tracer is attached.
 *
 * Every function that can fail returns 0 or a negative errno, and never
 * prints; pyprobe_strerror() says what a code means here, and
 * pyprobe_provider_error() what went wrong in a provider's last failed call
 * (pyprobe_provider_create_ex() why a provider could not be created, when
 * there is no provider to ask). Messages show at most 64 bytes of a name.
 *   -EINVAL        a name that is not a C identifier (letters, digits, '_',
 *                  not starting with a digit: what perf and the kernel's
 *                  event names accept), an unknown argument type, a NULL
 *                  argument, firing with a wrong argument count
 *   -ENAMETOOLONG  a provider name over PYPROBE_PROVIDER_NAME_MAX characters
 *                  or a probe name over PYPROBE_PROBE_NAME_MAX
 *   -E2BIG         more than PYPROBE_MAX_PROBE_ARGS arguments
 *   -EEXIST        a probe of that name is already in the provider
 *   -EBUSY         adding a probe to a loaded provider
 *   -EALREADY      loading a loaded provider
 *   -ENODEV        firing a probe, or unloading a provider, that is not loaded
 *   -ENOEXEC       the dynamic loader rejected the generated object
 *   -ENOTSUP       no code generator for this architecture (x86-64 only)
 *   -EIO           libelf could not write the object
 *   -ENOMEM, and the errno of memfd_create or of the temporary file's
 *   creation (-EMFILE, -ENOENT ...) when loading fails.
 *
 * Threads: fire and enabled may be called from any number of threads at
 * once, and while the provider is being loaded (they see an unloaded probe
 * until it is). Unloading and destroying must not overlap with a fire or
 * enabled call on that provider's probes; the other calls on one provider
 * are not synchronised with each other. Distinct providers are independent.
 *
 * After fork() the child has the loaded providers too, with working probes
 * (a tracer attaches to it by its own pid).
 */
#ifndef PYPROBE_RUNTIME_H
#define PYPROBE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pyprobe/notes.h>  /* PYPROBE_MAX_PROBE_ARGS */
#include <pyprobe_config.h> /* PYPROBE_API */

#ifdef __cplusplus
extern "C" {
#endif

/* perf publishes a provider as the event group "sdt_PROVIDER", and the
 * kernel takes group and event names of at most 63 characters. */
#define PYPROBE_PROVIDER_NAME_MAX 59
#define PYPROBE_PROBE_NAME_MAX 63

/* A buffer for pyprobe_provider_create_ex()'s message: none is longer,
 * its NUL included. (pyprobe_provider_error()'s are cut at this size.) */
#define PYPROBE_ERROR_MAX 512

/* An argument's type, and how tracers see it (the note's size and sign). */
enum pyprobe_arg_type {
    PYPROBE_ARG_INT8 = 1, /* -1@ */
    PYPROBE_ARG_UINT8,    /*  1@ */
    PYPROBE_ARG_INT16,    /* -2@ */
    PYPROBE_ARG_UINT16,   /*  2@ */
    PYPROBE_ARG_INT32,    /* -4@ */
    PYPROBE_ARG_UINT32,   /*  4@ */
    PYPROBE_ARG_INT64,    /* -8@ */
    PYPROBE_ARG_UINT64,   /*  8@ */
    PYPROBE_ARG_STRING,   /*  8@ a NUL-terminated string (str(argN)); NULL reaches tracers as "" */
    PYPROBE_ARG_POINTER   /*  8@ any address */
};

typedef struct pyprobe_provider pyprobe_provider;
typedef struct pyprobe_probe pyprobe_probe;

/* ---- providers ---- */

/* A new, empty, unloaded provider called `name` (copied). */
PYPROBE_API int pyprobe_provider_create(const char *name, pyprobe_provider **out);
/* The same, and when it fails, why: the sentence pyprobe_provider_error()
 * would give, in `message` (at most `size` bytes with the NUL; "" on
 * success; NULL or 0: not wanted). Since libpyprobe.so.1.1 (PYPROBE_1.1).
 *
 *     char why[PYPROBE_ERROR_MAX];
 *     if (pyprobe_provider_create_ex(name, &app, why, sizeof why) != 0)
 *         fprintf(stderr, "myapp: %s\n", why);   e.g. provider name "1bad" starts with a digit ... */
PYPROBE_API int pyprobe_provider_create_ex(const char *name, pyprobe_provider **out, char *message, size_t size);
/* Unloads the provider if loaded and frees it with its probes. NULL is fine. */
PYPROBE_API void pyprobe_provider_destroy(pyprobe_provider *provider);

/* Adds probe `name` (copied) with `count` arguments of `types`; *out (may be
 * NULL) is valid until the provider is destroyed. Only before loading. */
PYPROBE_API int pyprobe_provider_add_probe(pyprobe_provider *provider, const char *name,
                                           const enum pyprobe_arg_type *types, size_t count, pyprobe_probe **out);

/* Generates the provider's object and loads it: from here on tracers see
 * the probes and fire reaches them. */
PYPROBE_API int pyprobe_provider_load(pyprobe_provider *provider);
/* Unloads it (the object is unmapped, its memfd closed); it may be loaded
 * again, and gets a new object then. */
PYPROBE_API int pyprobe_provider_unload(pyprobe_provider *provider);

PYPROBE_API const char *pyprobe_provider_name(const pyprobe_provider *provider);
PYPROBE_API bool pyprobe_provider_loaded(const pyprobe_provider *provider);
PYPROBE_API size_t pyprobe_provider_probe_count(const pyprobe_provider *provider);
/* The loaded object as tracers name it: "/proc/PID/fd/N" for a memfd (this
 * process's pid; the path /proc/PID/maps shows is "/memfd:pyprobe-NAME.so
 * (deleted)"), or the temporary file's path where no memfd could be made.
 * NULL while unloaded. Valid until unloaded. */
PYPROBE_API const char *pyprobe_provider_path(const pyprobe_provider *provider);
/* Whether the loaded object lives in a memfd (false: a temporary file, as
 * when memfd_create is unavailable or PYPROBE_RUNTIME_NO_MEMFD=1). */
PYPROBE_API bool pyprobe_provider_uses_memfd(const pyprobe_provider *provider);
/* What the provider's last failed call said, in a sentence ("" if none). */
PYPROBE_API const char *pyprobe_provider_error(const pyprobe_provider *provider);

/* ---- probes ---- */

/* Fires the probe with `count` arguments, each converted to its declared
 * type (integers truncated and sign- or zero-extended as C converts them;
 * strings and pointers as (uint64_t)(uintptr_t)p). Costs a semaphore read
 * when no tracer is attached: 0. -ENODEV when the provider is not loaded,
 * -EINVAL when `count` is not the probe's argument count. */
PYPROBE_API int pyprobe_probe_fire(const pyprobe_probe *probe, const uint64_t *args, size_t count);
/* Whether a tracer is attached: the probe's semaphore is non-zero. False
 * while the provider is not loaded. */
PYPROBE_API bool pyprobe_probe_enabled(const pyprobe_probe *probe);

PYPROBE_API const char *pyprobe_probe_name(const pyprobe_probe *probe);
PYPROBE_API size_t pyprobe_probe_arg_count(const pyprobe_probe *probe);
PYPROBE_API enum pyprobe_arg_type pyprobe_probe_arg_type(const pyprobe_probe *probe, size_t index);

/* What an error code of this API means, as a sentence; any other errno's
 * description (strerror's) otherwise; `error` may be negative, as this API
 * returns codes, or a plain errno. Never NULL. Static storage, except for a
 * number no errno has ("Unknown error 12345"): that lives in the calling
 * thread's buffer until its next call. */
PYPROBE_API const char *pyprobe_strerror(int error);

#ifdef __cplusplus
}
#endif

/* PYPROBE_PROBE_FIRE(probe, a, b, ...): pyprobe_probe_fire with 1 to 12
 * arguments, integers or pointers, each passed as (uint64_t)(uintptr_t)x.
 * (C only: it uses a compound literal. With no arguments call
 * pyprobe_probe_fire(probe, NULL, 0).) */
#ifndef __cplusplus
#define PYPROBE__RT_U64(x) ((uint64_t)(uintptr_t)(x))
#define PYPROBE__RT_NTH(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, n, ...) n
#define PYPROBE__RT_COUNT(...) PYPROBE__RT_NTH(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define PYPROBE__RT_MAP1(a) PYPROBE__RT_U64(a)
#define PYPROBE__RT_MAP2(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP1(__VA_ARGS__)
#define PYPROBE__RT_MAP3(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP2(__VA_ARGS__)
#define PYPROBE__RT_MAP4(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP3(__VA_ARGS__)
#define PYPROBE__RT_MAP5(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP4(__VA_ARGS__)
#define PYPROBE__RT_MAP6(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP5(__VA_ARGS__)
#define PYPROBE__RT_MAP7(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP6(__VA_ARGS__)
#define PYPROBE__RT_MAP8(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP7(__VA_ARGS__)
#define PYPROBE__RT_MAP9(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP8(__VA_ARGS__)
#define PYPROBE__RT_MAP10(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP9(__VA_ARGS__)
#define PYPROBE__RT_MAP11(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP10(__VA_ARGS__)
#define PYPROBE__RT_MAP12(a, ...) PYPROBE__RT_U64(a), PYPROBE__RT_MAP11(__VA_ARGS__)
#define PYPROBE__RT_PASTE(a, b) a##b
#define PYPROBE__RT_MAP(n, ...) PYPROBE__RT_PASTE(PYPROBE__RT_MAP, n)(__VA_ARGS__)
#define PYPROBE_PROBE_FIRE(probe, ...) \
    pyprobe_probe_fire((probe), \
        (const uint64_t[]){PYPROBE__RT_MAP(PYPROBE__RT_COUNT(__VA_ARGS__), __VA_ARGS__)}, \
        PYPROBE__RT_COUNT(__VA_ARGS__))
#endif

#endif /* PYPROBE_RUNTIME_H */
