/*
 * test_d_translate: D to bpftrace 0.17 (src/d/d_translate.c, d_emit.c):
 * each feature's bpftrace text and its plan (d_data.h), on made-up probes
 * (d_test_util.h). test_d_bpftrace.py proves that bpftrace takes the
 * programs; these prove what they say.
 */
#include <stdio.h>

#include "d_syscalls.h"
#include "d_test_util.h"
#include "test_run.h"

static const struct pyprobe__d_translate_options quiet = {.output = {.quiet = 1}, .walltime_offset_ns = 5};

/* One D text and what its bpftrace program must hold (lines or parts). */
static const struct {
    const char *d;
    const char *want[4];
} features[] = {
    /* probes */
    {"BEGIN { x = 1; } END { x = 2; }", {"BEGIN\n{", "END\n{", "@g_x = 2;"}},
    {"tick-1sec { }", {"interval:s:1\n"}},
    {"tick-250ms { } profile-97 { }", {"interval:ms:250\n", "profile:hz:97\n"}},
    {"profile:::tick-10hz { } tick-500us { } tick-2m { }", {"interval:hz:10\n", "interval:us:500\n",
                                                             "interval:s:120\n"}},
    {"python*:::gc-start { }", {"usdt:" TEST_LIBRARY ":python:gc__start\n"}},
    {"proc:::exec-success { } proc:::exit { }", {"tracepoint:sched:sched_process_exec\n",
                                                 "tracepoint:sched:sched_process_exit\n",
                                                 "if ((int64)pid == (int64)tid) {"}},
    {"pid$target::malloc:entry { trace(arg0); }", {"uprobe:" TEST_PROGRAM ":malloc\n", "(int64)pid == 77",
                                                   "printf(\"%lld\", (int64)arg0);"}},
    {"pid$target::malloc:return { trace(arg1); }", {"uretprobe:" TEST_PROGRAM ":malloc\n",
                                                    "printf(\"%lld\", (int64)retval);"}},
    /* CPython 3.11's function-entry needs its line probe enabled (gh-98894) */
    {"python$target:::function-entry { }", {"usdt:" TEST_LIBRARY ":python:function__entry\n{\n\t// test.d:1\n"
                                            "\tif ((int64)pid == 77) {", "usdt:" TEST_LIBRARY ":python:line\n{\n}"}},
    /* variables */
    {"BEGIN { self->x = 1; self->y[arg0, \"k\"] = 2; this->z = 3; trace(this->z); }",
     {"@self_x[tid] = 1;", "@self_y[tid, 0, \"k\"] = 2;", "$this_z = 0;", "$this_z = 3;"}},
    {"BEGIN { self->x = 1; } END { self->x = 0; g[1] = 5; g[1] = 0; }",
     {"delete(@self_x[tid]);", "delete(@g_g[1]);", "clear(@self_x);", "clear(@g_g);"}},
    {"self int n; END { trace(self->n); }", {"printf(\"0\");"}},
    {"BEGIN { self->d++; self->d -= self->d > 0 ? 1 : 0; }",
     {"@self_d[tid] = (int64)0; delete(@self_d[tid]);", "@self_d[tid]++;",
      "@self_d[tid] -= ((@self_d[tid] > 0) ? 1 : 0);"}},
    {"BEGIN { x = 7 / 2; y = x % 3; z = timestamp / 1000; }",
     {"(((7) < 0) != ((2) < 0) ? -", "(int64)((uint64)((int64)nsecs) / (uint64)(1000))"}},
    {"python*:::line { x = (char)300; y = (unsigned short)-1; z = (int)arg0; }",
     {"@g_x = (int64)(int8)(300);", "@g_y = (((-1)) & 0xffff);", "@g_z = (int64)(int32)((int64)arg0);"}},
    {"BEGIN { x = 1 ^^ 0; }", {"@g_x = ((1 != 0) != (0 != 0));"}},
    /* builtins */
    {"python*:::line { trace(probeprov); trace(probemod); trace(probefunc); trace(probename); }",
     {"printf(\"%s\", \"python77\");", "printf(\"%s\", \"libpython3.11.so.1.0\");",
      "printf(\"%s\", \"" TEST_FUNCTION "\");", "printf(\"%s\", \"line\");"}},
    {"BEGIN { trace(execname); trace(pid); trace(tid); trace(uid); }",
     {"printf(\"%s\", comm);", "printf(\"%lld\", (int64)(int32)((int64)pid));",
      "printf(\"%lld\", (int64)(int32)((int64)uid));"}},
    {"BEGIN { trace(walltimestamp); trace(id); }", {"printf(\"%lld\", ((int64)nsecs + 5));",
                                                    "printf(\"%lld\", (int64)(int32)(1));"}},
    {"BEGIN { trace(vtimestamp); }", {"tracepoint:sched:sched_switch\n",
                                      "(@pp_voncpu[tid] + (int64)nsecs - @pp_vsince[tid])",
                                      "@pp_vtracked[tid] = 1;", "clear(@pp_vtracked);"}},
    {"python*:::line /copyinstr(arg1) == \"start\"/ { }", {"(strncmp(str(arg1), \"start\", 6) == 0)"}},
    {"python*:::line /execname != probename/ { }", {"(comm != \"line\")"}},
    {"syscall::read:entry { trace(copyinstr(arg1)); }",
     {"tracepoint:raw_syscalls:sys_enter\n", "printf(\"%s\", str(uptr((int64)args->args[1])));"}},
    {"syscall::read:return { trace(arg0); }", {"tracepoint:raw_syscalls:sys_exit\n",
                                                "printf(\"%lld\", args->ret);"}},
    {"syscall:::entry { @[probefunc] = count(); }", {"@pp_sysname[", "@a_[@pp_sysname[args->id]] = count();",
                                                     "clear(@pp_sysname);"}},
    {"BEGIN { ustack(); @[ustack(3)] = count(); }", {"printf(\"%s\", ustack);", "@a_[ustack(3)] = count();"}},
    /* aggregations */
    {"BEGIN { @c = count(); @s[1] = sum(2); @m[\"a\", 1] = min(3); @x = max(4); }",
     {"@a_c[0] = count();", "@a_s[1] = sum(2);", "@a_m[\"a\", 1] = min(3);", "@a_x[0] = max(4);"}},
    {"python*:::line { @q = quantize(arg0); @l = lquantize(arg0, -10, 100, 5); @v = avg(arg0); }",
     {"@a_q[0] = hist((int64)arg0);", "@a_l[0] = lhist((int64)arg0, -10, 100, 5);",
      "@a_v[0] = sum((int64)arg0);", "@c_v[0] = count();"}},
    {"python*:::line { @[strjoin(strjoin(copyinstr(arg0), \"-\"), copyinstr(arg1))] = count(); }",
     {"@a_[str(arg0), str(arg1)] = count();"}},
    {"python*:::line { @[basename(copyinstr(arg0)), lltostr(arg2)] = count(); }",
     {"@a_[str(arg0), (int64)arg2] = count();"}},
    {"python*:::line { @a[1] = count(); } tick-1s { printa(@a); printa(\"%d %@d\\n\", @a); }",
     {"printf(\"\\x1e0\\n\");\n\tprint(@a_a);\n\tprintf(\"\\x1e\\n\");", "printf(\"\\x1e1\\n\");"}},
    {"python*:::line { @a = count(); } tick-1s { trunc(@a, 3); clear(@a); normalize(@a, 1000); denormalize(@a); }",
     {"printf(\"\\x1e0\\n\");\n\tprint(@a_a);\n\tprintf(\"\\x1e\\n\");\n\tclear(@a_a);",
      "printf(\"\\x1e2 %lld\\n\", 1000);", "printf(\"\\x1e3\\n\");\n}", "@a_a[0] = count();"}},
    /* the end: the EXIT record, every aggregation, nothing left */
    {"BEGIN { @a = count(); x = 1; exit(3); }",
     {"BEGIN\n{\n\tprintf(\"\\x1eready\\n\");\n", "printf(\"\\x1e0 %lld\\n\", @pp_exit);\n\tprint(@a_a);\n\tprintf(\"\\x1e\\n\");\n\tclear(@a_a);\n"
      "\tclear(@g_x);\n\tclear(@pp_exit);",
      "@pp_exit = 3;\n\t$pp_exit = 1;", "if ($pp_exit) { exit(); }"}},
};

