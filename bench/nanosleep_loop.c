/*
 * nanosleep_loop SECONDS INTERVAL_MS: the bare polling loop that the stock
 * part of bench/run holds pyprobe's watcher against. Sleeps INTERVAL_MS
 * at a time for SECONDS, then prints the CPU time it used, in
 * microseconds: {"cpu_us": N}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10, interval_ms = argc > 2 ? atof(argv[2]) : 10;
    struct timespec interval = {0, (long)(interval_ms * 1e6)};
    struct rusage usage;
    volatile unsigned short word = 0;

    for (long i = 0; i < (long)(seconds * 1000 / interval_ms); i++) {
        nanosleep(&interval, NULL);
        (void)word; /* one read, as a watcher reads its semaphores */
    }
    getrusage(RUSAGE_SELF, &usage);
    printf("{\"cpu_us\": %ld}\n", (long)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000 +
                                      usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    return 0;
}
