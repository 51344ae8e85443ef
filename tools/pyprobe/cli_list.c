/* The walk over files and processes: what to list, and what went wrong. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "lister_proc.h"

/* One object being listed: a file, or an object mapped in a process. */
struct target_object {
    const char *target;         /* for messages: "FILE" or "pid N" */
    const char *path;
    struct pyprobe__elf *elf;   /* not const: it keeps the function names read */
    const struct pyprobe__proc *proc;        /* NULL for a file */
    const uint64_t *biases;
    size_t bias_count;
};

struct walk {
    const struct cli_options *opts;
    struct cli_output *out;
    unsigned next_id;
    size_t listed;              /* sites listed for the current target */
    size_t seen;                /* its sites, matching the filters or not */
    char *d_name;               /* the D form of the current site's name */
    size_t d_name_capacity;
    bool every_process;         /* no FILE, no -p: problems of one process are not the user's */
};

/* The message for an error of the reader, in the words of this tool. */
static const char *describe(int rc)
{
    switch (rc) {
    case -ENOEXEC: return "not an ELF file";
    case -EBADMSG: return "malformed ELF file (truncated, or headers past its end)";
    case -ESRCH: return "no such process";
    case -ESTALE: return "the mapped file was replaced";
    default: return strerror(-rc);
    }
}

/* A problem of a target, or of one object mapped in it (`object` is its
 * path then, else NULL). */
static void problem(struct walk *walk, const char *target, const char *object, const char *message)
{
    char text[PATH_MAX + 256];

    if (walk->every_process)
        return;
    snprintf(text, sizeof text, "%s%s%s", object ? object : "", object ? ": " : "", message);
    walk->out->problem(walk->out, target, text);
}

/* The module column: the base name (of a mapped object, without maps'
 * " (deleted)"). */
static char *module_name(const struct target_object *object)
{
    const char *slash = strrchr(object->path, '/');
    const char *base = slash && slash[1] ? slash + 1 : object->path;

    return strndup(base, object->proc ? pyprobe__maps_path_length(base) : strlen(base));
}

/* With -p: where the site is in the process, and its semaphore's value. */
static void locate_in_process(const struct target_object *object, uint64_t bias, struct cli_row *row)
{
    const struct pyprobe__stapsdt_probe *probe = &row->site->probe;
    uint16_t value;

    row->in_process = true;
    row->process_pc = probe->pc + bias;
    row->process_semaphore = probe->semaphore ? probe->semaphore + bias : 0;
    row->semaphore_value = -ENOENT;
    if (probe->semaphore) {
        row->semaphore_value = pyprobe__proc_read(object->proc, row->process_semaphore, &value, sizeof value);
        if (row->semaphore_value == 0)
            row->semaphore_value = value;
    }
}

/* Prints the site if a filter takes it: 0, or -ENOMEM. */
static int list_site(struct walk *walk, const struct target_object *object, const struct cli_row *base)
{
    struct cli_row row = *base;
    const struct pyprobe__stapsdt_probe *probe = &row.site->probe;
    struct pyprobe__probe_id id = {
        .provider = probe->provider, .pid = row.pid, .module = row.module, .path = row.path,
        .function = row.site->function ? row.site->function : "", .name = probe->name};

    if (pyprobe__grow(&walk->d_name, &walk->d_name_capacity, strlen(probe->name) + 1, 1) != 0)
        return -ENOMEM;
    pyprobe__d_name(probe->name, walk->d_name);
    id.d_name = walk->d_name;
    walk->seen++;
    if (!pyprobe__filters_match(walk->opts->filters, walk->opts->filter_count, &id))
        return 0;
    row.name = walk->opts->raw_names ? probe->name : walk->d_name;
    for (size_t i = 0; i < (object->proc ? object->bias_count : 1); i++) {
        if (object->proc)
            locate_in_process(object, object->biases[i], &row);
        row.id = ++walk->next_id;
        walk->out->row(walk->out, &row);
        walk->listed++;
    }
    return 0;
}

/* Says what was lost to malformed notes: true if anything was. */
static bool report_notes(struct walk *walk, const struct target_object *object, const struct pyprobe__sites *sites)
{
    char message[192] = "";

    if (!sites->malformed && !sites->cut_short)
        return false;
    if (sites->malformed)
        snprintf(message, sizeof message, "%zu malformed stapsdt note%s skipped%s", sites->malformed,
                 sites->malformed == 1 ? "" : "s", sites->cut_short ? "; " : "");
    if (sites->cut_short)
        strcat(message, "a stapsdt note breaks its section: the notes after it are unreadable");
    problem(walk, object->target, object->proc ? object->path : NULL, message);
    return true;
}

/* Lists the sites of one object as they are read: 0, 1 when notes were
 * lost (and said so), or -ENOMEM. */
