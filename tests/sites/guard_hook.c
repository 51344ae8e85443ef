/*
 * A minimal interpreter hook, disassembled by test_guard_disasm.py to check
 * that an untraced probe costs a load, a compare and a branch.
 */
#ifdef GUARD_HOOK_CPYTHON
/* CPython's line guard, as 3.11's dispatch tests it before every bytecode:
 * function__entry's and line's semaphores in one 32-bit compare. What runs
 * when it is true (the tracing path, maybe_dtrace_line()) is elsewhere. */
#define WITH_DTRACE 1
#include "pydtrace_probes.h"

__attribute__((noinline, cold)) static void maybe_dtrace_line(const char *file, const char *func, int line)
{
    PyDTrace_LINE(file, func, line);
}

__attribute__((noinline)) void hook_line(const char *file, const char *func, int line)
{
    if (PyDTrace_LINE_ENABLED())
        maybe_dtrace_line(file, func, line);
}
#else
#include <pyprobe.h>

__attribute__((noinline)) void hook_line(const char *file, const char *func, int line)
{
    PYPROBE_LINE(file, func, line);
}
#endif

int main(int argc, char **argv)
{
    hook_line(argv[0], "main", argc);
    return 0;
}
