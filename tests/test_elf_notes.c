/*
 * The ELF reader (src/elf_notes.h) on hand-made files, and through it the
 * probes the build puts into real files. One program, three modes:
 *
 *   test_elf_notes                                   the reader's unit tests
 *   test_elf_notes probes PROVIDER FILE              FILE holds python.d's 12 probes
 *   test_elf_notes relocations PROVIDER PROGRAM      PROGRAM copies no semaphore
 *
 * The hand-made files are built with libelf with our own layout (ELF header,
 * section headers, then the sections' bytes), so that a cut file loses
 * exactly the part a test means it to lose.
 */
#include "elf_notes.h"
#include "elf_symbols.h"
#include "lister_args.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COUNT(array) ((int)(sizeof(array) / sizeof((array)[0])))

#ifndef READELF_COMMAND
#define READELF_COMMAND "readelf"
#endif

/* ==== hand-made ELF files ==== */

enum { TEXT_ADDRESS = 0x1000, BASE_ADDRESS = 0x2000, PROBES_ADDRESS = 0x4000 };

/* Keep the whole file (see open_and_unlink). */
#define WHOLE_FILE LONG_MAX

struct image {
    int elf_class;               /* ELFCLASS32 or ELFCLASS64 */
    int byte_order;              /* ELFDATA2LSB or ELFDATA2MSB */
    uint64_t base_address;       /* of .stapsdt.base; 0: no such section */
    unsigned char notes[512];    /* .note.stapsdt; no such section when empty */
    size_t notes_size;
};

static struct image new_image(int elf_class, int byte_order)
{
    return (struct image){.elf_class = elf_class, .byte_order = byte_order, .base_address = BASE_ADDRESS};
}

static unsigned word_size(const struct image *im)
{
    return im->elf_class == ELFCLASS64 ? 8 : 4;
}

/* Stores `value` in `size` bytes, in the image's byte order. */
static void put_value(const struct image *im, unsigned char *at, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        unsigned shift = 8 * (im->byte_order == ELFDATA2MSB ? size - 1 - i : i);
        at[i] = (unsigned char)(value >> shift);
    }
}

/* Appends `size` bytes to the notes, then zeros up to a multiple of 4. */
static void append_padded(struct image *im, const void *bytes, size_t size)
{
    size_t padded = (size + 3) & ~(size_t)3;

    ck_assert_uint_le(im->notes_size + padded, sizeof im->notes);
    memcpy(im->notes + im->notes_size, bytes, size);
    memset(im->notes + im->notes_size + size, 0, padded - size);
    im->notes_size += padded;
}

/* Appends a note; returns its offset, for tests that then break it. */
static size_t add_note(struct image *im, const char *owner, uint32_t type, const void *desc, size_t desc_size)
{
    unsigned char header[12];
    size_t offset = im->notes_size;
    size_t owner_size = strlen(owner) + 1;

    put_value(im, header, owner_size, 4);
    put_value(im, header + 4, desc_size, 4);
    put_value(im, header + 8, type, 4);
    append_padded(im, header, sizeof header);
    append_padded(im, owner, owner_size);
    append_padded(im, desc, desc_size);
    return offset;
}

enum note_field { NOTE_NAMESZ, NOTE_DESCSZ, NOTE_TYPE };

static void set_note_field(struct image *im, size_t note, enum note_field field, uint32_t value)
{
    put_value(im, im->notes + note + 4 * field, value, 4);
}

/* A stapsdt descriptor's strings: provider, name, arguments, each with its
 * NUL; sizeof counts the last one. */
#define LINE_STRINGS "python\0line\0-4@%edi"

/* Appends a stapsdt note of the three addresses and `strings_size` bytes
 * of `strings` (fewer than sizeof drops NULs from the end). */
static size_t add_probe_note(struct image *im, uint64_t pc, uint64_t base, uint64_t semaphore,
                             const char *strings, size_t strings_size)
{
    unsigned char desc[256];
    unsigned word = word_size(im);

    ck_assert_uint_le(3 * word + strings_size, sizeof desc);
    put_value(im, desc, pc, word);
    put_value(im, desc + word, base, word);
    put_value(im, desc + 2 * word, semaphore, word);
    memcpy(desc + 3 * word, strings, strings_size);
    return add_note(im, "stapsdt", 3, desc, 3 * word + strings_size);
}

static size_t add_line_probe(struct image *im, uint64_t pc, uint64_t base, uint64_t semaphore)
{
    return add_probe_note(im, pc, base, semaphore, LINE_STRINGS, sizeof LINE_STRINGS);
}

struct section_spec {
    const char *name;
    uint32_t type;
    uint64_t flags;
    uint64_t address;
    const void *bytes;
    size_t size;
};

/* The image's sections after .shstrtab: how many. */
static size_t image_sections(const struct image *im, struct section_spec *specs)
{
    static const unsigned char code[16], base_byte[1], semaphores[16];
    size_t n = 0;

    specs[n++] = (struct section_spec){".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, TEXT_ADDRESS,
                                       code, sizeof code};
    if (im->base_address)
        specs[n++] = (struct section_spec){".stapsdt.base", SHT_PROGBITS, SHF_ALLOC, im->base_address,
                                           base_byte, sizeof base_byte};
    specs[n++] = (struct section_spec){".probes", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, PROBES_ADDRESS,
                                       semaphores, sizeof semaphores};
    if (im->notes_size)
        specs[n++] = (struct section_spec){".note.stapsdt", SHT_NOTE, 0, 0, im->notes, im->notes_size};
    return n;
}

/* Adds a section whose bytes lie at file offset `offset`. ELF_T_BYTE: libelf
 * writes them as they are, already in the image's byte order. */
