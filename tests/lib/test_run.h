/*
 * main()'s end for every Check test program: run the suite, report each
 * test as Check does, and exit non-zero when any failed. A program that
 * takes arguments first stores them with test_arguments(); test_suite()
 * makes a suite of one test case from a table of tests.
 */
#ifndef PYPROBE_TEST_RUN_H
#define PYPROBE_TEST_RUN_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static inline int test_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A test of a table for test_suite(): START_TEST's name and, for a loop
 * test, how many times it runs (_i from 0 up); 0 runs a plain test once. */
struct test_entry {
    const TTest *test;
    int loops;
};

/* A suite `name` of one test case of that name: the `count` tests of the
 * table, each between setup and teardown (checked fixtures, run in each
 * test's own process; NULL for none). */
static inline Suite *test_suite(const char *name, SFun setup, SFun teardown, const struct test_entry *tests,
                                int count)
{
    Suite *suite = suite_create(name);
    TCase *tc = tcase_create(name);

    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    for (int i = 0; i < count; i++) {
        if (tests[i].loops)
            tcase_add_loop_test(tc, tests[i].test, 0, tests[i].loops);
        else
            tcase_add_test(tc, tests[i].test);
    }
    suite_add_tcase(suite, tc);
    return suite;
}

/*
 * The arguments of a program whose command line is `usage` ("INPUTS
 * [LIBRARY]"): of its `count` arguments the first `required` must be
 * given, the others may be left out. Stores each one given in *args[i] (one
 * left out keeps its value); with too few or too many, says how to call
 * the program and returns false (main() then returns 2).
 */
static inline bool test_arguments(int argc, char **argv, const char *usage, int required, int count,
                                  const char **const args[])
{
    if (argc - 1 < required || argc - 1 > count) {
        fprintf(stderr, "usage: %s %s\n", argv[0], usage);
        return false;
    }
    for (int i = 1; i < argc; i++)
        *args[i - 1] = argv[i];
    return true;
}

#endif
