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

/* A function name read from a string table: a copy that lives as long as
 * the handle (the tables are read with pread, not mapped). */
struct name_copy {
    struct name_copy *next;
    char text[];
};

struct pyprobe_elf {
    Elf *elf;
    int fd;
    bool owns_fd;
    uint64_t file_size;
    struct name_copy *names;
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
static int check_tables(struct pyprobe_elf *self, const GElf_Ehdr *ehdr)
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

int pyprobe_elf_open_path(const char *path, struct pyprobe_elf **out)
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
    while (self->names) {
        struct name_copy *next = self->names->next;

        free(self->names);
        self->names = next;
    }
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

/* The first PT_LOAD segment holding `address`, or the first of all when
 * `any`. */
static int find_segment(const struct pyprobe_elf *self, uint64_t address, bool any, struct pyprobe_elf_segment *out)
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
        if (phdr.p_type == PT_LOAD && (any || in_range(address, phdr.p_vaddr, phdr.p_memsz))) {
            *out = (struct pyprobe_elf_segment){
                .address = phdr.p_vaddr, .size = phdr.p_memsz, .flags = phdr.p_flags, .offset = phdr.p_offset};
            return 0;
        }
    }
    return -ENOENT;
}

int pyprobe_elf_segment_at(const struct pyprobe_elf *self, uint64_t address, struct pyprobe_elf_segment *out)
{
    return find_segment(self, address, false, out);
}

int pyprobe_elf_first_segment(const struct pyprobe_elf *self, struct pyprobe_elf_segment *out)
{
    return find_segment(self, 0, true, out);
}

/* An integer of `size` bytes (2, 4 or 8) in the file's byte order. Hot:
 * a big symbol table has tens of thousands of entries to decode. */
static uint64_t read_uint(const struct pyprobe_elf *self, const unsigned char *bytes, unsigned size)
{
    bool swap = self->msb != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    switch (size) {
    case 2:
        memcpy(&u16, bytes, 2);
        return swap ? __builtin_bswap16(u16) : u16;
    case 4:
        memcpy(&u32, bytes, 4);
        return swap ? __builtin_bswap32(u32) : u32;
    default:
        memcpy(&u64, bytes, 8);
        return swap ? __builtin_bswap64(u64) : u64;
    }
}

/* What a function lookup needs of a symbol, from Elf32_Sym or Elf64_Sym. */
struct symbol {
    uint64_t name, value, size;
};

static size_t symbol_size(const struct pyprobe_elf *self)
{
    return self->address_size == 8 ? 24 : 16;
}

/* Decodes a function symbol: false for any other, after a look at its type
 * alone (most symbols are not functions). */
static bool decode_function(const struct pyprobe_elf *self, const unsigned char *raw, struct symbol *sym)
{
    bool wide = self->address_size == 8;
    int type = GELF_ST_TYPE(raw[wide ? 4 : 12]);

    if (type != STT_FUNC && type != STT_GNU_IFUNC)
        return false;
    if (read_uint(self, raw + (wide ? 6 : 14), 2) == SHN_UNDEF)
        return false;
    sym->name = read_uint(self, raw, 4);
    sym->value = read_uint(self, raw + (wide ? 8 : 4), self->address_size);
    sym->size = read_uint(self, raw + (wide ? 16 : 8), self->address_size);
    return sym->size > 0;
}

/* A section's bytes as pread(2) reaches them: only when they are in the file. */
struct file_range {
    uint64_t offset, size;
};

static bool file_range_of(const struct pyprobe_elf *self, const GElf_Shdr *shdr, struct file_range *out)
{
    if (shdr->sh_type == SHT_NOBITS || (shdr->sh_flags & SHF_COMPRESSED) || shdr->sh_offset > self->file_size ||
        shdr->sh_size > self->file_size - shdr->sh_offset)
        return false;
    *out = (struct file_range){shdr->sh_offset, shdr->sh_size};
    return true;
}

/* Long C++ names are kilobytes; past this a name is taken as corrupt. */
#define MAX_NAME_LENGTH 65536

/* Copies the NUL-terminated string at `offset` of the string table into a
 * name owned by the handle; NULL if it is not NUL-terminated in its table. */
static const char *copy_name(struct pyprobe_elf *self, const struct file_range *table, uint64_t offset)
{
    uint64_t left = offset < table->size ? table->size - offset : 0;
    size_t got = 0;
    struct name_copy *copy = NULL;

    for (size_t capacity = 128; got < left && got < MAX_NAME_LENGTH; capacity *= 2) {
        size_t want = left - got < capacity - got ? (size_t)(left - got) : capacity - got;
        struct name_copy *bigger = realloc(copy, sizeof *copy + got + want);
        ssize_t n;

        if (!bigger)
            break;
        copy = bigger;
        n = pread(self->fd, copy->text + got, want, (off_t)(table->offset + offset + got));
        if (n <= 0)
            break;
        got += (size_t)n;
        if (memchr(copy->text + got - (size_t)n, '\0', (size_t)n)) {
            copy->next = self->names;
            self->names = copy;
            return copy->text;
        }
    }
    free(copy);
    return NULL;
}

