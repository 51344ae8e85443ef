/*
 * Unit tests of the provider file library (src/provider): the reader's
 * answers and its first mistake's place and words, the argument-type note
 * source, the file systemtap's dtrace is given, and running a program
 * under a time limit in a scratch directory.
 *
 *   test_provider
 */
#define _GNU_SOURCE /* asprintf */
#include "provider_parse.h"
#include "provider_run.h"
#include "provider_write.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COUNT(array) ((int)(sizeof(array) / sizeof((array)[0])))

static int parse(const char *text, struct pyprobe__d_file *file)
{
    return pyprobe__d_parse(text, strlen(text), file);
}

/* ==== the reader ==== */

/* CPython's Include/pydtrace.d as it is (comments, names, pragmas), but
 * shorter, and a second provider with the other type shapes. */
static const char good_file[] =
    "/* Python DTrace provider */\n"
    "\n"
    "provider python {\n"
    "    probe function__entry(const char *, const char *, int);\n"
    "    probe line(const char *filename, const char *funcname, int lineno);\n"
    "    probe gc__start(int);  // C++ comment\n"
    "    probe import__find__load__start(\n"
    "        const char *module /* name */\n"
    "    );\n"
    "    probe audit(const char *, void *);\n"
    "};\n"
    "\n"
    "#pragma D attributes Evolving/Evolving/Common provider python provider\n"
    "  #  pragma D attributes Private/Private/Common provider python module\n"
    "provider shop { probe open(); probe close(uint64_t, char **names, struct item *const *); };\n";

START_TEST(a_provider_file_reads_as_declared)
{
    struct pyprobe__d_file file;
    const struct pyprobe__d_probe *probe;

    ck_assert_int_eq(parse(good_file, &file), 0);
    ck_assert_uint_eq(file.count, 2);
    ck_assert_str_eq(file.providers[0].name, "python");
    ck_assert_uint_eq(file.providers[0].at.line, 3);
    ck_assert_uint_eq(file.providers[0].at.column, 10);
    ck_assert_uint_eq(file.providers[0].count, 5);
    probe = &file.providers[0].probes[1];
    ck_assert_str_eq(probe->name, "line");
    ck_assert_uint_eq(probe->argc, 3);
    ck_assert_str_eq(probe->types[0], "const char *");
    ck_assert_str_eq(probe->types[2], "int");
    probe = &file.providers[0].probes[3];
    ck_assert_str_eq(probe->name, "import__find__load__start");
    ck_assert_uint_eq(probe->argc, 1);
    ck_assert_uint_eq(probe->at.line, 7);
    ck_assert_str_eq(file.providers[1].name, "shop");
    ck_assert_uint_eq(file.providers[1].probes[0].argc, 0);
    probe = &file.providers[1].probes[1];
    ck_assert_uint_eq(probe->argc, 3);
    ck_assert_str_eq(probe->types[0], "uint64_t");
    ck_assert_str_eq(probe->types[1], "char **");
    ck_assert_str_eq(probe->types[2], "struct item *const *");
    ck_assert_uint_eq(pyprobe__d_probe_count(&file), 7);
    pyprobe__d_free(&file);
}
END_TEST

/* Each declaration of probe x, and the type the reader makes of it (as
 * dtrace prints types), or NULL where it has no arguments. */
static const struct {
    const char *arguments, *type;
} types[] = {
    {"()", NULL},
    {"(void)", NULL},
    {"(int)", "int"},
    {"(int n)", "int"},
    {"(unsigned)", "unsigned"},
    {"(unsigned count)", "unsigned"},
    {"(unsigned size_t)", "unsigned"}, /* as in C: a type given, a typedef name is the parameter's */
    {"(long long int)", "long long int"},
    {"(unsigned long long)", "unsigned long long"},
    {"(signed char)", "signed char"},
    {"(short unsigned int)", "short unsigned int"},
    {"(long double)", "long double"},
    {"(_Bool flag)", "_Bool"},
    {"(int8_t)", "int8_t"},
    {"(uint16_t)", "uint16_t"},
    {"(uintptr_t address)", "uintptr_t"},
    {"(size_t)", "size_t"},
    {"(enum color c)", "enum color"},
    {"(void *args)", "void *"},
    {"(const   char*name)", "const char *"},
    {"(char const *)", "char const *"},
    {"(char **argv)", "char **"},
    {"(char * * argv)", "char **"},
    {"(char *const p)", "char *const"},
    {"(volatile int *volatile *p)", "volatile int *volatile *"},
    {"(struct item *)", "struct item *"},
    {"(const union value *v)", "const union value *"},
};

