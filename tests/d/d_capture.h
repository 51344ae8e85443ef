/*
 * d_capture.h - a renderer (src/d/d_render.h) whose DTrace output the
 * unit tests read back from memory.
 *
 *     static struct capture cap;
 *
 *     capture_start(&cap, &plan);
 *     ...pyprobe__d_render_*(cap.render, ...)...
 *     ck_assert_str_eq(capture_text(&cap), "...");
 *     capture_stop(&cap);
 */
#ifndef PYPROBE_D_CAPTURE_H
#define PYPROBE_D_CAPTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "d_render.h"

struct capture {
    FILE *out;
    char *text;
    size_t length;
    struct pyprobe__d_render *render;
};

static inline void capture_start(struct capture *c, const struct pyprobe__d_plan *plan)
{
    c->out = open_memstream(&c->text, &c->length);
    ck_assert_ptr_nonnull(c->out);
    ck_assert_int_eq(pyprobe__d_render_new(c->out, plan, &c->render), 0);
}

/* What was printed so far. */
static inline const char *capture_text(struct capture *c)
{
    fflush(c->out);
    return c->text;
}

static inline void capture_stop(struct capture *c)
{
    pyprobe__d_render_free(c->render);
    fclose(c->out);
    free(c->text);
    *c = (struct capture){0};
}

#endif /* PYPROBE_D_CAPTURE_H */
