/*
 * Reads `bpftrace -f json` lines on stdin with the event reader
 * (src/d/d_events.h) and writes what it read, one line per event, for
 * test_d_events.py:
 *
 *   printf HEX                       the text, hex (it may hold any byte)
 *   map NAME                         then one line per entry:
 *   entry KEYHEX|- int N | string HEX | hist MIN:MAX:COUNT,... | stats C A T
 *   attached N | lost N | error HEX | other HEX | blank | refused HEX
 */
#include "d_events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        printf("%02x", (unsigned char)text[i]);
    if (length == 0)
        putchar('-');
}

static void entry(const struct pyprobe__d_map_entry *e)
{
    fputs("entry ", stdout);
    if (e->key)
        hex(e->key, e->key_length);
    else
        putchar('-');
    switch (e->kind) {
    case PYPROBE__D_VALUE_INT:
        printf(" int %" PRId64, e->value);
        break;
    case PYPROBE__D_VALUE_STRING:
        fputs(" string ", stdout);
        hex(e->string, strlen(e->string));
        break;
    case PYPROBE__D_VALUE_HIST:
        fputs(" hist ", stdout);
        for (size_t i = 0; i < e->bucket_count; i++)
            printf("%s%" PRId64 ":%" PRId64 ":%" PRIu64, i ? "," : "", e->buckets[i].min, e->buckets[i].max,
                   e->buckets[i].count);
        break;
    case PYPROBE__D_VALUE_STATS:
        printf(" stats %" PRIu64 " %" PRId64 " %" PRId64, e->count, e->value, e->total);
        break;
    }
    putchar('\n');
}

int main(void)
{
    char *line = NULL;
    size_t capacity = 0;
    ssize_t n;

    while ((n = getline(&line, &capacity, stdin)) > 0) {
        struct pyprobe__d_event event;
        int rc;

        if (line[n - 1] == '\n')
            line[--n] = '\0';
        rc = pyprobe__d_event_parse(line, (size_t)n, &event);
        if (rc == -ENODATA) {
            puts("blank");
            continue;
        }
        if (rc != 0) {
            fputs("refused ", stdout);
            hex(line, (size_t)n);
            putchar('\n');
            continue;
        }
        switch (event.kind) {
        case PYPROBE__D_EVENT_PRINTF:
        case PYPROBE__D_EVENT_ERROR:
        case PYPROBE__D_EVENT_OTHER:
            fputs(event.kind == PYPROBE__D_EVENT_PRINTF ? "printf " : event.kind == PYPROBE__D_EVENT_ERROR ? "error "
                                                                                                         : "other ",
                  stdout);
            hex(event.text, event.length);
            putchar('\n');
            break;
        case PYPROBE__D_EVENT_MAP:
            printf("map %s\n", event.map);
            for (size_t i = 0; i < event.entry_count; i++)
                entry(&event.entries[i]);
            break;
        case PYPROBE__D_EVENT_ATTACHED:
        case PYPROBE__D_EVENT_LOST:
            printf("%s %" PRIu64 "\n", event.kind == PYPROBE__D_EVENT_ATTACHED ? "attached" : "lost", event.count);
            break;
        }
        pyprobe__d_event_free(&event);
    }
    free(line);
    return ferror(stdout) ? 1 : 0;
}
