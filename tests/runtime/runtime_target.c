/*
 * runtime_target: a program with runtime providers, for the tracer tests
 * (test_runtime_trace.py). It loads its providers, prints one line per
 * provider, "path PROVIDER PATH" (PATH as pyprobe_provider_path() gives it),
 * then "loaded", and then, as MODE says:
 *
 *   types      waits for a tracer on every probe of rt_types, fires each
 *              with the values of test_runtime_trace.py's table
 *   enabled    prints "enabled 0", waits for a tracer, prints "enabled 1",
 *              fires rt_enabled:tick(1..5), waits until the tracer is gone
 *              and prints "enabled 0"
 *   providers  rt_one, rt_two, rt_three loaded at once: fires each tick;
 *              unloads rt_two (whose fire then fails), fires the others again
 *   threads N  N threads fire rt_threads:tick(name, seq) 1000 times each
 *   fork       forks after loading; the child prints "child PID PATH" and
 *              fires rt_fork:child(pid, "child") 3 times once traced; the
 *              parent checks that its own probe stays off, exits as the child
 *   gdb        waits for rt_types:twelve alone (gdb raises its semaphore
 *              when it places the breakpoint) and fires it once
 *   hold       waits until stdin is closed (for `pyprobe -l -p PID`)
 *
 * Waiting for a tracer means every probe involved is enabled and, when
 * PYPROBE_READY_FILE is set, that file exists (tracers/common.py: the
 * kernel raises semaphores a moment before bpftrace's programs are
 * attached). It gives up after PYPROBE_WAIT_SECONDS (30): exit 3.
 */
#define _GNU_SOURCE
#include <pyprobe_runtime.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *what, int rc, const pyprobe_provider *provider)
{
    fprintf(stderr, "runtime_target: %s: %d %s (%s)\n", what, rc, pyprobe_strerror(rc),
            provider ? pyprobe_provider_error(provider) : "");
    exit(1);
}

static char *heap(const char *s)
{
    char *copy = strdup(s);

    if (!copy)
        die("strdup", -ENOMEM, NULL);
    return copy;
}

static pyprobe_provider *create(const char *name)
{
    pyprobe_provider *provider;
    int rc = pyprobe_provider_create(name, &provider);

    if (rc != 0)
        die(name, rc, NULL);
    return provider;
}

static pyprobe_probe *add(pyprobe_provider *provider, const char *name, const enum pyprobe_arg_type *types,
                          size_t count)
{
    pyprobe_probe *probe;
    int rc = pyprobe_provider_add_probe(provider, name, types, count, &probe);

    if (rc != 0)
        die(name, rc, provider);
    return probe;
}

static void load(pyprobe_provider *provider)
{
    int rc = pyprobe_provider_load(provider);

    if (rc != 0)
        die("load", rc, provider);
    printf("path %s %s\n", pyprobe_provider_name(provider), pyprobe_provider_path(provider));
}

static void fire_ok(int rc, const char *what)
{
    if (rc != 0)
        die(what, rc, NULL);
}

/* ---- waiting ---- */

static long wait_limit_ms(void)
{
    const char *env = getenv("PYPROBE_WAIT_SECONDS");

    return 1000L * (env ? atol(env) : 30);
}

static void sleep_ms(long ms)
{
    struct timespec tick = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&tick, NULL);
}

static int all_enabled(pyprobe_probe *const *probes, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!pyprobe_probe_enabled(probes[i]))
            return 0;
    return 1;
}

static void wait_for_tracer(pyprobe_probe *const *probes, size_t count, int use_ready_file)
{
    const char *ready = use_ready_file ? getenv("PYPROBE_READY_FILE") : NULL;

    for (long waited = 0; !all_enabled(probes, count) || (ready && access(ready, F_OK) != 0); waited += 10) {
        if (waited >= wait_limit_ms()) {
            fprintf(stderr, "runtime_target: no tracer after %ld s\n", waited / 1000);
            exit(3);
        }
        sleep_ms(10);
    }
}

static void wait_for_no_tracer(pyprobe_probe *probe)
{
    for (long waited = 0; pyprobe_probe_enabled(probe); waited += 10) {
        if (waited >= wait_limit_ms()) {
            fprintf(stderr, "runtime_target: still traced after %ld s\n", waited / 1000);
            exit(3);
        }
        sleep_ms(10);
    }
}

static void loaded(void)
{
    printf("loaded\n");
    fflush(stdout);
}

/* ---- types: every argument type, exact values ---- */

static const enum pyprobe_arg_type small_types[] = {PYPROBE_ARG_INT8, PYPROBE_ARG_UINT8, PYPROBE_ARG_INT16,
                                                    PYPROBE_ARG_UINT16, PYPROBE_ARG_INT32, PYPROBE_ARG_UINT32};
static const enum pyprobe_arg_type wide_types[] = {PYPROBE_ARG_INT64, PYPROBE_ARG_UINT64, PYPROBE_ARG_STRING,
                                                   PYPROBE_ARG_POINTER};
