/* gc.c - the garbage collector (see gc.h), and the gc and instance__delete probes. */
#include "gc.h"

#include <pyprobe.h>
#include <stdlib.h>

#include "eval.h"
#include "modules.h"

/* A growable array of object pointers: the gray stack and the remembered set. */
typedef struct {
    Obj **items;
    int count, capacity;
} ObjStack;

static struct {
    Obj *young, *old;       /* the two generations, as lists through Obj.next */
    long allocated;         /* objects allocated since the last collection */
    long threshold;         /* collect when `allocated` reaches it (0: the default) */
    int automatic;          /* automatic collections since the last full one */
    long total_collected;
    bool full;              /* the collection under way traces old objects too */
    ObjStack gray;          /* marked, but their references not yet traced */
    ObjStack remembered;    /* old objects that may point at young ones */
    Value *roots;
    int root_count, root_capacity;
} gc;

static void push_obj(ObjStack *stack, Obj *obj)
{
    GROW_FOR_ONE_MORE(stack->items, stack->count, stack->capacity);
    stack->items[stack->count++] = obj;
}

void *gc_allocate(ObjType type, size_t size)
{
    Obj *obj = xcalloc(1, size);

    obj->type = type;
    obj->next = gc.young;
    gc.young = obj;
    gc.allocated++;
    return obj;
}

/* ---- the root stack ---- */

int gc_push_root(Value value)
{
    GROW_FOR_ONE_MORE(gc.roots, gc.root_count, gc.root_capacity);
    gc.roots[gc.root_count] = value;
    return gc.root_count++;
}

Value gc_root(int index)
{
    return gc.roots[index];
}

const Value *gc_roots_from(int index)
{
    return gc.roots + index;
}

void gc_pop_roots_to(int index)
{
    gc.root_count = index;
}

/* ---- the write barrier ---- */

void gc_table_set(Obj *owner, Table *table, const char *key, Value value)
{
    table_set(table, key, value);
    /* A young collection does not trace old objects: it must learn about
     * this one, or it would free the young object stored in it. */
    if (owner->old && !owner->remembered && value.type == VAL_OBJ && !value.as.obj->old) {
        owner->remembered = true;
        push_obj(&gc.remembered, owner);
    }
}

/* ---- marking ---- */

static void mark_object(Obj *obj)
{
    if (!obj || obj->marked)
        return;
    if (obj->old && !gc.full)
        return;  /* a young collection takes old objects as alive */
    obj->marked = true;
    push_obj(&gc.gray, obj);  /* traced later: no deep C recursion on long chains */
}

void gc_mark_value(Value value)
{
    if (value.type == VAL_OBJ)
        mark_object(value.as.obj);
}

static void mark_table(const Table *table)
{
    for (int i = 0; i < table->count; i++)
        gc_mark_value(table->entries[i].value);
}

/* Marks what an object points at. */
static void mark_references(Obj *obj)
{
    switch (obj->type) {
    case OBJ_STRING:
        break;
    case OBJ_FUNCTION:
        mark_object(&((ObjFunction *)obj)->module->obj);
        mark_object((Obj *)((ObjFunction *)obj)->klass);
        break;
    case OBJ_CLASS:
        mark_object(&((ObjClass *)obj)->module->obj);
        mark_table(&((ObjClass *)obj)->methods);
        break;
    case OBJ_INSTANCE:
        mark_object(&((ObjInstance *)obj)->klass->obj);
        mark_table(&((ObjInstance *)obj)->fields);
        break;
    case OBJ_METHOD:
        gc_mark_value(((ObjMethod *)obj)->self);
        mark_object(&((ObjMethod *)obj)->function->obj);
        break;
    case OBJ_MODULE:
        mark_table(&((ObjModule *)obj)->globals);
        mark_table(&((ObjModule *)obj)->constants);
        break;
    }
}

static void mark_from_roots(void)
{
    for (int i = 0; i < gc.root_count; i++)
        gc_mark_value(gc.roots[i]);
    eval_mark_roots();
    modules_mark_roots();
    if (!gc.full) {
        for (int i = 0; i < gc.remembered.count; i++)
            mark_references(gc.remembered.items[i]);
    }
    while (gc.gray.count > 0)
        mark_references(gc.gray.items[--gc.gray.count]);
}

