/* A process's mapped ELF objects (see lister_proc.h). */
#include "lister_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "grow.h"

struct pyprobe__proc {
    int pid;
    int mem_fd;                 /* /proc/PID/mem, or -errno */
    char *text;                 /* the maps file, its lines split in place */
    struct pyprobe__mapping *maps;
    size_t map_count;
    size_t *objects;            /* per object: the index of its first mapping */
    size_t object_count;
};

/* ---- /proc/PID/maps ---- */

int pyprobe__maps_parse_line(char *line, struct pyprobe__mapping *out)
{
    int used = 0;
    char *path, *end;

    if (!line || !out)
        return -EINVAL;
    *out = (struct pyprobe__mapping){0};
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n", &out->start, &out->end,
               out->perms, &out->offset, &out->dev_major, &out->dev_minor, &out->inode, &used) != 7 ||
        used == 0 || strlen(out->perms) != 4 || out->end < out->start)
        return -EINVAL;
    path = line + used;
    path += strspn(path, " \t");
    end = path + strcspn(path, "\n");
    *end = '\0';
    out->path = path;
    return 0;
}

size_t pyprobe__maps_path_length(const char *path)
{
    static const char deleted[] = " (deleted)";
    size_t length = strlen(path), mark = sizeof deleted - 1;

    return length > mark && strcmp(path + length - mark, deleted) == 0 ? length - mark : length;
}

/* The whole of a /proc file, NUL-terminated, malloc'd. */
static int read_text(const char *name, char **out)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    size_t size = 0, capacity = 0;
    char *text = NULL;
    ssize_t got = 1;

    if (fd < 0)
        return -errno;
    while (got > 0) {
        /* Room for a page at a time, and the final NUL. */
        if (pyprobe__grow(&text, &capacity, size + 4096 + 1, 1) != 0) {
            got = -ENOMEM;
            break;
        }
        got = read(fd, text + size, capacity - size - 1);
        if (got < 0)
            got = -errno;
        else
            size += (size_t)got;
    }
    close(fd);
    if (got < 0) {
        free(text);
        return (int)got;
    }
    text[size] = '\0';
    *out = text;
    return 0;
}

