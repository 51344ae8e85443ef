/*
 * main()'s end for every Check test program: run the suite, report each
 * test as Check does, and exit non-zero when any failed.
 */
#ifndef PYPROBE_TEST_RUN_H
#define PYPROBE_TEST_RUN_H

#include <check.h>
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

#endif
