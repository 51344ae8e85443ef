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

enum pyprobe_field {
    PYPROBE_FIELD_PROVIDER,
    PYPROBE_FIELD_MODULE,
    PYPROBE_FIELD_FUNCTION,
    PYPROBE_FIELD_NAME,
    PYPROBE_FIELD_COUNT
};

struct pyprobe_filter {
    char *text;                                 /* owned: the fields, split */
    const char *fields[PYPROBE_FIELD_COUNT];    /* NULL: any */
};

/* Parses a description whose last field is `last` (-n: NAME, -P: PROVIDER).
 * 0, -EINVAL when it has more fields than `last` allows, -ENOMEM. */
int pyprobe_filter_parse(const char *description, enum pyprobe_field last, struct pyprobe_filter *out);
void pyprobe_filter_free(struct pyprobe_filter *filter);

/* A probe site as the filters see it. */
struct pyprobe_probe_id {
    const char *provider;   /* as in the note: python */
    int pid;                /* 0 for a file: else the provider also reads python4242 */
    const char *module;     /* the object's base name */
    const char *path;       /* the object's path: a module glob with a '/' matches it */
    const char *function;   /* "" when unknown */
    const char *name;       /* as in the note: function__entry */
    const char *d_name;     /* D form: function-entry (pyprobe_d_name) */
};

bool pyprobe_filter_match(const struct pyprobe_filter *filter, const struct pyprobe_probe_id *id);
/* Whether any of `count` filters matches; true when count is 0. */
bool pyprobe_filters_match(const struct pyprobe_filter *filters, size_t count, const struct pyprobe_probe_id *id);

/* A probe name in D form: each "__" becomes "-" (function__entry ->
 * function-entry), as dtrace -h maps them the other way. `out` needs
 * strlen(name) + 1 bytes. */
void pyprobe_d_name(const char *name, char *out);

#endif /* PYPROBE_LISTER_FILTER_H */
