/*
 * d_translate_file: the D front end from the command line, for the tests
 * that hand its bpftrace programs to bpftrace (test_d_bpftrace.py).
 *
 *   d_translate_file [-q] [-F] [-Z] [-x NAME[=VALUE]]... [-p PID] [--plan]
 *                    --file ELF... (-s SCRIPT | -n TEXT)... [ARG...]
 *
 * It resolves the USDT and pid descriptions against the given ELF files
 * itself (a test's stand-in for pyprobe's resolver, with the lister's
 * reading of the notes) and prints the bpftrace program, or with --plan the
 * plan's actions and aggregations. A script error prints
 * "FILE:LINE:COLUMN: MESSAGE" and exits 1.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d_front.h"
#include "elf_file.h"
#include "lister_sites.h"

#define MAX_FILES 8
#define MAX_RESOLVED 4096

struct args {
    const char *files[MAX_FILES];
    size_t file_count;
    struct pyprobe__d_translate_options options;
    int pid;
    int plan;
};

static struct pyprobe__d_resolved resolved[MAX_RESOLVED];
static size_t resolved_count;

static int fail(const struct pyprobe__d_error *error)
{
    printf("%s:%d:%d: %s\n", error->file, error->line, error->column, error->message);
    return 1;
}

static char *read_file(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1)) != NULL && fread(text, 1, (size_t)size, f) == (size_t)size)
        *length = (size_t)size;
    fclose(f);
    return text;
}

/* A note's name in D form, as the descriptions spell it. */
static void d_name(const char *name, char *out)
{
    for (; *name; name++, out++) {
        *out = *name;
        if (name[0] == '_' && name[1] == '_')
            *out = '-', name++;
    }
    *out = '\0';
}

static bool glob(const char *pattern, const char *text)
{
    return !*pattern || fnmatch(pattern, text, 0) == 0;
}

/* python$target, python4242 and python* all name the python provider. */
static bool provider_matches(const char *pattern, const char *provider)
{
    char base[256];
    size_t n = strcspn(pattern, "$0123456789");

    snprintf(base, sizeof base, "%.*s", (int)n, pattern);
    return glob(base, provider);
}

static void add(size_t description, const char *path, const char *provider, const char *name, const char *function,
                int pid)
{
    if (resolved_count == MAX_RESOLVED)
        return;
    resolved[resolved_count] = (struct pyprobe__d_resolved){description, strdup(path), strdup(provider),
                                                            strdup(name), strdup(function ? function : ""),
                                                            (unsigned)resolved_count + 3, pid};
    resolved_count++;
}

static void resolve_file(size_t index, const struct pyprobe__d_description *d, const char *path, int pid)
{
    struct pyprobe__elf *elf;
    struct pyprobe__sites sites;
    struct pyprobe__site site;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char name[256];

    if (pyprobe__elf_open_path(path, &elf) != 0)
        return;
    if (pyprobe__sites_open(elf, &sites) == 0) {
        while (pyprobe__sites_next(&sites, &site) > 0) {
            if (strlen(site.probe.name) >= sizeof name)
                continue;
            d_name(site.probe.name, name);
            if (provider_matches(d->provider, site.probe.provider) && glob(d->module, base) &&
                glob(d->function, site.function ? site.function : "") && glob(d->name, name))
                add(index, path, site.probe.provider, site.probe.name, site.function, pid);
        }
        pyprobe__sites_close(&sites);
    }
    pyprobe__elf_close(elf);
}

static void resolve(const struct pyprobe__d_program *program, const struct args *a)
{
    for (size_t i = 0; i < pyprobe__d_description_count(program); i++) {
        const struct pyprobe__d_description *d = pyprobe__d_description_at(program, i);

        for (size_t f = 0; f < a->file_count; f++) {
            if (d->kind == PYPROBE__D_PROBE_USDT)
                resolve_file(i, d, a->files[f], a->pid);
            else if (d->kind == PYPROBE__D_PROBE_PID && f == 0)
                add(i, a->files[0], "", "", d->function, a->pid);
        }
    }
}

