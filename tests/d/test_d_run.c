/*
 * Unit tests of the runner's parts that need no bpftrace (src/d/d_run.h):
 * the READY record in the program bpftrace gets (once, first in BEGIN),
 * and bpftrace's stderr made one line with the fix. test_d_trace.py runs
 * the rest for real.
 */
#include "d_run.h"
#include "test_run.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define READY " printf(\"\\x1eready\\n\");"

static void check_program(const char *program, bool attached_record, const char *expected)
{
    char *out = pyprobe__d_program_with_ready(program, attached_record);

    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, expected);
    free(out);
}

START_TEST(ready_goes_first_in_begin_once)
{
    static const char translated[] = "BEGIN\n{\n\tprintf(\"\\x1eready\\n\");\n}\n";

    /* BEGIN without it: first in the block; no BEGIN: one is added. */
    check_program("BEGIN { @a = 1; }\n", false, "BEGIN {" READY " @a = 1; }\n");
    check_program("usdt:/x:p:n { @a = count(); }\n", false,
                  "BEGIN {" READY " }\nusdt:/x:p:n { @a = count(); }\n");
    /* "BEGIN" elsewhere than at a line's start is no BEGIN block. */
    check_program("usdt:/x:p:n { printf(\"BEGIN {\"); }\n", false,
                  "BEGIN {" READY " }\nusdt:/x:p:n { printf(\"BEGIN {\"); }\n");
    /* The translation's own READY, or an ATTACHED action: as it is. */
    check_program(translated, false, translated);
    check_program("BEGIN { @a = 1; }\n", true, "BEGIN { @a = 1; }\n");
}
END_TEST

START_TEST(bpftrace_failures_are_one_line_with_the_fix)
{
    static const struct {
        const char *stderr_text;
        const char *message;
    } cases[] = {
        {"ERROR: bpftrace currently only supports running as the root user.\n",
         "bpftrace needs root: run pyprobe as root (sudo pyprobe ...)"},
        {"WARNING: could not set RLIMIT_MEMLOCK\nERROR: Error loading program: x (Operation not permitted)\n",
         "the kernel refused bpftrace's BPF programs (Error loading program: x (Operation not permitted)): run as "
         "root, and check kernel.unprivileged_bpf_disabled, lockdown and seccomp"},
        {"/dev/fd/3:4:5-9: ERROR: Unknown identifier: 'nosuch'\n",
         "bpftrace refused the translated program: /dev/fd/3:4:5-9: ERROR: Unknown identifier: 'nosuch' "
         "(pyprobe -S shows it)"},
        {"ERROR: Could not resolve symbol: /bin/x:nosuch\n",
         "bpftrace could not attach a probe: Could not resolve symbol: /bin/x:nosuch"},
        {"ERROR: something else\n", "bpftrace failed: something else"},
    };
    char message[512];

    for (size_t i = 0; i < COUNT(cases); i++) {
        pyprobe__d_bpftrace_failure(cases[i].stderr_text, 1 << 8, message, sizeof message);
        ck_assert_str_eq(message, cases[i].message);
    }
    /* Nothing said: how it ended. */
    pyprobe__d_bpftrace_failure("", SIGKILL, message, sizeof message);
    ck_assert_str_eq(message, "bpftrace was killed by signal 9");
    pyprobe__d_bpftrace_failure("WARNING: could not set RLIMIT_MEMLOCK\n", 3 << 8, message, sizeof message);
    ck_assert_str_eq(message, "bpftrace failed (exit status 3) without a message");
}
END_TEST

int main(void)
{
    const struct test_entry tests[] = {
        {ready_goes_first_in_begin_once, 0},
        {bpftrace_failures_are_one_line_with_the_fix, 0},
    };

    return test_run_suite(test_suite("d_run", NULL, NULL, tests, (int)COUNT(tests)));
}
