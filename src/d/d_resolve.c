/* The probes of D descriptions, found (see d_resolve.h). */
#define _GNU_SOURCE /* strndup */
#include "d_resolve.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "d_fail.h"
#include "grow.h"
#include "lister_filter.h"
#include "lister_proc.h"
#include "lister_sites.h"

/* Where a spec looks. */
enum scope {
    SCOPE_FILE,                 /* the module path it names */
    SCOPE_PROCESS,              /* the pid its provider names (python4242) */
    SCOPE_ALL,                  /* every process, and a held command's files */
    SCOPE_TARGETS,              /* the -p processes and the -c command */
    SCOPE_FUNCTIONS             /* the pid provider: the functions of one process */
};

struct spec_scope {
    enum scope scope;
    int pid;                    /* SCOPE_PROCESS */
};

struct resolver {
    const struct pyprobe__d_probe_spec *specs;
    size_t spec_count;
    struct spec_scope *scopes;
    const struct pyprobe__d_targets *targets;
    struct pyprobe__d_matches *out;
    size_t capacity, kept_capacity;
    unsigned next_id;
    char *message;
    size_t size;
};

static bool is_glob(const char *s)
{
    return s && strpbrk(s, "*?[") != NULL;
}

static bool process_exists(int pid)
{
    char name[32];

    snprintf(name, sizeof name, "/proc/%d", pid);
    return access(name, F_OK) == 0;
}

/* "python4242": the pid at the end of a provider, when such a process is. */
static int provider_pid(const char *provider)
{
    size_t n = provider ? strlen(provider) : 0, digits = 0;
    long pid;

    while (digits < n && isdigit((unsigned char)provider[n - 1 - digits]))
        digits++;
    if (digits == 0 || digits == n || digits > 9)
        return 0;
    pid = strtol(provider + n - digits, NULL, 10);
    return pid > 0 && process_exists((int)pid) ? (int)pid : 0;
}

static int scope_of(struct resolver *r, const struct pyprobe__d_probe_spec *spec, struct spec_scope *out)
{
    const struct pyprobe__d_targets *t = r->targets;

    if (spec->provider && strstr(spec->provider, "$target"))
        return pyprobe__d_fail(r->message, r->size, -EINVAL, "%s: $target needs -p PID or -c CMD", spec->provider);
    if (spec->functions) {
        char *end;
        long pid = spec->provider && strncmp(spec->provider, "pid", 3) == 0 ? strtol(spec->provider + 3, &end, 10) : 0;

        if (pid <= 0 || pid > INT32_MAX || *end)
            return pyprobe__d_fail(r->message, r->size, -EINVAL,
                                   "%s: the pid provider needs a process id (pid$target, pid4242)",
                                   spec->provider ? spec->provider : "");
        *out = (struct spec_scope){SCOPE_FUNCTIONS, (int)pid};
        return 0;
    }
    if (spec->module && strchr(spec->module, '/') && !is_glob(spec->module))
        *out = (struct spec_scope){SCOPE_FILE, 0};
    else if (!is_glob(spec->provider) && (out->pid = provider_pid(spec->provider)) > 0)
        /* The held command is a process already, but not yet the program. */
        out->scope = t->child && out->pid == t->child->pid ? SCOPE_TARGETS : SCOPE_PROCESS;
    else if (is_glob(spec->provider) || (!t->pid_count && !t->child))
        *out = (struct spec_scope){SCOPE_ALL, 0};
    else
        *out = (struct spec_scope){SCOPE_TARGETS, 0};
    return 0;
}

/* ---- matches ---- */

static bool same_probe(const struct pyprobe__d_match *m, const struct pyprobe__d_match *n)
{
    return m->pid == n->pid && strcmp(m->provider, n->provider) == 0 && strcmp(m->module, n->module) == 0 &&
           strcmp(m->function, n->function) == 0 && strcmp(m->name, n->name) == 0;
}

