/*
 * test_d_parse: the D front end's lexer, parser and checker (src/d): the
 * D that real scripts use parses, probe descriptions get their fields and
 * kinds, options and pragmas are read, and every malformed or refused
 * script fails with a line, a column and a reason, never a crash.
 */
#include <errno.h>
#include <stdio.h>

#include "d_test_util.h"
#include "test_run.h"

START_TEST(the_talks_scripts_parse)
{
    static const char *const scripts[] = {
        "function-entry,\nfunction-return\n{\n    /* arg1 is a subroutine name */\n    trace(copyinstr(arg1))\n}\n",
        "function-entry\n{\n    @[strjoin(strjoin(copyinstr(arg0), \"-\"), copyinstr(arg1))] = count()\n}\n\n"
        "END\n{\n    trunc(@, 10)\n}\n",
    };

    for (size_t i = 0; i < COUNT(scripts); i++) {
        struct pyprobe__d_program *program = parse_ok(scripts[i]);
        const struct pyprobe__d_description *d = pyprobe__d_description_at(program, 0);

        ck_assert_int_eq(d->kind, PYPROBE__D_PROBE_USDT);
        ck_assert_str_eq(d->provider, "");
        ck_assert_str_eq(d->name, "function-entry");
        ck_assert_int_eq(d->line, 1);
        pyprobe__d_program_free(program);
    }
}
END_TEST

/* One description: its kind and fields as the accessor gives them. */
static const struct {
    const char *text;
    enum pyprobe__d_probe_kind kind;
    const char *fields[4];
    int64_t period_ns, rate_hz;
} descriptions[] = {
    {"BEGIN", PYPROBE__D_PROBE_BEGIN, {"", "", "", "BEGIN"}, 0, 0},
    {"dtrace:::END", PYPROBE__D_PROBE_END, {"dtrace", "", "", "END"}, 0, 0},
    {"tick-1sec", PYPROBE__D_PROBE_TICK, {"", "", "", "tick-1sec"}, 1000000000, 0},
    {"profile:::tick-250ms", PYPROBE__D_PROBE_TICK, {"profile", "", "", "tick-250ms"}, 250000000, 0},
    {"profile-97", PYPROBE__D_PROBE_PROFILE, {"", "", "", "profile-97"}, 0, 97},
    {"tick-10hz", PYPROBE__D_PROBE_TICK, {"", "", "", "tick-10hz"}, 0, 10},
    {"syscall::open*:entry", PYPROBE__D_PROBE_SYSCALL, {"syscall", "", "open*", "entry"}, 0, 0},
    {"pid$target::malloc:return", PYPROBE__D_PROBE_PID, {"pid$target", "", "malloc", "return"}, 0, 0},
    {"pid4242:libc.so.6:free:entry", PYPROBE__D_PROBE_PID, {"pid4242", "libc.so.6", "free", "entry"}, 0, 0},
    {"proc:::exec-success", PYPROBE__D_PROBE_PROC, {"proc", "", "", "exec-success"}, 0, 0},
    {"python$target:::function-entry", PYPROBE__D_PROBE_USDT, {"python$target", "", "", "function-entry"}, 0, 0},
    {"python4242:::line", PYPROBE__D_PROBE_USDT, {"python4242", "", "", "line"}, 0, 0},
    {"python*:libpython*.so*:_Py*:gc-*", PYPROBE__D_PROBE_USDT, {"python*", "libpython*.so*", "_Py*", "gc-*"}, 0, 0},
    {"f:gc-done", PYPROBE__D_PROBE_USDT, {"", "", "f", "gc-done"}, 0, 0},
};

START_TEST(descriptions_fill_from_the_right_and_have_kinds)
{
    char source[256];
    struct pyprobe__d_program *program;
    const struct pyprobe__d_description *d;

    snprintf(source, sizeof source, "\n  %s\n{ }", descriptions[_i].text);
    program = parse_ok(source);
    d = pyprobe__d_description_at(program, 0);
    ck_assert_int_eq(d->kind, descriptions[_i].kind);
    ck_assert_str_eq(d->provider, descriptions[_i].fields[0]);
    ck_assert_str_eq(d->module, descriptions[_i].fields[1]);
    ck_assert_str_eq(d->function, descriptions[_i].fields[2]);
    ck_assert_str_eq(d->name, descriptions[_i].fields[3]);
    ck_assert_str_eq(d->text, descriptions[_i].text);
    ck_assert_int_eq(d->period_ns, descriptions[_i].period_ns);
    ck_assert_int_eq(d->rate_hz, descriptions[_i].rate_hz);
    ck_assert_int_eq(d->line, 2);
    ck_assert_int_eq(d->column, 3);
    pyprobe__d_program_free(program);
}
END_TEST

