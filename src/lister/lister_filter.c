/* Probe descriptions (see lister_filter.h). */
#include "lister_filter.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pyprobe__filter_parse(const char *description, enum pyprobe__field last, struct pyprobe__filter *out)
{
    char *fields[PYPROBE__FIELD_COUNT];
    size_t count = 0;

    if (!description || !out || last >= PYPROBE__FIELD_COUNT)
        return -EINVAL;
    *out = (struct pyprobe__filter){.text = strdup(description)};
    if (!out->text)
        return -ENOMEM;
    for (char *p = out->text;; p++) {
        fields[count++] = p;
        p = strchr(p, ':');
        if (!p)
            break;
        if (count > (size_t)last) {
            pyprobe__filter_free(out);
            return -EINVAL;
        }
        *p = '\0';
    }
    /* Right-aligned: the last field given is `last`. */
    for (size_t i = 0; i < count; i++) {
        const char *field = fields[i];

        out->fields[(size_t)last + 1 - count + i] = *field ? field : NULL;
    }
    return 0;
}

void pyprobe__filter_free(struct pyprobe__filter *filter)
{
    if (filter) {
        free(filter->text);
        filter->text = NULL;
    }
}

static bool glob(const char *pattern, const char *text)
{
    return fnmatch(pattern, text ? text : "", 0) == 0;
}

/* "python" matches the provider of any process; "python4242" just one. */
static bool provider_matches(const char *pattern, const struct pyprobe__probe_id *id)
{
    char with_pid[256];
    int length;

    if (glob(pattern, id->provider))
        return true;
    if (id->pid <= 0)
        return false;
    length = snprintf(with_pid, sizeof with_pid, "%s%d", id->provider, id->pid);
    return length > 0 && (size_t)length < sizeof with_pid && glob(pattern, with_pid);
}

static bool field_matches(enum pyprobe__field field, const char *pattern, const struct pyprobe__probe_id *id)
{
    switch (field) {
    case PYPROBE__FIELD_PROVIDER:
        return provider_matches(pattern, id);
    case PYPROBE__FIELD_MODULE:
        return glob(pattern, id->module) || (strchr(pattern, '/') && glob(pattern, id->path));
    case PYPROBE__FIELD_FUNCTION:
        return glob(pattern, id->function);
    case PYPROBE__FIELD_NAME:
        return glob(pattern, id->name) || glob(pattern, id->d_name);
    default:
        return false;
    }
}

bool pyprobe__filter_match(const struct pyprobe__filter *filter, const struct pyprobe__probe_id *id)
{
    for (int field = 0; field < PYPROBE__FIELD_COUNT; field++)
        if (filter->fields[field] && !field_matches((enum pyprobe__field)field, filter->fields[field], id))
            return false;
    return true;
}

bool pyprobe__filters_match(const struct pyprobe__filter *filters, size_t count, const struct pyprobe__probe_id *id)
{
    if (count == 0)
        return true;
    for (size_t i = 0; i < count; i++)
        if (pyprobe__filter_match(&filters[i], id))
            return true;
    return false;
}

void pyprobe__d_name(const char *name, char *out)
{
    while (*name) {
        if (name[0] == '_' && name[1] == '_') {
            *out++ = '-';
            name += 2;
        } else {
            *out++ = *name++;
        }
    }
    *out = '\0';
}