START_TEST(types_read_as_dtrace_prints_them)
{
    struct pyprobe__d_file file;
    char *text;

    ck_assert_int_ge(asprintf(&text, "provider p { probe x%s; };", types[_i].arguments), 0);
    ck_assert_msg(parse(text, &file) == 0, "%s: %s", text, file.error);
    if (types[_i].type) {
        ck_assert_uint_eq(file.providers[0].probes[0].argc, 1);
        ck_assert_str_eq(file.providers[0].probes[0].types[0], types[_i].type);
    } else {
        ck_assert_uint_eq(file.providers[0].probes[0].argc, 0);
    }
    pyprobe__d_free(&file);
    free(text);
}
END_TEST

/* Bad files: where the first mistake is and what it is called. The first
 * eight are the cases (the non-existent file is a test below). */
static const struct {
    const char *text;
    unsigned line, column;
    const char *error;
} mistakes[] = {
    /* unclosed parenthesis: at the ';' just past "int", as the mine.d */
    {"provider mine {\n  probe tick(int);\n  probe tock(int;\n};\n", 3, 17, "expected ')' after argument list"},
    /* missing semicolon: just past the ')' */
    {"provider mine {\n  probe tick(int)\n  probe tock();\n};\n", 2, 18, "expected ';' after probe declaration"},
    {"provider mine {\n  probe tick();\n}\n", 3, 2, "expected ';' after provider declaration"},
    /* unknown type */
    {"provider mine {\n  probe tick(foo_t);\n};\n", 2, 14, "unknown type 'foo_t'"},
    {"provider mine { probe tick(const stuff *p); };", 1, 34, "unknown type 'stuff'"},
    /* empty provider */
    {"provider mine {\n};\n", 1, 10, "provider 'mine' declares no probes"},
    /* duplicate probe */
    {"provider mine {\n  probe tick();\n  probe tick(int);\n};\n", 3, 9,
     "duplicate probe 'tick' in provider 'mine' (first declared at 2:9)"},
    /* non-ASCII, also in a comment */
    {"provider mine {\n  probe t\xc3\xb6" "ck();\n};\n", 2, 10, "non-ASCII byte 0xc3: a provider file is ASCII"},
    {"/* caf\xc3\xa9" " */", 1, 7, "non-ASCII byte 0xc3: a provider file is ASCII"},
    /* empty file, and one of comments only */
    {"", 1, 1, "empty file: no provider declared"},
    {"/* nothing */\n// here\n", 3, 1, "no provider declared"},
    /* too many arguments: at the thirteenth */
    {"provider p { probe x(int, int, int, int, int, int, int, int, int, int, int, int, int); };", 1, 82,
     "probe 'x' has more than 12 arguments (PYPROBE_MAX_PROBE_ARGS)"},
    /* and the rest of the grammar */
    {"provider mine { probe tick(int); ", 1, 33, "expected '}' at the end of provider 'mine'"},
    {"provider mine { probe tick(int); int x; };", 1, 34, "expected 'probe' or '}' in provider 'mine', found 'int'"},
    {"provider mine { probe tick int; };", 1, 27, "expected '(' after probe name"},
    {"provider mine probe tick(); };", 1, 14, "expected '{' after provider name"},
    {"provider { probe x(); };", 1, 10, "expected a provider name, found '{'"},
    {"provider p { probe int(); };", 1, 20, "expected a probe name, found 'int'"},
    {"provider p { probe 9lives(); };", 1, 20, "expected a probe name, found '9lives'"},
    {"probe x(int);", 1, 1, "expected 'provider', found 'probe'"},
    {"provider a { probe x(); }; provider a { probe y(); };", 1, 37, "duplicate provider 'a' (first declared at 1:10)"},
    {"provider p { probe x(int) : (int); };", 1, 26, "expected ';' after probe declaration"},
    {"provider p { probe x(unsigned double); };", 1, 31, "invalid type 'unsigned double'"},
    {"provider p { probe x(long short); };", 1, 27, "invalid type 'long short'"},
    {"provider p { probe x(long long long); };", 1, 32, "invalid type 'long long long'"},
    {"provider p { probe x(int char); };", 1, 26, "invalid type 'int char'"},
    {"provider p { probe x(struct item); };", 1, 22, "a 'struct item' argument must be a pointer ('struct item *')"},
    {"provider p { probe x(struct *p); };", 1, 28, "expected a tag name after 'struct'"},
    {"provider p { probe x(void, int); };", 1, 22, "a 'void' argument must be a pointer ('void *')"},
    {"provider p { probe x(void v); };", 1, 22, "a 'void' argument must be a pointer ('void *')"},
    {"provider p { probe x(char * int); };", 1, 29, "unexpected 'int' after '*'"},
    {"provider p { probe x(const); };", 1, 27, "expected an argument type, found ')'"},
    {"provider p { probe x(int, ); };", 1, 27, "expected an argument type, found ')'"},
    {"provider p { probe x(*p); };", 1, 22, "expected an argument type, found '*'"},
    {"provider p { probe x(char name[4]); };", 1, 31, "expected ')' after argument list"},
    {"provider p { probe x(int); /* unclosed", 1, 28, "unterminated comment"},
    {"#define T int\nprovider p { probe x(T); };", 1, 1,
     "'#define' is not supported: a provider file is not preprocessed (only #pragma lines)"},
    {"provider p { probe x(int); }; # pragma", 1, 31, "expected 'provider', found '#'"},
    {"provider p {\tprobe x(\x01); };", 1, 22, "unexpected control byte 0x01"},
    {"provider p { probe x(int);\0 };", 1, 27, "unexpected control byte 0x00"},
    {"provider p23456789012345678901234567890123456789012345678901234567890 { probe x(); };", 1, 10,
     "provider name of 60 characters: at most 59 (perf's and the kernel's limit)"},
};