static int list_sites(struct walk *walk, const struct target_object *object, const char *module,
                      struct pyprobe__sites *sites)
{
    struct pyprobe__site site;
    struct cli_row row = {.pid = object->proc ? pyprobe__proc_pid(object->proc) : 0, .path = object->path,
                          .module = module, .address_size = pyprobe__elf_address_size(object->elf),
                          .site = &site};
    int rc = 0;

    while (rc == 0 && pyprobe__sites_next(sites, &site) > 0)
        rc = list_site(walk, object, &row);
    if (rc != 0)
        return rc;
    return report_notes(walk, object, sites) ? 1 : 0;
}

/* Lists one object's sites: 0, or -1 when some could not be read. */
static int list_object(struct walk *walk, const struct target_object *object)
{
    struct pyprobe__sites sites;
    char *module = module_name(object);
    int rc = module ? pyprobe__sites_open(object->elf, &sites) : -ENOMEM;

    if (rc == 0) {
        rc = list_sites(walk, object, module, &sites);
        pyprobe__sites_close(&sites);
    }
    if (rc < 0)
        problem(walk, object->target, object->proc ? object->path : NULL, describe(rc));
    free(module);
    return rc == 0 ? 0 : -1;
}

static void say_nothing_found(const struct walk *walk, const char *target)
{
    if (walk->opts->verbose && walk->listed == 0)
        cli_say(target, walk->seen ? "no probe matches" : "no stapsdt probes");
}

/* 0 when the file could be read. */
static int list_file(struct walk *walk, const char *path)
{
    struct pyprobe__elf *elf;
    int rc = pyprobe__elf_open_path(path, &elf);

    if (rc != 0) {
        problem(walk, path, NULL, describe(rc));
        return -1;
    }
    rc = list_object(walk, &(struct target_object){.target = path, .path = path, .elf = elf});
    pyprobe__elf_close(elf);
    say_nothing_found(walk, path);
    return rc;
}

/* One mapped object of a process; its problems are the object's alone. */
static void list_mapped(struct walk *walk, const struct pyprobe__proc *proc, size_t index, const char *target)
{
    struct pyprobe__proc_object object;
    int rc = pyprobe__proc_object_open(proc, index, PYPROBE__OPEN_ANY, &object);

    if (rc == -ENOEXEC)
        return; /* data, fonts, locale archives */
    if (rc != 0) {
        problem(walk, target, pyprobe__proc_object_path(proc, index), describe(rc));
        return;
    }
    if (object.bias_count > 0)
        list_object(walk, &(struct target_object){.target = target, .path = object.path, .elf = object.elf,
                                                  .proc = proc, .biases = object.biases,
                                                  .bias_count = object.bias_count});
    pyprobe__proc_object_close(&object);
}

static int list_process(struct walk *walk, int pid)
{
    char target[32];
    struct pyprobe__proc *proc;
    int rc = pyprobe__proc_open(pid, &proc);

    snprintf(target, sizeof target, "pid %d", pid);
    if (rc != 0) {
        problem(walk, target, NULL, describe(rc));
        return -1;
    }
    for (size_t i = 0; i < pyprobe__proc_object_count(proc); i++)
        list_mapped(walk, proc, i, target);
    pyprobe__proc_close(proc);
    if (!walk->every_process)
        say_nothing_found(walk, target);
    return 0;
}

/* dtrace -l -n 'python*:::...': every process but this one. */
static int list_every_process(struct walk *walk)
{
    DIR *dir = opendir("/proc");
    struct dirent *entry;

    if (!dir) {
        cli_say("/proc", strerror(errno));
        return -1;
    }
    walk->every_process = true;
    while ((entry = readdir(dir)) != NULL) {
        char *end;
        long pid = strtol(entry->d_name, &end, 10);

        if (!*end && pid > 0 && pid != (long)getpid())
            list_process(walk, (int)pid);
    }
    closedir(dir);
    return 0;
}

int cli_list(const struct cli_options *opts, struct cli_output *out)
{
    struct walk walk = {.opts = opts, .out = out};
    size_t read = 0;

    out->begin(out);
    for (size_t i = 0; i < opts->file_count; i++) {
        walk.listed = walk.seen = 0;
        read += list_file(&walk, opts->files[i]) == 0;
    }
    for (size_t i = 0; i < opts->pid_count; i++) {
        walk.listed = walk.seen = 0;
        read += list_process(&walk, opts->pids[i]) == 0;
    }
    if (opts->file_count == 0 && opts->pid_count == 0)
        read += list_every_process(&walk) == 0;
    out->read_any = read > 0;
    out->end(out);
    free(walk.d_name);
    return read > 0 ? CLI_OK : CLI_NOTHING_LISTED;
}
