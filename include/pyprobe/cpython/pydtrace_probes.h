/*
 * pydtrace_probes.h - CPython's probe header, on top of libpyprobe.
 *
 * CPython's Include/pydtrace.h includes "pydtrace_probes.h" when WITH_DTRACE
 * is defined; a `--with-dtrace` build generates that file with `dtrace -h`.
 * This one takes its place, so that CPython needs neither `--with-dtrace` nor
 * dtrace: configure CPython with
 *
 *     CPPFLAGS="-DWITH_DTRACE -I<prefix>/include/pyprobe/cpython
 *               $(pkg-config --static --cflags pyprobe)"
 *     LIBS="<libdir>/libpyprobe.a"         (shared: -L<libdir> -lpyprobe)
 *
 * and the probes (provider `python`, CPython's names and argument types) are
 * published by the python binary (static link) or libpyprobe.so.1 (shared).
 *
 * Each PyDTrace_<PROBE>_ENABLED() reads its probe's semaphore, and each
 * PyDTrace_<PROBE>(...) checks its own semaphore again before firing, so a
 * guard that answers "yes" for some other reason never fires the wrong probe.
 *
 * CPython 3.11 (upstream gh-98894) fires function__entry only from the
 * interpreter's tracing path (DO_TRACING in Python/ceval.c), which it enters
 * when sys.settrace/setprofile is active or when PyDTrace_LINE_ENABLED() is
 * true. With only function__entry traced, ordinary calls never got there. So
 * here PyDTrace_LINE_ENABLED() is true while either the line probe or the
 * function__entry probe is traced: the interpreter takes the tracing path,
 * DO_TRACING fires function__entry on RESUME under its own guard, and the
 * line hook's PyDTrace_LINE() still fires only while the line probe is
 * traced. The library keeps the two semaphores side by side and the guard
 * reads them with one 32-bit load, so while nobody traces it costs exactly
 * what CPython's own line guard costs.
 * Where the entry hook does not depend on the tracing path, the wider guard
 * only costs time while function__entry is traced; define
 * PYPROBE_CPYTHON_EXACT_LINE_GUARD to make the line guard exact (and get
 * CPython 3.11's own behaviour back).
 */
#ifndef PYPROBE_CPYTHON_PYDTRACE_PROBES_H
#define PYPROBE_CPYTHON_PYDTRACE_PROBES_H

#if defined(__has_include)
#if !__has_include(<pyprobe.h>)
#error "pydtrace_probes.h needs <pyprobe.h>: add -I<prefix>/include (pkg-config --cflags pyprobe) to CPPFLAGS"
#endif
#endif

#include <pyprobe.h>

/* The line guard's pair: function__entry's and line's semaphores, read as
 * one 32-bit word, nonzero while either probe is traced, for the cost of
 * one guard. The build puts line's semaphore right after function__entry's,
 * the two 4-byte aligned (probes/python.d's order; the dtrace -G step in
 * cmake/PyprobeProvider.cmake).
 * N.B. On x86-64 GCC would load the word and test it (mov, test) where it
 * compares 16 bits in place, so the compare is spelled out (cmpl $0, mem)
 * and branched on through its flags. */
#ifdef PYPROBE__COMPILED_OUT
#define PYPROBE__FUNCTION_ENTRY_OR_LINE_ENABLED() 0
#else
typedef unsigned int __attribute__((__may_alias__)) pyprobe__semaphore_pair;
#ifdef PYPROBE__SEMAPHORE_VIA_GOT
#define PYPROBE__SEMAPHORE_PAIR_ADDRESS() \
    ((const pyprobe__semaphore_pair *)(const void *)PYPROBE__SEMAPHORE_ADDRESS(function_entry))
#else
/* A declaration of its own: a 4-byte read through the 2-byte semaphore's
 * declaration would read past the object that the compiler knows. */
extern pyprobe__semaphore_pair pyprobe__semaphore_pair_function_entry
    __asm__(PYPROBE__SEMAPHORE_SYMBOL("function__entry")) PYPROBE__SEMAPHORE_VISIBILITY;
