/*
 * elf_private.h - what the reader's three parts (elf_file.c, elf_symbols.c,
 * elf_notes.c) share: the handle's contents and the section lookup. Users
 * of the reader include elf_file.h, elf_symbols.h, elf_notes.h instead.
 */
#ifndef PYPROBE_ELF_PRIVATE_H
#define PYPROBE_ELF_PRIVATE_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_file.h"

struct pyprobe__elf {
    Elf *elf;
    int fd;
    bool owns_fd;
    uint64_t file_size;
    struct name_block *names; /* function names handed out (elf_symbols.c) */
    unsigned char encoding; /* ELFDATA2LSB or ELFDATA2MSB */
    unsigned address_size;
    size_t shnum;
    size_t shstrndx;
};

/* Section header `index`, or NULL. Every header was checked at open. */
GElf_Shdr *pyprobe__elf_section_header(const struct pyprobe__elf *self, size_t index, GElf_Shdr *shdr);
/* The first section at index `from` or later called `name`; shnum if none. */
size_t pyprobe__elf_find_section(const struct pyprobe__elf *self, size_t from, const char *name, GElf_Shdr *shdr);

/* Written so that address + size may overflow without a false match. */
static inline bool pyprobe__elf_in_range(uint64_t address, uint64_t start, uint64_t size)
{
    return address >= start && address - start < size;
}

/* Frees the function names handed out: for pyprobe__elf_close(). */
void pyprobe__elf_free_names(struct pyprobe__elf *self);

/* Translates `size` bytes of `type` items (ELF_T_SYM, ELF_T_ADDR) read raw
 * from the file into their memory form (Elf32_Sym or Elf64_Sym, ...), in
 * place: libelf's translation, for the bytes it does not read itself. 0, or
 * -EBADMSG when `size` is not a whole number of items. */
int pyprobe__elf_to_memory(const struct pyprobe__elf *self, void *bytes, size_t size, Elf_Type type);

#endif /* PYPROBE_ELF_PRIVATE_H */
