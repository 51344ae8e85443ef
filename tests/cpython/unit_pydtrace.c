/*
 * include/pyprobe/cpython/pydtrace_probes.h without building CPython: the
 * 12 PyDTrace_ names with CPython's own calls and argument types, each
 * guard following its semaphore, and CPython 3.11's dispatch (Python/ceval.c)
 * reduced to what decides whether function__entry and line fire:
 *
 *     opcode |= cframe.use_tracing | (PyDTrace_LINE_ENABLED() ? 255 : 0);
 *     DO_TRACING (opcode 255): on RESUME   if (PyDTrace_FUNCTION_ENTRY_ENABLED()) fire entry
 *                              otherwise   if (PyDTrace_LINE_ENABLED()) maybe_dtrace_line()
 *
 * Built twice: with the header's gh-98894 answer (function__entry alone
 * fires, line never does unless traced) and with
 * PYPROBE_CPYTHON_EXACT_LINE_GUARD (CPython 3.11's own behaviour: function__entry
 * alone never fires for ordinary calls).
 */
#define WITH_DTRACE 1
#include "pydtrace_probes.h"
#include "test_semaphores.h"
#include "test_run.h"

#include <check.h>
#include <stdlib.h>
#include <sys/types.h>

typedef ssize_t Py_ssize_t;

enum { RESUME = 151, LOAD_CONST = 100, DO_TRACING = 255 };

static int entry_fired, return_fired, line_fired, line_hook_ran, use_tracing;

static int counted(int *counter, int value)
{
    (*counter)++;
    return value;
}

/* CPython's dtrace_function_entry(), maybe_dtrace_line(): names from the
 * code object (PyUnicode_AsUTF8 returns const char *). */
static const char *as_utf8(const char *s) { return s; }

static void maybe_dtrace_line(int line)
{
    line_hook_ran++;
    PyDTrace_LINE(as_utf8("f.py"), as_utf8("f"), counted(&line_fired, line));
}

/* One call of a function of `instructions` instructions: RESUME, then the
 * body, then its return, as 3.11's _PyEval_EvalFrameDefault runs them. */
static void call_function(int instructions)
{
    for (int i = 0; i < instructions; i++) {
        unsigned char opcode = i == 0 ? RESUME : LOAD_CONST;
        opcode |= use_tracing | (PyDTrace_LINE_ENABLED() ? 255 : 0);
        if (opcode != DO_TRACING)
            continue;
        if (i == 0) {
            if (PyDTrace_FUNCTION_ENTRY_ENABLED())
                PyDTrace_FUNCTION_ENTRY(as_utf8("f.py"), as_utf8("f"), counted(&entry_fired, 1));
        } else if (PyDTrace_LINE_ENABLED()) {
            maybe_dtrace_line(i + 1);
        }
    }
    if (PyDTrace_FUNCTION_RETURN_ENABLED())
        PyDTrace_FUNCTION_RETURN(as_utf8("f.py"), as_utf8("f"), counted(&return_fired, instructions));
}


enum { ENTRY, RETURN, LINE, PROBES = 12 };

static int enabled(int probe)
{
    switch (probe) {
    case 0: return PyDTrace_FUNCTION_ENTRY_ENABLED();
    case 1: return PyDTrace_FUNCTION_RETURN_ENABLED();
    case 2: return PyDTrace_LINE_ENABLED();
    case 3: return PyDTrace_GC_START_ENABLED();
    case 4: return PyDTrace_GC_DONE_ENABLED();
    case 5: return PyDTrace_INSTANCE_NEW_START_ENABLED();
    case 6: return PyDTrace_INSTANCE_NEW_DONE_ENABLED();
    case 7: return PyDTrace_INSTANCE_DELETE_START_ENABLED();
    case 8: return PyDTrace_INSTANCE_DELETE_DONE_ENABLED();
    case 9: return PyDTrace_IMPORT_FIND_LOAD_START_ENABLED();
    case 10: return PyDTrace_IMPORT_FIND_LOAD_DONE_ENABLED();
    default: return PyDTrace_AUDIT_ENABLED();
    }
}

static int fired;

/* Every probe, called as CPython calls it (gcmodule.c, import.c,
 * sysmodule.c), counting how often its arguments are evaluated. */