static bool same_file(const struct pyprobe__mapping *a, const struct pyprobe__mapping *b)
{
    return a->inode == b->inode && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

/* A mapping of a file by path: not anonymous, [heap], [stack] or [vdso]. */
static bool is_file_mapping(const struct pyprobe__mapping *mapping)
{
    return mapping->inode != 0 && mapping->path[0] == '/';
}

static void add_object(struct pyprobe__proc *self, size_t mapping)
{
    for (size_t i = 0; i < self->object_count; i++)
        if (same_file(&self->maps[self->objects[i]], &self->maps[mapping]))
            return;
    self->objects[self->object_count++] = mapping;
}

static int parse_maps(struct pyprobe__proc *self)
{
    size_t lines = 0;

    for (const char *p = self->text; *p; p++)
        lines += *p == '\n';
    self->maps = calloc(lines + 1, sizeof *self->maps);
    self->objects = calloc(lines + 1, sizeof *self->objects);
    if (!self->maps || !self->objects)
        return -ENOMEM;
    for (char *line = self->text, *next; *line; line = next) {
        next = line + strcspn(line, "\n");
        if (*next)
            *next++ = '\0';
        if (pyprobe__maps_parse_line(line, &self->maps[self->map_count]) != 0)
            return -EINVAL;
        if (is_file_mapping(&self->maps[self->map_count]))
            add_object(self, self->map_count);
        self->map_count++;
    }
    return 0;
}

int pyprobe__proc_open(int pid, struct pyprobe__proc **out)
{
    char name[64];
    struct pyprobe__proc *self;
    int rc;

    if (!out || pid <= 0)
        return -EINVAL;
    *out = NULL;
    self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->pid = pid;
    snprintf(name, sizeof name, "/proc/%d/maps", pid);
    rc = read_text(name, &self->text);
    if (rc == -ENOENT)
        rc = -ESRCH;
    if (rc == 0)
        rc = parse_maps(self);
    if (rc == 0) {
        snprintf(name, sizeof name, "/proc/%d/mem", pid);
        self->mem_fd = open(name, O_RDONLY | O_CLOEXEC);
        if (self->mem_fd < 0)
            self->mem_fd = -errno;
    }
    if (rc != 0) {
        self->mem_fd = -1;
        pyprobe__proc_close(self);
        return rc;
    }
    *out = self;
    return 0;
}

void pyprobe__proc_close(struct pyprobe__proc *self)
{
    if (!self)
        return;
    if (self->mem_fd >= 0)
        close(self->mem_fd);
    free(self->text);
    free(self->maps);
    free(self->objects);
    free(self);
}

int pyprobe__proc_pid(const struct pyprobe__proc *self)
{
    return self->pid;
}

size_t pyprobe__proc_object_count(const struct pyprobe__proc *self)
{
    return self->object_count;
}

const char *pyprobe__proc_object_path(const struct pyprobe__proc *self, size_t index)
{
    return index < self->object_count ? self->maps[self->objects[index]].path : NULL;
}

/* ---- reaching a mapped file ---- */

static bool is_the_mapped_file(const struct stat *st, const struct pyprobe__mapping *mapping)
{
    return st->st_dev == makedev(mapping->dev_major, mapping->dev_minor) && st->st_ino == mapping->inode;
}

/* Opens `name` if it is a regular file (stat first: opening a device or a
 * FIFO could block or have effects) and, when `check`, the mapped file. */
static int open_regular(const char *name, const struct pyprobe__mapping *mapping, bool check)
{
    struct stat st;
    int fd;

    if (stat(name, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -ENOEXEC;
    if (check && !is_the_mapped_file(&st, mapping))
        return -ESTALE; /* another file has that name now */
    fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

/* The link is the mapped file itself, deleted or not: no check needed (and
 * an overlayfs file may show another inode in maps than through a path). */
static int open_by_map_files(const struct pyprobe__proc *self, const struct pyprobe__mapping *mapping)
{
    char name[96];

    snprintf(name, sizeof name, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, self->pid, mapping->start, mapping->end);
    return open_regular(name, mapping, false);
}

static int open_by_root(const struct pyprobe__proc *self, const struct pyprobe__mapping *mapping)
{
    char name[PATH_MAX];
    int length;

    if (pyprobe__maps_path_length(mapping->path) != strlen(mapping->path))
        return -ENOENT;
    length = snprintf(name, sizeof name, "/proc/%d/root%s", self->pid, mapping->path);
    if (length < 0 || (size_t)length >= sizeof name)
        return -ENAMETOOLONG;
    return open_regular(name, mapping, true);
}

/* A memfd or a deleted file that the process still holds open. */
static int open_by_fd(const struct pyprobe__proc *self, const struct pyprobe__mapping *mapping)
{
    char name[96];
    DIR *dir;
    struct dirent *entry;
    int rc = -ENOENT;

    snprintf(name, sizeof name, "/proc/%d/fd", self->pid);
    dir = opendir(name);
    if (!dir)
        return -errno;
    while (rc < 0 && (entry = readdir(dir)) != NULL) {
        struct stat st;

        if (entry->d_name[0] == '.')
            continue;
        snprintf(name, sizeof name, "/proc/%d/fd/%.20s", self->pid, entry->d_name);
        if (stat(name, &st) == 0 && is_the_mapped_file(&st, mapping))
            rc = open_regular(name, mapping, true);
    }
    closedir(dir);
    return rc;
}

int pyprobe__proc_open_file(const struct pyprobe__proc *self, size_t index, unsigned methods)
{
    static int (*const ways[])(const struct pyprobe__proc *, const struct pyprobe__mapping *) = {
        open_by_map_files, open_by_root, open_by_fd};
    const struct pyprobe__mapping *mapping;
    int first_error = 0;

    if (!self || index >= self->object_count)
        return -EINVAL;
    mapping = &self->maps[self->objects[index]];
    for (size_t way = 0; way < sizeof ways / sizeof ways[0]; way++) {
        int fd;

        if (!(methods & (1u << way)))
            continue;
        fd = ways[way](self, mapping);
        if (fd >= 0 || fd == -ENOEXEC)
            return fd;
        if (!first_error)
            first_error = fd;
    }
    return first_error ? first_error : -ENOENT;
}

/* ---- objects ---- */

/* The load bias of each instance of the object: each of its mappings of the
 * file page that holds the first PT_LOAD segment starts one (a library
 * loaded twice, by dlmopen, is mapped twice). None when no mapping of the
 * object is executable: then it is mapped as data, not loaded as code. */
static int find_instances(const struct pyprobe__proc *self, size_t index, struct pyprobe__proc_object *object)
{
    const struct pyprobe__mapping *first = &self->maps[self->objects[index]];
    struct pyprobe__elf_segment segment;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    bool executable = false;

    if (pyprobe__elf_first_segment(object->elf, &segment) != 0)
        return 0;
    for (size_t i = self->objects[index]; i < self->map_count; i++)
        executable |= same_file(&self->maps[i], first) && self->maps[i].perms[2] == 'x';
    object->biases = calloc(self->map_count, sizeof *object->biases);
    if (!object->biases)
        return -ENOMEM;
    for (size_t i = self->objects[index]; executable && i < self->map_count; i++) {
        const struct pyprobe__mapping *m = &self->maps[i];
        uint64_t bias = m->start - m->offset + segment.offset - segment.address;
        bool known = false;

        if (!same_file(m, first) || m->offset != (segment.offset & ~(page - 1)))
            continue;
        for (size_t k = 0; k < object->bias_count; k++)
            known |= object->biases[k] == bias;
        if (!known)
            object->biases[object->bias_count++] = bias;
    }
    return 0;
}

int pyprobe__proc_object_open(const struct pyprobe__proc *self, size_t index, unsigned methods,
                             struct pyprobe__proc_object *out)
{
    int rc;

    if (!self || !out || index >= self->object_count)
        return -EINVAL;
    *out = (struct pyprobe__proc_object){.path = pyprobe__proc_object_path(self, index), .fd = -1};
    out->fd = pyprobe__proc_open_file(self, index, methods);
    if (out->fd < 0)
        return out->fd;
    rc = pyprobe__elf_open_fd(out->fd, &out->elf);
    if (rc == 0)
        rc = find_instances(self, index, out);
    if (rc != 0)
        pyprobe__proc_object_close(out);
    return rc;
}

void pyprobe__proc_object_close(struct pyprobe__proc_object *object)
{
    if (!object)
        return;
    pyprobe__elf_close(object->elf);
    if (object->fd >= 0)
        close(object->fd);
    free(object->biases);
    *object = (struct pyprobe__proc_object){.fd = -1};
}

int pyprobe__proc_read(const struct pyprobe__proc *self, uint64_t address, void *buffer, size_t size)
{
    ssize_t got;

    if (!self || !buffer)
        return -EINVAL;
    if (self->mem_fd < 0)
        return self->mem_fd;
    if (address > (uint64_t)INT64_MAX)
        return -EIO;
    got = pread(self->mem_fd, buffer, size, (off_t)address);
    if (got < 0)
        return -errno;
    return (size_t)got == size ? 0 : -EIO;
}
