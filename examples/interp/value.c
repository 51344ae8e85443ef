/* value.c - tables, object constructors, and what values look like. */
#include "value.h"

#include <stdlib.h>
#include <string.h>

#include "gc.h"

/* ---- tables ---- */

static Entry *find_entry(const Table *table, const char *key)
{
    for (int i = 0; i < table->count; i++) {
        if (strcmp(table->entries[i].key, key) == 0)
            return &table->entries[i];
    }
    return NULL;
}

bool table_get(const Table *table, const char *key, Value *value)
{
    const Entry *entry = find_entry(table, key);

    if (entry)
        *value = entry->value;
    return entry != NULL;
}

void table_set(Table *table, const char *key, Value value)
{
    Entry *entry = find_entry(table, key);

    if (!entry) {
        GROW_FOR_ONE_MORE(table->entries, table->count, table->capacity);
        entry = &table->entries[table->count++];
        entry->key = key;
    }
    entry->value = value;
}

void table_free(Table *table)
{
    free(table->entries);
    *table = (Table){0};
}

/* ---- objects ---- */

ObjString *allocate_string(size_t length)
{
    ObjString *string = gc_allocate(OBJ_STRING, sizeof *string + length + 1);

    string->length = length;  /* and chars[length] is already '\0' */
    return string;
}

ObjString *new_string(const char *chars, size_t length)
{
    ObjString *string = allocate_string(length);

    memcpy(string->chars, chars, length);
    return string;
}

/* A collected object of `type`, `size` bytes, whose fields after the Obj
 * header are copied from `fields`, an object of the same type. */
static void *new_object(ObjType type, size_t size, const void *fields)
{
    char *object = gc_allocate(type, size);

    memcpy(object + sizeof(Obj), (const char *)fields + sizeof(Obj), size - sizeof(Obj));
    return object;
}

ObjFunction *new_function(const Node *def, ObjModule *module, ObjClass *klass)
{
    return new_object(OBJ_FUNCTION, sizeof(ObjFunction),
                      &(ObjFunction){.def = def, .module = module, .klass = klass});
}

ObjClass *new_class(const char *name, ObjModule *module)
{
    return new_object(OBJ_CLASS, sizeof(ObjClass), &(ObjClass){.name = name, .module = module});
}

ObjInstance *new_instance(ObjClass *klass)
{
    return new_object(OBJ_INSTANCE, sizeof(ObjInstance), &(ObjInstance){.klass = klass});
}

ObjMethod *new_method(Value self, ObjFunction *function)
{
    return new_object(OBJ_METHOD, sizeof(ObjMethod), &(ObjMethod){.self = self, .function = function});
}

ObjModule *new_module(const char *name, char *path)
{
    ObjModule *module = gc_allocate(OBJ_MODULE, sizeof *module);

    module->path = path;
    /* The name outlives the import statement that asked for it. */
    module->name = arena_strndup(&module->ast, name, strlen(name));
    return module;
}

const char *function_qualname(ObjFunction *function)
{
    if (!function->klass)
        return function->def->name;
    if (!function->qualname) {
        size_t size = strlen(function->klass->name) + 1 + strlen(function->def->name) + 1;
        function->qualname = xmalloc(size);
        snprintf(function->qualname, size, "%s.%s", function->klass->name, function->def->name);
    }
    return function->qualname;
}

/* ---- what values look like ---- */

bool is_truthy(Value v)
{
    switch (v.type) {
    case VAL_NIL:
        return false;
    case VAL_INT:
        return v.as.integer != 0;
    case VAL_BUILTIN:
        return true;
    case VAL_OBJ:
        return !is_obj_type(v, OBJ_STRING) || AS_STRING(v)->length > 0;
    }
    return true;
}

bool values_equal(Value a, Value b)
{
    if (a.type != b.type)
        return false;
    switch (a.type) {
    case VAL_NIL:
        return true;
    case VAL_INT:
        return a.as.integer == b.as.integer;
    case VAL_BUILTIN:
        return a.as.builtin == b.as.builtin;
    case VAL_OBJ:
        if (is_obj_type(a, OBJ_STRING) && is_obj_type(b, OBJ_STRING))
            return AS_STRING(a)->length == AS_STRING(b)->length &&
                   memcmp(AS_STRING(a)->chars, AS_STRING(b)->chars, AS_STRING(a)->length) == 0;
        return a.as.obj == b.as.obj;  /* everything else: identity */
    }
    return false;
}

const char *type_name(Value v)
{
    static const char *const obj_names[] = {
        [OBJ_STRING] = "string", [OBJ_FUNCTION] = "function", [OBJ_CLASS] = "class",
        [OBJ_INSTANCE] = "instance", [OBJ_METHOD] = "method", [OBJ_MODULE] = "module",
    };
    switch (v.type) {
    case VAL_NIL:
        return "nil";
    case VAL_INT:
        return "int";
    case VAL_BUILTIN:
        return "builtin";
    case VAL_OBJ:
        return obj_names[v.as.obj->type];
    }
    return "?";
}

void print_value(FILE *out, Value v)
{
    switch (v.type) {
    case VAL_NIL:
        fputs("nil", out);
        return;
    case VAL_INT:
        fprintf(out, "%lld", v.as.integer);
        return;
    case VAL_BUILTIN:
        fprintf(out, "<builtin %s>", v.as.builtin->name);
        return;
    case VAL_OBJ:
        break;
    }
    switch (v.as.obj->type) {
    case OBJ_STRING:
        fwrite(AS_STRING(v)->chars, 1, AS_STRING(v)->length, out);
        break;
    case OBJ_FUNCTION:
        fprintf(out, "<function %s>", function_qualname(AS_FUNCTION(v)));
        break;
    case OBJ_CLASS:
        fprintf(out, "<class %s>", AS_CLASS(v)->name);
        break;
    case OBJ_INSTANCE:
        fprintf(out, "<%s instance>", AS_INSTANCE(v)->klass->name);
        break;
    case OBJ_METHOD:
        fprintf(out, "<method %s>", function_qualname(AS_METHOD(v)->function));
        break;
    case OBJ_MODULE:
        fprintf(out, "<module %s>", AS_MODULE(v)->name);
        break;
    }
}