START_TEST(each_feature_translates)
{
    struct pyprobe__d_translate_options options = quiet;
    char *program;

    options.macros.target_pid = 77;
    program = translate_ok(features[_i].d, &options, NULL);
    for (size_t k = 0; k < COUNT(features[_i].want) && features[_i].want[k]; k++)
        ck_assert_has(program, features[_i].want[k]);
    free(program);
}
END_TEST

/* printf: D's conversions in bpftrace (64-bit %lld, %u of unsigned
 * types), constants formatted now, and %*s, basename and dirname as the
 * wire protocol's segments (\x1f OP ARG \x1d TEXT \x1c). */
static const struct {
    const char *call, *want;
} printfs[] = {
    {"printf(\"%d %i %u %x %X %o %c\\n\", arg0, arg1, arg2, arg3, arg4, arg5, 65)",
     "printf(\"%lld %lld %llu %llx %llX %llo A\\n\", (int64)arg0, (int64)arg1, (int64)arg2, (int64)arg3, "
     "(int64)arg4, (int64)arg5);"},
    {"printf(\"%d\\t%5d|%-5d|%05d\", timestamp, pid, arg0, arg1)",
     "printf(\"%llu\\t%5lld|%-5lld|%05lld\", (int64)nsecs, (int64)pid, (int64)arg0, (int64)arg1);"},
    {"printf(\"%x %hx %hhd\", (int)arg0, arg1, arg2)",
     "printf(\"%llx %llx %lld\", (((int64)(int32)((int64)arg0)) & 0xffffffff), (((int64)arg1) & 0xffff), "
     "(int64)(int8)((int64)arg2));"},
    {"printf(\"%5d|%-3s|%s|%%|%*s|%x\", 42, \"ab\", \"\", 4, \"x\", -1)", "printf(\"   42|ab ||%%|   x|ffffffff\");"},
    {"printf(\"%s %-20s %.3s\", execname, copyinstr(arg0), copyinstr(arg1))",
     "printf(\"%s %-20s %.3s\", comm, str(arg0), str(arg1));"},
    {"printf(\"%*s-> %s\\n\", self->depth * 2, \"\", copyinstr(arg1))",
     "printf(\"\\x1fW%lld\\x1d\\x1c-> %s\\n\", (@self_depth[tid] * 2), str(arg1));"},
    {"printf(\"[%-*d]\", arg0, arg1)",
     "printf(\"[\\x1fW%lld\\x1d%lld\\x1c]\", (((int64)arg0) < 0 ? ((int64)arg0) : -((int64)arg0)), (int64)arg1);"},
    {"printf(\"%s:%d\", basename(copyinstr(arg0)), arg2)", "printf(\"\\x1fB\\x1d%s\\x1c:%lld\", str(arg0), (int64)arg2);"},
    {"printf(\"%-30s|\", dirname(copyinstr(arg0)))", "printf(\"\\x1fW-30\\x1d\\x1fD\\x1d%s\\x1c\\x1c|\", str(arg0));"},
    {"printf(\"%s\", strjoin(strjoin(copyinstr(arg0), \":\"), lltostr(arg2)))", "printf(\"%s:%lld\", str(arg0), (int64)arg2);"},
    {"printf(\"%s %s\", basename(\"/a/b/c.py\"), dirname(\"/a/b/c.py\"))", "printf(\"c.py /a/b\");"},
    {"printf(\"%d %s\", strlen(\"four\"), lltostr(-12))", "printf(\"4 -12\");"},
    {"printf(\"%s\", arg0 ? \"yes\" : \"no\")", "printf(\"%s\", ((int64)arg0 ? \"yes\" : \"no\"));"},
    {"printf(\"100%% \\\"q\\\" \\\\ \\x01\")", "printf(\"100%% \\\"q\\\" \\\\ \\x01\");"},
};

