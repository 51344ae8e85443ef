/*
 * Unit tests of DTrace's output (src/d/d_render.h) on hand-built plans and
 * aggregation data (d_data.h). Each expected text is DTrace's, worked out
 * from the illumos libdtrace function named beside it:
 *   dt_print_aggs, dt_print_datum, dt_print_bytes    the default layout:
 *       a string key "  %-50s", an integer " %16lld" (" %8d" for 4 bytes),
 *       each value " %16lld", "\n"; printa() without a format starts "\n"
 *   dt_print_quantize, dt_print_lquantize, dt_print_quantline
 *       "\n%16s %41s %-9s\n" then rows "%16lld |" + '@' per 40th of the
 *       total (rounded) + spaces to 40 + " %-9lld\n", from the bin before
 *       the first with data to the bin after the last
 *   dt_aggregate_varvalcmp / valkeycmp / keycmp      the order: by value,
 *       then by key; aggsortkey: by key; aggsortrev: reversed
 *   dt_trunc, dt_clear_agg, dt_normalize             what survives
 *   dt_printf_format                                 printa() formats
 *   cmd/dtrace/dtrace.c chew, chewrec, dt_flowindent  records and -F
 */
#define _GNU_SOURCE /* open_memstream */
#include "d_capture.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static struct capture cap;
#define render (cap.render)

static void start(const struct pyprobe__d_plan *plan)
{
    capture_start(&cap, plan);
}

static const char *printed(void)
{
    return capture_text(&cap);
}

static void stop(void)
{
    capture_stop(&cap);
}

/* Runs action `action` with one aggregation's data. */
static int act(size_t action, const struct pyprobe__d_aggregation *data)
{
    const struct pyprobe__d_aggregation *all[] = {data};

    return pyprobe__d_render_action(render, action, NULL, 0, all);
}

static int act_with(size_t action, int64_t integer)
{
    return pyprobe__d_render_action(render, action, &integer, 1, NULL);
}

/* ---- plans ---- */

static const struct pyprobe__d_piece part0 = {.part = 0};
static const struct pyprobe__d_column string_key = {.type = PYPROBE__D_KEY_STRING, .pieces = &part0, .piece_count = 1};
static const struct pyprobe__d_column int4_key = {.type = PYPROBE__D_KEY_INT, .size = 4, .pieces = &part0,
                                                  .piece_count = 1};
static const struct pyprobe__d_column int8_key = {.type = PYPROBE__D_KEY_INT, .size = 8, .pieces = &part0,
                                                  .piece_count = 1};
static const enum pyprobe__d_key_type one_string[] = {PYPROBE__D_KEY_STRING};

#define AGG(NAME, FN, COLUMN) \
    {.name = NAME, .fn = FN, .maps = {"@a_" NAME}, .part_types = one_string, .part_count = 1, \
     .columns = COLUMN, .column_count = 1}

static const size_t agg0[] = {0}, agg1[] = {1}, agg01[] = {0, 1};

/* Actions 0-6 on aggregation 0: printa, printa with a format, trunc(@, 2),
 * clear, normalize, denormalize; then exit, which prints all. */
#define AGG_ACTIONS(FORMAT)                                                                   \
    {                                                                                         \
        {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg0, .aggregation_count = 1},     \
        {.kind = PYPROBE__D_ACTION_PRINTA, .format = FORMAT, .aggregations = agg0,             \
         .aggregation_count = 1},                                                             \
        {.kind = PYPROBE__D_ACTION_TRUNC, .aggregations = agg0, .aggregation_count = 1,       \
         .n = 2, .has_n = 1},                                                                 \
        {.kind = PYPROBE__D_ACTION_CLEAR, .aggregations = agg0, .aggregation_count = 1},      \
        {.kind = PYPROBE__D_ACTION_NORMALIZE, .aggregations = agg0, .aggregation_count = 1},  \
        {.kind = PYPROBE__D_ACTION_DENORMALIZE, .aggregations = agg0, .aggregation_count = 1}, \
        {.kind = PYPROBE__D_ACTION_EXIT, .aggregations = agg01, .aggregation_count = 2},      \
    }
enum { PRINTA, PRINTA_FORMAT, TRUNC, CLEAR, NORMALIZE, DENORMALIZE, EXIT };