static void add_section(Elf *elf, const struct section_spec *spec, size_t name, uint64_t offset)
{
    Elf_Scn *scn = elf_newscn(elf);
    Elf_Data *data = scn ? elf_newdata(scn) : NULL;
    GElf_Shdr shdr;

    ck_assert_ptr_nonnull(data);
    data->d_buf = (void *)spec->bytes;
    data->d_size = spec->size;
    data->d_type = ELF_T_BYTE;
    data->d_align = 1;
    data->d_off = 0;
    data->d_version = EV_CURRENT;
    ck_assert_ptr_nonnull(gelf_getshdr(scn, &shdr));
    shdr.sh_name = name;
    shdr.sh_type = spec->type;
    shdr.sh_flags = spec->flags;
    shdr.sh_addr = spec->address;
    shdr.sh_offset = offset;
    shdr.sh_size = spec->size;
    shdr.sh_addralign = spec->type == SHT_NOTE ? 4 : 1;
    ck_assert(gelf_update_shdr(scn, &shdr));
}

/* A new empty temporary file: its malloc'd path, and *fd open on it. */
static char *temp_file(int *fd)
{
    const char *dir = getenv("TMPDIR");
    char *path = malloc(PATH_MAX);

    ck_assert_ptr_nonnull(path);
    snprintf(path, PATH_MAX, "%s/pyprobe-elf-XXXXXX", dir && *dir ? dir : "/tmp");
    *fd = mkstemp(path);
    ck_assert_msg(*fd >= 0, "mkstemp %s: %s", path, strerror(errno));
    return path;
}

static void set_header(Elf *elf, const struct image *im, uint64_t section_headers_offset)
{
    GElf_Ehdr ehdr;

    ck_assert_ptr_nonnull(gelf_getehdr(elf, &ehdr));
    ehdr.e_ident[EI_DATA] = (unsigned char)im->byte_order;
    ehdr.e_machine = im->elf_class == ELFCLASS64 ? EM_X86_64 : EM_386;
    ehdr.e_type = ET_DYN;
    ehdr.e_version = EV_CURRENT;
    ehdr.e_shoff = section_headers_offset;
    ehdr.e_shstrndx = 1;
    ck_assert(gelf_update_ehdr(elf, &ehdr));
}

/* Writes the image as an ELF file: its malloc'd path. */
static char *write_image(const struct image *im)
{
    struct section_spec specs[8] = {{.name = ".shstrtab", .type = SHT_STRTAB}};
    size_t count = 1 + image_sections(im, specs + 1);
    char names[256] = "";
    size_t name_at[8], used = 1;
    int fd;
    char *path = temp_file(&fd);
    Elf *elf;
    uint64_t offset;

    for (size_t i = 0; i < count; i++) {
        name_at[i] = used;
        used += (size_t)snprintf(names + used, sizeof names - used, "%s", specs[i].name) + 1;
    }
    specs[0].bytes = names;
    specs[0].size = used;

    ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
    elf = elf_begin(fd, ELF_C_WRITE, NULL);
    ck_assert_ptr_nonnull(elf);
    ck_assert_ptr_nonnull(gelf_newehdr(elf, im->elf_class));
    /* Our layout: the ELF header, the section headers (the null one too),
     * then each section's bytes in turn. */
    offset = gelf_fsize(elf, ELF_T_EHDR, 1, EV_CURRENT);
    set_header(elf, im, offset);
    offset += gelf_fsize(elf, ELF_T_SHDR, count + 1, EV_CURRENT);
    for (size_t i = 0; i < count; i++) {
        add_section(elf, &specs[i], name_at[i], offset);
        offset += specs[i].size;
    }
    elf_flagelf(elf, ELF_C_SET, ELF_F_LAYOUT);
    ck_assert_msg(elf_update(elf, ELF_C_WRITE) >= 0, "elf_update: %s", elf_errmsg(-1));
    elf_end(elf);
    close(fd);
    return path;
}

static char *write_bytes(const void *bytes, size_t size)
{
    int fd;
    char *path = temp_file(&fd);

    ck_assert_int_eq(write(fd, bytes, size), (ssize_t)size);
    close(fd);
    return path;
}

/* Cuts the file at `path` to `keep` bytes (negative: that many bytes fewer;
 * WHOLE_FILE: not at all), opens it with the reader, and deletes it (the
 * reader keeps its descriptor). Frees path. */
static int open_and_unlink(char *path, long keep, struct pyprobe__elf **elf)
{
    struct stat st;
    int rc;

    ck_assert_int_eq(stat(path, &st), 0);
    if (keep < 0)
        keep += st.st_size;
    if (keep < st.st_size)
        ck_assert_int_eq(truncate(path, keep), 0);
    rc = pyprobe__elf_open_path(path, elf);
    unlink(path);
    free(path);
    return rc;
}

static struct pyprobe__elf *open_image(const struct image *im)
{
    struct pyprobe__elf *elf;

    ck_assert_int_eq(open_and_unlink(write_image(im), WHOLE_FILE, &elf), 0);
    return elf;
}

/* Reads every probe (the first `max` into probes): how many, or the first
 * error. */
static int read_probes(const struct pyprobe__elf *elf, struct pyprobe__stapsdt_probe *probes, int max)
{
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__stapsdt_probe probe;
    int count = 0, rc;

    pyprobe__stapsdt_begin(elf, &it);
    while ((rc = pyprobe__stapsdt_next(&it, &probe)) > 0) {
        if (count < max)
            probes[count] = probe;
        count++;
    }
    return rc < 0 ? rc : count;
}

