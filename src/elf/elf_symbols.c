/*
 * Function symbols (see elf_symbols.h): which function holds an address,
 * for many addresses in one pass over each symbol table.
 *
 * The tables are read with pread(2) a chunk at a time and translated by
 * libelf (gelf_xlatetom), and names are copied out of their string table
 * one by one, never through libelf's mapping of the file: touching a mapped
 * table makes it resident, and libjvm.so's .symtab and .strtab (1.4 MB and
 * 2.7 MB, for a few hundred names) would more than double a lister's peak
 * memory (measured: 2.1 MB read this way, 5.9 MB through elf_getdata and
 * elf_strptr; readelf -n takes 2.7 MB).
 */
#include "elf_symbols.h"
#include "elf_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"

/* ---- names, copied out of string tables ---- */

/* Long C++ names are kilobytes; past this a name is taken as corrupt. */
#define MAX_NAME_LENGTH 65536

/* Names live in blocks that never move, so that a name handed out stays
 * valid until the handle is closed. */
enum { NAME_BLOCK_SIZE = 65536 };

struct name_block {
    struct name_block *next;
    size_t used, size;
    char text[];
};

/* Keeps a copy of `length` bytes of `text` and a NUL: the copy, or NULL. */
static const char *keep_name(struct pyprobe__elf *self, const char *text, size_t length)
{
    struct name_block *block = self->names;

    if (!block || block->size - block->used <= length) {
        size_t size = length < NAME_BLOCK_SIZE ? NAME_BLOCK_SIZE : length + 1;

        block = malloc(sizeof *block + size);
        if (!block)
            return NULL;
        *block = (struct name_block){.next = self->names, .size = size};
        self->names = block;
    }
    memcpy(block->text + block->used, text, length);
    block->text[block->used + length] = '\0';
    block->used += length + 1;
    return block->text + block->used - length - 1;
}

void pyprobe__elf_free_names(struct pyprobe__elf *self)
{
    while (self->names) {
        struct name_block *next = self->names->next;

        free(self->names);
        self->names = next;
    }
}

/* A section's bytes as pread(2) reaches them: only when they are in the file. */
struct file_range {
    uint64_t offset, size;
};

static bool file_range_of(const struct pyprobe__elf *self, const GElf_Shdr *shdr, struct file_range *out)
{
    if (shdr->sh_type == SHT_NOBITS || (shdr->sh_flags & SHF_COMPRESSED) || shdr->sh_offset > self->file_size ||
        shdr->sh_size > self->file_size - shdr->sh_offset)
        return false;
    *out = (struct file_range){shdr->sh_offset, shdr->sh_size};
    return true;
}

/* Where a name is read before it is kept: most names fit in its first read. */
struct scratch {
    char *bytes;
    size_t capacity;
};

/* Copies the NUL-terminated string at `offset` of the string table into
 * the handle's names; NULL if it is not NUL-terminated within its table
 * and MAX_NAME_LENGTH bytes, or on a failed read or allocation. */
static const char *copy_name(struct pyprobe__elf *self, const struct file_range *table, uint64_t offset,
                             struct scratch *scratch)
{
    uint64_t left = offset < table->size ? table->size - offset : 0;
    size_t limit = left < MAX_NAME_LENGTH ? (size_t)left : MAX_NAME_LENGTH;
    size_t got = 0;

    for (size_t want = 128; got < limit; want *= 2) {
        const char *nul;
        ssize_t n;

        want = want < limit ? want : limit;
        if (pyprobe__grow(&scratch->bytes, &scratch->capacity, want, 1) != 0)
            return NULL;
        n = pread(self->fd, scratch->bytes + got, want - got, (off_t)(table->offset + offset + got));
        if (n <= 0)
            return NULL;
        nul = memchr(scratch->bytes + got, '\0', (size_t)n);
        got += (size_t)n;
        if (nul)
            return keep_name(self, scratch->bytes, (size_t)(nul - scratch->bytes));
    }
    return NULL;
}

/* ---- the lookup ---- */