START_TEST(printf_conversions)
{
    char source[512];
    char *program;

    snprintf(source, sizeof source, "python*:::line { self->depth++; %s; }", printfs[_i].call);
    program = translate_ok(source, &quiet, NULL);
    ck_assert_has(program, printfs[_i].want);
    free(program);
}
END_TEST

/* trace(): dt_consume.c's layouts, quiet and not. */
START_TEST(trace_layouts)
{
    struct pyprobe__d_translate_options loud = {0};
    const char *source = "python*:::line { trace(arg0); trace((int)arg1); trace((short)2); trace(copyinstr(arg0)); "
                         "trace(\"s\"); }";
    char *program = translate_ok(source, &quiet, NULL);

    ck_assert_has(program, "printf(\"%lld\", (int64)arg0);\n");
    ck_assert_has(program, "printf(\"%lld\", (int64)(int32)((int64)(int32)((int64)arg1)));\n");
    ck_assert_has(program, "printf(\"2\");\n");
    ck_assert_has(program, "printf(\"%s\", str(arg0));\n");
    ck_assert_has(program, "printf(\"s\");\n");
    free(program);
    program = translate_ok(source, &loud, NULL);
    ck_assert_has(program, "printf(\" %16lld\", (int64)arg0);\n");
    ck_assert_has(program, "printf(\" %8lld\",");
    ck_assert_has(program, "printf(\"     2\");\n");
    ck_assert_has(program, "printf(\"  %-33s\", str(arg0));\n");
    ck_assert_has(program, "printf(\"  s                                \");\n");
    ck_assert_has(program, "printf(\"\\n\");\n");
    free(program);
}
END_TEST

