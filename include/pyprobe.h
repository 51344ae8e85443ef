/*
 * pyprobe.h - the python USDT probes, for any interpreter.
 *
 * Each probe has a fire macro and a guard:
 *
 *     PYPROBE_FUNCTION_ENTRY(file, func, line);       guards itself
 *     if (PYPROBE_LINE_ENABLED()) { ...prepare names...; PYPROBE_LINE(f, fn, n); }
 *
 * The guard reads the probe's semaphore, a 16-bit counter the kernel raises
 * while a tracer is attached. Untraced, a probe costs a load, a compare and a
 * branch: no call, and the arguments are not evaluated. Traced, the macro
 * calls the library's out-of-line fire function, which holds the probe site
 * (a nop and a .note.stapsdt entry), so every tracer finds the probes in the
 * library's module, or in the interpreter itself when linked statically.
 *
 * Arguments are checked at compile time: strings must be char pointers and
 * integers must fit the probe's C type without truncation. A NULL string
 * reaches tracers as the empty string "".
 *
 * Define PYPROBE_STATIC when linking libpyprobe.a (the CMake target
 * pyprobe::pyprobe_static and `pkg-config --static` do it): the guard then
 * reads the semaphore directly. Without it the guard reads the semaphore's
 * address from the GOT first, which works for both libraries and keeps the
 * linker from copying the semaphore into the executable (a copy the kernel
 * would never raise). Define PYPROBE_DISABLE to compile every probe out.
 */
#ifndef PYPROBE_H
#define PYPROBE_H

#include <pyprobe_config.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PYPROBE__COLD __attribute__((cold))
#else
#define PYPROBE__COLD
#endif

/* The fire functions: call them through the macros below. */
PYPROBE__COLD void pyprobe_fire_function_entry(const char *file, const char *func, int line);
PYPROBE__COLD void pyprobe_fire_function_return(const char *file, const char *func, int line);
PYPROBE__COLD void pyprobe_fire_line(const char *file, const char *func, int line);
PYPROBE__COLD void pyprobe_fire_gc_start(int generation);
PYPROBE__COLD void pyprobe_fire_gc_done(long collected);
PYPROBE__COLD void pyprobe_fire_instance_new_start(const char *cls, const char *file);
PYPROBE__COLD void pyprobe_fire_instance_new_done(const char *cls, const char *file);
PYPROBE__COLD void pyprobe_fire_instance_delete_start(const char *cls, const char *file);
PYPROBE__COLD void pyprobe_fire_instance_delete_done(const char *cls, const char *file);
PYPROBE__COLD void pyprobe_fire_import_find_load_start(const char *module);
PYPROBE__COLD void pyprobe_fire_import_find_load_done(const char *module, int found);
PYPROBE__COLD void pyprobe_fire_audit(const char *event, void *args);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *pyprobe_version(void);

#ifdef __cplusplus
}
#endif

/* ---- argument checks: a diagnostic instead of a silent conversion ---- */
#ifdef __cplusplus
namespace pyprobe_detail {
/* The checks sit in the return types, so that they fire in unevaluated
 * operands too (the compiled-out macros use sizeof). */
template <typename T, typename To> struct integer_arg {
    static constexpr bool is_signed = static_cast<T>(-1) < static_cast<T>(0);
    static_assert(is_signed ? sizeof(T) <= sizeof(To) : sizeof(T) < sizeof(To),
                  "pyprobe: this probe argument needs an integer type that fits without truncation");
    typedef To type;
};
template <typename T> constexpr typename integer_arg<T, int>::type as_int(T v) { return v; }
template <typename T> constexpr typename integer_arg<T, long>::type as_long(T v) { return v; }
inline const char *as_str(const char *s) { return s; }
} /* namespace pyprobe_detail */
#define PYPROBE__INT(x) (pyprobe_detail::as_int(x))
#define PYPROBE__LONG(x) (pyprobe_detail::as_long(x))
#define PYPROBE__STR(x) (pyprobe_detail::as_str(x))
#else
/* No default association: any other type is a compile error naming it.
 * void * is accepted as a string so that NULL (((void *)0)) passes. */
#define PYPROBE__INT(x) __extension__ _Generic((x), \
    _Bool: (x), char: (x), signed char: (x), unsigned char: (x), \
    short: (x), unsigned short: (x), int: (x))
#define PYPROBE__LONG(x) __extension__ _Generic((x), \
    _Bool: (x), char: (x), signed char: (x), unsigned char: (x), \
    short: (x), unsigned short: (x), int: (x), unsigned int: (x), long: (x))
#define PYPROBE__STR(x) __extension__ _Generic((x), \
    char *: (x), const char *: (x), void *: (x))
#endif