/* The addresses looked for, sorted, with an index of buckets over their
 * range: each symbol finds the first one at or above its start in a step
 * or two (a binary search per symbol costs more than all the rest). */
struct lookup {
    const uint64_t *addresses;
    const char **names;
    size_t count;
    size_t unnamed;     /* how many have no name yet */
    size_t *buckets;    /* bucket b: the first address at or above low + (b << shift) */
    size_t bucket_count;
    unsigned shift;
    struct scratch scratch;
};

static uint64_t lowest(const struct lookup *lookup)
{
    return lookup->addresses[0];
}

static int index_buckets(struct lookup *lookup)
{
    uint64_t span = lookup->addresses[lookup->count - 1] - lowest(lookup);
    size_t i = 0;

    /* About two addresses a bucket; at least two buckets, so that the shift
     * stays below 64 for any span. */
    lookup->bucket_count = 2;
    while (2 * lookup->bucket_count < lookup->count && lookup->bucket_count < (1u << 15))
        lookup->bucket_count *= 2;
    while ((span >> lookup->shift) >= lookup->bucket_count)
        lookup->shift++;
    lookup->buckets = malloc(lookup->bucket_count * sizeof *lookup->buckets);
    if (!lookup->buckets)
        return -ENOMEM;
    for (size_t b = 0; b < lookup->bucket_count; b++) {
        while (i < lookup->count && ((lookup->addresses[i] - lowest(lookup)) >> lookup->shift) < b)
            i++;
        lookup->buckets[b] = i;
    }
    return 0;
}

/* The first address looked for that is not below `address`. */
static size_t first_at_or_above(const struct lookup *lookup, uint64_t address)
{
    uint64_t bucket;
    size_t i;

    if (address <= lowest(lookup))
        return 0;
    bucket = (address - lowest(lookup)) >> lookup->shift;
    if (bucket >= lookup->bucket_count)
        return lookup->count;
    for (i = lookup->buckets[bucket]; i < lookup->count && lookup->addresses[i] < address; i++)
        ;
    return i;
}

/* A defined function symbol with a size: what can hold an address. */
static bool is_function(const GElf_Sym *sym)
{
    int type = GELF_ST_TYPE(sym->st_info);

    return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_shndx != SHN_UNDEF && sym->st_size > 0;
}

/* Names the addresses `sym` holds that have no name yet: the first symbol
 * in table order wins, as in one lookup at a time. */
static void name_addresses(struct pyprobe__elf *self, struct lookup *lookup, const GElf_Sym *sym,
                           const struct file_range *strings)
{
    const char *name = NULL;

    for (size_t i = first_at_or_above(lookup, sym->st_value);
         i < lookup->count && pyprobe__elf_in_range(lookup->addresses[i], sym->st_value, sym->st_size); i++) {
        if (lookup->names[i])
            continue;
        if (!name)
            name = copy_name(self, strings, sym->st_name, &lookup->scratch);
        if (!name)
            return;
        lookup->names[i] = name;
        lookup->unnamed--;
    }
}

/* ---- the symbol tables ---- */

enum { SYMBOL_CHUNK = 65536 };

/* Symbol `n` of a chunk that libelf translated to the file class's
 * Elf32_Sym or Elf64_Sym (GElf_Sym is Elf64_Sym). */
static GElf_Sym symbol_at(const struct pyprobe__elf *self, const void *chunk, size_t n)
{
    const Elf32_Sym *sym;

    if (self->address_size == 8)
        return ((const Elf64_Sym *)chunk)[n];
    sym = (const Elf32_Sym *)chunk + n;
    return (GElf_Sym){.st_name = sym->st_name, .st_info = sym->st_info, .st_other = sym->st_other,
                      .st_shndx = sym->st_shndx, .st_value = sym->st_value, .st_size = sym->st_size};
}

/* Reads up to `count` symbols at file offset `offset` into `chunk`, in
 * memory form: how many, or -errno. */