START_TEST(several_descriptions_share_a_clause)
{
    struct pyprobe__d_program *program =
        parse_ok("BEGIN { }\npython*:::gc-start,\n  python*:::gc-done, tick-1s\n/arg0/ { trace(arg0); }");

    ck_assert_uint_eq(pyprobe__d_description_count(program), 4);
    ck_assert_uint_eq(pyprobe__d_description_at(program, 0)->clause, 0);
    for (size_t i = 1; i < 4; i++)
        ck_assert_uint_eq(pyprobe__d_description_at(program, i)->clause, 1);
    ck_assert_int_eq(pyprobe__d_description_at(program, 2)->line, 3);
    ck_assert_ptr_null(pyprobe__d_description_at(program, 4));
    pyprobe__d_program_free(program);
}
END_TEST

START_TEST(pragmas_comments_and_a_first_line_interpreter)
{
    struct pyprobe__d_program *program =
        parse_ok("#!/usr/sbin/dtrace -qs\n/* a\n comment */ // and another\n#pragma D option quiet\n"
                 "  #pragma D option switchrate=10hz\n#pragma ident \"x\"\nBEGIN { exit(0) }\n");
    const struct pyprobe__d_pragma *p;

    ck_assert_uint_eq(pyprobe__d_pragma_count(program), 2);
    p = pyprobe__d_pragma_at(program, 0);
    ck_assert_str_eq(p->name, "quiet");
    ck_assert_ptr_null(p->value);
    ck_assert_int_eq(p->line, 4);
    p = pyprobe__d_pragma_at(program, 1);
    ck_assert_str_eq(p->name, "switchrate");
    ck_assert_str_eq(p->value, "10hz");
    ck_assert_int_eq(p->line, 5);
    ck_assert_ptr_null(pyprobe__d_pragma_at(program, 2));
    pyprobe__d_program_free(program);
}
END_TEST

/* What parses: D's expressions, declarations and statements. */
static const char *const good[] = {
    "self int indent; this string s; int g[string, int]; unsigned long long big;\n"
    "BEGIN { self->indent++; this->s = \"x\"; g[\"a\", 1] = 2; big = 0xffffffffffffffff; }",
    "BEGIN { x = 1 + 2 * 3 - (4 / 2) % 3 << 1 >> 1 & 7 | 8 ^ 9; y = !x && x || x ^^ 1; z = ~x; }",
    "BEGIN { x = 1 ? 2 : 3; x += 1; x -= 1; x *= 2; x /= 2; x %= 5; x <<= 1; x >>= 1; x &= 3; x |= 4; x ^= 1; }",
    "BEGIN { x = (int)1; y = (unsigned char)x; z = (int64_t)x - (uint32_t)y; ++x; --y; x--; }",
    "BEGIN { trace(1); trace(\"s\"); trace(execname); printf(\"%d %s %5d %-10s %*s %%\\n\", 1, \"a\", 2, \"b\", 3, \"\"); }",
    "python*:::function-entry /copyinstr(arg1) == \"start\" && arg2 > 10/ { @[probefunc, pid] = count(); }",
    "BEGIN /1 / 2/ { }",
    "tick-1s { @a = sum(1); @b = avg(2); @c = min(3); @d = max(4); @e = quantize(5); @f = lquantize(6, 0, 100, 10); }",
    "END { printa(@a); printa(\"%@d\\n\", @a); trunc(@a, 5); trunc(@a); clear(@a); normalize(@a, 10); denormalize(@a); }"
    "tick-1s { @a = count(); }",
    "BEGIN { x = 'a'; y = '\\n'; s = \"tab\\there\\x41\\101\"; }",
    "BEGIN { s = basename(dirname(strjoin(\"a\", lltostr(12)))); n = strlen(\"abc\"); trace(stringof(s)); }",
    "BEGIN { ustack(); @[ustack(5)] = count(); }",
    "BEGIN\n{\n}\n\n;\n END{}",
    "BEGIN",
    "BEGIN /1/",
    "BEGIN { printf(\"%d\", $1); printf(\"%s\", $$2); trace($target); trace($pid); }",
    "BEGIN { exit(0) }",
};

START_TEST(d_that_scripts_use_parses)
{
    pyprobe__d_program_free(parse_ok(good[_i]));
}
END_TEST