/* ---- sweeping and freeing ---- */

/* Moves the marked objects of `list` to the old generation, unmarked, and
 * the others to `dead`. */
static void sweep(Obj *list, Obj **dead)
{
    while (list) {
        Obj *obj = list;
        list = obj->next;
        Obj **to = obj->marked ? &gc.old : dead;
        obj->marked = false;
        obj->old = true;
        obj->next = *to;
        *to = obj;
    }
}

static void free_object(Obj *obj)
{
    switch (obj->type) {
    case OBJ_STRING:
    case OBJ_METHOD:
        break;
    case OBJ_FUNCTION:
        free(((ObjFunction *)obj)->qualname);
        break;
    case OBJ_CLASS:
        table_free(&((ObjClass *)obj)->methods);
        break;
    case OBJ_INSTANCE:
        table_free(&((ObjInstance *)obj)->fields);
        break;
    case OBJ_MODULE:
        free(((ObjModule *)obj)->path);
        table_free(&((ObjModule *)obj)->globals);
        table_free(&((ObjModule *)obj)->constants);
        arena_free(&((ObjModule *)obj)->ast);
        break;
    }
    free(obj);
}

static void free_instance(ObjInstance *instance)
{
    /* The class is still alive here (see free_dead), and its module lives
     * for the whole run: both names are safe to hand to the probes. */
    ObjClass *klass = instance->klass;

    PYPROBE_INSTANCE_DELETE_START(klass->name, klass->module->path);
    free_object(&instance->obj);
    PYPROBE_INSTANCE_DELETE_DONE(klass->name, klass->module->path);
}

/* Frees the dead objects and returns how many there were. Instances go
 * first: an instance's class may die in the same collection, and the
 * instance__delete probes need the class's name. */
static long free_dead(Obj *dead)
{
    Obj *others = NULL;
    long count = 0;

    while (dead) {
        Obj *obj = dead;
        dead = obj->next;
        count++;
        if (obj->type == OBJ_INSTANCE) {
            free_instance((ObjInstance *)obj);
        } else {
            obj->next = others;
            others = obj;
        }
    }
    while (others) {
        Obj *obj = others;
        others = obj->next;
        free_object(obj);
    }
    return count;
}

/* After a collection no young object is left, so no old one points at one. */
static void forget_remembered(void)
{
    for (int i = 0; i < gc.remembered.count; i++)
        gc.remembered.items[i]->remembered = false;
    gc.remembered.count = 0;
}

long gc_collect(int generation)
{
    Obj *dead = NULL, *young = gc.young, *old = gc.old;

    PYPROBE_GC_START(generation);
    gc.full = generation == GC_FULL;
    mark_from_roots();
    gc.young = NULL;
    if (gc.full) {
        gc.old = NULL;
        sweep(old, &dead);
    }
    sweep(young, &dead);
    forget_remembered();  /* before freeing: a remembered object may be dead */
    long collected = free_dead(dead);

    gc.total_collected += collected;
    gc.allocated = 0;
    gc.automatic = gc.full ? 0 : gc.automatic + 1;
    PYPROBE_GC_DONE(collected);
    return collected;
}

void gc_set_threshold(long allocations)
{
    gc.threshold = allocations;
}

void gc_safe_point(void)
{
    if (gc.allocated < (gc.threshold > 0 ? gc.threshold : GC_YOUNG_THRESHOLD))
        return;
    gc_collect(gc.automatic + 1 >= GC_FULL_EVERY ? GC_FULL : GC_YOUNG);
}

long gc_total_collected(void)
{
    return gc.total_collected;
}

static void free_list(Obj *list)
{
    while (list) {
        Obj *next = list->next;
        free_object(list);
        list = next;
    }
}

void gc_free_everything(void)
{
    free_list(gc.young);
    free_list(gc.old);
    free(gc.gray.items);
    free(gc.remembered.items);
    free(gc.roots);
    gc.young = gc.old = NULL;
}
