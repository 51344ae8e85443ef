/* The provider file reader (see provider_parse.h): a lexer of one token of
 * lookahead, and a recursive-descent parser that stops at the first mistake. */
#include "provider_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "pyprobe_runtime.h" /* PYPROBE_PROVIDER_NAME_MAX, PYPROBE_PROBE_NAME_MAX */
#include "rt_types.h"

enum token_kind { TOKEN_END, TOKEN_WORD, TOKEN_NUMBER, TOKEN_PUNCT };

struct token {
    enum token_kind kind;
    const char *text;
    size_t length;
    struct pyprobe__d_position at;
};

struct parser {
    const char *cursor, *end;
    struct pyprobe__d_position here; /* the cursor's */
    bool line_has_token;             /* a '#' after a token is no directive */
    struct token token;              /* the current one */
    struct pyprobe__d_position after_previous; /* just past the token before it */
    struct pyprobe__d_file *file;
};

static int fail(struct parser *p, struct pyprobe__d_position at, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, struct pyprobe__d_position at, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    vsnprintf(p->file->error, sizeof p->file->error, format, ap);
    va_end(ap);
    p->file->error_at = at;
    return -EINVAL;
}

/* ==== the lexer ==== */

static bool is_word_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool at_end(const struct parser *p)
{
    return p->cursor == p->end;
}

/* Moves past the byte at the cursor, which must be printable ASCII or
 * white space: 0 or -EINVAL. */
static int advance(struct parser *p)
{
    unsigned char c = (unsigned char)*p->cursor;

    if (c >= 0x80)
        return fail(p, p->here, "non-ASCII byte 0x%02x: a provider file is ASCII", c);
    if ((c < 0x20 && c != '\n' && !is_blank((char)c)) || c == 0x7f)
        return fail(p, p->here, "unexpected control byte 0x%02x", c);
    p->cursor++;
    if (c == '\n') {
        p->here.line++;
        p->here.column = 1;
        p->line_has_token = false;
    } else {
        p->here.column++;
    }
    return 0;
}

static bool looking_at(const struct parser *p, const char *text)
{
    size_t length = strlen(text);

    return (size_t)(p->end - p->cursor) >= length && memcmp(p->cursor, text, length) == 0;
}

/* Moves past `count` bytes. */
static int skip_bytes(struct parser *p, size_t count)
{
    int rc = 0;

    while (rc == 0 && !at_end(p) && count-- > 0)
        rc = advance(p);
    return rc;
}

/* Moves to the end of the line. */
static int skip_line(struct parser *p)
{
    int rc = 0;

    while (rc == 0 && !at_end(p) && *p->cursor != '\n')
        rc = advance(p);
    return rc;
}

static int skip_block_comment(struct parser *p)
{
    struct pyprobe__d_position start = p->here;
    int rc = skip_bytes(p, 2);

    while (rc == 0 && !looking_at(p, "*/")) {
        if (at_end(p))
            return fail(p, start, "unterminated comment");
        rc = advance(p);
    }
    return rc ? rc : skip_bytes(p, 2);
}

/* A '#' that starts a line: #pragma lines (D's stability attributes) are
 * skipped; anything else needs the C preprocessor, which dtrace -C would
 * run but pyprobe_add_provider() does not. */
static int skip_directive(struct parser *p)
{
    struct pyprobe__d_position start = p->here;
    const char *word;
    int rc = skip_bytes(p, 1);

    while (rc == 0 && !at_end(p) && is_blank(*p->cursor))
        rc = advance(p);
    word = p->cursor;
    while (rc == 0 && !at_end(p) && is_word_start(*p->cursor))
        rc = advance(p);
    if (rc == 0 && !(p->cursor - word == 6 && memcmp(word, "pragma", 6) == 0))
        return fail(p, start, "'#%.*s' is not supported: a provider file is not preprocessed (only #pragma lines)",
                    (int)(p->cursor - word < 32 ? p->cursor - word : 32), word);
    return rc ? rc : skip_line(p);
}