static void free_match(struct pyprobe__d_match *m)
{
    free(m->path);
    free(m->module);
    free(m->provider);
    free(m->name);
    free(m->function);
}

/* Adds a match unless the spec has it (a probe with several sites in one
 * function is one probe), giving it the id of the same probe found before. */
static int add_match(struct resolver *r, struct pyprobe__d_match *m)
{
    struct pyprobe__d_matches *out = r->out;
    bool counted = false;

    m->id = 0;
    for (size_t i = 0; i < out->count; i++) {
        if (!same_probe(&out->items[i], m))
            continue;
        if (out->items[i].spec == m->spec) {
            free_match(m);
            return 0;
        }
        m->id = out->items[i].id;
    }
    if (!m->id)
        m->id = r->next_id++;
    for (size_t i = 0; i < out->count && !counted; i++)
        counted = out->items[i].spec == m->spec && out->items[i].id == m->id;
    if (pyprobe__grow(&out->items, &r->capacity, out->count + 1, sizeof *out->items) != 0) {
        free_match(m);
        return -ENOMEM;
    }
    out->items[out->count++] = *m;
    out->per_spec[m->spec] += !counted;
    return 0;
}

/* ---- objects: a file, or a process's mapped file ---- */

struct object {
    const char *path;           /* to attach to */
    const char *module;         /* base name */
    const char *maps_path;      /* for a module glob with '/' */
    int pid;                    /* the process, or the pid a file is traced for (0: any) */
    struct pyprobe__elf *elf;
};

static bool applies(struct resolver *r, size_t spec, const struct object *o, enum scope source, int source_pid)
{
    const struct spec_scope *s = &r->scopes[spec];

    switch (s->scope) {
    case SCOPE_FILE:
        return source == SCOPE_FILE && strcmp(r->specs[spec].module, o->maps_path) == 0;
    case SCOPE_PROCESS:
        return source == SCOPE_PROCESS && source_pid == s->pid;
    case SCOPE_ALL:
        return source != SCOPE_FILE;
    case SCOPE_TARGETS:
        return source == SCOPE_TARGETS;
    default:
        return false; /* SCOPE_FUNCTIONS: see functions_of() */
    }
}

static const char *or_any(const char *field)
{
    return field && *field ? field : NULL;
}

static int match_site(struct resolver *r, const struct object *o, const struct pyprobe__site *site, enum scope source,
                      int source_pid)
{
    const struct pyprobe__stapsdt_probe *p = &site->probe;
    char d_name[256];
    struct pyprobe__probe_id id = {.provider = p->provider, .pid = o->pid, .module = o->module, .path = o->maps_path,
                                   .function = site->function ? site->function : "", .name = p->name,
                                   .d_name = d_name};
    int rc = 0;

    if (strlen(p->name) >= sizeof d_name)
        return 0;
    pyprobe__d_name(p->name, d_name);
    for (size_t i = 0; rc == 0 && i < r->spec_count; i++) {
        const struct pyprobe__d_probe_spec *s = &r->specs[i];
        struct pyprobe__filter filter = {.fields = {or_any(s->provider), or_any(s->module), or_any(s->function),
                                                    or_any(s->name)}};
        struct pyprobe__d_match m;

        if (!applies(r, i, o, source, source_pid))
            continue;
        if (r->scopes[i].scope == SCOPE_FILE)
            filter.fields[PYPROBE__FIELD_MODULE] = NULL; /* the file itself */
        if (!pyprobe__filter_match(&filter, &id))
            continue;
        m = (struct pyprobe__d_match){.spec = i, .path = strdup(o->path), .module = strdup(o->module),
                                      .provider = strdup(p->provider), .name = strdup(p->name),
                                      .function = strdup(id.function), .pid = o->pid};
        if (!m.path || !m.module || !m.provider || !m.name || !m.function) {
            free_match(&m);
            return -ENOMEM;
        }
        rc = add_match(r, &m);
    }
    return rc;
}

