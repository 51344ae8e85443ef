/*
 * The pyprobe command's own layer over the lister library (src/lister) and
 * the D consumer (src/d, d_session.h): options, the walk over files and
 * processes, and the printing, which the libraries never do. main.c only
 * calls pyprobe_cli_main().
 */
#ifndef PYPROBE_CLI_H
#define PYPROBE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "d_session.h"
#include "lister_args.h"
#include "lister_filter.h"
#include "lister_sites.h"

/* Exit statuses (dtrace's: 1 for an error, 2 for a usage error). */
enum { CLI_OK = 0, CLI_NOTHING_LISTED = 1, CLI_ERROR = 1, CLI_USAGE = 2 };

/* One -s FILE or -n TEXT of a D run, in command-line order. */
struct cli_source {
    bool is_file;
    const char *text;           /* the path, or the -n text */
};

struct cli_options {
    bool list, verbose, json, raw_names;
    struct pyprobe__filter *filters;
    size_t filter_count;
    int *pids;
    size_t pid_count;
    char **files;               /* -l: the operands; else D's macro arguments */
    size_t file_count;
    /* Running D (without -l). */
    struct cli_source *sources;
    size_t source_count;
    struct pyprobe__d_option *d_options; /* -x, and -q -F -Z -w */
    size_t d_option_count;
    const char *command;        /* -c */
    const char *output;         /* -o: appended to, as dtrace does */
    bool show_program;          /* -S */
};

/* Fills `opts` from argv: CLI_OK, or the exit status when there is nothing
 * more to do (--help, --version: CLI_OK with *done; a usage error: CLI_USAGE,
 * already reported). */
int cli_parse_options(int argc, char **argv, struct cli_options *opts, bool *done);
void cli_free_options(struct cli_options *opts);

/* One row of the listing: a probe site where it is. */
struct cli_row {
    unsigned id;
    const struct pyprobe__site *site;
    const char *name;           /* as shown: D form, or the note's with --raw-names */
    const char *module;         /* base name */
    const char *path;
    int pid;                    /* 0 for a file */
    unsigned address_size;      /* 4 or 8: how wide addresses print */
    bool in_process;            /* with -p: the process addresses below are known */
    uint64_t process_pc, process_semaphore;
    int semaphore_value;        /* >= 0 when read; else the negative errno */
};

/* The two ways to print: dtrace's table (with -v, its detail blocks), JSON. */
struct cli_output {
    void (*begin)(struct cli_output *out);
    void (*row)(struct cli_output *out, const struct cli_row *row);
    /* A problem with one file or process; `target` is "FILE" or "pid N". */
    void (*problem)(struct cli_output *out, const char *target, const char *message);
    void (*end)(struct cli_output *out);
    FILE *stream;
    bool verbose;
    bool read_any;              /* set before end(): some target could be read */
    void *state;
};

void cli_table_output(struct cli_output *out, FILE *stream, bool verbose);
/* Returns 0, or -ENOMEM. */
int cli_json_output(struct cli_output *out, FILE *stream);
void cli_json_free(struct cli_output *out);

/* "pyprobe: TARGET: MESSAGE" on stderr, control characters escaped. */
void cli_say(const char *target, const char *message);

/* What the row's arguments and types look like, shared by both outputs. */
const char *cli_arg_kind(const struct pyprobe__arg *arg); /* "signed", "unsigned", "float" */

/* Lists every target of `opts`: the exit status. */
int cli_list(const struct cli_options *opts, struct cli_output *out);

/* Runs the D program of -s and -n: its exit status. */
int cli_trace(const struct cli_options *opts, FILE *out);

int pyprobe_cli_main(int argc, char **argv);

#endif /* PYPROBE_CLI_H */
