/*
 * The address of each python probe's semaphore, in python.d order, for
 * tests that raise a semaphore as the kernel does when a tracer attaches.
 */
#ifndef PYPROBE_TEST_SEMAPHORES_H
#define PYPROBE_TEST_SEMAPHORES_H

#include <pyprobe.h>

#ifndef PYPROBE__COMPILED_OUT
enum { TEST_PROBES = 12 };

static inline unsigned short *test_semaphore(int probe)
{
    const unsigned short *address[TEST_PROBES] = {
        PYPROBE__SEMAPHORE_ADDRESS(function_entry), PYPROBE__SEMAPHORE_ADDRESS(function_return),
        PYPROBE__SEMAPHORE_ADDRESS(line), PYPROBE__SEMAPHORE_ADDRESS(gc_start),
        PYPROBE__SEMAPHORE_ADDRESS(gc_done), PYPROBE__SEMAPHORE_ADDRESS(instance_new_start),
        PYPROBE__SEMAPHORE_ADDRESS(instance_new_done), PYPROBE__SEMAPHORE_ADDRESS(instance_delete_start),
        PYPROBE__SEMAPHORE_ADDRESS(instance_delete_done), PYPROBE__SEMAPHORE_ADDRESS(import_find_load_start),
        PYPROBE__SEMAPHORE_ADDRESS(import_find_load_done), PYPROBE__SEMAPHORE_ADDRESS(audit),
    };
    return (unsigned short *)address[probe];
}
#endif

#endif
