/*
 * fire_all: fires each of the 12 probes a known number of times with known,
 * heap-allocated arguments, for the tracer tests to check (tracers/events.py
 * holds the same table). Probe number i (1-based, in python.d order) fires i
 * times; import__find__load__start fires once more with a NULL module, which
 * tracers must see as "".
 *
 * Unless --no-wait is given it first waits until every probe is enabled, so
 * that a tracer started with -c has attached everything before the first
 * event (exit 3 on timeout, PYPROBE_WAIT_SECONDS, default 30).
 */
#include <pyprobe.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int enabled_count(void)
{
    return !!PYPROBE_FUNCTION_ENTRY_ENABLED() + !!PYPROBE_FUNCTION_RETURN_ENABLED() +
           !!PYPROBE_INSTANCE_NEW_START_ENABLED() + !!PYPROBE_INSTANCE_NEW_DONE_ENABLED() +
           !!PYPROBE_INSTANCE_DELETE_START_ENABLED() + !!PYPROBE_INSTANCE_DELETE_DONE_ENABLED() +
           !!PYPROBE_LINE_ENABLED() + !!PYPROBE_GC_START_ENABLED() + !!PYPROBE_GC_DONE_ENABLED() +
           !!PYPROBE_IMPORT_FIND_LOAD_START_ENABLED() + !!PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED() +
           !!PYPROBE_AUDIT_ENABLED();
}

static int wait_until_all_enabled(void)
{
    const char *env = getenv("PYPROBE_WAIT_SECONDS");
    long limit_ms = 1000L * (env ? atol(env) : 30);
    struct timespec tick = {0, 10 * 1000 * 1000};

    for (long waited = 0; enabled_count() < 12; waited += 10) {
        if (waited >= limit_ms) {
            fprintf(stderr, "fire_all: only %d of 12 probes enabled after %ld s; is a tracer attached?\n",
                    enabled_count(), limit_ms / 1000);
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

    if (wait && wait_until_all_enabled() != 0)
        return 3;
    fire_all();
    return 0;
}
