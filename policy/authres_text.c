/*
 * authres_text.c - the header-value buffer and quoting helpers of
 * policy/authres_text.h.
 *
 * Everything is built word by word, so folding is decided in one place.
 * Each string from outside passes through one of the quoting helpers
 * before it becomes a word; none copies a control byte.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/authres_text.h"

/* hb_init - start a header value; col counts the header name before it. */
void hb_init(struct hbuf *hb, size_t name_len)
{
	memset(hb, 0, sizeof *hb);
	hb->col = name_len;
	hb->line_empty = true;
}

/* hb_put - append n raw bytes. */
void hb_put(struct hbuf *hb, const char *p, size_t n)
{
	if (hb->oom)
		return;
	if (hb->len + n + 1 > hb->cap) {
		size_t cap = hb->cap ? hb->cap : 256;
		char *s;

		while (hb->len + n + 1 > cap)
			cap *= 2;
		s = realloc(hb->s, cap);
		if (s == NULL) {
			hb->oom = true;
			return;
		}
		hb->s = s;
		hb->cap = cap;
	}
	memcpy(hb->s + hb->len, p, n);
	hb->len += n;
	hb->s[hb->len] = '\0';
	hb->col += n;
}

/* hb_fold - continue on a new line. */
void hb_fold(struct hbuf *hb)
{
	hb_put(hb, "\n\t", 2);
	hb->col = 1;
	hb->line_empty = true;
}

/* hb_word - add one unbreakable word, after a space or a fold. */
void hb_word(struct hbuf *hb, const char *w)
{
	size_t n = strlen(w);

	if (n == 0)
		return;
	if (!hb->line_empty) {
		/* one column kept for a ";" glued on later */
		if (hb->col + 1 + n + 1 > FOLD_AT)
			hb_fold(hb);
		else
			hb_put(hb, " ", 1);
	}
	hb_put(hb, w, n);
	hb->line_empty = false;
}

/* hb_glue - append to the last word without a space (e.g. ";"). */
void hb_glue(struct hbuf *hb, const char *w)
{
	hb_put(hb, w, strlen(w));
	hb->line_empty = false;
}

/* hb_finish - hand the string over, or free it on failure. */
int hb_finish(struct hbuf *hb, char **out)
{
	if (hb->oom || hb->s == NULL) {
		free(hb->s);
		*out = NULL;
		return -1;
	}
	*out = hb->s;
	return 0;
}

/* hb_is_tspecial - RFC 2045 tspecials, which a token may not contain. */
bool hb_is_tspecial(int c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* hb_is_token - non-empty, printable ASCII without space or tspecials. */
bool hb_is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || hb_is_tspecial(c))
			return false;
	}
	return true;
}

/* is_atext - RFC 5322 atext. */
static bool is_atext(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* hb_is_dot_atom - RFC 5322 dot-atom-text over [s, s+n). */
bool hb_is_dot_atom(const char *s, size_t n)
{
	bool prev_dot = true;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (prev_dot)
				return false;
			prev_dot = true;
		} else if (is_atext(c)) {
			prev_dot = false;
		} else {
			return false;
		}
	}
	return !prev_dot;
}

/* hb_is_domain - a plausible domain name in A-label form (LDH, '_', dots). */
bool hb_is_domain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
			return false;
		if (c == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* hb_cat_quoted - append s[0..n) as a quoted-string; controls and 8-bit become '?'. */
void hb_cat_quoted(char *dst, const char *s, size_t n)
{
	char *d = dst + strlen(dst);

	*d++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (c == '"' || c == '\\')
			*d++ = '\\';
		*d++ = (char)c;
	}
	*d++ = '"';
	*d = '\0';
}

/* hb_make_word - prefix + value as a token when it is one, else quoted. Caller frees. */
char *hb_make_word(const char *prefix, const char *value)
{
	size_t n = strlen(value);
	char *w = malloc(strlen(prefix) + 2 * n + 3);

	if (w == NULL)
		return NULL;
	strcpy(w, prefix);
	if (hb_is_token(value))
		strcat(w, value);
	else
		hb_cat_quoted(w, value, n);
	return w;
}

/* hb_add_word - make_word and hb_word in one, recording out-of-memory. */
void hb_add_word(struct hbuf *hb, const char *prefix, const char *value)
{
	char *w = hb_make_word(prefix, value);

	if (w == NULL) {
		hb->oom = true;
		return;
	}
	hb_word(hb, w);
	free(w);
}

/*
 * hb_add_comment - "(text)" split into words so it can fold. Parentheses
 * and backslashes are escaped, controls and 8-bit bytes become spaces or
 * '?', so the comment cannot end early or break the line.
 */
void hb_add_comment(struct hbuf *hb, const char *text)
{
	size_t n = strlen(text);
	char *c = malloc(2 * n + 3), *d, *word, *save = NULL;
	bool first = true;

	if (c == NULL) {
		hb->oom = true;
		return;
	}
	d = c;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		else if (ch >= 0x80)
			ch = '?';
		if (ch == '(' || ch == ')' || ch == '\\')
			*d++ = '\\';
		*d++ = (char)ch;
	}
	*d = '\0';
	for (word = strtok_r(c, " ", &save); word != NULL; word = strtok_r(NULL, " ", &save)) {
		char buf[FOLD_AT + 4];
		const char *next = save != NULL && *save != '\0' ? save : NULL;
		bool last = next == NULL || strspn(next, " ") == strlen(next);

		/* a very long word is emitted whole; it simply makes a long line */
		if (strlen(word) > FOLD_AT) {
			hb_word(hb, first ? "(" : word);
			if (first)
				hb_glue(hb, word);
			if (last)
				hb_glue(hb, ")");
		} else {
			snprintf(buf, sizeof buf, "%s%s%s", first ? "(" : "", word, last ? ")" : "");
			hb_word(hb, buf);
		}
		first = false;
	}
	free(c);
}

/* hb_add_address - "prefix local@domain", quoting the local part when it is not a dot-atom. */
void hb_add_address(struct hbuf *hb, const char *prefix, const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t llen;
	char *w;

	if (at == NULL || !hb_is_domain(at + 1))
		return;
	llen = (size_t)(at - addr);
	w = malloc(strlen(prefix) + 2 * llen + strlen(at) + 3);
	if (w == NULL) {
		hb->oom = true;
		return;
	}
	strcpy(w, prefix);
	if (hb_is_dot_atom(addr, llen))
		strncat(w, addr, llen);
	else if (llen > 0)
		hb_cat_quoted(w, addr, llen);
	strcat(w, at);
	hb_word(hb, w);
	free(w);
}
