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
    "                  [-f FUNCTION] [-p PID]... [FILE]...\n";

static const char help_text[] =
    "List the USDT (stapsdt) probes of ELF files and running processes, as\n"
    "`dtrace -l` does: one row per probe site.\n"
    "\n"
    "  -l, --list             list probes (the only action)\n"
    "  -p, --pid PID          every ELF object mapped in process PID; the provider\n"
    "                         shows the pid (python4242); repeatable\n"
    "  FILE                   an ELF file: executable, shared library, object\n"
    "\n"
    "Filters (globs; a probe is listed when any filter matches it):\n"
    "  -n [[[PROVIDER:]MODULE:]FUNCTION:]NAME\n"
    "                         a probe description; NAME matches function-entry\n"
    "                         and function__entry alike\n"
    "  -P PROVIDER            python matches python4242 too\n"
    "  -m [PROVIDER:]MODULE   the object's base name (or its path, with a '/')\n"
    "  -f [[PROVIDER:]MODULE:]FUNCTION\n"
    "\n"
    "Output:\n"
    "  -v, --verbose          each probe's address, semaphore (and with -p its\n"
    "                         value: how many tracers enabled it), arguments and,\n"
    "                         for providers built by pyprobe, argument types;\n"
    "                         say on stderr when a file has no probes\n"
    "      --json             one JSON document with all of it\n"
    "      --raw-names        names as in the notes (function__entry)\n"
    "  -h, --help             this help\n"
    "  -V, --version          pyprobe's version\n"
    "\n"
    "Exit status: 0 when at least one FILE or PID could be read, 1 when none\n"
    "could, 2 for a usage error. Problems go to stderr, one line each.\n"
    "See pyprobe(1).\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("pyprobe: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    fputs(usage_text, stderr);
    return CLI_USAGE;
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

    if (rc == -ENOMEM) {
        fputs("pyprobe: out of memory\n", stderr);
        return CLI_NOTHING_LISTED;
    }
    if (rc != 0)
        return usage_error("%s: too many fields for this option", text);
    opts->filter_count++;
    return CLI_OK;
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
    case 'n': return add_filter(opts, optarg, PYPROBE__FIELD_NAME);
    case 'f': return add_filter(opts, optarg, PYPROBE__FIELD_FUNCTION);
    case 'm': return add_filter(opts, optarg, PYPROBE__FIELD_MODULE);
    case 'P': return add_filter(opts, optarg, PYPROBE__FIELD_PROVIDER);
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

int cli_parse_options(int argc, char **argv, struct cli_options *opts, bool *done)
{
    int option, rc = CLI_OK;

    *opts = (struct cli_options){0};
    *done = false;
    /* At most one filter or pid per argument. */
    opts->filters = calloc((size_t)argc, sizeof *opts->filters);
    opts->pids = calloc((size_t)argc, sizeof *opts->pids);
    if (!opts->filters || !opts->pids) {
        fputs("pyprobe: out of memory\n", stderr);
        return CLI_NOTHING_LISTED;
    }
    while (rc == CLI_OK && !*done && (option = getopt_long(argc, argv, "lp:n:P:m:f:vhV", long_options, NULL)) != -1)
        rc = take_option(option, opts, done);
    if (rc != CLI_OK || *done)
        return rc;
    opts->files = argv + optind;
    opts->file_count = (size_t)(argc - optind);
    if (!opts->list)
        return usage_error("%s", "nothing to do: -l lists probes");
    if (opts->file_count == 0 && opts->pid_count == 0)
        return usage_error("%s", "-l needs a FILE or -p PID");
    return CLI_OK;
}

void cli_free_options(struct cli_options *opts)
{
    for (size_t i = 0; i < opts->filter_count; i++)
        pyprobe__filter_free(&opts->filters[i]);
    free(opts->filters);
    free(opts->pids);
    *opts = (struct cli_options){0};
}

int pyprobe_cli_main(int argc, char **argv)
{
    struct cli_options opts;
    struct cli_output out;
    bool done;
    int rc = cli_parse_options(argc, argv, &opts, &done);

    if (rc == CLI_OK && !done) {
        if (opts.json && cli_json_output(&out, stdout) != 0) {
            fputs("pyprobe: out of memory\n", stderr);
            rc = CLI_NOTHING_LISTED;
        } else {
            if (!opts.json)
                cli_table_output(&out, stdout, opts.verbose);
            rc = cli_list(&opts, &out);
            if (opts.json)
                cli_json_free(&out);
        }
    }
    cli_free_options(&opts);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("pyprobe: standard output");
        rc = CLI_NOTHING_LISTED;
    }
    return rc;
}
