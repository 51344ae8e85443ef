/*
 * libFuzzer target: the ELF and stapsdt note reader (src/elf) and
 * the lister's library code on top of it (src/lister): every probe site,
 * its function, its arguments and its argument types, as `pyprobe -l -v`
 * reads them, from whatever bytes the fuzzer makes up.
 *
 * The reader takes a file descriptor (libelf maps the file): each input is
 * written to a memfd first.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_notes.h"
#include "lister_args.h"
#include "lister_filter.h"
#include "lister_proc.h"
#include "lister_signatures.h"
#include "lister_sites.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_file(const uint8_t *data, size_t size)
{
    static int fd = -1;

    if (fd < 0)
        fd = memfd_create("pyprobe-fuzz", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort(); /* the harness, not the code under test */
    return fd;
}

/* What a lister asks of each site. */
static void look_at(struct pyprobe__elf *elf, const struct pyprobe__site *site, struct pyprobe__filter *filter)
{
    struct pyprobe__arg args[PYPROBE_MAX_PROBE_ARGS];
    struct pyprobe__elf_section section;
    struct pyprobe__elf_segment segment;
    char *d_name = malloc(strlen(site->probe.name) + 1);
    struct pyprobe__probe_id id = {.provider = site->probe.provider, .pid = 42, .module = "m", .path = "/m",
                                  .function = site->function ? site->function : "", .name = site->probe.name};

    if (!d_name)
        return;
    pyprobe__d_name(site->probe.name, d_name);
    id.d_name = d_name;
    pyprobe__filters_match(filter, 1, &id);
    pyprobe__parse_args(site->probe.args, args);
    pyprobe__elf_section_at(elf, site->probe.pc, &section);
    pyprobe__elf_segment_at(elf, site->probe.semaphore, &segment);
    for (unsigned i = 0; site->signature && i < site->signature->argc; i++)
        if (strlen(site->signature->types[i]) == 0)
            abort(); /* the parser promises non-empty types */
    free(d_name);
}

/* The same bytes as a line of /proc/PID/maps and as a signature note's
 * descriptor: the lister's other parsers of outside text. */
static void parse_as_text(const uint8_t *data, size_t size)
{
    struct pyprobe__mapping mapping;
    struct pyprobe__signature signature;
    char *line = malloc(size + 1);

    if (!line)
        return;
    memcpy(line, data, size);
    line[size] = '\0';
    pyprobe__maps_parse_line(line, &mapping);
    pyprobe__signature_parse(data, size, &signature);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pyprobe__elf *elf;
    struct pyprobe__sites sites;
    struct pyprobe__site site;
    struct pyprobe__elf_segment segment;
    struct pyprobe__filter filter;

    parse_as_text(data, size);
    if (pyprobe__elf_open_fd(input_file(data, size), &elf) != 0)
        return 0;
    if (pyprobe__filter_parse("py*:*:*:*-*", PYPROBE__FIELD_NAME, &filter) != 0)
        abort();
    if (pyprobe__sites_open(elf, &sites) == 0) {
        while (pyprobe__sites_next(&sites, &site) > 0)
            look_at(elf, &site, &filter);
        pyprobe__sites_close(&sites);
    }
    pyprobe__elf_first_segment(elf, &segment);
    pyprobe__filter_free(&filter);
    pyprobe__elf_close(elf);
    return 0;
}
