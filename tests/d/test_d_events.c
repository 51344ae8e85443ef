/*
 * Unit tests of the event reader (src/d/d_events.h) on the lines of
 * bpftrace 0.17's JSON output that real runs do not easily give (test_d_
 * events.py reads real ones): malformed lines, escapes, the forms of map
 * values; and of the key splitter (d_consume.h), whose strings may hold
 * the commas that join bpftrace's key parts.
 */
#include "d_consume.h"
#include "d_events.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static struct pyprobe__d_event event;

static int parse(const char *line)
{
    return pyprobe__d_event_parse(line, strlen(line), &event);
}

START_TEST(printf_text_with_control_bytes)
{
    ck_assert_int_eq(parse("{\"type\": \"printf\", \"data\": \"\\u001e3 4\\n\"}"), 0);
    ck_assert_int_eq(event.kind, PYPROBE__D_EVENT_PRINTF);
    ck_assert_uint_eq(event.length, 5);
    ck_assert_mem_eq(event.text, "\x1e" "3 4\n", 5);
    pyprobe__d_event_free(&event);
}
END_TEST

START_TEST(sign_extended_escapes_are_bytes_again)
{
    /* bpftrace 0.17 writes "é" (c3 a9) as \uffffffc3\uffffffa9; an escaped
     * backslash before "uffffff" stays text. */
    ck_assert_int_eq(parse("{\"type\": \"printf\", \"data\": \"x\\uffffffc3\\uffffffa9 \\\\uffffffc3\"}"), 0);
    ck_assert_uint_eq(event.length, 14);
    ck_assert_mem_eq(event.text, "x\xc3\xa9 \\uffffffc3", 14);
    pyprobe__d_event_free(&event);
}
END_TEST

START_TEST(maps_keyed_and_not)
{
    ck_assert_int_eq(parse("{\"type\": \"map\", \"data\": {\"@c\": {\"a,1\": 1, \"b,2\": -2}}}"), 0);
    ck_assert_int_eq(event.kind, PYPROBE__D_EVENT_MAP);
    ck_assert_str_eq(event.map, "@c");
    ck_assert_uint_eq(event.entry_count, 2);
    ck_assert_str_eq(event.entries[1].key, "b,2");
    ck_assert_int_eq(event.entries[1].value, -2);
    pyprobe__d_event_free(&event);
    ck_assert_int_eq(parse("{\"type\": \"map\", \"data\": {\"@s\": 5}}"), 0);
    ck_assert_uint_eq(event.entry_count, 1);
    ck_assert_ptr_null(event.entries[0].key);
    ck_assert_int_eq(event.entries[0].value, 5);
    pyprobe__d_event_free(&event);
    ck_assert_int_eq(parse("{\"type\": \"map\", \"data\": {\"@str\": {\"k\": \"value\"}}}"), 0);
    ck_assert_int_eq(event.entries[0].kind, PYPROBE__D_VALUE_STRING);
    ck_assert_str_eq(event.entries[0].string, "value");
    pyprobe__d_event_free(&event);
}
END_TEST

START_TEST(hist_buckets_open_at_the_ends)
{
    ck_assert_int_eq(parse("{\"type\": \"hist\", \"data\": {\"@h\": {\"x\": [{\"max\": -1, \"count\": 1}, "
                           "{\"min\": 4, \"max\": 7, \"count\": 2}, {\"min\": 10, \"count\": 3}]}}}"),
                     0);
    ck_assert_uint_eq(event.entries[0].bucket_count, 3);
    ck_assert_int_eq(event.entries[0].buckets[0].min, INT64_MIN);
    ck_assert_int_eq(event.entries[0].buckets[0].max, -1);
    ck_assert_int_eq(event.entries[0].buckets[2].max, INT64_MAX);
    ck_assert_uint_eq(event.entries[0].buckets[2].count, 3);
    pyprobe__d_event_free(&event);
}
END_TEST

START_TEST(stats_and_counts)
{
    ck_assert_int_eq(parse("{\"type\": \"stats\", \"data\": {\"@st\": {\"count\": 2, \"average\": 3, \"total\": 6}}}"),
                     0);
    ck_assert_ptr_null(event.entries[0].key);
    ck_assert_int_eq(event.entries[0].kind, PYPROBE__D_VALUE_STATS);
    ck_assert_int_eq(event.entries[0].total, 6);
    pyprobe__d_event_free(&event);
    ck_assert_int_eq(parse("{\"type\": \"stats\", \"data\": {\"@av\": {\"1\": 3}}}"), 0);
    ck_assert_str_eq(event.entries[0].key, "1");
    pyprobe__d_event_free(&event);
    ck_assert_int_eq(parse("{\"type\": \"attached_probes\", \"data\": {\"probes\": 7}}"), 0);
    ck_assert_int_eq(event.kind, PYPROBE__D_EVENT_ATTACHED);
    ck_assert_uint_eq(event.count, 7);
    pyprobe__d_event_free(&event);
    ck_assert_int_eq(parse("{\"type\": \"lost_events\", \"data\": {\"events\": 12}}"), 0);
    ck_assert_int_eq(event.kind, PYPROBE__D_EVENT_LOST);
    ck_assert_uint_eq(event.count, 12);
    pyprobe__d_event_free(&event);
    ck_assert_int_eq(parse("{\"type\": \"helper_error\", \"msg\": \"Failed to probe_read_user\", \"helper\": \"x\"}"),
                     0);
    ck_assert_int_eq(event.kind, PYPROBE__D_EVENT_ERROR);
    pyprobe__d_event_free(&event);
}
END_TEST

