/*
 * An interpreter hook built against the installed pyprobe only: it fires
 * function__entry HITS times, with heap strings as a real interpreter would and
 * lines FIRST_LINE, FIRST_LINE + 1, ... (test_install.py expects the same).
 *
 * First it waits for the tracer (exit 3 after PYPROBE_WAIT_SECONDS, default
 * 30). The kernel raises a probe's semaphore while bpftrace is still attaching
 * its program, so the tracer enables function__return too, after
 * function__entry: both enabled means function__entry's program is in place.
 */
#include <pyprobe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HITS = 5, FIRST_LINE = 40 };

static int tracer_attached(void)
{
    return PYPROBE_FUNCTION_ENTRY_ENABLED() && PYPROBE_FUNCTION_RETURN_ENABLED();
}

int main(void)
{
    const char *env = getenv("PYPROBE_WAIT_SECONDS");
    long limit_ms = 1000L * (env ? atol(env) : 30);
    struct timespec pause = {0, 10 * 1000 * 1000};
    char *file = strdup("hook.py"), *func = strdup("hook_fn");

    if (!file || !func)
        return 1;
    for (long waited = 0; !tracer_attached(); waited += 10) {
        if (waited >= limit_ms) {
            fprintf(stderr, "hook: function__entry/return not enabled; is a tracer attached?\n");
            return 3;
        }
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < HITS; i++)
        PYPROBE_FUNCTION_ENTRY(file, func, FIRST_LINE + i);
    free(file);
    free(func);
    return 0;
}