/* Opening the file and reading all its probes: how many, or the first error. */
static int scan(char *path, long keep)
{
    struct pyprobe__elf *elf;
    int rc = open_and_unlink(path, keep, &elf);

    if (rc != 0)
        return rc;
    rc = read_probes(elf, NULL, 0);
    pyprobe__elf_close(elf);
    return rc;
}

static int scan_image(const struct image *im, long keep)
{
    return scan(write_image(im), keep);
}

/* ==== the reader on hand-made files ==== */

START_TEST(non_elf_file_is_not_executable)
{
    static const char text[] = "#!/bin/sh\necho this is not an ELF file\n";

    ck_assert_int_eq(scan(write_bytes(text, sizeof text - 1), WHOLE_FILE), -ENOEXEC);
}
END_TEST

START_TEST(empty_file_is_not_executable)
{
    ck_assert_int_eq(scan(write_bytes("", 0), WHOLE_FILE), -ENOEXEC);
}
END_TEST

START_TEST(missing_file_gives_open_errno)
{
    struct pyprobe__elf *elf;

    ck_assert_int_eq(pyprobe__elf_open_path("/nonexistent/pyprobe/elf", &elf), -ENOENT);
}
END_TEST

/* Where a good file is cut, and what the reader must say. */
static const struct {
    long keep;
    int error;
} cuts[] = {
    {10, -ENOEXEC},  /* inside the identification: not even an ELF file */
    {40, -EBADMSG},  /* inside the ELF header */
    {64 + 80, -EBADMSG}, /* inside the section headers */
    {-4, -EBADMSG},  /* inside the note section, the last one */
};

START_TEST(elf_file_cut_short_is_rejected)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);

    add_line_probe(&im, TEXT_ADDRESS, BASE_ADDRESS, PROBES_ADDRESS);
    ck_assert_int_eq(scan_image(&im, WHOLE_FILE), 1);
    ck_assert_int_eq(scan_image(&im, cuts[_i].keep), cuts[_i].error);
}
END_TEST

START_TEST(elf_without_stapsdt_notes_has_no_probes)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);

    im.base_address = 0;
    ck_assert_int_eq(scan_image(&im, WHOLE_FILE), 0);
}
END_TEST

/* Loop: the note's namesz, then its descsz, made too large for the
 * section; then its header cut by the section's end. */
START_TEST(note_running_past_its_section_is_malformed)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);
    size_t note = add_line_probe(&im, TEXT_ADDRESS, BASE_ADDRESS, PROBES_ADDRESS);

    if (_i == 2)
        im.notes_size = 8;
    else
        set_note_field(&im, note, _i == 0 ? NOTE_NAMESZ : NOTE_DESCSZ, 0x10000);
    ck_assert_int_eq(scan_image(&im, WHOLE_FILE), -EBADMSG);
}
END_TEST

START_TEST(descriptor_shorter_than_three_addresses_is_malformed)
{
    struct image im = new_image(_i ? ELFCLASS64 : ELFCLASS32, ELFDATA2LSB);
    unsigned char desc[3 * 8] = {0};

    add_note(&im, "stapsdt", 3, desc, 3 * word_size(&im) - 1);
    ck_assert_int_eq(scan_image(&im, WHOLE_FILE), -EBADMSG);
}
END_TEST

/* Loop: the provider, the name or the arguments lose their NUL. The
 * padding after the descriptor is zeros: it must not count. */
START_TEST(string_without_nul_is_malformed)
{
    static const size_t lengths[] = {6, 11, sizeof LINE_STRINGS - 1};
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);

    add_probe_note(&im, TEXT_ADDRESS, BASE_ADDRESS, PROBES_ADDRESS, LINE_STRINGS, lengths[_i]);
    ck_assert_int_eq(scan_image(&im, WHOLE_FILE), -EBADMSG);
}
END_TEST

START_TEST(iteration_goes_on_after_a_malformed_descriptor)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__stapsdt_probe probe;
    struct pyprobe__elf *elf;

    add_probe_note(&im, TEXT_ADDRESS, BASE_ADDRESS, PROBES_ADDRESS, "python", 6);
    add_line_probe(&im, TEXT_ADDRESS + 8, BASE_ADDRESS, PROBES_ADDRESS);
    elf = open_image(&im);
    pyprobe__stapsdt_begin(elf, &it);
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), -EBADMSG);
    ck_assert(!pyprobe__stapsdt_stuck(&it));
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), 1);
    ck_assert_uint_eq(probe.pc, TEXT_ADDRESS + 8);
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), 0);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(broken_note_framing_stops_the_iteration)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__stapsdt_probe probe;
    struct pyprobe__elf *elf;

    set_note_field(&im, add_line_probe(&im, TEXT_ADDRESS, BASE_ADDRESS, 0), NOTE_DESCSZ, 0x10000);
    add_line_probe(&im, TEXT_ADDRESS + 8, BASE_ADDRESS, 0);
    elf = open_image(&im);
    pyprobe__stapsdt_begin(elf, &it);
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), -EBADMSG);
    ck_assert(pyprobe__stapsdt_stuck(&it));
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), -EBADMSG);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(notes_of_other_owners_and_types_are_skipped)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);
    struct pyprobe__stapsdt_probe probe;
    struct pyprobe__elf *elf;

    add_note(&im, "GNU", 3, "abcd", 4);
    add_note(&im, "stapsdt", 1, "abcd", 4);
    add_note(&im, "stapsdtX", 3, "abcd", 4);
    add_line_probe(&im, TEXT_ADDRESS, BASE_ADDRESS, PROBES_ADDRESS);
    elf = open_image(&im);
    ck_assert_int_eq(read_probes(elf, &probe, 1), 1);
    ck_assert_str_eq(probe.provider, "python");
    ck_assert_str_eq(probe.name, "line");
    ck_assert_str_eq(probe.args, "-4@%edi");
    pyprobe__elf_close(elf);
}
END_TEST