static const struct pyprobe__d_plan_aggregation count_and_sum[] = {
    AGG("calls", PYPROBE__D_COUNT, &string_key),
    {.name = "bytes", .fn = PYPROBE__D_SUM, .maps = {"@a_bytes"}, .part_types = one_string, .part_count = 1,
     .columns = &int4_key, .column_count = 1},
};
static const struct pyprobe__d_action count_actions[] = AGG_ACTIONS("%-10s %@8d\n");
static struct pyprobe__d_plan count_plan = {.aggregations = count_and_sum, .aggregation_count = 2,
                                            .actions = count_actions, .action_count = COUNT(count_actions)};

/* ---- data ---- */

#define SKEY(S) {.type = PYPROBE__D_KEY_STRING, .string = S}
#define IKEY(I) {.type = PYPROBE__D_KEY_INT, .integer = I}

static struct pyprobe__d_key k_foo[] = {SKEY("foo")}, k_bar[] = {SKEY("bar")}, k_baz[] = {SKEY("baz")};
static struct pyprobe__d_key k_42[] = {IKEY(42)}, k_7[] = {IKEY(7)};

static struct pyprobe__d_entry calls_entries[] = {
    {.keys = k_foo, .key_count = 1, .value = 3},
    {.keys = k_bar, .key_count = 1, .value = 1},
    {.keys = k_baz, .key_count = 1, .value = 3},
};
static const struct pyprobe__d_aggregation calls = {.name = "calls", .fn = PYPROBE__D_COUNT,
                                                    .entries = calls_entries, .entry_count = 3};

START_TEST(printa_default_layout_sorts_by_value_then_key)
{
    start(&count_plan);
    ck_assert_int_eq(act(PRINTA, &calls), 0);
    ck_assert_str_eq(printed(), "\n" "  bar                                                               1\n"
                                     "  baz                                                               3\n"
                                     "  foo                                                               3\n");
    stop();
}
END_TEST

START_TEST(exit_prints_a_newline_and_only_unprinted_aggregations)
{
    static struct pyprobe__d_entry bytes_entries[] = {{.keys = k_42, .key_count = 1, .value = 7},
                                                      {.keys = k_7, .key_count = 1, .value = 9}};
    static const struct pyprobe__d_aggregation bytes = {.fn = PYPROBE__D_SUM, .entries = bytes_entries,
                                                        .entry_count = 2};
    const struct pyprobe__d_aggregation *all[] = {&calls, &bytes};
    int status = -1;

    start(&count_plan);
    ck_assert_int_eq(act(PRINTA, &calls), 0);
    ck_assert_int_eq(pyprobe__d_render_action(render, EXIT, (int64_t[]){3}, 1, all), 0);
    /* dtrace.c: "\n" after its loop, then dtrace_aggregate_print skips the
     * printed @calls; a 4-byte key is " %8d" (dt_print_datum). */
    ck_assert_str_eq(printed(), "\n" "  bar                                                               1\n"
                                     "  baz                                                               3\n"
                                     "  foo                                                               3\n"
                                     "\n"
                                     "       42                7\n"
                                     "        7                9\n");
    ck_assert_int_eq(pyprobe__d_render_exited(render, &status), 1);
    ck_assert_int_eq(status, 3);
    stop();
}
END_TEST

START_TEST(an_eight_byte_key_is_sixteen_wide_and_sorts_unsigned)
{
    static const struct pyprobe__d_plan_aggregation aggs[] = {AGG("n", PYPROBE__D_COUNT, &int8_key)};
    static const struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 1,
                                                .actions = count_actions, .action_count = 1};
    static struct pyprobe__d_key k_minus3[] = {IKEY(-3)}, k_2[] = {IKEY(2)};
    static struct pyprobe__d_entry entries[] = {{.keys = k_minus3, .key_count = 1, .value = 1},
                                                {.keys = k_2, .key_count = 1, .value = 1}};
    static const struct pyprobe__d_aggregation data = {.entries = entries, .entry_count = 2};

    start(&plan);
    /* dt_aggregate_keycmp reads keys as uint64_t: -3 sorts after 2. */
    ck_assert_int_eq(act(PRINTA, &data), 0);
    ck_assert_str_eq(printed(), "\n                2                1\n"
                                "               -3                1\n");
    stop();
}
END_TEST

