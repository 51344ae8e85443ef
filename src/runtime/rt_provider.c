/*
 * Runtime providers: creating them, adding probes, names, error messages.
 */
#define _GNU_SOURCE /* strerrordesc_np (glibc 2.32) */
#include "rt_internal.h"
#include "rt_types.h"
#include "grow.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vfail_into(char *message, size_t size, int error, const char *format, va_list ap)
{
    if (message && size)
        vsnprintf(message, size, format, ap);
    return error;
}

int pyprobe__rt_fail_into(char *message, size_t size, int error, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    vfail_into(message, size, error, format, ap);
    va_end(ap);
    return error;
}

int pyprobe__rt_fail(pyprobe_provider *provider, int error, const char *format, ...)
{
    va_list ap;

    if (provider) {
        va_start(ap, format);
        vfail_into(provider->error, sizeof provider->error, error, format, ap);
        va_end(ap);
    }
    return error;
}

static bool is_printable(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

const char *pyprobe__rt_quote(const char *name, char out[PYPROBE__QUOTED_MAX])
{
    size_t n = 0, i;

    out[n++] = '"';
    for (i = 0; name[i] && i < PYPROBE__NAME_SHOWN; i++) {
        unsigned char c = (unsigned char)name[i];

        if (is_printable(c) && c != '"' && c != '\\')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
    }
    out[n++] = '"';
    strcpy(out + n, name[i] ? "..." : "");
    return out;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_identifier_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || is_digit(c);
}

/* Why `name` is not a C identifier: its first byte that cannot be in one. */
static int bad_character(char *message, size_t size, const char *what, const char *name)
{
    char shown[PYPROBE__QUOTED_MAX];
    size_t i = 0;

    while (is_identifier_char(name[i]) && !(i == 0 && is_digit(name[i])))
        i++;
    pyprobe__rt_quote(name, shown);
    if (i == 0 && is_digit(name[0]))
        return pyprobe__rt_fail_into(message, size, -EINVAL,
                                     "%s name %s starts with a digit: names are C identifiers (letters, digits "
                                     "and '_', not starting with a digit)", what, shown);
    if (is_printable((unsigned char)name[i]))
        return pyprobe__rt_fail_into(message, size, -EINVAL,
                                     "%s name %s: character %zu ('%c') is not a letter, digit or '_'", what, shown,
                                     i + 1, name[i]);
    return pyprobe__rt_fail_into(message, size, -EINVAL,
                                 "%s name %s: byte %zu (0x%02x) is not an ASCII letter, digit or '_'", what, shown,
                                 i + 1, (unsigned char)name[i]);
}

int pyprobe__rt_check_name(char *message, size_t size, const char *what, const char *name, size_t max)
{
    char shown[PYPROBE__QUOTED_MAX];
    size_t length;

    if (!name)
        return pyprobe__rt_fail_into(message, size, -EINVAL, "no %s name (NULL)", what);
    length = strlen(name);
    if (length == 0)
        return pyprobe__rt_fail_into(message, size, -EINVAL, "empty %s name", what);
    if (length > max)
        return pyprobe__rt_fail_into(message, size, -ENAMETOOLONG,
                                     "%s name %s has %zu characters: at most %zu (perf's and the kernel's limit)",
                                     what, pyprobe__rt_quote(name, shown), length, max);
    for (size_t i = 0; i < length; i++)
        if (!is_identifier_char(name[i]) || (i == 0 && is_digit(name[i])))
            return bad_character(message, size, what, name);
    return 0;
}

int pyprobe_provider_create_ex(const char *name, pyprobe_provider **out, char *message, size_t size)
{
    pyprobe_provider *provider;
    int rc;

    if (message && size)
        message[0] = '\0';
    if (!out)
        return pyprobe__rt_fail_into(message, size, -EINVAL, "no place for the new provider (out is NULL)");
    *out = NULL;
    rc = pyprobe__rt_check_name(message, size, "provider", name, PYPROBE_PROVIDER_NAME_MAX);
    if (rc != 0)
        return rc;
    provider = calloc(1, sizeof *provider);
    if (!provider || !(provider->name = strdup(name))) {
        free(provider);
        return pyprobe__rt_fail_into(message, size, -ENOMEM, "out of memory creating provider %s", name);
    }
    provider->object.fd = -1;
    *out = provider;
    return 0;
}

int pyprobe_provider_create(const char *name, pyprobe_provider **out)
{
    return pyprobe_provider_create_ex(name, out, NULL, 0);
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
    int rc = pyprobe__rt_check_name(provider->error, sizeof provider->error, "probe", name, PYPROBE_PROBE_NAME_MAX);

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

/* strerror's text; glibc's strerrordesc_np never writes a shared buffer. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define describe_errno strerrordesc_np
#else
#define describe_errno strerror
#endif

const char *pyprobe_strerror(int error)
{
    static __thread char unknown[sizeof "Unknown error -2147483648"];
    long code = error < 0 ? -(long)error : error; /* this API's -EINVAL and a plain EINVAL alike */
    const char *description = NULL;

    switch (code) {
    case 0:
        return "success";
    case EINVAL:
        return "invalid argument: a name that is not a C identifier, an unknown argument type, "
               "a NULL argument, or a wrong argument count";
    case ENAMETOOLONG:
        return "name too long: providers have at most " PYPROBE__STRING(PYPROBE_PROVIDER_NAME_MAX)
               " characters, probes " PYPROBE__STRING(PYPROBE_PROBE_NAME_MAX);
    case E2BIG:
        return "too many arguments: a probe has at most " PYPROBE__STRING(PYPROBE_MAX_PROBE_ARGS);
    case EEXIST:
        return "the provider already has a probe of that name";
    case EBUSY:
        return "the provider is loaded: probes are added before loading";
    case EALREADY:
        return "the provider is already loaded";
    case ENODEV:
        return "the provider is not loaded";
    case ENOEXEC:
        return "the dynamic loader rejected the generated object";
    case ENOTSUP:
        return "probes cannot be generated for this architecture (x86-64 only)";
    case ENOMEM:
        return "out of memory";
    }
    if (code <= INT_MAX)
        description = describe_errno((int)code);
    if (description)
        return description;
    snprintf(unknown, sizeof unknown, "Unknown error %d", error); /* strerror's words */
    return unknown;
}
