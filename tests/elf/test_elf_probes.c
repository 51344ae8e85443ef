/*
 * The probes the build puts into a file, read through the ELF reader
 * (src/elf) and checked against python.d, the CPython contract and readelf.
 *
 *   test_elf_probes PROVIDER FILE    FILE holds python.d's 12 probes
 */
#include "elf_file.h"
#include "elf_notes.h"
#include "elf_symbols.h"
#include "elf_test.h"
#include "lister_args.h"
#include "test_run.h"

#include <check.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef READELF_COMMAND
#define READELF_COMMAND "readelf"
#endif

static const char *provider, *file_path;

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

int main(int argc, char **argv)
{
    const struct test_entry tests[] = {
        {file_has_each_python_d_probe_exactly_once, 0},
        {argument_sizes_follow_the_cpython_contract, 0},
        {every_argument_is_a_plain_register, 0},
        {semaphores_are_distinct_counters_inside_probes, 0},
        {line_semaphore_follows_function_entry_on_a_4_byte_boundary, 0},
        {probes_section_is_in_a_writable_non_executable_segment, 0},
        {stapsdt_base_exists_where_the_notes_say, 0},
        {each_site_is_in_its_fire_function, 0},
        {reader_agrees_with_readelf_probe_by_probe, 0},
    };

    if (!test_arguments(argc, argv, "PROVIDER FILE", 2, 2, (const char **const[]){&provider, &file_path}))
        return 2;
    return test_run_suite(test_suite("elf_probes", open_file, close_file, tests, COUNT(tests)));
}
