/*
 * d_events.h - one line of `bpftrace -f json` output as an event.
 *
 *     struct pyprobe__d_event event;
 *
 *     if (pyprobe__d_event_parse(line, length, &event) == 0) {
 *         ...event.kind, event.text, event.entries...;
 *         pyprobe__d_event_free(&event);
 *     }
 *
 * bpftrace 0.17 writes one JSON object per line:
 *
 *   {"type": "attached_probes", "data": {"probes": N}}
 *   {"type": "printf", "data": "TEXT"}
 *   {"type": "map", "data": {"@m": 5}} or {"@m": {"KEY": 5, ...}}
 *   {"type": "hist", "data": {"@m": [{"min": 4, "max": 7, "count": 1}, ...]}}
 *       (also keyed; the first bucket may lack "min", the last "max")
 *   {"type": "stats", "data": {"@m": 3}} (avg) or {"count":, "average":, "total":}
 *   {"type": "lost_events", "data": {"events": N}}
 *   {"type": "helper_error", "msg": "...", ...}
 *
 * A key is bpftrace's text of the key tuple, its parts joined by ','.
 * bpftrace escapes each byte >= 0x80 of a string as "\uffffffXX" (a char
 * sign-extended); those bytes are restored before json-c reads the line.
 */
#ifndef PYPROBE_D_EVENTS_H
#define PYPROBE_D_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "d_data.h"

enum pyprobe__d_event_kind {
    PYPROBE__D_EVENT_ATTACHED,  /* bpftrace is attaching `count` probes */
    PYPROBE__D_EVENT_PRINTF,    /* text: what one printf printed */
    PYPROBE__D_EVENT_MAP,       /* map: a map's entries (map, hist or stats) */
    PYPROBE__D_EVENT_LOST,      /* count: events bpftrace lost */
    PYPROBE__D_EVENT_ERROR,     /* text: a BPF helper failed (bpftrace's message) */
    PYPROBE__D_EVENT_OTHER      /* text: time(), cat(), join(), print(value)... */
};

enum pyprobe__d_value_kind {
    PYPROBE__D_VALUE_INT,       /* value */
    PYPROBE__D_VALUE_STRING,    /* string */
    PYPROBE__D_VALUE_HIST,      /* buckets */
    PYPROBE__D_VALUE_STATS      /* count, value (the average), total */
};

struct pyprobe__d_map_entry {
    const char *key;            /* NULL: the map has no key */
    size_t key_length;
    enum pyprobe__d_value_kind kind;
    int64_t value;
    uint64_t count;
    int64_t total;
    const char *string;
    struct pyprobe__d_bucket *buckets; /* min INT64_MIN / max INT64_MAX where open */
    size_t bucket_count;
};

struct pyprobe__d_event {
    enum pyprobe__d_event_kind kind;
    const char *text;           /* PRINTF, ERROR, OTHER; may hold NUL bytes */
    size_t length;
    uint64_t count;             /* ATTACHED, LOST */
    const char *map;            /* MAP: the name, with its '@' */
    struct pyprobe__d_map_entry *entries;
    size_t entry_count;
    /* owned */
    void *json;
    char *line;
};

/* Reads one line (without its newline): 0; -ENODATA for a line that is
 * no event (bpftrace prints blank lines before its exit dump); -EBADMSG
 * for anything else that is not one of the events above; -ENOMEM. */
int pyprobe__d_event_parse(const char *line, size_t length, struct pyprobe__d_event *out);
void pyprobe__d_event_free(struct pyprobe__d_event *event);

#endif /* PYPROBE_D_EVENTS_H */