/* White space, comments and directives before the next token. */
static int skip_space(struct parser *p)
{
    int rc = 0;

    while (rc == 0 && !at_end(p)) {
        if (*p->cursor == '\n' || is_blank(*p->cursor))
            rc = advance(p);
        else if (looking_at(p, "/*"))
            rc = skip_block_comment(p);
        else if (looking_at(p, "//"))
            rc = skip_line(p);
        else if (*p->cursor == '#' && !p->line_has_token)
            rc = skip_directive(p);
        else
            break;
    }
    return rc;
}

/* Reads the next token into p->token. */
static int lex(struct parser *p)
{
    struct token *t = &p->token;
    int rc;

    p->after_previous = p->here;
    rc = skip_space(p);
    if (rc != 0)
        return rc;
    *t = (struct token){.kind = TOKEN_END, .text = p->cursor, .at = p->here};
    if (at_end(p))
        return 0;
    if (is_word_start(*p->cursor) || is_digit(*p->cursor)) {
        t->kind = is_digit(*p->cursor) ? TOKEN_NUMBER : TOKEN_WORD;
        while (rc == 0 && !at_end(p) && (is_word_start(*p->cursor) || is_digit(*p->cursor)))
            rc = advance(p);
    } else {
        t->kind = TOKEN_PUNCT;
        rc = advance(p);
    }
    t->length = (size_t)(p->cursor - t->text);
    p->line_has_token = true;
    return rc;
}

static bool is_punct(const struct parser *p, char c)
{
    return p->token.kind == TOKEN_PUNCT && p->token.text[0] == c;
}

static bool is_word(const struct parser *p, const char *word)
{
    return p->token.kind == TOKEN_WORD && p->token.length == strlen(word) &&
           memcmp(p->token.text, word, p->token.length) == 0;
}

/* The current token, for messages: 'probe', 'x...', end of file. */
static const char *describe(const struct parser *p, char *buffer, size_t size)
{
    const struct token *t = &p->token;

    if (t->kind == TOKEN_END)
        return "end of file";
    snprintf(buffer, size, "'%.*s%s'", (int)(t->length < 32 ? t->length : 32), t->text, t->length > 32 ? "..." : "");
    return buffer;
}

/* ==== types ==== */

enum base { BASE_NONE, BASE_VOID, BASE_CHAR, BASE_INT, BASE_BOOL, BASE_FLOAT, BASE_DOUBLE, BASE_TYPEDEF, BASE_ENUM,
            BASE_RECORD };
enum word_kind { WORD_BASE, WORD_SIGN, WORD_SHORT, WORD_LONG, WORD_QUALIFIER, WORD_TAG };

static const struct type_word {
    const char *word;
    enum word_kind kind;
    enum base base;
} type_words[] = {
    {"void", WORD_BASE, BASE_VOID},     {"char", WORD_BASE, BASE_CHAR},       {"int", WORD_BASE, BASE_INT},
    {"_Bool", WORD_BASE, BASE_BOOL},    {"float", WORD_BASE, BASE_FLOAT},     {"double", WORD_BASE, BASE_DOUBLE},
    {"signed", WORD_SIGN, BASE_NONE},   {"unsigned", WORD_SIGN, BASE_NONE},   {"short", WORD_SHORT, BASE_NONE},
    {"long", WORD_LONG, BASE_NONE},     {"const", WORD_QUALIFIER, BASE_NONE}, {"volatile", WORD_QUALIFIER, BASE_NONE},
    {"struct", WORD_TAG, BASE_RECORD},  {"union", WORD_TAG, BASE_RECORD},     {"enum", WORD_TAG, BASE_ENUM},
};

/* Integer typedefs of <stdint.h>, <stddef.h> and <sys/types.h> beyond the
 * fixed-width ones, which come from the runtime's table. */
static const char *const extra_typedefs[] = {"intptr_t", "uintptr_t", "size_t", "ssize_t", "ptrdiff_t", "off_t",
                                             "pid_t"};

static const struct type_word *type_word(const struct parser *p)
{
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++)
        if (is_word(p, type_words[i].word))
            return &type_words[i];
    return NULL;
}

