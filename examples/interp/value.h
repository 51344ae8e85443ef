/*
 * value.h - pint's values and heap objects.
 *
 * A Value is nil, an integer, a builtin function, or a pointer to a heap
 * object. Heap objects (strings, functions, classes, instances, bound
 * methods, modules) start with an Obj header, which the garbage collector
 * (gc.c) uses to find, mark and free them.
 */
#ifndef PINT_VALUE_H
#define PINT_VALUE_H

#include <stdbool.h>
#include <stdio.h>

#include "parser.h"

typedef enum { VAL_NIL, VAL_INT, VAL_BUILTIN, VAL_OBJ } ValueType;
typedef enum { OBJ_STRING, OBJ_FUNCTION, OBJ_CLASS, OBJ_INSTANCE, OBJ_METHOD, OBJ_MODULE } ObjType;

typedef struct Obj Obj;
typedef struct Builtin Builtin;

typedef struct {
    ValueType type;
    union {
        long long integer;
        const Builtin *builtin;
        Obj *obj;
    } as;
} Value;

/* The collector's bookkeeping (see gc.c). */
struct Obj {
    ObjType type;
    bool marked;      /* reached during the current collection */
    bool old;         /* survived a collection: in the old generation */
    bool remembered;  /* old, and may point at young objects: in the remembered set */
    Obj *next;        /* the next object of the same generation */
};

/*
 * A table maps names to values: variables, fields, methods. The keys are
 * names from the syntax trees (or builtin names), which live for the whole
 * run, so a table never copies or frees them. Lookup is linear: the tables
 * of a small language hold a handful of names.
 */
typedef struct {
    const char *key;
    Value value;
} Entry;

typedef struct {
    Entry *entries;
    int count, capacity;
} Table;

bool table_get(const Table *table, const char *key, Value *value);
void table_set(Table *table, const char *key, Value value);
void table_free(Table *table);

typedef struct {
    Obj obj;
    size_t length;
    char chars[];  /* NUL-terminated */
} ObjString;

typedef struct ObjModule ObjModule;
typedef struct ObjClass ObjClass;

typedef struct {
    Obj obj;
    const Node *def;   /* the FUNC node: name, parameters, body, line */
    ObjModule *module; /* where it was defined: its globals and its file */
    ObjClass *klass;   /* the class of a method, or NULL */
    char *qualname;    /* "Class.method", made when first asked for */
} ObjFunction;

struct ObjClass {
    Obj obj;
    const char *name;
    ObjModule *module;  /* the module that defines it (the probes report its file) */
    Table methods;
};

typedef struct {
    Obj obj;
    ObjClass *klass;
    Table fields;
} ObjInstance;

typedef struct {
    Obj obj;
    Value self;
    ObjFunction *function;
} ObjMethod;

struct ObjModule {
    Obj obj;
    const char *name;
    char *path;      /* the source file, as found: what errors and probes show */
    Table globals;
    Table constants; /* one string object per distinct string literal (eval.c) */
    Arena ast;       /* the module's syntax tree and names */
};

struct Builtin {
    const char *name;
    int min_args, max_args;  /* max_args -1: any number */
    /* args points into the collector's root stack, so the arguments stay
     * alive during the call; it stays valid until the builtin runs pint code. */
    Value (*function)(int argc, const Value *args, int line);
};

#define NIL_VALUE ((Value){VAL_NIL, {.integer = 0}})
#define INT_VALUE(i) ((Value){VAL_INT, {.integer = (i)}})
#define OBJ_VALUE(o) ((Value){VAL_OBJ, {.obj = (Obj *)(o)}})
#define BUILTIN_VALUE(b) ((Value){VAL_BUILTIN, {.builtin = (b)}})

static inline bool is_obj_type(Value v, ObjType type)
{
    return v.type == VAL_OBJ && v.as.obj->type == type;
}

#define AS_STRING(v) ((ObjString *)(v).as.obj)
#define AS_FUNCTION(v) ((ObjFunction *)(v).as.obj)
#define AS_CLASS(v) ((ObjClass *)(v).as.obj)
#define AS_INSTANCE(v) ((ObjInstance *)(v).as.obj)
#define AS_METHOD(v) ((ObjMethod *)(v).as.obj)
#define AS_MODULE(v) ((ObjModule *)(v).as.obj)

/* Constructors: each allocates through the collector (never collects). */
ObjString *new_string(const char *chars, size_t length);
ObjString *allocate_string(size_t length);  /* zero-filled, for the caller to fill */
ObjFunction *new_function(const Node *def, ObjModule *module, ObjClass *klass);
ObjClass *new_class(const char *name, ObjModule *module);
ObjInstance *new_instance(ObjClass *klass);
ObjMethod *new_method(Value self, ObjFunction *function);
ObjModule *new_module(const char *name, char *path);  /* takes the malloc'd path */

/* "name" for functions, "Class.name" for methods: what the probes report. */
const char *function_qualname(ObjFunction *function);

bool is_truthy(Value v);
bool values_equal(Value a, Value b);
const char *type_name(Value v);       /* "nil", "int", "string", "instance", ... */
void print_value(FILE *out, Value v); /* what print() shows */

#endif
