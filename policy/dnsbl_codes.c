/*
 * dnsbl_codes.c - DNS blocklists: return-code filters (see dnsbl.h).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/dns_parse.h"
#include "policy/dnsbl.h"
#include "policy/dnsbl_impl.h"

/* ---- filters ------------------------------------------------------------ */

/* errf - a reason into err (when there is room for one) */

void dnsbl_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* bit_set / bit_has - one value in an octet's 256-bit set */
static void bit_set(uint8_t set[32], unsigned v)
{
	set[v >> 3] = (uint8_t)(set[v >> 3] | (1u << (v & 7)));
}

static bool bit_has(const uint8_t set[32], unsigned v)
{
	return (set[v >> 3] >> (v & 7)) & 1u;
}

/*
 * parse_num - a decimal octet at *p (within end); advances *p. Returns the
 * value, -1 when there are no digits, -2 when it is not 0..255 (the
 * offending digits, at most 15, into bad).
 */
static int parse_num(const char **p, const char *end, char *bad, size_t badlen)
{
	const char *s = *p;
	unsigned long v = 0;

	while (*p < end && isdigit((unsigned char)**p)) {
		if (v < 100000)
			v = v * 10 + (unsigned long)(**p - '0');
		(*p)++;
	}
	if (*p == s)
		return -1;
	if (*p - s > 3 || v > 255) {
		snprintf(bad, badlen, "%.*s", (int)(*p - s > 15 ? 15 : *p - s), s);
		return -2;
	}
	return (int)v;
}

/* parse_octet - a number or [items] at *p into set; 0, or -1 with the reason */
static int parse_octet(const char **p, const char *end, uint8_t set[32], int plen, const char *pat,
		       char *err, size_t errlen)
{
	char bad[16];
	int lo, hi;

	if (*p < end && **p != '[') {
		lo = parse_num(p, end, bad, sizeof bad);
		if (lo == -2) {
			dnsbl_errf(err, errlen, "bad octet %s in %.*s", bad, plen, pat);
			return -1;
		}
		if (lo < 0) {
			dnsbl_errf(err, errlen, "expected a number in %.*s", plen, pat);
			return -1;
		}
		bit_set(set, (unsigned)lo);
		return 0;
	}
	if (*p >= end) {
		dnsbl_errf(err, errlen, "missing octet in %.*s", plen, pat);
		return -1;
	}
	(*p)++;                                   /* '[' */
	for (;;) {
		lo = parse_num(p, end, bad, sizeof bad);
		if (lo == -2) {
			dnsbl_errf(err, errlen, "bad octet %s in %.*s", bad, plen, pat);
			return -1;
		}
		if (lo < 0) {
			dnsbl_errf(err, errlen, "expected a number inside [...] in %.*s", plen, pat);
			return -1;
		}
		hi = lo;
		if (end - *p >= 2 && (*p)[0] == '.' && (*p)[1] == '.') {
			*p += 2;
			hi = parse_num(p, end, bad, sizeof bad);
			if (hi == -2) {
				dnsbl_errf(err, errlen, "bad octet %s in %.*s", bad, plen, pat);
				return -1;
			}
			if (hi < 0) {
				dnsbl_errf(err, errlen, "a range needs an end (N..M) in %.*s", plen, pat);
				return -1;
			}
			if (hi < lo) {
				dnsbl_errf(err, errlen, "range %d..%d is backwards in %.*s", lo, hi, plen, pat);
				return -1;
			}
		}
		for (int v = lo; v <= hi; v++)
			bit_set(set, (unsigned)v);
		if (*p < end && **p == ';') {
			(*p)++;
			continue;
		}
		if (*p < end && **p == ']') {
			(*p)++;
			return 0;
		}
		if (*p >= end)
			dnsbl_errf(err, errlen, "unclosed [ in %.*s", plen, pat);
		else
			dnsbl_errf(err, errlen, "unexpected '%c' inside [...] in %.*s",
			     isprint((unsigned char)**p) ? **p : '?', plen, pat);
		return -1;
	}
}

/* only_127 - is the first octet's set exactly {127}? */
static bool only_127(const uint8_t set[32])
{
	for (unsigned v = 0; v < 256; v++)
		if (bit_has(set, v) != (v == 127))
			return false;
	return true;
}

/* set_size - members of an octet's set */
static unsigned set_size(const uint8_t set[32])
{
	unsigned n = 0;

	for (unsigned v = 0; v < 256; v++)
		n += bit_has(set, v);
	return n;
}

/*
 * only_errors - does the pattern (first octet 127) match nothing but
 * built-in error codes? There are 258 of those under 127/8, so only a
 * pattern of at most that many codes needs looking at.
 */
static bool only_errors(const uint8_t oct[4][32])
{
	if (set_size(oct[1]) * set_size(oct[2]) * set_size(oct[3]) > 258)
		return false;
	for (unsigned b = 0; b < 256; b++) {
		if (!bit_has(oct[1], b))
			continue;
		for (unsigned c = 0; c < 256; c++) {
			if (!bit_has(oct[2], c))
				continue;
			for (unsigned d = 0; d < 256; d++)
				if (bit_has(oct[3], d) &&
				    !dnsbl_code_error(0x7f000000u | b << 16 | c << 8 | d, NULL))
					return false;
		}
	}
	return true;
}

