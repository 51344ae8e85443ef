/*
 * Notes of any section, and the stapsdt notes (see elf_notes.h). libelf
 * frames the notes; this file checks their contents, which libelf leaves
 * raw.
 */
#include "elf_notes.h"
#include "elf_private.h"

#include <errno.h>
#include <pyprobe/notes.h>
#include <string.h>

/* ---- notes ---- */

/* The next non-empty note section called `name` at index `from` or later;
 * shnum if none. */
static size_t next_note_section(const struct pyprobe__elf *self, const char *name, size_t from)
{
    GElf_Shdr shdr;
    size_t index;

    for (index = pyprobe__elf_find_section(self, from, name, &shdr); index < self->shnum;
         index = pyprobe__elf_find_section(self, index + 1, name, &shdr))
        if (shdr.sh_type == SHT_NOTE && shdr.sh_size > 0)
            break;
    return index;
}

void pyprobe__elf_notes_begin(const struct pyprobe__elf *elf, const char *section_name,
                              struct pyprobe__elf_note_iter *it)
{
    it->elf = elf;
    it->section_name = section_name;
    it->section = next_note_section(elf, section_name, 1);
    it->data = NULL;
    it->offset = 0;
    it->stuck = false;
}

/* The data of the note section the iterator is in, moving on to the next
 * section when this one is done: 1, 0 at the end, -EBADMSG if it cannot be
 * read. */
static int current_notes(struct pyprobe__elf_note_iter *it)
{
    while (it->section < it->elf->shnum) {
        if (!it->data)
            it->data = elf_getdata(elf_getscn(it->elf->elf, it->section), NULL);
        if (!it->data)
            return -EBADMSG;
        if (it->offset < it->data->d_size)
            return 1;
        it->section = next_note_section(it->elf, it->section_name, it->section + 1);
        it->data = NULL;
        it->offset = 0;
    }
    return 0;
}

int pyprobe__elf_notes_next(struct pyprobe__elf_note_iter *it, struct pyprobe__elf_note *note)
{
    GElf_Nhdr nhdr;
    size_t name_offset, desc_offset, next;
    int rc;

    if (!it || !it->elf || !it->section_name || !note)
        return -EINVAL;
    if (it->stuck)
        return -EBADMSG;
    rc = current_notes(it);
    if (rc <= 0) {
        it->stuck = rc < 0;
        return rc;
    }
    /* 0: the note does not fit in what is left of the section. */
    next = gelf_getnote(it->data, it->offset, &nhdr, &name_offset, &desc_offset);
    if (next == 0) {
        it->stuck = true;
        return -EBADMSG;
    }
    it->offset = next;
    *note = (struct pyprobe__elf_note){
        .owner = (const char *)it->data->d_buf + name_offset, .owner_size = nhdr.n_namesz, .type = nhdr.n_type,
        .desc = (const unsigned char *)it->data->d_buf + desc_offset, .desc_size = nhdr.n_descsz};
    return 1;
}

bool pyprobe__elf_note_is(const struct pyprobe__elf_note *note, const char *owner, uint32_t type)
{
    size_t size = strlen(owner) + 1;

    return note->type == type && note->owner_size == size && memcmp(note->owner, owner, size) == 0;
}

/* ---- stapsdt notes ---- */

void pyprobe__stapsdt_begin(const struct pyprobe__elf *elf, struct pyprobe__stapsdt_iter *it)
{
    GElf_Shdr shdr;

    pyprobe__elf_notes_begin(elf, PYPROBE_STAPSDT_SECTION, &it->notes);
    it->has_base = pyprobe__elf_find_section(elf, 1, PYPROBE_STAPSDT_BASE_SECTION, &shdr) < elf->shnum;
    it->base = it->has_base ? shdr.sh_addr : 0;
}

/* libelf translates the note headers but not the descriptors: the three
 * addresses, of the file's word size and byte order, are translated here. */
static int read_addresses(const struct pyprobe__elf *self, const unsigned char *desc,
                          struct pyprobe__stapsdt_probe *probe)
{
    union {
        Elf32_Addr a32[3];
        Elf64_Addr a64[3];
    } words;
    size_t size = 3 * (size_t)self->address_size;

    memcpy(&words, desc, size);
    if (pyprobe__elf_to_memory(self, &words, size, ELF_T_ADDR) != 0)
        return -EBADMSG;
    probe->note_pc = self->address_size == 8 ? words.a64[0] : words.a32[0];
    probe->note_base = self->address_size == 8 ? words.a64[1] : words.a32[1];
    probe->note_semaphore = self->address_size == 8 ? words.a64[2] : words.a32[2];
    return 0;
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
static uint64_t relocate(const struct pyprobe__stapsdt_iter *it, uint64_t address, uint64_t note_base)
{
    uint64_t moved = address + (it->base - note_base);

    return it->notes.elf->address_size == 4 ? (moved & UINT32_MAX) : moved;
}

static int decode_probe(const struct pyprobe__stapsdt_iter *it, const unsigned char *desc, size_t size,
                        struct pyprobe__stapsdt_probe *probe)
{
    size_t used = 3 * (size_t)it->notes.elf->address_size;
    int rc = size < used ? -EBADMSG : read_addresses(it->notes.elf, desc, probe);

    if (rc == 0)
        rc = take_string(desc, size, &used, &probe->provider);
    if (rc == 0)
        rc = take_string(desc, size, &used, &probe->name);
    if (rc == 0)
        rc = take_string(desc, size, &used, &probe->args);
    if (rc != 0)
        return rc;
    probe->pc = it->has_base ? relocate(it, probe->note_pc, probe->note_base) : probe->note_pc;
    probe->semaphore = it->has_base && probe->note_semaphore
        ? relocate(it, probe->note_semaphore, probe->note_base) : probe->note_semaphore;
    return 0;
}

int pyprobe__stapsdt_next(struct pyprobe__stapsdt_iter *it, struct pyprobe__stapsdt_probe *probe)
{
    struct pyprobe__elf_note note;
    int rc;

    if (!it || !probe)
        return -EINVAL;
    while ((rc = pyprobe__elf_notes_next(&it->notes, &note)) > 0) {
        if (!pyprobe__elf_note_is(&note, PYPROBE_STAPSDT_OWNER, PYPROBE_STAPSDT_TYPE))
            continue;
        rc = decode_probe(it, note.desc, note.desc_size, probe);
        return rc == 0 ? 1 : rc;
    }
    return rc;
}

bool pyprobe__stapsdt_stuck(const struct pyprobe__stapsdt_iter *it)
{
    return it->notes.stuck;
}