START_TEST(mistakes_are_found_where_they_are)
{
    struct pyprobe__d_file file;
    /* The NUL case is one byte longer than strlen() sees. */
    size_t size = strlen(mistakes[_i].text) + (strstr(mistakes[_i].error, "0x00") ? 3 : 0);

    ck_assert_int_eq(pyprobe__d_parse(mistakes[_i].text, size, &file), -EINVAL);
    ck_assert_str_eq(file.error, mistakes[_i].error);
    ck_assert_msg(file.error_at.line == mistakes[_i].line && file.error_at.column == mistakes[_i].column,
                  "%s at %u:%u, expected %u:%u", file.error, file.error_at.line, file.error_at.column,
                  mistakes[_i].line, mistakes[_i].column);
    ck_assert_ptr_null(file.providers);
    pyprobe__d_free(&file);
}
END_TEST

/* A temporary directory for one test, removed by its end. */
static char scratch_dir[PATH_MAX];

static void make_scratch(void)
{
    snprintf(scratch_dir, sizeof scratch_dir, "%s/pyprobe-provider-test-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(scratch_dir));
}

static void remove_scratch(void)
{
    ck_assert_int_eq(pyprobe__remove_tree(scratch_dir), 0);
}

static char *scratch_path(const char *name)
{
    char *path;

    ck_assert_int_ge(asprintf(&path, "%s/%s", scratch_dir, name), 0);
    return path;
}

static void write_text(const char *path, const char *text, size_t size, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, size), (ssize_t)size);
    close(fd);
}