START_TEST(aggsortkey_and_aggsortrev_change_the_order)
{
    struct pyprobe__d_plan plan = count_plan;

    plan.output.aggsortkey = 1;
    start(&plan);
    ck_assert_int_eq(act(PRINTA, &calls), 0);
    ck_assert_str_eq(printed(), "\n" "  bar                                                               1\n"
                                     "  baz                                                               3\n"
                                     "  foo                                                               3\n");
    stop();
    plan.output.aggsortkey = 0;
    plan.output.aggsortrev = 1;
    start(&plan);
    ck_assert_int_eq(act(PRINTA, &calls), 0);
    ck_assert_str_eq(printed(), "\n" "  foo                                                               3\n"
                                     "  baz                                                               3\n"
                                     "  bar                                                               1\n");
    stop();
}
END_TEST

START_TEST(printa_with_a_format)
{
    start(&count_plan);
    /* dt_printf_format: no leading newline; %-10s takes the key, %@8d the value. */
    ck_assert_int_eq(act(PRINTA_FORMAT, &calls), 0);
    ck_assert_str_eq(printed(), "bar               1\n"
                                "baz               3\n"
                                "foo               3\n");
    stop();
}
END_TEST

START_TEST(trunc_keeps_the_top_and_adds_later_data)
{
    static struct pyprobe__d_key k_a[] = {SKEY("a")}, k_b[] = {SKEY("b")}, k_c[] = {SKEY("c")};
    static struct pyprobe__d_entry first[] = {{.keys = k_a, .key_count = 1, .value = 5},
                                              {.keys = k_b, .key_count = 1, .value = 3},
                                              {.keys = k_c, .key_count = 1, .value = 1}};
    static struct pyprobe__d_entry later[] = {{.keys = k_c, .key_count = 1, .value = 10},
                                              {.keys = k_a, .key_count = 1, .value = 1}};
    static const struct pyprobe__d_aggregation d1 = {.entries = first, .entry_count = 3};
    static const struct pyprobe__d_aggregation d2 = {.entries = later, .entry_count = 2};

    start(&count_plan);
    ck_assert_int_eq(act(TRUNC, &d1), 0);
    ck_assert_str_eq(printed(), ""); /* trunc() prints nothing */
    /* a=5 and b=3 survive; bpftrace's map was cleared, so c=10, a=1 are new. */
    ck_assert_int_eq(act(PRINTA, &d2), 0);
    ck_assert_str_eq(printed(), "\n" "  b                                                                 3\n"
                                     "  a                                                                 6\n"
                                     "  c                                                                10\n");
    stop();
}
END_TEST

START_TEST(trunc_without_a_count_removes_everything)
{
    struct pyprobe__d_plan plan = count_plan;
    struct pyprobe__d_action actions[COUNT(count_actions)];

    memcpy(actions, count_actions, sizeof actions);
    actions[TRUNC].has_n = 0;
    plan.actions = actions;
    start(&plan);
    ck_assert_int_eq(act(TRUNC, &calls), 0);
    ck_assert_int_eq(act(PRINTA, NULL), 0);
    ck_assert_str_eq(printed(), "\n");
    stop();
}
END_TEST

START_TEST(clear_keeps_the_keys_with_zero_values)
{
    static struct pyprobe__d_entry fresh[] = {{.keys = k_bar, .key_count = 1, .value = 1}};
    static const struct pyprobe__d_aggregation later = {.entries = fresh, .entry_count = 1};

    start(&count_plan);
    ck_assert_int_eq(act(CLEAR, &calls), 0);
    ck_assert_int_eq(act(PRINTA, &later), 0);
    ck_assert_str_eq(printed(), "\n" "  baz                                                               0\n"
                                     "  foo                                                               0\n"
                                     "  bar                                                               1\n");
    stop();
}
END_TEST

START_TEST(normalize_divides_until_denormalize)
{
    static struct pyprobe__d_entry sums[] = {{.keys = k_foo, .key_count = 1, .value = 3000},
                                             {.keys = k_bar, .key_count = 1, .value = 1999}};
    static const struct pyprobe__d_aggregation data = {.entries = sums, .entry_count = 2};

    start(&count_plan);
    ck_assert_int_eq(act_with(NORMALIZE, 1000), 0);
    ck_assert_int_eq(act(PRINTA, &data), 0);
    ck_assert_int_eq(act(DENORMALIZE, NULL), 0);
    ck_assert_int_eq(act(PRINTA, &data), 0);
    ck_assert_str_eq(printed(), "\n" "  bar                                                               1\n"
                                     "  foo                                                               3\n"
                                     "\n" "  bar                                                            1999\n"
                                     "  foo                                                            3000\n");
    ck_assert_int_eq(act_with(NORMALIZE, 0), -EINVAL);
    stop();
}
END_TEST

