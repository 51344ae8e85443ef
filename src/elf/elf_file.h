/*
 * elf_file.h - pyprobe's internal ELF reader: opening a file, and finding
 * its sections and loaded segments. Its symbols are in elf_symbols.h, its
 * notes (and the stapsdt probes) in elf_notes.h.
 *
 *     struct pyprobe__elf *elf;
 *     struct pyprobe__elf_section section;
 *
 *     if (pyprobe__elf_open_path(path, &elf) == 0) {
 *         if (pyprobe__elf_section_by_name(elf, ".probes", &section) == 0)
 *             ...section.address, section.size...;
 *         pyprobe__elf_close(elf);
 *     }
 *
 * Every function of the reader returns 0 (or a count) on success and a
 * negative errno on failure, and never prints. The errors:
 *   -ENOEXEC  not an ELF file: empty, too short for an ELF identification,
 *             wrong magic, or an ELF class or byte order that is neither
 *             32/64-bit nor little/big-endian;
 *   -EBADMSG  an ELF file that is malformed: truncated, section headers or
 *             section data past the end of the file (and the notes'
 *             errors, elf_notes.h);
 *   -EINVAL   a NULL argument;
 *   -ENOENT   nothing at that address / no section of that name;
 *   -ENOMEM, and the errno of open(2) for pyprobe__elf_open_path, which
 *   also gives -EISDIR for a directory and -ENOEXEC for anything else
 *   that is not a regular file (a device, a FIFO: never waited on).
 *
 * Strings returned point into the open file's data, or are copies the handle
 * owns, and live until pyprobe__elf_close().
 */
#ifndef PYPROBE_ELF_FILE_H
#define PYPROBE_ELF_FILE_H

#include <stdint.h>

struct pyprobe__elf;

/* Reads the ELF file open on `fd`, which must stay open until close. */
int pyprobe__elf_open_fd(int fd, struct pyprobe__elf **out);
/* The same for a path; the file descriptor is the reader's own. */
int pyprobe__elf_open_path(const char *path, struct pyprobe__elf **out);
void pyprobe__elf_close(struct pyprobe__elf *elf);

/* The size of an address in the file: 4 (ELFCLASS32) or 8 (ELFCLASS64). */
unsigned pyprobe__elf_address_size(const struct pyprobe__elf *elf);

/* An allocated section, as found by name or address. */
struct pyprobe__elf_section {
    const char *name;
    uint64_t address;
    uint64_t size;
    uint64_t flags; /* SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, ... */
};

/* The first section called `name` (allocated or not). -ENOENT if none. */
int pyprobe__elf_section_by_name(const struct pyprobe__elf *elf, const char *name,
                                struct pyprobe__elf_section *out);
/* The allocated, non-TLS section holding `address`. -ENOENT if none. */
int pyprobe__elf_section_at(const struct pyprobe__elf *elf, uint64_t address,
                           struct pyprobe__elf_section *out);

/* The PT_LOAD segment holding `address` in memory. -ENOENT if none. */
struct pyprobe__elf_segment {
    uint64_t address;
    uint64_t size;   /* p_memsz */
    uint32_t flags;  /* PF_R, PF_W, PF_X */
    uint64_t offset; /* p_offset: where its bytes are in the file */
};
int pyprobe__elf_segment_at(const struct pyprobe__elf *elf, uint64_t address,
                           struct pyprobe__elf_segment *out);
/* The first PT_LOAD segment: the one a loader maps at the object's lowest
 * address, from which a process's load bias follows. -ENOENT if none. */
int pyprobe__elf_first_segment(const struct pyprobe__elf *elf, struct pyprobe__elf_segment *out);

#endif /* PYPROBE_ELF_FILE_H */
