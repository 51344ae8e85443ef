/*
 * runtime_fire: what a runtime probe costs (pyprobe_runtime.h).
 *
 *   runtime_fire [ITERATIONS]          untraced: pyprobe_probe_enabled() and
 *                                      pyprobe_probe_fire() of a probe
 *                                      (const char *, int64) nobody traces
 *   runtime_fire ITERATIONS traced     prints "path bench PATH", waits until a
 *                                      tracer enables bench:tick, then times
 *                                      fires that each hit the tracer:
 *
 *     runtime_fire 1000000 traced &
 *     bpftrace -p $! -e 'usdt:PATH:bench:tick { @ = count(); }'
 *
 * Times are wall-clock nanoseconds per call, the best of 5 rounds. For
 * instructions, run the untraced form under valgrind --tool=callgrind and
 * divide pyprobe_probe_fire's inclusive Ir by ITERATIONS.
 */
#define _GNU_SOURCE
#include <pyprobe_runtime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Keeps the compiler from dropping the calls' results. */
static volatile long sink;

static double time_fires(pyprobe_probe *probe, const char *text, long iterations)
{
    double best = 1e30;

    for (int round = 0; round < 5; round++) {
        double start = now_ns(), elapsed;
        long failures = 0;

        for (long i = 0; i < iterations; i++)
            failures += PYPROBE_PROBE_FIRE(probe, text, i) != 0;
        elapsed = (now_ns() - start) / (double)iterations;
        sink += failures;
        if (elapsed < best)
            best = elapsed;
    }
    return best;
}

static double time_enabled(pyprobe_probe *probe, long iterations)
{
    double best = 1e30;

    for (int round = 0; round < 5; round++) {
        double start = now_ns(), elapsed;
        long on = 0;

        for (long i = 0; i < iterations; i++)
            on += pyprobe_probe_enabled(probe);
        elapsed = (now_ns() - start) / (double)iterations;
        sink += on;
        if (elapsed < best)
            best = elapsed;
    }
    return best;
}

int main(int argc, char **argv)
{
    const enum pyprobe_arg_type types[] = {PYPROBE_ARG_STRING, PYPROBE_ARG_INT64};
    long iterations = argc > 1 ? atol(argv[1]) : 100000000L;
    int traced = argc > 2 && strcmp(argv[2], "traced") == 0;
    char *text = strdup("bench text");
    pyprobe_provider *provider;
    pyprobe_probe *tick;
    int rc;

    if (iterations <= 0 || !text)
        return 2;
    rc = pyprobe_provider_create("bench", &provider);
    if (rc == 0)
        rc = pyprobe_provider_add_probe(provider, "tick", types, 2, &tick);
    if (rc == 0)
        rc = pyprobe_provider_load(provider);
    if (rc != 0) {
        fprintf(stderr, "runtime_fire: %s %s\n", pyprobe_strerror(rc), provider ? pyprobe_provider_error(provider) : "");
        return 1;
    }
    printf("path bench %s\n", pyprobe_provider_path(provider));
    fflush(stdout);
    if (traced) {
        while (!pyprobe_probe_enabled(tick))
            usleep(10000);
        usleep(500000); /* the kernel raises the semaphore before the tracer's program is attached */
        printf("fire, traced:      %8.2f ns\n", time_fires(tick, text, iterations));
    } else {
        printf("enabled, untraced: %8.2f ns\n", time_enabled(tick, iterations));
        printf("fire, untraced:    %8.2f ns\n", time_fires(tick, text, iterations));
    }
    pyprobe_provider_destroy(provider);
    free(text);
    return 0;
}