/* ---- quantize, lquantize, avg ---- */

static const struct pyprobe__d_plan_aggregation q_aggs[] = {
    {.name = "", .fn = PYPROBE__D_QUANTIZE, .maps = {"@a_"}},
    {.name = "lq", .fn = PYPROBE__D_LQUANTIZE, .maps = {"@a_lq"}, .lq_lower = 0, .lq_upper = 10, .lq_step = 2},
};
static const struct pyprobe__d_action q_actions[] = {
    {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg0, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg1, .aggregation_count = 1},
};
static const struct pyprobe__d_plan q_plan = {.aggregations = q_aggs, .aggregation_count = 2, .actions = q_actions,
                                              .action_count = 2};

START_TEST(quantize_table)
{
    /* bpftrace's hist() buckets [1,1] x1, [2,3] x2, [4,7] x1: DTrace's bins
     * 1, 2, 4; shown from 0 to 8; depth = count * 40 / 4. */
    static struct pyprobe__d_bucket buckets[] = {{1, 1, 1}, {2, 3, 2}, {4, 7, 1}, {8, 15, 0}};
    static struct pyprobe__d_entry entry = {.buckets = buckets, .bucket_count = 4};
    static const struct pyprobe__d_aggregation data = {.entries = &entry, .entry_count = 1};

    start(&q_plan);
    ck_assert_int_eq(act(0, &data), 0);
    ck_assert_str_eq(printed(), "\n"
                                "\n           value  ------------- Distribution ------------- count    \n"
                                "               0 |                                         0        \n"
                                "               1 |@@@@@@@@@@                               1        \n"
                                "               2 |@@@@@@@@@@@@@@@@@@@@                     2        \n"
                                "               4 |@@@@@@@@@@                               1        \n"
                                "               8 |                                         0        \n"
                                "\n");
    stop();
}
END_TEST

START_TEST(quantize_after_clear_shows_the_bins_around_zero)
{
    static struct pyprobe__d_bucket buckets[] = {{4, 7, 3}};
    static struct pyprobe__d_entry entry = {.buckets = buckets, .bucket_count = 1};
    static const struct pyprobe__d_aggregation data = {.entries = &entry, .entry_count = 1};
    static const struct pyprobe__d_action actions[] = {
        {.kind = PYPROBE__D_ACTION_CLEAR, .aggregations = agg0, .aggregation_count = 1},
        {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg0, .aggregation_count = 1},
    };
    struct pyprobe__d_plan plan = q_plan;

    plan.actions = actions;
    start(&plan);
    ck_assert_int_eq(act(0, &data), 0);
    ck_assert_int_eq(act(1, NULL), 0);
    /* dt_print_quantize: no data left, rows -1, 0, 1, no bars. */
    ck_assert_str_eq(printed(), "\n"
                                "\n           value  ------------- Distribution ------------- count    \n"
                                "              -1 |                                         0        \n"
                                "               0 |                                         0        \n"
                                "               1 |                                         0        \n"
                                "\n");
    stop();
}
END_TEST

START_TEST(quantize_of_negative_values_is_refused)
{
    static struct pyprobe__d_bucket buckets[] = {{INT64_MIN, -1, 2}, {1, 1, 1}};
    static struct pyprobe__d_entry entry = {.buckets = buckets, .bucket_count = 2};
    static const struct pyprobe__d_aggregation data = {.entries = &entry, .entry_count = 1};

    start(&q_plan);
    ck_assert_int_eq(act(0, &data), -ERANGE);
    stop();
}
END_TEST

START_TEST(lquantize_table)
{
    /* lquantize(x, 0, 10, 2) of 1, 5 and 12: bins "0", "4", ">= 10". */
    static struct pyprobe__d_bucket buckets[] = {{0, 1, 1}, {2, 3, 0}, {4, 5, 1}, {10, INT64_MAX, 1}};
    static struct pyprobe__d_entry entry = {.buckets = buckets, .bucket_count = 4};
    static const struct pyprobe__d_aggregation data = {.entries = &entry, .entry_count = 1};

    start(&q_plan);
    ck_assert_int_eq(act(1, &data), 0);
    ck_assert_str_eq(printed(), "\n"
                                "\n           value  ------------- Distribution ------------- count    \n"
                                "             < 0 |                                         0        \n"
                                "               0 |@@@@@@@@@@@@@                            1        \n"
                                "               2 |                                         0        \n"
                                "               4 |@@@@@@@@@@@@@                            1        \n"
                                "               6 |                                         0        \n"
                                "               8 |                                         0        \n"
                                "           >= 10 |@@@@@@@@@@@@@                            1        \n"
                                "\n");
    stop();
}
END_TEST

