/* bpftrace's JSON lines as events (see d_events.h). */
#include "d_events.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "digit.h"

/* ---- the line, with bpftrace's sign-extended escapes undone ---- */

/* "\uffffffXX" at p (after the backslash): the byte XX, else -1. */
static int extended_byte(const char *p, const char *end)
{
    int high, low;

    if (end - p < 9 || p[0] != 'u' || strncmp(p + 1, "ffffff", 6) != 0)
        return -1;
    high = pyprobe__digit_value(p[7]);
    low = pyprobe__digit_value(p[8]);
    if (high < 8 || high >= 16 || low >= 16)
        return -1; /* a sign-extended char is 0x80 or more */
    return high * 16 + low;
}

/* A copy of the line where each "\uffffffXX" is the raw byte XX (json-c
 * takes raw bytes in strings; a real U+FFFF arrives as three escaped
 * bytes, never as this sequence). */
static char *restore_bytes(const char *line, size_t length, size_t *out_length)
{
    char *copy = malloc(length + 1), *q = copy;
    const char *p = line, *end = line + length;

    if (!copy)
        return NULL;
    while (p < end) {
        int byte;

        if (*p != '\\' || p + 1 >= end) {
            *q++ = *p++;
            continue;
        }
        byte = extended_byte(p + 1, end);
        if (byte >= 0) {
            *q++ = (char)byte;
            p += 10;
        } else {
            *q++ = *p++; /* the backslash and the escaped character */
            *q++ = *p++;
        }
    }
    *q = '\0';
    *out_length = (size_t)(q - copy);
    return copy;
}

/* ---- values ---- */

static int read_bucket(json_object *item, struct pyprobe__d_bucket *bucket)
{
    json_object *min, *max, *count;

    if (!json_object_is_type(item, json_type_object) || !json_object_object_get_ex(item, "count", &count) ||
        !json_object_is_type(count, json_type_int))
        return -EBADMSG;
    bucket->min = json_object_object_get_ex(item, "min", &min) ? json_object_get_int64(min) : INT64_MIN;
    bucket->max = json_object_object_get_ex(item, "max", &max) ? json_object_get_int64(max) : INT64_MAX;
    bucket->count = json_object_get_uint64(count);
    return bucket->min <= bucket->max ? 0 : -EBADMSG;
}

static int read_hist(json_object *value, struct pyprobe__d_map_entry *entry)
{
    size_t n = json_object_array_length(value);

    entry->kind = PYPROBE__D_VALUE_HIST;
    entry->buckets = calloc(n ? n : 1, sizeof *entry->buckets);
    if (!entry->buckets)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = read_bucket(json_object_array_get_idx(value, i), &entry->buckets[i]);

        if (rc != 0)
            return rc;
        entry->bucket_count++;
    }
    return 0;
}

static bool is_int(json_object *object, const char *name, json_object **out)
{
    return json_object_object_get_ex(object, name, out) && json_object_is_type(*out, json_type_int);
}

/* stats(): {"count": C, "average": A, "total": T}. */
static int read_stats(json_object *value, struct pyprobe__d_map_entry *entry)
{
    json_object *count, *average, *total;

    if (!is_int(value, "count", &count) || !is_int(value, "average", &average) || !is_int(value, "total", &total))
        return -EBADMSG;
    entry->kind = PYPROBE__D_VALUE_STATS;
    entry->count = json_object_get_uint64(count);
    entry->value = json_object_get_int64(average);
    entry->total = json_object_get_int64(total);
    return 0;
}

static int read_value(json_object *value, struct pyprobe__d_map_entry *entry)
{
    switch (json_object_get_type(value)) {
    case json_type_int:
        entry->kind = PYPROBE__D_VALUE_INT;
        entry->value = json_object_get_int64(value);
        return 0;
    case json_type_string:
        entry->kind = PYPROBE__D_VALUE_STRING;
        entry->string = json_object_get_string(value);
        return 0;
    case json_type_array:
        return read_hist(value, entry);
    case json_type_object:
        return read_stats(value, entry);
    default:
        return -EBADMSG;
    }
}

/* A map's value without a key: anything but an object of keyed values
 * (a stats() value is an object too, of exactly its three numbers). */
static bool is_unkeyed(json_object *value)
{
    json_object *member;

    return !json_object_is_type(value, json_type_object) ||
           (json_object_object_length(value) == 3 && is_int(value, "count", &member) &&
            is_int(value, "average", &member) && is_int(value, "total", &member));
}