/* Loop over 32/64-bit, little/big-endian: addresses of the file's word
 * size in its byte order, with distinct bytes so that an order or width
 * mistake shows. */
static const struct {
    int elf_class, byte_order;
    uint64_t pc, semaphore;
} layouts[] = {
    {ELFCLASS32, ELFDATA2LSB, 0x08041234, 0x0a0b0c0e},
    {ELFCLASS64, ELFDATA2LSB, 0x123456789a, 0x7f0102030406},
    {ELFCLASS32, ELFDATA2MSB, 0x08041234, 0x0a0b0c0e},
    {ELFCLASS64, ELFDATA2MSB, 0x123456789a, 0x7f0102030406},
};

START_TEST(note_addresses_have_the_files_word_size_and_byte_order)
{
    struct image im = new_image(layouts[_i].elf_class, layouts[_i].byte_order);
    struct pyprobe__stapsdt_probe probe;
    struct pyprobe__elf *elf;

    add_line_probe(&im, layouts[_i].pc, BASE_ADDRESS, layouts[_i].semaphore);
    elf = open_image(&im);
    ck_assert_uint_eq(pyprobe__elf_address_size(elf), word_size(&im));
    ck_assert_int_eq(read_probes(elf, &probe, 1), 1);
    ck_assert_uint_eq(probe.note_pc, layouts[_i].pc);
    ck_assert_uint_eq(probe.note_base, BASE_ADDRESS);
    ck_assert_uint_eq(probe.note_semaphore, layouts[_i].semaphore);
    ck_assert_uint_eq(probe.pc, layouts[_i].pc);
    ck_assert_str_eq(probe.args, "-4@%edi");
    pyprobe__elf_close(elf);
}
END_TEST

/* Loop over 32/64-bit. Notes written for a base 0x800 lower and 0x800
 * higher than where .stapsdt.base is; a zero semaphore means none and stays
 * 0; a pc moved past the top of the address space wraps at its size. */
START_TEST(stapsdt_base_moves_pc_and_semaphore)
{
    struct image im = new_image(_i ? ELFCLASS64 : ELFCLASS32, ELFDATA2LSB);
    uint64_t top = _i ? UINT64_MAX : UINT32_MAX;
    struct pyprobe__stapsdt_probe probes[4];
    struct pyprobe__elf *elf;

    add_line_probe(&im, 0x1100, BASE_ADDRESS - 0x800, 0x3800);
    add_line_probe(&im, 0x1900, BASE_ADDRESS + 0x800, 0x4800);
    add_line_probe(&im, 0x1100, BASE_ADDRESS - 0x800, 0);
    add_line_probe(&im, top - 0xff, BASE_ADDRESS - 0x800, 0);
    elf = open_image(&im);
    ck_assert_int_eq(read_probes(elf, probes, 4), 4);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(probes[i].pc, 0x1900 - 0x800 * i);
        ck_assert_uint_eq(probes[i].semaphore, 0x4000);
    }
    ck_assert_uint_eq(probes[1].note_pc, 0x1900);
    ck_assert_uint_eq(probes[2].pc, 0x1900);
    ck_assert_uint_eq(probes[2].semaphore, 0);
    ck_assert_uint_eq(probes[3].pc, 0x700);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(without_stapsdt_base_addresses_are_the_notes)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);
    struct pyprobe__stapsdt_probe probe;
    struct pyprobe__elf_section section;
    struct pyprobe__elf *elf;

    im.base_address = 0;
    add_line_probe(&im, 0x1100, 0x1800, 0x3808);
    elf = open_image(&im);
    ck_assert_int_eq(pyprobe__elf_section_by_name(elf, ".stapsdt.base", &section), -ENOENT);
    ck_assert_int_eq(read_probes(elf, &probe, 1), 1);
    ck_assert_uint_eq(probe.pc, 0x1100);
    ck_assert_uint_eq(probe.semaphore, 0x3808);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(section_at_finds_allocated_sections_only)
{
    struct image im = new_image(ELFCLASS64, ELFDATA2LSB);
    struct pyprobe__elf_section section;
    struct pyprobe__elf_segment segment;
    struct pyprobe__elf *elf;

    add_line_probe(&im, TEXT_ADDRESS, BASE_ADDRESS, PROBES_ADDRESS);
    elf = open_image(&im);
    ck_assert_int_eq(pyprobe__elf_section_at(elf, PROBES_ADDRESS + 15, &section), 0);
    ck_assert_str_eq(section.name, ".probes");
    ck_assert_uint_eq(section.address, PROBES_ADDRESS);
    ck_assert_uint_eq(section.flags & SHF_WRITE, SHF_WRITE);
    ck_assert_int_eq(pyprobe__elf_section_at(elf, PROBES_ADDRESS + 16, &section), -ENOENT);
    /* .note.stapsdt has address 0 but is not loaded. */
    ck_assert_int_eq(pyprobe__elf_section_at(elf, 0, &section), -ENOENT);
    ck_assert_int_eq(pyprobe__elf_section_by_name(elf, ".note.stapsdt", &section), 0);
    ck_assert_int_eq(pyprobe__elf_segment_at(elf, PROBES_ADDRESS, &segment), -ENOENT);
    pyprobe__elf_close(elf);
}
END_TEST

/* ---- argument descriptions ---- */

struct arg_case {
    unsigned size;
    bool is_signed, is_float;
    const char *operand;
};

