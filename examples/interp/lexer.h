/*
 * lexer.h - pint's tokens. The language is line-oriented: a newline ends a
 * statement, so it is a token of its own (blank lines and comments produce
 * none). Indentation means nothing; blocks end with `end`.
 */
#ifndef PINT_LEXER_H
#define PINT_LEXER_H

typedef enum {
    /* single and double characters */
    TOK_LPAREN, TOK_RPAREN, TOK_COMMA, TOK_DOT,
    TOK_PLUS, TOK_MINUS, TOK_STAR, TOK_SLASH, TOK_PERCENT,
    TOK_ASSIGN, TOK_EQ, TOK_NE, TOK_LT, TOK_LE, TOK_GT, TOK_GE,
    /* literals and names */
    TOK_INT, TOK_STRING, TOK_NAME,
    /* keywords */
    TOK_AND, TOK_CLASS, TOK_ELIF, TOK_ELSE, TOK_END, TOK_FUNC, TOK_IF,
    TOK_IMPORT, TOK_NIL, TOK_NOT, TOK_OR, TOK_RETURN, TOK_WHILE,
    /* structure */
    TOK_NEWLINE, TOK_EOF
} TokenKind;

typedef struct {
    TokenKind kind;
    const char *start;  /* the token's text in the source (for names, strings) */
    int length;
    int line;
    long long value;    /* TOK_INT */
} Token;

typedef struct {
    const char *file;   /* for error messages */
    const char *cursor;
    int line;
    int last_line;      /* of the last token: where the end of file is reported */
} Lexer;

void lexer_init(Lexer *lexer, const char *file, const char *source);
Token lexer_next(Lexer *lexer);  /* syntax errors in a token are fatal */

/* How a token kind reads in error messages: "'end'", "a name", ... */
const char *token_kind_text(TokenKind kind);

#endif