/* A single-word C type of the runtime's table (int8_t ...), or one above. */
static bool is_typedef(const struct parser *p)
{
    for (int type = PYPROBE__ARG_TYPE_FIRST; type <= PYPROBE__ARG_TYPE_LAST; type++) {
        const char *name = pyprobe__arg_types[type].c_type;

        if (!strpbrk(name, " *") && is_word(p, name))
            return true;
    }
    for (size_t i = 0; i < sizeof extra_typedefs / sizeof extra_typedefs[0]; i++)
        if (is_word(p, extra_typedefs[i]))
            return true;
    return false;
}

/* One argument's type as it is being read. */
struct type {
    char text[128];
    size_t length;
    enum base base;
    unsigned signs, shorts, longs, pointers;
    bool named; /* a parameter name followed it */
    struct pyprobe__d_position at;
};

static bool specified(const struct type *t)
{
    return t->base != BASE_NONE || t->signs || t->shorts || t->longs;
}

/* Whether a specifier of `kind` (and `base`) may join those of t, as in C. */
static bool combines(const struct type *t, enum word_kind kind, enum base base)
{
    bool integer = t->base == BASE_NONE || t->base == BASE_INT;

    switch (kind) {
    case WORD_SIGN:
        return !t->signs && (integer || t->base == BASE_CHAR);
    case WORD_SHORT:
        return !t->shorts && !t->longs && integer;
    case WORD_LONG:
        return !t->shorts && t->longs < 2 && (integer || (t->base == BASE_DOUBLE && !t->longs && !t->signs));
    case WORD_BASE:
    case WORD_TAG:
        if (t->base != BASE_NONE)
            return false;
        if (base == BASE_INT)
            return true;
        if (base == BASE_CHAR)
            return !t->shorts && !t->longs;
        if (base == BASE_DOUBLE)
            return !t->signs && !t->shorts && t->longs <= 1;
        return !t->signs && !t->shorts && !t->longs;
    case WORD_QUALIFIER:
        return true;
    }
    return false;
}

/* Appends the current token (or "*") to the type's text, spaced as dtrace
 * prints types: "const char *", "char **", "char *const". */
static int append(struct parser *p, struct type *t, const char *text, size_t length)
{
    bool space = t->length > 0 && t->text[t->length - 1] != '*';
    size_t needed = t->length + space + length;

    if (needed >= sizeof t->text)
        return fail(p, p->token.at, "argument type longer than %zu characters", sizeof t->text - 1);
    if (space)
        t->text[t->length++] = ' ';
    memcpy(t->text + t->length, text, length);
    t->length = needed;
    t->text[needed] = '\0';
    return 0;
}

static int append_token(struct parser *p, struct type *t)
{
    int rc = append(p, t, p->token.text, p->token.length);

    return rc ? rc : lex(p);
}

/* A specifier or qualifier word of the table. */
static int type_keyword(struct parser *p, struct type *t, const struct type_word *w)
{
    char found[48];
    int rc;

    if (w->kind != WORD_QUALIFIER && t->pointers)
        return fail(p, p->token.at, "unexpected %s after '*'", describe(p, found, sizeof found));
    if (!combines(t, w->kind, w->base))
        return fail(p, p->token.at, "invalid type '%s %s'", t->text, w->word);
    t->signs += w->kind == WORD_SIGN;
    t->shorts += w->kind == WORD_SHORT;
    t->longs += w->kind == WORD_LONG;
    if (w->kind == WORD_BASE || w->kind == WORD_TAG)
        t->base = w->base;
    rc = append_token(p, t);
    if (rc != 0 || w->kind != WORD_TAG)
        return rc;
    if (p->token.kind != TOKEN_WORD || type_word(p))
        return fail(p, p->after_previous, "expected a tag name after '%s'", w->word);
    return append_token(p, t);
}