/* ---- the guard ---- */
/* Two 16-bit semaphores side by side, read at once (see below). */
typedef unsigned int __attribute__((__may_alias__)) pyprobe__semaphore_pair;
#define PYPROBE__SEMAPHORE_SYMBOL(dname) PYPROBE_PROVIDER_NAME "_" dname "_semaphore"

#if !PYPROBE_HAVE_PROBES || defined(PYPROBE_DISABLE)
#define PYPROBE__COMPILED_OUT 1
#define PYPROBE__DECLARE_SEMAPHORE(probe, dname)
#define PYPROBE__DECLARE_SEMAPHORE_PAIR(probe, dname)
#define PYPROBE__ENABLED(probe) 0
#define PYPROBE__ENABLED_PAIR(probe) 0
#elif defined(PYPROBE_STATIC) || !defined(__x86_64__)
/* One module: the semaphore is a plain global, read PC-relative. (Other
 * architectures take this path too; a PIE interpreter there that links the
 * shared library must be built so that it does not copy-relocate data.) */
#if defined(PYPROBE_STATIC)
#define PYPROBE__SEMAPHORE_VISIBILITY __attribute__((visibility("hidden")))
#else
#define PYPROBE__SEMAPHORE_VISIBILITY
#endif
#define PYPROBE__DECLARE_SEMAPHORE(probe, dname) \
    extern unsigned short pyprobe__semaphore_##probe \
        __asm__(PYPROBE__SEMAPHORE_SYMBOL(dname)) PYPROBE__SEMAPHORE_VISIBILITY;
#define PYPROBE__SEMAPHORE_ADDRESS(probe) (&pyprobe__semaphore_##probe)
#define PYPROBE__DECLARE_SEMAPHORE_PAIR(probe, dname) \
    extern pyprobe__semaphore_pair pyprobe__semaphore_pair_##probe \
        __asm__(PYPROBE__SEMAPHORE_SYMBOL(dname)) PYPROBE__SEMAPHORE_VISIBILITY;
#define PYPROBE__SEMAPHORE_PAIR_ADDRESS(probe) (&pyprobe__semaphore_pair_##probe)
#else
/* Through the GOT. The linker relaxes the GOT load to an address computation
 * when the semaphore ends up in the same module. */
#define PYPROBE__DECLARE_SEMAPHORE(probe, dname) \
    static __inline__ __attribute__((always_inline, unused)) \
    const unsigned short *pyprobe__semaphore_address_##probe(void) \
    { \
        const unsigned short *address; \
        __asm__("movq " PYPROBE__SEMAPHORE_SYMBOL(dname) "@GOTPCREL(%%rip), %0" : "=r"(address)); \
        return address; \
    }
#define PYPROBE__SEMAPHORE_ADDRESS(probe) (pyprobe__semaphore_address_##probe())
#define PYPROBE__DECLARE_SEMAPHORE_PAIR(probe, dname)
#define PYPROBE__SEMAPHORE_PAIR_ADDRESS(probe) \
    ((const pyprobe__semaphore_pair *)(const void *)PYPROBE__SEMAPHORE_ADDRESS(probe))
#endif

#ifndef PYPROBE__COMPILED_OUT
#define PYPROBE__ENABLED(probe) (__builtin_expect(*PYPROBE__SEMAPHORE_ADDRESS(probe) != 0, 0))
/* Two adjacent semaphores read as one 32-bit word: nonzero while either
 * probe is traced, for the cost of one guard. On x86-64 GCC would load the
 * word and test it (mov, test) where it compares 16 bits in place, so the
 * compare is spelled out (cmpl $0, mem) and branched on through its flags. */
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
static __inline__ __attribute__((always_inline, unused)) int
pyprobe__pair_nonzero(const pyprobe__semaphore_pair *pair)
{
    int nonzero;
    __asm__("cmpl $0, %1" : "=@ccnz"(nonzero) : "m"(*pair));
    return nonzero;
}
#else
#define pyprobe__pair_nonzero(pair) (*(pair) != 0)
#endif
#define PYPROBE__ENABLED_PAIR(probe) \
    (__builtin_expect(pyprobe__pair_nonzero(PYPROBE__SEMAPHORE_PAIR_ADDRESS(probe)), 0))
#endif

#ifdef PYPROBE__COMPILED_OUT
/* Type-check the arguments without evaluating them or calling anything. */
#define PYPROBE__FIRE(probe, args) do { (void)sizeof((pyprobe_fire_##probe args, 0)); } while (0)
#else
#define PYPROBE__FIRE(probe, args) do { if (PYPROBE__ENABLED(probe)) pyprobe_fire_##probe args; } while (0)
#endif

