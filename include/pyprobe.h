/*
 * pyprobe.h - the python USDT probes, for any interpreter (GCC or Clang;
 * C99 and later, C++11 and later).
 *
 * The probes are CPython's (provider `python`, probes/python.d), with its
 * names, argument order and C types, so that every script written for
 * CPython's probes works on an interpreter that fires them:
 *
 *     PYPROBE_FUNCTION_ENTRY(file, func, line)        a function starts
 *     PYPROBE_FUNCTION_RETURN(file, func, line)       it returns
 *     PYPROBE_LINE(file, func, line)                  a line is about to run
 *     PYPROBE_GC_START(generation)                    a collection starts
 *     PYPROBE_GC_DONE(collected)                      it is done
 *     PYPROBE_INSTANCE_NEW_START(cls, file)           an instance is made
 *     PYPROBE_INSTANCE_NEW_DONE(cls, file)
 *     PYPROBE_INSTANCE_DELETE_START(cls, file)        an instance is freed
 *     PYPROBE_INSTANCE_DELETE_DONE(cls, file)
 *     PYPROBE_IMPORT_FIND_LOAD_START(module)          an import starts
 *     PYPROBE_IMPORT_FIND_LOAD_DONE(module, found)    it is done
 *     PYPROBE_AUDIT(event, args)                      an audit event
 *
 * file, func, cls, module and event are strings (const char *); line,
 * generation and found are int, collected is long, args is a void *.
 * func/file/line name the code running: entry and return pass the line the
 * function starts on, `line` the line about to run.
 *
 * Each probe also has a guard, PYPROBE_<PROBE>_ENABLED(), true while a
 * tracer is attached to it. A fire macro guards itself; test the guard
 * yourself where the arguments cost something to prepare:
 *
 *     PYPROBE_FUNCTION_ENTRY(code->file, code->name, code->first_line);
 *     if (PYPROBE_LINE_ENABLED()) {
 *         ...look up names...;
 *         PYPROBE_LINE(file, func, line);
 *     }
 *
 * Why it is cheap: the guard reads the probe's semaphore, a 16-bit counter
 * that the kernel raises while a tracer is attached. Untraced, a probe costs
 * a load, a compare and a branch: no call, and its arguments are not
 * evaluated. Traced, the macro calls the library's out-of-line fire
 * function, which holds the probe site (a nop and a .note.stapsdt entry), so
 * tracers find every probe in libpyprobe.so.1, or in the interpreter itself
 * when it links libpyprobe.a.
 *
 * Define PYPROBE_STATIC when linking libpyprobe.a (the CMake target
 * pyprobe::pyprobe_static and `pkg-config --static` do it). Define
 * PYPROBE_DISABLE to compile every probe out: guards become 0, and no
 * library is needed.
 */
#ifndef PYPROBE_H
#define PYPROBE_H

#include <pyprobe_config.h>

/* ---- the probes ---- */

#define PYPROBE_FUNCTION_ENTRY(file, func, lineno) \
    PYPROBE__FIRE(function_entry, (PYPROBE__STR(file, "argument file of PYPROBE_FUNCTION_ENTRY"), \
                                   PYPROBE__STR(func, "argument func of PYPROBE_FUNCTION_ENTRY"), \
                                   PYPROBE__INT(lineno, "argument line of PYPROBE_FUNCTION_ENTRY")))
#define PYPROBE_FUNCTION_RETURN(file, func, lineno) \
    PYPROBE__FIRE(function_return, (PYPROBE__STR(file, "argument file of PYPROBE_FUNCTION_RETURN"), \
                                    PYPROBE__STR(func, "argument func of PYPROBE_FUNCTION_RETURN"), \
                                    PYPROBE__INT(lineno, "argument line of PYPROBE_FUNCTION_RETURN")))
