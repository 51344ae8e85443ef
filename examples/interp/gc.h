/*
 * gc.h - pint's garbage collector: tracing mark & sweep, two generations.
 *
 * Every heap object is allocated here and starts young. A young collection
 * traces from the roots but stops at old objects, frees the young objects
 * it did not reach and promotes the rest to the old generation. A full
 * collection traces and sweeps both generations. Cycles are garbage like
 * anything else: whatever the roots do not reach is freed.
 *
 * When: allocation never collects. Allocating counts, and at the next safe
 * point (the start of a statement, gc_safe_point()) the collector runs if
 * GC_YOUNG_THRESHOLD objects were allocated since the last collection; after
 * GC_FULL_EVERY - 1 such young collections, the next one is full. The builtin
 * gc() runs a full collection at once. So C code must keep on the root stack
 * only the values it holds while it evaluates pint code (which may reach a
 * safe point or gc()), never merely while it allocates.
 *
 * Roots: the root stack below, every frame's variables (eval.c) and every
 * loaded module (modules.c). Old objects that are changed to point at young
 * ones are remembered by the write barrier and traced by young collections.
 */
#ifndef PINT_GC_H
#define PINT_GC_H

#include "value.h"

/* The generations, as the gc__start probe reports them. */
enum { GC_YOUNG = 0, GC_FULL = 1 };
enum { GC_YOUNG_THRESHOLD = 700, GC_FULL_EVERY = 10 };

/* Another threshold (main.c takes it from PINT_GC_THRESHOLD): 1 collects at
 * every statement, which finds a value C code forgot to root at once. */
void gc_set_threshold(long allocations);

void *gc_allocate(ObjType type, size_t size);  /* zeroed, young */
void gc_safe_point(void);
long gc_collect(int generation);  /* the number of objects freed */
long gc_total_collected(void);    /* by every collection so far */

/* Stores a value in an object's table (variables, fields, methods) and
 * remembers the object when an old one now points at a young one. */
void gc_table_set(Obj *owner, Table *table, const char *key, Value value);

/* The root stack: values C code holds while pint code runs. push returns
 * the value's index; pop_to(index) drops it and everything above it. */
int gc_push_root(Value value);
Value gc_root(int index);
const Value *gc_roots_from(int index);  /* valid until the next push */
void gc_pop_roots_to(int index);

/* For the root enumerators in eval.c and modules.c. */
void gc_mark_value(Value value);

/* At exit: frees every object, without collecting (no probes fire). */
void gc_free_everything(void);

#endif
