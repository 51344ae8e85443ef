/*
 * d_lex.c - D's lexer (the tokens of illumos' dt_lex.l that real scripts
 * use), reading a length-bounded buffer: any byte may appear, a NUL too.
 */
#include <ctype.h>
#include <string.h>

#include "d_lex.h"
#include "digit.h"

/* Operators, longest first so that the first match is the longest. */
static const struct {
    const char *text;
    enum pyprobe__d_op op;
} operators[] = {
    {"<<=", PYPROBE__D_OP_SHL_ASSIGN}, {">>=", PYPROBE__D_OP_SHR_ASSIGN},
    {"->", PYPROBE__D_OP_ARROW}, {"++", PYPROBE__D_OP_INC}, {"--", PYPROBE__D_OP_DEC},
    {"<<", PYPROBE__D_OP_SHL}, {">>", PYPROBE__D_OP_SHR}, {"<=", PYPROBE__D_OP_LE},
    {">=", PYPROBE__D_OP_GE}, {"==", PYPROBE__D_OP_EQ}, {"!=", PYPROBE__D_OP_NE},
    {"&&", PYPROBE__D_OP_LAND}, {"||", PYPROBE__D_OP_LOR}, {"^^", PYPROBE__D_OP_LXOR},
    {"+=", PYPROBE__D_OP_ADD_ASSIGN}, {"-=", PYPROBE__D_OP_SUB_ASSIGN}, {"*=", PYPROBE__D_OP_MUL_ASSIGN},
    {"/=", PYPROBE__D_OP_DIV_ASSIGN}, {"%=", PYPROBE__D_OP_MOD_ASSIGN}, {"&=", PYPROBE__D_OP_AND_ASSIGN},
    {"|=", PYPROBE__D_OP_OR_ASSIGN}, {"^=", PYPROBE__D_OP_XOR_ASSIGN},
    {"+", PYPROBE__D_OP_ADD}, {"-", PYPROBE__D_OP_SUB}, {"*", PYPROBE__D_OP_MUL}, {"/", PYPROBE__D_OP_DIV},
    {"%", PYPROBE__D_OP_MOD}, {"<", PYPROBE__D_OP_LT}, {">", PYPROBE__D_OP_GT}, {"=", PYPROBE__D_OP_ASSIGN},
    {"!", PYPROBE__D_OP_NOT}, {"~", PYPROBE__D_OP_BNOT}, {"&", PYPROBE__D_OP_BAND}, {"|", PYPROBE__D_OP_BOR},
    {"^", PYPROBE__D_OP_BXOR}, {"?", PYPROBE__D_OP_QUESTION}, {":", PYPROBE__D_OP_COLON},
    {",", PYPROBE__D_OP_COMMA}, {";", PYPROBE__D_OP_SEMI}, {"(", PYPROBE__D_OP_LPAREN},
    {")", PYPROBE__D_OP_RPAREN}, {"[", PYPROBE__D_OP_LBRACKET}, {"]", PYPROBE__D_OP_RBRACKET},
    {"{", PYPROBE__D_OP_LBRACE}, {"}", PYPROBE__D_OP_RBRACE}, {".", PYPROBE__D_OP_DOT},
    {"`", PYPROBE__D_OP_BACKQUOTE},
};

const char *pyprobe__d_op_text(enum pyprobe__d_op op)
{
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++)
        if (operators[i].op == op)
            return operators[i].text;
    return "?";
}

/* ---- reading the buffer ---- */

/* The byte `k` ahead, or -1 past the end. */
static int peek(const struct pyprobe__d_lexer *lexer, size_t k)
{
    if (lexer->pos + k >= lexer->length)
        return -1;
    return (unsigned char)lexer->source[lexer->pos + k];
}

static void advance(struct pyprobe__d_lexer *lexer, size_t n)
{
    for (; n > 0 && lexer->pos < lexer->length; n--) {
        if (lexer->source[lexer->pos++] == '\n') {
            lexer->line++;
            lexer->line_start = lexer->pos;
        }
    }
}

