/*
 * conf_lex.h - split config text into logical lines of tokens.
 *
 * Syntax (Postfix-like, so a mail admin feels at home):
 *   - one directive per logical line; a physical line that starts with
 *     white space continues the logical line before it;
 *   - blank lines and lines whose first non-blank character is '#' are
 *     ignored (also between continuation lines); a '#' that starts a
 *     token comments out the rest of the line;
 *   - tokens: words (any run of non-blank characters other than the
 *     punctuation below), "quoted strings" with the escapes \" \\ \t \n
 *     \r \xHH, and punctuation = != ( ) { } ,
 *
 * The lexer owns nothing beyond the current line: conf_line_clear()
 * frees its tokens. Token text is always a NUL-terminated heap copy,
 * already unescaped for strings.
 */
#ifndef MXGUARD_CONF_LEX_H
#define MXGUARD_CONF_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum tok_type {
	TOK_WORD, TOK_STRING,
	TOK_EQ, TOK_NE, TOK_LPAREN, TOK_RPAREN, TOK_LBRACE, TOK_RBRACE, TOK_COMMA,
};

struct conf_token {
	enum tok_type type;
	char *text;        /* the word, the unescaped string, or the punctuation */
	int line;          /* physical line it came from */
};

struct conf_line {
	struct conf_token *tok;
	size_t count, cap;
	int line;          /* physical line the directive starts on */
};

struct conf_lex {
	const char *p;     /* next unread byte */
	int line;          /* number of the physical line at p */
};

/* conf_lex_init - start reading text (NUL-terminated; the caller keeps it alive). */
void conf_lex_init(struct conf_lex *, const char *text);

/*
 * conf_lex_next - read the next logical line into out (cleared first).
 * Returns 1 for a line, 0 at the end, -1 on a syntax error with the
 * message in err and its line number in *errline.
 */
int conf_lex_next(struct conf_lex *, struct conf_line *out, char *err, size_t errlen, int *errline);

/* conf_line_clear - free the tokens; the line may be reused. */
void conf_line_clear(struct conf_line *);

/* conf_tok_is_value - a word or a quoted string. */
bool conf_tok_is_value(const struct conf_token *);

/* conf_tok_describe - "\"fast\"" or "'{'" for messages, into buf; returns buf. NULL tok = "end of line". */
const char *conf_tok_describe(const struct conf_token *, char *buf, size_t buflen);

/* conf_edit_distance - Levenshtein distance of two names (99 for names of 63+ bytes), for "did you mean". */
unsigned conf_edit_distance(const char *a, const char *b);

#endif
