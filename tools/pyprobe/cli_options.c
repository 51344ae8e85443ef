/* pyprobe's options (see pyprobe --help and man/pyprobe.1). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifndef PYPROBE_VERSION_STRING
#define PYPROBE_VERSION_STRING "unknown"
#endif

static const char usage_text[] =
    "Usage: pyprobe -l [-v] [--json] [--raw-names] [-n DESC] [-P PROVIDER] [-m MODULE]\n"
    "                  [-f FUNCTION] [-p PID]... [FILE]...\n"
    "       pyprobe [-qFZwS] [-o FILE] [-x OPT[=VAL]]... [-p PID]... [-c CMD]\n"
    "               (-s SCRIPT | -n 'DESC [/PRED/] {ACTIONS}')... [ARG]...\n";

static const char help_text[] =
    "List the USDT (stapsdt) probes of ELF files and running processes, as\n"
    "`dtrace -l` does: one row per probe site; or run D scripts on them, as\n"
    "dtrace does, with bpftrace as the engine.\n"
    "\n"
    "Listing:\n"
    "  -l, --list             list probes\n"
    "  -p, --pid PID          every ELF object mapped in process PID; the provider\n"
    "                         shows the pid (python4242); repeatable\n"
    "  FILE                   an ELF file: executable, shared library, object\n"
    "                         (with neither FILE nor -p: every process that -n matches)\n"
    "\n"
    "Filters (globs; a probe is listed when any filter matches it):\n"
    "  -n [[[PROVIDER:]MODULE:]FUNCTION:]NAME\n"
    "                         a probe description; NAME matches function-entry\n"
    "                         and function__entry alike\n"
    "  -P PROVIDER            python matches python4242 too\n"
    "  -m [PROVIDER:]MODULE   the object's base name (or its path, with a '/')\n"
    "  -f [[PROVIDER:]MODULE:]FUNCTION\n"
    "\n"
    "Listing output:\n"
    "  -v, --verbose          each probe's address, semaphore (and with -p its\n"
    "                         value: how many tracers enabled it), arguments and,\n"
    "                         for providers built by pyprobe, argument types;\n"
    "                         say on stderr when a file has no probes\n"
    "      --json             one JSON document with all of it\n"
    "      --raw-names        names as in the notes (function__entry)\n"
    "\n"
    "Running D (without -l), as dtrace does:\n"
    "  -s SCRIPT              a D script; ARGs after it are $1.. ($$1.. as strings);\n"
    "                         executable scripts start #!/usr/bin/env -S pyprobe -s\n"
    "  -n PROGRAM             a D program: 'python*:::function-entry { ... }'\n"
    "  -p PID                 trace process PID ($target); stop when it exits\n"
    "  -c CMD                 start CMD, held until every probe is attached, trace\n"
    "                         it ($target), stop when it exits\n"
    "  -q                     quiet: only what the script prints (#pragma D option quiet)\n"
    "  -F                     indent the flow of entry and return probes (flowindent)\n"
    "  -Z                     allow descriptions that match no probe (zdefs)\n"
    "  -w                     allow destructive actions (destructive)\n"
    "  -x OPT[=VAL]           a D option: quiet, flowindent, zdefs, aggsortkey,\n"
    "                         aggsortrev, aggsortpos, aggsortkeypos, strsize,\n"
    "                         switchrate, bufsize, ... (#pragma D option OPT=VAL)\n"
    "  -o FILE                append the output to FILE\n"
    "  -S                     print the bpftrace program on stderr\n"
    "  Descriptions: python4242:::NAME (a process), python$target:::NAME (-p, -c),\n"
    "  python*:::NAME (every process that has the provider), a module with a '/'\n"
    "  (a file, even one that is loaded later); BEGIN, END, tick-1s, profile-99,\n"
    "  syscall::NAME:entry. Ctrl-C ends tracing: the aggregations print, exit 0.\n"
    "\n"
    "  -h, --help             this help\n"
    "  -V, --version          pyprobe's version\n"
    "\n"
    "Exit status, listing: 0 when at least one FILE or PID could be read, 1 when\n"
    "none could. Running D: exit()'s status, else 0; 1 when the script fails to\n"
    "compile or tracing fails. 2 for a usage error. Problems go to stderr, one\n"
    "line each. See pyprobe(1).\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("pyprobe: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    fputs(usage_text, stderr);
    return CLI_USAGE;
}

static int out_of_memory(void)
{
    fputs("pyprobe: out of memory\n", stderr);
    return CLI_ERROR;
}

static int parse_pid(const char *text, int *pid)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (errno || end == text || *end || value <= 0 || value > INT_MAX)
        return -EINVAL;
    *pid = (int)value;
    return 0;
}

static int add_filter(struct cli_options *opts, const char *text, enum pyprobe__field last)
{
    int rc = pyprobe__filter_parse(text, last, &opts->filters[opts->filter_count]);

    if (rc == -ENOMEM)
        return out_of_memory();
    if (rc != 0)
        return usage_error("%s: too many fields for this option", text);
    opts->filter_count++;
    return CLI_OK;
}

/* -q -F -Z -w and -x NAME[=VALUE]: D options, in command-line order. */
static int add_d_option(struct cli_options *opts, const char *name, size_t length, const char *value)
{
    char *copy = strndup(name, length);

    if (!copy)
        return out_of_memory();
    opts->d_options[opts->d_option_count++] = (struct pyprobe__d_option){copy, value};
    return CLI_OK;
}