#define PYPROBE_LINE(file, func, lineno) \
    PYPROBE__FIRE(line, (PYPROBE__STR(file, "argument file of PYPROBE_LINE"), PYPROBE__STR(func, "argument func of PYPROBE_LINE"), \
                         PYPROBE__INT(lineno, "argument line of PYPROBE_LINE")))
#define PYPROBE_GC_START(generation) \
    PYPROBE__FIRE(gc_start, (PYPROBE__INT(generation, "argument generation of PYPROBE_GC_START")))
#define PYPROBE_GC_DONE(collected) \
    PYPROBE__FIRE(gc_done, (PYPROBE__LONG(collected, "argument collected of PYPROBE_GC_DONE")))
#define PYPROBE_INSTANCE_NEW_START(cls, file) \
    PYPROBE__FIRE(instance_new_start, (PYPROBE__STR(cls, "argument cls of PYPROBE_INSTANCE_NEW_START"), \
                                       PYPROBE__STR(file, "argument file of PYPROBE_INSTANCE_NEW_START")))
#define PYPROBE_INSTANCE_NEW_DONE(cls, file) \
    PYPROBE__FIRE(instance_new_done, (PYPROBE__STR(cls, "argument cls of PYPROBE_INSTANCE_NEW_DONE"), \
                                      PYPROBE__STR(file, "argument file of PYPROBE_INSTANCE_NEW_DONE")))
#define PYPROBE_INSTANCE_DELETE_START(cls, file) \
    PYPROBE__FIRE(instance_delete_start, (PYPROBE__STR(cls, "argument cls of PYPROBE_INSTANCE_DELETE_START"), \
                                          PYPROBE__STR(file, "argument file of PYPROBE_INSTANCE_DELETE_START")))
#define PYPROBE_INSTANCE_DELETE_DONE(cls, file) \
    PYPROBE__FIRE(instance_delete_done, (PYPROBE__STR(cls, "argument cls of PYPROBE_INSTANCE_DELETE_DONE"), \
                                         PYPROBE__STR(file, "argument file of PYPROBE_INSTANCE_DELETE_DONE")))
#define PYPROBE_IMPORT_FIND_LOAD_START(module) \
    PYPROBE__FIRE(import_find_load_start, (PYPROBE__STR(module, "argument module of PYPROBE_IMPORT_FIND_LOAD_START")))
#define PYPROBE_IMPORT_FIND_LOAD_DONE(module, found) \
    PYPROBE__FIRE(import_find_load_done, (PYPROBE__STR(module, "argument module of PYPROBE_IMPORT_FIND_LOAD_DONE"), \
                                          PYPROBE__INT(found, "argument found of PYPROBE_IMPORT_FIND_LOAD_DONE")))
#define PYPROBE_AUDIT(event, args) \
    PYPROBE__FIRE(audit, (PYPROBE__STR(event, "argument event of PYPROBE_AUDIT"), (args)))

#define PYPROBE_FUNCTION_ENTRY_ENABLED()         PYPROBE__ENABLED(function_entry)
#define PYPROBE_FUNCTION_RETURN_ENABLED()        PYPROBE__ENABLED(function_return)
#define PYPROBE_LINE_ENABLED()                   PYPROBE__ENABLED(line)
#define PYPROBE_GC_START_ENABLED()               PYPROBE__ENABLED(gc_start)
#define PYPROBE_GC_DONE_ENABLED()                PYPROBE__ENABLED(gc_done)
#define PYPROBE_INSTANCE_NEW_START_ENABLED()     PYPROBE__ENABLED(instance_new_start)
#define PYPROBE_INSTANCE_NEW_DONE_ENABLED()      PYPROBE__ENABLED(instance_new_done)
#define PYPROBE_INSTANCE_DELETE_START_ENABLED()  PYPROBE__ENABLED(instance_delete_start)
#define PYPROBE_INSTANCE_DELETE_DONE_ENABLED()   PYPROBE__ENABLED(instance_delete_done)
#define PYPROBE_IMPORT_FIND_LOAD_START_ENABLED() PYPROBE__ENABLED(import_find_load_start)
#define PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED()  PYPROBE__ENABLED(import_find_load_done)
#define PYPROBE_AUDIT_ENABLED()                  PYPROBE__ENABLED(audit)

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". */
PYPROBE_API const char *pyprobe_version(void);

