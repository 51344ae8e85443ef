/*
 * Unit tests of the lister's library code (src/lister): filters, argument
 * descriptions and types, probe sites with their functions, processes; and
 * of the reader's parts only the lister uses (notes of any section,
 * functions of many addresses).
 *
 *   test_lister INPUTS [LIBRARY]
 *
 * INPUTS is the directory of hand-made ELF files that make_inputs.py wrote
 * (see there for what each holds); LIBRARY, when the build has probes, is
 * libpyprobe.so, whose sites, functions and argument types are checked.
 */
#define _GNU_SOURCE /* memfd_create, unshare */
#include "elf_symbols.h"
#include "lister_args.h"
#include "lister_filter.h"
#include "lister_proc.h"
#include "lister_signatures.h"
#include "lister_sites.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define COUNT(array) ((int)(sizeof(array) / sizeof((array)[0])))

static const char *inputs;
static const char *library;

static struct pyprobe__elf *open_input(const char *name)
{
    char path[PATH_MAX];
    struct pyprobe__elf *elf;

    snprintf(path, sizeof path, "%s/%s", inputs, name);
    ck_assert_msg(pyprobe__elf_open_path(path, &elf) == 0, "cannot open %s", path);
    return elf;
}

/* A file and every site of it, as a lister reads them (at most 16). */
struct file_sites {
    struct pyprobe__elf *elf;
    struct pyprobe__sites sites;
    struct pyprobe__site site[16];
};

/* Reads the sites of elf into *file: close_sites() closes them and elf. */
static void read_sites(struct pyprobe__elf *elf, struct file_sites *file)
{
    size_t count = 0;

    file->elf = elf;
    ck_assert_int_eq(pyprobe__sites_open(elf, &file->sites), 0);
    while (count < sizeof file->site / sizeof file->site[0] &&
           pyprobe__sites_next(&file->sites, &file->site[count]) > 0)
        count++;
    ck_assert_uint_eq(count, file->sites.count);
}

static void close_sites(struct file_sites *file)
{
    pyprobe__sites_close(&file->sites);
    pyprobe__elf_close(file->elf);
}

/* ==== filters ==== */

static struct pyprobe__probe_id entry_in(int pid)
{
    return (struct pyprobe__probe_id){.provider = "python", .pid = pid, .module = "libpyprobe.so.1",
                                     .path = "/usr/lib/libpyprobe.so.1", .function = "pyprobe_fire_function_entry",
                                     .name = "function__entry", .d_name = "function-entry"};
}

static bool matches(const char *description, enum pyprobe__field last, const struct pyprobe__probe_id *id)
{
    struct pyprobe__filter filter;
    bool result;

    ck_assert_int_eq(pyprobe__filter_parse(description, last, &filter), 0);
    result = pyprobe__filter_match(&filter, id);
    pyprobe__filter_free(&filter);
    return result;
}

START_TEST(descriptions_fill_from_the_right)
{
    struct pyprobe__filter filter;

    ck_assert_int_eq(pyprobe__filter_parse("a:b", PYPROBE__FIELD_NAME, &filter), 0);
    ck_assert_ptr_null(filter.fields[PYPROBE__FIELD_PROVIDER]);
    ck_assert_ptr_null(filter.fields[PYPROBE__FIELD_MODULE]);
    ck_assert_str_eq(filter.fields[PYPROBE__FIELD_FUNCTION], "a");
    ck_assert_str_eq(filter.fields[PYPROBE__FIELD_NAME], "b");
    pyprobe__filter_free(&filter);
    ck_assert_int_eq(pyprobe__filter_parse("p::", PYPROBE__FIELD_FUNCTION, &filter), 0);
    ck_assert_str_eq(filter.fields[PYPROBE__FIELD_PROVIDER], "p");
    ck_assert_ptr_null(filter.fields[PYPROBE__FIELD_MODULE]);
    ck_assert_ptr_null(filter.fields[PYPROBE__FIELD_FUNCTION]);
    pyprobe__filter_free(&filter);
}
END_TEST