static void print_plan(const struct pyprobe__d_plan *plan)
{
    static const char *const kinds[] = {"printa", "exit", "trunc", "clear", "normalize", "denormalize", "probe"};

    for (size_t i = 0; i < plan->action_count; i++) {
        const struct pyprobe__d_action *a = &plan->actions[i];

        printf("action %zu %s", i, kinds[a->kind]);
        for (size_t k = 0; k < a->aggregation_count; k++)
            printf(" @%s", plan->aggregations[a->aggregations[k]].name);
        if (a->format)
            printf(" format=\"%s\"", a->format);
        if (a->has_n)
            printf(" n=%lld", (long long)a->n);
        if (a->kind == PYPROBE__D_ACTION_PROBE)
            printf(" id=%u function=%s name=%s flow=%d", a->probe_id, a->probe_function, a->probe_name, a->flow);
        printf(" at=%s\n", a->script_line ? a->script_line : "-");
    }
    for (size_t i = 0; i < plan->aggregation_count; i++) {
        const struct pyprobe__d_plan_aggregation *g = &plan->aggregations[i];

        printf("aggregation @%s fn=%d maps=%s,%s parts=%zu columns=", g->name, g->fn, g->maps[0],
               g->maps[1] ? g->maps[1] : "-", g->part_count);
        for (size_t c = 0; c < g->column_count; c++) {
            printf("%s[", c ? "," : "");
            for (size_t p = 0; p < g->columns[c].piece_count; p++) {
                const struct pyprobe__d_piece *piece = &g->columns[c].pieces[p];

                if (piece->literal)
                    printf("'%s'", piece->literal);
                else
                    printf("%s%zu%c", piece->transform ? "" : "#", piece->part,
                           piece->transform ? piece->transform : ' ');
            }
            printf("]%s%u", g->columns[c].type == PYPROBE__D_KEY_INT ? "int" : "str", g->columns[c].size);
        }
        printf("\n");
    }
}

static int option(struct args *a, const char *text)
{
    char name[128];
    const char *equals = strchr(text, '=');
    struct pyprobe__d_error error;

    snprintf(name, sizeof name, "%.*s", equals ? (int)(equals - text) : (int)strlen(text), text);
    return pyprobe__d_option_set(&a->options, name, equals ? equals + 1 : NULL, &error) < 0 ? fail(&error) : 0;
}

static int add_source(struct pyprobe__d_program **program, const char *file, const char *text, size_t length)
{
    struct pyprobe__d_error error;
    int rc = *program ? pyprobe__d_program_append(*program, file, text, length, &error)
                      : pyprobe__d_parse(file, text, length, program, &error);

    return rc ? fail(&error) : 0;
}

static int run(struct pyprobe__d_program *program, struct args *a)
{
    struct pyprobe__d_error error;
    struct pyprobe__d_plan *plan;

    for (size_t i = 0; i < pyprobe__d_pragma_count(program); i++) {
        const struct pyprobe__d_pragma *p = pyprobe__d_pragma_at(program, i);

        if (pyprobe__d_option_set(&a->options, p->name, p->value, &error) < 0)
            return fail(&error);
    }
    a->options.macros.target_pid = a->pid;
    if (pyprobe__d_program_bind(program, &a->options, &error) != 0)
        return fail(&error);
    resolve(program, a);
    if (pyprobe__d_translate(program, resolved, resolved_count, &a->options, &plan, &error) != 0)
        return fail(&error);
    if (a->plan)
        print_plan(plan);
    else
        fputs(plan->program, stdout);
    pyprobe__d_plan_free(plan);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = {.options = {.walltime_offset_ns = 1}};
    struct pyprobe__d_program *program = NULL;
    int i, rc = 0;

    for (i = 1; i < argc && rc == 0 && argv[i][0] == '-'; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        size_t length = 0;
        char *text;

        if (!strcmp(arg, "-q") || !strcmp(arg, "-F") || !strcmp(arg, "-Z"))
            rc = option(&a, arg[1] == 'q' ? "quiet" : arg[1] == 'F' ? "flowindent" : "zdefs");
        else if (!strcmp(arg, "--plan"))
            a.plan = 1;
        else if (!value)
            rc = 2;
        else if (!strcmp(arg, "-x") && ++i)
            rc = option(&a, value);
        else if (!strcmp(arg, "-p") && ++i)
            a.pid = atoi(value);
        else if (!strcmp(arg, "--file") && ++i && a.file_count < MAX_FILES)
            a.files[a.file_count++] = value;
        else if (!strcmp(arg, "-n") && ++i)
            rc = add_source(&program, "-n", value, strlen(value));
        else if (!strcmp(arg, "-s") && ++i && (text = read_file(value, &length)) != NULL)
            rc = add_source(&program, value, text, length), free(text);
        else
            rc = 2;
    }
    if (rc == 2 || (!program && rc == 0)) {
        fprintf(stderr, "usage: %s [-q] [-F] [-Z] [-x OPT] [-p PID] [--plan] --file ELF (-s FILE | -n TEXT) "
                "[ARG...]\n", argv[0]);
        return 2;
    }
    a.options.macros.args = (const char *const *)argv + i;
    a.options.macros.count = (size_t)(argc - i);
    if (rc == 0)
        rc = run(program, &a);
    pyprobe__d_program_free(program);
    for (size_t k = 0; k < resolved_count; k++) {
        free((char *)resolved[k].path);
        free((char *)resolved[k].provider);
        free((char *)resolved[k].name);
        free((char *)resolved[k].function);
    }
    return rc;
}