/* The addresses still looked for, sorted, with an index of buckets over
 * their range: each symbol finds the first one at or above its start in a
 * step or two (a binary search per symbol costs more than all the rest). */
struct lookup {
    struct wanted {
        uint64_t address;
        size_t index;
    } *wanted;
    size_t count;
    size_t unnamed;     /* how many have no name yet */
    const char **names;
    size_t *buckets;    /* bucket b: the first wanted at or above low + (b << shift) */
    size_t bucket_count;
    unsigned shift;
};

static int by_address(const void *a, const void *b)
{
    const struct wanted *x = a, *y = b;

    return x->address < y->address ? -1 : x->address > y->address;
}

static uint64_t lowest(const struct lookup *lookup)
{
    return lookup->wanted[0].address;
}

static int index_buckets(struct lookup *lookup)
{
    uint64_t span = lookup->wanted[lookup->count - 1].address - lowest(lookup);
    size_t i = 0;

    lookup->bucket_count = 1;
    while (lookup->bucket_count < 2 * lookup->count && lookup->bucket_count < (1u << 16))
        lookup->bucket_count *= 2;
    while ((span >> lookup->shift) >= lookup->bucket_count)
        lookup->shift++;
    lookup->buckets = malloc(lookup->bucket_count * sizeof *lookup->buckets);
    if (!lookup->buckets)
        return -ENOMEM;
    for (size_t b = 0; b < lookup->bucket_count; b++) {
        while (i < lookup->count && ((lookup->wanted[i].address - lowest(lookup)) >> lookup->shift) < b)
            i++;
        lookup->buckets[b] = i;
    }
    return 0;
}

/* The first wanted address not below `address`. */
static size_t first_at_or_above(const struct lookup *lookup, uint64_t address)
{
    uint64_t bucket;
    size_t i;

    if (address <= lowest(lookup))
        return 0;
    bucket = (address - lowest(lookup)) >> lookup->shift;
    if (bucket >= lookup->bucket_count)
        return lookup->count;
    for (i = lookup->buckets[bucket]; i < lookup->count && lookup->wanted[i].address < address; i++)
        ;
    return i;
}

/* Names the wanted addresses `sym` holds that have no name yet: the first
 * symbol in table order wins, as in one lookup at a time. */
static void name_addresses(struct pyprobe_elf *self, struct lookup *lookup, const struct symbol *sym,
                           const struct file_range *strings)
{
    const char *name = NULL;

    for (size_t i = first_at_or_above(lookup, sym->value);
         i < lookup->count && in_range(lookup->wanted[i].address, sym->value, sym->size); i++) {
        const char **slot = &lookup->names[lookup->wanted[i].index];

        if (*slot)
            continue;
        if (!name)
            name = copy_name(self, strings, sym->name);
        if (!name)
            return;
        *slot = name;
        lookup->unnamed--;
    }
}

enum { SYMBOL_CHUNK = 65536 };

/* One pass over the symbol table in section `index`, SYMBOL_CHUNK bytes at
 * a time. A table cut short by the file's end is read as far as it goes. */
static int scan_symbols(struct pyprobe_elf *self, struct lookup *lookup, const GElf_Shdr *shdr,
                        unsigned char *chunk)
{
    size_t entry = symbol_size(self);
    size_t per_chunk = SYMBOL_CHUNK / entry;
    GElf_Shdr strtab;
    struct file_range symbols, strings;

    if (shdr->sh_entsize != entry || !file_range_of(self, shdr, &symbols) ||
        !section_header(self, shdr->sh_link, &strtab) || !file_range_of(self, &strtab, &strings))
        return 0;
    for (uint64_t done = 0; done < symbols.size / entry; done += per_chunk) {
        ssize_t got = pread(self->fd, chunk, per_chunk * entry, (off_t)(symbols.offset + done * entry));
        struct symbol sym;

        if (got < 0)
            return -errno;
        for (size_t n = 0; n < (size_t)got / entry && done + n < symbols.size / entry; n++)
            if (decode_function(self, chunk + n * entry, &sym))
                name_addresses(self, lookup, &sym, &strings);
        /* Once every address has its name no later symbol can change one. */
        if ((size_t)got < per_chunk * entry || lookup->unnamed == 0)
            break;
    }
    return 0;
}

static int scan_tables(struct pyprobe_elf *self, struct lookup *lookup, uint32_t type)
{
    unsigned char *chunk = malloc(SYMBOL_CHUNK);
    GElf_Shdr shdr;
    int rc = 0;

    if (!chunk)
        return -ENOMEM;
    for (size_t index = 1; index < self->shnum && rc == 0 && lookup->unnamed > 0; index++)
        if (section_header(self, index, &shdr) && shdr.sh_type == type)
            rc = scan_symbols(self, lookup, &shdr, chunk);
    free(chunk);
    return rc;
}