START_TEST(too_many_fields_are_refused)
{
    struct pyprobe__filter filter;

    ck_assert_int_eq(pyprobe__filter_parse("a:b:c:d:e", PYPROBE__FIELD_NAME, &filter), -EINVAL);
    ck_assert_int_eq(pyprobe__filter_parse("a:b", PYPROBE__FIELD_PROVIDER, &filter), -EINVAL);
    ck_assert_int_eq(pyprobe__filter_parse("a:b:c", PYPROBE__FIELD_MODULE, &filter), -EINVAL);
    ck_assert_int_eq(pyprobe__filter_parse("a:b:c:d", PYPROBE__FIELD_FUNCTION, &filter), -EINVAL);
    ck_assert_int_eq(pyprobe__filter_parse("a:b:c:d", PYPROBE__FIELD_NAME, &filter), 0);
    pyprobe__filter_free(&filter);
}
END_TEST

/* Filters of one field against function__entry of /usr/lib/libpyprobe.so.1
 * (entry_in()) in process `pid`, or in a file (0): the descriptions that
 * match it, and those that do not (each list ends at its first NULL). */
static const struct {
    enum pyprobe__field last;
    int pid;
    const char *match[4], *no_match[3];
} matching[] = {
    /* names in both forms */
    {PYPROBE__FIELD_NAME, 0, {"function-entry", "function__entry", "function-*"}, {"function-return"}},
    /* providers with and without the pid */
    {PYPROBE__FIELD_PROVIDER, 4242, {"python", "python4242", "python42*"}, {"python4243"}},
    {PYPROBE__FIELD_PROVIDER, 0, {NULL}, {"python4242"}},
    /* modules by name or path */
    {PYPROBE__FIELD_MODULE, 0, {"libpyprobe.so*", "python:libpyprobe.so.1", "/usr/lib/*"},
     {"libpyprobe", "mylang:libpyprobe.so.1"}},
};

START_TEST(names_providers_and_modules_match)
{
    struct pyprobe__probe_id id = entry_in(matching[_i].pid);

    for (const char *const *d = matching[_i].match; *d; d++)
        ck_assert_msg(matches(*d, matching[_i].last, &id), "\"%s\" does not match in pid %d", *d, matching[_i].pid);
    for (const char *const *d = matching[_i].no_match; *d; d++)
        ck_assert_msg(!matches(*d, matching[_i].last, &id), "\"%s\" matches in pid %d", *d, matching[_i].pid);
}
END_TEST

START_TEST(an_unknown_function_is_empty)
{
    struct pyprobe__probe_id id = entry_in(0);

    id.function = "";
    ck_assert(matches("*", PYPROBE__FIELD_FUNCTION, &id));
    ck_assert(!matches("pyprobe_*", PYPROBE__FIELD_FUNCTION, &id));
}
END_TEST

START_TEST(any_filter_lists_a_probe)
{
    struct pyprobe__filter filters[2] = {{0}};
    struct pyprobe__probe_id id = entry_in(0);

    ck_assert(pyprobe__filters_match(filters, 0, &id));
    ck_assert_int_eq(pyprobe__filter_parse("gc-start", PYPROBE__FIELD_NAME, &filters[0]), 0);
    ck_assert_int_eq(pyprobe__filter_parse("pyprobe_fire_*", PYPROBE__FIELD_FUNCTION, &filters[1]), 0);
    ck_assert(!pyprobe__filters_match(filters, 1, &id));
    ck_assert(pyprobe__filters_match(filters, 2, &id));
    pyprobe__filter_free(&filters[0]);
    pyprobe__filter_free(&filters[1]);
}
END_TEST

