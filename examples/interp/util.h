/*
 * util.h - what every part of pint leans on: allocation that cannot fail,
 * the arena the syntax trees live in, error reporting, and the stack guard.
 *
 * Errors in pint are fatal: the message goes to stderr as `file:line: what
 * went wrong` and the process exits with status 1. There is no exception
 * handling to unwind to, which keeps the evaluator free of error plumbing.
 * Everything the interpreter allocates stays reachable from its global
 * state, so a leak checker finds nothing lost on such an exit either.
 */
#ifndef PINT_UTIL_H
#define PINT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define PINT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);

/* Grows a dynamic array (pointer `items`, `count` used, `capacity`) so that
 * one more item fits. */
#define GROW_FOR_ONE_MORE(items, count, capacity)                               \
    do {                                                                        \
        if ((count) == (capacity)) {                                            \
            (capacity) = (capacity) ? 2 * (capacity) : 8;                       \
            (items) = xrealloc((items), (size_t)(capacity) * sizeof *(items));  \
        }                                                                       \
    } while (0)

/* `file:line: message`, then exit(1). */
_Noreturn void fail_at(const char *file, int line, const char *fmt, ...) PINT_PRINTF(3, 4);
_Noreturn void vfail_at(const char *file, int line, const char *fmt, va_list args) PINT_PRINTF(3, 0);
/* `pint: message`, then exit(1): for errors that belong to no source line. */
_Noreturn void fail(const char *fmt, ...) PINT_PRINTF(1, 2);

/*
 * The syntax trees of a module, and the names in them, are allocated from
 * an arena: they live exactly as long as the module (for the whole run), so
 * one free at exit releases them all.
 */
typedef struct ArenaChunk ArenaChunk;
typedef struct {
    ArenaChunk *chunks;
} Arena;

void *arena_alloc(Arena *arena, size_t size);  /* zeroed */
char *arena_strndup(Arena *arena, const char *s, size_t length);
void arena_free(Arena *arena);

/*
 * Tracers read a probe's string arguments without faulting pages in: a
 * string literal on a page the program has not touched yet reads as "".
 * So the names the probes pass that are not in the heap already ("<module>",
 * the audit events' names) go through heap_name(), which returns a heap copy
 * of the literal, made on first use and kept for the run.
 */
const char *heap_name(const char *literal);
void heap_names_free(void);

/*
 * The parser and the evaluator recurse on the C stack. A program nested or
 * recursing deeply enough would overflow it; they call stack_exhausted() at
 * each level and report an error instead. main() calls stack_guard_init()
 * first, to mark where the stack starts.
 */
void stack_guard_init(void);
bool stack_exhausted(void);

#endif
