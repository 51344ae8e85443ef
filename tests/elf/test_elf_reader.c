/*
 * The ELF reader (src/elf) on hand-made files: what it reads of well-formed
 * ones, and what it says of broken ones.
 *
 *   test_elf_reader INPUTS
 *
 * INPUTS is the directory that make_inputs.py wrote (see there for what
 * each file holds); the addresses below are its own.
 */
#include "elf_file.h"
#include "elf_notes.h"
#include "elf_test.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* elfgen's addresses, and those of make_inputs.py's layout files. */
enum { TEXT_ADDRESS = 0x1000, BASE_ADDRESS = 0x2000, PROBES_ADDRESS = 0x4000 };

static const char *inputs;

/* Keep the whole file (see open_and_unlink). */
#define WHOLE_FILE LONG_MAX

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

static char *write_bytes(const void *bytes, size_t size)
{
    int fd;
    char *path = temp_file(&fd);

    ck_assert_int_eq(write(fd, bytes, size), (ssize_t)size);
    close(fd);
    return path;
}

/* A copy of input `name` that a test may cut: its malloc'd path. */
static char *copy_input(const char *name)
{
    char path[PATH_MAX], buffer[4096];
    int in, out;
    ssize_t got;
    char *copy = temp_file(&out);

    snprintf(path, sizeof path, "%s/%s", inputs, name);
    in = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(in >= 0, "%s: %s", path, strerror(errno));
    while ((got = read(in, buffer, sizeof buffer)) > 0)
        ck_assert_int_eq(write(out, buffer, (size_t)got), got);
    close(in);
    close(out);
    return copy;
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

static struct pyprobe__elf *open_input(const char *name)
{
    struct pyprobe__elf *elf;

    ck_assert_int_eq(open_and_unlink(copy_input(name), WHOLE_FILE, &elf), 0);
    return elf;
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

static int scan_input(const char *name, long keep)
{
    return scan(copy_input(name), keep);
}

/* ==== the reader on hand-made files ==== */

/* Files that are no ELF files at all: a script, and an empty file. */
static const char *const not_elf[] = {"#!/bin/sh\necho this is not an ELF file\n", ""};

START_TEST(non_elf_file_is_not_executable)
{
    ck_assert_int_eq(scan(write_bytes(not_elf[_i], strlen(not_elf[_i])), WHOLE_FILE), -ENOEXEC);
}
END_TEST

START_TEST(missing_file_gives_open_errno)
{
    struct pyprobe__elf *elf;

    ck_assert_int_eq(pyprobe__elf_open_path("/nonexistent/pyprobe/elf", &elf), -ENOENT);
}
END_TEST

/* Where a good file (64-bit, its section headers right after the ELF
 * header) is cut, and what the reader must say. */
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
    ck_assert_int_eq(scan_input("line.elf", WHOLE_FILE), 1);
    ck_assert_int_eq(scan_input("line.elf", cuts[_i].keep), cuts[_i].error);
}
END_TEST

START_TEST(elf_without_stapsdt_notes_has_no_probes)
{
    ck_assert_int_eq(scan_input("no-notes.elf", WHOLE_FILE), 0);
}
END_TEST

/* Files whose one stapsdt note is malformed, by make_inputs.py. */
static const char *const malformed[] = {
    "namesz.elf", "descsz.elf",             /* namesz, descsz too large for the section */
    "header-cut.elf",                       /* the note's header cut by the section's end */
    "short-desc32.elf", "short-desc64.elf", /* a descriptor shorter than its three addresses */
    /* The provider, the name or the arguments without their NUL: the
     * padding after the descriptor is zeros, and must not count. */
    "no-nul-provider.elf", "no-nul-name.elf", "no-nul-args.elf",
};

START_TEST(malformed_note_is_rejected)
{
    ck_assert_msg(scan_input(malformed[_i], WHOLE_FILE) == -EBADMSG, "%s was read", malformed[_i]);
}
END_TEST

/* Opens input `name`, whose first stapsdt note is malformed, and reads
 * that note: the file, with *it past it. */
static struct pyprobe__elf *past_a_malformed_note(const char *name, struct pyprobe__stapsdt_iter *it)
{
    struct pyprobe__elf *elf = open_input(name);
    struct pyprobe__stapsdt_probe probe;

    pyprobe__stapsdt_begin(elf, it);
    ck_assert_int_eq(pyprobe__stapsdt_next(it, &probe), -EBADMSG);
    return elf;
}

START_TEST(iteration_goes_on_after_a_malformed_descriptor)
{
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__elf *elf = past_a_malformed_note("malformed-then-good.elf", &it);
    struct pyprobe__stapsdt_probe probe;

    ck_assert(!pyprobe__stapsdt_stuck(&it));
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), 1);
    ck_assert_uint_eq(probe.pc, TEXT_ADDRESS + 8);
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), 0);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(broken_note_framing_stops_the_iteration)
{
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__elf *elf = past_a_malformed_note("framing-then-good.elf", &it);
    struct pyprobe__stapsdt_probe probe;

    ck_assert(pyprobe__stapsdt_stuck(&it));
    ck_assert_int_eq(pyprobe__stapsdt_next(&it, &probe), -EBADMSG);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(notes_of_other_owners_and_types_are_skipped)
{
    struct pyprobe__elf *elf = open_input("other-owners.elf");
    struct pyprobe__stapsdt_probe probe;

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
    const char *name;
    unsigned word;
    uint64_t pc, semaphore;
} layouts[] = {
    {"layout-32lsb.elf", 4, 0x08041234, 0x0a0b0c0e},
    {"layout-64lsb.elf", 8, 0x123456789a, 0x7f0102030406},
    {"layout-32msb.elf", 4, 0x08041234, 0x0a0b0c0e},
    {"layout-64msb.elf", 8, 0x123456789a, 0x7f0102030406},
};

START_TEST(note_addresses_have_the_files_word_size_and_byte_order)
{
    struct pyprobe__elf *elf = open_input(layouts[_i].name);
    struct pyprobe__stapsdt_probe probe;

    ck_assert_uint_eq(pyprobe__elf_address_size(elf), layouts[_i].word);
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
    struct pyprobe__elf *elf = open_input(_i ? "base-moves64.elf" : "base-moves32.elf");
    struct pyprobe__stapsdt_probe probes[4];

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
    struct pyprobe__elf *elf = open_input("no-base.elf");
    struct pyprobe__stapsdt_probe probe;
    struct pyprobe__elf_section section;

    ck_assert_int_eq(pyprobe__elf_section_by_name(elf, ".stapsdt.base", &section), -ENOENT);
    ck_assert_int_eq(read_probes(elf, &probe, 1), 1);
    ck_assert_uint_eq(probe.pc, 0x1100);
    ck_assert_uint_eq(probe.semaphore, 0x3808);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(section_at_finds_allocated_sections_only)
{
    struct pyprobe__elf *elf = open_input("line.elf");
    struct pyprobe__elf_section section;
    struct pyprobe__elf_segment segment;
    uint64_t probes_size;

    ck_assert_int_eq(pyprobe__elf_section_at(elf, PROBES_ADDRESS + 15, &section), 0);
    ck_assert_str_eq(section.name, ".probes");
    ck_assert_uint_eq(section.address, PROBES_ADDRESS);
    ck_assert_uint_eq(section.flags & SHF_WRITE, SHF_WRITE);
    probes_size = section.size;
    ck_assert_int_eq(pyprobe__elf_section_at(elf, PROBES_ADDRESS + probes_size, &section), -ENOENT);
    /* .note.stapsdt has address 0 but is not loaded. */
    ck_assert_int_eq(pyprobe__elf_section_at(elf, 0, &section), -ENOENT);
    ck_assert_int_eq(pyprobe__elf_section_by_name(elf, ".note.stapsdt", &section), 0);
    ck_assert_int_eq(pyprobe__elf_segment_at(elf, PROBES_ADDRESS, &segment), -ENOENT);
    pyprobe__elf_close(elf);
}
END_TEST

int main(int argc, char **argv)
{
    const struct test_entry tests[] = {
        {non_elf_file_is_not_executable, COUNT(not_elf)},
        {missing_file_gives_open_errno, 0},
        {elf_file_cut_short_is_rejected, COUNT(cuts)},
        {elf_without_stapsdt_notes_has_no_probes, 0},
        {malformed_note_is_rejected, COUNT(malformed)},
        {iteration_goes_on_after_a_malformed_descriptor, 0},
        {broken_note_framing_stops_the_iteration, 0},
        {notes_of_other_owners_and_types_are_skipped, 0},
        {note_addresses_have_the_files_word_size_and_byte_order, COUNT(layouts)},
        {stapsdt_base_moves_pc_and_semaphore, 2},
        {without_stapsdt_base_addresses_are_the_notes, 0},
        {section_at_finds_allocated_sections_only, 0},
    };

    if (!test_arguments(argc, argv, "INPUTS", 1, 1, (const char **const[]){&inputs}))
        return 2;
    return test_run_suite(test_suite("elf_reader", NULL, NULL, tests, COUNT(tests)));
}