START_TEST(d_names)
{
    static const char *const cases[][2] = {{"function__entry", "function-entry"}, {"line", "line"},
                                           {"a___b", "a-_b"}, {"__", "-"}, {"", ""}, {"_x_", "_x_"}};
    char out[32];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pyprobe__d_name(cases[i][0], out);
        ck_assert_str_eq(out, cases[i][1]);
    }
}
END_TEST

/* ==== signature notes ==== */

#define DESC(text) (const unsigned char *)(text), sizeof(text)

START_TEST(signatures_decode)
{
    struct pyprobe__signature sig;

    ck_assert_int_eq(pyprobe__signature_parse(DESC("python\0line\0const char *\0const char *\0int"), &sig), 0);
    ck_assert_str_eq(sig.provider, "python");
    ck_assert_str_eq(sig.name, "line");
    ck_assert_uint_eq(sig.argc, 3);
    ck_assert_str_eq(sig.types[0], "const char *");
    ck_assert_str_eq(sig.types[2], "int");
    ck_assert_int_eq(pyprobe__signature_parse(DESC("mylang\0done"), &sig), 0);
    ck_assert_uint_eq(sig.argc, 0);
}
END_TEST

START_TEST(malformed_signatures_are_refused)
{
    static const char twelve[] = "p\0n\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a";
    static const char thirteen[] = "p\0n\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a";
    struct pyprobe__signature sig;

    ck_assert_int_eq(pyprobe__signature_parse((const unsigned char *)"", 0, &sig), -EBADMSG);
    ck_assert_int_eq(pyprobe__signature_parse((const unsigned char *)"python\0line", 11, &sig), -EBADMSG);
    ck_assert_int_eq(pyprobe__signature_parse(DESC("python"), &sig), -EBADMSG);
    ck_assert_int_eq(pyprobe__signature_parse(DESC("python\0"), &sig), -EBADMSG);
    ck_assert_int_eq(pyprobe__signature_parse(DESC("\0line"), &sig), -EBADMSG);
    ck_assert_int_eq(pyprobe__signature_parse(DESC("python\0line\0\0int"), &sig), -EBADMSG);
    ck_assert_int_eq(pyprobe__signature_parse(DESC(twelve), &sig), 0);
    ck_assert_uint_eq(sig.argc, 12);
    ck_assert_int_eq(pyprobe__signature_parse(DESC(thirteen), &sig), -EBADMSG);
}
END_TEST

START_TEST(sites_carry_their_signatures)
{
    struct file_sites file;

    read_sites(open_input("signatures.so"), &file);
    ck_assert_uint_eq(file.sites.count, 3);
    ck_assert_uint_eq(file.sites.signature_count, 2);
    ck_assert_uint_eq(file.sites.malformed_signatures, 1);
    ck_assert_ptr_nonnull(file.site[0].signature);
    ck_assert_uint_eq(file.site[0].signature->argc, 3);
    ck_assert_str_eq(file.site[0].signature->types[1], "const char *");
    ck_assert_ptr_nonnull(file.site[1].signature);
    ck_assert_str_eq(file.site[1].signature->types[0], "long");
    ck_assert_ptr_null(file.site[2].signature);
    close_sites(&file);
}
END_TEST

/* ==== sites and functions ==== */

START_TEST(functions_of_many_addresses)
{
    /* In file order: f1, f2 (an alias later in .symtab covers it too),
     * nothing (a zero-size symbol), a symbol whose name is past .strtab,
     * f2 again. */
    static const char *const want[] = {"f1", "f2", NULL, NULL, "f2"};
    struct file_sites file;
    const char *name;

    read_sites(open_input(_i == 0 ? "functions64.so" : "functions32.so"), &file);
    ck_assert_uint_eq(file.sites.count, 5);
    for (size_t i = 0; i < 5; i++) {
        if (want[i])
            ck_assert_str_eq(file.site[i].function, want[i]);
        else
            ck_assert_ptr_null(file.site[i].function);
    }
    ck_assert_int_eq(pyprobe__elf_function_at(file.elf, 0x1020, &name), 0);
    ck_assert_str_eq(name, "f2");
    ck_assert_int_eq(pyprobe__elf_function_at(file.elf, 0x1030, &name), -ENOENT);
    close_sites(&file);
}
END_TEST

