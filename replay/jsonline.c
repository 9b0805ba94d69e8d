/*
 * jsonline.c - the flat JSON object reader (see jsonline.h).
 *
 * One pass, left to right, in place: a string is scanned until its
 * closing quote and, when it holds escapes, decoded over itself (a decoded
 * escape is never longer than its source). The NUL at line[len] is the
 * sentinel every scanner stops at, so no scanner needs a length.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "policy/utf8.h"
#include "replay/jsonline.h"

struct parser {
	struct jl_line *out;
	char *base;
	enum jl_status status;
};

/* fail - remember the first error; always NULL, for "return fail(...)" */
static char *fail(struct parser *P, enum jl_status st, const char *at, const char *why)
{
	if (P->status == JL_OK) {
		P->status = st;
		P->out->error = why;
		P->out->error_at = (size_t)(at - P->base);
	}
	return NULL;
}

/* ws - skip JSON blanks */
static char *ws(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* hex4 - the value of 4 hex digits at p, -1 when they are not */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* put_utf8 - code point cp as UTF-8 at w; returns the byte after it */
static char *put_utf8(char *w, uint32_t cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/*
 * escape - decode the escape at p (a backslash) to w; sets *pp past it and
 * returns w past what it wrote, NULL on a bad escape
 */
static char *escape(struct parser *P, char **pp, char *w)
{
	char *p = *pp;
	long hi, lo;

	switch (p[1]) {
	case '"': *w++ = '"'; break;
	case '\\': *w++ = '\\'; break;
	case '/': *w++ = '/'; break;
	case 'b': *w++ = '\b'; break;
	case 'f': *w++ = '\f'; break;
	case 'n': *w++ = '\n'; break;
	case 'r': *w++ = '\r'; break;
	case 't': *w++ = '\t'; break;
	case 'u':
		if ((hi = hex4(p + 2)) < 0)
			return fail(P, JL_BROKEN, p, "\\u needs four hex digits");
		if (hi == 0)
			return fail(P, JL_BROKEN, p, "\\u0000 cannot be held in a string");
		if (hi >= 0xdc00 && hi <= 0xdfff)
			return fail(P, JL_BROKEN, p, "a low surrogate without its high one");
		if (hi >= 0xd800 && hi <= 0xdbff) {
			if (p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff)
				return fail(P, JL_BROKEN, p, "a high surrogate without its low one");
			*pp = p + 12;
			return put_utf8(w, 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00));
		}
		*pp = p + 6;
		return put_utf8(w, (uint32_t)hi);
	default:
		return fail(P, JL_BROKEN, p, "unknown escape");
	}
	*pp = p + 2;
	return w;
}

/*
 * string - p at an opening quote: decode the string in place, NUL-terminate
 * it, store where it starts in *s; returns the byte after the closing quote
 */
static char *string(struct parser *P, char *p, const char **s)
{
	char *w;
	size_t n;

	*s = ++p;
	/* most strings have no escape: scan without copying */
	for (;;) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*p = '\0';
			return p + 1;
		}
		if (c == '\\')
			break;
		if (c < 0x20)
			return fail(P, JL_BROKEN, p, c ? "a control character in a string" : "the line ends inside a string");
		if (c < 0x80) {
			p++;
		} else if ((n = utf8_seq_len((const unsigned char *)p)) != 0) {
			p += n;
		} else {
			return fail(P, JL_BAD_UTF8, p, "bytes that are not UTF-8 in a string");
		}
	}
	for (w = p;;) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*w = '\0';
			return p + 1;
		}
		if (c == '\\') {
			if (!(w = escape(P, &p, w)))
				return NULL;
		} else if (c < 0x20) {
			return fail(P, JL_BROKEN, p, c ? "a control character in a string" : "the line ends inside a string");
		} else if (c < 0x80) {
			*w++ = *p++;
		} else if ((n = utf8_seq_len((const unsigned char *)p)) != 0) {
			memmove(w, p, n);
			w += n;
			p += n;
		} else {
			return fail(P, JL_BAD_UTF8, p, "bytes that are not UTF-8 in a string");
		}
	}
}

/* digits - skip one or more decimal digits; NULL when there is none */
static char *digits(char *p)
{
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

/* number - RFC 8259 §6: -? int frac? exp?; returns the byte after it */
static char *number(struct parser *P, char *p)
{
	char *start = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (!(p = digits(p)))
		return fail(P, JL_BROKEN, start, "not a value");
	if (*p == '.' && !(p = digits(p + 1)))
		return fail(P, JL_BROKEN, start, "a number without digits after its point");
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(p = digits(p)))
			return fail(P, JL_BROKEN, start, "a number without digits in its exponent");
	}
	return p;
}

static char *value(struct parser *P, char *p, struct jl_field *f, int depth);

/*
 * array - p at '['. An array of strings fills f (its items in the line's
 * pool); any other array is read through and made JL_OTHER.
 */
static char *array(struct parser *P, char *p, struct jl_field *f, int depth)
{
	struct jl_line *L = P->out;
	unsigned first = L->nitems;
	bool strings = true;
	struct jl_field elem;

	p = ws(p + 1);
	if (*p != ']') {
		for (;;) {
			if (*p == '"' && strings) {
				const char *s;

				if (L->nitems == JL_ITEMS_MAX)
					return fail(P, JL_LIMIT, p, "more array strings than the reader holds");
				if (!(p = string(P, p, &s)))
					return NULL;
				L->item[L->nitems++] = s;
			} else {
				strings = false;
				if (!(p = value(P, p, &elem, depth + 1)))
					return NULL;
			}
			p = ws(p);
			if (*p == ']')
				break;
			if (*p != ',')
				return fail(P, JL_BROKEN, p, "expected , or ] in an array");
			p = ws(p + 1);
		}
	}
	if (strings) {
		f->type = JL_ARRAY;
		f->items = &L->item[first];
		f->n = L->nitems - first;
	} else {
		L->nitems = first;   /* its strings are of no use */
		f->type = JL_OTHER;
	}
	return p + 1;
}

