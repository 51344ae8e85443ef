/*
 * elf_notes.h - pyprobe's internal reader of ELF files and their stapsdt
 * notes: what the tests check and what a `dtrace -l`-style lister prints.
 *
 *     struct pyprobe_elf *elf;
 *     struct pyprobe_stapsdt_iter it;
 *     struct pyprobe_stapsdt_probe probe;
 *
 *     if (pyprobe_elf_open_path(path, &elf) == 0) {
 *         pyprobe_stapsdt_begin(elf, &it);
 *         while ((rc = pyprobe_stapsdt_next(&it, &probe)) > 0)
 *             ...probe.provider, probe.name, probe.pc...;
 *         pyprobe_elf_close(elf);
 *     }
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure, and never prints. The errors:
 *   -ENOEXEC  not an ELF file: empty, too short for an ELF identification,
 *             wrong magic, or an ELF class or byte order that is neither
 *             32/64-bit nor little/big-endian;
 *   -EBADMSG  an ELF file that is malformed: truncated, section headers or
 *             section data past the end of the file, a note that runs past
 *             its section, a stapsdt descriptor shorter than its three
 *             addresses, or one of its strings without a terminating NUL;
 *   -EINVAL   a malformed argument description (pyprobe_parse_args) or a
 *             NULL argument;
 *   -ENOENT   nothing at that address / no section of that name;
 *   -ENOMEM, and the errno of open(2) for pyprobe_elf_open_path, which
 *   also gives -EISDIR for a directory and -ENOEXEC for anything else
 *   that is not a regular file (a device, a FIFO: never waited on).
 * A file without a `.note.stapsdt` section is not an error: it has no probes.
 *
 * Strings returned point into the open file's data, or are copies the handle
 * owns, and live until pyprobe_elf_close().
 */
#ifndef PYPROBE_ELF_NOTES_H
#define PYPROBE_ELF_NOTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the file ---- */

struct pyprobe_elf;

/* Reads the ELF file open on `fd`, which must stay open until close. */
int pyprobe_elf_open_fd(int fd, struct pyprobe_elf **out);
/* The same for a path; the file descriptor is the reader's own. */
int pyprobe_elf_open_path(const char *path, struct pyprobe_elf **out);
void pyprobe_elf_close(struct pyprobe_elf *elf);

/* The size of an address in the file: 4 (ELFCLASS32) or 8 (ELFCLASS64). */
unsigned pyprobe_elf_address_size(const struct pyprobe_elf *elf);

/* An allocated section, as found by name or address. */
struct pyprobe_elf_section {
    const char *name;
    uint64_t address;
    uint64_t size;
    uint64_t flags; /* SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, ... */
};

/* The first section called `name` (allocated or not). -ENOENT if none. */
int pyprobe_elf_section_by_name(const struct pyprobe_elf *elf, const char *name,
                                struct pyprobe_elf_section *out);
/* The allocated, non-TLS section holding `address`. -ENOENT if none. */
int pyprobe_elf_section_at(const struct pyprobe_elf *elf, uint64_t address,
                           struct pyprobe_elf_section *out);

/* The PT_LOAD segment holding `address` in memory. -ENOENT if none. */
struct pyprobe_elf_segment {
    uint64_t address;
    uint64_t size;   /* p_memsz */
    uint32_t flags;  /* PF_R, PF_W, PF_X */
    uint64_t offset; /* p_offset: where its bytes are in the file */
};
int pyprobe_elf_segment_at(const struct pyprobe_elf *elf, uint64_t address,
                           struct pyprobe_elf_segment *out);
/* The first PT_LOAD segment: the one a loader maps at the object's lowest
 * address, from which a process's load bias follows. -ENOENT if none. */
int pyprobe_elf_first_segment(const struct pyprobe_elf *elf, struct pyprobe_elf_segment *out);

/* The name of the function symbol (.symtab, else .dynsym) whose range holds
 * `address`: a lister's FUNCTION column. -ENOENT if none. */
int pyprobe_elf_function_at(const struct pyprobe_elf *elf, uint64_t address, const char **name);
/* The same for `count` addresses at once, in one pass over each symbol
 * table: names[i] is the function holding addresses[i], or NULL. The tables
 * are read with pread(2), never mapped, so that a big one (libjvm.so's has
 * 58,000 symbols) costs neither memory nor a lookup per address. 0, or
 * -ENOMEM. */
