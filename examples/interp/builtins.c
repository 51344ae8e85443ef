/*
 * builtins.c - the functions every program can call:
 *
 *   print(a, b, ...)   prints its arguments separated by spaces, and a newline
 *   str(x)             x as print shows it, as a string
 *   len(s)             the length of a string
 *   gc()               runs a full collection; returns the number of objects freed
 *   gc_collected()     the objects freed so far by every collection,
 *                      automatic or not
 *   try_import("name") imports a module like `import name`, but returns nil
 *                      when there is no such module
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "gc.h"
#include "modules.h"

static ObjString *string_argument(const char *function, Value value, int line)
{
    if (!is_obj_type(value, OBJ_STRING))
        runtime_error(line, "%s() needs a string, got %s", function, type_name(value));
    return AS_STRING(value);
}

static Value builtin_print(int argc, const Value *args, int line)
{
    (void)line;
    for (int i = 0; i < argc; i++) {
        if (i > 0)
            putchar(' ');
        print_value(stdout, args[i]);
    }
    putchar('\n');
    return NIL_VALUE;
}

static Value builtin_str(int argc, const Value *args, int line)
{
    char *text = NULL;
    size_t length = 0;
    FILE *out;

    (void)argc;
    if (is_obj_type(args[0], OBJ_STRING))
        return args[0];
    if (!(out = open_memstream(&text, &length)))
        runtime_error(line, "str(): out of memory");
    print_value(out, args[0]);
    fclose(out);
    Value result = OBJ_VALUE(new_string(text, length));
    free(text);
    return result;
}

static Value builtin_len(int argc, const Value *args, int line)
{
    (void)argc;
    return INT_VALUE((long long)string_argument("len", args[0], line)->length);
}

static Value builtin_gc(int argc, const Value *args, int line)
{
    (void)argc, (void)args, (void)line;
    return INT_VALUE(gc_collect(GC_FULL));
}

static Value builtin_gc_collected(int argc, const Value *args, int line)
{
    (void)argc, (void)args, (void)line;
    return INT_VALUE(gc_total_collected());
}

static bool is_identifier(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return false;
    while (isalnum((unsigned char)*s) || *s == '_')
        s++;
    return *s == '\0';
}

static Value builtin_try_import(int argc, const Value *args, int line)
{
    /* Read the argument now: importing runs pint code, after which args may
     * no longer be valid (the string itself stays on the root stack). */
    ObjString *name = string_argument("try_import", args[0], line);

    (void)argc;
    if (!is_identifier(name->chars))
        runtime_error(line, "try_import(): '%s' is not a module name", name->chars);
    ObjModule *module = try_import_module(name->chars, current_module());
    return module ? OBJ_VALUE(module) : NIL_VALUE;
}

static const Builtin builtins[] = {
    {"print", 0, -1, builtin_print},
    {"str", 1, 1, builtin_str},
    {"len", 1, 1, builtin_len},
    {"gc", 0, 0, builtin_gc},
    {"gc_collected", 0, 0, builtin_gc_collected},
    {"try_import", 1, 1, builtin_try_import},
};

const Builtin *find_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    }
    return NULL;
}
