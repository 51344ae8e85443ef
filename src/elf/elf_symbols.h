/*
 * elf_symbols.h - the function symbols of an ELF file (elf_file.h): which
 * function holds an address, a lister's FUNCTION column.
 *
 *     const char *name;
 *
 *     if (pyprobe__elf_function_at(elf, probe.pc, &name) == 0)
 *         ...name...;
 *
 * Names are copies that the handle keeps until pyprobe__elf_close().
 */
#ifndef PYPROBE_ELF_SYMBOLS_H
#define PYPROBE_ELF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "elf_file.h"

/* The name of the function symbol (.symtab, else .dynsym) whose range holds
 * `address`. -ENOENT if none. The handle keeps a copy of the name: it is
 * not const here. */
int pyprobe__elf_function_at(struct pyprobe__elf *elf, uint64_t address, const char **name);
/* The same for `count` addresses at once, sorted in ascending order, in one
 * pass over each symbol table: names[i] is the function holding
 * addresses[i], or NULL. The tables are read a chunk at a time, never
 * mapped, so that a big one (libjvm.so's has 58,000 symbols) costs neither
 * memory nor a lookup per address. 0, -EINVAL for unsorted addresses, or
 * -ENOMEM. */
int pyprobe__elf_functions_at(struct pyprobe__elf *elf, const uint64_t *addresses, size_t count,
                              const char **names);

#endif /* PYPROBE_ELF_SYMBOLS_H */