START_TEST(a_keyed_quantize_prints_the_key_line_first)
{
    static struct pyprobe__d_bucket buckets[] = {{0, 0, 2}};
    static struct pyprobe__d_entry entry = {.keys = k_foo, .key_count = 1, .buckets = buckets, .bucket_count = 1};
    static const struct pyprobe__d_aggregation data = {.entries = &entry, .entry_count = 1};
    static const struct pyprobe__d_plan_aggregation aggs[] = {AGG("q", PYPROBE__D_QUANTIZE, &string_key)};
    struct pyprobe__d_plan plan = q_plan;

    plan.aggregations = aggs;
    plan.aggregation_count = 1;
    plan.action_count = 1;
    start(&plan);
    ck_assert_int_eq(act(0, &data), 0);
    ck_assert_str_eq(printed(), "\n"
                                "  foo                                               "
                                "\n           value  ------------- Distribution ------------- count    \n"
                                "              -1 |                                         0        \n"
                                "               0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 2        \n"
                                "               1 |                                         0        \n"
                                "\n");
    stop();
}
END_TEST

START_TEST(avg_min_max_values)
{
    static const struct pyprobe__d_plan_aggregation aggs[] = {
        AGG("avg", PYPROBE__D_AVG, &string_key), AGG("min", PYPROBE__D_MIN, &string_key),
        AGG("max", PYPROBE__D_MAX, &string_key)};
    static const size_t agg2[] = {2};
    static const struct pyprobe__d_action actions[] = {
        {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg0, .aggregation_count = 1},
        {.kind = PYPROBE__D_ACTION_CLEAR, .aggregations = agg2, .aggregation_count = 1},
        {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg2, .aggregation_count = 1}};
    static const struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 3, .actions = actions,
                                                .action_count = 3};
    static struct pyprobe__d_entry avg_entry = {.keys = k_foo, .key_count = 1, .value = 11, .count = 3};
    static struct pyprobe__d_entry max_entry = {.keys = k_foo, .key_count = 1, .value = -5};
    static const struct pyprobe__d_aggregation avg = {.entries = &avg_entry, .entry_count = 1};
    static const struct pyprobe__d_aggregation max = {.entries = &max_entry, .entry_count = 1};

    start(&plan);
    ck_assert_int_eq(act(0, &avg), 0); /* dt_print_average: 11 / 3 */
    /* clear() zeroes a max; later data merge with the zero (dt_aggregate_max). */
    ck_assert_int_eq(act(1, &max), 0);
    ck_assert_int_eq(act(2, &max), 0);
    ck_assert_str_eq(printed(), "\n" "  foo                                                               3\n"
                                "\n" "  foo                                                               0\n");
    stop();
}
END_TEST

START_TEST(an_empty_or_non_ascii_string_key_is_a_hex_dump)
{
    static struct pyprobe__d_key k_empty[] = {SKEY("")};
    static struct pyprobe__d_entry entry = {.keys = k_empty, .key_count = 1, .value = 1};
    static const struct pyprobe__d_aggregation data = {.entries = &entry, .entry_count = 1};
    static struct pyprobe__d_key k_accented[] = {SKEY("\xc3\xa9")};
    static struct pyprobe__d_entry accented_entry = {.keys = k_accented, .key_count = 1, .value = 1};
    static const struct pyprobe__d_aggregation accented = {.entries = &accented_entry, .entry_count = 1};
    static const char head[] = "\n\n             0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f  0123456789abcdef\n"
                               "         0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................\n";
    static const char tail[] = "        f0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................\n"
                               "                1\n";
    const char *s;

    start(&count_plan);
    ck_assert_int_eq(act(PRINTA, &data), 0);
    s = printed();
    /* dt_print_bytes: an empty string's first byte is its nul: the hex
     * dump of the 256-byte record, then the value. */
    ck_assert_msg(strncmp(s, head, strlen(head)) == 0, "got %s", s);
    ck_assert_ptr_nonnull(strstr(s, tail));
    stop();
    /* isprint() of the C locale: no byte of 0x80 or more is text. */
    start(&count_plan);
    ck_assert_int_eq(act(PRINTA, &accented), 0);
    ck_assert_ptr_nonnull(strstr(printed(), "\n         0: c3 a9 00 00 00 00 00 00 00 00 00 00 00 00 00 00  "
                                            "................\n"));
    stop();
}
END_TEST