/* The talk's second script: strjoin pieces become a key column of three
 * pieces over two key parts; trunc keeps 10. */
START_TEST(the_talks_top10_plan)
{
    struct pyprobe__d_plan *plan;
    const struct pyprobe__d_plan_aggregation *a;
    char *program = translate_ok("function-entry { @[strjoin(strjoin(copyinstr(arg0), \"-\"), copyinstr(arg1))] = "
                                 "count() } END { trunc(@, 10) }", &quiet, &plan);

    ck_assert_uint_eq(plan->aggregation_count, 1);
    a = &plan->aggregations[0];
    ck_assert_str_eq(a->name, "");
    ck_assert_int_eq(a->fn, PYPROBE__D_COUNT);
    ck_assert_str_eq(a->maps[0], "@a_");
    ck_assert_ptr_null(a->maps[1]);
    ck_assert_uint_eq(a->part_count, 2);
    ck_assert(a->part_types[0] == PYPROBE__D_KEY_STRING && a->part_types[1] == PYPROBE__D_KEY_STRING);
    ck_assert_uint_eq(a->column_count, 1);
    ck_assert_int_eq(a->columns[0].type, PYPROBE__D_KEY_STRING);
    ck_assert_uint_eq(a->columns[0].piece_count, 3);
    ck_assert(!a->columns[0].pieces[0].literal && a->columns[0].pieces[0].part == 0);
    ck_assert_str_eq(a->columns[0].pieces[1].literal, "-");
    ck_assert(!a->columns[0].pieces[2].literal && a->columns[0].pieces[2].part == 1);
    ck_assert_uint_eq(plan->action_count, 2);
    ck_assert_int_eq(plan->actions[0].kind, PYPROBE__D_ACTION_TRUNC);
    ck_assert(plan->actions[0].has_n && plan->actions[0].n == 10);
    ck_assert_str_eq(plan->actions[0].script_line, "test.d:1");
    ck_assert_int_eq(plan->actions[1].kind, PYPROBE__D_ACTION_EXIT);
    ck_assert_uint_eq(plan->actions[1].aggregation_count, 1);
    ck_assert_has(program, "BEGIN\n{\n\tprintf(\"\\x1eready\\n\");\n}");
    ck_assert(plan->output.quiet && !plan->output.flowindent);
    ck_assert_str_eq(plan->program, program);
    free(program);
    pyprobe__d_plan_free(plan);
}
END_TEST

