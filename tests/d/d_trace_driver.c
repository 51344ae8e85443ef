/*
 * The D consumer's run, from a plan to DTrace's output, without the D
 * translation: hand-written bpftrace programs that follow d_data.h's wire
 * protocol (the ATTACHED record, control records, inline segments,
 * print(@map) then the end record), each with the plan a translation would give, run on pint by the
 * library's own resolver, runner and renderer (test_d_trace.py checks
 * what comes out).
 *
 *   d_trace_driver CASE PROVIDER (-c COMMAND | -p PID) [OUTPUT]
 *
 * DTrace's output goes to OUTPUT (appended, as dtrace -o does) or stdout.
 * The probes are found as `PROVIDER$target:::function-entry` would be:
 * for -c in the held command's files, for -p in the process; a case with
 * functions also as `pid$target:MODULE:FUNCTION:entry` would be (the pid
 * provider: the functions' files, by their symbols).
 */
#define _GNU_SOURCE /* asprintf */
#include "d_child.h"
#include "d_resolve.h"
#include "d_session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const enum pyprobe__d_key_type one_string[] = {PYPROBE__D_KEY_STRING};
static const enum pyprobe__d_key_type string_int[] = {PYPROBE__D_KEY_STRING, PYPROBE__D_KEY_INT};
static const struct pyprobe__d_piece part0 = {.part = 0}, part1 = {.part = 1};
static const struct pyprobe__d_column by_name = {.type = PYPROBE__D_KEY_STRING, .pieces = &part0, .piece_count = 1};
/* strjoin(basename(file), ":") joined to the function's name: one D key
 * made of two bpftrace parts and a literal (d_data.h's pieces). */
static const struct pyprobe__d_piece joined_pieces[] = {{.part = 0, .transform = 'B'}, {.literal = ":"}, {.part = 1}};
static const struct pyprobe__d_column joined = {.type = PYPROBE__D_KEY_STRING, .pieces = joined_pieces,
                                                .piece_count = 3};
static const struct pyprobe__d_column by_line = {.type = PYPROBE__D_KEY_INT, .size = 4, .pieces = &part1,
                                                 .piece_count = 1};
static const size_t agg0[] = {0}, agg01[] = {0, 1};

/* A case: the program's text after the BEGIN that prints the ATTACHED
 * record (%1$s the file, %2$d the pid, %3$s the provider; %4$s and %5$s the
 * files of the pid provider's functions: the program's, libpyprobe's), and
 * its plan's parts (the driver adds the ATTACHED action after them). */
struct test_case {
    const char *name;
    const char *program;
    const struct pyprobe__d_plan_aggregation *aggregations;
    size_t aggregation_count;
    const struct pyprobe__d_action *actions;
    size_t action_count;
    struct pyprobe__d_output_options output;
    bool no_begin;              /* no ATTACHED record: the runner must add its own mark */
    const char *module, *function; /* the pid provider's MODULE:FUNCTION, or NULL */
};

/* @[copyinstr(arg1)] = count(); printed at the end as dtrace does. */
static const struct pyprobe__d_plan_aggregation count_agg[] = {
    {.name = "", .fn = PYPROBE__D_COUNT, .maps = {"@a_"}, .part_types = one_string, .part_count = 1,
     .columns = &by_name, .column_count = 1}};
static const struct pyprobe__d_action exit_action[] = {
    {.kind = PYPROBE__D_ACTION_EXIT, .aggregations = agg0, .aggregation_count = 1}};

/* -F: trace(copyinstr(arg1)) on entry and return. */
static const struct pyprobe__d_action flow_actions[] = {
    {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 4, .probe_function = "probe_entry", .probe_name = "function-entry",
     .flow = PYPROBE__D_FLOW_ENTRY},
    {.kind = PYPROBE__D_ACTION_PROBE, .probe_id = 5, .probe_function = "probe_return",
     .probe_name = "function-return", .flow = PYPROBE__D_FLOW_RETURN},
    {.kind = PYPROBE__D_ACTION_EXIT}};

