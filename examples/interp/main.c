/*
 * pint - the reference interpreter for pyprobe: a small language with the
 * python USDT probes hooked where a real interpreter would hook them.
 *
 *     pint FILE.pint
 *
 * Environment:
 *   PINT_PATH              more directories to import modules from (a:b:c)
 *   PINT_WAIT_FOR_TRACER=N wait, before running, until at least N of the 12
 *                          probes are enabled (a tracer attaching with -p PID
 *                          enables them one after another: 12 waits for all
 *                          of them); give up with an error after
 *   PINT_WAIT_SECONDS      seconds (default 30)
 *   PYPROBE_READY_FILE     with PINT_WAIT_FOR_TRACER, also wait until this
 *                          file exists: the kernel raises a semaphore a
 *                          moment before the tracer's program is attached,
 *                          and a tracer can create the file once it is
 *                          (bpftrace: in BEGIN)
 *   PINT_GC_THRESHOLD=N    a young collection after N allocations instead of
 *                          700; 1 collects at every statement (a stress test)
 *
 * Exit status: 0, 1 for an error in the program (`file:line: message` on
 * stderr) or a tracer that did not come, 2 for a wrong command line.
 */
#include <pyprobe.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gc.h"
#include "modules.h"
#include "util.h"

enum { PROBE_COUNT = 12 };

static int enabled_probes(void)
{
    return !!PYPROBE_FUNCTION_ENTRY_ENABLED() + !!PYPROBE_FUNCTION_RETURN_ENABLED() +
           !!PYPROBE_LINE_ENABLED() + !!PYPROBE_GC_START_ENABLED() + !!PYPROBE_GC_DONE_ENABLED() +
           !!PYPROBE_INSTANCE_NEW_START_ENABLED() + !!PYPROBE_INSTANCE_NEW_DONE_ENABLED() +
           !!PYPROBE_INSTANCE_DELETE_START_ENABLED() + !!PYPROBE_INSTANCE_DELETE_DONE_ENABLED() +
           !!PYPROBE_IMPORT_FIND_LOAD_START_ENABLED() + !!PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED() +
           !!PYPROBE_AUDIT_ENABLED();
}

static int tracer_ready(int wanted)
{
    const char *ready_file = getenv("PYPROBE_READY_FILE");

    return enabled_probes() >= wanted && (!ready_file || access(ready_file, F_OK) == 0);
}

/* A tracer that attaches to a running process would miss what happens
 * before it is ready: PINT_WAIT_FOR_TRACER lets it catch the whole run. */
static void wait_for_tracer(void)
{
    const char *wanted_text = getenv("PINT_WAIT_FOR_TRACER");
    const char *seconds_text = getenv("PINT_WAIT_SECONDS");
    int wanted = wanted_text ? atoi(wanted_text) : 0;
    long limit_ms = 1000L * (seconds_text ? atol(seconds_text) : 30);
    struct timespec tick = {0, 10 * 1000 * 1000};

    if (wanted <= 0)
        return;
    if (!PYPROBE_HAVE_PROBES) {
        fputs("pint: probes compiled out: PINT_WAIT_FOR_TRACER ignored\n", stderr);
        return;
    }
    if (wanted > PROBE_COUNT)
        wanted = PROBE_COUNT;
    for (long waited_ms = 0; !tracer_ready(wanted); waited_ms += 10) {
        if (waited_ms >= limit_ms)
            fail("%d of %d probes enabled after %ld s: is a tracer attached?",
                 enabled_probes(), wanted, limit_ms / 1000);
        nanosleep(&tick, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: pint FILE.pint\n");
        return 2;
    }
    stack_guard_init();
    if (getenv("PINT_GC_THRESHOLD"))
        gc_set_threshold(atol(getenv("PINT_GC_THRESHOLD")));
    wait_for_tracer();
    modules_run_main(argv[1]);
    /* Exit without a last collection: what is left is released silently,
     * and no instance__delete fires for it (CPython does not free
     * everything at exit either). */
    gc_free_everything();
    modules_free();
    heap_names_free();
    return 0;
}
