/*
 * Runtime providers: creating them, adding probes, names, error messages.
 */
#define _GNU_SOURCE /* strerrordesc_np */
#include "rt_internal.h"
#include "rt_types.h"
#include "grow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pyprobe__rt_fail(pyprobe_provider *provider, int error, const char *format, ...)
{
    va_list ap;

    if (provider) {
        va_start(ap, format);
        vsnprintf(provider->error, sizeof provider->error, format, ap);
        va_end(ap);
    }
    return error;
}

static int is_identifier_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_identifier_char(char c)
{
    return is_identifier_start(c) || (c >= '0' && c <= '9');
}

int pyprobe__rt_check_name(pyprobe_provider *provider, const char *what, const char *name, size_t max)
{
    size_t length;

    if (!name)
        return pyprobe__rt_fail(provider, -EINVAL, "no %s name (NULL)", what);
    length = strlen(name);
    if (length == 0)
        return pyprobe__rt_fail(provider, -EINVAL, "empty %s name", what);
    if (length > max)
        return pyprobe__rt_fail(provider, -ENAMETOOLONG, "%s name of %zu characters: at most %zu (perf's and the kernel's limit)",
                       what, length, max);
    if (!is_identifier_start(name[0]))
        return pyprobe__rt_fail(provider, -EINVAL, "%s name \"%.*s\" does not start with a letter or '_'", what, 80, name);
    for (size_t i = 1; i < length; i++)
        if (!is_identifier_char(name[i]))
            return pyprobe__rt_fail(provider, -EINVAL, "%s name \"%.*s\": character %zu is not a letter, digit or '_'", what,
                           80, name, i + 1);
    return 0;
}

int pyprobe_provider_create(const char *name, pyprobe_provider **out)
{
    pyprobe_provider *provider;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    rc = pyprobe__rt_check_name(NULL, "provider", name, PYPROBE_PROVIDER_NAME_MAX);
    if (rc != 0)
        return rc;
    provider = calloc(1, sizeof *provider);
    if (!provider || !(provider->name = strdup(name))) {
        free(provider);
        return -ENOMEM;
    }
    provider->object.fd = -1;
    *out = provider;
    return 0;
}

static void free_probe(pyprobe_probe *probe)
{
    if (probe) {
        free(probe->name);
        free(probe);
    }
}

void pyprobe_provider_destroy(pyprobe_provider *provider)
{
    if (!provider)
        return;
    if (provider->object.handle)
        pyprobe__rt_unload(provider);
    for (size_t i = 0; i < provider->probe_count; i++)
        free_probe(provider->probes[i]);
    free(provider->probes);
    free(provider->name);
    free(provider);
}

static int check_new_probe(pyprobe_provider *provider, const char *name, const enum pyprobe_arg_type *types,
                           size_t count)
{
    int rc = pyprobe__rt_check_name(provider, "probe", name, PYPROBE_PROBE_NAME_MAX);

    if (rc != 0)
        return rc;
    if (provider->object.handle)
        return pyprobe__rt_fail(provider, -EBUSY, "provider %s is loaded: add probe %s before loading it", provider->name,
                       name);
    if (count > PYPROBE_MAX_PROBE_ARGS)
        return pyprobe__rt_fail(provider, -E2BIG, "probe %s: %zu arguments, at most %d", name, count,
                       PYPROBE_MAX_PROBE_ARGS);
    if (count && !types)
        return pyprobe__rt_fail(provider, -EINVAL, "probe %s: %zu arguments but no types (NULL)", name, count);
    for (size_t i = 0; i < count; i++)
        if (!pyprobe__arg_type_valid(types[i]))
            return pyprobe__rt_fail(provider, -EINVAL, "probe %s: argument %zu has an unknown type (%d)", name, i,
                           (int)types[i]);
    for (size_t i = 0; i < provider->probe_count; i++)
        if (strcmp(provider->probes[i]->name, name) == 0)
            return pyprobe__rt_fail(provider, -EEXIST, "provider %s already has a probe %s", provider->name, name);
    return 0;
}

