/*
 * Function symbols (see elf_symbols.h): which function holds an address,
 * for many addresses in one pass over each symbol table.
 */
#include "elf_symbols.h"
#include "elf_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a function lookup needs of a symbol, from Elf32_Sym or Elf64_Sym. */
struct symbol {
    uint64_t name, value, size;
};

static size_t symbol_size(const struct pyprobe__elf *self)
{
    return self->address_size == 8 ? 24 : 16;
}

/* Decodes a function symbol: false for any other, after a look at its type
 * alone (most symbols are not functions). */
static bool decode_function(const struct pyprobe__elf *self, const unsigned char *raw, struct symbol *sym)
{
    bool wide = self->address_size == 8;
    int type = GELF_ST_TYPE(raw[wide ? 4 : 12]);

    if (type != STT_FUNC && type != STT_GNU_IFUNC)
        return false;
    if (pyprobe__elf_read_uint(self, raw + (wide ? 6 : 14), 2) == SHN_UNDEF)
        return false;
    sym->name = pyprobe__elf_read_uint(self, raw, 4);
    sym->value = pyprobe__elf_read_uint(self, raw + (wide ? 8 : 4), self->address_size);
    sym->size = pyprobe__elf_read_uint(self, raw + (wide ? 16 : 8), self->address_size);
    return sym->size > 0;
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

/* Long C++ names are kilobytes; past this a name is taken as corrupt. */
#define MAX_NAME_LENGTH 65536

/* Copies the NUL-terminated string at `offset` of the string table into a
 * name owned by the handle; NULL if it is not NUL-terminated in its table. */
static const char *copy_name(struct pyprobe__elf *self, const struct file_range *table, uint64_t offset)
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
static void name_addresses(struct pyprobe__elf *self, struct lookup *lookup, const struct symbol *sym,
                           const struct file_range *strings)
{
    const char *name = NULL;

    for (size_t i = first_at_or_above(lookup, sym->value);
         i < lookup->count && pyprobe__elf_in_range(lookup->wanted[i].address, sym->value, sym->size); i++) {
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
static int scan_symbols(struct pyprobe__elf *self, struct lookup *lookup, const GElf_Shdr *shdr,
                        unsigned char *chunk)
{
    size_t entry = symbol_size(self);
    size_t per_chunk = SYMBOL_CHUNK / entry;
    GElf_Shdr strtab;
    struct file_range symbols, strings;

    if (shdr->sh_entsize != entry || !file_range_of(self, shdr, &symbols) ||
        !pyprobe__elf_section_header(self, shdr->sh_link, &strtab) || !file_range_of(self, &strtab, &strings))
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

static int scan_tables(struct pyprobe__elf *self, struct lookup *lookup, uint32_t type)
{
    unsigned char *chunk = malloc(SYMBOL_CHUNK);
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

int pyprobe__elf_functions_at(const struct pyprobe__elf *elf, const uint64_t *addresses, size_t count,
                             const char **names)
{
    /* The handle's name list grows: the handle is logically const. */
    struct pyprobe__elf *self = (struct pyprobe__elf *)elf;
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

int pyprobe__elf_function_at(const struct pyprobe__elf *self, uint64_t address, const char **name)
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
