/*
 * The ELF and stapsdt note reader (see elf_notes.h). libelf does the ELF
 * parsing and checks every header and section against the file's size; this
 * file adds the checks of the notes' contents, which libelf leaves raw.
 */
#include "elf_notes.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAPSDT_OWNER "stapsdt"
#define STAPSDT_NOTE_TYPE 3

struct pyprobe_elf {
    Elf *elf;
    int fd;
    bool owns_fd;
    bool msb;               /* big-endian: note descriptors are raw bytes */
    unsigned address_size;
    size_t shnum;
    size_t shstrndx;
    bool has_base;          /* a .stapsdt.base section exists, at base */
    uint64_t base;
};

/* ---- opening ---- */

/* libelf does not say why elf_begin() fails; checking the identification
 * first tells "not an ELF file" (-ENOEXEC) from "a broken one" (-EBADMSG). */
static int check_ident(int fd, struct pyprobe_elf *self)
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
    self->msb = ident[EI_DATA] == ELFDATA2MSB;
    return 0;
}

static GElf_Shdr *section_header(const struct pyprobe_elf *self, size_t index, GElf_Shdr *shdr)
{
    Elf_Scn *scn = elf_getscn(self->elf, index);

    return scn ? gelf_getshdr(scn, shdr) : NULL;
}

/* A section name that cannot be read is no name: it just matches nothing. */
static const char *section_name(const struct pyprobe_elf *self, const GElf_Shdr *shdr)
{
    const char *name = elf_strptr(self->elf, self->shstrndx, shdr->sh_name);

    return name ? name : "";
}

/* The first section at index `from` or later called `name`; shnum if none. */
static size_t find_section(const struct pyprobe_elf *self, size_t from, const char *name, GElf_Shdr *shdr)
{
    for (size_t index = from; index < self->shnum; index++)
        if (section_header(self, index, shdr) && strcmp(section_name(self, shdr), name) == 0)
            return index;
    return self->shnum;
}

static bool table_fits(uint64_t offset, uint64_t entry_size, uint64_t count, uint64_t file_size)
{
    return count == 0 || (entry_size != 0 && offset <= file_size && count <= (file_size - offset) / entry_size);
}

/* The section count the ELF header declares. 0 with a table offset means
 * the count is in section header 0 (libelf's count), which must exist. */
static uint64_t declared_sections(const struct pyprobe_elf *self, const GElf_Ehdr *ehdr)
{
    if (ehdr->e_shnum != 0 || ehdr->e_shoff == 0)
        return ehdr->e_shnum;
    return self->shnum > 0 ? self->shnum : 1;
}

/* libelf quietly drops header tables, or their entries, that lie past the
 * end of the file: a cut file would read as one without sections (so
 * without probes) or segments. */
static int check_tables(const struct pyprobe_elf *self, const GElf_Ehdr *ehdr)
{
    struct stat st;
    size_t phnum;
    uint64_t size;

    if (fstat(self->fd, &st) != 0)
        return -errno;
    if (elf_getphdrnum(self->elf, &phnum) != 0)
        return -EBADMSG;
    size = (uint64_t)st.st_size;
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
static int load_headers(struct pyprobe_elf *self)
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
        if (!section_header(self, index, &shdr))
            return -EBADMSG;
    self->has_base = find_section(self, 1, ".stapsdt.base", &shdr) < self->shnum;
    self->base = self->has_base ? shdr.sh_addr : 0;
    return 0;
}

int pyprobe_elf_open_fd(int fd, struct pyprobe_elf **out)
{
    struct pyprobe_elf *self;
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
        pyprobe_elf_close(self);
        return rc;
    }
    *out = self;
    return 0;
}

int pyprobe_elf_open_path(const char *path, struct pyprobe_elf **out)
{
    int fd, rc;

    if (!path || !out)
        return -EINVAL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = pyprobe_elf_open_fd(fd, out);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    (*out)->owns_fd = true;
    return 0;
}

void pyprobe_elf_close(struct pyprobe_elf *self)
{
    if (!self)
        return;
    elf_end(self->elf);
    if (self->owns_fd)
        close(self->fd);
    free(self);
}

unsigned pyprobe_elf_address_size(const struct pyprobe_elf *self)
{
    return self->address_size;
}

/* ---- sections, segments, symbols ---- */

static void describe_section(const struct pyprobe_elf *self, const GElf_Shdr *shdr, struct pyprobe_elf_section *out)
{
    out->name = section_name(self, shdr);
    out->address = shdr->sh_addr;
    out->size = shdr->sh_size;
    out->flags = shdr->sh_flags;
}

/* Written so that address + size may overflow without a false match. */
static bool in_range(uint64_t address, uint64_t start, uint64_t size)
{
    return address >= start && address - start < size;
}

