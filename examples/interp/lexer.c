/* lexer.c - turns source text into tokens, one at a time. */
#include "lexer.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "util.h"

static const struct {
    const char *word;
    TokenKind kind;
} keywords[] = {
    {"and", TOK_AND},   {"class", TOK_CLASS},   {"elif", TOK_ELIF}, {"else", TOK_ELSE},
    {"end", TOK_END},   {"func", TOK_FUNC},     {"if", TOK_IF},     {"import", TOK_IMPORT},
    {"nil", TOK_NIL},   {"not", TOK_NOT},       {"or", TOK_OR},     {"return", TOK_RETURN},
    {"while", TOK_WHILE},
};

static void skip_blanks(Lexer *lexer, int newlines_too);

void lexer_init(Lexer *lexer, const char *file, const char *source)
{
    lexer->file = file;
    lexer->cursor = source;
    lexer->line = 1;
    skip_blanks(lexer, 1);  /* leading blank and comment lines */
}

static Token make(Lexer *lexer, TokenKind kind, const char *start)
{
    Token token = {kind, start, (int)(lexer->cursor - start), lexer->line, 0};
    lexer->last_line = lexer->line;
    return token;
}

/* Skips spaces and comments, and newlines too when asked (after a newline
 * token, or at the start: blank lines make no tokens). */
static void skip_blanks(Lexer *lexer, int newlines_too)
{
    for (;;) {
        char c = *lexer->cursor;
        if (c == ' ' || c == '\t' || c == '\r') {
            lexer->cursor++;
        } else if (c == '#') {
            while (*lexer->cursor && *lexer->cursor != '\n')
                lexer->cursor++;
        } else if (c == '\n' && newlines_too) {
            lexer->cursor++;
            lexer->line++;
        } else {
            return;
        }
    }
}

static Token lex_number(Lexer *lexer)
{
    const char *start = lexer->cursor;
    long long value = 0;

    while (isdigit((unsigned char)*lexer->cursor)) {
        int digit = *lexer->cursor++ - '0';
        if (value > (LLONG_MAX - digit) / 10)
            fail_at(lexer->file, lexer->line, "syntax error: integer literal too large");
        value = value * 10 + digit;
    }
    Token token = make(lexer, TOK_INT, start);
    token.value = value;
    return token;
}

/* The token's text keeps its escapes; the parser decodes them. */
static Token lex_string(Lexer *lexer)
{
    const char *start = ++lexer->cursor;  /* past the opening quote */

    while (*lexer->cursor != '"') {
        if (*lexer->cursor == '\0' || *lexer->cursor == '\n')
            fail_at(lexer->file, lexer->line, "syntax error: unterminated string");
        if (*lexer->cursor == '\\' && lexer->cursor[1] != '\0' && lexer->cursor[1] != '\n')
            lexer->cursor++;
        lexer->cursor++;
    }
    Token token = make(lexer, TOK_STRING, start);
    lexer->cursor++;  /* past the closing quote */
    return token;
}

static Token lex_word(Lexer *lexer)
{
    const char *start = lexer->cursor;

    while (isalnum((unsigned char)*lexer->cursor) || *lexer->cursor == '_')
        lexer->cursor++;
    Token token = make(lexer, TOK_NAME, start);
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        if (strlen(keywords[i].word) == (size_t)token.length &&
            memcmp(keywords[i].word, start, (size_t)token.length) == 0)
            token.kind = keywords[i].kind;
    }
    return token;
}

static Token lex_char(Lexer *lexer, TokenKind kind)
{
    const char *start = lexer->cursor++;
    return make(lexer, kind, start);
}

/* `alone` for the character by itself, `with_eq` when '=' follows it. */
static Token lex_maybe_eq(Lexer *lexer, TokenKind alone, TokenKind with_eq)
{
    const char *start = lexer->cursor++;

    if (*lexer->cursor != '=')
        return make(lexer, alone, start);
    lexer->cursor++;
    return make(lexer, with_eq, start);
}

Token lexer_next(Lexer *lexer)
{
    skip_blanks(lexer, 0);
    const char *start = lexer->cursor;
    char c = *start;

    if (c == '\0') {
        int last_line = lexer->last_line ? lexer->last_line : 1;
        Token token = make(lexer, TOK_EOF, start);
        token.line = last_line;  /* errors at the end name the last line, not the one after */
        return token;
    }
    if (c == '\n') {
        Token token = make(lexer, TOK_NEWLINE, start);
        lexer->cursor++;
        lexer->line++;
        skip_blanks(lexer, 1);  /* blank lines and comment lines make no tokens */
        return token;
    }
    if (isdigit((unsigned char)c))
        return lex_number(lexer);
    if (c == '"')
        return lex_string(lexer);
    if (isalpha((unsigned char)c) || c == '_')
        return lex_word(lexer);
    switch (c) {
    case '(': return lex_char(lexer, TOK_LPAREN);
    case ')': return lex_char(lexer, TOK_RPAREN);
    case ',': return lex_char(lexer, TOK_COMMA);
    case '.': return lex_char(lexer, TOK_DOT);
    case '+': return lex_char(lexer, TOK_PLUS);
    case '-': return lex_char(lexer, TOK_MINUS);
    case '*': return lex_char(lexer, TOK_STAR);
    case '/': return lex_char(lexer, TOK_SLASH);
    case '%': return lex_char(lexer, TOK_PERCENT);
    case '=': return lex_maybe_eq(lexer, TOK_ASSIGN, TOK_EQ);
    case '<': return lex_maybe_eq(lexer, TOK_LT, TOK_LE);
    case '>': return lex_maybe_eq(lexer, TOK_GT, TOK_GE);
    case '!':
        if (start[1] == '=') {
            lexer->cursor += 2;
            return make(lexer, TOK_NE, start);
        }
        break;
    }
    if (isprint((unsigned char)c))
        fail_at(lexer->file, lexer->line, "syntax error: unexpected character '%c'", c);
    fail_at(lexer->file, lexer->line, "syntax error: unexpected byte 0x%02x", (unsigned char)c);
}

const char *token_kind_text(TokenKind kind)
{
    static const char *const texts[] = {
        [TOK_LPAREN] = "'('", [TOK_RPAREN] = "')'", [TOK_COMMA] = "','", [TOK_DOT] = "'.'",
        [TOK_PLUS] = "'+'", [TOK_MINUS] = "'-'", [TOK_STAR] = "'*'", [TOK_SLASH] = "'/'",
        [TOK_PERCENT] = "'%'", [TOK_ASSIGN] = "'='", [TOK_EQ] = "'=='", [TOK_NE] = "'!='",
        [TOK_LT] = "'<'", [TOK_LE] = "'<='", [TOK_GT] = "'>'", [TOK_GE] = "'>='",
        [TOK_INT] = "a number", [TOK_STRING] = "a string", [TOK_NAME] = "a name",
        [TOK_AND] = "'and'", [TOK_CLASS] = "'class'", [TOK_ELIF] = "'elif'", [TOK_ELSE] = "'else'",
        [TOK_END] = "'end'", [TOK_FUNC] = "'func'", [TOK_IF] = "'if'", [TOK_IMPORT] = "'import'",
        [TOK_NIL] = "'nil'", [TOK_NOT] = "'not'", [TOK_OR] = "'or'", [TOK_RETURN] = "'return'",
        [TOK_WHILE] = "'while'", [TOK_NEWLINE] = "the end of the line", [TOK_EOF] = "the end of the file",
    };
    return texts[kind];
}
