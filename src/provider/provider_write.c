/* The argument-type notes' C source, and the file for dtrace (see
 * provider_write.h). */
#define _GNU_SOURCE /* asprintf */
#include "provider_write.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_identifier(const char *s)
{
    if (!*s || strchr("0123456789", *s))
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

/* One note's asm statement: provider, probe, then its types. The strings
 * need no escaping: names are identifiers, types words, spaces and '*'. */
static void write_note(FILE *f, const char *provider, const struct pyprobe__d_probe *probe)
{
    fprintf(f, "__asm__(PYPROBE_SIGNATURE_NOTE_BEGIN\n");
    fprintf(f, "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"%s\\\"\")\n", provider);
    fprintf(f, "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"%s\\\"\")\n", probe->name);
    for (unsigned i = 0; i < probe->argc; i++)
        fprintf(f, "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"%s\\\"\")\n", probe->types[i]);
    fprintf(f, "        PYPROBE_SIGNATURE_NOTE_END);\n");
}

int pyprobe__d_notes_source(const struct pyprobe__d_file *file, const char *source_name, const char *anchor,
                            char **out)
{
    size_t size;
    FILE *f;

    if (!file || !source_name || !out || (anchor && !is_identifier(anchor)) || strstr(source_name, "*/"))
        return -EINVAL;
    *out = NULL;
    f = open_memstream(out, &size);
    if (!f)
        return -ENOMEM;
    fprintf(f, "/* Generated from %s by pyprobe-provider: the C argument\n"
               " * types of its %zu probes, for listers. */\n"
               "#include <pyprobe/notes.h>\n\n",
            source_name, pyprobe__d_probe_count(file));
    for (size_t i = 0; i < file->count; i++)
        for (size_t j = 0; j < file->providers[i].count; j++)
            write_note(f, file->providers[i].name, &file->providers[i].probes[j]);
    if (anchor)
        fprintf(f, "\n/* Required with -u by programs that link the static library, so that this\n"
                   " * object and its notes are linked in though no code refers to them. */\n"
                   "__attribute__((visibility(\"hidden\"), used)) const char %s = 1;\n",
                anchor);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* ==== the file for systemtap's dtrace ==== */

/* A type's words (up to 8) before its first '*', and whether a '*' run
 * ends it (normalised text: "const char *", "char **", "char *const"). */
struct type_words {
    char text[128];
    const char *word[8];
    size_t count;
    bool stars, after_stars;
};

static void split_type(const char *type, struct type_words *w)
{
    char *token, *rest;

    *w = (struct type_words){0};
    snprintf(w->text, sizeof w->text, "%s", type);
    for (token = strtok_r(w->text, " ", &rest); token; token = strtok_r(NULL, " ", &rest)) {
        if (w->stars || (token[0] == '*' && token[strspn(token, "*")] != '\0'))
            w->after_stars = true;
        else if (token[0] == '*')
            w->stars = true;
        else if (w->count < sizeof w->word / sizeof w->word[0])
            w->word[w->count++] = token;
        else
            w->after_stars = true; /* too long to bother: joined */
    }
}

/* Whether dtrace's grammar, [struct|unsigned|const] NAME [const] [*...]
 * [NAME], reads the whole type (pyparsing: an optional part that matched
 * is never given back). */
static bool grammar_reads(const struct type_words *w)
{
    size_t i = 0;

    if (w->after_stars)
        return false;
    if (i < w->count && (!strcmp(w->word[i], "struct") || !strcmp(w->word[i], "unsigned") ||
                         !strcmp(w->word[i], "const")))
        i++;
    if (i++ >= w->count)
        return false; /* no NAME */
    if (i < w->count && !strcmp(w->word[i], "const"))
        i++;
    if (!w->stars && i < w->count)
        i++; /* read as a parameter name */
    return i == w->count;
}

/* One argument as dtrace is given it: the type itself when the grammar
 * reads it, else its words joined by '_' and its stars. */
static void write_dtrace_type(FILE *f, const char *type)
{
    struct type_words w;

    split_type(type, &w);
    if (grammar_reads(&w)) {
        fputs(type, f);
        return;
    }
    for (size_t i = 0; i < w.count; i++)
        fprintf(f, "%s%s", i ? "_" : "", w.word[i]);
    if (w.count == 1 && !strcmp(w.word[0], "unsigned"))
        fputs(" int", f); /* alone, "unsigned" is the grammar's prefix, with no NAME */
    if (strchr(type, '*'))
        fputc(' ', f);
    for (const char *c = type; *c; c++)
        if (*c == '*')
            fputc('*', f);
}

int pyprobe__d_dtrace_source(const struct pyprobe__d_file *file, char **out)
{
    size_t size;
    FILE *f;

    if (!file || !out)
        return -EINVAL;
    *out = NULL;
    f = open_memstream(out, &size);
    if (!f)
        return -ENOMEM;
    for (size_t i = 0; i < file->count; i++) {
        const struct pyprobe__d_provider *provider = &file->providers[i];

        fprintf(f, "provider %s {\n", provider->name);
        for (size_t j = 0; j < provider->count; j++) {
            fprintf(f, "    probe %s(", provider->probes[j].name);
            for (unsigned k = 0; k < provider->probes[j].argc; k++) {
                fputs(k ? ", " : "", f);
                write_dtrace_type(f, provider->probes[j].types[k]);
            }
            fputs(");\n", f);
        }
        fputs("};\n", f);
    }
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* Whether the file at path holds exactly `text`. */
static int holds(const char *path, const char *text)
{
    size_t length = strlen(text), got;
    char *buffer = malloc(length + 1);
    FILE *f = fopen(path, "rbe");
    int same = 0;

    if (buffer && f) {
        got = fread(buffer, 1, length + 1, f);
        same = got == length && memcmp(buffer, text, length) == 0;
    }
    if (f)
        fclose(f);
    free(buffer);
    return same;
}

int pyprobe__write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    int rc = 0;

    if (!f)
        return -errno;
    if (fputs(text, f) == EOF)
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int pyprobe__write_if_changed(const char *path, const char *text)
{
    char *temporary;
    int rc;

    if (!path || !text)
        return -EINVAL;
    if (holds(path, text))
        return 0;
    if (asprintf(&temporary, "%s.tmp", path) < 0)
        return -ENOMEM;
    rc = pyprobe__write_file(temporary, text);
    if (rc == 0 && rename(temporary, path) != 0)
        rc = -errno;
    if (rc != 0)
        remove(temporary);
    free(temporary);
    return rc;
}