START_TEST(files_are_read_or_refused_with_their_errno)
{
    struct pyprobe__d_file file;
    char *good = scratch_path("good.d"), *big = scratch_path("big.d"), *missing = scratch_path("missing.d");
    char *text = malloc(PYPROBE_D_FILE_MAX + 1);

    write_text(good, good_file, strlen(good_file), 0644);
    ck_assert_int_eq(pyprobe__d_read(good, &file), 0);
    ck_assert_uint_eq(pyprobe__d_probe_count(&file), 7);
    pyprobe__d_free(&file);
    ck_assert_int_eq(pyprobe__d_read(missing, &file), -ENOENT);
    ck_assert_int_eq(pyprobe__d_read(scratch_dir, &file), -EISDIR);
    memset(text, ' ', PYPROBE_D_FILE_MAX + 1);
    write_text(big, text, PYPROBE_D_FILE_MAX + 1, 0644);
    ck_assert_int_eq(pyprobe__d_read(big, &file), -EFBIG);
    free(text);
    free(good);
    free(big);
    free(missing);
}
END_TEST

/* ==== what is written ==== */

START_TEST(the_notes_source_has_one_note_per_probe)
{
    static const char expected[] =
        "/* Generated from tick.d by pyprobe-provider: the C argument\n"
        " * types of its 2 probes, for listers. */\n"
        "#include <pyprobe/notes.h>\n"
        "\n"
        "__asm__(PYPROBE_SIGNATURE_NOTE_BEGIN\n"
        "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"mylang\\\"\")\n"
        "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"tick\\\"\")\n"
        "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"const char *\\\"\")\n"
        "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"long\\\"\")\n"
        "        PYPROBE_SIGNATURE_NOTE_END);\n"
        "__asm__(PYPROBE_SIGNATURE_NOTE_BEGIN\n"
        "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"mylang\\\"\")\n"
        "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"done\\\"\")\n"
        "        PYPROBE_SIGNATURE_NOTE_END);\n"
        "\n"
        "/* Required with -u by programs that link the static library, so that this\n"
        " * object and its notes are linked in though no code refers to them. */\n"
        "__attribute__((visibility(\"hidden\"), used)) const char tick_anchor = 1;\n";
    struct pyprobe__d_file file;
    char *source;

    ck_assert_int_eq(parse("provider mylang { probe tick(const char *name, long n); probe done(); };", &file), 0);
    ck_assert_int_eq(pyprobe__d_notes_source(&file, "tick.d", "tick_anchor", &source), 0);
    ck_assert_str_eq(source, expected);
    free(source);
    ck_assert_int_eq(pyprobe__d_notes_source(&file, "tick.d", NULL, &source), 0);
    ck_assert_ptr_null(strstr(source, "visibility"));
    free(source);
    ck_assert_int_eq(pyprobe__d_notes_source(&file, "tick.d", "1bad", &source), -EINVAL);
    ck_assert_int_eq(pyprobe__d_notes_source(&file, "a*/b.d", NULL, &source), -EINVAL);
    pyprobe__d_free(&file);
}
END_TEST

/* systemtap's dtrace is given one line per declaration, no comments, `()`
 * for no arguments, and types its grammar reads. */
START_TEST(dtrace_is_given_what_its_script_reads)
{
    static const char expected[] =
        "provider python {\n"
        "    probe function__entry(const char *, const char *, int);\n"
        "    probe line(const char *, const char *, int);\n"
        "    probe gc__start(int);\n"
        "    probe import__find__load__start(const char *);\n"
        "    probe audit(const char *, void *);\n"
        "};\n"
        "provider shop {\n"
        "    probe open();\n"
        "    probe close(uint64_t, char **, struct_item **);\n"
        "};\n";
    static const char *const shapes[][2] = {
        {"unsigned long long", "unsigned long long"},   {"unsigned", "unsigned int"},
        {"unsigned *", "unsigned int *"},               {"const unsigned char *", "const_unsigned_char *"},
        {"long long int", "long_long_int"},             {"struct s *const *", "struct_s **"},
        {"const struct s *", "const_struct_s *"},       {"volatile int", "volatile int"},
        {"signed char", "signed char"},                 {"enum e", "enum e"},
    };
    struct pyprobe__d_file file;
    char *text, *source, *line;

    ck_assert_int_eq(parse(good_file, &file), 0);
    ck_assert_int_eq(pyprobe__d_dtrace_source(&file, &source), 0);
    ck_assert_str_eq(source, expected);
    free(source);
    pyprobe__d_free(&file);
    for (int i = 0; i < COUNT(shapes); i++) {
        ck_assert_int_ge(asprintf(&text, "provider p { probe provider__x(%s); };", shapes[i][0]), 0);
        ck_assert_int_ge(asprintf(&line, "    probe provider__x(%s);\n", shapes[i][1]), 0);
        ck_assert_int_eq(parse(text, &file), 0);
        ck_assert_int_eq(pyprobe__d_dtrace_source(&file, &source), 0);
        ck_assert_msg(strstr(source, line), "%s gave\n%s", shapes[i][0], source);
        free(source);
        free(text);
        free(line);
        pyprobe__d_free(&file);
    }
}
END_TEST