/* The fire functions, one per probe, each holding that probe's site: call
 * them through the macros above, which check the arguments and the guard. */
#define PYPROBE__FIRE_FUNCTION __attribute__((cold)) PYPROBE_API void
PYPROBE__FIRE_FUNCTION pyprobe_fire_function_entry(const char *file, const char *func, int line);
PYPROBE__FIRE_FUNCTION pyprobe_fire_function_return(const char *file, const char *func, int line);
PYPROBE__FIRE_FUNCTION pyprobe_fire_line(const char *file, const char *func, int line);
PYPROBE__FIRE_FUNCTION pyprobe_fire_gc_start(int generation);
PYPROBE__FIRE_FUNCTION pyprobe_fire_gc_done(long collected);
PYPROBE__FIRE_FUNCTION pyprobe_fire_instance_new_start(const char *cls, const char *file);
PYPROBE__FIRE_FUNCTION pyprobe_fire_instance_new_done(const char *cls, const char *file);
PYPROBE__FIRE_FUNCTION pyprobe_fire_instance_delete_start(const char *cls, const char *file);
PYPROBE__FIRE_FUNCTION pyprobe_fire_instance_delete_done(const char *cls, const char *file);
PYPROBE__FIRE_FUNCTION pyprobe_fire_import_find_load_start(const char *module);
PYPROBE__FIRE_FUNCTION pyprobe_fire_import_find_load_done(const char *module, int found);
PYPROBE__FIRE_FUNCTION pyprobe_fire_audit(const char *event, void *args);

#ifdef __cplusplus
}
#endif

/* ---- the mechanics ---- */

/* Argument checks: a diagnostic instead of a silent conversion. Strings
 * must be char pointers; integers must fit the probe's C type without
 * truncation (a long line number, an int file name are errors). Each check
 * is told which probe argument it checks (`what`), which C names first in
 * its message.
 * N.B. void * passes as a string, so that NULL (((void *)0)) does; a NULL
 * string reaches tracers as "" (the fire functions see to it). */
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
#define PYPROBE__INT(x, what) (pyprobe_detail::as_int(x))
#define PYPROBE__LONG(x, what) (pyprobe_detail::as_long(x))
#define PYPROBE__STR(x, what) (pyprobe_detail::as_str(x))
#else
/* Whether x has a type that the argument takes. */
#define PYPROBE__IS_INT(x) __extension__ _Generic((x), \
    _Bool: 1, char: 1, signed char: 1, unsigned char: 1, short: 1, unsigned short: 1, int: 1, default: 0)
#define PYPROBE__IS_LONG(x) __extension__ _Generic((x), \
    _Bool: 1, char: 1, signed char: 1, unsigned char: 1, short: 1, unsigned short: 1, int: 1, \
    unsigned int: 1, long: 1, default: 0)
#define PYPROBE__IS_STR(x) __extension__ _Generic((x), char *: 1, const char *: 1, void *: 1, default: 0)
/* x as it is, after a static assertion that it is of a type the argument
 * takes: a wrong type is a compile error whose first line names the probe
 * and the type ("static assertion failed: "pyprobe: argument line of
 * PYPROBE_LINE must be an int ..."), not _Generic's selector. The assertion
 * sits in a type inside sizeof: no code, so the probe site compiles to
 * exactly what the bare argument gives. */
#define PYPROBE__ARG(ok, x, message) \
    (__extension__(void)sizeof(struct { _Static_assert(ok, "pyprobe: " message); int pyprobe__unused; }), (x))
#define PYPROBE__INT(x, what) \
    PYPROBE__ARG(PYPROBE__IS_INT(x), x, what " must be an int (or a narrower integer type)")