static int scan_object(struct resolver *r, const struct object *o, enum scope source, int source_pid)
{
    struct pyprobe__sites sites;
    struct pyprobe__site site;
    int rc = pyprobe__sites_open(o->elf, &sites);

    if (rc != 0)
        return rc;
    while (rc == 0 && pyprobe__sites_next(&sites, &site) > 0)
        rc = match_site(r, o, &site, source, source_pid);
    pyprobe__sites_close(&sites);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash && slash[1] ? slash + 1 : path;
}

/* A file by its path, traced in process `pid` (0: any). */
static int scan_file(struct resolver *r, const char *path, int pid, enum scope source, int source_pid)
{
    struct object o = {.path = path, .module = base_name(path), .maps_path = path, .pid = pid};
    int rc = pyprobe__elf_open_path(path, &o.elf);

    if (rc == -ENOEXEC || rc == -ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    rc = scan_object(r, &o, source, source_pid);
    pyprobe__elf_close(o.elf);
    return rc;
}

static bool same_inode(const char *path, int fd)
{
    struct stat a, b;

    return stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A path to the file a process maps that bpftrace can open: the maps
 * path, or the process's view of it, or (a memfd, a deleted file) this
 * process's descriptor, kept open until the matches are freed. */
static int attach_path(struct resolver *r, const struct pyprobe__proc_object *object, int pid, char *out, size_t size)
{
    char clean[PATH_MAX];
    int fd;

    snprintf(clean, sizeof clean, "%.*s", (int)pyprobe__maps_path_length(object->path), object->path);
    if (same_inode(clean, object->fd)) {
        snprintf(out, size, "%s", clean);
        return 0;
    }
    snprintf(out, size, "/proc/%d/root%s", pid, clean);
    if (same_inode(out, object->fd))
        return 0;
    fd = dup(object->fd);
    if (fd < 0 || pyprobe__grow(&r->out->kept_fds, &r->kept_capacity, r->out->kept_count + 1, sizeof(int)) != 0) {
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    r->out->kept_fds[r->out->kept_count++] = fd;
    snprintf(out, size, "/proc/%d/fd/%d", (int)getpid(), fd);
    return 0;
}

static int scan_process(struct resolver *r, int pid, enum scope source, bool must)
{
    struct pyprobe__proc *proc;
    int rc = pyprobe__proc_open(pid, &proc);

    if (rc != 0)
        return must ? pyprobe__d_fail(r->message, r->size, rc, "pid %d: %s", pid, rc == -ESRCH ? "no such process" : strerror(-rc)) : 0;
    for (size_t i = 0; rc == 0 && i < pyprobe__proc_object_count(proc); i++) {
        struct pyprobe__proc_object object;
        char path[PATH_MAX + 64], module[NAME_MAX + 1];
        struct object o = {.path = path, .module = module, .pid = pid};

        if (pyprobe__proc_object_open(proc, i, PYPROBE__OPEN_ANY, &object) != 0)
            continue;
        snprintf(module, sizeof module, "%.*s", (int)pyprobe__maps_path_length(base_name(object.path)),
                 base_name(object.path));
        o.maps_path = object.path;
        o.elf = object.elf;
        if (object.bias_count > 0 && (rc = attach_path(r, &object, pid, path, sizeof path)) == 0)
            rc = scan_object(r, &o, source, pid);
        pyprobe__proc_object_close(&object);
    }
    pyprobe__proc_close(proc);
    return rc;
}

/* The held -c command's files: its executable, what it needs, and the
 * pyprobe package's module when it is a CPython that has one. */
static int scan_child(struct resolver *r, enum scope source)
{
    const struct pyprobe__d_child *child = r->targets->child;
    char **needed = NULL, *module = NULL;
    size_t count = 0;
    int rc = scan_file(r, child->path, child->pid, source, child->pid);

    if (rc == 0 && pyprobe__d_needed_files(child->path, &needed, &count) != 0)
        count = 0;
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = scan_file(r, needed[i], child->pid, source, child->pid);
    if (rc == 0 && child->argv0 && pyprobe__d_python_module(child->argv0, child->path, needed, count, &module) == 0 &&
        module)
        rc = scan_file(r, module, child->pid, source, child->pid);
    free(module);
    for (size_t i = 0; i < count; i++)
        free(needed[i]);
    free(needed);
    return rc;
}

static int scan_all_processes(struct resolver *r)
{
    DIR *dir = opendir("/proc");
    struct dirent *entry;
    int rc = 0, self = (int)getpid();

    if (!dir)
        return pyprobe__d_fail(r->message, r->size, -errno, "/proc: %s", strerror(errno));
    while (rc == 0 && (entry = readdir(dir)) != NULL) {
        char *end;
        long pid = strtol(entry->d_name, &end, 10);

        if (*end || pid <= 0 || pid == self)
            continue;
        rc = scan_process(r, (int)pid, SCOPE_ALL, false);
    }
    closedir(dir);
    if (rc == 0 && r->targets->child)
        rc = scan_child(r, SCOPE_ALL);
    return rc;
}

/* ---- the pid provider: functions by their symbols ---- */

/* One object's functions that spec `i` names: one match for the object
 * (bpftrace places a uprobe on each function a glob names), counted as
 * dtrace counts, one probe per function. */
static int functions_in(struct resolver *r, size_t i, const char *path, int fd, bool program, int pid)
{
    const struct pyprobe__d_probe_spec *s = &r->specs[i];
    const char *module = base_name(path), *glob = or_any(s->function) ? s->function : "*";
    size_t count = 0;
    struct pyprobe__d_match m;
    int rc;

    if (or_any(s->module) && !(program && strcmp(s->module, "a.out") == 0) &&
        fnmatch(s->module, strchr(s->module, '/') ? path : module, 0) != 0)
        return 0;
    if (pyprobe__d_count_functions(fd, glob, &count) != 0 || count == 0)
        return 0;
    m = (struct pyprobe__d_match){.spec = i, .path = strdup(path), .module = strdup(module),
                                  .provider = strdup("pid"), .name = strdup(or_any(s->name) ? s->name : "entry"),
                                  .function = strdup(glob), .pid = pid};
    if (!m.path || !m.module || !m.provider || !m.name || !m.function) {
        free_match(&m);
        return -ENOMEM;
    }
    rc = add_match(r, &m);
    r->out->per_spec[i] += count - 1;
    return rc;
}

static int functions_in_file(struct resolver *r, size_t i, const char *path, bool program, int pid)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return 0;
    rc = functions_in(r, i, path, fd, program, pid);
    close(fd);
    return rc;
}

static int functions_of(struct resolver *r, size_t i, int pid)
{
    const struct pyprobe__d_child *child = r->targets->child;
    char exe[PATH_MAX] = "", link[64], path[PATH_MAX + 64];
    struct pyprobe__proc *proc;
    ssize_t n;
    int rc;

    if (child && child->pid == pid) {
        char **needed = NULL;
        size_t count = 0;

        rc = functions_in_file(r, i, child->path, true, pid);
        if (rc == 0 && pyprobe__d_needed_files(child->path, &needed, &count) != 0)
            count = 0;
        for (size_t k = 0; k < count; k++) {
            if (rc == 0)
                rc = functions_in_file(r, i, needed[k], false, pid);
            free(needed[k]);
        }
        free(needed);
        return rc;
    }
    if ((rc = pyprobe__proc_open(pid, &proc)) != 0)
        return pyprobe__d_fail(r->message, r->size, rc, "pid %d: %s", pid,
                               rc == -ESRCH ? "no such process" : strerror(-rc));
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    if ((n = readlink(link, exe, sizeof exe - 1)) > 0)
        exe[n] = '\0';
    for (size_t k = 0; rc == 0 && k < pyprobe__proc_object_count(proc); k++) {
        struct pyprobe__proc_object object;

        if (pyprobe__proc_object_open(proc, k, PYPROBE__OPEN_ANY, &object) != 0)
            continue;
        if (object.bias_count > 0 && (rc = attach_path(r, &object, pid, path, sizeof path)) == 0)
            rc = functions_in(r, i, path, object.fd, strcmp(object.path, exe) == 0, pid);
        pyprobe__proc_object_close(&object);
    }
    pyprobe__proc_close(proc);
    return rc;
}

static bool any_scope(const struct resolver *r, enum scope scope)
{
    for (size_t i = 0; i < r->spec_count; i++)
        if (r->scopes[i].scope == scope)
            return true;
    return false;
}

static int scan(struct resolver *r)
{
    const struct pyprobe__d_targets *t = r->targets;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < r->spec_count; i++) {
        const struct spec_scope *s = &r->scopes[i];
        bool seen = false;

        for (size_t k = 0; k < i && s->scope != SCOPE_FUNCTIONS; k++) /* each file or process once */
            seen |= r->scopes[k].scope == s->scope && r->scopes[k].pid == s->pid &&
                    (s->scope != SCOPE_FILE || strcmp(r->specs[k].module, r->specs[i].module) == 0);
        if (seen)
            continue;
        if (s->scope == SCOPE_FUNCTIONS)
            rc = functions_of(r, i, s->pid);
        else if (s->scope == SCOPE_FILE)
            rc = scan_file(r, r->specs[i].module, t->pid_count == 1 && !t->child ? t->pids[0]
                                                  : t->child ? t->child->pid : 0, SCOPE_FILE, 0);
        else if (s->scope == SCOPE_PROCESS)
            rc = scan_process(r, s->pid, SCOPE_PROCESS, true);
    }
    if (rc == 0 && any_scope(r, SCOPE_ALL))
        rc = scan_all_processes(r);
    for (size_t i = 0; rc == 0 && any_scope(r, SCOPE_TARGETS) && i < t->pid_count; i++)
        rc = scan_process(r, t->pids[i], SCOPE_TARGETS, true);
    if (rc == 0 && any_scope(r, SCOPE_TARGETS) && t->child)
        rc = scan_child(r, SCOPE_TARGETS);
    return rc;
}

int pyprobe__d_resolve(const struct pyprobe__d_probe_spec *specs, size_t count,
                       const struct pyprobe__d_targets *targets, struct pyprobe__d_matches *out, char *message,
                       size_t size)
{
    struct resolver r = {.specs = specs, .spec_count = count, .targets = targets, .out = out, .next_id = 4,
                         .message = message, .size = size};
    int rc = 0;

    *out = (struct pyprobe__d_matches){0};
    out->per_spec = calloc(count + 1, sizeof *out->per_spec);
    r.scopes = calloc(count + 1, sizeof *r.scopes);
    if (!out->per_spec || !r.scopes)
        rc = pyprobe__d_fail(r.message, r.size, -ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = scope_of(&r, &specs[i], &r.scopes[i]);
    if (rc == 0)
        rc = scan(&r);
    if (rc == -ENOMEM)
        pyprobe__d_fail(r.message, r.size, rc, "out of memory");
    free(r.scopes);
    if (rc != 0)
        pyprobe__d_matches_free(out);
    return rc;
}

void pyprobe__d_matches_free(struct pyprobe__d_matches *m)
{
    for (size_t i = 0; i < m->count; i++)
        free_match(&m->items[i]);
    for (size_t i = 0; i < m->kept_count; i++)
        close(m->kept_fds[i]);
    free(m->items);
    free(m->per_spec);
    free(m->kept_fds);
    *m = (struct pyprobe__d_matches){0};
}
