/* dtrace -l's table, and with -v its detail blocks. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* dtrace's columns: "%5s %10s %17s %33s %s" (cmd/dtrace/dtrace.c). */
enum { ID_WIDTH = 5, PROVIDER_WIDTH = 10, MODULE_WIDTH = 17, FUNCTION_WIDTH = 33 };

/* A detail line's label, as in dtrace -lv's blocks: two tabs, then a column. */
#define LABEL "\t\t%-20s"

/* How a byte prints in a cell: control characters as \xNN, so that a lying
 * note cannot break a row in two or move the cursor. */
static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static size_t printed_length(const char *text)
{
    size_t length = 0;

    for (; *text; text++)
        length += needs_escape((unsigned char)*text) ? 4 : 1;
    return length;
}

static void put_escaped(FILE *stream, const char *text)
{
    while (*text) {
        size_t plain = 0;

        while (text[plain] && !needs_escape((unsigned char)text[plain]))
            plain++;
        fwrite(text, 1, plain, stream);
        text += plain;
        if (*text)
            fprintf(stream, "\\x%02x", (unsigned char)*text++);
    }
}

/* `count` spaces: fprintf("%*s") costs more than the rest of a row. */
static void put_spaces(FILE *stream, size_t count)
{
    static const char spaces[] = "                                ";

    for (size_t chunk; count > 0; count -= chunk) {
        chunk = count < sizeof spaces - 1 ? count : sizeof spaces - 1;
        fwrite(spaces, 1, chunk, stream);
    }
}

/* printf's "%*s" of text and suffix, escaped: right-aligned in `width`. */
static void put_cell(FILE *stream, const char *text, const char *suffix, int width)
{
    size_t length = printed_length(text) + strlen(suffix);

    if (length < (size_t)width)
        put_spaces(stream, (size_t)width - length);
    put_escaped(stream, text);
    fputs(suffix, stream);
}

/* The header comes with the first row, or at the end when some target was
 * read but had nothing to list (as dtrace -l), never when none could be. */
static void table_begin(struct cli_output *out)
{
    out->state = NULL;
}

static void put_header(struct cli_output *out)
{
    if (out->state)
        return;
    out->state = out;
    fprintf(out->stream, "%*s %*s %*s %*s %s\n", ID_WIDTH, "ID", PROVIDER_WIDTH, "PROVIDER", MODULE_WIDTH,
            "MODULE", FUNCTION_WIDTH, "FUNCTION", "NAME");
}

static void put_address(FILE *stream, const char *label, uint64_t address, unsigned size)
{
    fprintf(stream, LABEL "0x%0*" PRIx64 "\n", label, (int)(2 * size), address);
}

static void put_semaphore_value(FILE *stream, int value)
{
    if (value >= 0)
        fprintf(stream, LABEL "%d\n", "Semaphore value:", value);
    else
        fprintf(stream, LABEL "unreadable (%s)\n", "Semaphore value:", strerror(-value));
}

static void put_location(FILE *stream, const struct cli_row *row)
{
    const struct pyprobe__stapsdt_probe *probe = &row->site->probe;

    fputs("\n\tProbe Location\n", stream);
    fprintf(stream, LABEL, "Path:");
    put_escaped(stream, row->path);
    putc('\n', stream);
    put_address(stream, "Address:", probe->pc, row->address_size);
    if (row->in_process)
        put_address(stream, "Process address:", row->process_pc, row->address_size);
    if (!probe->semaphore) {
        fprintf(stream, LABEL "none\n", "Semaphore:");
        return;
    }
    put_address(stream, "Semaphore:", probe->semaphore, row->address_size);
    if (row->in_process) {
        put_address(stream, "Process semaphore:", row->process_semaphore, row->address_size);
        put_semaphore_value(stream, row->semaphore_value);
    }
}

static void put_arguments(FILE *stream, const struct cli_row *row)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];
    int count = pyprobe__parse_args(row->site->probe.args, args);

    fputs("\n\tArgument Locations\n", stream);
    if (count < 0) {
        fputs("\t\tmalformed: ", stream);
        put_escaped(stream, row->site->probe.args);
        fputs("\n", stream);
        return;
    }
    for (int i = 0; i < count; i++)
        fprintf(stream, "\t\targ%d: %u bytes, %s, %.*s\n", i, args[i].size, cli_arg_kind(&args[i]),
                (int)args[i].operand_length, args[i].operand);
    if (count == 0)
        fputs("\t\tNone\n", stream);
}

/* dtrace's block, for providers whose .d declaration the file records. */
static void put_types(FILE *stream, const struct pyprobe__signature *signature)
{
    fputs("\n\tArgument Types\n", stream);
    for (unsigned i = 0; i < signature->argc; i++) {
        fprintf(stream, "\t\targs[%u]: ", i);
        put_escaped(stream, signature->types[i]);
        fputs("\n", stream);
    }
    if (signature->argc == 0)
        fputs("\t\tNone\n", stream);
}

static void table_row(struct cli_output *out, const struct cli_row *row)
{
    char pid[16] = "";

    put_header(out);
    if (row->pid)
        snprintf(pid, sizeof pid, "%d", row->pid);
    fprintf(out->stream, "%*u ", ID_WIDTH, row->id);
    put_cell(out->stream, row->site->probe.provider, pid, PROVIDER_WIDTH);
    putc(' ', out->stream);
    put_cell(out->stream, row->module, "", MODULE_WIDTH);
    putc(' ', out->stream);
    put_cell(out->stream, row->site->function ? row->site->function : "", "", FUNCTION_WIDTH);
    putc(' ', out->stream);
    put_escaped(out->stream, row->name);
    putc('\n', out->stream);
    if (!out->verbose)
        return;
    put_location(out->stream, row);
    put_arguments(out->stream, row);
    if (row->site->signature)
        put_types(out->stream, row->site->signature);
    putc('\n', out->stream);
}

void cli_say(const char *target, const char *message)
{
    fputs("pyprobe: ", stderr);
    put_escaped(stderr, target);
    fputs(": ", stderr);
    put_escaped(stderr, message);
    putc('\n', stderr);
}

static void table_problem(struct cli_output *out, const char *target, const char *message)
{
    (void)out;
    cli_say(target, message);
}

static void table_end(struct cli_output *out)
{
    if (out->read_any)
        put_header(out);
}

void cli_table_output(struct cli_output *out, FILE *stream, bool verbose)
{
    *out = (struct cli_output){.begin = table_begin, .row = table_row, .problem = table_problem,
                               .end = table_end, .stream = stream, .verbose = verbose};
}

const char *cli_arg_kind(const struct pyprobe__arg *arg)
{
    return arg->is_float ? "float" : arg->is_signed ? "signed" : "unsigned";
}
