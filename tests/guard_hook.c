/*
 * A minimal interpreter hook, disassembled by test_guard_disasm.py to check
 * that an untraced probe costs a load, a compare and a branch.
 */
#include <pyprobe.h>

__attribute__((noinline)) void hook_line(const char *file, const char *func, int line)
{
    PYPROBE_LINE(file, func, line);
}

int main(int argc, char **argv)
{
    hook_line(argv[0], "main", argc);
    return 0;
}
