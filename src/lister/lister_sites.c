/* The probe sites of one object (see lister_sites.h). */
#include "lister_sites.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf_symbols.h"
#include "grow.h"

/* The next good note: 1, or 0 after the last (a note that breaks the
 * framing ends the notes). Malformed notes are skipped, and counted. */
static int next_probe(struct pyprobe__stapsdt_iter *it, struct pyprobe__stapsdt_probe *probe, size_t *malformed)
{
    int rc;

    while ((rc = pyprobe__stapsdt_next(it, probe)) < 0 && !pyprobe__stapsdt_stuck(it))
        ++*malformed;
    return rc > 0;
}

/* The first pass: how many sites, what was lost, and their addresses. */
static int read_pcs(struct pyprobe__elf *elf, struct pyprobe__sites *sites)
{
    struct pyprobe__stapsdt_probe probe;
    size_t capacity = 0;

    pyprobe__stapsdt_begin(elf, &sites->notes);
    while (next_probe(&sites->notes, &probe, &sites->malformed)) {
        if (pyprobe__grow(&sites->pcs, &capacity, sites->count + 1, sizeof *sites->pcs) != 0)
            return -ENOMEM;
        sites->pcs[sites->count++] = probe.pc;
    }
    sites->cut_short = pyprobe__stapsdt_stuck(&sites->notes);
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
    sites->pc_count = sort_unique(sites->pcs, sites->count);
    sites->functions = malloc(sites->pc_count * sizeof *sites->functions);
    if (!sites->functions)
        return -ENOMEM;
    return pyprobe__elf_functions_at(elf, sites->pcs, sites->pc_count, sites->functions);
}

int pyprobe__sites_open(struct pyprobe__elf *elf, struct pyprobe__sites *out)
{
    int rc, count;

    if (!elf || !out)
        return -EINVAL;
    *out = (struct pyprobe__sites){0};
    rc = read_pcs(elf, out);
    if (rc == 0 && out->count > 0)
        rc = name_functions(elf, out);
    if (rc == 0 && out->count > 0) {
        count = pyprobe__signatures_read(elf, &out->signatures, &out->malformed_signatures);
        rc = count < 0 ? count : 0;
        out->signature_count = count < 0 ? 0 : (size_t)count;
    }
    if (rc != 0) {
        pyprobe__sites_close(out);
        return rc;
    }
    /* The second pass, which pyprobe__sites_next() makes. */
    pyprobe__stapsdt_begin(elf, &out->notes);
    return 0;
}

/* The function holding `pc`, one of the sites' addresses. Compilers emit
 * the notes in address order, so the address after the last one found is
 * tried before a search. */
static const char *function_of(struct pyprobe__sites *sites, uint64_t pc)
{
    const uint64_t *found = sites->next_pc < sites->pc_count && sites->pcs[sites->next_pc] == pc
        ? &sites->pcs[sites->next_pc] : bsearch(&pc, sites->pcs, sites->pc_count, sizeof *sites->pcs, by_value);

    if (!found)
        return NULL;
    sites->next_pc = (size_t)(found - sites->pcs) + 1;
    return sites->functions[found - sites->pcs];
}

int pyprobe__sites_next(struct pyprobe__sites *sites, struct pyprobe__site *site)
{
    size_t malformed = 0; /* counted once, in the first pass */

    if (!sites || !site || !next_probe(&sites->notes, &site->probe, &malformed))
        return 0;
    site->function = function_of(sites, site->probe.pc);
    site->signature = pyprobe__signature_find(sites->signatures, sites->signature_count, site->probe.provider,
                                              site->probe.name);
    return 1;
}

void pyprobe__sites_close(struct pyprobe__sites *sites)
{
    if (!sites)
        return;
    free(sites->pcs);
    free(sites->functions);
    free(sites->signatures);
    *sites = (struct pyprobe__sites){0};
}
