/*
 * fire_all: fires each of the 12 probes a known number of times with known,
 * heap-allocated arguments, for the tracer tests to check (tracers/events.py
 * holds the same table). Probe number i (1-based, in python.d order) fires i
 * times; import__find__load__start fires once more with a NULL module, which
 * tracers must see as "".
 *
 * Unless --no-wait is given it first waits until every probe is enabled
 * (exit 3 on timeout, PYPROBE_WAIT_SECONDS, default 30). The kernel raises a
 * semaphore when a tracer opens the probe, a moment before the tracer's
 * program is attached to it; so when PYPROBE_READY_FILE names a file, it
 * then also waits for that file, which bpftrace's BEGIN creates once every
 * probe is attached (tracers/common.py).
 */
#include <pyprobe.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int enabled_count(void)
{
    return !!PYPROBE_FUNCTION_ENTRY_ENABLED() + !!PYPROBE_FUNCTION_RETURN_ENABLED() +
           !!PYPROBE_INSTANCE_NEW_START_ENABLED() + !!PYPROBE_INSTANCE_NEW_DONE_ENABLED() +
           !!PYPROBE_INSTANCE_DELETE_START_ENABLED() + !!PYPROBE_INSTANCE_DELETE_DONE_ENABLED() +
           !!PYPROBE_LINE_ENABLED() + !!PYPROBE_GC_START_ENABLED() + !!PYPROBE_GC_DONE_ENABLED() +
           !!PYPROBE_IMPORT_FIND_LOAD_START_ENABLED() + !!PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED() +
           !!PYPROBE_AUDIT_ENABLED();
}

static int tracer_ready(void)
{
    const char *ready_file = getenv("PYPROBE_READY_FILE");

    return enabled_count() == 12 && (!ready_file || access(ready_file, F_OK) == 0);
}

static int wait_for_tracer(void)
{
    const char *env = getenv("PYPROBE_WAIT_SECONDS");
    long limit_ms = 1000L * (env ? atol(env) : 30);
    struct timespec tick = {0, 10 * 1000 * 1000};

    for (long waited = 0; !tracer_ready(); waited += 10) {
        if (waited >= limit_ms) {
            fprintf(stderr, "fire_all: %d of 12 probes enabled after %ld s, tracer %s; is a tracer attached?\n",
                    enabled_count(), limit_ms / 1000, getenv("PYPROBE_READY_FILE") ? "not ready" : "-");
            return -1;
        }
        nanosleep(&tick, NULL);
    }
    return 0;
}

/* A heap copy: tracers must read the strings as a real interpreter's. */
static char *heap(const char *s)
{
    char *copy = strdup(s);
    if (!copy) {
        perror("fire_all: strdup");
        exit(1);
    }
    return copy;
}

static void fire_all(void)
{
    char *entry_file = heap("entry.py"), *entry_func = heap("entry_fn");
    char *return_file = heap("return.py"), *return_func = heap("return_fn");
    char *new_start = heap("NewStart"), *new_done = heap("NewDone"), *new_file = heap("new.py");
    char *delete_start = heap("DeleteStart"), *delete_done = heap("DeleteDone"), *delete_file = heap("delete.py");
    char *line_file = heap("line.py"), *line_func = heap("line_fn");
    char *load_start = heap("mod_start"), *load_done = heap("mod_done"), *event = heap("open");
    void *audit_args = (void *)(uintptr_t)0x1234abcdUL;
    int i;

    for (i = 0; i < 1; i++) PYPROBE_FUNCTION_ENTRY(entry_file, entry_func, 101);
    for (i = 0; i < 2; i++) PYPROBE_FUNCTION_RETURN(return_file, return_func, 102);
    for (i = 0; i < 3; i++) PYPROBE_INSTANCE_NEW_START(new_start, new_file);
    for (i = 0; i < 4; i++) PYPROBE_INSTANCE_NEW_DONE(new_done, new_file);
    for (i = 0; i < 5; i++) PYPROBE_INSTANCE_DELETE_START(delete_start, delete_file);
    for (i = 0; i < 6; i++) PYPROBE_INSTANCE_DELETE_DONE(delete_done, delete_file);
    for (i = 0; i < 7; i++) PYPROBE_LINE(line_file, line_func, -107);
    for (i = 0; i < 8; i++) PYPROBE_GC_START(2);
    for (i = 0; i < 9; i++) PYPROBE_GC_DONE(-5000000009L);
    for (i = 0; i < 10; i++) PYPROBE_IMPORT_FIND_LOAD_START(load_start);
    PYPROBE_IMPORT_FIND_LOAD_START(NULL);
    for (i = 0; i < 11; i++) PYPROBE_IMPORT_FIND_LOAD_DONE(load_done, 1);
    for (i = 0; i < 12; i++) PYPROBE_AUDIT(event, audit_args);

    free(entry_file), free(entry_func), free(return_file), free(return_func);
    free(new_start), free(new_done), free(new_file), free(delete_start), free(delete_done);
    free(delete_file), free(line_file), free(line_func), free(load_start), free(load_done), free(event);
}

int main(int argc, char **argv)
{
    int wait = !(argc > 1 && strcmp(argv[1], "--no-wait") == 0);

    if (wait && wait_for_tracer() != 0)
        return 3;
    fire_all();
    return 0;
}