static int column(const struct pyprobe__d_lexer *lexer)
{
    return (int)(lexer->pos - lexer->line_start) + 1;
}

static _Noreturn void fail_here(struct pyprobe__d_lexer *lexer, const char *message)
{
    pyprobe__d_fail(lexer->ctx, lexer->file, lexer->line, column(lexer), "%s", message);
}

/* An error in a token, reported where the token starts. */
static _Noreturn void fail_token(struct pyprobe__d_lexer *lexer, const struct pyprobe__d_token *token,
                                 const char *message)
{
    pyprobe__d_fail(lexer->ctx, lexer->file, token->line, token->column, "%s", message);
}

/* A character that cannot be where it is, quoted when printable. */
static _Noreturn void fail_char(struct pyprobe__d_lexer *lexer, const char *what, int c)
{
    if (c > ' ' && c < 127)
        pyprobe__d_fail(lexer->ctx, lexer->file, lexer->line, column(lexer), "%s '%c'", what, c);
    pyprobe__d_fail(lexer->ctx, lexer->file, lexer->line, column(lexer), "%s (byte 0x%02x)", what, c & 0xff);
}

static bool is_ident_start(int c)
{
    return c == '_' || (c >= 0 && c < 128 && isalpha(c));
}

static bool is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool at_line_start(const struct pyprobe__d_lexer *lexer)
{
    for (size_t i = lexer->line_start; i < lexer->pos; i++)
        if (lexer->source[i] != ' ' && lexer->source[i] != '\t')
            return false;
    return true;
}

static void skip_to_line_end(struct pyprobe__d_lexer *lexer)
{
    while (peek(lexer, 0) >= 0 && peek(lexer, 0) != '\n')
        advance(lexer, 1);
}

/* ---- directives: #pragma D option, and the ones we refuse ---- */

/* The next white-space separated word of the directive line. */
static const char *directive_word(struct pyprobe__d_lexer *lexer)
{
    size_t start;

    while (peek(lexer, 0) == ' ' || peek(lexer, 0) == '\t')
        advance(lexer, 1);
    start = lexer->pos;
    while (peek(lexer, 0) > ' ')
        advance(lexer, 1);
    return pyprobe__d_strndup(lexer->ctx, lexer->source + start, lexer->pos - start);
}

static void pragma_option(struct pyprobe__d_lexer *lexer, int line, int col)
{
    struct pyprobe__d_pragma *pragma = pyprobe__d_alloc(lexer->ctx, sizeof *pragma);
    char *word = (char *)directive_word(lexer), *equals = strchr(word, '=');

    if (!*word)
        pyprobe__d_fail(lexer->ctx, lexer->file, line, col, "#pragma D option needs an option name");
    if (equals) {
        *equals = '\0';
        pragma->value = equals + 1;
    }
    pragma->name = word;
    pragma->file = lexer->file;
    pragma->line = line;
    pragma->column = col;
    pyprobe__d_push(lexer->ctx, &lexer->program->pragmas, pragma);
}

/* `#` at the start of a line: `#pragma D option` is recorded; other pragmas
 * are ignored, as cpp ignores unknown ones; cpp's own directives would need
 * dtrace -C. */
static void directive(struct pyprobe__d_lexer *lexer)
{
    int line = lexer->line, col = column(lexer);
    const char *word;

    advance(lexer, 1);
    word = directive_word(lexer);
    if (strcmp(word, "pragma") == 0) {
        if (strcmp(directive_word(lexer), "D") == 0 && strcmp(directive_word(lexer), "option") == 0)
            pragma_option(lexer, line, col);
    } else if (*word && strcmp(word, "line") != 0 && strcmp(word, "ident") != 0) {
        pyprobe__d_fail(lexer->ctx, lexer->file, line, col,
                        "#%s: C preprocessor directives (dtrace -C) are not supported", word);
    }
    skip_to_line_end(lexer);
}