/* TYPE [NAME]: the type's text into *t; the name is read and dropped. */
static int parse_type(struct parser *p, struct type *t)
{
    const struct type_word *w;
    char found[48];
    int rc = 0;

    *t = (struct type){.at = p->token.at};
    while (rc == 0) {
        if (is_punct(p, '*') && specified(t)) {
            t->pointers++;
            rc = append_token(p, t);
        } else if (p->token.kind != TOKEN_WORD) {
            break;
        } else if ((w = type_word(p))) {
            rc = type_keyword(p, t, w);
        } else if (!specified(t) && is_typedef(p)) {
            t->base = BASE_TYPEDEF;
            rc = append_token(p, t);
        } else if (!specified(t)) {
            return fail(p, p->token.at, "unknown type '%.*s'", (int)(p->token.length < 64 ? p->token.length : 64),
                        p->token.text);
        } else {
            t->named = true; /* the argument's name */
            return lex(p);
        }
    }
    if (rc == 0 && !specified(t))
        return fail(p, p->token.at, "expected an argument type, found %s", describe(p, found, sizeof found));
    if (rc == 0 && t->base == BASE_RECORD && !t->pointers)
        return fail(p, t->at, "a '%s' argument must be a pointer ('%s *')", t->text, t->text);
    return rc;
}

/* ==== declarations ==== */

/* The current token as a name of at most `max` characters, malloc'd. */
static int take_name(struct parser *p, const char *what, size_t max, char **out)
{
    char found[48];

    if (p->token.kind != TOKEN_WORD || type_word(p))
        return fail(p, p->token.at, "expected a %s name, found %s", what, describe(p, found, sizeof found));
    if (p->token.length > max)
        return fail(p, p->token.at, "%s name of %zu characters: at most %zu (perf's and the kernel's limit)", what,
                    p->token.length, max);
    *out = strndup(p->token.text, p->token.length);
    return *out ? lex(p) : -ENOMEM;
}

/* Fails unless the current token is the punctuation `c`, reported just past
 * the token before it, as a compiler does ("expected ';' after ..."). */
static int expect(struct parser *p, char c, const char *after)
{
    if (!is_punct(p, c))
        return fail(p, p->after_previous, "expected '%c' after %s", c, after);
    return lex(p);
}

/* ( [TYPE [NAME] {, TYPE [NAME]}] | void ) up to, not including, ')'. */
static int parse_arguments(struct parser *p, struct pyprobe__d_probe *probe)
{
    struct type t;
    int rc;

    if (is_punct(p, ')'))
        return 0;
    for (;;) {
        if (probe->argc == PYPROBE_MAX_PROBE_ARGS)
            return fail(p, p->token.at, "probe '%s' has more than %d arguments (PYPROBE_MAX_PROBE_ARGS)", probe->name,
                        PYPROBE_MAX_PROBE_ARGS);
        rc = parse_type(p, &t);
        if (rc != 0)
            return rc;
        if (t.base == BASE_VOID && !t.pointers) {
            if (probe->argc == 0 && !t.named && strcmp(t.text, "void") == 0 && is_punct(p, ')'))
                return 0;
            return fail(p, t.at, "a 'void' argument must be a pointer ('void *')");
        }
        probe->types[probe->argc] = strdup(t.text);
        if (!probe->types[probe->argc])
            return -ENOMEM;
        probe->argc++;
        if (!is_punct(p, ','))
            return 0;
        rc = lex(p);
        if (rc != 0)
            return rc;
    }
}

static int parse_probe(struct parser *p, struct pyprobe__d_provider *provider)
{
    struct pyprobe__d_probe *probe;
    int rc = lex(p); /* past 'probe' */

    if (rc == 0)
        rc = pyprobe__grow(&provider->probes, &provider->capacity, provider->count + 1, sizeof *provider->probes);
    if (rc != 0)
        return rc;
    probe = &provider->probes[provider->count++];
    *probe = (struct pyprobe__d_probe){.at = p->token.at};
    rc = take_name(p, "probe", PYPROBE_PROBE_NAME_MAX, &probe->name);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i + 1 < provider->count; i++)
        if (strcmp(provider->probes[i].name, probe->name) == 0)
            return fail(p, probe->at, "duplicate probe '%s' in provider '%s' (first declared at %u:%u)", probe->name,
                        provider->name, provider->probes[i].at.line, provider->probes[i].at.column);
    rc = expect(p, '(', "probe name");
    if (rc == 0)
        rc = parse_arguments(p, probe);
    if (rc == 0)
        rc = expect(p, ')', "argument list");
    return rc ? rc : expect(p, ';', "probe declaration");
}

