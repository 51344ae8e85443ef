/*
 * grow.h - the growable array of pyprobe's internals, written once.
 *
 *     struct site *sites = NULL;
 *     size_t count = 0, capacity = 0;
 *
 *     if (pyprobe__grow(&sites, &capacity, count + 1, sizeof *sites) != 0)
 *         return -ENOMEM;
 *     sites[count++] = site;
 */
#ifndef PYPROBE_COMMON_GROW_H
#define PYPROBE_COMMON_GROW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for at least `needed` items of `item_size` bytes in the array
 * whose pointer is at `array_address` (a T **), doubling its capacity from
 * at least 8: 0, or -ENOMEM with the array and *capacity untouched. The
 * pointer is read and written with memcpy, so any T ** may be passed. */
static inline int pyprobe__grow(void *array_address, size_t *capacity, size_t needed, size_t item_size)
{
    size_t bigger = *capacity ? *capacity : 8;
    void *array, *grown;

    if (needed <= *capacity)
        return 0;
    while (bigger < needed) {
        if (bigger > SIZE_MAX / 2)
            return -ENOMEM;
        bigger *= 2;
    }
    if (bigger > SIZE_MAX / item_size)
        return -ENOMEM;
    memcpy(&array, array_address, sizeof array);
    grown = realloc(array, bigger * item_size);
    if (!grown)
        return -ENOMEM;
    memcpy(array_address, &grown, sizeof grown);
    *capacity = bigger;
    return 0;
}

#endif /* PYPROBE_COMMON_GROW_H */
