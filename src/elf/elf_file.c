/*
 * Opening an ELF file, its sections and segments (see elf_file.h). libelf
 * does the ELF parsing and checks every header and section against the
 * file's size; this file adds the checks libelf leaves out.
 */
#include "elf_file.h"
#include "elf_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- opening ---- */

/* libelf does not say why elf_begin() fails; checking the identification
 * first tells "not an ELF file" (-ENOEXEC) from "a broken one" (-EBADMSG). */
static int check_ident(int fd, struct pyprobe__elf *self)
{
    unsigned char ident[EI_NIDENT];
    ssize_t got = pread(fd, ident, sizeof ident, 0);

    if (got < 0)
        return -errno;
    if ((size_t)got < sizeof ident || memcmp(ident, ELFMAG, SELFMAG) != 0)
        return -ENOEXEC;
    if (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64)
        return -ENOEXEC;
    if (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB)
        return -ENOEXEC;
    self->address_size = ident[EI_CLASS] == ELFCLASS64 ? 8 : 4;
    self->encoding = ident[EI_DATA];
    return 0;
}

GElf_Shdr *pyprobe__elf_section_header(const struct pyprobe__elf *self, size_t index, GElf_Shdr *shdr)
{
    Elf_Scn *scn = elf_getscn(self->elf, index);

    return scn ? gelf_getshdr(scn, shdr) : NULL;
}

/* A section name that cannot be read is no name: it just matches nothing. */
static const char *section_name(const struct pyprobe__elf *self, const GElf_Shdr *shdr)
{
    const char *name = elf_strptr(self->elf, self->shstrndx, shdr->sh_name);

    return name ? name : "";
}

size_t pyprobe__elf_find_section(const struct pyprobe__elf *self, size_t from, const char *name, GElf_Shdr *shdr)
{
    for (size_t index = from; index < self->shnum; index++)
        if (pyprobe__elf_section_header(self, index, shdr) && strcmp(section_name(self, shdr), name) == 0)
            return index;
    return self->shnum;
}

static bool table_fits(uint64_t offset, uint64_t entry_size, uint64_t count, uint64_t file_size)
{
    return count == 0 || (entry_size != 0 && offset <= file_size && count <= (file_size - offset) / entry_size);
}

/* The section count the ELF header declares. 0 with a table offset means
 * the count is in section header 0 (libelf's count), which must exist. */
static uint64_t declared_sections(const struct pyprobe__elf *self, const GElf_Ehdr *ehdr)
{
    if (ehdr->e_shnum != 0 || ehdr->e_shoff == 0)
        return ehdr->e_shnum;
    return self->shnum > 0 ? self->shnum : 1;
}

/* libelf quietly drops header tables, or their entries, that lie past the
 * end of the file: a cut file would read as one without sections (so
 * without probes) or segments. */
static int check_tables(struct pyprobe__elf *self, const GElf_Ehdr *ehdr)
{
    struct stat st;
    size_t phnum;
    uint64_t size;

    if (fstat(self->fd, &st) != 0)
        return -errno;
    if (elf_getphdrnum(self->elf, &phnum) != 0)
        return -EBADMSG;
    size = self->file_size = (uint64_t)st.st_size;
    /* PN_XNUM: the segment count is in section header 0 too. */
    if (ehdr->e_phnum != PN_XNUM)
        phnum = ehdr->e_phnum;
    if (!table_fits(ehdr->e_shoff, ehdr->e_shentsize, declared_sections(self, ehdr), size) ||
        !table_fits(ehdr->e_phoff, ehdr->e_phentsize, phnum, size))
        return -EBADMSG;
    return 0;
}

/* Reads what every query needs, and checks every header now, so that later
 * lookups never meet a broken one. */
static int load_headers(struct pyprobe__elf *self)
{
    GElf_Ehdr ehdr;
    GElf_Shdr shdr;
    int rc;

    if (elf_kind(self->elf) != ELF_K_ELF || !gelf_getehdr(self->elf, &ehdr))
        return -EBADMSG;
    if (elf_getshdrnum(self->elf, &self->shnum) != 0 || elf_getshdrstrndx(self->elf, &self->shstrndx) != 0)
        return -EBADMSG;
    rc = check_tables(self, &ehdr);
    if (rc != 0)
        return rc;
    for (size_t index = 1; index < self->shnum; index++)
        if (!pyprobe__elf_section_header(self, index, &shdr))
            return -EBADMSG;
    return 0;
}

