/*
 * provider_write.h - what pyprobe_add_provider() makes of a provider file
 * that pyprobe__d_parse() has read:
 *   - the C source whose object carries the argument types as
 *     `.note.pyprobe` notes (<pyprobe/notes.h>), one per probe, which
 *     `pyprobe -l -v` prints as dtrace's "Argument Types";
 *   - the file as systemtap's dtrace is given it: only what was read, in a
 *     form its script reads right.
 */
#ifndef PYPROBE_PROVIDER_WRITE_H
#define PYPROBE_PROVIDER_WRITE_H

#include "provider_parse.h"

/* The notes' source for `file`, read from `source_name` (named in a
 * comment), malloc'd into *out (free() it): 0, -EINVAL, or -ENOMEM. A
 * non-NULL `anchor` names a hidden symbol defined in the object, which a
 * static link requires (-Wl,--undefined=ANCHOR) so that the object, and
 * its notes, are linked in though no code refers to them; it must be a C
 * identifier. */
int pyprobe__d_notes_source(const struct pyprobe__d_file *file, const char *source_name, const char *anchor,
                            char **out);

/* `file` as a provider file for systemtap's dtrace, malloc'd into *out:
 * 0 or -ENOMEM. Its script reads a declaration with a pyparsing grammar of
 * a few type shapes and falls back, when that fails, to a line-based
 * reader that drops the probes on lines with comments or the word
 * "provider" and takes `(void)` for one argument; so the file given to it
 * has no comments or pragmas, one declaration per line, `()` for no
 * arguments, and types the grammar reads (the others with their words
 * joined: "const_unsigned_char *"). The types only reach the comments of
 * dtrace -h's header; names and argument counts are what matter. */
int pyprobe__d_dtrace_source(const struct pyprobe__d_file *file, char **out);

/* Writes `text` to the file at `path` (created or truncated): 0 or -errno. */
int pyprobe__write_file(const char *path, const char *text);

/* Writes `text` to the file at `path` unless it holds exactly that already,
 * so that an unchanged source keeps its time stamp and nothing recompiles;
 * through a temporary file and rename(), so a reader never sees half of it.
 * 0 or -errno. */
int pyprobe__write_if_changed(const char *path, const char *text);

#endif /* PYPROBE_PROVIDER_WRITE_H */
