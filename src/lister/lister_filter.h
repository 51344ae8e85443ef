/*
 * lister_filter.h - dtrace's probe descriptions, for choosing what to list.
 *
 *   -n [[[provider:]module:]function:]name
 *   -f [[provider:]module:]function
 *   -m [provider:]module
 *   -P provider
 *
 * Each field is a glob (fnmatch(3)); an absent or empty field matches
 * everything. As in dtrace, the fields fill from the right: "-n a:b" is
 * function a, name b. Several descriptions list what any of them matches.
 */
#ifndef PYPROBE_LISTER_FILTER_H
#define PYPROBE_LISTER_FILTER_H

#include <stdbool.h>
#include <stddef.h>

enum pyprobe__field {
    PYPROBE__FIELD_PROVIDER,
    PYPROBE__FIELD_MODULE,
    PYPROBE__FIELD_FUNCTION,
    PYPROBE__FIELD_NAME,
    PYPROBE__FIELD_COUNT
};

struct pyprobe__filter {
    char *text;                                 /* owned: the fields, split */
    const char *fields[PYPROBE__FIELD_COUNT];    /* NULL: any */
};

/* Parses a description whose last field is `last` (-n: NAME, -P: PROVIDER).
 * 0, -EINVAL when it has more fields than `last` allows, -ENOMEM. */
int pyprobe__filter_parse(const char *description, enum pyprobe__field last, struct pyprobe__filter *out);
void pyprobe__filter_free(struct pyprobe__filter *filter);

/* A probe site as the filters see it. */
struct pyprobe__probe_id {
    const char *provider;   /* as in the note: python */
    int pid;                /* 0 for a file: else the provider also reads python4242 */
    const char *module;     /* the object's base name */
    const char *path;       /* the object's path: a module glob with a '/' matches it */
    const char *function;   /* "" when unknown */
    const char *name;       /* as in the note: function__entry */
    const char *d_name;     /* D form: function-entry (pyprobe__d_name) */
};

bool pyprobe__filter_match(const struct pyprobe__filter *filter, const struct pyprobe__probe_id *id);
/* Whether any of `count` filters matches; true when count is 0. */
bool pyprobe__filters_match(const struct pyprobe__filter *filters, size_t count, const struct pyprobe__probe_id *id);

/* A probe name in D form: each "__" becomes "-" (function__entry ->
 * function-entry), as dtrace -h maps them the other way. `out` needs
 * strlen(name) + 1 bytes. */
void pyprobe__d_name(const char *name, char *out);

#endif /* PYPROBE_LISTER_FILTER_H */