static void check_args(const char *desc, const struct arg_case *want, int count)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];

    ck_assert_int_eq(pyprobe__parse_args(desc, args), count);
    for (int i = 0; i < count; i++) {
        ck_assert_uint_eq(args[i].size, want[i].size);
        ck_assert_int_eq(args[i].is_signed, want[i].is_signed);
        ck_assert_int_eq(args[i].is_float, want[i].is_float);
        ck_assert_uint_eq(args[i].operand_length, strlen(want[i].operand));
        ck_assert_mem_eq(args[i].operand, want[i].operand, args[i].operand_length);
    }
}

START_TEST(parses_register_memory_constant_and_float_operands)
{
    static const struct arg_case want[] = {
        {8, false, false, "%rdi"}, {4, true, false, "%edx"}, {8, true, false, "%rax"},
        {8, false, false, "-16(%rbp)"}, {4, true, false, "$5"}, {8, false, true, "%xmm0"},
    };

    check_args("8@%rdi -4@%edx -8@%rax 8@-16(%rbp) -4@$5 8f@%xmm0", want, 6);
}
END_TEST

START_TEST(parses_bracketed_operands_with_spaces)
{
    static const struct arg_case want[] = {{4, true, false, "[sp, 12]"}, {8, false, false, "x0"}};

    check_args("-4@[sp, 12] 8@x0", want, 2);
}
END_TEST

START_TEST(empty_description_has_no_arguments)
{
    check_args("", NULL, 0);
    check_args("  ", NULL, 0);
}
END_TEST

/* `count` times "8@%rdi", space-separated. */
static const char *repeated_args(char *buf, size_t size, int count)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < count; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s8@%%rdi", i ? " " : "");
    ck_assert_uint_lt(used, size);
    return buf;
}

START_TEST(twelve_arguments_parse_and_thirteen_do_not)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];
    char buf[256];

    ck_assert_int_eq(pyprobe__parse_args(repeated_args(buf, sizeof buf, 12), args), 12);
    ck_assert_int_eq(pyprobe__parse_args(repeated_args(buf, sizeof buf, 13), args), -EINVAL);
}
END_TEST

static const char *const bad_descriptions[] = {
    "8", "8@", "@%rdi", "3@%rdi", "x@%rdi", "8g@%rdi", "--8@%rdi", "+8@%rdi", "-@%rdi",
    "8 @%rdi", "8@%rdi-4@%edx", "8@[sp, 12", "99999999999999999999@%rdi", "8@%rdi 4",
};

START_TEST(malformed_description_is_invalid)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];

    ck_assert_msg(pyprobe__parse_args(bad_descriptions[_i], args) == -EINVAL, "\"%s\" was accepted",
                  bad_descriptions[_i]);
}
END_TEST

static Suite *reader_suite(void)
{
    Suite *suite = suite_create("elf_reader");
    TCase *files = tcase_create("files"), *args = tcase_create("args");

    tcase_add_test(files, non_elf_file_is_not_executable);
    tcase_add_test(files, empty_file_is_not_executable);
    tcase_add_test(files, missing_file_gives_open_errno);
    tcase_add_loop_test(files, elf_file_cut_short_is_rejected, 0, COUNT(cuts));
    tcase_add_test(files, elf_without_stapsdt_notes_has_no_probes);
    tcase_add_loop_test(files, note_running_past_its_section_is_malformed, 0, 3);
    tcase_add_loop_test(files, descriptor_shorter_than_three_addresses_is_malformed, 0, 2);
    tcase_add_loop_test(files, string_without_nul_is_malformed, 0, 3);
    tcase_add_test(files, iteration_goes_on_after_a_malformed_descriptor);
    tcase_add_test(files, broken_note_framing_stops_the_iteration);
    tcase_add_test(files, notes_of_other_owners_and_types_are_skipped);
    tcase_add_loop_test(files, note_addresses_have_the_files_word_size_and_byte_order, 0, COUNT(layouts));
    tcase_add_loop_test(files, stapsdt_base_moves_pc_and_semaphore, 0, 2);
    tcase_add_test(files, without_stapsdt_base_addresses_are_the_notes);
    tcase_add_test(files, section_at_finds_allocated_sections_only);
    suite_add_tcase(suite, files);

    tcase_add_test(args, parses_register_memory_constant_and_float_operands);
    tcase_add_test(args, parses_bracketed_operands_with_spaces);
    tcase_add_test(args, empty_description_has_no_arguments);
    tcase_add_test(args, twelve_arguments_parse_and_thirteen_do_not);
    tcase_add_loop_test(args, malformed_description_is_invalid, 0, COUNT(bad_descriptions));
    suite_add_tcase(suite, args);
    return suite;
}

/* ==== the probes in a built file ==== */

static const char *provider, *file_path;

/* python.d's probes; argument sizes as the notes write them: 8@ strings and
 * pointers, -4@ int, -8@ long (CPython's contract, which bcc relies on). */
static const struct expected_probe {
    const char *name;
    int argc;
    int sizes[3];
} python_d[] = {
    {"function__entry", 3, {8, 8, -4}},
    {"function__return", 3, {8, 8, -4}},
    {"instance__new__start", 2, {8, 8}},
    {"instance__new__done", 2, {8, 8}},
    {"instance__delete__start", 2, {8, 8}},
    {"instance__delete__done", 2, {8, 8}},
    {"line", 3, {8, 8, -4}},
    {"gc__start", 1, {-4}},
    {"gc__done", 1, {-8}},
    {"import__find__load__start", 1, {8}},
    {"import__find__load__done", 2, {8, -4}},
    {"audit", 2, {8, 8}},
};

#define MAX_SITES 64

static struct pyprobe__elf *file_elf;
static struct pyprobe__stapsdt_probe sites[MAX_SITES];
static int site_count;

