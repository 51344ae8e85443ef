/*
 * Firing runtime probes. Untraced, a fire reads the probe's semaphore and
 * returns; traced, it converts the arguments to their declared types and
 * calls the probe's site function in the generated object, where the
 * tracer's uprobe sits on the nop.
 */
#include "rt_internal.h"
#include "rt_types.h"

#include <errno.h>

const volatile uint16_t pyprobe__rt_unloaded_semaphore = 0;

__attribute__((noinline, cold)) static int fire_traced(const pyprobe_probe *probe, const uint64_t *args)
{
    pyprobe__rt_site_fn site = __atomic_load_n(&probe->site, __ATOMIC_ACQUIRE);
    uint64_t v[PYPROBE_MAX_PROBE_ARGS] = {0};

    if (!site)
        return -ENODEV;
    for (unsigned i = 0; i < probe->arg_count; i++)
        v[i] = pyprobe__arg_convert(probe->types[i], args[i]);
    site(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
    return 0;
}

int pyprobe_probe_fire(const pyprobe_probe *probe, const uint64_t *args, size_t count)
{
    const volatile uint16_t *semaphore;

    if (__builtin_expect(!probe || count != probe->arg_count || (count && !args), 0))
        return -EINVAL;
    semaphore = __atomic_load_n(&probe->semaphore, __ATOMIC_ACQUIRE);
    if (__builtin_expect(*semaphore != 0, 0))
        return fire_traced(probe, args);
    return semaphore != &pyprobe__rt_unloaded_semaphore ? 0 : -ENODEV;
}

bool pyprobe_probe_enabled(const pyprobe_probe *probe)
{
    return probe && *__atomic_load_n(&probe->semaphore, __ATOMIC_ACQUIRE) != 0;
}