static int read_map(json_object *data, struct pyprobe__d_event *event)
{
    struct json_object_iterator it, end;
    json_object *value;
    size_t n;

    if (!json_object_is_type(data, json_type_object) || json_object_object_length(data) != 1)
        return -EBADMSG;
    it = json_object_iter_begin(data);
    event->map = json_object_iter_peek_name(&it);
    value = json_object_iter_peek_value(&it);
    if (event->map[0] != '@')
        return -EBADMSG;
    event->kind = PYPROBE__D_EVENT_MAP;
    n = is_unkeyed(value) ? 1 : (size_t)json_object_object_length(value);
    event->entries = calloc(n ? n : 1, sizeof *event->entries);
    if (!event->entries)
        return -ENOMEM;
    if (is_unkeyed(value)) {
        event->entry_count = 1;
        return read_value(value, &event->entries[0]);
    }
    end = json_object_iter_end(value);
    for (it = json_object_iter_begin(value); !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        struct pyprobe__d_map_entry *entry = &event->entries[event->entry_count++];
        int rc;

        entry->key = json_object_iter_peek_name(&it);
        entry->key_length = strlen(entry->key);
        rc = read_value(json_object_iter_peek_value(&it), entry);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- events ---- */

static int read_text(json_object *data, enum pyprobe__d_event_kind kind, struct pyprobe__d_event *event)
{
    if (!json_object_is_type(data, json_type_string))
        return -EBADMSG;
    event->kind = kind;
    event->text = json_object_get_string(data);
    event->length = (size_t)json_object_get_string_len(data);
    return 0;
}

/* {"FIELD": N} */
static int read_count(json_object *data, const char *field, enum pyprobe__d_event_kind kind,
                      struct pyprobe__d_event *event)
{
    json_object *count;

    if (!json_object_is_type(data, json_type_object) || !is_int(data, field, &count))
        return -EBADMSG;
    event->kind = kind;
    event->count = json_object_get_uint64(count);
    return 0;
}

static int read_event(json_object *root, struct pyprobe__d_event *event)
{
    json_object *type, *data, *msg;
    const char *name;

    if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "type", &type) ||
        !json_object_is_type(type, json_type_string))
        return -EBADMSG;
    name = json_object_get_string(type);
    if (strcmp(name, "helper_error") == 0)
        return json_object_object_get_ex(root, "msg", &msg) ? read_text(msg, PYPROBE__D_EVENT_ERROR, event) : -EBADMSG;
    if (!json_object_object_get_ex(root, "data", &data))
        return -EBADMSG;
    if (strcmp(name, "printf") == 0)
        return read_text(data, PYPROBE__D_EVENT_PRINTF, event);
    if (strcmp(name, "map") == 0 || strcmp(name, "hist") == 0 || strcmp(name, "stats") == 0)
        return read_map(data, event);
    if (strcmp(name, "attached_probes") == 0)
        return read_count(data, "probes", PYPROBE__D_EVENT_ATTACHED, event);
    if (strcmp(name, "lost_events") == 0)
        return read_count(data, "events", PYPROBE__D_EVENT_LOST, event);
    if (json_object_is_type(data, json_type_string))
        return read_text(data, PYPROBE__D_EVENT_OTHER, event);
    event->kind = PYPROBE__D_EVENT_OTHER;
    event->text = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN);
    event->length = strlen(event->text);
    return 0;
}

static bool is_blank(const char *line, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

int pyprobe__d_event_parse(const char *line, size_t length, struct pyprobe__d_event *out)
{
    struct json_tokener *tokener;
    json_object *root;
    size_t fixed_length = 0;
    int rc;

    if (!line || !out)
        return -EINVAL;
    *out = (struct pyprobe__d_event){0};
    if (is_blank(line, length))
        return -ENODATA;
    out->line = restore_bytes(line, length, &fixed_length);
    tokener = json_tokener_new();
    if (!out->line || !tokener || fixed_length > INT32_MAX) {
        rc = out->line && tokener ? -EBADMSG : -ENOMEM;
        json_tokener_free(tokener);
        pyprobe__d_event_free(out);
        return rc;
    }
    root = json_tokener_parse_ex(tokener, out->line, (int)fixed_length);
    rc = root && json_tokener_get_parse_end(tokener) == fixed_length ? 0 : -EBADMSG;
    json_tokener_free(tokener);
    out->json = root;
    if (rc == 0)
        rc = read_event(root, out);
    if (rc != 0)
        pyprobe__d_event_free(out);
    return rc;
}

void pyprobe__d_event_free(struct pyprobe__d_event *event)
{
    if (!event)
        return;
    for (size_t i = 0; i < event->entry_count; i++)
        free(event->entries[i].buckets);
    free(event->entries);
    json_object_put(event->json);
    free(event->line);
    *event = (struct pyprobe__d_event){0};
}