static void fire(int probe)
{
    Py_ssize_t n = 1, m = 2;
    int generation = 2;
    void *mod = &n;
    const char *event = as_utf8("open");
    int tuple[3] = {0, 0, 0};

    switch (probe) {
    case 0: PyDTrace_FUNCTION_ENTRY(as_utf8("f.py"), as_utf8("f"), counted(&fired, 1)); break;
    case 1: PyDTrace_FUNCTION_RETURN(as_utf8("f.py"), as_utf8("f"), counted(&fired, 2)); break;
    case 2: PyDTrace_LINE(as_utf8("f.py"), as_utf8("f"), counted(&fired, 3)); break;
    case 3: PyDTrace_GC_START(counted(&fired, generation)); break;
    case 4: PyDTrace_GC_DONE((fired++, n + m)); break;
    case 5: PyDTrace_INSTANCE_NEW_START((fired++, as_utf8("C")), as_utf8("f.py")); break;
    case 6: PyDTrace_INSTANCE_NEW_DONE((fired++, as_utf8("C")), as_utf8("f.py")); break;
    case 7: PyDTrace_INSTANCE_DELETE_START((fired++, as_utf8("C")), as_utf8("f.py")); break;
    case 8: PyDTrace_INSTANCE_DELETE_DONE((fired++, as_utf8("C")), as_utf8("f.py")); break;
    case 9: PyDTrace_IMPORT_FIND_LOAD_START((fired++, as_utf8("m"))); break;
    case 10: PyDTrace_IMPORT_FIND_LOAD_DONE(as_utf8("m"), counted(&fired, mod != NULL)); break;
    default: PyDTrace_AUDIT(event, (fired++, (void *)tuple)); break;
    }
}

static void reset(void)
{
    entry_fired = return_fired = line_fired = line_hook_ran = use_tracing = 0;
}

START_TEST(each_guard_follows_its_semaphore)
{
    int probe = _i;

    for (int other = 0; other < PROBES; other++)
        ck_assert_msg(!enabled(other), "probe %d on with no tracer", other);
    fired = 0;
    fire(probe);
    ck_assert_int_eq(fired, 0);
    *test_semaphore(probe) += 1;
    for (int other = 0; other < PROBES; other++) {
        int expected = other == probe;
#ifndef PYPROBE_CPYTHON_EXACT_LINE_GUARD
        if (other == LINE && probe == ENTRY)
            expected = 1; /* gh-98894: function__entry needs the tracing path */
#endif
        ck_assert_msg(!!enabled(other) == expected, "semaphore %d raised: guard %d is %s", probe, other,
                      enabled(other) ? "on" : "off");
    }
    fire(probe);
    ck_assert_int_eq(fired, 1);
    *test_semaphore(probe) -= 1;
}
END_TEST

START_TEST(untraced_calls_stay_off_the_tracing_path)
{
    reset();
    for (int i = 0; i < 10; i++)
        call_function(5);
    ck_assert_int_eq(entry_fired + return_fired + line_fired + line_hook_ran, 0);
}
END_TEST

START_TEST(function_entry_alone)
{
    reset();
    *test_semaphore(ENTRY) += 1;
    for (int i = 0; i < 10; i++)
        call_function(5);
    *test_semaphore(ENTRY) -= 1;
#ifdef PYPROBE_CPYTHON_EXACT_LINE_GUARD
    ck_assert_int_eq(entry_fired, 0); /* CPython 3.11's gh-98894 */
#else
    ck_assert_int_eq(entry_fired, 10);
    ck_assert_int_eq(line_hook_ran, 40); /* the line hook runs ... */
#endif
    ck_assert_int_eq(line_fired, 0);     /* ... but line never fires */
    ck_assert_int_eq(return_fired, 0);
}
END_TEST

START_TEST(line_alone)
{
    reset();
    *test_semaphore(LINE) += 1;
    for (int i = 0; i < 10; i++)
        call_function(5);
    *test_semaphore(LINE) -= 1;
    ck_assert_int_eq(line_fired, 40);
    ck_assert_int_eq(entry_fired + return_fired, 0);
}
END_TEST

START_TEST(entry_and_line_and_return)
{
    reset();
    *test_semaphore(ENTRY) += 1;
    *test_semaphore(LINE) += 1;
    *test_semaphore(RETURN) += 1;
    for (int i = 0; i < 10; i++)
        call_function(5);
    *test_semaphore(ENTRY) -= 1;
    *test_semaphore(LINE) -= 1;
    *test_semaphore(RETURN) -= 1;
    ck_assert_int_eq(entry_fired, 10);
    ck_assert_int_eq(line_fired, 40);
    ck_assert_int_eq(return_fired, 10);
}
END_TEST

START_TEST(settrace_path_with_entry_traced)
{
    /* sys.settrace puts 255 in use_tracing: entry fires there as in CPython. */
    reset();
    use_tracing = 255;
    *test_semaphore(ENTRY) += 1;
    call_function(5);
    *test_semaphore(ENTRY) -= 1;
    ck_assert_int_eq(entry_fired, 1);
    ck_assert_int_eq(line_fired, 0);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("pydtrace_probes.h");
    TCase *tc = tcase_create("cpython");

    tcase_add_loop_test(tc, each_guard_follows_its_semaphore, 0, PROBES);
    tcase_add_test(tc, untraced_calls_stay_off_the_tracing_path);
    tcase_add_test(tc, function_entry_alone);
    tcase_add_test(tc, line_alone);
    tcase_add_test(tc, entry_and_line_and_return);
    tcase_add_test(tc, settrace_path_with_entry_traced);
    suite_add_tcase(suite, tc);
    return test_run_suite(suite);
}
