/*
 * dkim_tags.c - d=, s= and key name syntax for the DKIM verifier; the
 * rules and why they exist are in dkim_tags.h.
 */

/* system */
#include <stddef.h>
#include <string.h>

/* project */
#include "policy/dkim_tags.h"

#define NAME_MAX_LEN  253   /* presentation form without the trailing dot (RFC 1035 §2.3.4, 255 octets on the wire) */
#define LABEL_MAX_LEN 63
#define KEY_INFIX     "._domainkey."

/* What is wrong with a name; the order is the order of the reasons below. */
enum name_error {
	NAME_OK,
	NAME_MISSING,
	NAME_BAD_CHAR,
	NAME_EMPTY_LABEL,
	NAME_LONG_LABEL,
	NAME_TOO_LONG,
	NAME_ONE_LABEL,
	NAME_ERRORS
};

/* Reasons per tag, static so a signature's reason never points into the message. */
static const char *const d_reason[NAME_ERRORS] = {
	[NAME_MISSING]     = "d= missing",
	[NAME_BAD_CHAR]    = "d= is not a domain name (character not allowed)",
	[NAME_EMPTY_LABEL] = "d= is not a domain name (empty label)",
	[NAME_LONG_LABEL]  = "d= is not a domain name (label longer than 63)",
	[NAME_TOO_LONG]    = "d= is not a domain name (longer than 253)",
	[NAME_ONE_LABEL]   = "d= is not a domain name (one label)",
};
static const char *const s_reason[NAME_ERRORS] = {
	[NAME_MISSING]     = "s= missing",
	[NAME_BAD_CHAR]    = "s= is not a selector (character not allowed)",
	[NAME_EMPTY_LABEL] = "s= is not a selector (empty label)",
	[NAME_LONG_LABEL]  = "s= is not a selector (label longer than 63)",
	[NAME_TOO_LONG]    = "s= is not a selector (longer than 253)",
};

/* label_char - letters, digits, '-' and '_' (ASCII only: the locale must not widen it). */
static bool label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * scan - the first problem of name as a dot-separated list of labels, and
 * the number of labels. A character problem outranks a label problem: it
 * is the one that changes what the name means.
 */
static enum name_error scan(const char *name, unsigned *labels)
{
	size_t len, run = 0;
	enum name_error label_err = NAME_OK;

	*labels = 0;
	if (name == NULL || name[0] == '\0')
		return NAME_MISSING;
	len = strlen(name);
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.' || c == '\0') {
			if (run == 0 && label_err == NAME_OK)
				label_err = NAME_EMPTY_LABEL;
			else if (run > LABEL_MAX_LEN && label_err == NAME_OK)
				label_err = NAME_LONG_LABEL;
			(*labels)++;
			run = 0;
		} else if (!label_char(c)) {
			return NAME_BAD_CHAR;
		} else {
			run++;
		}
	}
	if (label_err != NAME_OK)
		return label_err;
	return len > NAME_MAX_LEN ? NAME_TOO_LONG : NAME_OK;
}

/* dkimt_check - see dkim_tags.h. */
const char *dkimt_check(const char *selector, const char *domain)
{
	unsigned labels;
	enum name_error e;

	e = scan(domain, &labels);
	if (e == NAME_OK && labels < 2)
		e = NAME_ONE_LABEL;
	if (e != NAME_OK)
		return d_reason[e];
	e = scan(selector, &labels);
	if (e != NAME_OK)
		return s_reason[e];
	if (strlen(selector) + strlen(KEY_INFIX) + strlen(domain) > NAME_MAX_LEN)
		return "key name too long (s= and d= over 253 characters)";
	return NULL;
}

/* dkimt_key_name_ok - see dkim_tags.h. */
bool dkimt_key_name_ok(const char *name)
{
	unsigned labels;

	return scan(name, &labels) == NAME_OK && labels >= 2;
}