/* Twelve: every type again, six in registers and six on the stack. */
static const enum pyprobe_arg_type twelve_types[] = {
    PYPROBE_ARG_STRING, PYPROBE_ARG_INT32, PYPROBE_ARG_UINT8,  PYPROBE_ARG_INT16, PYPROBE_ARG_UINT64,
    PYPROBE_ARG_POINTER, PYPROBE_ARG_INT8, PYPROBE_ARG_UINT16, PYPROBE_ARG_INT64, PYPROBE_ARG_UINT32,
    PYPROBE_ARG_STRING, PYPROBE_ARG_INT32};

struct types_provider {
    pyprobe_provider *provider;
    pyprobe_probe *probes[5]; /* small, wide, twelve, none, nulls */
};

static struct types_provider make_types(void)
{
    struct types_provider t = {create("rt_types"), {NULL}};

    t.probes[0] = add(t.provider, "small", small_types, COUNT(small_types));
    t.probes[1] = add(t.provider, "wide", wide_types, COUNT(wide_types));
    t.probes[2] = add(t.provider, "twelve", twelve_types, COUNT(twelve_types));
    t.probes[3] = add(t.provider, "none", NULL, 0);
    t.probes[4] = add(t.provider, "nulls", wide_types + 2, 1);
    load(t.provider);
    return t;
}

static void fire_twelve(pyprobe_probe *twelve)
{
    char *first = heap("first string"), *last = heap("last string");

    fire_ok(PYPROBE_PROBE_FIRE(twelve, first, -123456, 200, -300, UINT64_C(0xfedcba9876543210),
                               (void *)(uintptr_t)0xabcdef, -7, 60000, INT64_C(-1234567890123), 3000000000u, last,
                               2147483647),
            "twelve");
    free(first);
    free(last);
}

static void fire_types(const struct types_provider *t)
{
    char *text = heap("wide string \xc3\xa9"); /* UTF-8 bytes go through as they are */

    /* Each value is cut to its type's width: 0x1ff as INT8 is -1. */
    fire_ok(PYPROBE_PROBE_FIRE(t->probes[0], -128, 255, -32768, 65535, INT32_MIN, UINT32_MAX), "small");
    fire_ok(PYPROBE_PROBE_FIRE(t->probes[0], 127, 0, 32767, 0, INT32_MAX, 0), "small");
    fire_ok(PYPROBE_PROBE_FIRE(t->probes[0], 0x1ff, 0x1ff, 0x1ffff, 0x1ffff, INT64_C(0x1ffffffff),
                               INT64_C(0x1ffffffff)),
            "small");
    fire_ok(PYPROBE_PROBE_FIRE(t->probes[1], INT64_MIN, UINT64_MAX, text, (void *)(uintptr_t)0x1234abcd), "wide");
    fire_ok(PYPROBE_PROBE_FIRE(t->probes[1], INT64_MAX, 0, text, NULL), "wide");
    fire_twelve(t->probes[2]);
    for (int i = 0; i < 3; i++)
        fire_ok(pyprobe_probe_fire(t->probes[3], NULL, 0), "none");
    fire_ok(PYPROBE_PROBE_FIRE(t->probes[4], NULL), "nulls");
    free(text);
}

static int mode_types(void)
{
    struct types_provider t = make_types();

    loaded();
    wait_for_tracer(t.probes, COUNT(t.probes), 1);
    fire_types(&t);
    pyprobe_provider_destroy(t.provider);
    return 0;
}

static int mode_gdb(void)
{
    struct types_provider t = make_types();

    loaded();
    wait_for_tracer(&t.probes[2], 1, 0);
    fire_twelve(t.probes[2]);
    pyprobe_provider_destroy(t.provider);
    return 0;
}

static int mode_hold(void)
{
    struct types_provider t = make_types();
    char buffer[64];

    loaded();
    while (fread(buffer, 1, sizeof buffer, stdin) > 0)
        ;
    pyprobe_provider_destroy(t.provider);
    return 0;
}

/* ---- enabled: false, true while traced, false again ---- */

static int mode_enabled(void)
{
    pyprobe_provider *provider = create("rt_enabled");
    pyprobe_probe *tick = add(provider, "tick", small_types + 4, 1);

    load(provider);
    loaded();
    printf("enabled %d\n", pyprobe_probe_enabled(tick));
    fflush(stdout);
    wait_for_tracer(&tick, 1, 1);
    printf("enabled %d\n", pyprobe_probe_enabled(tick));
    fflush(stdout);
    for (int i = 1; i <= 5; i++)
        fire_ok(PYPROBE_PROBE_FIRE(tick, i), "tick");
    wait_for_no_tracer(tick);
    printf("enabled %d\n", pyprobe_probe_enabled(tick));
    pyprobe_provider_destroy(provider);
    return 0;
}

/* ---- several providers ---- */