/* object - p at '{' inside a value: read through, JL_OTHER */
static char *object(struct parser *P, char *p, struct jl_field *f, int depth)
{
	struct jl_field elem;
	const char *key;
	unsigned first = P->out->nitems;

	f->type = JL_OTHER;
	p = ws(p + 1);
	if (*p == '}')
		return p + 1;
	for (;;) {
		if (*p != '"')
			return fail(P, JL_BROKEN, p, "expected a key");
		if (!(p = string(P, p, &key)))
			return NULL;
		p = ws(p);
		if (*p != ':')
			return fail(P, JL_BROKEN, p, "expected : after a key");
		if (!(p = value(P, ws(p + 1), &elem, depth + 1)))
			return NULL;
		p = ws(p);
		if (*p == '}') {
			P->out->nitems = first;   /* strings of arrays inside it are of no use */
			return p + 1;
		}
		if (*p != ',')
			return fail(P, JL_BROKEN, p, "expected , or } in an object");
		p = ws(p + 1);
	}
}

/* literal - the word w at p? (byte by byte: a mismatch, the NUL at the end included, stops it) */
static bool literal(const char *p, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != w[i])
			return false;
	return true;
}

/*
 * value - any value at p into f; returns the byte after it. A number's text
 * is not terminated here (its end is the next byte, which the caller reads
 * first): the caller writes the NUL.
 */
static char *value(struct parser *P, char *p, struct jl_field *f, int depth)
{
	f->str = NULL;
	f->items = NULL;
	f->n = 0;
	if (depth > JL_DEPTH_MAX)
		return fail(P, JL_LIMIT, p, "values nested deeper than the reader follows");
	switch (*p) {
	case '"':
		f->type = JL_STRING;
		return string(P, p, &f->str);
	case '[':
		return array(P, p, f, depth);
	case '{':
		return object(P, p, f, depth);
	case 't':
		f->type = JL_TRUE;
		return literal(p, "true", 4) ? p + 4 : fail(P, JL_BROKEN, p, "not a value");
	case 'f':
		f->type = JL_FALSE;
		return literal(p, "false", 5) ? p + 5 : fail(P, JL_BROKEN, p, "not a value");
	case 'n':
		f->type = JL_NULL;
		return literal(p, "null", 4) ? p + 4 : fail(P, JL_BROKEN, p, "not a value");
	default:
		f->type = JL_NUMBER;
		f->str = p;
		return number(P, p);
	}
}

/* start - the first `{"` of the line (after any prefix), NULL when none */
static char *start(char *line, size_t len)
{
	char *p = line, *end = line + len;

	while ((p = memchr(p, '{', (size_t)(end - p))) != NULL) {
		char *q = ws(p + 1);

		if (*q == '"' || *q == '}')
			return p;
		p++;
	}
	return NULL;
}

/* jl_parse - see jsonline.h */
enum jl_status jl_parse(struct jl_line *out, char *line, size_t len)
{
	struct parser P = { out, line, JL_OK };
	char *p = start(line, len);

	out->nfields = 0;
	out->nitems = 0;
	out->error = NULL;
	out->error_at = 0;
	if (!p) {
		fail(&P, JL_NONE, line, "no JSON object in the line");
		return P.status;
	}
	p = ws(p + 1);
	if (*p == '}')
		goto end;
	for (;;) {
		struct jl_field *f;
		char *num_end, sep;

		if (out->nfields == JL_FIELDS_MAX) {
			fail(&P, JL_LIMIT, p, "more keys than the reader holds");
			return P.status;
		}
		f = &out->field[out->nfields];
		if (*p != '"') {
			fail(&P, JL_BROKEN, p, "expected a key");
			return P.status;
		}
		if (!(p = string(&P, p, &f->key)))
			return P.status;
		p = ws(p);
		if (*p != ':') {
			fail(&P, JL_BROKEN, p, "expected : after a key");
			return P.status;
		}
		if (!(num_end = value(&P, ws(p + 1), f, 0)))
			return P.status;
		p = ws(num_end);
		sep = *p;
		if (sep != ',' && sep != '}') {
			fail(&P, JL_BROKEN, p, sep ? "expected , or } after a value" : "the line ends inside the object");
			return P.status;
		}
		/* the separator is read: a number can be terminated over what follows it */
		if (f->type == JL_NUMBER)
			*num_end = '\0';
		out->nfields++;
		if (sep == '}')
			break;
		p = ws(p + 1);
	}
end:
	p = ws(p + 1);
	if (p != line + len) {
		fail(&P, JL_BROKEN, p, *p ? "text after the object" : "a NUL byte in the line");
		return P.status;
	}
	return JL_OK;
}

/* jl_find - see jsonline.h */
const struct jl_field *jl_find(const struct jl_line *l, const char *key)
{
	for (unsigned i = 0; i < l->nfields; i++)
		if (strcmp(l->field[i].key, key) == 0)
			return &l->field[i];
	return NULL;
}

/* jl_status_name - see jsonline.h */
const char *jl_status_name(enum jl_status s)
{
	switch (s) {
	case JL_OK: return "ok";
	case JL_NONE: return "no JSON object";
	case JL_BROKEN: return "broken JSON";
	case JL_BAD_UTF8: return "invalid UTF-8";
	case JL_LIMIT: return "over the reader's limits";
	}
	return "?";
}
