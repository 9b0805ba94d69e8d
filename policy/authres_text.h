/*
 * authres_text.h - inside policy/authres*.c: a growing header-value
 * buffer that folds lines near 78 columns, and the quoting helpers that
 * make outside strings safe words, comments and addresses in it.
 *
 * struct hbuf owns its string until hb_finish() hands it over (or frees
 * it when out of memory); every helper records out-of-memory in hb->oom
 * and later calls do nothing, so callers check once at the end.
 */
#ifndef MXGUARD_AUTHRES_TEXT_H
#define MXGUARD_AUTHRES_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define FOLD_AT   78          /* RFC 5322 §2.1.1 "SHOULD" line length */

/* A growing output buffer that knows its current column. */
struct hbuf {
	char *s;
	size_t len, cap;
	size_t col;        /* characters on the current line so far */
	bool line_empty;   /* nothing but the fold's tab on this line yet */
	bool oom;
};

/* hb_init - start a header value; col counts the header name before it. */
void hb_init(struct hbuf *hb, size_t name_len);

/* hb_put - append n raw bytes. */
void hb_put(struct hbuf *hb, const char *p, size_t n);

/* hb_fold - continue on a new line. */
void hb_fold(struct hbuf *hb);

/* hb_word - add one unbreakable word, after a space or a fold. */
void hb_word(struct hbuf *hb, const char *w);

/* hb_glue - append to the last word without a space (e.g. ";"). */
void hb_glue(struct hbuf *hb, const char *w);

/* hb_finish - hand the string over, or free it on failure. */
int hb_finish(struct hbuf *hb, char **out);


/* hb_is_tspecial - RFC 2045 tspecials, which a token may not contain. */
bool hb_is_tspecial(int c);

/* hb_is_dot_atom - RFC 5322 dot-atom-text over [s, s+n). */
bool hb_is_dot_atom(const char *s, size_t n);

/* hb_is_token - non-empty, printable ASCII without space or tspecials. */
bool hb_is_token(const char *s);


/* hb_is_domain - a plausible domain name in A-label form (LDH, '_', dots). */
bool hb_is_domain(const char *s);

/* hb_cat_quoted - append s[0..n) as a quoted-string; controls and 8-bit become '?'. */
void hb_cat_quoted(char *dst, const char *s, size_t n);

/* hb_make_word - prefix + value as a token when it is one, else quoted. Caller frees. */
char *hb_make_word(const char *prefix, const char *value);

/* hb_add_word - hb_make_word and hb_word in one, recording out-of-memory. */
void hb_add_word(struct hbuf *hb, const char *prefix, const char *value);

/*
 * hb_add_comment - "(text)" split into words so it can fold. Parentheses
 * and backslashes are escaped, controls and 8-bit bytes become spaces or
 * '?', so the comment cannot end early or break the line.
 */
void hb_add_comment(struct hbuf *hb, const char *text);

/* hb_add_address - "prefix local@domain", quoting the local part when it is not a dot-atom. */
void hb_add_address(struct hbuf *hb, const char *prefix, const char *addr);

#endif
