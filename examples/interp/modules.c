/*
 * modules.c - finding, reading and running source files (see modules.h),
 * with the import__find__load probes and the "import" and "open" audit
 * events. The audit events' args pointer is the NUL-terminated module name
 * or file path itself (CPython passes a tuple; a C string is what any
 * tracer can read).
 */
#include "modules.h"

#include <errno.h>
#include <pyprobe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval.h"
#include "gc.h"

/* Every module loaded so far: roots for the collector, so modules live for
 * the whole run (their syntax trees hold every name the interpreter uses). */
static struct {
    ObjModule **items;
    int count, capacity;
} loaded;

static ObjModule *find_loaded(const char *name)
{
    for (int i = 0; i < loaded.count; i++) {
        if (strcmp(loaded.items[i]->name, name) == 0)
            return loaded.items[i];
    }
    return NULL;
}

void modules_mark_roots(void)
{
    for (int i = 0; i < loaded.count; i++)
        gc_mark_value(OBJ_VALUE(loaded.items[i]));
}

void modules_free(void)
{
    free(loaded.items);
    loaded.items = NULL;
    loaded.count = loaded.capacity = 0;
}

/* ---- reading and running ---- */

static char *read_source(char *path)
{
    char *text = NULL;
    size_t length = 0, capacity = 0, got;
    FILE *file;

    if (PYPROBE_AUDIT_ENABLED())
        PYPROBE_AUDIT(heap_name("open"), path);
    if (!(file = fopen(path, "r")))
        fail("cannot open '%s': %s", path, strerror(errno));
    do {
        if (capacity - length < 4096)
            text = xrealloc(text, capacity = 2 * capacity + 4096);
        got = fread(text + length, 1, capacity - length - 1, file);
        length += got;
    } while (got > 0);
    if (ferror(file))
        fail("cannot read '%s': %s", path, strerror(errno));
    fclose(file);
    text[length] = '\0';
    if (memchr(text, '\0', length))
        fail("cannot read '%s': it holds a NUL byte", path);
    return text;
}

/* Makes the module (which takes the malloc'd path), then reads, parses and
 * runs its file. */
static ObjModule *load(const char *name, char *path)
{
    ObjModule *module = new_module(name, path);

    /* Registered before it runs: from now on it is a root, and the modules
     * it imports in turn get it back if they import it (import cycles). */
    GROW_FOR_ONE_MORE(loaded.items, loaded.count, loaded.capacity);
    loaded.items[loaded.count++] = module;
    char *source = read_source(module->path);
    const Node *statements = parse_module(&module->ast, module->path, source);
    free(source);
    eval_module(module, statements);
    return module;
}

void modules_run_main(const char *path)
{
    load("__main__", xstrdup(path));
}

/* ---- finding ---- */

/* dir/name.pint, or name.pint when dir is empty (the current directory). */
static char *module_path(const char *dir, size_t dir_length, const char *name)
{
    size_t size = dir_length + 1 + strlen(name) + sizeof ".pint";
    char *path = xmalloc(size);
    const char *separator = dir_length == 0 || dir[dir_length - 1] == '/' ? "" : "/";

    snprintf(path, size, "%.*s%s%s.pint", (int)dir_length, dir, separator, name);
    return path;
}

static char *existing_module_path(const char *dir, size_t dir_length, const char *name)
{
    char *path = module_path(dir, dir_length, name);
    struct stat st;

    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return path;
    free(path);
    return NULL;
}

/* The importing file's directory first, then each directory of PINT_PATH. */
static char *find_module_file(const char *name, const char *importer_path)
{
    const char *slash = strrchr(importer_path, '/');
    const char *search = getenv("PINT_PATH");
    char *path = existing_module_path(importer_path, slash ? (size_t)(slash - importer_path + 1) : 0, name);

    while (!path && search && *search) {
        size_t length = strcspn(search, ":");
        if (length > 0)
            path = existing_module_path(search, length, name);
        search += length + (search[length] == ':');
    }
    return path;
}

/* ---- importing ---- */

ObjModule *try_import_module(const char *name, ObjModule *importer)
{
    ObjModule *module = find_loaded(name);
    char *path;

    if (module)
        return module;  /* imported before: nothing to find or load, no probes */
    PYPROBE_IMPORT_FIND_LOAD_START(name);
    if (PYPROBE_AUDIT_ENABLED())
        PYPROBE_AUDIT(heap_name("import"), (void *)name);
    if ((path = find_module_file(name, importer->path)))
        module = load(name, path);
    PYPROBE_IMPORT_FIND_LOAD_DONE(name, module != NULL);
    return module;
}

ObjModule *import_module(const char *name, ObjModule *importer, int line)
{
    ObjModule *module = try_import_module(name, importer);

    if (!module)
        fail_at(importer->path, line, "no module named '%s'", name);
    return module;
}