static void open_file(void)
{
    ck_assert_int_eq(pyprobe__elf_open_path(file_path, &file_elf), 0);
    site_count = read_probes(file_elf, sites, MAX_SITES);
    ck_assert_int_ge(site_count, 0);
    ck_assert_int_le(site_count, MAX_SITES);
}

static void close_file(void)
{
    pyprobe__elf_close(file_elf);
}

static const struct expected_probe *expected_for(const struct pyprobe__stapsdt_probe *site)
{
    for (int i = 0; i < COUNT(python_d); i++)
        if (strcmp(site->name, python_d[i].name) == 0)
            return &python_d[i];
    ck_abort_msg("%s: unexpected probe %s:%s", file_path, site->provider, site->name);
    return NULL;
}

START_TEST(file_has_each_python_d_probe_exactly_once)
{
    int seen[COUNT(python_d)] = {0};

    for (int i = 0; i < site_count; i++) {
        ck_assert_str_eq(sites[i].provider, provider);
        seen[expected_for(&sites[i]) - python_d]++;
    }
    for (int i = 0; i < COUNT(python_d); i++)
        ck_assert_msg(seen[i] == 1, "%s: %s has %d sites", file_path, python_d[i].name, seen[i]);
    ck_assert_int_eq(site_count, COUNT(python_d));
}
END_TEST

/* The size as the note writes it: negative when signed. */
static int signed_size(const struct pyprobe__arg *arg)
{
    return arg->is_signed ? -(int)arg->size : (int)arg->size;
}

START_TEST(argument_sizes_follow_the_cpython_contract)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];

    for (int i = 0; i < site_count; i++) {
        const struct expected_probe *want = expected_for(&sites[i]);

        ck_assert_msg(pyprobe__parse_args(sites[i].args, args) == want->argc, "%s: \"%s\"", want->name,
                      sites[i].args);
        for (int a = 0; a < want->argc; a++)
            ck_assert_msg(signed_size(&args[a]) == want->sizes[a] && !args[a].is_float,
                          "%s arg%d: \"%s\", want size %d", want->name, a, sites[i].args, want->sizes[a]);
    }
}
END_TEST

/* %rdi, %edx, %r8d: what STAP_SDT_ARG_CONSTRAINT=r gives, and what every
 * consumer reads without a memory access. */
static bool is_plain_register(const struct pyprobe__arg *arg)
{
    if (arg->operand_length < 3 || arg->operand[0] != '%' || (arg->operand[1] != 'r' && arg->operand[1] != 'e'))
        return false;
    for (size_t i = 2; i < arg->operand_length; i++)
        if (!(arg->operand[i] >= 'a' && arg->operand[i] <= 'z') && !(arg->operand[i] >= '0' && arg->operand[i] <= '9'))
            return false;
    return true;
}

START_TEST(every_argument_is_a_plain_register)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];

    for (int i = 0; i < site_count; i++) {
        int count = pyprobe__parse_args(sites[i].args, args);

        ck_assert_int_ge(count, 0);
        for (int a = 0; a < count; a++)
            ck_assert_msg(is_plain_register(&args[a]), "%s arg%d: \"%s\"", sites[i].name, a, sites[i].args);
    }
}
END_TEST

START_TEST(semaphores_are_distinct_counters_inside_probes)
{
    struct pyprobe__elf_section section;

    for (int i = 0; i < site_count; i++) {
        uint64_t semaphore = sites[i].semaphore;

        ck_assert_msg(semaphore != 0, "%s has no semaphore", sites[i].name);
        ck_assert_int_eq(pyprobe__elf_section_at(file_elf, semaphore, &section), 0);
        ck_assert_str_eq(section.name, ".probes");
        ck_assert_uint_le(semaphore + 2, section.address + section.size);
        for (int j = 0; j < i; j++)
            ck_assert_msg(sites[j].semaphore != semaphore, "%s and %s share a semaphore", sites[j].name,
                          sites[i].name);
    }
}
END_TEST

static uint64_t semaphore_of(const char *name)
{
    for (int i = 0; i < site_count; i++)
        if (strcmp(sites[i].name, name) == 0)
            return sites[i].semaphore;
    ck_abort_msg("%s: no probe %s", file_path, name);
    return 0;
}

/* pyprobe/cpython's PYPROBE__FUNCTION_ENTRY_OR_LINE_ENABLED() reads the two as one
 * aligned 32-bit word. */
START_TEST(line_semaphore_follows_function_entry_on_a_4_byte_boundary)
{
    uint64_t entry = semaphore_of("function__entry"), line = semaphore_of("line");

    ck_assert_msg(line == entry + 2, "line's semaphore at %#" PRIx64 ", function__entry's at %#" PRIx64,
                  line, entry);
    ck_assert_msg(entry % 4 == 0, "function__entry's semaphore at %#" PRIx64 " is not 4-byte aligned", entry);
}
END_TEST

START_TEST(probes_section_is_in_a_writable_non_executable_segment)
{
    struct pyprobe__elf_section section;
    struct pyprobe__elf_segment segment;

    ck_assert_int_eq(pyprobe__elf_section_by_name(file_elf, ".probes", &section), 0);
    ck_assert_int_eq(pyprobe__elf_segment_at(file_elf, section.address, &segment), 0);
    ck_assert_uint_le(section.address + section.size, segment.address + segment.size);
    ck_assert_uint_eq(segment.flags & (PF_W | PF_X), PF_W);
}
END_TEST

/* gdb ignores every probe of a file without it; here nothing was prelinked,
 * so the notes' base is the section's address and nothing moves. */
