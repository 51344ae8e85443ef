/*
 * fire_loop: what one probe hit costs, timed inside the program.
 *
 *   fire_loop MODE ITERATIONS ROUNDS
 *
 * MODE is what each iteration of the timed loop does:
 *   usdt    PYPROBE_GC_START(i): the guard, and while gc__start is traced
 *           the call to pyprobe_fire_gc_start and its probe site
 *   fire    pyprobe_fire_gc_start(i), unguarded: for a plain uprobe on the
 *           fire function's site (the site without the USDT machinery)
 *   bare5   a call to bench_bare_nop5, a function that is a 5-byte nop and
 *           ret: the cheapest uprobe there is on such a site (also the USDT
 *           probe bench:bare5, no semaphore, to compare attachment kinds)
 *   bare1   the same with a 1-byte nop (bench_bare_nop1), as sys/sdt.h's
 *
 * With PYPROBE_READY_FILE set, it first waits (at most 30 s, else exit 3)
 * until that file exists, which the tracer's BEGIN creates once its probes
 * are attached, and in usdt mode also until gc__start is enabled. It then
 * fires 1000 times untimed (the kernel optimises a 5-byte nop site at its
 * first hit) and runs ROUNDS timed rounds of ITERATIONS iterations. It
 * prints one JSON line: the nanoseconds per iteration of each round, the
 * number of fires in all (what a count() must report) and whether the
 * process has a [uprobes-trampoline] mapping (the kernel's optimised
 * uprobes) at the end.
 */
#define _GNU_SOURCE
#include <pyprobe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "fire_loop measures x86-64 probe sites"
#endif

/* Two bare probe sites, each a whole function: site, then ret. The 5-byte
 * one is also the USDT probe bench:bare5 (a stapsdt note, no semaphore, no
 * arguments), so that a tracer can attach to it as a uprobe or as a USDT
 * probe. */
__asm__(".pushsection .stapsdt.base, \"aG\", @progbits, .stapsdt.base, comdat\n"
        ".weak _.stapsdt.base\n"
        ".hidden _.stapsdt.base\n"
        "_.stapsdt.base: .space 1\n"
        ".size _.stapsdt.base, 1\n"
        ".popsection\n"
        ".pushsection .text\n"
        ".globl bench_bare_nop5\n"
        ".type bench_bare_nop5, @function\n"
        "bench_bare_nop5:\n"
        "990:\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
        "\tret\n"
        ".pushsection .note.stapsdt, \"?\", \"note\"\n"
        ".balign 4\n"
        ".4byte 992f-991f, 994f-993f, 3\n"
        "991: .asciz \"stapsdt\"\n"
        "992: .balign 4\n"
        "993: .8byte 990b\n"
        ".8byte _.stapsdt.base\n"
        ".8byte 0\n"
        ".asciz \"bench\"\n"
        ".asciz \"bare5\"\n"
        ".asciz \"\"\n"
        "994: .balign 4\n"
        ".popsection\n"
        ".size bench_bare_nop5, .-bench_bare_nop5\n"
        ".globl bench_bare_nop1\n"
        ".type bench_bare_nop1, @function\n"
        "bench_bare_nop1:\n"
        "\tnop\n"
        "\tret\n"
        ".size bench_bare_nop1, .-bench_bare_nop1\n"
        ".popsection\n");
void bench_bare_nop5(void);
void bench_bare_nop1(void);

enum mode { MODE_USDT, MODE_FIRE, MODE_BARE5, MODE_BARE1 };

static double now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* One iteration: the compiler barrier makes the guard read the semaphore
 * every time, as an interpreter's hook does between other work. */
static void run(enum mode mode, long iterations)
{
    for (long i = 0; i < iterations; i++) {
        switch (mode) {
        case MODE_USDT:
            PYPROBE_GC_START((int)(i & 0xffff));
            break;
        case MODE_FIRE:
#if PYPROBE_HAVE_PROBES
            pyprobe_fire_gc_start((int)(i & 0xffff));
#endif
            break;
        case MODE_BARE5:
            bench_bare_nop5();
            break;
        case MODE_BARE1:
            bench_bare_nop1();
            break;
        }
        __asm__ __volatile__("" ::: "memory");
    }
}

static int has_trampoline(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;

    if (!maps)
        return 0;
    while (!found && fgets(line, sizeof line, maps))
        found = strstr(line, "[uprobes-trampoline]") != NULL;
    fclose(maps);
    return found;
}

static int ready(enum mode mode)
{
    const char *file = getenv("PYPROBE_READY_FILE");

    if (mode == MODE_USDT && !PYPROBE_GC_START_ENABLED())
        return 0;
    return access(file, F_OK) == 0;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"usdt", "fire", "bare5", "bare1"};
    enum mode mode = MODE_USDT;
    long iterations, rounds;
    int found = 0;

    if (argc != 4) {
        fputs("usage: fire_loop usdt|fire|bare5|bare1 ITERATIONS ROUNDS\n", stderr);
        return 2;
    }
    for (int m = 0; m < 4; m++)
        if (strcmp(argv[1], names[m]) == 0) {
            mode = (enum mode)m;
            found = 1;
        }
    iterations = atol(argv[2]);
    rounds = atol(argv[3]);
    if (!found || iterations <= 0 || rounds <= 0) {
        fputs("fire_loop: bad arguments\n", stderr);
        return 2;
    }
    if (mode == MODE_FIRE && !PYPROBE_HAVE_PROBES) {
        fputs("fire_loop: probes compiled out: no fire function\n", stderr);
        return 2;
    }
    if (getenv("PYPROBE_READY_FILE")) {
        struct timespec tick = {0, 5 * 1000 * 1000};
        int waited_ms = 0;

        while (!ready(mode)) {
            if (waited_ms >= 30000) {
                fputs("fire_loop: no tracer after 30 s\n", stderr);
                return 3;
            }
            nanosleep(&tick, NULL);
            waited_ms += 5;
        }
    }

    run(mode, 1000);
    printf("{\"mode\": \"%s\", \"fires\": %ld, \"ns_per_iteration\": [", names[mode],
           1000 + iterations * rounds);
    for (long r = 0; r < rounds; r++) {
        double start = now_ns();

        run(mode, iterations);
        printf("%s%.3f", r ? ", " : "", (now_ns() - start) / (double)iterations);
    }
    printf("], \"trampoline\": %s}\n", has_trampoline() ? "true" : "false");
    return 0;
}
