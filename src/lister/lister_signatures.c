/* The .note.pyprobe reader (see lister_signatures.h). */
#include "lister_signatures.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf_notes.h"
#include "grow.h"

int pyprobe__signature_parse(const unsigned char *desc, size_t size, struct pyprobe__signature *out)
{
    const char *strings[2 + PYPROBE_MAX_PROBE_ARGS];
    size_t count = 0, used = 0;

    if (!desc || !out)
        return -EINVAL;
    if (size == 0 || desc[size - 1] != '\0')
        return -EBADMSG;
    while (used < size) {
        const char *text = (const char *)desc + used;
        size_t length = strlen(text); /* stops at the final NUL at the latest */

        if (length == 0 || count == sizeof strings / sizeof strings[0])
            return -EBADMSG;
        strings[count++] = text;
        used += length + 1;
    }
    if (count < 2)
        return -EBADMSG;
    *out = (struct pyprobe__signature){.provider = strings[0], .name = strings[1], .argc = (unsigned)(count - 2)};
    memcpy(out->types, strings + 2, (count - 2) * sizeof *strings);
    return 0;
}

int pyprobe__signatures_read(const struct pyprobe__elf *elf, struct pyprobe__signature **out, size_t *malformed)
{
    struct pyprobe__elf_note_iter it;
    struct pyprobe__elf_note note;
    struct pyprobe__signature signature, *array = NULL;
    size_t count = 0, capacity = 0;
    int rc;

    if (!elf || !out || !malformed)
        return -EINVAL;
    *malformed = 0;
    pyprobe__elf_notes_begin(elf, PYPROBE_SIGNATURE_SECTION, &it);
    while ((rc = pyprobe__elf_notes_next(&it, &note)) > 0) {
        if (!pyprobe__elf_note_is(&note, PYPROBE_SIGNATURE_OWNER, PYPROBE_SIGNATURE_TYPE))
            continue;
        if (pyprobe__signature_parse(note.desc, note.desc_size, &signature) != 0)
            ++*malformed;
        else if (pyprobe__grow(&array, &capacity, count + 1, sizeof *array) != 0)
            break;
        else
            array[count++] = signature;
    }
    if (rc > 0) {
        free(array);
        return -ENOMEM;
    }
    /* A section whose framing breaks: the notes before the break count. */
    *malformed += rc < 0;
    *out = array;
    return (int)count;
}

const struct pyprobe__signature *pyprobe__signature_find(const struct pyprobe__signature *signatures, size_t count,
                                                       const char *provider, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(signatures[i].provider, provider) == 0 && strcmp(signatures[i].name, name) == 0)
            return &signatures[i];
    return NULL;
}
