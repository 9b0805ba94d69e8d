/*
 * conf_lex.c - tokenizer for mxguard.conf; see conf_lex.h for the syntax.
 * Tokens are heap copies owned by the conf_line they were added to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_lex.h"

/* conf_lex_init - see conf_lex.h */
void conf_lex_init(struct conf_lex *lx, const char *text)
{
	lx->p = text;
	lx->line = 1;
}

/* conf_line_clear - see conf_lex.h */
void conf_line_clear(struct conf_line *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->tok[i].text);
	free(l->tok);
	memset(l, 0, sizeof(*l));
}

/* conf_tok_is_value - see conf_lex.h */
bool conf_tok_is_value(const struct conf_token *t)
{
	return t && (t->type == TOK_WORD || t->type == TOK_STRING);
}

/* conf_tok_describe - see conf_lex.h */
const char *conf_tok_describe(const struct conf_token *t, char *buf, size_t buflen)
{
	if (!t)
		snprintf(buf, buflen, "end of line");
	else if (t->type == TOK_WORD || t->type == TOK_STRING)
		snprintf(buf, buflen, "\"%.60s%s\"", t->text, strlen(t->text) > 60 ? "..." : "");
	else
		snprintf(buf, buflen, "'%s'", t->text);
	return buf;
}

/* is_blank - space, tab, CR (CRLF files) */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* is_punct - characters that are tokens of their own */
static bool is_punct(char c)
{
	return c == '=' || c == '(' || c == ')' || c == '{' || c == '}' || c == ',';
}

/* push - append a token owning text[0..len) */
static int push(struct conf_line *l, enum tok_type type, const char *text, size_t len, int line)
{
	char *copy;

	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct conf_token *n = realloc(l->tok, cap * sizeof(*n));
		if (!n)
			return -1;
		l->tok = n;
		l->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	l->tok[l->count].type = type;
	l->tok[l->count].text = copy;
	l->tok[l->count].line = line;
	l->count++;
	return 0;
}

/* hexval - value of a hex digit, -1 if none */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* lex_string - *pp at the opening quote; unescape into a new token */
static int lex_string(const char **pp, struct conf_line *l, int line, char *err, size_t errlen)
{
	const char *p = *pp + 1;
	size_t cap = 64, n = 0;
	char *buf = malloc(cap);
	int rc;

	if (!buf)
		goto oom;
	for (;;) {
		char c = *p;
		if (c == '\0' || c == '\n') {
			snprintf(err, errlen, "unterminated string (missing closing \")");
			free(buf);
			return -1;
		}
		p++;
		if (c == '"')
			break;
		if (c == '\\') {
			char e = *p++;
			int h1, h2;
			switch (e) {
			case '"': case '\\': c = e; break;
			case 't': c = '\t'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 'x':
				h1 = hexval(p[0]);
				h2 = h1 < 0 ? -1 : hexval(p[1]);
				if (h2 < 0 || (h1 == 0 && h2 == 0)) {
					snprintf(err, errlen, "bad \\x escape in string (need two hex digits, not 00)");
					free(buf);
					return -1;
				}
				c = (char)(h1 * 16 + h2);
				p += 2;
				break;
			default:
				snprintf(err, errlen, "unknown escape \\%c in string (known: \\\" \\\\ \\t \\n \\r \\xHH)",
					 e >= 0x21 && e < 0x7f ? e : '?');
				free(buf);
				return -1;
			}
		}
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto oom;
			buf = nb;
			cap *= 2;
		}
		buf[n++] = c;
	}
	rc = push(l, TOK_STRING, buf, n, line);
	free(buf);
	if (rc != 0)
		goto oom_nobuf;
	*pp = p;
	return 0;
oom:
	free(buf);
oom_nobuf:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* lex_physical - tokens of the physical line at lx->p, up to and past its newline */
static int lex_physical(struct conf_lex *lx, struct conf_line *l, char *err, size_t errlen)
{
	const char *p = lx->p;
	int line = lx->line;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '\n')
			break;
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			break;
		}
		if (*p == '"') {
			if (lex_string(&p, l, line, err, errlen) != 0)
				return -1;
			if (*p && !is_blank(*p) && *p != '\n' && !is_punct(*p) && !(p[0] == '!' && p[1] == '=')) {
				snprintf(err, errlen, "a quoted string must be followed by a space or punctuation");
				return -1;
			}
			continue;
		}
		if (p[0] == '!' && p[1] == '=') {
			if (push(l, TOK_NE, "!=", 2, line) != 0)
				goto oom;
			p += 2;
			continue;
		}
		if (is_punct(*p)) {
			static const enum tok_type types[] = {
				['='] = TOK_EQ, ['('] = TOK_LPAREN, [')'] = TOK_RPAREN,
				['{'] = TOK_LBRACE, ['}'] = TOK_RBRACE, [','] = TOK_COMMA,
			};
			if (push(l, types[(unsigned char)*p], p, 1, line) != 0)
				goto oom;
			p++;
			continue;
		}
		const char *start = p;
		while (*p && *p != '\n' && !is_blank(*p) && !is_punct(*p) && *p != '"' &&
		       !(p[0] == '!' && p[1] == '='))
			p++;
		if (*p == '"') {
			snprintf(err, errlen, "quote inside a word; quote the whole value instead");
			return -1;
		}
		if (push(l, TOK_WORD, start, (size_t)(p - start), line) != 0)
			goto oom;
	}
	if (*p == '\n')
		p++;
	lx->p = p;
	lx->line++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* line_kind - 0 blank/comment, 1 starts a directive, 2 continues one */
static int line_kind(const char *p)
{
	const char *q = p;

	while (is_blank(*q))
		q++;
	if (*q == '\0' || *q == '\n' || *q == '#')
		return 0;
	return q == p ? 1 : 2;
}

/* skip_physical - step over a blank or comment line */
static void skip_physical(struct conf_lex *lx)
{
	while (*lx->p && *lx->p != '\n')
		lx->p++;
	if (*lx->p == '\n')
		lx->p++;
	lx->line++;
}

/* conf_lex_next - see conf_lex.h */
int conf_lex_next(struct conf_lex *lx, struct conf_line *out, char *err, size_t errlen, int *errline)
{
	conf_line_clear(out);
	while (*lx->p) {
		int kind = line_kind(lx->p);

		if (kind == 0) {
			skip_physical(lx);
			continue;
		}
		if (kind == 1 && out->count > 0)
			return 1;           /* the next directive starts here: leave it for the next call */
		if (kind == 2 && out->count == 0) {
			*errline = lx->line;
			snprintf(err, errlen, "line starts with white space but continues no directive");
			return -1;
		}
		if (out->count == 0)
			out->line = lx->line;
		*errline = lx->line;
		if (lex_physical(lx, out, err, errlen) != 0)
			return -1;
	}
	return out->count > 0 ? 1 : 0;
}

/* conf_edit_distance - see conf_lex.h */
unsigned conf_edit_distance(const char *a, const char *b)
{
	unsigned row[64], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 63 || lb >= 63)
		return 99;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}