int pyprobe_elf_functions_at(const struct pyprobe_elf *elf, const uint64_t *addresses, size_t count,
                             const char **names);

/* ---- notes of any section ---- */

/* One note, as found in a note section. */
struct pyprobe_elf_note {
    const char *owner;          /* the note's name: n_namesz bytes, */
    size_t owner_size;          /* its NUL included when it has one */
    uint32_t type;
    const unsigned char *desc;  /* n_descsz raw bytes, in the file's byte order */
    size_t desc_size;
};

/* Where an iteration over the notes of the sections called `section_name`
 * stands; fill it with pyprobe_elf_notes_begin(). */
struct pyprobe_elf_note_iter {
    const struct pyprobe_elf *elf;
    const char *section_name;
    size_t section; /* index of the current section, shnum after the last */
    size_t offset;  /* of the next note in it */
};

void pyprobe_elf_notes_begin(const struct pyprobe_elf *elf, const char *section_name,
                             struct pyprobe_elf_note_iter *it);
/* Fills `note` with the next note of every non-empty SHT_NOTE section of
 * that name, in file order: 1, or 0 at the end. A note that does not fit in
 * what is left of its section gives -EBADMSG, now and on every further call
 * (the notes after it cannot be framed). */
int pyprobe_elf_notes_next(struct pyprobe_elf_note_iter *it, struct pyprobe_elf_note *note);
/* Whether the note's owner is the NUL-terminated `owner` and its type `type`. */
bool pyprobe_elf_note_is(const struct pyprobe_elf_note *note, const char *owner, uint32_t type);

/* ---- the stapsdt notes ---- */

/* One probe site: one note (owner "stapsdt", type 3) of `.note.stapsdt`.
 * `pc` and `semaphore` are where the site and the semaphore are in this
 * file's address space: the note's values moved by the `.stapsdt.base` rule
 * (+ base section address - note_base; a zero semaphore stays 0; without a
 * `.stapsdt.base` section they are the note's values). */
struct pyprobe_stapsdt_probe {
    const char *provider;
    const char *name;       /* as in the note: function__entry */
    const char *args;       /* argument description, "" when none */
    uint64_t pc;
    uint64_t semaphore;     /* 0 when the probe has none */
    uint64_t note_pc;       /* the three addresses as written in the note */
    uint64_t note_base;
    uint64_t note_semaphore;
};

/* Where an iteration stands; fill it with pyprobe_stapsdt_begin(). */
struct pyprobe_stapsdt_iter {
    struct pyprobe_elf_note_iter notes; /* of the .note.stapsdt sections */
};

void pyprobe_stapsdt_begin(const struct pyprobe_elf *elf, struct pyprobe_stapsdt_iter *it);
/* Fills `probe` with the next probe site, in file order: returns 1, or 0 at
 * the end. On -EBADMSG for a malformed descriptor the iterator has moved
 * past that note, so a lenient caller may go on; a note whose size breaks
 * the section's framing returns -EBADMSG on every further call. */
int pyprobe_stapsdt_next(struct pyprobe_stapsdt_iter *it, struct pyprobe_stapsdt_probe *probe);

/* ---- argument descriptions: "8@%rdi -4@%edx 8f@%xmm0 8@-16(%rbp) -4@$5" ---- */

#define PYPROBE_MAX_ARGS 12

struct pyprobe_arg {
    unsigned size;          /* bytes: 1, 2, 4, 8 or 16 */
    bool is_signed;         /* written with a leading '-' */
    bool is_float;          /* written with an 'f' after the size */
    const char *operand;    /* assembler operand, in the description, */
    size_t operand_length;  /* so not NUL-terminated at its end */
};

/* Splits `desc` into its arguments: returns how many (0 to 12), or -EINVAL
 * for a malformed item (no size, a size other than above, no '@', an empty
 * operand) or more than 12 arguments. */
int pyprobe_parse_args(const char *desc, struct pyprobe_arg args[PYPROBE_MAX_ARGS]);

#endif /* PYPROBE_ELF_NOTES_H */