START_TEST(stapsdt_base_exists_where_the_notes_say)
{
    struct pyprobe__elf_section base;

    ck_assert_int_eq(pyprobe__elf_section_by_name(file_elf, ".stapsdt.base", &base), 0);
    ck_assert_uint_eq(base.size, 1);
    ck_assert_uint_eq(base.flags & SHF_ALLOC, SHF_ALLOC);
    for (int i = 0; i < site_count; i++) {
        ck_assert_uint_eq(sites[i].note_base, base.address);
        ck_assert_uint_eq(sites[i].pc, sites[i].note_pc);
        ck_assert_uint_eq(sites[i].semaphore, sites[i].note_semaphore);
    }
}
END_TEST

/* pyprobe_fire_<probe>: the probe's name with "__" made "_". */
static const char *fire_function_of(const char *probe, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "pyprobe_fire_");

    for (; *probe && used + 1 < size; probe++)
        if (!(probe[0] == '_' && probe[1] == '_'))
            out[used++] = *probe;
    out[used] = '\0';
    return out;
}

/* What a lister shows as FUNCTION: the fire function of each probe. */
START_TEST(each_site_is_in_its_fire_function)
{
    char want[128];
    const char *function;

    for (int i = 0; i < site_count; i++) {
        ck_assert_int_eq(pyprobe__elf_function_at(file_elf, sites[i].pc, &function), 0);
        ck_assert_str_eq(function, fire_function_of(sites[i].name, want, sizeof want));
    }
}
END_TEST

/* ---- cross-check with readelf ---- */

/* A note as readelf prints it: the note's own addresses, not adjusted. */
struct note_text {
    char provider[64], name[64], args[256];
    uint64_t pc, base, semaphore;
};

/* If `text` starts with `prefix`, copies the rest of its line into out. */
static bool take_field(const char *text, const char *prefix, char *out, size_t size)
{
    size_t length;

    if (strncmp(text, prefix, strlen(prefix)) != 0)
        return false;
    text += strlen(prefix);
    length = strcspn(text, "\n");
    ck_assert_uint_lt(length, size);
    memcpy(out, text, length);
    out[length] = '\0';
    return true;
}

/* Parses the stapsdt notes of `readelf -n --wide` (C locale: its labels
 * are translated otherwise) into notes: how many. */
static int readelf_notes(struct note_text *notes, int max)
{
    char command[PATH_MAX + 64], line[1024], field[256];
    struct note_text *note = NULL;
    FILE *out;
    int count = 0;

    ck_assert_msg(!strchr(file_path, '\''), "a path with a quote: %s", file_path);
    snprintf(command, sizeof command, "LC_ALL=C " READELF_COMMAND " -n --wide '%s'", file_path);
    out = popen(command, "r");
    ck_assert_ptr_nonnull(out);
    while (fgets(line, sizeof line, out)) {
        const char *provider_field = strstr(line, "Provider: "); /* ends a note's first line */

        if (provider_field) {
            ck_assert_int_lt(count, max);
            note = memset(&notes[count++], 0, sizeof *note);
            take_field(provider_field, "Provider: ", note->provider, sizeof note->provider);
        } else if (!note) {
            continue;
        } else if (take_field(line, "    Location: ", field, sizeof field)) {
            ck_assert_int_eq(sscanf(field, "%" SCNx64 ", Base: %" SCNx64 ", Semaphore: %" SCNx64,
                                    &note->pc, &note->base, &note->semaphore), 3);
        } else if (!take_field(line, "    Name: ", note->name, sizeof note->name)) {
            take_field(line, "    Arguments: ", note->args, sizeof note->args);
        }
    }
    ck_assert_int_eq(pclose(out), 0);
    return count;
}

static struct note_text note_of(const struct pyprobe__stapsdt_probe *site)
{
    struct note_text note = {.pc = site->note_pc, .base = site->note_base, .semaphore = site->note_semaphore};

    snprintf(note.provider, sizeof note.provider, "%s", site->provider);
    snprintf(note.name, sizeof note.name, "%s", site->name);
    snprintf(note.args, sizeof note.args, "%s", site->args);
    return note;
}

START_TEST(reader_agrees_with_readelf_probe_by_probe)
{
    struct note_text printed[MAX_SITES];
    int count = readelf_notes(printed, MAX_SITES);

    ck_assert_int_eq(count, site_count);
    for (int i = 0; i < count; i++) {
        struct note_text read = note_of(&sites[i]);

        ck_assert_str_eq(read.provider, printed[i].provider);
        ck_assert_str_eq(read.name, printed[i].name);
        ck_assert_str_eq(read.args, printed[i].args);
        ck_assert_msg(read.pc == printed[i].pc && read.base == printed[i].base &&
                      read.semaphore == printed[i].semaphore,
                      "%s: reader %#" PRIx64 "/%#" PRIx64 "/%#" PRIx64 ", readelf %#" PRIx64 "/%#" PRIx64
                      "/%#" PRIx64, read.name, read.pc, read.base, read.semaphore, printed[i].pc,
                      printed[i].base, printed[i].semaphore);
    }
}
END_TEST

static Suite *probes_suite(void)
{
    Suite *suite = suite_create("elf_probes");
    TCase *tc = tcase_create("probes");

    tcase_add_checked_fixture(tc, open_file, close_file);
    tcase_add_test(tc, file_has_each_python_d_probe_exactly_once);
    tcase_add_test(tc, argument_sizes_follow_the_cpython_contract);
    tcase_add_test(tc, every_argument_is_a_plain_register);
    tcase_add_test(tc, semaphores_are_distinct_counters_inside_probes);
    tcase_add_test(tc, line_semaphore_follows_function_entry_on_a_4_byte_boundary);
    tcase_add_test(tc, probes_section_is_in_a_writable_non_executable_segment);
    tcase_add_test(tc, stapsdt_base_exists_where_the_notes_say);
    tcase_add_test(tc, each_site_is_in_its_fire_function);
    tcase_add_test(tc, reader_agrees_with_readelf_probe_by_probe);
    suite_add_tcase(suite, tc);
    return suite;
}