START_TEST(joined_printa_fills_missing_values_with_zero)
{
    static struct pyprobe__d_key k_x[] = {SKEY("x")}, k_y[] = {SKEY("y")}, k_z[] = {SKEY("z")};
    static struct pyprobe__d_entry a_entries[] = {{.keys = k_x, .key_count = 1, .value = 1},
                                                  {.keys = k_y, .key_count = 1, .value = 2}};
    static struct pyprobe__d_entry b_entries[] = {{.keys = k_x, .key_count = 1, .value = 10},
                                                  {.keys = k_z, .key_count = 1, .value = 5}};
    static const struct pyprobe__d_aggregation a = {.entries = a_entries, .entry_count = 2};
    static const struct pyprobe__d_aggregation b = {.entries = b_entries, .entry_count = 2};
    static const struct pyprobe__d_plan_aggregation aggs[] = {AGG("a", PYPROBE__D_COUNT, &string_key),
                                                              AGG("b", PYPROBE__D_SUM, &string_key)};
    static const struct pyprobe__d_action actions[] = {
        {.kind = PYPROBE__D_ACTION_PRINTA, .aggregations = agg01, .aggregation_count = 2},
        {.kind = PYPROBE__D_ACTION_PRINTA, .format = "%s %@d/%@d\n", .aggregations = agg01, .aggregation_count = 2}};
    static const struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 2, .actions = actions,
                                                .action_count = 2};
    const struct pyprobe__d_aggregation *both[] = {&a, &b};

    start(&plan);
    /* dtrace_aggregate_walk_joined: bundles by key, sorted by @a's value. */
    ck_assert_int_eq(pyprobe__d_render_action(render, 0, NULL, 0, both), 0);
    ck_assert_int_eq(pyprobe__d_render_action(render, 1, NULL, 0, both), 0);
    ck_assert_str_eq(printed(), "\n"
                                "  z                                                                 0                5\n"
                                "  x                                                                 1               10\n"
                                "  y                                                                 2                0\n"
                                "z 0/5\nx 1/10\ny 2/0\n");
    stop();
}
END_TEST

START_TEST(printa_formats_convert_keys_and_values)
{
    static const struct pyprobe__d_column columns[] = {
        {.type = PYPROBE__D_KEY_STRING, .pieces = &part0, .piece_count = 1},
        {.type = PYPROBE__D_KEY_INT, .size = 4, .pieces = &part0, .piece_count = 1}};
    static const struct pyprobe__d_plan_aggregation aggs[] = {
        {.name = "c", .fn = PYPROBE__D_COUNT, .maps = {"@a_c"}, .part_types = one_string, .part_count = 1,
         .columns = columns, .column_count = 2}};
    static const struct pyprobe__d_action actions[] = {
        {.kind = PYPROBE__D_ACTION_PRINTA, .format = "[%-6s|%5d|%@u|%%]\n", .aggregations = agg0,
         .aggregation_count = 1},
        {.kind = PYPROBE__D_ACTION_PRINTA, .format = "[%S|%x]", .aggregations = agg0, .aggregation_count = 1},
        {.kind = PYPROBE__D_ACTION_PRINTA, .format = "%s %d %d\n", .aggregations = agg0, .aggregation_count = 1},
        {.kind = PYPROBE__D_ACTION_PRINTA, .format = "%a %@d\n", .aggregations = agg0, .aggregation_count = 1}};
    static const struct pyprobe__d_plan plan = {.aggregations = aggs, .aggregation_count = 1, .actions = actions,
                                                .action_count = 4};
    static struct pyprobe__d_key keys[] = {SKEY("a\tb"), IKEY(-1)};
    static struct pyprobe__d_entry entry = {.keys = keys, .key_count = 2, .value = 12};
    static const struct pyprobe__d_aggregation data = {.entries = &entry, .entry_count = 1};

    start(&plan);
    ck_assert_int_eq(act(0, &data), 0);
    /* %S escapes (strchr2esc); %x of a 4-byte key is 32 bits (pfprint_uint). */
    ck_assert_int_eq(act(1, &data), 0);
    ck_assert_str_eq(printed(), "[a\tb   |   -1|12|%]\n[a\\tb|ffffffff]");
    /* A third key conversion with two keys is refused after what came before. */
    ck_assert_int_eq(act(2, &data), -EINVAL);
    ck_assert_str_eq(printed(), "[a\tb   |   -1|12|%]\n[a\\tb|ffffffff]a\tb -1 ");
    ck_assert_int_eq(act(3, &data), -ENOTSUP);
    stop();
}
END_TEST

