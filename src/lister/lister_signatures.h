/*
 * lister_signatures.h - the C argument types of pyprobe-built providers,
 * from their `.note.pyprobe` notes (the format: <pyprobe/notes.h>), for
 * dtrace's "Argument Types" block.
 *
 *     struct pyprobe__signature *signatures;
 *     size_t malformed;
 *     int count = pyprobe__signatures_read(elf, &signatures, &malformed);
 *
 *     if (count >= 0) {
 *         ...pyprobe__signature_find(signatures, count, "python", "line")...;
 *         free(signatures);
 *     }
 */
#ifndef PYPROBE_LISTER_SIGNATURES_H
#define PYPROBE_LISTER_SIGNATURES_H

#include <pyprobe/notes.h>
#include <stddef.h>

#include "elf_file.h"

struct pyprobe__signature {
    const char *provider;
    const char *name;
    unsigned argc;
    const char *types[PYPROBE_MAX_PROBE_ARGS];
};

/* Decodes one descriptor: 0, or -EBADMSG when it is empty, does not end
 * with a NUL, has an empty provider, name or type, or more than
 * PYPROBE_MAX_PROBE_ARGS types. The strings point into `desc`. */
int pyprobe__signature_parse(const unsigned char *desc, size_t size, struct pyprobe__signature *out);

/* Every signature note of the file, malloc'd into *out (free() it), their
 * strings in the file's data: the count, or -ENOMEM. Malformed notes are
 * skipped and counted in *malformed: the types are an extra, never a
 * reason not to list the probes. */
int pyprobe__signatures_read(const struct pyprobe__elf *elf, struct pyprobe__signature **out, size_t *malformed);

/* The signature of provider:name among `count`, or NULL. */
const struct pyprobe__signature *pyprobe__signature_find(const struct pyprobe__signature *signatures, size_t count,
                                                       const char *provider, const char *name);

#endif /* PYPROBE_LISTER_SIGNATURES_H */