static int parse_provider(struct parser *p)
{
    struct pyprobe__d_file *file = p->file;
    struct pyprobe__d_provider *provider;
    char found[48];
    int rc;

    if (!is_word(p, "provider"))
        return fail(p, p->token.at, "expected 'provider', found %s", describe(p, found, sizeof found));
    rc = lex(p);
    if (rc == 0)
        rc = pyprobe__grow(&file->providers, &file->capacity, file->count + 1, sizeof *file->providers);
    if (rc != 0)
        return rc;
    provider = &file->providers[file->count++];
    *provider = (struct pyprobe__d_provider){.at = p->token.at};
    rc = take_name(p, "provider", PYPROBE_PROVIDER_NAME_MAX, &provider->name);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i + 1 < file->count; i++)
        if (strcmp(file->providers[i].name, provider->name) == 0)
            return fail(p, provider->at, "duplicate provider '%s' (first declared at %u:%u)", provider->name,
                        file->providers[i].at.line, file->providers[i].at.column);
    rc = expect(p, '{', "provider name");
    while (rc == 0 && is_word(p, "probe"))
        rc = parse_probe(p, provider);
    if (rc != 0)
        return rc;
    if (p->token.kind == TOKEN_END)
        return fail(p, p->after_previous, "expected '}' at the end of provider '%s'", provider->name);
    if (!is_punct(p, '}'))
        return fail(p, p->token.at, "expected 'probe' or '}' in provider '%s', found %s", provider->name,
                    describe(p, found, sizeof found));
    if (provider->count == 0)
        return fail(p, provider->at, "provider '%s' declares no probes", provider->name);
    rc = lex(p);
    return rc ? rc : expect(p, ';', "provider declaration");
}

/* ==== the file ==== */

static void free_provider(struct pyprobe__d_provider *provider)
{
    for (size_t i = 0; i < provider->count; i++) {
        free(provider->probes[i].name);
        for (unsigned j = 0; j < provider->probes[i].argc; j++)
            free(provider->probes[i].types[j]);
    }
    free(provider->probes);
    free(provider->name);
}

void pyprobe__d_free(struct pyprobe__d_file *file)
{
    if (!file)
        return;
    for (size_t i = 0; i < file->count; i++)
        free_provider(&file->providers[i]);
    free(file->providers);
    file->providers = NULL;
    file->count = file->capacity = 0;
}

int pyprobe__d_parse(const char *text, size_t size, struct pyprobe__d_file *out)
{
    struct parser p = {.cursor = text, .end = text + size, .here = {1, 1}, .file = out};
    int rc;

    if (!out || (!text && size))
        return -EINVAL;
    *out = (struct pyprobe__d_file){0};
    rc = lex(&p);
    while (rc == 0 && p.token.kind != TOKEN_END)
        rc = parse_provider(&p);
    if (rc == 0 && out->count == 0)
        rc = fail(&p, p.token.at, "%s", size ? "no provider declared" : "empty file: no provider declared");
    if (rc == -ENOMEM)
        fail(&p, p.token.at, "out of memory");
    if (rc != 0)
        pyprobe__d_free(out);
    return rc;
}

int pyprobe__d_read(const char *path, struct pyprobe__d_file *out)
{
    char *text = NULL;
    size_t size = 0, capacity = 0;
    ssize_t got;
    int fd, rc = 0;

    if (!path || !out)
        return -EINVAL;
    *out = (struct pyprobe__d_file){0};
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (;;) {
        if (size > PYPROBE_D_FILE_MAX) {
            rc = -EFBIG;
            break;
        }
        rc = pyprobe__grow(&text, &capacity, size + 4096, 1);
        if (rc != 0)
            break;
        got = read(fd, text + size, capacity - size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            rc = got < 0 ? -errno : 0;
            break;
        }
        size += (size_t)got;
    }
    close(fd);
    if (rc == 0)
        rc = pyprobe__d_parse(text, size, out);
    free(text);
    return rc;
}

size_t pyprobe__d_probe_count(const struct pyprobe__d_file *file)
{
    size_t count = 0;

    for (size_t i = 0; i < file->count; i++)
        count += file->providers[i].count;
    return count;
}
