/*
 * libFuzzer target: the provider file reader (src/provider/provider_parse.h)
 * and what pyprobe_add_provider() writes from a file it read (the notes'
 * source, the file for dtrace), from whatever bytes the fuzzer makes up.
 * Besides the sanitizers, it checks the reader's promises: a mistake has a
 * place and a one-line reason; a file read has providers with probes, at
 * most PYPROBE_MAX_PROBE_ARGS arguments each, and types that the generated
 * C and assembler strings can hold as they are.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider_parse.h"
#include "provider_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int promise)
{
    if (!promise)
        abort();
}

static void check_probe(const struct pyprobe__d_probe *probe)
{
    static const char type_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_ *";

    check(probe->name && probe->name[0] && probe->argc <= PYPROBE_MAX_PROBE_ARGS);
    check(probe->at.line >= 1 && probe->at.column >= 1);
    for (unsigned i = 0; i < probe->argc; i++)
        check(probe->types[i][0] && strspn(probe->types[i], type_chars) == strlen(probe->types[i]));
}

static void write_all(const struct pyprobe__d_file *file)
{
    char *source;

    check(pyprobe__d_notes_source(file, "fuzz.d", "anchor", &source) == 0);
    free(source);
    check(pyprobe__d_dtrace_source(file, &source) == 0);
    free(source);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pyprobe__d_file file;
    int rc = pyprobe__d_parse((const char *)data, size, &file);

    if (rc == 0) {
        check(file.count >= 1);
        for (size_t i = 0; i < file.count; i++) {
            check(file.providers[i].count >= 1);
            for (size_t j = 0; j < file.providers[i].count; j++)
                check_probe(&file.providers[i].probes[j]);
        }
        write_all(&file);
    } else {
        check((rc == -EINVAL || rc == -ENOMEM) && file.error[0] && !strchr(file.error, '\n'));
        check(file.error_at.line >= 1 && file.error_at.column >= 1 && !file.providers);
    }
    pyprobe__d_free(&file);
    return 0;
}
