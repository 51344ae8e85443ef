/*
 * The guards: every probe is off until its own semaphore is raised, a fire
 * macro evaluates its arguments only while on, and raising a semaphore the
 * way a tracer does (the kernel adds one per attached tracer) turns exactly
 * that probe on and runs the fire path. Built against the shared and the
 * static library, and compiled out (PYPROBE_DISABLE, or PYPROBE_PROBES=OFF
 * where it links no library at all).
 */
#include <pyprobe.h>
#include "test_semaphores.h"
#include "test_run.h"

#include <check.h>
#include <stdlib.h>

static int evaluations;

static int counted(int value)
{
    evaluations++;
    return value;
}

static int enabled(int probe)
{
    switch (probe) {
    case 0: return PYPROBE_FUNCTION_ENTRY_ENABLED();
    case 1: return PYPROBE_FUNCTION_RETURN_ENABLED();
    case 2: return PYPROBE_LINE_ENABLED();
    case 3: return PYPROBE_GC_START_ENABLED();
    case 4: return PYPROBE_GC_DONE_ENABLED();
    case 5: return PYPROBE_INSTANCE_NEW_START_ENABLED();
    case 6: return PYPROBE_INSTANCE_NEW_DONE_ENABLED();
    case 7: return PYPROBE_INSTANCE_DELETE_START_ENABLED();
    case 8: return PYPROBE_INSTANCE_DELETE_DONE_ENABLED();
    case 9: return PYPROBE_IMPORT_FIND_LOAD_START_ENABLED();
    case 10: return PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED();
    default: return PYPROBE_AUDIT_ENABLED();
    }
}

/* Fires probe number `probe`, counting how often its arguments are built. */
static void fire(int probe)
{
    switch (probe) {
    case 0: PYPROBE_FUNCTION_ENTRY("f.py", "f", counted(1)); break;
    case 1: PYPROBE_FUNCTION_RETURN("f.py", "f", counted(1)); break;
    case 2: PYPROBE_LINE("f.py", "f", counted(2)); break;
    case 3: PYPROBE_GC_START(counted(0)); break;
    case 4: PYPROBE_GC_DONE(counted(3)); break;
    case 5: PYPROBE_INSTANCE_NEW_START("C", evaluations++ ? "f.py" : "f.py"); break;
    case 6: PYPROBE_INSTANCE_NEW_DONE("C", evaluations++ ? "f.py" : "f.py"); break;
    case 7: PYPROBE_INSTANCE_DELETE_START("C", evaluations++ ? "f.py" : "f.py"); break;
    case 8: PYPROBE_INSTANCE_DELETE_DONE("C", evaluations++ ? NULL : NULL); break;
    case 9: PYPROBE_IMPORT_FIND_LOAD_START(evaluations++ ? "m" : "m"); break;
    case 10: PYPROBE_IMPORT_FIND_LOAD_DONE("m", counted(1)); break;
    default: PYPROBE_AUDIT("open", (evaluations++, NULL)); break;
    }
}

#define PROBES 12

START_TEST(every_probe_is_off_without_a_tracer)
{
    for (int probe = 0; probe < PROBES; probe++)
        ck_assert_msg(!enabled(probe), "probe %d is on with no tracer attached", probe);
}
END_TEST

START_TEST(fire_macro_skips_its_arguments_while_off)
{
    evaluations = 0;
    for (int probe = 0; probe < PROBES; probe++)
        fire(probe);
    ck_assert_int_eq(evaluations, 0);
}
END_TEST

#ifndef PYPROBE__COMPILED_OUT

START_TEST(raised_semaphore_turns_on_exactly_its_probe)
{
    int probe = _i;

    *test_semaphore(probe) += 1;
    for (int other = 0; other < PROBES; other++)
        ck_assert_msg(enabled(other) == (other == probe), "raising semaphore %d: probe %d is %s",
                      probe, other, enabled(other) ? "on" : "off");
    evaluations = 0;
    fire(probe); /* runs the fire function: the probe site's nop */
    ck_assert_int_eq(evaluations, 1);
    *test_semaphore(probe) -= 1;
    ck_assert(!enabled(probe));
}
END_TEST

START_TEST(two_tracers_keep_a_probe_on_until_both_leave)
{
    *test_semaphore(2) += 2;
    *test_semaphore(2) -= 1;
    ck_assert(PYPROBE_LINE_ENABLED());
    *test_semaphore(2) -= 1;
    ck_assert(!PYPROBE_LINE_ENABLED());
}
END_TEST

START_TEST(semaphores_are_distinct)
{
    for (int a = 0; a < PROBES; a++)
        for (int b = a + 1; b < PROBES; b++)
            ck_assert_ptr_ne(test_semaphore(a), test_semaphore(b));
}
END_TEST
#else
/* Compiled out, a guard is the constant 0: the compiler drops the hook. */
_Static_assert(!PYPROBE_LINE_ENABLED(), "a compiled-out guard is a constant 0");
#endif

int main(void)
{
    Suite *suite = suite_create("guards");
    TCase *tc = tcase_create("guards");

    tcase_add_test(tc, every_probe_is_off_without_a_tracer);
    tcase_add_test(tc, fire_macro_skips_its_arguments_while_off);
#ifndef PYPROBE__COMPILED_OUT
    tcase_add_loop_test(tc, raised_semaphore_turns_on_exactly_its_probe, 0, PROBES);
    tcase_add_test(tc, two_tracers_keep_a_probe_on_until_both_leave);
    tcase_add_test(tc, semaphores_are_distinct);
#endif
    suite_add_tcase(suite, tc);
    return test_run_suite(suite);
}
