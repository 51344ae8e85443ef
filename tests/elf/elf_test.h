/*
 * What the ELF test programs share: reading every stapsdt probe of a file,
 * and python.d's probes as the CPython contract has them.
 *
 *     struct pyprobe__stapsdt_probe probes[MAX];
 *     int count = read_probes(elf, probes, MAX);  (how many, or an error)
 */
#ifndef PYPROBE_TESTS_ELF_TEST_H
#define PYPROBE_TESTS_ELF_TEST_H

#include "elf_file.h"
#include "elf_notes.h"

#define COUNT(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* Reads every probe (the first `max` into probes): how many, or the first
 * error. */
static inline int read_probes(const struct pyprobe__elf *elf, struct pyprobe__stapsdt_probe *probes, int max)
{
    struct pyprobe__stapsdt_iter it;
    struct pyprobe__stapsdt_probe probe;
    int count = 0, rc;

    pyprobe__stapsdt_begin(elf, &it);
    while ((rc = pyprobe__stapsdt_next(&it, &probe)) > 0) {
        if (count < max)
            probes[count] = probe;
        count++;
    }
    return rc < 0 ? rc : count;
}

/* python.d's probes; argument sizes as the notes write them: 8@ strings and
 * pointers, -4@ int, -8@ long (CPython's contract, which bcc relies on). */
static const struct expected_probe {
    const char *name;
    int argc;
    int sizes[3];
} python_d[] = {
    {"function__entry", 3, {8, 8, -4}},
    {"function__return", 3, {8, 8, -4}},
    {"instance__new__start", 2, {8, 8}},
    {"instance__new__done", 2, {8, 8}},
    {"instance__delete__start", 2, {8, 8}},
    {"instance__delete__done", 2, {8, 8}},
    {"line", 3, {8, 8, -4}},
    {"gc__start", 1, {-4}},
    {"gc__done", 1, {-8}},
    {"import__find__load__start", 1, {8}},
    {"import__find__load__done", 2, {8, -4}},
    {"audit", 2, {8, 8}},
};

#endif /* PYPROBE_TESTS_ELF_TEST_H */
