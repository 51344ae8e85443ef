/*
 * lister_sites.h - every probe site of one ELF object, with what a lister
 * shows of it: the function that holds it and, for providers built by
 * pyprobe, the C types of its arguments.
 *
 *     struct pyprobe__sites sites;
 *     if (pyprobe__sites_read(elf, &sites) == 0) {
 *         for (size_t i = 0; i < sites.count; i++)
 *             ...sites.sites[i].probe.name, sites.sites[i].function...;
 *         pyprobe__sites_free(&sites);
 *     }
 *
 * A malformed note does not stop the reading: the sites of the good notes
 * are all there, and `malformed` and `cut_short` say what was lost.
 */
#ifndef PYPROBE_LISTER_SITES_H
#define PYPROBE_LISTER_SITES_H

#include "elf_notes.h"
#include "lister_signatures.h"

struct pyprobe__site {
    struct pyprobe__stapsdt_probe probe;
    const char *function;                       /* NULL: no function symbol holds the site */
    const struct pyprobe__signature *signature;  /* NULL: no argument types recorded */
};

struct pyprobe__sites {
    struct pyprobe__site *sites;     /* in note order */
    size_t count;
    size_t malformed;               /* stapsdt notes skipped: bad descriptor */
    bool cut_short;                 /* a note broke its section's framing: the rest is unread */
    size_t malformed_signatures;    /* .note.pyprobe notes skipped */
    struct pyprobe__signature *signatures;
    size_t signature_count;
};

/* Reads the sites of `elf`, which must stay open while they are used: 0,
 * or -ENOMEM (nothing to free then). */
int pyprobe__sites_read(struct pyprobe__elf *elf, struct pyprobe__sites *out);
void pyprobe__sites_free(struct pyprobe__sites *sites);

#endif /* PYPROBE_LISTER_SITES_H */