PYPROBE__DECLARE_SEMAPHORE(function_entry, "function__entry")
PYPROBE__DECLARE_SEMAPHORE(function_return, "function__return")
PYPROBE__DECLARE_SEMAPHORE(line, "line")
PYPROBE__DECLARE_SEMAPHORE(gc_start, "gc__start")
PYPROBE__DECLARE_SEMAPHORE(gc_done, "gc__done")
PYPROBE__DECLARE_SEMAPHORE(instance_new_start, "instance__new__start")
PYPROBE__DECLARE_SEMAPHORE(instance_new_done, "instance__new__done")
PYPROBE__DECLARE_SEMAPHORE(instance_delete_start, "instance__delete__start")
PYPROBE__DECLARE_SEMAPHORE(instance_delete_done, "instance__delete__done")
PYPROBE__DECLARE_SEMAPHORE(import_find_load_start, "import__find__load__start")
PYPROBE__DECLARE_SEMAPHORE(import_find_load_done, "import__find__load__done")
PYPROBE__DECLARE_SEMAPHORE(audit, "audit")
/* The build puts line's semaphore right after function__entry's, the two
 * 4-byte aligned (probes/python.d's order, cmake/PyprobeProvider.cmake):
 * CPython's line guard tests both in one load (pyprobe/cpython/). */
PYPROBE__DECLARE_SEMAPHORE_PAIR(function_entry, "function__entry")
#define PYPROBE__FUNCTION_ENTRY_OR_LINE_ENABLED() PYPROBE__ENABLED_PAIR(function_entry)

/* ---- the probes ---- */
#define PYPROBE_FUNCTION_ENTRY_ENABLED()        PYPROBE__ENABLED(function_entry)
#define PYPROBE_FUNCTION_RETURN_ENABLED()       PYPROBE__ENABLED(function_return)
#define PYPROBE_LINE_ENABLED()                  PYPROBE__ENABLED(line)
#define PYPROBE_GC_START_ENABLED()              PYPROBE__ENABLED(gc_start)
#define PYPROBE_GC_DONE_ENABLED()               PYPROBE__ENABLED(gc_done)
#define PYPROBE_INSTANCE_NEW_START_ENABLED()    PYPROBE__ENABLED(instance_new_start)
#define PYPROBE_INSTANCE_NEW_DONE_ENABLED()     PYPROBE__ENABLED(instance_new_done)
#define PYPROBE_INSTANCE_DELETE_START_ENABLED() PYPROBE__ENABLED(instance_delete_start)
#define PYPROBE_INSTANCE_DELETE_DONE_ENABLED()  PYPROBE__ENABLED(instance_delete_done)
#define PYPROBE_IMPORT_FIND_LOAD_START_ENABLED() PYPROBE__ENABLED(import_find_load_start)
#define PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED() PYPROBE__ENABLED(import_find_load_done)
#define PYPROBE_AUDIT_ENABLED()                 PYPROBE__ENABLED(audit)

#define PYPROBE_FUNCTION_ENTRY(file, func, lineno) \
    PYPROBE__FIRE(function_entry, (PYPROBE__STR(file), PYPROBE__STR(func), PYPROBE__INT(lineno)))
#define PYPROBE_FUNCTION_RETURN(file, func, lineno) \
    PYPROBE__FIRE(function_return, (PYPROBE__STR(file), PYPROBE__STR(func), PYPROBE__INT(lineno)))
#define PYPROBE_LINE(file, func, lineno) \
    PYPROBE__FIRE(line, (PYPROBE__STR(file), PYPROBE__STR(func), PYPROBE__INT(lineno)))
#define PYPROBE_GC_START(generation) \
    PYPROBE__FIRE(gc_start, (PYPROBE__INT(generation)))
#define PYPROBE_GC_DONE(collected) \
    PYPROBE__FIRE(gc_done, (PYPROBE__LONG(collected)))
#define PYPROBE_INSTANCE_NEW_START(cls, file) \
    PYPROBE__FIRE(instance_new_start, (PYPROBE__STR(cls), PYPROBE__STR(file)))
#define PYPROBE_INSTANCE_NEW_DONE(cls, file) \
    PYPROBE__FIRE(instance_new_done, (PYPROBE__STR(cls), PYPROBE__STR(file)))
#define PYPROBE_INSTANCE_DELETE_START(cls, file) \
    PYPROBE__FIRE(instance_delete_start, (PYPROBE__STR(cls), PYPROBE__STR(file)))
#define PYPROBE_INSTANCE_DELETE_DONE(cls, file) \
    PYPROBE__FIRE(instance_delete_done, (PYPROBE__STR(cls), PYPROBE__STR(file)))
#define PYPROBE_IMPORT_FIND_LOAD_START(module) \
    PYPROBE__FIRE(import_find_load_start, (PYPROBE__STR(module)))
#define PYPROBE_IMPORT_FIND_LOAD_DONE(module, found) \
    PYPROBE__FIRE(import_find_load_done, (PYPROBE__STR(module), PYPROBE__INT(found)))
#define PYPROBE_AUDIT(event, args) \
    PYPROBE__FIRE(audit, (PYPROBE__STR(event), (args)))

#endif /* PYPROBE_H */
