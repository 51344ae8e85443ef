/*
 * d_consume.h - the events of a translated program's bpftrace run, turned
 * into DTrace's output: each `-f json` line is read (d_events.h); control
 * records become the plan's actions, with the map events that follow them
 * up to the end record; bpftrace's key tuples become D's keys (the
 * plan's columns and pieces, entries whose D keys coincide merged); user
 * output and actions go to the renderer (d_render.h).
 *
 *     struct pyprobe__d_consumer *c;
 *
 *     pyprobe__d_consumer_new(plan, render, &c);
 *     while (...a line of bpftrace's stdout...)
 *         if (pyprobe__d_consume(c, line, length) < 0)
 *             ...pyprobe__d_consumer_message(c)...;
 *     pyprobe__d_consumer_free(c);
 *
 * It never prints: warnings (lost events, BPF helper errors, lines that
 * are no event) go to the notice callback, errors come back as a negative
 * errno with a one-line message.
 */
#ifndef PYPROBE_D_CONSUME_H
#define PYPROBE_D_CONSUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "d_data.h"
#include "d_render.h"

struct pyprobe__d_consumer;

/* d_data.h's end record, after an action's map events. */
#define PYPROBE__D_END_RECORD PYPROBE__D_CLOSE_RECORD
/* The runner's own mark of "every probe attached", which it prints first
 * in BEGIN when the plan has no ATTACHED action (d_run.h). */
#define PYPROBE__D_RUNNER_READY PYPROBE__D_READY_RECORD

/* Told about what goes wrong without stopping the run. */
typedef void pyprobe__d_notice_fn(void *arg, const char *message);

/* 0, -ENOMEM. The plan and the renderer must outlive the consumer. */
int pyprobe__d_consumer_new(const struct pyprobe__d_plan *plan, struct pyprobe__d_render *render,
                            pyprobe__d_notice_fn *notice, void *notice_arg, struct pyprobe__d_consumer **out);
void pyprobe__d_consumer_free(struct pyprobe__d_consumer *consumer);

/* One line of bpftrace's output, without its newline: 0, or a negative
 * errno with pyprobe__d_consumer_message() saying what and where. */
int pyprobe__d_consume(struct pyprobe__d_consumer *consumer, const char *line, size_t length);

/* The stream ended (bpftrace exited): an action still waiting for its
 * end record is carried out, an open record finished. */
int pyprobe__d_consume_end(struct pyprobe__d_consumer *consumer);

const char *pyprobe__d_consumer_message(const struct pyprobe__d_consumer *consumer);
/* The ATTACHED record (or the runner's mark) came: every probe is attached. */
bool pyprobe__d_consumer_ready(const struct pyprobe__d_consumer *consumer);
uint64_t pyprobe__d_consumer_attached(const struct pyprobe__d_consumer *consumer); /* bpftrace's probe count */

/* Exposed for the tests: bpftrace's text of a key tuple ("a,b,1") split
 * into its `count` parts of the given types (a string may hold commas;
 * integers never do): 0, or -EBADMSG when no split fits. */
struct pyprobe__d_span {
    const char *text;
    size_t length;
};
int pyprobe__d_split_key(const char *text, size_t length, const enum pyprobe__d_key_type *types, size_t count,
                         struct pyprobe__d_span *parts);

#endif /* PYPROBE_D_CONSUME_H */