int pyprobe_elf_section_by_name(const struct pyprobe_elf *self, const char *name, struct pyprobe_elf_section *out)
{
    GElf_Shdr shdr;

    if (!self || !name || !out)
        return -EINVAL;
    if (find_section(self, 1, name, &shdr) == self->shnum)
        return -ENOENT;
    describe_section(self, &shdr, out);
    return 0;
}

/* Unallocated sections have no address, and TLS sections' addresses are
 * templates that overlap the sections after them. */
static bool section_holds(const GElf_Shdr *shdr, uint64_t address)
{
    return (shdr->sh_flags & SHF_ALLOC) && !(shdr->sh_flags & SHF_TLS) &&
           in_range(address, shdr->sh_addr, shdr->sh_size);
}

int pyprobe_elf_section_at(const struct pyprobe_elf *self, uint64_t address, struct pyprobe_elf_section *out)
{
    GElf_Shdr shdr;

    if (!self || !out)
        return -EINVAL;
    for (size_t index = 1; index < self->shnum; index++) {
        if (section_header(self, index, &shdr) && section_holds(&shdr, address)) {
            describe_section(self, &shdr, out);
            return 0;
        }
    }
    return -ENOENT;
}

int pyprobe_elf_segment_at(const struct pyprobe_elf *self, uint64_t address, struct pyprobe_elf_segment *out)
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
        if (phdr.p_type == PT_LOAD && in_range(address, phdr.p_vaddr, phdr.p_memsz)) {
            *out = (struct pyprobe_elf_segment){phdr.p_vaddr, phdr.p_memsz, phdr.p_flags};
            return 0;
        }
    }
    return -ENOENT;
}

static bool function_holds(const GElf_Sym *sym, uint64_t address)
{
    int type = GELF_ST_TYPE(sym->st_info);

    return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_shndx != SHN_UNDEF &&
           in_range(address, sym->st_value, sym->st_size);
}

/* Searches every symbol table section of type `type` (SHT_SYMTAB, SHT_DYNSYM). */
static const char *function_in_tables(const struct pyprobe_elf *self, uint32_t type, uint64_t address)
{
    GElf_Shdr shdr;
    GElf_Sym sym;

    for (size_t index = 1; index < self->shnum; index++) {
        Elf_Data *data;

        if (!section_header(self, index, &shdr) || shdr.sh_type != type || shdr.sh_entsize == 0)
            continue;
        data = elf_getdata(elf_getscn(self->elf, index), NULL);
        for (size_t n = 0; data && n < shdr.sh_size / shdr.sh_entsize; n++)
            if (gelf_getsym(data, (int)n, &sym) && function_holds(&sym, address))
                return elf_strptr(self->elf, shdr.sh_link, sym.st_name);
    }
    return NULL;
}

int pyprobe_elf_function_at(const struct pyprobe_elf *self, uint64_t address, const char **name)
{
    const char *found;

    if (!self || !name)
        return -EINVAL;
    /* .symtab also has the static functions; .dynsym survives stripping. */
    found = function_in_tables(self, SHT_SYMTAB, address);
    if (!found)
        found = function_in_tables(self, SHT_DYNSYM, address);
    if (!found)
        return -ENOENT;
    *name = found;
    return 0;
}

/* ---- stapsdt notes ---- */

/* The next non-empty .note.stapsdt at index `from` or later; shnum if none. */
static size_t next_note_section(const struct pyprobe_elf *self, size_t from)
{
    GElf_Shdr shdr;
    size_t index;

    for (index = find_section(self, from, ".note.stapsdt", &shdr); index < self->shnum;
         index = find_section(self, index + 1, ".note.stapsdt", &shdr))
        if (shdr.sh_type == SHT_NOTE && shdr.sh_size > 0)
            break;
    return index;
}

void pyprobe_stapsdt_begin(const struct pyprobe_elf *elf, struct pyprobe_stapsdt_iter *it)
{
    it->elf = elf;
    it->section = next_note_section(elf, 1);
    it->offset = 0;
}

/* The note section the iterator is in, moving on to the next one when this
 * one is done: 1 and *data, 0 at the end, -EBADMSG if it cannot be read. */
static int current_notes(struct pyprobe_stapsdt_iter *it, Elf_Data **data)
{
    while (it->section < it->elf->shnum) {
        *data = elf_getdata(elf_getscn(it->elf->elf, it->section), NULL);
        if (!*data)
            return -EBADMSG;
        if (it->offset < (*data)->d_size)
            return 1;
        it->section = next_note_section(it->elf, it->section + 1);
        it->offset = 0;
    }
    return 0;
}

static bool is_stapsdt(const GElf_Nhdr *nhdr, const char *name)
{
    return nhdr->n_type == STAPSDT_NOTE_TYPE && nhdr->n_namesz == sizeof STAPSDT_OWNER &&
           memcmp(name, STAPSDT_OWNER, sizeof STAPSDT_OWNER) == 0;
}

/* libelf translates the note headers but not the descriptors: the addresses
 * are read in the file's byte order. */
