/*
 * What the resolver reads of ELF files with libelf (see d_resolve.h): the
 * shared libraries an executable needs, found as ld.so(8) finds them (each
 * DT_NEEDED name in DT_RPATH when there is no DT_RUNPATH, LD_LIBRARY_PATH,
 * DT_RUNPATH, the directories of /etc/ld.so.conf and its includes, then
 * the system directories; $ORIGIN is the needing object's directory), and
 * the functions that the pid provider can name.
 */
#define _GNU_SOURCE /* strndup */
#include "d_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"

struct list {
    char **items;
    size_t count, capacity;
};

static int add(struct list *list, char *item)
{
    if (!item || pyprobe__grow(&list->items, &list->capacity, list->count + 1, sizeof *list->items) != 0) {
        free(item);
        return -ENOMEM;
    }
    list->items[list->count++] = item;
    return 0;
}

static bool contains(const struct list *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return true;
    return false;
}

static void clear(struct list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    *list = (struct list){0};
}

/* What one object asks for: its DT_NEEDED names, DT_RPATH, DT_RUNPATH. */
struct dynamic {
    struct list needed;
    char *rpath, *runpath;
};

static int read_dynamic(Elf *elf, struct dynamic *out)
{
    Elf_Scn *scn = NULL;
    GElf_Shdr shdr;
    int rc = 0;

    while (rc == 0 && (scn = elf_nextscn(elf, scn)) != NULL) {
        Elf_Data *data;

        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC || !(data = elf_getdata(scn, NULL)))
            continue;
        for (size_t i = 0; rc == 0 && shdr.sh_entsize && i < shdr.sh_size / shdr.sh_entsize; i++) {
            GElf_Dyn dyn;
            const char *s;

            if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
                break;
            if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH)
                continue;
            s = elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val);
            if (!s)
                continue;
            if (dyn.d_tag == DT_NEEDED)
                rc = add(&out->needed, strdup(s));
            else if (dyn.d_tag == DT_RPATH && !out->rpath)
                out->rpath = strdup(s);
            else if (dyn.d_tag == DT_RUNPATH && !out->runpath)
                out->runpath = strdup(s);
        }
    }
    return rc;
}

static int read_object(const char *path, struct dynamic *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    Elf *elf;

    *out = (struct dynamic){0};
    if (fd < 0)
        return -errno;
    elf_version(EV_CURRENT);
    elf = elf_begin(fd, ELF_C_READ, NULL);
    rc = elf && elf_kind(elf) == ELF_K_ELF ? read_dynamic(elf, out) : -ENOEXEC;
    elf_end(elf);
    close(fd);
    return rc;
}