/* What fails, where (line and column), and a word of why. */
static const struct {
    const char *source;
    int line, column;
    const char *reason;
} bad[] = {
    {"BEGIN {", 1, 8, "syntax error near \"end of input\""},
    {"BEGIN { x = ; }", 1, 13, "syntax error near \";\""},
    {"BEGIN\n{\n  trace(1)\n  trace(2);\n}", 4, 3, "syntax error near \"trace\""},
    {"BEGIN {\n /* open", 2, 2, "comment is not closed"},
    {"BEGIN { trace(\"abc); }", 1, 15, "string is not closed"},
    {"BEGIN { trace(1.5); }", 1, 15, "floating-point"},
    {"BEGIN { x = 099; }", 1, 13, "invalid digit"},
    {"BEGIN { x = 99999999999999999999; }", 1, 13, "too large"},
    {"BEGIN { x = '\\q'; }", 1, 15, "unknown escape"},
    {"BEGIN { copyinstr(); }", 1, 9, "copyinstr( ) requires 1 to 2 arguments"},
    {"BEGIN { trace(); }", 1, 9, "trace( ) requires 1 argument"},
    {"BEGIN {\n  jstack();\n}", 2, 3, "jstack( ) is not supported: bpftrace cannot walk a Python stack"},
    {"BEGIN { stack(); }", 1, 9, "stack( ) is not supported"},
    {"BEGIN { x = speculation(); }", 1, 13, "speculation( ) is not supported"},
    {"BEGIN { trace(curthread); }", 1, 15, "curthread is not supported"},
    {"BEGIN { trace(args[0]); }", 1, 15, "args is not supported"},
    {"BEGIN { system(\"ls\"); }", 1, 9, "system( ) is not supported: destructive"},
    {"BEGIN { trace(substr(\"abc\", 1)); }", 1, 15, "substr( ) is not supported"},
    {"\n\nfbt::read:entry { }", 3, 1, "provider is not supported"},
    {"sched:::on-cpu { }", 1, 1, "provider is not supported"},
    {"dtrace:::ERROR { }", 1, 1, "ERROR is not supported"},
    {"syscall::read:start { }", 1, 1, "entry or return"},
    {"pid$target::malloc:1f { }", 1, 1, "offsets"},
    {"tick-1fortnight { }", 1, 1, "unknown time unit"},
    {"a:b:c:d:e { }", 1, 1, "more than four fields"},
    {"BEGIN { x = \"a\"; x = 1; }", 1, 18, "x is string: it cannot be assigned int"},
    {"BEGIN { foo(); }", 1, 9, "foo( ) is not a D function"},
    {"BEGIN { @a = count(); @a = sum(1); }", 1, 23, "another aggregating function"},
    {"BEGIN { @a = 1; }", 1, 9, "@a must be assigned an aggregating function"},
    {"BEGIN { x = @a; }", 1, 13, "@a: an aggregation can only be assigned"},
    {"BEGIN { printf(\"%d\\n\"); }", 1, 9, "missing a corresponding value argument"},
    {"BEGIN { printf(\"%s\\n\", 1); }", 1, 24, "incompatible with conversion #1"},
    {"BEGIN { printf(\"%d\\n\", 1, 2); }", 1, 9, "only 2 arguments required"},
    {"BEGIN { printf(\"%f\\n\", 1); }", 1, 9, "floating point is not supported"},
    {"BEGIN { printf(\"%+d\\n\", 1); }", 1, 9, "flag is not supported"},
    {"BEGIN { printf(\"%q\\n\", 1); }", 1, 9, "conversion #1 is undefined: %q"},
    {"BEGIN { printf(x); }", 1, 9, "must be a string constant"},
    {"BEGIN {\n  if (1) { trace(1); }\n}", 2, 3, "if statements are not part of D"},
    {"BEGIN { x = y = 1; }", 1, 13, "assignments inside expressions"},
    {"BEGIN { this->x[1] = 1; }", 1, 9, "cannot be associative arrays"},
    {"END { printa(@never); }", 1, 14, "@never is used but never assigned"},
    {"BEGIN { x = \"a\" < \"b\"; }", 1, 17, "strings compare with == and != only"},
    {"BEGIN { trace(y); }", 1, 15, "y has not yet been declared or assigned"},
    {"BEGIN { x = *y; }", 1, 13, "pointer dereference"},
    {"BEGIN { x = curpsinfo->pr_pid; }", 1, 13, "curpsinfo is not supported"},
    {"BEGIN { x = `kernel_var; }", 1, 13, "kernel symbols"},
    {"#define X 1\nBEGIN { }", 1, 1, "C preprocessor"},
    {"BEGIN { x = (float)1; }", 1, 14, "type float is not supported"},
    {"BEGIN { self->x = 1; self->x[1] = 2; }", 1, 22, "both as a scalar and as an associative array"},
    {"BEGIN { @a[1] = count(); @a[\"x\"] = count(); }", 1, 29, "key #1 of @a is string here, int elsewhere"},
    {"BEGIN { @a[1, 2] = count(); @a[1] = count(); }", 1, 29, "has 1 key here, 2 elsewhere"},
    {"BEGIN { lquantize(1, 0, 10); }", 1, 9, "aggregating function"},
    {"BEGIN { @a = lquantize(1, 10, 0, 1); }", 1, 14, "lower < upper"},
    {"BEGIN { trace(1) } typedef int foo_t;", 1, 20, "typedef declarations are not supported"},
    {"BEGIN { x = stringof(1); }", 1, 13, "stringof( ) of an integer"},
    {"BEGIN { copyinstr(arg0); }", 1, 9, "alone has no effect"},
    {"BEGIN { 1 + 2; }", 1, 11, "a statement is an assignment"},
    {"BEGIN { trace(timestamp = 1); }", 1, 15, "assignments inside expressions"},
    {"BEGIN { timestamp = 1; }", 1, 9, "built-in variable"},
    {"BEGIN { trace(\"\\x1e\"); } BEGIN { printf(\"%s\", @x); }", 1, 47, "@x: an aggregation"},
    {"BEGIN { x = $; }", 1, 13, "macro variable needs a name"},
    /* what only translation finds also fails the parse (its dry run) */
    {"python*:::line {\n  x = basename(copyinstr(arg0)); }", 2, 7, "basename( ) of a traced string can only be"},
    {"tick-1500ns { }", 1, 1, "whole microseconds"},
    {"BEGIN { printf(\"%0*d %0*d\", $1, 2, timestamp, 3); }", 1, 36, "'0' flag with a '*' width"},
};