int pyprobe__elf_open_fd(int fd, struct pyprobe__elf **out)
{
    struct pyprobe__elf *self;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (elf_version(EV_CURRENT) == EV_NONE)
        return -ENOTSUP;
    self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->fd = fd;
    rc = check_ident(fd, self);
    if (rc == 0) {
        self->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
        rc = self->elf ? load_headers(self) : -EBADMSG;
    }
    if (rc != 0) {
        pyprobe__elf_close(self);
        return rc;
    }
    *out = self;
    return 0;
}

/* Only a regular file is read: a device or a FIFO is not an ELF file, and
 * reading one could block. */
static int check_regular(int fd)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    return S_ISREG(st.st_mode) ? 0 : -ENOEXEC;
}

int pyprobe__elf_open_path(const char *path, struct pyprobe__elf **out)
{
    int fd, rc;

    if (!path || !out)
        return -EINVAL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    rc = check_regular(fd);
    if (rc == 0)
        rc = pyprobe__elf_open_fd(fd, out);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    (*out)->owns_fd = true;
    return 0;
}

void pyprobe__elf_close(struct pyprobe__elf *self)
{
    if (!self)
        return;
    pyprobe__elf_free_names(self);
    elf_end(self->elf);
    if (self->owns_fd)
        close(self->fd);
    free(self);
}

unsigned pyprobe__elf_address_size(const struct pyprobe__elf *self)
{
    return self->address_size;
}

/* ---- sections and segments ---- */

static void describe_section(const struct pyprobe__elf *self, const GElf_Shdr *shdr, struct pyprobe__elf_section *out)
{
    out->name = section_name(self, shdr);
    out->address = shdr->sh_addr;
    out->size = shdr->sh_size;
    out->flags = shdr->sh_flags;
}

int pyprobe__elf_section_by_name(const struct pyprobe__elf *self, const char *name, struct pyprobe__elf_section *out)
{
    GElf_Shdr shdr;

    if (!self || !name || !out)
        return -EINVAL;
    if (pyprobe__elf_find_section(self, 1, name, &shdr) == self->shnum)
        return -ENOENT;
    describe_section(self, &shdr, out);
    return 0;
}

/* Unallocated sections have no address, and TLS sections' addresses are
 * templates that overlap the sections after them. */
static bool section_holds(const GElf_Shdr *shdr, uint64_t address)
{
    return (shdr->sh_flags & SHF_ALLOC) && !(shdr->sh_flags & SHF_TLS) &&
           pyprobe__elf_in_range(address, shdr->sh_addr, shdr->sh_size);
}

int pyprobe__elf_section_at(const struct pyprobe__elf *self, uint64_t address, struct pyprobe__elf_section *out)
{
    GElf_Shdr shdr;

    if (!self || !out)
        return -EINVAL;
    for (size_t index = 1; index < self->shnum; index++) {
        if (pyprobe__elf_section_header(self, index, &shdr) && section_holds(&shdr, address)) {
            describe_section(self, &shdr, out);
            return 0;
        }
    }
    return -ENOENT;
}

/* The first PT_LOAD segment holding `address`, or the first of all when
 * `any`. */
static int find_segment(const struct pyprobe__elf *self, uint64_t address, bool any, struct pyprobe__elf_segment *out)
{
    size_t count;
    GElf_Phdr phdr;

    if (!self || !out)
        return -EINVAL;
    if (elf_getphdrnum(self->elf, &count) != 0)
        return -EBADMSG;
    for (size_t index = 0; index < count; index++) {
        if (!gelf_getphdr(self->elf, (int)index, &phdr))
            return -EBADMSG;
        if (phdr.p_type == PT_LOAD && (any || pyprobe__elf_in_range(address, phdr.p_vaddr, phdr.p_memsz))) {
            *out = (struct pyprobe__elf_segment){
                .address = phdr.p_vaddr, .size = phdr.p_memsz, .flags = phdr.p_flags, .offset = phdr.p_offset};
            return 0;
        }
    }
    return -ENOENT;
}

int pyprobe__elf_segment_at(const struct pyprobe__elf *self, uint64_t address, struct pyprobe__elf_segment *out)
{
    return find_segment(self, address, false, out);
}

int pyprobe__elf_first_segment(const struct pyprobe__elf *self, struct pyprobe__elf_segment *out)
{
    return find_segment(self, 0, true, out);
}

int pyprobe__elf_to_memory(const struct pyprobe__elf *self, void *bytes, size_t size, Elf_Type type)
{
    Elf_Data data = {.d_buf = bytes, .d_size = size, .d_type = type, .d_version = EV_CURRENT};

    /* In place: an item's file and memory forms have the same size. */
    return gelf_xlatetom(self->elf, &data, &data, self->encoding) ? 0 : -EBADMSG;
}
