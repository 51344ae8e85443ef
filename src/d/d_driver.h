/*
 * d_driver.h - the D front end (the translation: d_front.h, built in
 * parallel) as the consumer side calls it. d_session.c is the one place
 * that calls it.
 *
 * Until the front end is in the tree, d_front_pending.h declares the same
 * calls and d_front_pending.c answers them with "no front end in this
 * build"; once d_front.h is here it is used instead, and src/d/
 * d_consumer.cmake no longer builds the pending file (it looks for
 * d_parse.c), so merging the two halves needs no edit here.
 */
#ifndef PYPROBE_D_DRIVER_H
#define PYPROBE_D_DRIVER_H

#if defined(__has_include)
#if __has_include("d_front.h")
#include "d_front.h"
#define PYPROBE_D_HAVE_FRONT 1
#endif
#endif
#ifndef PYPROBE_D_HAVE_FRONT
#include "d_front_pending.h"
#endif

#endif /* PYPROBE_D_DRIVER_H */