START_TEST(malformed_scripts_fail_with_their_place)
{
    struct pyprobe__d_error error = parse_error(bad[_i].source, strlen(bad[_i].source));

    ck_assert_msg(strstr(error.message, bad[_i].reason) != NULL, "%s: \"%s\", want \"%s\"", bad[_i].source,
                  error.message, bad[_i].reason);
    ck_assert_str_eq(error.file, "bad.d");
    ck_assert_msg(error.line == bad[_i].line && error.column == bad[_i].column, "%s: at %d:%d, want %d:%d (%s)",
                  bad[_i].source, error.line, error.column, bad[_i].line, bad[_i].column, error.message);
}
END_TEST

/* Bytes a script should not hold: a NUL, and deep nesting, fail as errors. */
START_TEST(odd_bytes_and_deep_nesting_are_errors)
{
    static const char nul[] = "BEGIN { trace(1); }\n\0BEGIN { }";
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 64);
    struct pyprobe__d_error error = parse_error(nul, sizeof nul - 1);

    ck_assert_int_eq(error.line, 2);
    ck_assert_msg(strstr(error.message, "invalid character (byte 0x00)"), "%s", error.message);
    strcpy(deep, "BEGIN { x = ");
    memset(deep + strlen(deep), '(', depth);
    strcpy(deep + 12 + depth, "1");
    error = parse_error(deep, strlen(deep));
    ck_assert_msg(strstr(error.message, "nested too deeply"), "%s", error.message);
    ck_assert_int_eq(error.line, 1);
    free(deep);
}
END_TEST

/* Appending keeps a program whole: a failing script adds nothing. */
START_TEST(a_failed_append_leaves_the_program_unchanged)
{
    struct pyprobe__d_program *program = parse_ok("#pragma D option quiet\nBEGIN { x = 1; }");
    struct pyprobe__d_error error;
    const char good_end[] = "END { trace(x); }", broken[] = "#pragma D option flowindent\ntick-1s { x = \"s\"; }";

    ck_assert_int_eq(pyprobe__d_program_append(program, "more.d", broken, strlen(broken), &error), -EINVAL);
    ck_assert_str_eq(error.file, "more.d");
    ck_assert_int_eq(error.line, 2);
    ck_assert_uint_eq(pyprobe__d_description_count(program), 1);
    ck_assert_uint_eq(pyprobe__d_pragma_count(program), 1);
    ck_assert_int_eq(pyprobe__d_program_append(program, "-n", good_end, strlen(good_end), &error), 0);
    ck_assert_uint_eq(pyprobe__d_description_count(program), 2);
    ck_assert_str_eq(pyprobe__d_description_at(program, 1)->file, "-n");
    pyprobe__d_program_free(program);
}
END_TEST