static int mode_providers(void)
{
    const char *names[] = {"rt_one", "rt_two", "rt_three"};
    const enum pyprobe_arg_type types[] = {PYPROBE_ARG_STRING, PYPROBE_ARG_INT32};
    pyprobe_provider *providers[3];
    pyprobe_probe *ticks[3];
    char *labels[3];

    for (int i = 0; i < 3; i++) {
        providers[i] = create(names[i]);
        ticks[i] = add(providers[i], "tick", types, 2);
        labels[i] = heap(names[i]);
        load(providers[i]);
    }
    loaded();
    wait_for_tracer(ticks, 3, 1);
    for (int i = 0; i < 3; i++)
        fire_ok(PYPROBE_PROBE_FIRE(ticks[i], labels[i], i + 1), names[i]);
    fire_ok(pyprobe_provider_unload(providers[1]), "unload rt_two");
    if (PYPROBE_PROBE_FIRE(ticks[1], labels[1], 20) != -ENODEV)
        die("rt_two fired after its unload", 0, providers[1]);
    fire_ok(PYPROBE_PROBE_FIRE(ticks[0], labels[0], 10), names[0]);
    fire_ok(PYPROBE_PROBE_FIRE(ticks[2], labels[2], 30), names[2]);
    for (int i = 0; i < 3; i++) {
        pyprobe_provider_destroy(providers[i]);
        free(labels[i]);
    }
    return 0;
}

/* ---- threads ---- */

enum { FIRES_PER_THREAD = 1000 };

struct thread_arg {
    pyprobe_probe *probe;
    char name[32];
    volatile int *go;
    int failures;
};

static void *thread_main(void *p)
{
    struct thread_arg *arg = p;

    while (!__atomic_load_n(arg->go, __ATOMIC_ACQUIRE))
        sleep_ms(1);
    for (int64_t seq = 0; seq < FIRES_PER_THREAD; seq++)
        arg->failures += PYPROBE_PROBE_FIRE(arg->probe, arg->name, seq) != 0;
    return NULL;
}

static int mode_threads(int count)
{
    const enum pyprobe_arg_type types[] = {PYPROBE_ARG_STRING, PYPROBE_ARG_INT64};
    pyprobe_provider *provider = create("rt_threads");
    pyprobe_probe *tick = add(provider, "tick", types, 2);
    struct thread_arg *args = calloc((size_t)count, sizeof *args);
    pthread_t *threads = calloc((size_t)count, sizeof *threads);
    volatile int go = 0;
    int failures = 0;

    if (!args || !threads)
        die("calloc", -ENOMEM, NULL);
    load(provider);
    loaded();
    for (int i = 0; i < count; i++) {
        args[i] = (struct thread_arg){.probe = tick, .go = &go};
        snprintf(args[i].name, sizeof args[i].name, "thread-%d", i);
        if (pthread_create(&threads[i], NULL, thread_main, &args[i]) != 0)
            die("pthread_create", 0, NULL);
    }
    wait_for_tracer(&tick, 1, 1);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < count; i++) {
        pthread_join(threads[i], NULL);
        failures += args[i].failures;
    }
    free(args);
    free(threads);
    pyprobe_provider_destroy(provider);
    return failures ? 1 : 0;
}

/* ---- fork ---- */

static int fork_child(pyprobe_provider *provider, pyprobe_probe *probe)
{
    const char *path = pyprobe_provider_path(provider); /* /proc/PARENT/fd/N */
    char *label = heap("child");
    const char *fd = strrchr(path, '/') + 1;

    printf("child %ld /proc/%ld/fd/%s\n", (long)getpid(), (long)getpid(), fd);
    fflush(stdout);
    wait_for_tracer(&probe, 1, 1);
    for (int i = 0; i < 3; i++)
        fire_ok(PYPROBE_PROBE_FIRE(probe, getpid(), label), "child");
    free(label);
    pyprobe_provider_destroy(provider);
    return 0;
}

static int mode_fork(void)
{
    const enum pyprobe_arg_type types[] = {PYPROBE_ARG_INT32, PYPROBE_ARG_STRING};
    pyprobe_provider *provider = create("rt_fork");
    pyprobe_probe *probe = add(provider, "child", types, 2);
    int status, parent_traced = 0;
    pid_t child;

    load(provider);
    loaded();
    child = fork();
    if (child < 0)
        die("fork", 0, NULL);
    if (child == 0)
        _exit(fork_child(provider, probe));
    while (waitpid(child, &status, WNOHANG) == 0) {
        parent_traced |= pyprobe_probe_enabled(probe); /* the tracer attached to the child only */
        fire_ok(PYPROBE_PROBE_FIRE(probe, getpid(), "parent"), "parent");
        sleep_ms(5);
    }
    printf("parent enabled %d\n", parent_traced);
    pyprobe_provider_destroy(provider);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && !parent_traced ? 0 : 1;
}

/* The modes, by the name main() takes. */
static const struct {
    const char *name;
    int (*run)(void);
} modes[] = {
    {"types", mode_types}, {"enabled", mode_enabled}, {"providers", mode_providers},
    {"fork", mode_fork},   {"gdb", mode_gdb},         {"hold", mode_hold},
};

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";

    if (strcmp(mode, "threads") == 0)
        return mode_threads(argc > 2 ? atoi(argv[2]) : 8);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0)
            return modes[i].run();
    fprintf(stderr, "usage: runtime_target types|enabled|providers|threads [N]|fork|gdb|hold\n");
    return 2;
}