static const char *const malformed[] = {
    "Attaching 1 probe...", "{", "{\"type\": 3, \"data\": 1}", "{\"data\": \"x\"}", "[1, 2]",
    "{\"type\": \"printf\"}", "{\"type\": \"printf\", \"data\": 5}", "{\"type\": \"map\", \"data\": 5}",
    "{\"type\": \"map\", \"data\": {\"nomark\": 1}}", "{\"type\": \"map\", \"data\": {\"@a\": 1, \"@b\": 2}}",
    "{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 1}]}}",
    "{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 9, \"max\": 1, \"count\": 1}]}}",
    "{\"type\": \"attached_probes\", \"data\": {\"n\": 1}}", "{\"type\": \"printf\", \"data\": \"x\"} trailing",
    "{\"type\": \"map\", \"data\": {\"@m\": {\"k\": [1]}}}", "{\"type\": \"map\", \"data\": {\"@m\": {\"k\": true}}}",
};

START_TEST(malformed_lines_are_refused)
{
    ck_assert_msg(parse(malformed[_i]) == -EBADMSG, "accepted: %s", malformed[_i]);
    ck_assert_ptr_null(event.json);
}
END_TEST

START_TEST(blank_lines_are_no_events)
{
    ck_assert_int_eq(parse(""), -ENODATA);
    ck_assert_int_eq(parse("  \r"), -ENODATA);
}
END_TEST

/* ---- keys ---- */

static const enum pyprobe__d_key_type string_int[] = {PYPROBE__D_KEY_STRING, PYPROBE__D_KEY_INT};
static const enum pyprobe__d_key_type int_string_int[] = {PYPROBE__D_KEY_INT, PYPROBE__D_KEY_STRING,
                                                          PYPROBE__D_KEY_INT};
static const enum pyprobe__d_key_type two_strings[] = {PYPROBE__D_KEY_STRING, PYPROBE__D_KEY_STRING};

static void expect_parts(const struct pyprobe__d_span *parts, size_t count, const char *const *expected)
{
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(parts[i].length == strlen(expected[i]) && memcmp(parts[i].text, expected[i], parts[i].length) == 0,
                      "part %zu: %.*s, expected %s", i, (int)parts[i].length, parts[i].text, expected[i]);
}

START_TEST(a_string_may_hold_commas)
{
    static const char text[] = "f(a, b),12";
    struct pyprobe__d_span parts[3];

    ck_assert_int_eq(pyprobe__d_split_key(text, strlen(text), string_int, 2, parts), 0);
    expect_parts(parts, 2, (const char *const[]){"f(a, b)", "12"});
    ck_assert_int_eq(pyprobe__d_split_key("-3,x,y,7", 8, int_string_int, 3, parts), 0);
    expect_parts(parts, 3, (const char *const[]){"-3", "x,y", "7"});
    /* Two strings with commas: the first is taken as short as it can be. */
    ck_assert_int_eq(pyprobe__d_split_key("a,b,c", 5, two_strings, 2, parts), 0);
    expect_parts(parts, 2, (const char *const[]){"a", "b,c"});
    ck_assert_int_eq(pyprobe__d_split_key(",", 1, two_strings, 2, parts), 0);
    expect_parts(parts, 2, (const char *const[]){"", ""});
}
END_TEST

START_TEST(keys_that_do_not_fit_are_refused)
{
    struct pyprobe__d_span parts[3];

    ck_assert_int_eq(pyprobe__d_split_key("abc", 3, string_int, 2, parts), -EBADMSG);
    ck_assert_int_eq(pyprobe__d_split_key("x,1a", 4, string_int, 2, parts), -EBADMSG);
    ck_assert_int_eq(pyprobe__d_split_key("x", 1, string_int, 0, parts), -EBADMSG);
    ck_assert_int_eq(pyprobe__d_split_key("", 0, string_int, 0, parts), 0);
    ck_assert_int_eq(pyprobe__d_split_key("1,", 2, int_string_int, 3, parts), -EBADMSG);
}
END_TEST

int main(void)
{
    const struct test_entry tests[] = {
        {printf_text_with_control_bytes, 0},
        {sign_extended_escapes_are_bytes_again, 0},
        {maps_keyed_and_not, 0},
        {hist_buckets_open_at_the_ends, 0},
        {stats_and_counts, 0},
        {malformed_lines_are_refused, (int)COUNT(malformed)},
        {blank_lines_are_no_events, 0},
        {a_string_may_hold_commas, 0},
        {keys_that_do_not_fit_are_refused, 0},
    };

    return test_run_suite(test_suite("d_events", NULL, NULL, tests, (int)COUNT(tests)));
}