/* Addresses as far apart as can be (the lookup's index spans them all),
 * and addresses out of order, which the lookup refuses. */
START_TEST(functions_of_addresses_far_apart)
{
    static const uint64_t far_apart[] = {0x1008, UINT64_MAX}, unsorted[] = {UINT64_MAX, 0x1008};
    struct pyprobe__elf *elf = open_input("functions64.so");
    const char *names[2];

    ck_assert_int_eq(pyprobe__elf_functions_at(elf, far_apart, 2, names), 0);
    ck_assert_str_eq(names[0], "f1");
    ck_assert_ptr_null(names[1]);
    ck_assert_int_eq(pyprobe__elf_functions_at(elf, unsorted, 2, names), -EINVAL);
    pyprobe__elf_close(elf);
}
END_TEST

START_TEST(malformed_notes_are_counted_and_skipped)
{
    struct file_sites file;

    read_sites(open_input("broken.so"), &file);
    ck_assert_uint_eq(file.sites.count, 2);
    ck_assert_str_eq(file.site[0].probe.name, "good1");
    ck_assert_str_eq(file.site[1].probe.name, "good2");
    ck_assert_uint_eq(file.sites.malformed, 1);
    ck_assert(file.sites.cut_short);
    close_sites(&file);
}
END_TEST

START_TEST(a_symbol_table_past_the_end_names_nothing)
{
    struct file_sites file;

    read_sites(open_input("symtab-cut.so"), &file);
    ck_assert_uint_eq(file.sites.count, 1);
    ck_assert_ptr_null(file.site[0].function);
    close_sites(&file);
}
END_TEST

START_TEST(notes_of_any_section)
{
    struct pyprobe__elf *elf = open_input("signatures.so");
    struct pyprobe__elf_note_iter it;
    struct pyprobe__elf_note note;
    int owners[2] = {0, 0};

    pyprobe__elf_notes_begin(elf, ".note.pyprobe", &it);
    while (pyprobe__elf_notes_next(&it, &note) > 0)
        owners[pyprobe__elf_note_is(&note, "pyprobe", 1)]++;
    ck_assert_int_eq(owners[1], 3);
    ck_assert_int_eq(owners[0], 1);
    pyprobe__elf_notes_begin(elf, ".note.none", &it);
    ck_assert_int_eq(pyprobe__elf_notes_next(&it, &note), 0);
    pyprobe__elf_close(elf);
}
END_TEST

/* The build's library: each probe in its fire function, with python.d's
 * types (the signature note the build adds). */
START_TEST(the_library_records_its_types)
{
    struct pyprobe__elf *elf;
    struct file_sites file;
    size_t seen = 0;

    ck_assert_int_eq(pyprobe__elf_open_path(library, &elf), 0);
    read_sites(elf, &file);
    ck_assert_uint_eq(file.sites.count, 12);
    ck_assert_uint_eq(file.sites.signature_count, 12);
    for (size_t i = 0; i < file.sites.count; i++) {
        const struct pyprobe__site *site = &file.site[i];

        ck_assert_ptr_nonnull(site->function);
        ck_assert(strncmp(site->function, "pyprobe_fire_", 13) == 0);
        ck_assert_ptr_nonnull(site->signature);
        if (strcmp(site->probe.name, "function__entry") == 0) {
            ck_assert_uint_eq(site->signature->argc, 3);
            ck_assert_str_eq(site->signature->types[0], "const char *");
            ck_assert_str_eq(site->signature->types[2], "int");
            seen++;
        } else if (strcmp(site->probe.name, "gc__done") == 0) {
            ck_assert_uint_eq(site->signature->argc, 1);
            ck_assert_str_eq(site->signature->types[0], "long");
            seen++;
        }
    }
    ck_assert_uint_eq(seen, 2);
    close_sites(&file);
}
END_TEST

