/*
 * Unit tests of the consumer (src/d/d_consume.h): bpftrace's JSON lines,
 * as a translated program makes them, turned into DTrace's output. What
 * they check is the glue: control records and their end record, other CPUs'
 * lines held until then, bpftrace key tuples made D keys (pieces,
 * basename, literals; entries that coincide merged), avg from its two
 * maps, unkeyed maps, notices and errors. The layouts themselves are
 * test_d_render.c's ("  %-50s %16lld" here: dt_print_aggs).
 */
#define _GNU_SOURCE /* open_memstream */
#include "d_capture.h"
#include "d_consume.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static struct capture cap;
static struct pyprobe__d_consumer *consumer;
static char notices[512];

static void notice(void *arg, const char *message)
{
    (void)arg;
    strncat(notices, message, sizeof notices - strlen(notices) - 2);
    strcat(notices, "|");
}

static void start(const struct pyprobe__d_plan *plan)
{
    notices[0] = '\0';
    capture_start(&cap, plan);
    ck_assert_int_eq(pyprobe__d_consumer_new(plan, cap.render, notice, NULL, &consumer), 0);
}

static int feed(const char *const *lines, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int rc = pyprobe__d_consume(consumer, lines[i], strlen(lines[i]));

        if (rc != 0)
            return rc;
    }
    return 0;
}

static const char *printed(void)
{
    return capture_text(&cap);
}

static void stop(void)
{
    pyprobe__d_consumer_free(consumer);
    capture_stop(&cap);
}

static const enum pyprobe__d_key_type one_string[] = {PYPROBE__D_KEY_STRING};
static const struct pyprobe__d_piece part0 = {.part = 0};
static const struct pyprobe__d_column by_name = {.type = PYPROBE__D_KEY_STRING, .pieces = &part0, .piece_count = 1};
static const size_t agg0[] = {0};
static const struct pyprobe__d_plan_aggregation counts[] = {
    {.name = "", .fn = PYPROBE__D_COUNT, .maps = {"@a_"}, .part_types = one_string, .part_count = 1,
     .columns = &by_name, .column_count = 1}};
static const struct pyprobe__d_action printa_then_exit[] = {
    {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg0, .aggregation_count = 1, .script_line = "x.d:4"},
    {.kind = PYPROBE__D_ACTION_EXIT, .aggregations = agg0, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_ATTACHED}};
static const struct pyprobe__d_plan count_plan = {.aggregations = counts, .aggregation_count = 1,
                                                  .actions = printa_then_exit, .action_count = 3};

#define ROW(KEY, VALUE) "  " KEY "%*s %16d\n"

START_TEST(other_cpus_lines_wait_for_close)
{
    static const char *const lines[] = {
        "{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}",
        "{\"type\": \"printf\", \"data\": \"\\u001e2\\n\"}", /* ATTACHED: nothing printed */
        "{\"type\": \"printf\", \"data\": \"\\u001e0\\n\"}",
        "{\"type\": \"printf\", \"data\": \"other cpu\\n\"}",
        "{\"type\": \"map\", \"data\": {\"@a_\": {\"x\": 2}}}",
        "{\"type\": \"printf\", \"data\": \"\\u001e\\n\"}",
        "{\"type\": \"map\", \"data\": {\"@a_\": {\"x\": 99}}}", /* bpftrace's own dump: no action wants it */
    };
    char expected[256];

    start(&count_plan);
    ck_assert(!pyprobe__d_consumer_ready(consumer));
    ck_assert_int_eq(feed(lines, 2), 0);
    ck_assert(pyprobe__d_consumer_ready(consumer));
    ck_assert_str_eq(printed(), "");
    ck_assert_int_eq(feed(lines + 2, COUNT(lines) - 2), 0);
    ck_assert_uint_eq(pyprobe__d_consumer_attached(consumer), 3);
    snprintf(expected, sizeof expected, "\n" ROW("x", 2) "other cpu\n", 49, "", 2);
    ck_assert_str_eq(printed(), expected);
    stop();
}
END_TEST

