/*
 * d_ast.c - the front end's memory (an arena per program and per plan)
 * and its way out on errors (longjmp to the public entry point).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d_ast.h"

/* A chunk holds many small allocations; a big one gets a chunk of its own. */
#define CHUNK_SIZE 16384

struct pyprobe__d_chunk {
    struct pyprobe__d_chunk *next;
    size_t used, size;
    max_align_t data[];
};

_Noreturn void pyprobe__d_fail_nomem(struct pyprobe__d_ctx *ctx)
{
    snprintf(ctx->error->message, sizeof ctx->error->message, "out of memory");
    longjmp(ctx->jump, -ENOMEM);
}

static struct pyprobe__d_chunk *new_chunk(struct pyprobe__d_ctx *ctx, size_t size)
{
    size_t data_size = size > CHUNK_SIZE ? size : CHUNK_SIZE;
    struct pyprobe__d_chunk *chunk;

    if (size > SIZE_MAX / 2)
        pyprobe__d_fail_nomem(ctx);
    chunk = malloc(sizeof *chunk + data_size);
    if (!chunk)
        pyprobe__d_fail_nomem(ctx);
    chunk->used = 0;
    chunk->size = data_size;
    chunk->next = ctx->arena->chunks;
    ctx->arena->chunks = chunk;
    return chunk;
}

void *pyprobe__d_alloc(struct pyprobe__d_ctx *ctx, size_t size)
{
    const size_t align = sizeof(max_align_t);
    struct pyprobe__d_chunk *chunk = ctx->arena->chunks;
    size_t rounded = (size + align - 1) / align * align;
    void *memory;

    if (rounded < size)
        pyprobe__d_fail_nomem(ctx);
    if (!chunk || chunk->size - chunk->used < rounded)
        chunk = new_chunk(ctx, rounded);
    memory = (char *)chunk->data + chunk->used;
    chunk->used += rounded;
    memset(memory, 0, size);
    return memory;
}

char *pyprobe__d_strndup(struct pyprobe__d_ctx *ctx, const char *text, size_t length)
{
    char *copy = pyprobe__d_alloc(ctx, length + 1);

    memcpy(copy, text, length);
    return copy;
}

char *pyprobe__d_strdup(struct pyprobe__d_ctx *ctx, const char *text)
{
    return pyprobe__d_strndup(ctx, text, strlen(text));
}

char *pyprobe__d_format(struct pyprobe__d_ctx *ctx, const char *format, ...)
{
    va_list args;
    int length;
    char *text;

    va_start(args, format);
    length = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (length < 0)
        pyprobe__d_fail_nomem(ctx);
    text = pyprobe__d_alloc(ctx, (size_t)length + 1);
    va_start(args, format);
    vsnprintf(text, (size_t)length + 1, format, args);
    va_end(args);
    return text;
}

void pyprobe__d_push(struct pyprobe__d_ctx *ctx, struct pyprobe__d_vec *vec, void *item)
{
    if (vec->count == vec->capacity) {
        size_t capacity = vec->capacity ? vec->capacity * 2 : 8;
        void **items = pyprobe__d_alloc(ctx, capacity * sizeof *items);

        if (vec->count)
            memcpy(items, vec->items, vec->count * sizeof *items);
        vec->items = items;
        vec->capacity = capacity;
    }
    vec->items[vec->count++] = item;
}

void pyprobe__d_buf_add(struct pyprobe__d_ctx *ctx, struct pyprobe__d_buf *buf, const char *text, size_t length)
{
    if (length >= buf->capacity - buf->length || !buf->text) {
        size_t capacity = buf->capacity ? buf->capacity : 64;
        char *bigger;

        while (capacity - buf->length <= length) {
            if (capacity > SIZE_MAX / 2)
                pyprobe__d_fail_nomem(ctx);
            capacity *= 2;
        }
        bigger = pyprobe__d_alloc(ctx, capacity);
        if (buf->length)
            memcpy(bigger, buf->text, buf->length);
        buf->text = bigger;
        buf->capacity = capacity;
    }
    memcpy(buf->text + buf->length, text, length);
    buf->length += length;
    buf->text[buf->length] = '\0';
}

void pyprobe__d_buf_str(struct pyprobe__d_ctx *ctx, struct pyprobe__d_buf *buf, const char *text)
{
    pyprobe__d_buf_add(ctx, buf, text, strlen(text));
}

void pyprobe__d_buf_printf(struct pyprobe__d_ctx *ctx, struct pyprobe__d_buf *buf, const char *format, ...)
{
    char small[256];
    va_list args;
    int length;

    va_start(args, format);
    length = vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (length < 0)
        pyprobe__d_fail_nomem(ctx);
    if ((size_t)length < sizeof small) {
        pyprobe__d_buf_add(ctx, buf, small, (size_t)length);
        return;
    }
    {
        char *big = pyprobe__d_alloc(ctx, (size_t)length + 1);

        va_start(args, format);
        vsnprintf(big, (size_t)length + 1, format, args);
        va_end(args);
        pyprobe__d_buf_add(ctx, buf, big, (size_t)length);
    }
}

void pyprobe__d_arena_free(struct pyprobe__d_arena *arena)
{
    struct pyprobe__d_chunk *chunk = arena->chunks, *next;

    for (; chunk; chunk = next) {
        next = chunk->next;
        free(chunk);
    }
    arena->chunks = NULL;
}

static _Noreturn void vfail(struct pyprobe__d_ctx *ctx, const char *file, int line, int column, const char *format,
                            va_list args)
{
    struct pyprobe__d_error *error = ctx->error;

    snprintf(error->file, sizeof error->file, "%s", file ? file : "");
    error->line = line;
    error->column = column;
    vsnprintf(error->message, sizeof error->message, format, args);
    longjmp(ctx->jump, -EINVAL);
}

_Noreturn void pyprobe__d_fail(struct pyprobe__d_ctx *ctx, const char *file, int line, int column,
                               const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vfail(ctx, file, line, column, format, args);
}

_Noreturn void pyprobe__d_fail_at(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_node *at, const char *format,
                                  ...)
{
    va_list args;

    va_start(args, format);
    vfail(ctx, at->file, at->line, at->column, format, args);
}

void pyprobe__d_enter(struct pyprobe__d_ctx *ctx, const char *file, int line, int column)
{
    if (++ctx->depth > PYPROBE__D_MAX_DEPTH)
        pyprobe__d_fail(ctx, file, line, column, "nested too deeply (more than %d levels)", PYPROBE__D_MAX_DEPTH);
}

void pyprobe__d_leave(struct pyprobe__d_ctx *ctx)
{
    ctx->depth--;
}