#define PYPROBE__LONG(x, what) \
    PYPROBE__ARG(PYPROBE__IS_LONG(x), x, what " must be a long (or a narrower integer type)")
#define PYPROBE__STR(x, what) \
    PYPROBE__ARG(PYPROBE__IS_STR(x), x, what " must be a string (char * or const char *)")
#endif

/* The semaphores: systemtap's dtrace -G names them PROVIDER_PROBE_semaphore
 * (python_function__entry_semaphore). */
#define PYPROBE__SEMAPHORE_SYMBOL(dname) PYPROBE_PROVIDER_NAME "_" dname "_semaphore"

#if !PYPROBE_HAVE_PROBES || defined(PYPROBE_DISABLE)
#define PYPROBE__COMPILED_OUT 1
#define PYPROBE__DECLARE_SEMAPHORE(probe, dname)
#elif defined(PYPROBE_STATIC) || !defined(__x86_64__)
/* One module: the semaphore is a plain global, read PC-relative.
 * N.B. Other architectures take this path with the shared library too; a
 * PIE interpreter there must be built so that it does not copy-relocate
 * data, or the guard reads a copy that the kernel never raises. */
#if defined(PYPROBE_STATIC)
#define PYPROBE__SEMAPHORE_VISIBILITY __attribute__((visibility("hidden")))
#else
#define PYPROBE__SEMAPHORE_VISIBILITY
#endif
#define PYPROBE__DECLARE_SEMAPHORE(probe, dname) \
    extern unsigned short pyprobe__semaphore_##probe \
        __asm__(PYPROBE__SEMAPHORE_SYMBOL(dname)) PYPROBE__SEMAPHORE_VISIBILITY;
#define PYPROBE__SEMAPHORE_ADDRESS(probe) (&pyprobe__semaphore_##probe)
#else
/* Through the GOT, whether the library is shared or (without
 * PYPROBE_STATIC) static: the address comes from a GOTPCREL load, which
 * never lets the linker copy the semaphore into the executable (a copy
 * relocation would leave the guard reading a counter the kernel never
 * raises). N.B. The linker relaxes the load to an address computation when
 * the semaphore ends up in the same module: a lea, then the compare. */
#define PYPROBE__SEMAPHORE_VIA_GOT 1
#define PYPROBE__DECLARE_SEMAPHORE(probe, dname) \
    static __inline__ __attribute__((always_inline, unused)) \
    const unsigned short *pyprobe__semaphore_address_##probe(void) \
    { \
        const unsigned short *address; \
        __asm__("movq " PYPROBE__SEMAPHORE_SYMBOL(dname) "@GOTPCREL(%%rip), %0" : "=r"(address)); \
        return address; \
    }
#define PYPROBE__SEMAPHORE_ADDRESS(probe) (pyprobe__semaphore_address_##probe())
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

/* The guard, and the fire behind it.
 * N.B. Check, then fire: the kernel raises a semaphore when a tracer opens
 * the probe, a moment before the tracer's program is attached to the site,
 * so a hit in between reaches nobody. A program that must not miss its
 * first events waits until its tracer says it is attached (pyprobe's tests
 * wait for bpftrace's BEGIN), not only for _ENABLED(). The other way round
 * is harmless: a tracer that leaves between the check and the fire leaves a
 * plain nop behind. */
#ifdef PYPROBE__COMPILED_OUT
#define PYPROBE__ENABLED(probe) 0
/* Type-check the arguments without evaluating them or calling anything. */
#define PYPROBE__FIRE(probe, args) do { (void)sizeof((pyprobe_fire_##probe args, 0)); } while (0)
#else
#define PYPROBE__ENABLED(probe) (__builtin_expect(*PYPROBE__SEMAPHORE_ADDRESS(probe) != 0, 0))
#define PYPROBE__FIRE(probe, args) do { if (PYPROBE__ENABLED(probe)) pyprobe_fire_##probe args; } while (0)
#endif

#endif /* PYPROBE_H */
