/*
 * The probe sites: one out-of-line fire function per probe, so that tracers
 * find every probe in this library's module with its arguments in plain
 * registers (STAP_SDT_ARG_CONSTRAINT=r, set by the build). The macros in
 * pyprobe.h call these only while the probe's semaphore is raised.
 *
 * The site macros come from `dtrace -h` on the provider file; their names
 * start with the provider in upper case (PYTHON_FUNCTION_ENTRY), which the
 * build passes in as PYPROBE_SITE_PREFIX.
 */
#include "pyprobe.h"
#include "provider_sites.h"

#if defined(__x86_64__) && defined(PYPROBE_NOP5)
/* A 5-byte nop instead of sys/sdt.h's 1-byte one: the kernel turns a uprobe
 * on it into a call through a trampoline instead of an int3 trap. The call
 * pushes below the stack pointer, so this file is built -mno-red-zone. */
#undef _SDT_NOP
#define _SDT_NOP .nops 5
#endif

#define PYPROBE__PASTE(a, b) a##b
#define PYPROBE__SITE_OF(prefix, probe) PYPROBE__PASTE(prefix, probe)
#define SITE(probe) PYPROBE__SITE_OF(PYPROBE_SITE_PREFIX, probe)

/* Tracers read strings with str()/copyinstr(); NULL would make them fail. */
static inline const char *string_or_empty(const char *s)
{
    return s ? s : "";
}

void pyprobe_fire_function_entry(const char *file, const char *func, int line)
{
    SITE(_FUNCTION_ENTRY)(string_or_empty(file), string_or_empty(func), line);
}

void pyprobe_fire_function_return(const char *file, const char *func, int line)
{
    SITE(_FUNCTION_RETURN)(string_or_empty(file), string_or_empty(func), line);
}

void pyprobe_fire_line(const char *file, const char *func, int line)
{
    SITE(_LINE)(string_or_empty(file), string_or_empty(func), line);
}

void pyprobe_fire_gc_start(int generation)
{
    SITE(_GC_START)(generation);
}

void pyprobe_fire_gc_done(long collected)
{
    SITE(_GC_DONE)(collected);
}

void pyprobe_fire_instance_new_start(const char *cls, const char *file)
{
    SITE(_INSTANCE_NEW_START)(string_or_empty(cls), string_or_empty(file));
}

void pyprobe_fire_instance_new_done(const char *cls, const char *file)
{
    SITE(_INSTANCE_NEW_DONE)(string_or_empty(cls), string_or_empty(file));
}

void pyprobe_fire_instance_delete_start(const char *cls, const char *file)
{
    SITE(_INSTANCE_DELETE_START)(string_or_empty(cls), string_or_empty(file));
}

void pyprobe_fire_instance_delete_done(const char *cls, const char *file)
{
    SITE(_INSTANCE_DELETE_DONE)(string_or_empty(cls), string_or_empty(file));
}

void pyprobe_fire_import_find_load_start(const char *module)
{
    SITE(_IMPORT_FIND_LOAD_START)(string_or_empty(module));
}

void pyprobe_fire_import_find_load_done(const char *module, int found)
{
    SITE(_IMPORT_FIND_LOAD_DONE)(string_or_empty(module), found);
}

void pyprobe_fire_audit(const char *event, void *args)
{
    SITE(_AUDIT)(string_or_empty(event), args);
}
