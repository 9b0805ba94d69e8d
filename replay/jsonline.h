/*
 * jsonline.h - a strict reader for one flat JSON object per line: the
 * shape of mxguard's decision lines (log_format = json).
 *
 * Log files are outside data (anyone who can write to syslog can write a
 * line that looks like ours), so the reader trusts nothing in them: every
 * length, nesting and count is bounded, and any byte sequence gives an
 * answer, never a crash.
 *
 * What it accepts, per line:
 *   anything before the first `{"` (a syslog or journal prefix,
 *   "Dec  3 10:00:00 mx mxguard[123]: "), then one JSON object and
 *   nothing after it but blanks (space, tab, CR). A value is a string,
 *   a number, true, false, null or an array of strings; any other JSON
 *   value (an object, an array of numbers, ...) nested at most
 *   JL_DEPTH_MAX deep is accepted as JL_OTHER, so a line of a future
 *   version with values of a new shape is still read (its caller ignores
 *   keys it does not know). Strings: RFC 8259 escapes (\uXXXX with
 *   surrogate pairs joined; a lone surrogate and \u0000 are refused), raw
 *   bytes valid UTF-8 (RFC 3629: no overlong forms, no surrogates), no raw
 *   control characters. Duplicate keys are not looked for here: the caller
 *   maps keys to slots and sees a second one.
 *
 * Decoding is in place: jl_parse rewrites the caller's line buffer, and
 * every key and value points into it, NUL-terminated. They are valid until
 * the buffer is reused. struct jl_line holds fixed arrays only: nothing is
 * allocated, nothing to free.
 */
#ifndef MXGUARD_JSONLINE_H
#define MXGUARD_JSONLINE_H

#include <stddef.h>

#define JL_FIELDS_MAX 256    /* keys per line; a decision line has about 50 */
#define JL_ITEMS_MAX  1024   /* strings in all of a line's arrays together */
#define JL_DEPTH_MAX  16     /* nesting of a JL_OTHER value */

enum jl_type {
	JL_NULL,
	JL_FALSE,
	JL_TRUE,
	JL_NUMBER,   /* str: the number as written (RFC 8259 grammar) */
	JL_STRING,   /* str: the decoded string */
	JL_ARRAY,    /* an array of strings: items[0..n) */
	JL_OTHER,    /* any other value (object, array of non-strings): skipped */
};

struct jl_field {
	const char *key;
	enum jl_type type;
	const char *str;
	const char *const *items;
	unsigned n;
};

enum jl_status {
	JL_OK = 0,
	JL_NONE,       /* no `{"` in the line: not a JSON line at all */
	JL_BROKEN,     /* a JSON object starts but is not valid (truncated, bad syntax) */
	JL_BAD_UTF8,   /* a string holds bytes that are not UTF-8 */
	JL_LIMIT,      /* valid so far, but more fields, items or nesting than the limits */
};

struct jl_line {
	struct jl_field field[JL_FIELDS_MAX];
	unsigned nfields;
	const char *item[JL_ITEMS_MAX];
	unsigned nitems;
	size_t error_at;       /* not JL_OK: offset of the first byte not understood */
	const char *error;     /* not JL_OK: what was wrong (static text) */
};

/*
 * jl_parse - read the object in line[0..len) into out. line[len] must be
 * '\0' (the buffer has len + 1 bytes); a NUL before it ends the line
 * there and makes it JL_BROKEN. Returns JL_OK, or why not (out->error,
 * out->error_at).
 */
enum jl_status jl_parse(struct jl_line *out, char *line, size_t len);

/* jl_find - the field called key, NULL when the line has none (first match). */
const struct jl_field *jl_find(const struct jl_line *l, const char *key);

/* jl_status_name - "ok", "no JSON object", "broken JSON", "invalid UTF-8", "over the reader's limits". */
const char *jl_status_name(enum jl_status s);

#endif
