/* util.c - allocation, the arena, errors and the stack guard (see util.h). */
#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void *check_allocated(void *p)
{
    if (!p)
        fail("out of memory");
    return p;
}

void *xmalloc(size_t size)
{
    return check_allocated(malloc(size ? size : 1));
}

void *xcalloc(size_t count, size_t size)
{
    return check_allocated(calloc(count ? count : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t size)
{
    return check_allocated(realloc(p, size ? size : 1));
}

char *xstrdup(const char *s)
{
    return check_allocated(strdup(s));
}

void vfail_at(const char *file, int line, const char *fmt, va_list args)
{
    fflush(stdout);  /* the program's output so far comes before the error */
    fprintf(stderr, "%s:%d: ", file, line);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    exit(1);
}

void fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vfail_at(file, line, fmt, args);
}

void fail(const char *fmt, ...)
{
    va_list args;

    fflush(stdout);
    fputs("pint: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

/* ---- the arena ---- */

enum { ARENA_CHUNK_SIZE = 16 * 1024 };

struct ArenaChunk {
    ArenaChunk *next;
    size_t used, size;
    max_align_t data[];  /* max_align_t: any node type may be placed here */
};

void *arena_alloc(Arena *arena, size_t size)
{
    ArenaChunk *chunk = arena->chunks;
    size_t align = sizeof(max_align_t);

    size = (size + align - 1) / align * align;
    if (!chunk || chunk->size - chunk->used < size) {
        size_t data_size = size > ARENA_CHUNK_SIZE ? size : ARENA_CHUNK_SIZE;
        chunk = xmalloc(sizeof *chunk + data_size);
        chunk->used = 0;
        chunk->size = data_size;
        chunk->next = arena->chunks;
        arena->chunks = chunk;
    }
    void *p = (char *)chunk->data + chunk->used;
    chunk->used += size;
    return memset(p, 0, size);
}

char *arena_strndup(Arena *arena, const char *s, size_t length)
{
    char *copy = arena_alloc(arena, length + 1);
    memcpy(copy, s, length);
    return copy;  /* already NUL-terminated: arena memory is zeroed */
}

void arena_free(Arena *arena)
{
    while (arena->chunks) {
        ArenaChunk *next = arena->chunks->next;
        free(arena->chunks);
        arena->chunks = next;
    }
}

/* ---- names for the probes ---- */

static struct {
    struct {
        const char *literal;
        char *copy;
    } *items;
    int count, capacity;
} heap_names;

const char *heap_name(const char *literal)
{
    for (int i = 0; i < heap_names.count; i++) {
        if (heap_names.items[i].literal == literal)
            return heap_names.items[i].copy;
    }
    GROW_FOR_ONE_MORE(heap_names.items, heap_names.count, heap_names.capacity);
    heap_names.items[heap_names.count].literal = literal;
    heap_names.items[heap_names.count].copy = xstrdup(literal);
    return heap_names.items[heap_names.count++].copy;
}

void heap_names_free(void)
{
    for (int i = 0; i < heap_names.count; i++)
        free(heap_names.items[i].copy);
    free(heap_names.items);
}

/* ---- the stack guard ---- */

static uintptr_t stack_base;
static size_t stack_budget;

void stack_guard_init(void)
{
    /* Use the stack's size limit, less a margin for the error path and for
     * whatever ran before main; assume 8 MiB when it is unlimited. */
    size_t limit = 8u << 20;
    struct rlimit rl;

    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < limit)
        limit = rl.rlim_cur;
    stack_budget = limit - limit / 4;
    /* The frame address, not a local's address: sanitizers may move locals
     * to a heap-allocated "fake stack". */
    stack_base = (uintptr_t)__builtin_frame_address(0);
}

bool stack_exhausted(void)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);

    return stack_base - here > stack_budget;  /* the stack grows down */
}