/* Macros: $target stays in descriptions until there is a target; $1 is an
 * integer or an identifier; a missing one is an error, or 0 with
 * defaultargs. */
START_TEST(macros_bind_in_descriptions_and_expressions)
{
    struct pyprobe__d_program *program =
        parse_ok("python$target:::line, pid$1::$$2:entry\n/$$3 == \"x y\" && $4 > 0/ { trace($5); }");
    const char *args[] = {"4242", "malloc", "x y", "a b", "execname"};
    struct pyprobe__d_translate_options options = {.macros = {args, 5, 0, 0}};
    struct pyprobe__d_error error;
    const struct pyprobe__d_description *d;

    ck_assert_int_eq(pyprobe__d_program_bind(program, &options, &error), -EINVAL);
    ck_assert_msg(strstr(error.message, "$4 is not an integer or an identifier"), "%s", error.message);
    args[3] = "0x10";
    options.macros.target_pid = 0;
    ck_assert_int_eq(pyprobe__d_program_bind(program, &options, &error), 0);
    d = pyprobe__d_description_at(program, 0);
    ck_assert_str_eq(d->provider, "python$target");
    d = pyprobe__d_description_at(program, 1);
    ck_assert_str_eq(d->provider, "pid4242");
    ck_assert_str_eq(d->function, "malloc");
    ck_assert_int_eq(d->kind, PYPROBE__D_PROBE_PID);
    options.macros.target_pid = 99;
    ck_assert_int_eq(pyprobe__d_program_bind(program, &options, &error), 0);
    ck_assert_str_eq(pyprobe__d_description_at(program, 0)->provider, "python99");
    options.macros.count = 4;
    ck_assert_int_eq(pyprobe__d_program_bind(program, &options, &error), -EINVAL);
    ck_assert_str_eq(error.message, "macro argument $5 is not defined");
    ck_assert_int_eq(error.line, 2);
    options.defaultargs = 1;
    ck_assert_int_eq(pyprobe__d_program_bind(program, &options, &error), 0);
    pyprobe__d_program_free(program);
}
END_TEST

/* -x and #pragma D option: set, ignored with a reason, or refused. */
START_TEST(options_are_set_ignored_or_refused)
{
    struct pyprobe__d_translate_options o = {0};
    struct pyprobe__d_error error;

    ck_assert_int_eq(pyprobe__d_option_set(&o, "quiet", NULL, &error), 0);
    ck_assert_int_eq(pyprobe__d_option_set(&o, "flowindent", NULL, &error), 0);
    ck_assert_int_eq(pyprobe__d_option_set(&o, "aggsortrev", NULL, &error), 0);
    ck_assert_int_eq(pyprobe__d_option_set(&o, "strsize", "1k", &error), 0);
    ck_assert_int_eq(pyprobe__d_option_set(&o, "aggsortpos", "2", &error), 0);
    ck_assert(o.output.quiet && o.output.flowindent && o.output.aggsortrev && !o.output.aggsortkey);
    ck_assert_int_eq(o.strsize, 1024);
    ck_assert_int_eq(o.output.aggsortpos, 2);
    ck_assert_int_eq(pyprobe__d_option_set(&o, "bufsize", "4m", &error), 1);
    ck_assert_str_eq(error.message, "option bufsize is ignored: bpftrace sizes and drains its own buffers");
    ck_assert_int_eq(pyprobe__d_option_set(&o, "switchrate", "10hz", &error), 1);
    ck_assert_int_eq(pyprobe__d_option_set(&o, "strsize", "lots", &error), -EINVAL);
    ck_assert_str_eq(error.message, "option strsize needs a number, not \"lots\"");
    ck_assert_int_eq(pyprobe__d_option_set(&o, "nosuch", NULL, &error), -EINVAL);
    ck_assert_str_eq(error.message, "unknown option nosuch");
}
END_TEST

int main(void)
{
    const struct test_entry tests[] = {
        {the_talks_scripts_parse, 0},
        {descriptions_fill_from_the_right_and_have_kinds, COUNT(descriptions)},
        {several_descriptions_share_a_clause, 0},
        {pragmas_comments_and_a_first_line_interpreter, 0},
        {d_that_scripts_use_parses, COUNT(good)},
        {malformed_scripts_fail_with_their_place, COUNT(bad)},
        {odd_bytes_and_deep_nesting_are_errors, 0},
        {a_failed_append_leaves_the_program_unchanged, 0},
        {macros_bind_in_descriptions_and_expressions, 0},
        {options_are_set_ignored_or_refused, 0},
    };

    return test_run_suite(test_suite("d_parse", NULL, NULL, tests, COUNT(tests)));
}
