/* Running D: the sources read, Ctrl-C caught, the session run (src/d,
 * d_session.h), what dtrace says on stderr said. */
#define _GNU_SOURCE /* pipe2 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int interrupt_pipe[2] = {-1, -1};

/* Ctrl-C and SIGTERM (dtrace's intr()): the run sees it on the pipe. */
static void on_interrupt(int signo)
{
    int saved = errno;

    (void)signo;
    if (write(interrupt_pipe[1], "", 1) < 0)
        errno = saved;
    errno = saved;
}

static int catch_interrupts(void)
{
    struct sigaction action = {.sa_handler = on_interrupt};

    if (pipe2(interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -errno;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    return 0;
}

static void notice(void *arg, const char *message)
{
    (void)arg;
    fprintf(stderr, "pyprobe: %s\n", message);
}

/* The whole of a script. */
static char *read_script(const char *path, size_t *length)
{
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t capacity = 0;

    if (!f) {
        fprintf(stderr, "pyprobe: failed to open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    *length = 0;
    for (;;) {
        if (*length + 4096 + 1 > capacity) {
            char *grown = realloc(text, capacity = capacity ? capacity * 2 : 8192);

            if (!grown) {
                fprintf(stderr, "pyprobe: out of memory\n");
                break;
            }
            text = grown;
        }
        *length += fread(text + *length, 1, capacity - *length - 1, f);
        if (feof(f) || ferror(f))
            break;
    }
    if (ferror(f) || !text) {
        if (ferror(f))
            fprintf(stderr, "pyprobe: failed to read %s: %s\n", path, strerror(errno));
        free(text);
        text = NULL;
    } else {
        text[*length] = '\0';
    }
    fclose(f);
    return text;
}

/* More than one batch of bpftrace's events (a 64 KiB read) renders to. */
#define OUTPUT_BUFFER (4u << 20)

int cli_trace(const struct cli_options *opts, FILE *out)
{
    struct pyprobe__d_source *sources = calloc(opts->source_count, sizeof *sources);
    char message[1024];
    int status = 0, rc = sources ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && i < opts->source_count; i++) {
        const struct cli_source *src = &opts->sources[i];
        size_t length = strlen(src->text);
        char *text = src->is_file ? read_script(src->text, &length) : (char *)src->text;

        if (!text)
            rc = -EIO;
        sources[i] = (struct pyprobe__d_source){src->is_file ? src->text : "-n", text, length};
    }
    /* Written only at the end of each batch of bpftrace's events (as
     * dtrace flushes after each dtrace_work()), never mid-line by a full
     * buffer: a -c command writing to the same terminal or pipe then
     * interleaves whole lines with ours, never parts of them. */
    if (rc == 0 && setvbuf(out, NULL, _IOFBF, OUTPUT_BUFFER) != 0)
        rc = -ENOMEM;
    if (rc == 0 && catch_interrupts() != 0)
        rc = -EAGAIN, fprintf(stderr, "pyprobe: cannot catch Ctrl-C: %s\n", strerror(errno));
    if (rc == 0) {
        struct pyprobe__d_session session = {
            .sources = sources, .source_count = opts->source_count, .macro_args = (const char *const *)opts->files,
            .macro_count = opts->file_count, .options = opts->d_options, .option_count = opts->d_option_count,
            .pids = opts->pids, .pid_count = opts->pid_count, .command = opts->command, .out = out,
            .program_out = opts->show_program ? stderr : NULL, .interrupt_fd = interrupt_pipe[0],
            .notice = notice};

        rc = pyprobe__d_session_run(&session, &status, message, sizeof message);
        if (rc != 0)
            fprintf(stderr, "pyprobe: %s\n", message);
    }
    for (size_t i = 0; sources && i < opts->source_count; i++)
        if (opts->sources[i].is_file)
            free((char *)sources[i].text);
    free(sources);
    return rc ? CLI_ERROR : status;
}