/* The talk's top ten: @[strjoin(...)] = count(); END { trunc(@, 3); }
 * (three here), and a printa() with a format; keys joined from parts. */
static const enum pyprobe__d_key_type two_strings[] = {PYPROBE__D_KEY_STRING, PYPROBE__D_KEY_STRING};
static const struct pyprobe__d_plan_aggregation joined_aggs[] = {
    {.name = "", .fn = PYPROBE__D_COUNT, .maps = {"@a_"}, .part_types = two_strings, .part_count = 2,
     .columns = &joined, .column_count = 1}};
static const struct pyprobe__d_action top_actions[] = {
    {.kind = PYPROBE__D_ACTION_TRUNC, .aggregations = agg0, .aggregation_count = 1, .n = 2, .has_n = 1},
    {.kind = PYPROBE__D_ACTION_EXIT, .aggregations = agg0, .aggregation_count = 1}};
static const struct pyprobe__d_action printa_actions[] = {
    {.kind = PYPROBE__D_ACTION_PRINTA, .format = "%-16s %@5d|\n", .aggregations = agg0, .aggregation_count = 1},
    {.kind = PYPROBE__D_ACTION_EXIT, .aggregations = agg0, .aggregation_count = 1, .script_line = "case:1"}};

/* @calls[fn] = count(); @lines = lquantize(line, 0, 40, 5) keyed by
 * function; printed by the end's dump (both). */
static const struct pyprobe__d_plan_aggregation dump_aggs[] = {
    {.name = "calls", .fn = PYPROBE__D_COUNT, .maps = {"@a_calls"}, .part_types = one_string, .part_count = 1,
     .columns = &by_name, .column_count = 1},
    {.name = "lines", .fn = PYPROBE__D_LQUANTIZE, .maps = {"@a_lines"}, .part_types = one_string, .part_count = 1,
     .columns = &by_name, .column_count = 1, .lq_lower = 0, .lq_upper = 40, .lq_step = 5}};
static const struct pyprobe__d_action dump_actions[] = {
    {.kind = PYPROBE__D_ACTION_EXIT, .aggregations = agg01, .aggregation_count = 2}};

/* Line numbers of fib's `if`, keyed by (file, line) but shown as D keys
 * of the line alone: entries merge (d_consume's key columns). */
static const struct pyprobe__d_plan_aggregation merge_aggs[] = {
    {.name = "", .fn = PYPROBE__D_SUM, .maps = {"@a_"}, .part_types = string_int, .part_count = 2,
     .columns = &by_line, .column_count = 1}};