/* Adds each directory of a ':'-separated list, $ORIGIN expanded. */
static int add_dirs(struct list *dirs, const char *text, const char *origin)
{
    for (const char *p = text; p && *p; p += strcspn(p, ":") + (p[strcspn(p, ":")] ? 1 : 0)) {
        size_t length = strcspn(p, ":");
        char dir[PATH_MAX];

        if (length == 0)
            continue;
        if (strncmp(p, "$ORIGIN", 7) == 0 || strncmp(p, "${ORIGIN}", 9) == 0) {
            size_t skip = p[1] == '{' ? 9 : 7;

            snprintf(dir, sizeof dir, "%s%.*s", origin, (int)(length - skip), p + skip);
        } else {
            snprintf(dir, sizeof dir, "%.*s", (int)length, p);
        }
        if (!contains(dirs, dir) && add(dirs, strdup(dir)) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* The directories of /etc/ld.so.conf, with its include lines. */
static int add_conf(struct list *dirs, const char *file, int depth)
{
    FILE *f = depth < 4 ? fopen(file, "re") : NULL;
    char line[PATH_MAX];
    int rc = 0;

    while (rc == 0 && f && fgets(line, sizeof line, f)) {
        char *p = line + strspn(line, " \t");
        glob_t found;

        p[strcspn(p, "#\r\n")] = '\0';
        for (size_t n = strlen(p); n && (p[n - 1] == ' ' || p[n - 1] == '\t'); n--)
            p[n - 1] = '\0';
        if (!*p)
            continue;
        if (strncmp(p, "include", 7) == 0 && (p[7] == ' ' || p[7] == '\t')) {
            p += 8 + strspn(p + 8, " \t");
            if (glob(p, 0, NULL, &found) == 0) {
                for (size_t i = 0; rc == 0 && i < found.gl_pathc; i++)
                    rc = add_conf(dirs, found.gl_pathv[i], depth + 1);
                globfree(&found);
            }
        } else if (*p == '/' && !contains(dirs, p)) {
            rc = add(dirs, strdup(p));
        }
    }
    if (f)
        fclose(f);
    return rc;
}

static int system_dirs(struct list *dirs)
{
    static const char *const defaults[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
                                           "/lib", "/usr/lib"};
    int rc = add_conf(dirs, "/etc/ld.so.conf", 0);

    for (size_t i = 0; rc == 0 && i < sizeof defaults / sizeof defaults[0]; i++)
        if (!contains(dirs, defaults[i]))
            rc = add(dirs, strdup(defaults[i]));
    return rc;
}

/* Finds one needed name for the object at `from`. */
static char *find(const char *name, const char *from, const struct dynamic *d, const struct list *system)
{
    struct list dirs = {0};
    char origin[PATH_MAX], candidate[PATH_MAX], *found = NULL;
    const char *slash = strrchr(from, '/');

    if (strchr(name, '/'))
        return access(name, R_OK) == 0 ? realpath(name, NULL) : NULL;
    snprintf(origin, sizeof origin, "%.*s", slash ? (int)(slash - from) : 1, slash ? from : ".");
    if (!d->runpath && d->rpath)
        add_dirs(&dirs, d->rpath, origin);
    add_dirs(&dirs, getenv("LD_LIBRARY_PATH"), origin);
    if (d->runpath)
        add_dirs(&dirs, d->runpath, origin);
    for (size_t i = 0; i < system->count; i++)
        if (!contains(&dirs, system->items[i]))
            add(&dirs, strdup(system->items[i]));
    for (size_t i = 0; !found && i < dirs.count; i++) {
        snprintf(candidate, sizeof candidate, "%s/%s", dirs.items[i], name);
        if (access(candidate, R_OK) == 0)
            found = realpath(candidate, NULL);
    }
    clear(&dirs);
    return found;
}

int pyprobe__d_needed_files(const char *path, char ***out, size_t *count)
{
    struct list files = {0}, system = {0};
    char *first = realpath(path, NULL);
    int rc = first ? system_dirs(&system) : -errno;

    *out = NULL;
    *count = 0;
    /* Breadth first: files[i] is read, its needs appended. The executable
     * itself leads the list while it is walked. */
    if (rc == 0)
        rc = add(&files, first);
    else
        free(first);
    for (size_t i = 0; rc == 0 && i < files.count; i++) {
        struct dynamic d;

        if (read_object(files.items[i], &d) != 0)
            continue;
        for (size_t k = 0; rc == 0 && k < d.needed.count; k++) {
            char *lib = find(d.needed.items[k], files.items[i], &d, &system);

            if (lib && !contains(&files, lib))
                rc = add(&files, lib);
            else
                free(lib);
        }
        clear(&d.needed);
        free(d.rpath);
        free(d.runpath);
    }
    clear(&system);
    if (rc != 0) {
        clear(&files);
        return rc;
    }
    free(files.items[0]);
    memmove(files.items, files.items + 1, (files.count - 1) * sizeof *files.items);
    *out = files.items;
    *count = files.count - 1;
    return 0;
}

/* The functions of one symbol table that match `glob`. */
static size_t count_in(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr, const char *glob)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t count = 0;

    for (size_t i = 0; data && shdr->sh_entsize && i < shdr->sh_size / shdr->sh_entsize; i++) {
        GElf_Sym sym;
        const char *name;

        if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
            sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
            continue;
        name = elf_strptr(elf, shdr->sh_link, sym.st_name);
        count += name && *name && fnmatch(glob, name, 0) == 0;
    }
    return count;
}

int pyprobe__d_count_functions(int fd, const char *glob, size_t *count)
{
    Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
    GElf_Shdr shdr, symtab_shdr, dynsym_shdr;
    Elf *elf;

    *count = 0;
    elf_version(EV_CURRENT);
    elf = elf_begin(fd, ELF_C_READ, NULL);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        elf_end(elf);
        return -ENOEXEC;
    }
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        if (!gelf_getshdr(scn, &shdr))
            continue;
        if (shdr.sh_type == SHT_SYMTAB && !symtab) {
            symtab = scn;
            symtab_shdr = shdr;
        } else if (shdr.sh_type == SHT_DYNSYM && !dynsym) {
            dynsym = scn;
            dynsym_shdr = shdr;
        }
    }
    if (symtab)
        *count = count_in(elf, symtab, &symtab_shdr, glob);
    else if (dynsym)
        *count = count_in(elf, dynsym, &dynsym_shdr, glob);
    elf_end(elf);
    return 0;
}