int pyprobe_elf_functions_at(const struct pyprobe_elf *elf, const uint64_t *addresses, size_t count,
                             const char **names)
{
    /* The handle's name list grows: the handle is logically const. */
    struct pyprobe_elf *self = (struct pyprobe_elf *)elf;
    struct lookup lookup = {.count = count, .unnamed = count, .names = names};
    int rc;

    if (!self || (count && (!addresses || !names)))
        return -EINVAL;
    if (count == 0)
        return 0;
    lookup.wanted = malloc(count * sizeof *lookup.wanted);
    if (!lookup.wanted)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        lookup.wanted[i] = (struct wanted){addresses[i], i};
        names[i] = NULL;
    }
    qsort(lookup.wanted, count, sizeof *lookup.wanted, by_address);
    /* .symtab also has the static functions; .dynsym survives stripping.
     * A table that cannot be read only leaves names unknown. */
    rc = index_buckets(&lookup);
    if (rc == 0)
        rc = scan_tables(self, &lookup, SHT_SYMTAB);
    if (rc != -ENOMEM)
        rc = scan_tables(self, &lookup, SHT_DYNSYM);
    free(lookup.buckets);
    free(lookup.wanted);
    return rc == -ENOMEM ? rc : 0;
}

int pyprobe_elf_function_at(const struct pyprobe_elf *self, uint64_t address, const char **name)
{
    const char *found;
    int rc;

    if (!self || !name)
        return -EINVAL;
    rc = pyprobe_elf_functions_at(self, &address, 1, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return -ENOENT;
    *name = found;
    return 0;
}

/* ---- notes ---- */

/* The next non-empty note section called `name` at index `from` or later;
 * shnum if none. */
static size_t next_note_section(const struct pyprobe_elf *self, const char *name, size_t from)
{
    GElf_Shdr shdr;
    size_t index;

    for (index = find_section(self, from, name, &shdr); index < self->shnum;
         index = find_section(self, index + 1, name, &shdr))
        if (shdr.sh_type == SHT_NOTE && shdr.sh_size > 0)
            break;
    return index;
}

void pyprobe_elf_notes_begin(const struct pyprobe_elf *elf, const char *section_name, struct pyprobe_elf_note_iter *it)
{
    it->elf = elf;
    it->section_name = section_name;
    it->section = next_note_section(elf, section_name, 1);
    it->offset = 0;
}

/* The note section the iterator is in, moving on to the next one when this
 * one is done: 1 and *data, 0 at the end, -EBADMSG if it cannot be read. */
static int current_notes(struct pyprobe_elf_note_iter *it, Elf_Data **data)
{
    while (it->section < it->elf->shnum) {
        *data = elf_getdata(elf_getscn(it->elf->elf, it->section), NULL);
        if (!*data)
            return -EBADMSG;
        if (it->offset < (*data)->d_size)
            return 1;
        it->section = next_note_section(it->elf, it->section_name, it->section + 1);
        it->offset = 0;
    }
    return 0;
}

int pyprobe_elf_notes_next(struct pyprobe_elf_note_iter *it, struct pyprobe_elf_note *note)
{
    Elf_Data *data;
    GElf_Nhdr nhdr;
    size_t name_offset, desc_offset, next;
    int rc;

    if (!it || !it->elf || !it->section_name || !note)
        return -EINVAL;
    rc = current_notes(it, &data);
    if (rc <= 0)
        return rc;
    /* 0: the note does not fit in what is left of the section. */
    next = gelf_getnote(data, it->offset, &nhdr, &name_offset, &desc_offset);
    if (next == 0)
        return -EBADMSG;
    it->offset = next;
    *note = (struct pyprobe_elf_note){
        .owner = (const char *)data->d_buf + name_offset, .owner_size = nhdr.n_namesz, .type = nhdr.n_type,
        .desc = (const unsigned char *)data->d_buf + desc_offset, .desc_size = nhdr.n_descsz};
    return 1;
}

bool pyprobe_elf_note_is(const struct pyprobe_elf_note *note, const char *owner, uint32_t type)
{
    size_t size = strlen(owner) + 1;

    return note->type == type && note->owner_size == size && memcmp(note->owner, owner, size) == 0;
}

/* ---- stapsdt notes ---- */

void pyprobe_stapsdt_begin(const struct pyprobe_elf *elf, struct pyprobe_stapsdt_iter *it)
{
    pyprobe_elf_notes_begin(elf, ".note.stapsdt", &it->notes);
}

/* libelf translates the note headers but not the descriptors: the addresses
 * are read in the file's byte order. */
static uint64_t read_address(const struct pyprobe_elf *self, const unsigned char *bytes)
{
    return read_uint(self, bytes, self->address_size);
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
    struct pyprobe_elf_note note;
    int rc;

    if (!it || !probe)
        return -EINVAL;
    while ((rc = pyprobe_elf_notes_next(&it->notes, &note)) > 0) {
        if (!pyprobe_elf_note_is(&note, STAPSDT_OWNER, STAPSDT_NOTE_TYPE))
            continue;
        rc = decode_probe(it->notes.elf, note.desc, note.desc_size, probe);
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