static const struct test_case cases[] = {
    {"count",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_[str(arg1)] = count(); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_); printf(\"\\x1e\\n\"); clear(@a_); }\n",
     count_agg, 1, exit_action, 1, {0}, false, NULL, NULL},
    {"flow",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { printf(\"\\x1e" "0 %%d\\n\", cpu); printf(\"%%s\", str(arg1)); }\n"
     "usdt:%1$s:%3$s:function__return /pid == %2$d/ { printf(\"\\x1e" "1 %%d\\n\", cpu); printf(\"%%s\", str(arg1)); }\n"
     "END { printf(\"\\x1e" "2\\n\"); printf(\"\\x1e\\n\"); }\n",
     NULL, 0, flow_actions, COUNT(flow_actions), {.quiet = 1, .flowindent = 1}, false, NULL, NULL},
    {"top",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_[str(arg0), str(arg1)] = count(); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_); printf(\"\\x1e\\n\"); clear(@a_);\n"
     "      printf(\"\\x1e" "1\\n\"); print(@a_); printf(\"\\x1e\\n\"); clear(@a_); }\n",
     joined_aggs, 1, top_actions, COUNT(top_actions), {.quiet = 1}, false, NULL, NULL},
    {"printa",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_[str(arg0), str(arg1)] = count(); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_); printf(\"\\x1e\\n\");\n"
     "      printf(\"[\\x1fW-6\\x1d%%s\\x1c|\\x1fW6\\x1d\\x1f" "B\\x1d%%s\\x1c\\x1c]\\n\", \"ab\", \"/x/fib.pint\");\n"
     "      printf(\"\\x1e" "1 3\\n\"); clear(@a_); printf(\"\\x1e\\n\"); }\n",
     joined_aggs, 1, printa_actions, COUNT(printa_actions), {.quiet = 1}, false, NULL, NULL},
    {"dump",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_calls[str(arg1)] = count(); }\n"
     "usdt:%1$s:%3$s:line /pid == %2$d/ { @a_lines[str(arg1)] = lhist(arg2, 0, 40, 5); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_calls); print(@a_lines); printf(\"\\x1e\\n\");\n"
     "      clear(@a_calls); clear(@a_lines); }\n",
     dump_aggs, 2, dump_actions, 1, {.quiet = 1}, false, NULL, NULL},
    {"merge",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d && str(arg1) == \"fib\"/ { @a_[str(arg0), arg2] = sum(1); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_); printf(\"\\x1e\\n\"); clear(@a_); }\n",
     merge_aggs, 1, exit_action, 1, {.quiet = 1}, false, NULL, NULL},
    {"wait",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_[str(arg1)] = count(); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_); printf(\"\\x1e\\n\"); clear(@a_); }\n",
     count_agg, 1, exit_action, 1, {0}, false, NULL, NULL},
    {"noready",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_[str(arg1)] = count(); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_); printf(\"\\x1e\\n\"); clear(@a_); }\n",
     count_agg, 1, exit_action, 1, {0}, true, NULL, NULL},
    {"refused", "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_[nosuch] = count(); }\n", count_agg, 1,
     exit_action, 1, {0}, false, NULL, NULL},
    /* pid$target::fire_entry:entry and pid$target:libpyprobe*:pyprobe_fire_function_entry:entry
     * each fire once per function-entry (the probe enabled by the first clause). */
    {"functions",
     "usdt:%1$s:%3$s:function__entry /pid == %2$d/ { @a_[str(arg1)] = count(); }\n"
     "uprobe:%4$s:fire_entry /pid == %2$d/ { @a_[\"fire_entry\"] = count(); }\n"
     "uprobe:%5$s:pyprobe_fire_function_entry /pid == %2$d/ { @a_[\"pyprobe_fire_function_entry\"] = count(); }\n"
     "END { printf(\"\\x1e" "0\\n\"); print(@a_); printf(\"\\x1e\\n\"); clear(@a_); }\n",
     count_agg, 1, exit_action, 1, {0}, false, "a.out", "fire_entry"},
};

static int interrupt_pipe[2] = {-1, -1};

static void on_interrupt(int signo)
{
    (void)signo;
    if (write(interrupt_pipe[1], "", 1) < 0)
        return;
}

static void notice(void *arg, const char *message)
{
    (void)arg;
    fprintf(stderr, "pyprobe: %s\n", message);
}

/* PYPROBE_READY_FILE: created once every probe is attached (pint waits
 * for it with PINT_WAIT_FOR_TRACER, and so do the tests). */
static void ready(void *arg)
{
    const char *file = getenv("PYPROBE_READY_FILE");
    FILE *f = file ? fopen(file, "w") : NULL;

    (void)arg;
    if (f)
        fclose(f);
}

static const struct test_case *find_case(const char *name)
{
    for (size_t i = 0; i < COUNT(cases); i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct test_case *c = argc == 5 || argc == 6 ? find_case(argv[1]) : NULL;
    FILE *out = argc == 6 ? fopen(argv[5], "a") : stdout;
    struct pyprobe__d_child child;
    bool have_child = c && strcmp(argv[3], "-c") == 0;
    int pid = have_child || !c ? 0 : atoi(argv[4]), status = 0, rc;
    char provider[64], pid_provider[64], message[512], *program = NULL, *text = NULL;
    struct pyprobe__d_action actions[8];
    size_t action_count = c ? c->action_count : 0;
    struct pyprobe__d_probe_spec specs[3] = {{.provider = provider, .name = "function-entry"}};
    size_t spec_count = 1;
    const char *function_file = "", *library_file = "";
    const struct pyprobe__d_match *usdt = NULL;
    struct pyprobe__d_matches matches = {0};

    if (!c) {
        fprintf(stderr, "usage: d_trace_driver CASE PROVIDER (-c COMMAND | -p PID) [OUTPUT]\n");
        return 2;
    }
    if (!out) {
        perror(argv[5]);
        return 1;
    }
    if (have_child && pyprobe__d_child_spawn(argv[4], &child, message, sizeof message) != 0) {
        fprintf(stderr, "pyprobe: %s\n", message);
        return 1;
    }
    snprintf(provider, sizeof provider, "%s%d", argv[2], have_child ? (int)child.pid : pid);
    snprintf(pid_provider, sizeof pid_provider, "pid%d", have_child ? (int)child.pid : pid);
    if (c->function) {
        specs[spec_count++] = (struct pyprobe__d_probe_spec){pid_provider, c->module, c->function, "entry", true};
        specs[spec_count++] = (struct pyprobe__d_probe_spec){pid_provider, "libpyprobe*", "pyprobe_fire_function_e*",
                                                             "entry", true};
    }
    rc = pyprobe__d_resolve(specs, spec_count, &(struct pyprobe__d_targets){.pids = &pid, .pid_count = pid ? 1 : 0,
                                                                           .child = have_child ? &child : NULL},
                            &matches, message, sizeof message);
    for (size_t i = 0; rc == 0 && i < spec_count; i++)
        if (matches.per_spec[i] != 1)
            rc = -ENOENT, snprintf(message, sizeof message, "%zu probes for spec %zu, not 1", matches.per_spec[i], i);
    for (size_t i = 0; rc == 0 && i < matches.count; i++)
        if (matches.items[i].spec == 0)
            usdt = &matches.items[i];
    /* The pid provider's matches: the program's function, and the library's. */
    for (size_t i = 0; rc == 0 && i < matches.count; i++)
        if (matches.items[i].spec == 1)
            function_file = matches.items[i].path;
        else if (matches.items[i].spec == 2)
            library_file = matches.items[i].path;
    if (rc == 0 && c->function && have_child && strcmp(function_file, child.path) != 0)
        rc = -EINVAL, snprintf(message, sizeof message, "%s found in %s, not in %s", c->function, function_file,
                               child.path);
    memcpy(actions, c->actions, action_count * sizeof *actions);
    if (!c->no_begin)
        actions[action_count++] = (struct pyprobe__d_action){.kind = PYPROBE__D_ACTION_ATTACHED};
    if (rc == 0 && asprintf(&text, c->program, usdt->path, usdt->pid, argv[2], function_file, library_file) < 0)
        rc = -ENOMEM;
    if (rc == 0 && c->no_begin)
        program = strdup(text);
    else if (rc == 0 && asprintf(&program, "BEGIN { printf(\"\\x1e%zu\\n\"); }\n%s", c->action_count, text) < 0)
        program = NULL;
    if (rc == 0 && !program)
        rc = -ENOMEM;
    if (rc == 0) {
        struct pyprobe__d_plan plan = {.program = program, .aggregations = c->aggregations,
                                       .aggregation_count = c->aggregation_count, .actions = actions,
                                       .action_count = action_count, .output = c->output};
        struct pyprobe__d_trace trace = {.out = out, .strlen = 100, .pids = &pid, .pid_count = pid ? 1 : 0,
                                         .child = have_child ? &child : NULL, .interrupt_fd = -1,
                                         .notice = notice, .ready = ready};

        if (pipe2(interrupt_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
            signal(SIGINT, on_interrupt);
            trace.interrupt_fd = interrupt_pipe[0];
        }
        rc = pyprobe__d_trace_plan(&plan, &trace, &status, message, sizeof message);
    }
    if (rc != 0)
        fprintf(stderr, "pyprobe: %s\n", message);
    if (have_child) {
        pyprobe__d_child_cancel(&child);
        pyprobe__d_child_free(&child);
    }
    pyprobe__d_matches_free(&matches);
    free(text);
    free(program);
    if (out != stdout && fclose(out) != 0)
        rc = -EIO;
    return rc ? 1 : status;
}