/* parse_pattern - one dotted pattern pat[0..plen) into oct; 0 or -1 */
static int parse_pattern(const char *pat, int plen, uint8_t oct[4][32], char *err, size_t errlen)
{
	const char *p = pat, *end = pat + plen;

	memset(oct, 0, 4 * 32);
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (p >= end) {
				dnsbl_errf(err, errlen, "%.*s has %d octet%s, a filter needs 4", plen, pat, i,
				     i == 1 ? "" : "s");
				return -1;
			}
			if (*p != '.') {
				dnsbl_errf(err, errlen, "unexpected '%c' in %.*s",
				     isprint((unsigned char)*p) ? *p : '?', plen, pat);
				return -1;
			}
			p++;
		}
		if (parse_octet(&p, end, oct[i], plen, pat, err, errlen) < 0)
			return -1;
	}
	if (p < end) {
		if (*p == '.')
			dnsbl_errf(err, errlen, "%.*s has more than 4 octets", plen, pat);
		else
			dnsbl_errf(err, errlen, "unexpected '%c' in %.*s", isprint((unsigned char)*p) ? *p : '?',
			     plen, pat);
		return -1;
	}
	if (!only_127(oct[0])) {
		dnsbl_errf(err, errlen, "filter %.*s is outside 127.0.0.0/8 (such answers are list errors, never listings)",
		     plen, pat);
		return -1;
	}
	if (only_errors(oct)) {
		dnsbl_errf(err, errlen, "filter %.*s matches only error codes (127.255.255.x, 127.0.1.255, 127.0.0.1), "
		     "which never count as listed", plen, pat);
		return -1;
	}
	return 0;
}

/* is_sep - separates patterns (outside brackets) */
static bool is_sep(char ch)
{
	return ch == ',' || ch == ';' || ch == ' ' || ch == '\t';
}

/* dnsbl_codes_parse - see dnsbl.h */
int dnsbl_codes_parse(struct dnsbl_codes *c, const char *text, char *err, size_t errlen)
{
	const char *p = text ? text : "";
	bool any = false;

	memset(c, 0, sizeof *c);
	for (;;) {
		const char *start;
		bool in_brackets = false;
		int plen;

		while (*p && is_sep(*p))
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && (in_brackets || !is_sep(*p))) {
			if (*p == '[')
				in_brackets = true;
			else if (*p == ']')
				in_brackets = false;
			p++;
		}
		plen = p - start > 200 ? 200 : (int)(p - start);
		if (p - start == 3 && strncasecmp(start, "any", 3) == 0) {
			any = true;
			continue;
		}
		if (c->n == DNSBL_CODES_SPECS) {
			dnsbl_errf(err, errlen, "too many patterns in a filter (at most %d)", DNSBL_CODES_SPECS);
			goto fail;
		}
		if (p - start > 200) {
			dnsbl_errf(err, errlen, "pattern too long: %.40s...", start);
			goto fail;
		}
		if (parse_pattern(start, plen, c->octet[c->n], err, errlen) < 0)
			goto fail;
		c->n++;
	}
	if (any && c->n > 0) {
		dnsbl_errf(err, errlen, "'any' cannot be combined with patterns");
		goto fail;
	}
	if (!any && c->n == 0) {
		dnsbl_errf(err, errlen, "empty filter (give patterns such as 127.0.0.[2..11], or 'any')");
		goto fail;
	}
	c->any = any;
	return 0;
fail:
	memset(c, 0, sizeof *c);
	return -1;
}

/* dnsbl_codes_match - see dnsbl.h */
bool dnsbl_codes_match(const struct dnsbl_codes *c, uint32_t code)
{
	if (c->any)
		return (code >> 24) == 127;
	for (unsigned i = 0; i < c->n && i < DNSBL_CODES_SPECS; i++) {
		bool all = true;

		for (int k = 0; k < 4 && all; k++)
			all = bit_has(c->octet[i][k], (code >> (24 - 8 * k)) & 0xff);
		if (all)
			return true;
	}
	return false;
}

/* dnsbl_code_error - see dnsbl.h */
const char *dnsbl_code_error(uint32_t code, const struct dnsbl_codes *extra)
{
	if ((code >> 24) != 127)
		return "outside 127.0.0.0/8, not a blocklist answer (a resolver that rewrites "
		       "NXDOMAIN, or a zone that is no blocklist)";
	if ((code & 0xffffff00u) == 0x7fffff00u)
		return "the list refused the query (typo in the zone, a public or shared resolver, "
		       "or over the rate limit)";
	if (code == 0x7f0001ffu)
		return "the list refused the query (DBL: typo in the zone, a public resolver, "
		       "or over the rate limit)";
	if (code == 0x7f000001u)
		return "127.0.0.1 is never a listing (RFC 5782 section 5): the list refused the query";
	if (extra && extra->n > 0 && dnsbl_codes_match(extra, code))
		return "one of the list's error codes";
	return NULL;
}

/* dnsbl_code_format - dotted quad */
char *dnsbl_code_format(uint32_t code, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", code >> 24, (code >> 16) & 0xff, (code >> 8) & 0xff, code & 0xff);
	return buf;
}