/* ==== argument descriptions ==== */

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

/* ==== processes ==== */

START_TEST(maps_lines)
{
    char normal[] = "55d4c5e8f000-55d4c5e91000 r-xp 00002000 fd:01 1835106                    /usr/bin/cat\n";
    char spaced[] = "7f00-7f10 r--p 00000000 00:01 77 /memfd:my lib (deleted)";
    char anonymous[] = "7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ";
    char bad[][40] = {"", "zzzz-1000 r--p 0 00:00 0", "1000-2000 r--p", "2000-1000 r--p 0 00:00 0 /x",
                      "1000 2000 r--p 0 00:00 0 /x"};
    struct pyprobe__mapping m;

    ck_assert_int_eq(pyprobe__maps_parse_line(normal, &m), 0);
    ck_assert_uint_eq(m.start, 0x55d4c5e8f000);
    ck_assert_uint_eq(m.end, 0x55d4c5e91000);
    ck_assert_uint_eq(m.offset, 0x2000);
    ck_assert_uint_eq(m.dev_major, 0xfd);
    ck_assert_uint_eq(m.dev_minor, 1);
    ck_assert_uint_eq(m.inode, 1835106);
    ck_assert_str_eq(m.perms, "r-xp");
    ck_assert_str_eq(m.path, "/usr/bin/cat");
    ck_assert_int_eq(pyprobe__maps_parse_line(spaced, &m), 0);
    ck_assert_str_eq(m.path, "/memfd:my lib (deleted)");
    ck_assert_int_eq(pyprobe__maps_parse_line(anonymous, &m), 0);
    ck_assert_str_eq(m.path, "");
    ck_assert_uint_eq(m.inode, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(pyprobe__maps_parse_line(bad[i], &m) == -EINVAL, "accepted %s", bad[i]);
}
END_TEST

START_TEST(processes_that_are_not_there)
{
    struct pyprobe__proc *proc;

    ck_assert_int_eq(pyprobe__proc_open(0, &proc), -EINVAL);
    ck_assert_int_eq(pyprobe__proc_open(-1, &proc), -EINVAL);
    ck_assert_int_eq(pyprobe__proc_open(INT_MAX, &proc), -ESRCH);
}
END_TEST

static volatile unsigned short marker = 0x5a17;

START_TEST(this_process_reads_itself)
{
    struct pyprobe__proc *proc;
    unsigned short value = 0;
    char exe[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    bool found = false;

    ck_assert_int_gt(length, 0);
    exe[length] = '\0';
    ck_assert_int_eq(pyprobe__proc_open(getpid(), &proc), 0);
    ck_assert_int_eq(pyprobe__proc_pid(proc), getpid());
    for (size_t i = 0; i < pyprobe__proc_object_count(proc); i++)
        found |= strcmp(pyprobe__proc_object_path(proc, i), exe) == 0;
    ck_assert_msg(found, "%s is not among the objects", exe);
    ck_assert_int_eq(pyprobe__proc_read(proc, (uintptr_t)&marker, &value, sizeof value), 0);
    ck_assert_uint_eq(value, 0x5a17);
    ck_assert_int_eq(pyprobe__proc_read(proc, 8, &value, sizeof value), -EIO);
    pyprobe__proc_close(proc);
}
END_TEST

/* A child that maps a copy of this test program (an ELF file with an
 * executable first segment) in one of these ways, then waits. */
enum how { AS_FILE, AS_DELETED_FILE, AS_MEMFD, IN_OTHER_MOUNT_NAMESPACE };

struct child {
    pid_t pid;
    int hold;                   /* the child exits when this closes */
    uintptr_t start;            /* where it mapped the file */
    char dir[PATH_MAX / 2];     /* a temporary directory: the file is dir/object */
};

static int copy_of_self(int fd)
{
    char buffer[65536];
    int in = open("/proc/self/exe", O_RDONLY);
    ssize_t got;

    while (in >= 0 && (got = read(in, buffer, sizeof buffer)) > 0)
        if (write(fd, buffer, (size_t)got) != got)
            return -1;
    close(in);
    return in < 0 ? -1 : 0;
}

/* Returns the fd of the file to map, set up as `how` says. */
static int child_file(enum how how, const char *path)
{
    int fd;

    if (how == AS_MEMFD)
        fd = memfd_create("pyprobe-lister-test", 0);
    else
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0700);
    if (fd < 0 || copy_of_self(fd) != 0)
        _exit(2);
    if (how == AS_DELETED_FILE)
        unlink(path);
    return fd;
}

static void child_main(enum how how, const struct child *c, int report, int hold)
{
    char path[PATH_MAX];
    uintptr_t start;
    void *at;
    int fd;

    if (how == IN_OTHER_MOUNT_NAMESPACE &&
        (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
         mount("tmpfs", c->dir, "tmpfs", 0, NULL) != 0))
        _exit(3);
    snprintf(path, sizeof path, "%s/object", c->dir);
    fd = child_file(how, path);
    at = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (at == MAP_FAILED)
        _exit(4);
    if (how != AS_DELETED_FILE && how != AS_MEMFD)
        close(fd);
    start = (uintptr_t)at;
    if (write(report, &start, sizeof start) != sizeof start)
        _exit(5);
    while (read(hold, &fd, 1) > 0)
        ;
    _exit(0);
}

static void start_child(enum how how, struct child *c)
{
    int report[2], hold[2];

    snprintf(c->dir, sizeof c->dir, "%s/pyprobe-lister-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(c->dir));
    ck_assert_int_eq(pipe(report), 0);
    ck_assert_int_eq(pipe(hold), 0);
    c->pid = fork();
    ck_assert_int_ge(c->pid, 0);
    if (c->pid == 0) {
        close(report[0]);
        close(hold[1]);
        child_main(how, c, report[1], hold[0]);
    }
    close(report[1]);
    close(hold[0]);
    c->hold = hold[1];
    ck_assert_msg(read(report[0], &c->start, sizeof c->start) == sizeof c->start, "the child did not start");
    close(report[0]);
}

static void stop_child(struct child *c)
{
    char path[PATH_MAX];
    int status;

    close(c->hold);
    ck_assert_int_eq(waitpid(c->pid, &status, 0), c->pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    snprintf(path, sizeof path, "%s/object", c->dir);
    unlink(path);
    rmdir(c->dir);
}

/* The index of the object the child mapped (its maps path names
 * pyprobe-lister-test; a memfd's name does too). */
static size_t child_object(const struct pyprobe__proc *proc)
{
    for (size_t i = 0; i < pyprobe__proc_object_count(proc); i++)
        if (strstr(pyprobe__proc_object_path(proc, i), "pyprobe-lister-test"))
            return i;
    ck_abort_msg("the child's object is not in its maps");
    return 0;
}

/* Each way of reaching the file, and what it should give. */
static void check_ways(enum how how, const int want[3])
{
    static const unsigned methods[] = {PYPROBE__OPEN_MAP_FILES, PYPROBE__OPEN_ROOT, PYPROBE__OPEN_FD};
    struct child c = {0};
    struct pyprobe__proc *proc;
    struct pyprobe__proc_object object;
    size_t index;

    start_child(how, &c);
    ck_assert_int_eq(pyprobe__proc_open(c.pid, &proc), 0);
    index = child_object(proc);
    for (int way = 0; way < 3; way++) {
        int fd = pyprobe__proc_open_file(proc, index, methods[way]);

        if (want[way] == 0)
            ck_assert_msg(fd >= 0, "way %d of %d: %s", way, how, strerror(-fd));
        else
            ck_assert_msg(fd == want[way], "way %d of %d: %d, wanted %d", way, how, fd, want[way]);
        if (fd >= 0)
            close(fd);
    }
    ck_assert_int_eq(pyprobe__proc_object_open(proc, index, PYPROBE__OPEN_ANY, &object), 0);
    /* A PIE's first segment is at 0: the bias is where it is mapped. */
    ck_assert_uint_eq(object.bias_count, 1);
    ck_assert_uint_eq(object.biases[0], c.start);
    pyprobe__proc_object_close(&object);
    pyprobe__proc_close(proc);
    stop_child(&c);
}

START_TEST(a_mapped_file)
{
    check_ways(AS_FILE, (const int[]){0, 0, -ENOENT});
}
END_TEST

START_TEST(a_mapped_deleted_file)
{
    check_ways(AS_DELETED_FILE, (const int[]){0, -ENOENT, 0});
}
END_TEST

START_TEST(a_mapped_memfd)
{
    check_ways(AS_MEMFD, (const int[]){0, -ENOENT, 0});
}
END_TEST

START_TEST(a_file_of_another_mount_namespace)
{
    check_ways(IN_OTHER_MOUNT_NAMESPACE, (const int[]){0, 0, -ENOENT});
}
END_TEST

static Suite *lister_suite(void)
{
    Suite *s = suite_create("lister");
    TCase *filters = tcase_create("filters"), *signatures = tcase_create("signatures");
    TCase *sites = tcase_create("sites"), *procs = tcase_create("processes");
    TCase *args = tcase_create("args");

    tcase_add_test(filters, descriptions_fill_from_the_right);
    tcase_add_test(filters, too_many_fields_are_refused);
    tcase_add_loop_test(filters, names_providers_and_modules_match, 0, COUNT(matching));
    tcase_add_test(filters, an_unknown_function_is_empty);
    tcase_add_test(filters, any_filter_lists_a_probe);
    tcase_add_test(filters, d_names);
    tcase_add_test(signatures, signatures_decode);
    tcase_add_test(signatures, malformed_signatures_are_refused);
    tcase_add_test(signatures, sites_carry_their_signatures);
    tcase_add_loop_test(sites, functions_of_many_addresses, 0, 2);
    tcase_add_test(sites, functions_of_addresses_far_apart);
    tcase_add_test(sites, malformed_notes_are_counted_and_skipped);
    tcase_add_test(sites, a_symbol_table_past_the_end_names_nothing);
    tcase_add_test(sites, notes_of_any_section);
    if (library)
        tcase_add_test(sites, the_library_records_its_types);
    tcase_add_test(args, parses_register_memory_constant_and_float_operands);
    tcase_add_test(args, parses_bracketed_operands_with_spaces);
    tcase_add_test(args, empty_description_has_no_arguments);
    tcase_add_test(args, twelve_arguments_parse_and_thirteen_do_not);
    tcase_add_loop_test(args, malformed_description_is_invalid, 0, COUNT(bad_descriptions));
    tcase_add_test(procs, maps_lines);
    tcase_add_test(procs, processes_that_are_not_there);
    tcase_add_test(procs, this_process_reads_itself);
    /* map_files and mounting take root. */
    if (geteuid() == 0) {
        tcase_add_test(procs, a_mapped_file);
        tcase_add_test(procs, a_mapped_deleted_file);
        tcase_add_test(procs, a_mapped_memfd);
        tcase_add_test(procs, a_file_of_another_mount_namespace);
    } else {
        fprintf(stderr, "test_lister: not root: the tests of mapped files are left out\n");
    }
    tcase_set_timeout(procs, 60);
    suite_add_tcase(s, filters);
    suite_add_tcase(s, signatures);
    suite_add_tcase(s, sites);
    suite_add_tcase(s, args);
    suite_add_tcase(s, procs);
    return s;
}

int main(int argc, char **argv)
{
    if (!test_arguments(argc, argv, "INPUTS [LIBRARY]", 1, 2, (const char **const[]){&inputs, &library}))
        return 2;
    return test_run_suite(lister_suite());
}
