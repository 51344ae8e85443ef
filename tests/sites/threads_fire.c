/*
 * threads_fire: THREADS threads fire the line probe as fast as they can until
 * standard input reaches end of file, while a tracer attaches and detaches.
 * Each event carries its thread's name and a per-thread sequence number that
 * advances only when the probe fires, so a tracer that saw sequence numbers
 * lo..hi of a thread must have seen exactly hi - lo + 1 events of it.
 * Prints "NAME FIRED" per thread on exit.
 */
#define _GNU_SOURCE /* asprintf */
#include <pyprobe.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct worker {
    pthread_t thread;
    char *name; /* on the heap, as an interpreter's names are */
    int fired;
};

static atomic_int stopping;

static void *fire_until_stopped(void *arg)
{
    struct worker *w = arg;

    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        if (PYPROBE_LINE_ENABLED()) {
            PYPROBE_LINE(w->name, "worker", w->fired);
            w->fired++;
        }
    }
    return NULL;
}

static void wait_for_eof(void)
{
    char buf[64];

    while (read(STDIN_FILENO, buf, sizeof buf) > 0)
        ;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 8;
    struct worker *workers = calloc((size_t)(threads > 0 ? threads : 1), sizeof *workers);

    if (threads < 1 || threads > 256 || !workers) {
        fprintf(stderr, "usage: threads_fire [THREADS (1-256)]\n");
        return 2;
    }
    for (int i = 0; i < threads; i++) {
        if (asprintf(&workers[i].name, "thread-%d", i) < 0 ||
            pthread_create(&workers[i].thread, NULL, fire_until_stopped, &workers[i]) != 0) {
            perror("threads_fire: starting a thread");
            return 1;
        }
    }
    wait_for_eof();
    atomic_store(&stopping, 1);
    for (int i = 0; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        printf("%s %d\n", workers[i].name, workers[i].fired);
        free(workers[i].name);
    }
    free(workers);
    return 0;
}
