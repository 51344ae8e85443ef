/*
 * lister_sites.h - every probe site of one ELF object, with what a lister
 * shows of it: the function that holds it and, for providers built by
 * pyprobe, the C types of its arguments.
 *
 *     struct pyprobe__sites sites;
 *     struct pyprobe__site site;
 *
 *     if (pyprobe__sites_open(elf, &sites) == 0) {
 *         while (pyprobe__sites_next(&sites, &site) > 0)
 *             ...site.probe.name, site.function...;
 *         pyprobe__sites_close(&sites);
 *     }
 *
 * The sites come one at a time, in note order, and are not kept: opening
 * reads the notes once for their addresses and each symbol table once for
 * the functions, then each call decodes its note again. A lister's memory
 * so stays below that of readelf -n on the same file (a copy of every site
 * would be 80 bytes each).
 *
 * A malformed note does not stop the reading: the sites of the good notes
 * all come, and `malformed` and `cut_short`, known once open, say what was
 * lost.
 */
#ifndef PYPROBE_LISTER_SITES_H
#define PYPROBE_LISTER_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_notes.h"
#include "lister_signatures.h"

struct pyprobe__site {
    struct pyprobe__stapsdt_probe probe;
    const char *function;                        /* NULL: no function symbol holds the site */
    const struct pyprobe__signature *signature;  /* NULL: no argument types recorded */
};

struct pyprobe__sites {
    size_t count;                   /* how many sites will come */
    size_t malformed;               /* stapsdt notes skipped: bad descriptor */
    bool cut_short;                 /* a note broke its section's framing: the rest is unread */
    size_t malformed_signatures;    /* .note.pyprobe notes skipped */
    struct pyprobe__signature *signatures;
    size_t signature_count;
    /* Where the reading stands. */
    struct pyprobe__stapsdt_iter notes;
    uint64_t *pcs;                  /* the sites' addresses, sorted, each once */
    const char **functions;         /* the function holding each of pcs, or NULL */
    size_t pc_count;
    size_t next_pc;                 /* the index after the last pc looked up */
};

/* Reads what the sites of `elf` need, which must stay open while they are
 * read (it keeps the function names): 0, or -ENOMEM (nothing to close
 * then). */
int pyprobe__sites_open(struct pyprobe__elf *elf, struct pyprobe__sites *out);
/* Fills `site` with the next site, in note order: 1, or 0 after the last. */
int pyprobe__sites_next(struct pyprobe__sites *sites, struct pyprobe__site *site);
void pyprobe__sites_close(struct pyprobe__sites *sites);

#endif /* PYPROBE_LISTER_SITES_H */