int pyprobe_provider_add_probe(pyprobe_provider *provider, const char *name, const enum pyprobe_arg_type *types,
                               size_t count, pyprobe_probe **out)
{
    pyprobe_probe *probe;
    int rc;

    if (out)
        *out = NULL;
    if (!provider)
        return -EINVAL;
    rc = check_new_probe(provider, name, types, count);
    if (rc != 0)
        return rc;
    if (pyprobe__grow(&provider->probes, &provider->probe_capacity, provider->probe_count + 1,
                      sizeof *provider->probes) != 0 ||
        !(probe = calloc(1, sizeof *probe)))
        return pyprobe__rt_fail(provider, -ENOMEM, "out of memory adding probe %s", name);
    if (!(probe->name = strdup(name))) {
        free(probe);
        return pyprobe__rt_fail(provider, -ENOMEM, "out of memory adding probe %s", name);
    }
    probe->semaphore = &pyprobe__rt_unloaded_semaphore;
    probe->arg_count = (unsigned)count;
    for (size_t i = 0; i < count; i++)
        probe->types[i] = (uint8_t)types[i];
    probe->provider = provider;
    provider->probes[provider->probe_count++] = probe;
    if (out)
        *out = probe;
    return 0;
}

int pyprobe_provider_load(pyprobe_provider *provider)
{
    if (!provider)
        return -EINVAL;
    if (provider->object.handle)
        return pyprobe__rt_fail(provider, -EALREADY, "provider %s is already loaded", provider->name);
    return pyprobe__rt_load(provider);
}

int pyprobe_provider_unload(pyprobe_provider *provider)
{
    if (!provider)
        return -EINVAL;
    if (!provider->object.handle)
        return pyprobe__rt_fail(provider, -ENODEV, "provider %s is not loaded", provider->name);
    pyprobe__rt_unload(provider);
    return 0;
}

const char *pyprobe_provider_name(const pyprobe_provider *provider)
{
    return provider ? provider->name : NULL;
}

bool pyprobe_provider_loaded(const pyprobe_provider *provider)
{
    return provider && provider->object.handle;
}

size_t pyprobe_provider_probe_count(const pyprobe_provider *provider)
{
    return provider ? provider->probe_count : 0;
}

const char *pyprobe_provider_path(const pyprobe_provider *provider)
{
    return provider && provider->object.handle ? provider->object.path : NULL;
}

bool pyprobe_provider_uses_memfd(const pyprobe_provider *provider)
{
    return provider && provider->object.handle && provider->object.memfd;
}

const char *pyprobe_provider_error(const pyprobe_provider *provider)
{
    return provider ? provider->error : "";
}

const char *pyprobe_probe_name(const pyprobe_probe *probe)
{
    return probe ? probe->name : NULL;
}

size_t pyprobe_probe_arg_count(const pyprobe_probe *probe)
{
    return probe ? probe->arg_count : 0;
}

enum pyprobe_arg_type pyprobe_probe_arg_type(const pyprobe_probe *probe, size_t index)
{
    return probe && index < probe->arg_count ? (enum pyprobe_arg_type)probe->types[index]
                                               : (enum pyprobe_arg_type)0;
}

const char *pyprobe_strerror(int error)
{
    switch (error) {
    case 0:
        return "success";
    case -EINVAL:
        return "invalid argument: a name that is not a C identifier, an unknown argument type, "
               "a NULL argument, or a wrong argument count";
    case -ENAMETOOLONG:
        return "name too long: providers have at most " PYPROBE__STRING(PYPROBE_PROVIDER_NAME_MAX)
               " characters, probes " PYPROBE__STRING(PYPROBE_PROBE_NAME_MAX);
    case -E2BIG:
        return "too many arguments: a probe has at most " PYPROBE__STRING(PYPROBE_MAX_PROBE_ARGS);
    case -EEXIST:
        return "the provider already has a probe of that name";
    case -EBUSY:
        return "the provider is loaded: probes are added before loading";
    case -EALREADY:
        return "the provider is already loaded";
    case -ENODEV:
        return "the provider is not loaded";
    case -ENOEXEC:
        return "the dynamic loader rejected the generated object";
    case -ENOTSUP:
        return "probes cannot be generated for this architecture (x86-64 only)";
    case -ENOMEM:
        return "out of memory";
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    if (error < 0 && strerrordesc_np(-error))
        return strerrordesc_np(-error);
#endif
    return "unknown error";
}