/* ==== relocations of a program linked against libpyprobe.so ==== */

#define MAX_RELOCATIONS 1024

static struct relocation {
    uint32_t type;
    char symbol[128];
} relocations[MAX_RELOCATIONS];
static int relocation_count;

static void add_relocation(Elf *elf, Elf_Data *symbols, size_t names, uint64_t info)
{
    struct relocation *r = &relocations[relocation_count++];
    GElf_Sym sym;
    const char *name = NULL;

    ck_assert_int_le(relocation_count, MAX_RELOCATIONS);
    if (symbols && GELF_R_SYM(info) != 0 && gelf_getsym(symbols, (int)GELF_R_SYM(info), &sym))
        name = elf_strptr(elf, names, sym.st_name);
    r->type = (uint32_t)GELF_R_TYPE(info);
    snprintf(r->symbol, sizeof r->symbol, "%s", name ? name : "");
}

/* Adds the entries of one SHT_REL or SHT_RELA section. */
static void add_relocations(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    Elf_Scn *symtab = elf_getscn(elf, shdr->sh_link);
    GElf_Shdr symtab_shdr;
    Elf_Data *symbols = symtab && gelf_getshdr(symtab, &symtab_shdr) ? elf_getdata(symtab, NULL) : NULL;

    ck_assert_ptr_nonnull(data);
    for (size_t n = 0; n < shdr->sh_size / shdr->sh_entsize; n++) {
        GElf_Rela rela;
        GElf_Rel rel;

        if (shdr->sh_type == SHT_RELA)
            ck_assert_ptr_nonnull(gelf_getrela(data, (int)n, &rela));
        else
            ck_assert_ptr_nonnull(gelf_getrel(data, (int)n, &rel));
        add_relocation(elf, symbols, symbols ? symtab_shdr.sh_link : 0,
                       shdr->sh_type == SHT_RELA ? rela.r_info : rel.r_info);
    }
}

static void load_relocations(void)
{
    int fd = open(file_path, O_RDONLY | O_CLOEXEC);
    Elf *elf;
    Elf_Scn *scn = NULL;
    GElf_Ehdr ehdr;
    GElf_Shdr shdr;

    ck_assert_msg(fd >= 0, "%s: %s", file_path, strerror(errno));
    ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
    elf = elf_begin(fd, ELF_C_READ, NULL);
    ck_assert_ptr_nonnull(elf);
    ck_assert_ptr_nonnull(gelf_getehdr(elf, &ehdr));
    ck_assert_int_eq(ehdr.e_machine, EM_X86_64); /* the relocation types below */
    relocation_count = 0;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        ck_assert_ptr_nonnull(gelf_getshdr(scn, &shdr));
        if ((shdr.sh_type == SHT_RELA || shdr.sh_type == SHT_REL) && shdr.sh_entsize != 0)
            add_relocations(elf, scn, &shdr);
    }
    elf_end(elf);
    close(fd);
}

/* A copied semaphore is one the kernel never raises: the guard would stay
 * off under a tracer. pyprobe.h reads semaphores through the GOT for this.
 * (Other data, such as libc's stderr, may well be copied into a PIE.) */
static bool is_semaphore(const char *symbol)
{
    size_t length = strlen(symbol), suffix = strlen("_semaphore");

    return length > suffix && strcmp(symbol + length - suffix, "_semaphore") == 0;
}

START_TEST(no_semaphore_is_copy_relocated)
{
    for (int i = 0; i < relocation_count; i++)
        ck_assert_msg(relocations[i].type != R_X86_64_COPY || !is_semaphore(relocations[i].symbol),
                      "%s: R_X86_64_COPY of %s", file_path, relocations[i].symbol);
}
END_TEST

/* So that the test above looks at the right thing: the program does reach
 * every semaphore of the library, through a GOT entry. */
START_TEST(program_reaches_every_semaphore_through_the_got)
{
    for (int p = 0; p < COUNT(python_d); p++) {
        char symbol[128];
        int got = 0;

        snprintf(symbol, sizeof symbol, "%s_%s_semaphore", provider, python_d[p].name);
        for (int i = 0; i < relocation_count; i++)
            got += strcmp(relocations[i].symbol, symbol) == 0 && relocations[i].type == R_X86_64_GLOB_DAT;
        ck_assert_msg(got == 1, "%s: %d R_X86_64_GLOB_DAT of %s", file_path, got, symbol);
    }
}
END_TEST

static Suite *relocations_suite(void)
{
    Suite *suite = suite_create("elf_relocations");
    TCase *tc = tcase_create("relocations");

    tcase_add_checked_fixture(tc, load_relocations, NULL);
    tcase_add_test(tc, no_semaphore_is_copy_relocated);
    tcase_add_test(tc, program_reaches_every_semaphore_through_the_got);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(int argc, char **argv)
{
    Suite *suite;

    if (argc == 1) {
        suite = reader_suite();
    } else if (argc == 4 && (strcmp(argv[1], "probes") == 0 || strcmp(argv[1], "relocations") == 0)) {
        provider = argv[2];
        file_path = argv[3];
        suite = strcmp(argv[1], "probes") == 0 ? probes_suite() : relocations_suite();
    } else {
        fprintf(stderr, "usage: %s [probes|relocations PROVIDER FILE]\n", argv[0]);
        return 2;
    }
    return test_run_suite(suite);
}