/* Key columns: transforms on parts, lltostr parts, integer sizes. */
START_TEST(key_columns_in_the_plan)
{
    struct pyprobe__d_plan *plan;
    const struct pyprobe__d_plan_aggregation *a;
    char *program = translate_ok("python*:::line { @k[basename(copyinstr(arg0)), pid, arg2, lltostr(arg2)] = avg(1); "
                                 "@k[basename(copyinstr(arg1)), tid, 2, lltostr(arg1)] = avg(2); @n[\"all\"] = count(); "
                                 "@n[copyinstr(arg0)] = count(); @z = count(); }",
                                 &quiet, &plan);

    a = &plan->aggregations[0];
    ck_assert_int_eq(a->fn, PYPROBE__D_AVG);
    ck_assert_str_eq(a->maps[1], "@c_k");
    ck_assert_uint_eq(a->column_count, 4);
    ck_assert_int_eq(a->columns[0].pieces[0].transform, 'B');
    ck_assert_int_eq(a->columns[1].type, PYPROBE__D_KEY_INT);
    ck_assert_int_eq(a->columns[1].size, 4);
    ck_assert_int_eq(a->columns[2].size, 8);
    ck_assert_int_eq(a->columns[3].type, PYPROBE__D_KEY_STRING);
    ck_assert_int_eq(a->part_types[3], PYPROBE__D_KEY_INT);
    a = &plan->aggregations[1];
    ck_assert_uint_eq(a->part_count, 1);
    ck_assert_ptr_null(a->columns[0].pieces[0].literal);
    ck_assert_has(program, "@a_n[\"all\"] = count();");
    a = &plan->aggregations[2]; /* unkeyed: keyed [0] in bpftrace, no D column (d_data.h) */
    ck_assert_uint_eq(a->part_count, 1);
    ck_assert_int_eq(a->part_types[0], PYPROBE__D_KEY_INT);
    ck_assert_uint_eq(a->column_count, 0);
    ck_assert_has(program, "@a_z[0] = count();");
    free(program);
    pyprobe__d_plan_free(plan);
}
END_TEST

/* Not quiet, or -F: each clause firing starts with a PROBE record (CPU)
 * for the prefix, and ends with dtrace's newline unless quiet. */
START_TEST(probe_records_for_the_prefix_and_flow)
{
    struct pyprobe__d_translate_options flow = {.output = {.quiet = 1, .flowindent = 1}}, loud = {0};
    struct pyprobe__d_plan *plan;
    const char *source = "function-entry, function-return { trace(copyinstr(arg1)) }";
    char *program = translate_ok(source, &flow, &plan);

    ck_assert_uint_eq(plan->action_count, 3);
    ck_assert_int_eq(plan->actions[0].kind, PYPROBE__D_ACTION_PROBE);
    ck_assert_str_eq(plan->actions[0].probe_name, "function-entry");
    ck_assert_str_eq(plan->actions[0].probe_function, TEST_FUNCTION);
    ck_assert_int_eq(plan->actions[0].probe_id, 100);
    ck_assert_int_eq(plan->actions[0].flow, PYPROBE__D_FLOW_ENTRY);
    ck_assert_int_eq(plan->actions[1].flow, PYPROBE__D_FLOW_RETURN);
    ck_assert_has(program, "printf(\"\\x1e0 %lld\\n\", (int64)cpu);\n\tprintf(\"%s\", str(arg1));\n}");
    ck_assert_lacks(program, "printf(\"\\n\");");
    free(program);
    pyprobe__d_plan_free(plan);
    program = translate_ok("BEGIN { } tick-1s { x = 1; }", &loud, &plan);
    ck_assert_int_eq(plan->actions[0].probe_id, 1);
    ck_assert_str_eq(plan->actions[0].probe_name, "BEGIN");
    ck_assert_int_eq(plan->actions[0].flow, PYPROBE__D_FLOW_NONE);
    ck_assert_has(program, "\t// test.d:1\n\tprintf(\"\\x1e0 %lld\\n\", (int64)cpu);\n\tprintf(\"\\n\");\n}");
    free(program);
    pyprobe__d_plan_free(plan);
}
END_TEST