static uint64_t read_address(const struct pyprobe_elf *self, const unsigned char *bytes)
{
    uint64_t value = 0;

    for (unsigned i = 0; i < self->address_size; i++)
        value = value << 8 | bytes[self->msb ? i : self->address_size - 1 - i];
    return value;
}

/* Takes the NUL-terminated string at *used, and moves *used past it. */
static int take_string(const unsigned char *desc, size_t size, size_t *used, const char **out)
{
    const char *start = (const char *)desc + *used;
    const char *nul = memchr(start, '\0', size - *used);

    if (!nul)
        return -EBADMSG;
    *out = start;
    *used += (size_t)(nul - start) + 1;
    return 0;
}

/* The .stapsdt.base rule: the site moved as far as the base section did
 * since the note was written (prelinking). Addresses wrap at the ELF's
 * address size. */
static uint64_t relocate(const struct pyprobe_elf *self, uint64_t address, uint64_t note_base)
{
    uint64_t moved = address + (self->base - note_base);

    return self->address_size == 4 ? (moved & UINT32_MAX) : moved;
}

static int decode_probe(const struct pyprobe_elf *self, const unsigned char *desc, size_t size,
                        struct pyprobe_stapsdt_probe *probe)
{
    size_t used = 3 * (size_t)self->address_size;
    int rc;

    if (size < used)
        return -EBADMSG;
    probe->note_pc = read_address(self, desc);
    probe->note_base = read_address(self, desc + self->address_size);
    probe->note_semaphore = read_address(self, desc + 2 * self->address_size);
    rc = take_string(desc, size, &used, &probe->provider);
    if (rc == 0)
        rc = take_string(desc, size, &used, &probe->name);
    if (rc == 0)
        rc = take_string(desc, size, &used, &probe->args);
    if (rc != 0)
        return rc;
    probe->pc = self->has_base ? relocate(self, probe->note_pc, probe->note_base) : probe->note_pc;
    probe->semaphore = self->has_base && probe->note_semaphore
        ? relocate(self, probe->note_semaphore, probe->note_base) : probe->note_semaphore;
    return 0;
}

int pyprobe_stapsdt_next(struct pyprobe_stapsdt_iter *it, struct pyprobe_stapsdt_probe *probe)
{
    Elf_Data *data;
    GElf_Nhdr nhdr;
    size_t name_offset, desc_offset;
    int rc;

    if (!it || !it->elf || !probe)
        return -EINVAL;
    while ((rc = current_notes(it, &data)) > 0) {
        const unsigned char *bytes = data->d_buf;
        /* 0: the note does not fit in what is left of the section. */
        size_t next = gelf_getnote(data, it->offset, &nhdr, &name_offset, &desc_offset);
        if (next == 0)
            return -EBADMSG;
        it->offset = next;
        if (!is_stapsdt(&nhdr, (const char *)bytes + name_offset))
            continue;
        rc = decode_probe(it->elf, bytes + desc_offset, nhdr.n_descsz, probe);
        return rc == 0 ? 1 : rc;
    }
    return rc;
}

/* ---- argument descriptions ---- */

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool valid_size(unsigned long size)
{
    return size == 1 || size == 2 || size == 4 || size == 8 || size == 16;
}

/* An operand runs to the next space outside brackets: AArch64 writes memory
 * operands as "[sp, 16]". NULL if a bracket is left open. */
static const char *operand_end(const char *p)
{
    int depth = 0;

    for (; *p && (depth > 0 || (*p != ' ' && *p != '\t')); p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']')
            depth--;
    }
    return depth == 0 ? p : NULL;
}

/* Parses one "[-]SIZE[f]@OPERAND": the text after it, or NULL. */
static const char *parse_arg(const char *p, struct pyprobe_arg *arg)
{
    char *end;
    unsigned long size;

    arg->is_signed = *p == '-';
    p += arg->is_signed;
    if (!isdigit((unsigned char)*p))
        return NULL; /* strtoul would also take spaces and signs */
    size = strtoul(p, &end, 10);
    if (!valid_size(size))
        return NULL;
    arg->size = (unsigned)size;
    p = end;
    arg->is_float = *p == 'f';
    p += arg->is_float;
    if (*p++ != '@')
        return NULL;
    arg->operand = p;
    p = operand_end(p);
    if (!p || p == arg->operand)
        return NULL;
    arg->operand_length = (size_t)(p - arg->operand);
    /* A second '@' means two arguments ran together. */
    if (memchr(arg->operand, '@', arg->operand_length))
        return NULL;
    return p;
}

int pyprobe_parse_args(const char *desc, struct pyprobe_arg args[PYPROBE_MAX_ARGS])
{
    int count = 0;

    if (!desc || !args)
        return -EINVAL;
    for (const char *p = skip_spaces(desc); *p; p = skip_spaces(p)) {
        if (count == PYPROBE_MAX_ARGS)
            return -EINVAL;
        p = parse_arg(p, &args[count]);
        if (!p)
            return -EINVAL;
        count++;
    }
    return count;
}
