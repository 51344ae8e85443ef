/*
 * elf_notes.h - the notes of an ELF file (elf_file.h): those of any note
 * section, and the stapsdt notes that describe USDT probe sites.
 *
 *     struct pyprobe__stapsdt_iter it;
 *     struct pyprobe__stapsdt_probe probe;
 *
 *     pyprobe__stapsdt_begin(elf, &it);
 *     while ((rc = pyprobe__stapsdt_next(&it, &probe)) > 0)
 *         ...probe.provider, probe.name, probe.pc...;
 *
 * The errors, besides elf_file.h's: -EBADMSG for a note that runs past its
 * section, a stapsdt descriptor shorter than its three addresses, or one of
 * its strings without a terminating NUL. A file without a `.note.stapsdt`
 * section is not an error: it has no probes. Strings point into the file's
 * data and live until pyprobe__elf_close().
 */
#ifndef PYPROBE_ELF_NOTES_H
#define PYPROBE_ELF_NOTES_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_file.h"

/* ---- notes of any section ---- */

/* One note, as found in a note section. */
struct pyprobe__elf_note {
    const char *owner;          /* the note's name: n_namesz bytes, */
    size_t owner_size;          /* its NUL included when it has one */
    uint32_t type;
    const unsigned char *desc;  /* n_descsz raw bytes, in the file's byte order */
    size_t desc_size;
};

/* Where an iteration over the notes of the sections called `section_name`
 * stands; fill it with pyprobe__elf_notes_begin(). */
struct pyprobe__elf_note_iter {
    const struct pyprobe__elf *elf;
    const char *section_name;
    size_t section; /* index of the current section, shnum after the last */
    Elf_Data *data; /* its data, once read */
    size_t offset;  /* of the next note in it */
    bool stuck;     /* a note broke the framing: every next call fails */
};

void pyprobe__elf_notes_begin(const struct pyprobe__elf *elf, const char *section_name,
                             struct pyprobe__elf_note_iter *it);
/* Fills `note` with the next note of every non-empty SHT_NOTE section of
 * that name, in file order: 1, or 0 at the end. A note that does not fit in
 * what is left of its section (or a section that cannot be read) gives
 * -EBADMSG, now and on every further call: the notes after it cannot be
 * framed: the iterator is stuck for good. */
int pyprobe__elf_notes_next(struct pyprobe__elf_note_iter *it, struct pyprobe__elf_note *note);
/* Whether the note's owner is the NUL-terminated `owner` and its type `type`. */
bool pyprobe__elf_note_is(const struct pyprobe__elf_note *note, const char *owner, uint32_t type);

/* ---- the stapsdt notes ---- */

/* One probe site: one note (owner "stapsdt", type 3) of `.note.stapsdt`.
 * `pc` and `semaphore` are where the site and the semaphore are in this
 * file's address space: the note's values moved by the `.stapsdt.base` rule
 * (+ base section address - note_base; a zero semaphore stays 0; without a
 * `.stapsdt.base` section they are the note's values). */
struct pyprobe__stapsdt_probe {
    const char *provider;
    const char *name;       /* as in the note: function__entry */
    const char *args;       /* argument description, "" when none */
    uint64_t pc;
    uint64_t semaphore;     /* 0 when the probe has none */
    uint64_t note_pc;       /* the three addresses as written in the note */
    uint64_t note_base;
    uint64_t note_semaphore;
};

/* Where an iteration stands; fill it with pyprobe__stapsdt_begin(). */
struct pyprobe__stapsdt_iter {
    struct pyprobe__elf_note_iter notes; /* of the .note.stapsdt sections */
    bool has_base;                      /* a .stapsdt.base section exists, */
    uint64_t base;                      /* at this address */
};

void pyprobe__stapsdt_begin(const struct pyprobe__elf *elf, struct pyprobe__stapsdt_iter *it);
/* Fills `probe` with the next probe site, in file order: returns 1, or 0 at
 * the end. -EBADMSG has two meanings, which pyprobe__stapsdt_stuck() tells
 * apart: a malformed descriptor, which the iterator has moved past, so a
 * lenient caller may go on (not stuck); or a note whose size breaks the
 * section's framing, after which every call returns -EBADMSG (stuck). */
int pyprobe__stapsdt_next(struct pyprobe__stapsdt_iter *it, struct pyprobe__stapsdt_probe *probe);
/* Whether the iteration is stuck for good: nothing after it can be read. */
bool pyprobe__stapsdt_stuck(const struct pyprobe__stapsdt_iter *it);

#endif /* PYPROBE_ELF_NOTES_H */
