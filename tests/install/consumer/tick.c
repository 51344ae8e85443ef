/*
 * An interpreter's own probes (provider.d, through pyprobe_add_provider): fires
 * mylang:tick with -1, -2, ..., -TICKS (test_install.py expects the same),
 * then mylang:done. It starts once the tracer has enabled tick and then done
 * (why both: see hook.c; exit 3 after PYPROBE_WAIT_SECONDS, default 30).
 */
#include "mylang_probes.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { TICKS = 3 };

int main(void)
{
    const char *env = getenv("PYPROBE_WAIT_SECONDS");
    long limit_ms = 1000L * (env ? atol(env) : 30);
    struct timespec pause = {0, 10 * 1000 * 1000};

    for (long waited = 0; !(MYLANG_TICK_ENABLED() && MYLANG_DONE_ENABLED()); waited += 10) {
        if (waited >= limit_ms) {
            fprintf(stderr, "tick: mylang:tick/done not enabled; is a tracer attached?\n");
            return 3;
        }
        nanosleep(&pause, NULL);
    }
    for (int i = 1; i <= TICKS; i++)
        MYLANG_TICK(-i);
    MYLANG_DONE();
    return 0;
}