START_TEST(an_action_without_close_ends_with_the_stream)
{
    static const char *const lines[] = {
        "{\"type\": \"printf\", \"data\": \"\\u001e1 7\\n\"}",
        "{\"type\": \"map\", \"data\": {\"@a_\": {\"y\": 1}}}",
        "{\"type\": \"printf\", \"data\": \"held\"}",
    };
    char expected[256];
    int status = 0;

    start(&count_plan);
    ck_assert_int_eq(feed(lines, COUNT(lines)), 0);
    ck_assert_str_eq(printed(), "");
    ck_assert_int_eq(pyprobe__d_consume_end(consumer), 0);
    snprintf(expected, sizeof expected, "\n" ROW("y", 1) "held", 49, "", 1);
    ck_assert_str_eq(printed(), expected);
    ck_assert(pyprobe__d_render_exited(cap.render, &status));
    ck_assert_int_eq(status, 7);
    stop();
}
END_TEST

START_TEST(key_parts_become_d_keys_and_merge)
{
    /* strjoin(basename(file), strjoin(":", func)) and the line: bpftrace
     * keeps (file, line, func); two files of one base name merge. */
    static const enum pyprobe__d_key_type parts[] = {PYPROBE__D_KEY_STRING, PYPROBE__D_KEY_INT,
                                                     PYPROBE__D_KEY_STRING};
    static const struct pyprobe__d_piece joined[] = {{.part = 0, .transform = 'B'}, {.literal = ":"}, {.part = 2}};
    static const struct pyprobe__d_piece line = {.part = 1};
    static const struct pyprobe__d_column columns[] = {
        {.type = PYPROBE__D_KEY_STRING, .pieces = joined, .piece_count = 3},
        {.type = PYPROBE__D_KEY_INT, .pieces = &line, .piece_count = 1, .size = 4}};
    static const struct pyprobe__d_plan_aggregation aggs[] = {
        {.name = "", .fn = PYPROBE__D_SUM, .maps = {"@a_"}, .part_types = parts, .part_count = 3,
         .columns = columns, .column_count = 2}};
    static const struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 1,
                                                .actions = printa_then_exit, .action_count = 2};
    static const char *const lines[] = {
        "{\"type\": \"printf\", \"data\": \"\\u001e0\\n\"}",
        "{\"type\": \"map\", \"data\": {\"@a_\": {\"/a/b.py,3,f\": 5, \"/c/b.py,3,f\": 6, \"x, y.py,1,g\": 1}}}",
        "{\"type\": \"printf\", \"data\": \"\\u001e\\n\"}",
    };

    start(&plan);
    ck_assert_int_eq(feed(lines, COUNT(lines)), 0);
    ck_assert_str_eq(printed(), "\n"
                                "  x, y.py:g                                                 1                1\n"
                                "  b.py:f                                                    3               11\n");
    stop();
}
END_TEST

START_TEST(avg_comes_from_its_sum_and_count_maps)
{
    static const struct pyprobe__d_plan_aggregation aggs[] = {
        {.name = "t", .fn = PYPROBE__D_AVG, .maps = {"@a_t_sum", "@a_t_count"}, .part_types = one_string,
         .part_count = 1, .columns = &by_name, .column_count = 1}};
    static const struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 1,
                                                .actions = printa_then_exit, .action_count = 2};
    static const char *const lines[] = {
        "{\"type\": \"printf\", \"data\": \"\\u001e0\\n\"}",
        "{\"type\": \"map\", \"data\": {\"@a_t_count\": {\"k\": 4, \"j\": 1}}}",
        "{\"type\": \"map\", \"data\": {\"@a_t_sum\": {\"k\": 10, \"j\": 7}}}",
        "{\"type\": \"printf\", \"data\": \"\\u001e\\n\"}",
    };
    char expected[256];

    start(&plan);
    ck_assert_int_eq(feed(lines, COUNT(lines)), 0);
    snprintf(expected, sizeof expected, "\n" ROW("k", 2) ROW("j", 7), 49, "", 2, 49, "", 7);
    ck_assert_str_eq(printed(), expected);
    stop();
}
END_TEST