/* ---- records and user output ---- */

static const struct pyprobe__d_action flow_actions[] = {
    {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 10, .probe_function = "PyEval", .probe_name = "function-entry",
     .flow = PYPROBE__D_FLOW_ENTRY},
    {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 11, .probe_function = "PyEval", .probe_name = "function-return",
     .flow = PYPROBE__D_FLOW_RETURN},
    {.kind = PYPROBE__D_ACTION_EXIT},
};
static const struct pyprobe__d_plan flow_plan = {.actions = flow_actions, .action_count = 3,
                                                 .output = {.quiet = 1, .flowindent = 1}};

/* Each record's output, and unless quiet the newline that the
 * translation prints to end a record (d_data.h; dtrace's chewrec). */
static void record_output(const char *text, bool quiet)
{
    ck_assert_int_eq(pyprobe__d_render_output(render, text, strlen(text)), 0);
    if (!quiet)
        ck_assert_int_eq(pyprobe__d_render_output(render, "\n", 1), 0);
}

static void run_flow(bool quiet)
{
    static const struct {
        size_t action;
        const char *text;
    } steps[] = {{0, "foo"}, {0, "bar"}, {1, "bar"}, {1, "foo"}};

    for (size_t i = 0; i < COUNT(steps); i++) {
        ck_assert_int_eq(act_with(steps[i].action, 0), 0);
        record_output(steps[i].text, quiet);
    }
    ck_assert_int_eq(act(2, NULL), 0);
}

START_TEST(flowindent_quiet_has_prefixes_and_no_newlines)
{
    start(&flow_plan);
    run_flow(true);
    ck_assert_str_eq(printed(), "CPU FUNCTION                                 \n"
                                "  0  -> PyEval                                foo"
                                "  0    -> PyEval                              bar"
                                "  0    <- PyEval                              bar"
                                "  0  <- PyEval                                foo"
                                "\n");
    stop();
}
END_TEST

START_TEST(flowindent_ends_each_record_unless_quiet)
{
    struct pyprobe__d_plan plan = flow_plan;

    plan.output.quiet = 0;
    start(&plan);
    run_flow(false);
    ck_assert_str_eq(printed(), "CPU FUNCTION                                 \n"
                                "  0  -> PyEval                                foo\n"
                                "  0    -> PyEval                              bar\n"
                                "  0    <- PyEval                              bar\n"
                                "  0  <- PyEval                                foo\n"
                                "\n");
    stop();
}
END_TEST

START_TEST(two_clauses_of_one_probe_indent_once)
{
    /* dt_flowindent: a second clause of the probe just entered, and a
     * return followed by another clause of its probe, are "| " records. */
    static const struct pyprobe__d_action actions[] = {
        {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 10, .probe_function = "PyEval", .probe_name = "function-entry",
         .flow = PYPROBE__D_FLOW_ENTRY},
        {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 10, .probe_function = "PyEval", .probe_name = "function-entry",
         .flow = PYPROBE__D_FLOW_ENTRY},
        {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 11, .probe_function = "PyEval", .probe_name = "function-return",
         .flow = PYPROBE__D_FLOW_RETURN},
        {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 11, .probe_function = "PyEval", .probe_name = "function-return",
         .flow = PYPROBE__D_FLOW_RETURN},
        {.kind = PYPROBE__D_ACTION_EXIT}};
    static const struct pyprobe__d_plan plan = {.actions = actions, .action_count = 5, .output = {.flowindent = 1}};
    static const char *const texts[] = {"a", "b", "c", "d"};

    start(&plan);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(act_with(i, 0), 0);
        record_output(texts[i], false);
    }
    ck_assert_int_eq(act(4, NULL), 0);
    ck_assert_str_eq(printed(), "CPU FUNCTION                                 \n"
                                "  0  -> PyEval                                a\n"
                                "  0   | PyEval:function-entry                 b\n"
                                "  0   | PyEval:function-return                c\n"
                                "  0  <- PyEval                                d\n"
                                "\n");
    stop();
}
END_TEST