static void skip_comment(struct pyprobe__d_lexer *lexer)
{
    int line = lexer->line, col = column(lexer);

    advance(lexer, 2);
    while (!(peek(lexer, 0) == '*' && peek(lexer, 1) == '/')) {
        if (peek(lexer, 0) < 0)
            pyprobe__d_fail(lexer->ctx, lexer->file, line, col, "the comment is not closed (*/)");
        advance(lexer, 1);
    }
    advance(lexer, 2);
}

static void skip_space(struct pyprobe__d_lexer *lexer)
{
    for (;;) {
        int c = peek(lexer, 0);

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            advance(lexer, 1);
        else if (c == '/' && peek(lexer, 1) == '*')
            skip_comment(lexer);
        else if (c == '/' && peek(lexer, 1) == '/')
            skip_to_line_end(lexer);
        else if (c == '#' && lexer->pos == 0 && peek(lexer, 1) == '!')
            skip_to_line_end(lexer);
        else if (c == '#' && at_line_start(lexer))
            directive(lexer);
        else
            return;
    }
}

/* ---- tokens ---- */

static struct pyprobe__d_token start_token(struct pyprobe__d_lexer *lexer, enum pyprobe__d_token_kind kind)
{
    struct pyprobe__d_token token = {.kind = kind, .line = lexer->line, .column = column(lexer),
                                     .offset = lexer->pos, .text = lexer->source + lexer->pos};
    return token;
}

static void end_token(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    token->length = lexer->pos - token->offset;
}

static void lex_ident(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    while (is_ident_char(peek(lexer, 0)))
        advance(lexer, 1);
    end_token(lexer, token);
    token->string = pyprobe__d_strndup(lexer->ctx, token->text, token->length);
}

/* C's rules for an integer constant's type: int, then unsigned int (hex
 * and octal only), long, unsigned long; a suffix u or l narrows the list. */
static struct pyprobe__d_type literal_type(uint64_t value, int base, bool u_suffix, bool l_suffix)
{
    struct pyprobe__d_type type = {PYPROBE__D_T_INT, 4, u_suffix};

    if (l_suffix || value > (u_suffix || base != 10 ? UINT32_MAX : INT32_MAX))
        type.size = 8;
    if (type.size == 4 && base != 10 && value > INT32_MAX)
        type.is_unsigned = true;
    if (type.size == 8 && value > INT64_MAX)
        type.is_unsigned = true;
    return type;
}