#define PYPROBE__SEMAPHORE_PAIR_ADDRESS() (&pyprobe__semaphore_pair_function_entry)
#endif
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
#define PYPROBE__FUNCTION_ENTRY_OR_LINE_ENABLED() \
    (__builtin_expect(pyprobe__pair_nonzero(PYPROBE__SEMAPHORE_PAIR_ADDRESS()), 0))
#endif

/* function__entry, function__return, line: code object's file, name, line. */
#define PyDTrace_FUNCTION_ENTRY(file, func, lineno)  PYPROBE_FUNCTION_ENTRY(file, func, lineno)
#define PyDTrace_FUNCTION_RETURN(file, func, lineno) PYPROBE_FUNCTION_RETURN(file, func, lineno)
#define PyDTrace_LINE(file, func, lineno)            PYPROBE_LINE(file, func, lineno)
/* gc__start(int generation), gc__done(long collected + uncollectable). */
#define PyDTrace_GC_START(generation)                PYPROBE_GC_START(generation)
#define PyDTrace_GC_DONE(collected)                  PYPROBE_GC_DONE(collected)
/* Declared by CPython's provider, never fired by CPython itself. */
#define PyDTrace_INSTANCE_NEW_START(cls, file)       PYPROBE_INSTANCE_NEW_START(cls, file)
#define PyDTrace_INSTANCE_NEW_DONE(cls, file)        PYPROBE_INSTANCE_NEW_DONE(cls, file)
#define PyDTrace_INSTANCE_DELETE_START(cls, file)    PYPROBE_INSTANCE_DELETE_START(cls, file)
#define PyDTrace_INSTANCE_DELETE_DONE(cls, file)     PYPROBE_INSTANCE_DELETE_DONE(cls, file)
/* import__find__load__start(module), import__find__load__done(module, found). */
#define PyDTrace_IMPORT_FIND_LOAD_START(module)      PYPROBE_IMPORT_FIND_LOAD_START(module)
#define PyDTrace_IMPORT_FIND_LOAD_DONE(module, found) PYPROBE_IMPORT_FIND_LOAD_DONE(module, found)
/* audit(const char *event, void *args): args is the event's argument tuple. */
#define PyDTrace_AUDIT(event, args)                  PYPROBE_AUDIT(event, args)

#define PyDTrace_FUNCTION_ENTRY_ENABLED()         PYPROBE_FUNCTION_ENTRY_ENABLED()
#define PyDTrace_FUNCTION_RETURN_ENABLED()        PYPROBE_FUNCTION_RETURN_ENABLED()
#ifdef PYPROBE_CPYTHON_EXACT_LINE_GUARD
#define PyDTrace_LINE_ENABLED()                   PYPROBE_LINE_ENABLED()
#else
/* gh-98894: see above. Also true while function__entry is traced. */
#define PyDTrace_LINE_ENABLED()                   PYPROBE__FUNCTION_ENTRY_OR_LINE_ENABLED()
#endif
#define PyDTrace_GC_START_ENABLED()               PYPROBE_GC_START_ENABLED()
#define PyDTrace_GC_DONE_ENABLED()                PYPROBE_GC_DONE_ENABLED()
#define PyDTrace_INSTANCE_NEW_START_ENABLED()     PYPROBE_INSTANCE_NEW_START_ENABLED()
#define PyDTrace_INSTANCE_NEW_DONE_ENABLED()      PYPROBE_INSTANCE_NEW_DONE_ENABLED()
#define PyDTrace_INSTANCE_DELETE_START_ENABLED()  PYPROBE_INSTANCE_DELETE_START_ENABLED()
#define PyDTrace_INSTANCE_DELETE_DONE_ENABLED()   PYPROBE_INSTANCE_DELETE_DONE_ENABLED()
#define PyDTrace_IMPORT_FIND_LOAD_START_ENABLED() PYPROBE_IMPORT_FIND_LOAD_START_ENABLED()
#define PyDTrace_IMPORT_FIND_LOAD_DONE_ENABLED()  PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED()
#define PyDTrace_AUDIT_ENABLED()                  PYPROBE_AUDIT_ENABLED()

#endif /* PYPROBE_CPYTHON_PYDTRACE_PROBES_H */