/* Clauses on one probe make one block, in program order: D runs them so. */
START_TEST(clauses_of_a_probe_share_a_block_in_order)
{
    char *program = translate_ok("python$target:::function-entry /copyinstr(arg1) == \"start\"/ { self->t = 1; }\n"
                                 "python$target:::function-entry /self->t/ { trace(1); }\n"
                                 "python$target:::gc-start { } python$target:::function-entry { trace(2); }",
                                 &(struct pyprobe__d_translate_options){.output = {.quiet = 1},
                                                                        .macros = {.target_pid = 9}},
                                 NULL);
    const char *entry = strstr(program, ":python:function__entry\n");
    const char *first = strstr(program, "@self_t[tid] = 1;"), *second = strstr(program, "printf(\"1\");");
    const char *third = strstr(program, "printf(\"2\");");

    ck_assert_ptr_nonnull(entry);
    ck_assert_ptr_null(strstr(entry + 1, ":python:function__entry\n"));
    ck_assert(entry < first && first < second && second < third);
    free(program);
}
END_TEST

/* What the translation refuses, with the line. */
static const struct {
    const char *d;
    int line;
    const char *reason;
} refusals[] = {
    {"python*:::line {\n x = basename(copyinstr(arg0)); }", 2, "basename( ) of a traced string can only be printed"},
    {"python*:::line /strjoin(copyinstr(arg0), \"x\") == \"a\"/ { }", 1, "strjoin( ) of a traced string"},
    {"python*:::line {\n trace(strlen(copyinstr(arg0))); }", 2, "strlen( ) of a traced string"},
    {"python*:::line { @[basename(strjoin(copyinstr(arg0), copyinstr(arg1)))] = count(); }", 1,
     "of a joined or nested string"},
    {"python*:::line { @a[copyinstr(arg0)] = count(); @a[strjoin(copyinstr(arg0), \"x\")] = count(); }", 1,
     "@a is keyed differently"},
    {"python*:::line { printf(\"%.2s\", basename(copyinstr(arg0))); }", 1, "a precision over basename( )"},
    {"python*:::line { printf(\"%0*d\", arg0, 1); }", 1, "'0' flag with a '*' width"},
    {"python*:::line { printf(\"\\x1e\"); }", 1, "reserved for pyprobe's output protocol"},
    {"python*:::line { x = (arg0 + self->i++) / arg2; }", 1, "signed / of operands with side effects"},
    {"profile-99 { trace(arg0); }", 1, "arg0 of a profile probe"},
    {"pid$target::f:return { trace(arg0); }", 1, "arg0 of a pid return probe"},
    {"tick-1500ns { }", 1, "whole microseconds"},
    {"nosuchprovider:::x { }", 1, "does not match any probes"},
    {"syscall::nosuchcall:entry { }", 1, "does not match any probes"},
    {"python*:::line { trunc(@a, arg0); @a = count(); }", 1, "trunc( ) with a computed count"},
    {"BEGIN { x = $target; }", 1, "$target needs a process"},
};