START_TEST(default_layout_has_cpu_id_and_function_name)
{
    struct pyprobe__d_plan plan = flow_plan;

    plan.output.quiet = 0;
    plan.output.flowindent = 0;
    start(&plan);
    ck_assert_int_eq(act_with(0, 1), 0);
    record_output("foo\n", false);
    ck_assert_int_eq(act(2, NULL), 0);
    /* chew: "%3d %6d %32s "; chewrec's "\n" after the record's data. */
    ck_assert_str_eq(printed(), "CPU     ID                    FUNCTION:NAME\n"
                                "  1     10            PyEval:function-entry foo\n"
                                "\n"
                                "\n");
    stop();
}
END_TEST

START_TEST(interrupt_prints_one_newline_before_the_end)
{
    start(&count_plan);
    ck_assert_int_eq(pyprobe__d_render_output(render, "x", 1), 0);
    pyprobe__d_render_interrupted(render);
    pyprobe__d_render_interrupted(render);
    ck_assert_int_eq(pyprobe__d_render_action(render, EXIT, NULL, 0, NULL), 0);
    ck_assert_str_eq(printed(), "x\n\n");
    stop();
}
END_TEST

START_TEST(segments_give_widths_and_path_parts)
{
    static const char input[] = "<\x1fW-8\x1d" "ab\x1c|\x1fW5\x1d\x1f" "B\x1d/a/b/c.py\x1c\x1c|\x1f" "D\x1d/a/b/\x1c"
                                "|\x1f" "B\x1d\x1c|\x1f" "D\x1d" "file\x1c|\x1f" "B\x1d///\x1c>";

    start(&count_plan);
    ck_assert_int_eq(pyprobe__d_render_output(render, input, sizeof input - 1), 0);
    ck_assert_str_eq(printed(), "<ab      | c.py|/a|.|.|/>");
    stop();
}
END_TEST

START_TEST(a_malformed_segment_prints_nothing)
{
    static const char *const bad[] = {"a\x1c", "\x1fW5\x1dunterminated", "\x1fWx\x1dx\x1c", "\x1fQ\x1dx\x1c",
                                      "\x1f", "\x1fW5"};

    start(&count_plan);
    for (size_t i = 0; i < COUNT(bad); i++)
        ck_assert_int_eq(pyprobe__d_render_output(render, bad[i], strlen(bad[i])), -EBADMSG);
    ck_assert_str_eq(printed(), "");
    stop();
}
END_TEST

START_TEST(an_action_the_plan_lacks_is_invalid)
{
    start(&count_plan);
    ck_assert_int_eq(act(99, NULL), -EINVAL);
    stop();
}
END_TEST

int main(void)
{
    const struct test_entry tests[] = {
        {printa_default_layout_sorts_by_value_then_key, 0},
        {exit_prints_a_newline_and_only_unprinted_aggregations, 0},
        {an_eight_byte_key_is_sixteen_wide_and_sorts_unsigned, 0},
        {aggsortkey_and_aggsortrev_change_the_order, 0},
        {printa_with_a_format, 0},
        {trunc_keeps_the_top_and_adds_later_data, 0},
        {trunc_without_a_count_removes_everything, 0},
        {clear_keeps_the_keys_with_zero_values, 0},
        {normalize_divides_until_denormalize, 0},
        {quantize_table, 0},
        {quantize_after_clear_shows_the_bins_around_zero, 0},
        {quantize_of_negative_values_is_refused, 0},
        {lquantize_table, 0},
        {a_keyed_quantize_prints_the_key_line_first, 0},
        {avg_min_max_values, 0},
        {an_empty_or_non_ascii_string_key_is_a_hex_dump, 0},
        {joined_printa_fills_missing_values_with_zero, 0},
        {printa_formats_convert_keys_and_values, 0},
        {flowindent_quiet_has_prefixes_and_no_newlines, 0},
        {flowindent_ends_each_record_unless_quiet, 0},
        {two_clauses_of_one_probe_indent_once, 0},
        {default_layout_has_cpu_id_and_function_name, 0},
        {interrupt_prints_one_newline_before_the_end, 0},
        {segments_give_widths_and_path_parts, 0},
        {a_malformed_segment_prints_nothing, 0},
        {an_action_the_plan_lacks_is_invalid, 0},
    };

    return test_run_suite(test_suite("d_render", NULL, NULL, tests, (int)COUNT(tests)));
}