static int flag(struct cli_options *opts, const char *name)
{
    return add_d_option(opts, name, strlen(name), NULL);
}

static int add_x_option(struct cli_options *opts, const char *text)
{
    const char *equals = strchr(text, '=');
    size_t length = equals ? (size_t)(equals - text) : strlen(text);

    if (length == 0)
        return usage_error("-x %s: an option name is needed", text);
    return add_d_option(opts, text, length, equals ? equals + 1 : NULL);
}

/* An unknown option ('?') or one without its argument (':'). */
static int bad_option(int kind, const char *arg)
{
    char letter[3] = {'-', (char)optopt, '\0'};
    const char *name = optopt ? letter : arg;

    return usage_error(kind == ':' ? "option %s needs an argument" : "unrecognized option %s", name);
}

static const struct option long_options[] = {
    {"list", no_argument, NULL, 'l'},       {"pid", required_argument, NULL, 'p'},
    {"verbose", no_argument, NULL, 'v'},    {"json", no_argument, NULL, 'J'},
    {"raw-names", no_argument, NULL, 'R'},  {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},    {NULL, 0, NULL, 0}};

/* One option: CLI_OK, or the exit status to stop with (*done for -h, -V). */
static int take_option(int option, struct cli_options *opts, bool *done)
{
    switch (option) {
    case 'l': opts->list = true; return CLI_OK;
    case 'v': opts->verbose = true; return CLI_OK;
    case 'J': opts->json = true; return CLI_OK;
    case 'R': opts->raw_names = true; return CLI_OK;
    case 'n': /* a filter with -l, a program without: decided at the end */
    case 's':
        opts->sources[opts->source_count++] = (struct cli_source){option == 's', optarg};
        return CLI_OK;
    case 'f': return add_filter(opts, optarg, PYPROBE__FIELD_FUNCTION);
    case 'm': return add_filter(opts, optarg, PYPROBE__FIELD_MODULE);
    case 'P': return add_filter(opts, optarg, PYPROBE__FIELD_PROVIDER);
    case 'q': return flag(opts, "quiet");
    case 'F': return flag(opts, "flowindent");
    case 'Z': return flag(opts, "zdefs");
    case 'w': return flag(opts, "destructive");
    case 'x': return add_x_option(opts, optarg);
    case 'S': opts->show_program = true; return CLI_OK;
    case 'o': opts->output = optarg; return CLI_OK;
    case 'c':
        if (opts->command)
            return usage_error("%s", "only one -c");
        opts->command = optarg;
        return CLI_OK;
    case 'p':
        if (parse_pid(optarg, &opts->pids[opts->pid_count]) != 0)
            return usage_error("-p %s: not a process id", optarg);
        opts->pid_count++;
        return CLI_OK;
    case 'h':
        fputs(usage_text, stdout);
        fputs(help_text, stdout);
        *done = true;
        return CLI_OK;
    case 'V':
        puts("pyprobe " PYPROBE_VERSION_STRING);
        *done = true;
        return CLI_OK;
    default:
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
}

/* With -l, each -n is a filter; -s and the D-only options have no place. */
static int check_list(struct cli_options *opts)
{
    for (size_t i = 0; i < opts->source_count; i++) {
        int rc;

        if (opts->sources[i].is_file)
            return usage_error("%s", "-l lists with filters (-n, -P, -m, -f), not with -s");
        if ((rc = add_filter(opts, opts->sources[i].text, PYPROBE__FIELD_NAME)) != CLI_OK)
            return rc;
    }
    if (opts->command || opts->show_program)
        return usage_error("%s", "-c and -S run D: not with -l");
    if (opts->file_count == 0 && opts->pid_count == 0 && opts->filter_count == 0)
        return usage_error("%s", "-l needs a FILE or -p PID, or a filter (-n 'python*:::') for every process");
    return CLI_OK;
}

static int check_trace(const struct cli_options *opts)
{
    if (opts->source_count == 0)
        return usage_error("%s", "nothing to do: -l lists probes, -s SCRIPT or -n PROGRAM runs D");
    if (opts->filter_count)
        return usage_error("%s", "-P, -m and -f filter -l's listing; a D program names its probes");
    if (opts->verbose || opts->json || opts->raw_names)
        return usage_error("%s", "-v, --json and --raw-names go with -l");
    return CLI_OK;
}

int cli_parse_options(int argc, char **argv, struct cli_options *opts, bool *done)
{
    int option, rc = CLI_OK;

    *opts = (struct cli_options){0};
    *done = false;
    /* At most one filter, pid, source or option per argument. */
    opts->filters = calloc((size_t)argc, sizeof *opts->filters);
    opts->pids = calloc((size_t)argc, sizeof *opts->pids);
    opts->sources = calloc((size_t)argc, sizeof *opts->sources);
    opts->d_options = calloc((size_t)argc, sizeof *opts->d_options);
    if (!opts->filters || !opts->pids || !opts->sources || !opts->d_options)
        return out_of_memory();
    /* getopt's own messages name the program by argv[0], a full path when
     * installed; it says what is wrong, and this names it pyprobe. */
    opterr = 0;
    while (rc == CLI_OK && !*done &&
           (option = getopt_long(argc, argv, ":lp:n:P:m:f:vhVqFZwSx:o:c:s:", long_options, NULL)) != -1)
        rc = option == '?' || option == ':' ? bad_option(option, argv[optind - 1]) : take_option(option, opts, done);
    if (rc != CLI_OK || *done)
        return rc;
    opts->files = argv + optind;
    opts->file_count = (size_t)(argc - optind);
    return opts->list ? check_list(opts) : check_trace(opts);
}

void cli_free_options(struct cli_options *opts)
{
    for (size_t i = 0; i < opts->filter_count; i++)
        pyprobe__filter_free(&opts->filters[i]);
    for (size_t i = 0; i < opts->d_option_count; i++)
        free((char *)opts->d_options[i].name);
    free(opts->filters);
    free(opts->pids);
    free(opts->sources);
    free(opts->d_options);
    *opts = (struct cli_options){0};
}

/* Where the output goes: stdout, or -o's file, appended to (dtrace's
 * fopen(g_ofile, "a")). */
static FILE *open_output(const struct cli_options *opts)
{
    FILE *out = opts->output ? fopen(opts->output, "a") : stdout;

    if (!out)
        fprintf(stderr, "pyprobe: failed to open output file '%s': %s\n", opts->output, strerror(errno));
    return out;
}

static int list(const struct cli_options *opts, FILE *stream)
{
    struct cli_output out;
    int rc;

    if (opts->json && cli_json_output(&out, stream) != 0)
        return out_of_memory();
    if (!opts->json)
        cli_table_output(&out, stream, opts->verbose);
    rc = cli_list(opts, &out);
    if (opts->json)
        cli_json_free(&out);
    return rc;
}

int pyprobe_cli_main(int argc, char **argv)
{
    struct cli_options opts;
    bool done;
    int rc = cli_parse_options(argc, argv, &opts, &done);
    FILE *out = rc == CLI_OK && !done ? open_output(&opts) : NULL;

    if (rc == CLI_OK && !done && !out)
        rc = CLI_ERROR;
    if (out)
        rc = opts.list ? list(&opts, out) : cli_trace(&opts, out);
    if (out && (fflush(out) != 0 || ferror(out))) {
        fprintf(stderr, "pyprobe: %s: %s\n", opts.output ? opts.output : "standard output", strerror(errno));
        rc = CLI_ERROR;
    }
    if (out && out != stdout)
        fclose(out);
    cli_free_options(&opts);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("pyprobe: standard output");
        rc = CLI_ERROR;
    }
    return rc;
}