START_TEST(unchanged_output_keeps_its_time_stamp)
{
    char *path = scratch_path("out.c");
    struct stat before, after;
    char buffer[16] = {0};
    int fd;

    ck_assert_int_eq(pyprobe__write_if_changed(path, "one\n"), 0);
    ck_assert_int_eq(stat(path, &before), 0);
    ck_assert_int_eq(utimensat(AT_FDCWD, path, (struct timespec[]){{1, 0}, {1, 0}}, 0), 0);
    ck_assert_int_eq(pyprobe__write_if_changed(path, "one\n"), 0);
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_int_eq(after.st_mtime, 1);
    ck_assert_int_eq(pyprobe__write_if_changed(path, "two\n"), 0);
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_int_ne(after.st_mtime, 1);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_eq(read(fd, buffer, sizeof buffer - 1), 4);
    ck_assert_str_eq(buffer, "two\n");
    close(fd);
    free(path);
}
END_TEST

/* ==== running dtrace ==== */

static double seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(a_program_runs_in_its_directory_and_its_status_is_kept)
{
    char *script;
    int status;

    ck_assert_int_ge(asprintf(&script, "test \"$(pwd)\" = '%s' && ! read line && exit 3", scratch_dir), 0);
    ck_assert_int_eq(pyprobe__run_limited((char *[]){"sh", "-c", script, NULL}, scratch_dir, 10, &status), 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x", status);
    ck_assert_int_eq(pyprobe__run_limited((char *[]){"no-such-program-here", NULL}, scratch_dir, 10, &status),
                     -ENOENT);
    ck_assert_int_eq(pyprobe__run_limited((char *[]){"true", NULL}, "/no/such/dir", 10, &status), -ENOENT);
    free(script);
}
END_TEST

/* A program that hangs, with a child of its own: both are killed at the
 * time limit, not later. */
START_TEST(a_hanging_program_and_its_children_are_killed_in_time)
{
    char *pid_file = scratch_path("pid");
    char buffer[32] = {0};
    double start = seconds_now(), took;
    pid_t grandchild;
    int status, fd;

    ck_assert_int_eq(pyprobe__run_limited((char *[]){"sh", "-c", "sleep 300 & echo $! > pid; wait", NULL},
                                          scratch_dir, 1, &status),
                     -ETIMEDOUT);
    took = seconds_now() - start;
    ck_assert_msg(took >= 0.9 && took < 5, "took %.2f s", took);
    fd = open(pid_file, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_gt(read(fd, buffer, sizeof buffer - 1), 0);
    close(fd);
    grandchild = (pid_t)atoi(buffer);
    for (int i = 0; i < 100 && kill(grandchild, 0) == 0; i++)
        usleep(20000); /* its new parent reaps it */
    ck_assert_msg(kill(grandchild, 0) != 0, "the program's child %d still runs", (int)grandchild);
    free(pid_file);
}
END_TEST

/* SIGTERM to the caller while it waits (a build being stopped): the
 * program is killed at once, and the signal is reported, not acted on. */
START_TEST(an_interruption_kills_the_program_and_is_reported)
{
    pid_t self = getpid(), helper = fork();
    double start = seconds_now();
    int status;

    if (helper == 0) {
        usleep(300000);
        kill(self, SIGTERM);
        _exit(0);
    }
    ck_assert_int_eq(pyprobe__run_limited((char *[]){"sleep", "300", NULL}, scratch_dir, 60, &status), -EINTR);
    ck_assert_int_eq(status, SIGTERM);
    ck_assert_double_lt(seconds_now() - start, 10);
    waitpid(helper, NULL, 0);
}
END_TEST

/* A stand-in for dtrace: copies its -s file to its -o file, then does what
 * $FAKE_DTRACE says (exit 1, hang). */
static const char fake_dtrace[] = "#!/bin/sh\n"
                                  "while [ $# -gt 0 ]; do\n"
                                  "  case $1 in -s) in=$2; shift;; -o) out=$2; shift;; esac; shift\n"
                                  "done\n"
                                  "cp \"$in\" \"$out\" && touch .dtrace-temp.leftover.h\n"
                                  "case $FAKE_DTRACE in fail) exit 1;; hang) sleep 300;; esac\n";

static int run_fake(const char *how, const char *output, int *status)
{
    char *fake = scratch_path("fake-dtrace");
    int rc;

    write_text(fake, fake_dtrace, strlen(fake_dtrace), 0755);
    setenv("FAKE_DTRACE", how, 1);
    rc = pyprobe__dtrace(fake, "-h", (char *[]){"-DX", NULL}, "provider p { probe x(); };\n", "p.d", output, 1,
                         status);
    free(fake);
    return rc;
}

static void assert_holds(const char *path, const char *text)
{
    char buffer[64] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(read(fd, buffer, sizeof buffer - 1), 0);
    close(fd);
    ck_assert_str_eq(buffer, text);
}

START_TEST(dtrace_output_appears_only_when_it_succeeded)
{
    char *output = scratch_path("p.h"), *stale = scratch_path("p.h.dtrace-tmp"), *junk = scratch_path("p.h.dtrace-tmp/junk");
    struct stat st;
    int status;

    /* A stale scratch directory (a killed run's) is no obstacle. */
    ck_assert_int_eq(mkdir(stale, 0700), 0);
    write_text(junk, "x", 1, 0644);
    ck_assert_int_eq(run_fake("ok", output, &status), 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    assert_holds(output, "provider p { probe x(); };\n");
    ck_assert_int_eq(stat(stale, &st), -1);
    /* Failing or hanging: the old output stays, the scratch directory goes. */
    write_text(output, "old", 3, 0644);
    ck_assert_int_eq(run_fake("fail", output, &status), 0);
    ck_assert_int_eq(WEXITSTATUS(status), 1);
    ck_assert_int_eq(run_fake("hang", output, &status), -ETIMEDOUT);
    assert_holds(output, "old");
    ck_assert_int_eq(stat(stale, &st), -1);
    free(output);
    free(stale);
    free(junk);
}
END_TEST

static Suite *provider_suite(void)
{
    Suite *s = suite_create("provider");
    TCase *reader = tcase_create("reader"), *writer = tcase_create("writer"), *runner = tcase_create("runner");

    tcase_add_test(reader, a_provider_file_reads_as_declared);
    tcase_add_loop_test(reader, types_read_as_dtrace_prints_them, 0, COUNT(types));
    tcase_add_loop_test(reader, mistakes_are_found_where_they_are, 0, COUNT(mistakes));
    tcase_add_checked_fixture(reader, make_scratch, remove_scratch);
    tcase_add_test(reader, files_are_read_or_refused_with_their_errno);
    tcase_add_test(writer, the_notes_source_has_one_note_per_probe);
    tcase_add_test(writer, dtrace_is_given_what_its_script_reads);
    tcase_add_checked_fixture(writer, make_scratch, remove_scratch);
    tcase_add_test(writer, unchanged_output_keeps_its_time_stamp);
    tcase_add_checked_fixture(runner, make_scratch, remove_scratch);
    tcase_add_test(runner, a_program_runs_in_its_directory_and_its_status_is_kept);
    tcase_add_test(runner, a_hanging_program_and_its_children_are_killed_in_time);
    tcase_add_test(runner, an_interruption_kills_the_program_and_is_reported);
    tcase_add_test(runner, dtrace_output_appears_only_when_it_succeeded);
    tcase_set_timeout(runner, 30);
    suite_add_tcase(s, reader);
    suite_add_tcase(s, writer);
    suite_add_tcase(s, runner);
    return s;
}

int main(void)
{
    return test_run_suite(provider_suite());
}