static ssize_t read_symbols(const struct pyprobe__elf *self, void *chunk, uint64_t offset, size_t count,
                            size_t entry)
{
    ssize_t got = pread(self->fd, chunk, count * entry, (off_t)offset);
    size_t whole = got > 0 ? (size_t)got / entry : 0;
    int rc;

    if (got < 0)
        return -errno;
    rc = pyprobe__elf_to_memory(self, chunk, whole * entry, ELF_T_SYM);
    return rc == 0 ? (ssize_t)whole : rc;
}

/* One pass over the symbol table of `shdr`. A table cut short by the
 * file's end is read as far as it goes; one that cannot be read at all
 * names nothing. */
static int scan_symbols(struct pyprobe__elf *self, struct lookup *lookup, const GElf_Shdr *shdr, void *chunk)
{
    size_t entry = gelf_fsize(self->elf, ELF_T_SYM, 1, EV_CURRENT);
    size_t per_chunk = SYMBOL_CHUNK / entry;
    GElf_Shdr strtab;
    struct file_range symbols, strings;

    if (shdr->sh_entsize != entry || !file_range_of(self, shdr, &symbols) ||
        !pyprobe__elf_section_header(self, shdr->sh_link, &strtab) || !file_range_of(self, &strtab, &strings))
        return 0;
    /* Once every address has its name no later symbol can change one. */
    for (uint64_t done = 0; done < symbols.size / entry && lookup->unnamed > 0; done += per_chunk) {
        uint64_t left = symbols.size / entry - done;
        ssize_t got = read_symbols(self, chunk, symbols.offset + done * entry,
                                   left < per_chunk ? (size_t)left : per_chunk, entry);

        if (got < 0)
            return (int)got;
        for (size_t n = 0; n < (size_t)got; n++) {
            GElf_Sym sym = symbol_at(self, chunk, n);

            if (is_function(&sym))
                name_addresses(self, lookup, &sym, &strings);
        }
        if ((size_t)got < per_chunk)
            break;
    }
    return 0;
}

static int scan_tables(struct pyprobe__elf *self, struct lookup *lookup, uint32_t type)
{
    void *chunk = malloc(SYMBOL_CHUNK);
    GElf_Shdr shdr;
    int rc = 0;

    if (!chunk)
        return -ENOMEM;
    for (size_t index = 1; index < self->shnum && rc == 0 && lookup->unnamed > 0; index++)
        if (pyprobe__elf_section_header(self, index, &shdr) && shdr.sh_type == type)
            rc = scan_symbols(self, lookup, &shdr, chunk);
    free(chunk);
    return rc;
}

static bool sorted(const uint64_t *addresses, size_t count)
{
    for (size_t i = 1; i < count; i++)
        if (addresses[i] < addresses[i - 1])
            return false;
    return true;
}

int pyprobe__elf_functions_at(struct pyprobe__elf *self, const uint64_t *addresses, size_t count, const char **names)
{
    struct lookup lookup = {.addresses = addresses, .names = names, .count = count, .unnamed = count};
    int rc;

    if (!self || (count && (!addresses || !names)) || !sorted(addresses, count))
        return -EINVAL;
    if (count == 0)
        return 0;
    for (size_t i = 0; i < count; i++)
        names[i] = NULL;
    /* .symtab also has the static functions; .dynsym survives stripping.
     * A table that cannot be read only leaves names unknown. */
    rc = index_buckets(&lookup);
    if (rc == 0)
        rc = scan_tables(self, &lookup, SHT_SYMTAB);
    if (rc != -ENOMEM)
        rc = scan_tables(self, &lookup, SHT_DYNSYM);
    free(lookup.buckets);
    free(lookup.scratch.bytes);
    return rc == -ENOMEM ? rc : 0;
}

int pyprobe__elf_function_at(struct pyprobe__elf *self, uint64_t address, const char **name)
{
    const char *found;
    int rc;

    if (!self || !name)
        return -EINVAL;
    rc = pyprobe__elf_functions_at(self, &address, 1, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return -ENOENT;
    *name = found;
    return 0;
}