static void lex_number(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    int base = 10;
    uint64_t value = 0;
    bool u = false, l = false;

    if (peek(lexer, 0) == '0' && (peek(lexer, 1) == 'x' || peek(lexer, 1) == 'X')) {
        base = 16;
        advance(lexer, 2);
        if (pyprobe__digit_value(peek(lexer, 0)) >= 16)
            fail_token(lexer, token, "a hexadecimal constant needs digits");
    } else if (peek(lexer, 0) == '0') {
        base = 8;
    }
    for (int d; (d = pyprobe__digit_value(peek(lexer, 0))) < base; advance(lexer, 1)) {
        if (value > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            fail_token(lexer, token, "the integer constant is too large for 64 bits");
        value = value * (uint64_t)base + (uint64_t)d;
    }
    if (peek(lexer, 0) == '.' || peek(lexer, 0) == 'e' || peek(lexer, 0) == 'E' || is_ident_char(peek(lexer, 0))) {
        for (;;) {
            int c = peek(lexer, 0);

            if ((c == 'u' || c == 'U') && !u)
                u = true;
            else if (c == 'l' || c == 'L')
                l = true;
            else
                break;
            advance(lexer, 1);
        }
        if (peek(lexer, 0) == '.' || is_ident_char(peek(lexer, 0)))
            fail_token(lexer, token, peek(lexer, 0) == '.' || base == 10 ? "floating-point constants are not supported"
                                                                  : "invalid digit in an integer constant");
    }
    end_token(lexer, token);
    token->value = (int64_t)value;
    token->int_type = literal_type(value, base, u, l);
}

/* One character of a string or character constant, escapes decoded. */
static int lex_char(struct pyprobe__d_lexer *lexer, const struct pyprobe__d_token *token, char quote)
{
    static const char escapes[] = "n\nt\tr\rv\vf\fb\ba\a\\\\''\"\"??";
    int c = peek(lexer, 0), value = 0, digits = 0;

    if (c < 0 || c == '\n')
        fail_token(lexer, token, quote == '"' ? "the string is not closed (\")"
                                              : "the character constant is not closed (')");
    advance(lexer, 1);
    if (c != '\\')
        return c;
    c = peek(lexer, 0);
    for (const char *e = escapes; *e; e += 2)
        if (c == e[0]) {
            advance(lexer, 1);
            return (unsigned char)e[1];
        }
    if (c == 'x') {
        advance(lexer, 1);
        for (; digits < 2 && pyprobe__digit_value(peek(lexer, 0)) < 16; digits++, advance(lexer, 1))
            value = value * 16 + pyprobe__digit_value(peek(lexer, 0));
    } else {
        for (; digits < 3 && peek(lexer, 0) >= '0' && peek(lexer, 0) <= '7'; digits++, advance(lexer, 1))
            value = value * 8 + peek(lexer, 0) - '0';
    }
    if (digits == 0)
        fail_char(lexer, "unknown escape sequence after \\:", c);
    return value & 0xff;
}

static void lex_string(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    size_t capacity = 16, used = 0;
    char *text = pyprobe__d_alloc(lexer->ctx, capacity);

    advance(lexer, 1);
    while (peek(lexer, 0) != '"') {
        int c = lex_char(lexer, token, '"');

        if (c == 0)
            fail_here(lexer, "a NUL character (\\0) inside a string constant");
        if (used + 1 == capacity) {
            char *bigger = pyprobe__d_alloc(lexer->ctx, capacity * 2);

            memcpy(bigger, text, used);
            text = bigger;
            capacity *= 2;
        }
        text[used++] = (char)c;
    }
    advance(lexer, 1);
    end_token(lexer, token);
    token->string = text;
}

static void lex_character(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    advance(lexer, 1);
    if (peek(lexer, 0) == '\'')
        fail_here(lexer, "an empty character constant");
    token->value = (signed char)lex_char(lexer, token, '\'');
    if (peek(lexer, 0) != '\'')
        fail_here(lexer, "a character constant holds one character");
    advance(lexer, 1);
    end_token(lexer, token);
    token->int_type = (struct pyprobe__d_type){PYPROBE__D_T_INT, 4, false};
}

/* $N, $$N, $target, $pid, ... */
static void lex_macro(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    size_t start;

    advance(lexer, 1);
    if (peek(lexer, 0) == '$') {
        token->dollar2 = true;
        advance(lexer, 1);
    }
    start = lexer->pos;
    while (is_ident_char(peek(lexer, 0)))
        advance(lexer, 1);
    if (lexer->pos == start)
        fail_token(lexer, token, "a macro variable needs a name or number after $");
    end_token(lexer, token);
    token->string = pyprobe__d_strndup(lexer->ctx, lexer->source + start, lexer->pos - start);
}

static void lex_agg(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    size_t start;

    advance(lexer, 1);
    start = lexer->pos;
    while (is_ident_char(peek(lexer, 0)))
        advance(lexer, 1);
    if (lexer->pos > start && !is_ident_start((unsigned char)lexer->source[start]))
        fail_here(lexer, "an aggregation name starts with a letter or _");
    end_token(lexer, token);
    token->string = pyprobe__d_strndup(lexer->ctx, lexer->source + start, lexer->pos - start);
}

/* dt_lex.l's rule for "/": it ends a predicate when the next character
 * that is not white space is the end, ';', '{' or '/'; else it divides. */
static bool ends_predicate(const struct pyprobe__d_lexer *lexer)
{
    for (size_t k = 0;; k++) {
        int c = peek(lexer, k);

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        return c < 0 || c == ';' || c == '{' || c == '/';
    }
}

static void lex_operator(struct pyprobe__d_lexer *lexer, struct pyprobe__d_token *token)
{
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++) {
        size_t n = strlen(operators[i].text);

        if (lexer->length - lexer->pos >= n && memcmp(lexer->source + lexer->pos, operators[i].text, n) == 0) {
            advance(lexer, n);
            end_token(lexer, token);
            token->op = operators[i].op;
            if (token->op == PYPROBE__D_OP_DIV && ends_predicate(lexer))
                token->kind = PYPROBE__D_TOK_EPRED;
            return;
        }
    }
    fail_char(lexer, "invalid character", peek(lexer, 0));
}