START_TEST(an_unkeyed_count_never_stored_prints_nothing)
{
    static const struct pyprobe__d_plan_aggregation aggs[] = {{.name = "", .fn = PYPROBE__D_COUNT, .maps = {"@a_"}}};
    static const struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 1,
                                                .actions = printa_then_exit, .action_count = 2};
    static const char *const lines[] = {
        "{\"type\": \"printf\", \"data\": \"\\u001e0\\n\"}",
        "{\"type\": \"map\", \"data\": {\"@a_\": 0}}",
        "{\"type\": \"printf\", \"data\": \"\\u001e\\n\"}",
        "{\"type\": \"printf\", \"data\": \"\\u001e0\\n\"}",
        "{\"type\": \"map\", \"data\": {\"@a_\": 3}}",
        "{\"type\": \"printf\", \"data\": \"\\u001e\\n\"}",
    };

    start(&plan);
    ck_assert_int_eq(feed(lines, COUNT(lines)), 0);
    ck_assert_str_eq(printed(), "\n\n                3\n");
    stop();
}
END_TEST

START_TEST(notices_and_errors)
{
    static const char *const lost[] = {
        "{\"type\": \"lost_events\", \"data\": {\"events\": 2}}",
        "{\"type\": \"helper_error\", \"msg\": \"Failed to probe_read_user_str\", \"helper\": \"x\"}",
        "Some text that is no event",
    };
    static const char *const unknown_action = "{\"type\": \"printf\", \"data\": \"\\u001e9\\n\"}";
    static const char *const bad_record = "{\"type\": \"printf\", \"data\": \"\\u001e0 x\\n\"}";
    static const char *const wrong_key = "{\"type\": \"map\", \"data\": {\"@a_\": 5}}";
    static const char *const printa = "{\"type\": \"printf\", \"data\": \"\\u001e0\\n\"}";
    static const char *const close = "{\"type\": \"printf\", \"data\": \"\\u001e\\n\"}";

    start(&count_plan);
    ck_assert_int_eq(feed(lost, COUNT(lost)), 0);
    ck_assert_str_eq(notices, "2 events lost (bpftrace's buffers were full)|bpftrace: Failed to probe_read_user_str|"
                              "bpftrace: Some text that is no event|");
    ck_assert_int_eq(feed(&unknown_action, 1), -EBADMSG);
    ck_assert_str_eq(pyprobe__d_consumer_message(consumer), "malformed control record from bpftrace: no action 9");
    ck_assert_int_eq(feed(&bad_record, 1), -EBADMSG);
    /* The runner's own mark, for a plan without ATTACHED. */
    ck_assert(!pyprobe__d_consumer_ready(consumer));
    ck_assert_int_eq(feed((const char *const[]){"{\"type\": \"printf\", \"data\": \"\\u001eready\\n\"}"}, 1), 0);
    ck_assert(pyprobe__d_consumer_ready(consumer));
    /* A map without key for an aggregation with one: said where. */
    ck_assert_int_eq(feed((const char *const[]){printa, wrong_key, close}, 3), -EBADMSG);
    ck_assert_str_eq(pyprobe__d_consumer_message(consumer),
                     "x.d:4: bpftrace printed a map that does not fit the aggregation's key or kind");
    stop();
}
END_TEST

int main(void)
{
    const struct test_entry tests[] = {
        {other_cpus_lines_wait_for_close, 0},
        {an_action_without_close_ends_with_the_stream, 0},
        {key_parts_become_d_keys_and_merge, 0},
        {avg_comes_from_its_sum_and_count_maps, 0},
        {an_unkeyed_count_never_stored_prints_nothing, 0},
        {notices_and_errors, 0},
    };

    return test_run_suite(test_suite("d_consume", NULL, NULL, tests, (int)COUNT(tests)));
}
