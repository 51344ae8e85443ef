/* The probe sites of one object (see lister_sites.h). */
#include "lister_sites.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf_symbols.h"

static int append_site(struct pyprobe__sites *sites, size_t *capacity, const struct pyprobe__stapsdt_probe *probe)
{
    if (sites->count == *capacity) {
        size_t bigger = *capacity ? 2 * *capacity : 32;
        struct pyprobe__site *grown = realloc(sites->sites, bigger * sizeof *grown);

        if (!grown)
            return -ENOMEM;
        sites->sites = grown;
        *capacity = bigger;
    }
    sites->sites[sites->count++] = (struct pyprobe__site){.probe = *probe};
    return 0;
}

static int read_probes(const struct pyprobe__elf *elf, struct pyprobe__sites *sites)
{
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__stapsdt_probe probe;
    size_t capacity = 0;
    int rc;

    pyprobe__stapsdt_begin(elf, &it);
    while ((rc = pyprobe__stapsdt_next(&it, &probe)) != 0 && !pyprobe__stapsdt_stuck(&it)) {
        if (rc < 0)
            sites->malformed++;
        else if (append_site(sites, &capacity, &probe) != 0)
            return -ENOMEM;
    }
    sites->cut_short = pyprobe__stapsdt_stuck(&it);
    return 0;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Sorts `values` and drops repeats: how many are left. */
static size_t sort_unique(uint64_t *values, size_t count)
{
    size_t kept = 0;

    qsort(values, count, sizeof *values, by_value);
    for (size_t i = 0; i < count; i++)
        if (kept == 0 || values[i] != values[kept - 1])
            values[kept++] = values[i];
    return kept;
}

/* The FUNCTION column, for all sites in one pass over the symbols. */
static int name_functions(struct pyprobe__elf *elf, struct pyprobe__sites *sites)
{
    uint64_t *pcs = malloc(sites->count * sizeof *pcs);
    const char **names = malloc(sites->count * sizeof *names);
    size_t count;
    int rc = -ENOMEM;

    if (pcs && names) {
        for (size_t i = 0; i < sites->count; i++)
            pcs[i] = sites->sites[i].probe.pc;
        count = sort_unique(pcs, sites->count);
        rc = pyprobe__elf_functions_at(elf, pcs, count, names);
        for (size_t i = 0; rc == 0 && i < sites->count; i++) {
            const uint64_t *pc = bsearch(&sites->sites[i].probe.pc, pcs, count, sizeof *pcs, by_value);

            sites->sites[i].function = names[pc - pcs];
        }
    }
    free(pcs);
    free(names);
    return rc;
}

static int attach_signatures(const struct pyprobe__elf *elf, struct pyprobe__sites *sites)
{
    int count = pyprobe__signatures_read(elf, &sites->signatures, &sites->malformed_signatures);

    if (count < 0)
        return count;
    sites->signature_count = (size_t)count;
    for (size_t i = 0; i < sites->count; i++) {
        struct pyprobe__site *site = &sites->sites[i];

        site->signature = pyprobe__signature_find(sites->signatures, sites->signature_count,
                                                 site->probe.provider, site->probe.name);
    }
    return 0;
}

int pyprobe__sites_read(struct pyprobe__elf *elf, struct pyprobe__sites *out)
{
    int rc;

    if (!elf || !out)
        return -EINVAL;
    *out = (struct pyprobe__sites){0};
    rc = read_probes(elf, out);
    if (rc == 0 && out->count > 0)
        rc = name_functions(elf, out);
    if (rc == 0 && out->count > 0)
        rc = attach_signatures(elf, out);
    if (rc != 0)
        pyprobe__sites_free(out);
    return rc;
}

void pyprobe__sites_free(struct pyprobe__sites *sites)
{
    if (!sites)
        return;
    free(sites->sites);
    free(sites->signatures);
    *sites = (struct pyprobe__sites){0};
}
