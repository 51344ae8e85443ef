/* --json: the listing as one JSON document,
 *   {"probes": [{...}, ...], "errors": [{"target": ..., "message": ...}, ...]}
 * with the fields described in man/pyprobe.1. Rows stream out as they come;
 * the problems, few, are kept for the end. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct json_problem {
    struct json_problem *next;
    char *target, *message;
};

struct json_state {
    size_t rows;
    struct json_problem *problems, **last;
};

/* The length of the valid UTF-8 sequence at `s`, or 0 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_length(const unsigned char *s)
{
    static const struct { unsigned char lead_min, lead_max, second_min, second_max; size_t length; } forms[] = {
        {0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3}, {0xe1, 0xec, 0x80, 0xbf, 3},
        {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3}, {0xf0, 0xf0, 0x90, 0xbf, 4},
        {0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4}};

    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        if (s[0] < forms[f].lead_min || s[0] > forms[f].lead_max)
            continue;
        if (s[1] < forms[f].second_min || s[1] > forms[f].second_max)
            return 0;
        for (size_t i = 2; i < forms[f].length; i++)
            if ((s[i] & 0xc0) != 0x80)
                return 0;
        return forms[f].length;
    }
    return 0;
}

/* A JSON string. Notes are bytes, not text: a byte that is not part of
 * valid UTF-8 is written as the code point of the same value (\u00XX). */
static void put_string(FILE *stream, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;

    putc('"', stream);
    while (*s) {
        size_t length = *s >= 0x80 ? utf8_length(s) : 1;

        if (*s == '"' || *s == '\\')
            fprintf(stream, "\\%c", *s);
        else if (*s < 0x20 || *s == 0x7f || length == 0)
            fprintf(stream, "\\u%04x", *s);
        else
            fwrite(s, 1, length, stream);
        s += length ? length : 1;
    }
    putc('"', stream);
}

static void put_key(FILE *stream, const char *key)
{
    fprintf(stream, ", \"%s\": ", key);
}

static void put_string_or_null(FILE *stream, const char *key, const char *text)
{
    put_key(stream, key);
    if (text)
        put_string(stream, text);
    else
        fputs("null", stream);
}

static void put_number_or_null(FILE *stream, const char *key, bool known, uint64_t value)
{
    put_key(stream, key);
    if (known)
        fprintf(stream, "%" PRIu64, value);
    else
        fputs("null", stream);
}

static void put_arguments(FILE *stream, const struct pyprobe__stapsdt_probe *probe)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];
    int count = pyprobe__parse_args(probe->args, args);

    put_string_or_null(stream, "arguments_text", probe->args);
    put_key(stream, "arguments");
    if (count < 0) {
        fputs("null", stream);
        return;
    }
    putc('[', stream);
    for (int i = 0; i < count; i++) {
        char *operand = strndup(args[i].operand, args[i].operand_length);

        fprintf(stream, "%s{\"index\": %d, \"size\": %u, \"signed\": %s, \"float\": %s, \"operand\": ", i ? ", " : "", i,
                args[i].size, args[i].is_signed ? "true" : "false", args[i].is_float ? "true" : "false");
        put_string(stream, operand ? operand : "");
        putc('}', stream);
        free(operand);
    }
    putc(']', stream);
}

static void put_types(FILE *stream, const struct pyprobe__signature *signature)
{
    put_key(stream, "types");
    if (!signature) {
        fputs("null", stream);
        return;
    }
    putc('[', stream);
    for (unsigned i = 0; i < signature->argc; i++) {
        fputs(i ? ", " : "", stream);
        put_string(stream, signature->types[i]);
    }
    putc(']', stream);
}

static void put_process(FILE *stream, const struct cli_row *row)
{
    bool has_semaphore = row->in_process && row->site->probe.semaphore;

    put_number_or_null(stream, "process_address", row->in_process, row->process_pc);
    put_number_or_null(stream, "process_semaphore", has_semaphore, row->process_semaphore);
    put_number_or_null(stream, "semaphore_value", has_semaphore && row->semaphore_value >= 0,
                       (uint64_t)row->semaphore_value);
    put_string_or_null(stream, "semaphore_error",
                       has_semaphore && row->semaphore_value < 0 ? strerror(-row->semaphore_value) : NULL);
}

static void json_begin(struct cli_output *out)
{
    fputs("{\"probes\": [", out->stream);
}

static void json_row(struct cli_output *out, const struct cli_row *row)
{
    struct json_state *state = out->state;
    const struct pyprobe__stapsdt_probe *probe = &row->site->probe;
    FILE *stream = out->stream;

    fprintf(stream, "%s\n  {\"id\": %u", state->rows++ ? "," : "", row->id);
    put_string_or_null(stream, "provider", probe->provider);
    put_number_or_null(stream, "pid", row->pid != 0, (uint64_t)row->pid);
    put_string_or_null(stream, "module", row->module);
    put_string_or_null(stream, "path", row->path);
    put_string_or_null(stream, "function", row->site->function);
    put_string_or_null(stream, "name", row->name);
    put_string_or_null(stream, "note_name", probe->name);
    put_number_or_null(stream, "address", true, probe->pc);
    put_number_or_null(stream, "semaphore", probe->semaphore != 0, probe->semaphore);
    fprintf(stream, ", \"note\": {\"pc\": %" PRIu64 ", \"base\": %" PRIu64 ", \"semaphore\": %" PRIu64 "}",
            probe->note_pc, probe->note_base, probe->note_semaphore);
    put_process(stream, row);
    put_arguments(stream, probe);
    put_types(stream, row->site->signature);
    putc('}', stream);
}

/* Said on stderr at once, and kept for the document's "errors". */
static void json_problem(struct cli_output *out, const char *target, const char *message)
{
    struct json_state *state = out->state;
    struct json_problem *problem = calloc(1, sizeof *problem);

    cli_say(target, message);
    if (!problem)
        return;
    problem->target = strdup(target);
    problem->message = strdup(message);
    *state->last = problem;
    state->last = &problem->next;
}

static void json_end(struct cli_output *out)
{
    struct json_state *state = out->state;
    FILE *stream = out->stream;

    fputs(state->rows ? "\n], \"errors\": [" : "], \"errors\": [", stream);
    for (struct json_problem *p = state->problems; p; p = p->next) {
        fputs(p == state->problems ? "\n  {\"target\": " : ",\n  {\"target\": ", stream);
        put_string(stream, p->target ? p->target : "");
        fputs(", \"message\": ", stream);
        put_string(stream, p->message ? p->message : "");
        putc('}', stream);
    }
    fputs(state->problems ? "\n]}\n" : "]}\n", stream);
}

int cli_json_output(struct cli_output *out, FILE *stream)
{
    struct json_state *state = calloc(1, sizeof *state);

    if (!state)
        return -ENOMEM;
    state->last = &state->problems;
    *out = (struct cli_output){.begin = json_begin, .row = json_row, .problem = json_problem,
                               .end = json_end, .stream = stream, .state = state};
    return 0;
}

void cli_json_free(struct cli_output *out)
{
    struct json_state *state = out->state;

    while (state && state->problems) {
        struct json_problem *next = state->problems->next;

        free(state->problems->target);
        free(state->problems->message);
        free(state->problems);
        state->problems = next;
    }
    free(state);
    out->state = NULL;
}