struct pyprobe__d_token pyprobe__d_lex_next(struct pyprobe__d_lexer *lexer)
{
    struct pyprobe__d_token token;
    int c;

    skip_space(lexer);
    c = peek(lexer, 0);
    token = start_token(lexer, PYPROBE__D_TOK_OP);
    if (c < 0)
        token.kind = PYPROBE__D_TOK_EOF;
    else if (is_ident_start(c))
        token.kind = PYPROBE__D_TOK_IDENT, lex_ident(lexer, &token);
    else if (c >= '0' && c <= '9')
        token.kind = PYPROBE__D_TOK_INT, lex_number(lexer, &token);
    else if (c == '"')
        token.kind = PYPROBE__D_TOK_STRING, lex_string(lexer, &token);
    else if (c == '\'')
        token.kind = PYPROBE__D_TOK_INT, lex_character(lexer, &token);
    else if (c == '$')
        token.kind = PYPROBE__D_TOK_MACRO, lex_macro(lexer, &token);
    else if (c == '@')
        token.kind = PYPROBE__D_TOK_AGG, lex_agg(lexer, &token);
    else
        lex_operator(lexer, &token);
    return token;
}

/* dt_lex.l's RGX_PSPEC: the characters of a probe description. */
static bool is_pspec_char(int c)
{
    return c > 0 && c < 128 && (isalnum(c) || strchr("-$:_.?*\\[]!", c));
}

struct pyprobe__d_token pyprobe__d_lex_pspec(struct pyprobe__d_lexer *lexer)
{
    struct pyprobe__d_token token;

    skip_space(lexer);
    token = start_token(lexer, PYPROBE__D_TOK_PSPEC);
    while (is_pspec_char(peek(lexer, 0)))
        advance(lexer, 1);
    end_token(lexer, &token);
    if (token.length == 0)
        return pyprobe__d_lex_next(lexer);
    token.string = pyprobe__d_strndup(lexer->ctx, token.text, token.length);
    return token;
}

void pyprobe__d_lex_rewind(struct pyprobe__d_lexer *lexer, const struct pyprobe__d_token *token)
{
    size_t i = token->offset;

    lexer->pos = i;
    lexer->line = token->line;
    lexer->line_start = i - (size_t)(token->column - 1);
}

void pyprobe__d_lex_init(struct pyprobe__d_lexer *lexer, struct pyprobe__d_ctx *ctx,
                         struct pyprobe__d_program *program, const char *file, const char *source, size_t length)
{
    *lexer = (struct pyprobe__d_lexer){.ctx = ctx, .program = program, .file = file, .source = source,
                                       .length = length, .line = 1};
}

const char *pyprobe__d_token_text(struct pyprobe__d_ctx *ctx, const struct pyprobe__d_token *token)
{
    size_t length = token->length > 40 ? 40 : token->length;
    char *text;

    if (token->kind == PYPROBE__D_TOK_EOF)
        return "end of input";
    text = pyprobe__d_strndup(ctx, token->text, length);
    for (char *p = text; *p; p++)
        if (!isprint((unsigned char)*p))
            *p = '?';
    return text;
}