START_TEST(refusals_name_the_feature_and_line)
{
    struct pyprobe__d_translate_options options = quiet;
    struct pyprobe__d_plan *plan;
    struct pyprobe__d_error error;
    bool no_target = strstr(refusals[_i].d, "$target") && strstr(refusals[_i].d, "BEGIN");

    options.macros.target_pid = no_target ? 0 : 5;
    if (strstr(refusals[_i].d, "nosuchprovider")) {
        struct pyprobe__d_program *program = parse_ok(refusals[_i].d);

        ck_assert_int_eq(pyprobe__d_translate(program, NULL, 0, &options, &plan, &error), -EINVAL);
        pyprobe__d_program_free(program);
    } else {
        ck_assert_int_eq(translate_source(refusals[_i].d, &options, &plan, &error), -EINVAL);
    }
    ck_assert_ptr_null(plan);
    ck_assert_msg(strstr(error.message, refusals[_i].reason), "%s: \"%s\", want \"%s\"", refusals[_i].d,
                  error.message, refusals[_i].reason);
    ck_assert_int_eq(error.line, refusals[_i].line);
    ck_assert_int_gt(error.column, 0);
}
END_TEST

/* -Z: a description that matches nothing is dropped, and what only its
 * clause wrote reads as 0 and is never cleared. */
START_TEST(zdefs_drops_what_matches_nothing)
{
    struct pyprobe__d_translate_options options = quiet;
    struct pyprobe__d_program *program = parse_ok("nothere:::x { y = 5; } BEGIN { trace(y); }");
    struct pyprobe__d_plan *plan;
    struct pyprobe__d_error error;

    options.zdefs = 1;
    ck_assert_int_eq(pyprobe__d_translate(program, NULL, 0, &options, &plan, &error), 0);
    ck_assert_has(plan->program, "printf(\"0\");");
    ck_assert_lacks(plan->program, "@g_y");
    ck_assert_lacks(plan->program, "nothere");
    pyprobe__d_plan_free(plan);
    pyprobe__d_program_free(program);
}
END_TEST

/* Syscalls by number, from this machine's table. */
START_TEST(syscalls_by_number)
{
    char want[64], *program = translate_ok("syscall::read:entry { }", &quiet, NULL);
    int number = -1;

    for (size_t i = 0; i < pyprobe__d_syscall_count; i++)
        if (strcmp(pyprobe__d_syscalls[i].name, "read") == 0)
            number = pyprobe__d_syscalls[i].number;
    ck_assert_int_ge(number, 0);
    ck_assert_uint_gt(pyprobe__d_syscall_count, 100);
    snprintf(want, sizeof want, "if (args->id == %d) {", number);
    ck_assert_has(program, want);
    free(program);
}
END_TEST

/* Macro arguments in expressions: integers, identifiers, strings. */
START_TEST(macro_arguments_in_expressions)
{
    const char *args[] = {"0x10", "execname", "a b"};
    struct pyprobe__d_translate_options options = quiet;
    char *program;

    options.macros = (struct pyprobe__d_macros){args, 3, 31, 0};
    program = translate_ok("BEGIN { trace($1); trace($2); trace($$3); trace($target); }", &options, NULL);
    ck_assert_has(program, "printf(\"16\");\n");
    ck_assert_has(program, "printf(\"%s\", comm);\n");
    ck_assert_has(program, "printf(\"a b\");\n");
    ck_assert_has(program, "printf(\"31\");\n");
    free(program);
}
END_TEST

int main(void)
{
    const struct test_entry tests[] = {
        {each_feature_translates, COUNT(features)},
        {printf_conversions, COUNT(printfs)},
        {trace_layouts, 0},
        {the_talks_top10_plan, 0},
        {key_columns_in_the_plan, 0},
        {probe_records_for_the_prefix_and_flow, 0},
        {clauses_of_a_probe_share_a_block_in_order, 0},
        {refusals_name_the_feature_and_line, COUNT(refusals)},
        {zdefs_drops_what_matches_nothing, 0},
        {syscalls_by_number, 0},
        {macro_arguments_in_expressions, 0},
    };

    return test_run_suite(test_suite("d_translate", NULL, NULL, tests, COUNT(tests)));
}
