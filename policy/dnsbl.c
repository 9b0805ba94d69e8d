/*
 * dnsbl.c - DNS blocklists: filters, query names, answers, the combined
 * value, the self-test and the asynchronous check (see dnsbl.h).
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

#define DNSBL_NAME_LIMIT 253        /* octets of a name in presentation form, no trailing dot */

static const char *const result_names[DNSBL_RESULT_COUNT] = {
	"unknown",
#define DNSBL_VALUE_NAME(id, name) name,
	DNSBL_VALUES(DNSBL_VALUE_NAME)
#undef DNSBL_VALUE_NAME
};

/* dnsbl_result_name - the value's name */
const char *dnsbl_result_name(enum dnsbl_result r)
{
	return (unsigned)r < DNSBL_RESULT_COUNT ? result_names[r] : "unknown";
}

/* ---- filters ------------------------------------------------------------ */

/* errf - a reason into err (when there is room for one) */
static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
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
			errf(err, errlen, "bad octet %s in %.*s", bad, plen, pat);
			return -1;
		}
		if (lo < 0) {
			errf(err, errlen, "expected a number in %.*s", plen, pat);
			return -1;
		}
		bit_set(set, (unsigned)lo);
		return 0;
	}
	if (*p >= end) {
		errf(err, errlen, "missing octet in %.*s", plen, pat);
		return -1;
	}
	(*p)++;                                   /* '[' */
	for (;;) {
		lo = parse_num(p, end, bad, sizeof bad);
		if (lo == -2) {
			errf(err, errlen, "bad octet %s in %.*s", bad, plen, pat);
			return -1;
		}
		if (lo < 0) {
			errf(err, errlen, "expected a number inside [...] in %.*s", plen, pat);
			return -1;
		}
		hi = lo;
		if (end - *p >= 2 && (*p)[0] == '.' && (*p)[1] == '.') {
			*p += 2;
			hi = parse_num(p, end, bad, sizeof bad);
			if (hi == -2) {
				errf(err, errlen, "bad octet %s in %.*s", bad, plen, pat);
				return -1;
			}
			if (hi < 0) {
				errf(err, errlen, "a range needs an end (N..M) in %.*s", plen, pat);
				return -1;
			}
			if (hi < lo) {
				errf(err, errlen, "range %d..%d is backwards in %.*s", lo, hi, plen, pat);
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
			errf(err, errlen, "unclosed [ in %.*s", plen, pat);
		else
			errf(err, errlen, "unexpected '%c' inside [...] in %.*s",
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
				errf(err, errlen, "%.*s has %d octet%s, a filter needs 4", plen, pat, i,
				     i == 1 ? "" : "s");
				return -1;
			}
			if (*p != '.') {
				errf(err, errlen, "unexpected '%c' in %.*s",
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
			errf(err, errlen, "%.*s has more than 4 octets", plen, pat);
		else
			errf(err, errlen, "unexpected '%c' in %.*s", isprint((unsigned char)*p) ? *p : '?',
			     plen, pat);
		return -1;
	}
	if (!only_127(oct[0])) {
		errf(err, errlen, "filter %.*s is outside 127.0.0.0/8 (such answers are list errors, never listings)",
		     plen, pat);
		return -1;
	}
	if (only_errors(oct)) {
		errf(err, errlen, "filter %.*s matches only error codes (127.255.255.x, 127.0.1.255, 127.0.0.1), "
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
			errf(err, errlen, "too many patterns in a filter (at most %d)", DNSBL_CODES_SPECS);
			goto fail;
		}
		if (p - start > 200) {
			errf(err, errlen, "pattern too long: %.40s...", start);
			goto fail;
		}
		if (parse_pattern(start, plen, c->octet[c->n], err, errlen) < 0)
			goto fail;
		c->n++;
	}
	if (any && c->n > 0) {
		errf(err, errlen, "'any' cannot be combined with patterns");
		goto fail;
	}
	if (!any && c->n == 0) {
		errf(err, errlen, "empty filter (give patterns such as 127.0.0.[2..11], or 'any')");
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

/* ---- names -------------------------------------------------------------- */

/* ldh - a character a label may hold (RFC 1123 host names, and '_') */
static bool ldh(unsigned char ch)
{
	return isalnum(ch) || ch == '-' || ch == '_';
}

/*
 * name_problem - why the name s[0..n) (no trailing dot) is no usable
 * list of labels; NULL when it is. Static text.
 */
static const char *name_problem(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0)
		return "empty name";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
			continue;
		}
		if (!ldh(ch))
			return "characters other than letters, digits, '-' and '_'";
		if (++label > 63)
			return "a label longer than 63 octets";
	}
	if (label == 0)
		return "empty label";
	return NULL;
}

/* trim_dot - the length of s without one trailing dot */
static size_t trim_dot(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

/* dnsbl_zone_check - see dnsbl.h */
int dnsbl_zone_check(const char *zone, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n = zone ? trim_dot(zone) : 0;
	const char *why = zone ? name_problem(zone, n) : "empty name";
	const char *last;
	bool letter = false;

	if (outlen > 0)
		out[0] = '\0';
	if (why) {
		errf(err, errlen, "bad zone: %s", why);
		return -1;
	}
	if (n >= DNSBL_ZONE_MAX) {
		errf(err, errlen, "zone too long (%zu octets; at most %d, so that IPv6 queries fit)", n,
		     DNSBL_ZONE_MAX - 1);
		return -1;
	}
	if (!memchr(zone, '.', n)) {
		errf(err, errlen, "bad zone: a blocklist zone has at least two labels");
		return -1;
	}
	last = zone + n;
	while (last > zone && last[-1] != '.')
		last--;
	for (const char *q = last; q < zone + n; q++)
		letter |= isalpha((unsigned char)*q) != 0;
	if (!letter) {
		errf(err, errlen, "bad zone: its last label is not a top-level domain");
		return -1;
	}
	if (n >= outlen) {
		errf(err, errlen, "zone too long");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)zone[i]);
	out[n] = '\0';
	return 0;
}

/* join - "prefix" + "." + zone into buf; the length, or -1 when over 253 octets or buf */
static int join(const char *prefix, size_t plen, const char *zone, char *buf, size_t len)
{
	size_t zlen = trim_dot(zone);
	size_t total = plen + 1 + zlen;

	if (len > 0)
		buf[0] = '\0';
	if (zlen == 0 || total > DNSBL_NAME_LIMIT || total >= len)
		return -1;
	for (size_t i = 0; i < plen; i++)
		buf[i] = (char)tolower((unsigned char)prefix[i]);
	buf[plen] = '.';
	for (size_t i = 0; i < zlen; i++)
		buf[plen + 1 + i] = (char)tolower((unsigned char)zone[i]);
	buf[total] = '\0';
	return (int)total;
}

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* dnsbl_query_name - see dnsbl.h */
int dnsbl_query_name(const char *zone, int family, const void *addr, char *buf, size_t len)
{
	const unsigned char *a = addr;
	char rev[80];
	size_t n = 0;

	if (len > 0)
		buf[0] = '\0';
	if (!zone || !addr)
		return -1;
	if (family == AF_INET6 && memcmp(a, v4mapped, sizeof v4mapped) == 0) {
		family = AF_INET;
		a += 12;
	}
	if (family == AF_INET) {
		n = (size_t)snprintf(rev, sizeof rev, "%u.%u.%u.%u", a[3], a[2], a[1], a[0]);
	} else if (family == AF_INET6) {
		static const char hex[] = "0123456789abcdef";

		for (int i = 15; i >= 0; i--) {
			rev[n++] = hex[a[i] & 0xf];
			rev[n++] = '.';
			rev[n++] = hex[a[i] >> 4];
			rev[n++] = '.';
		}
		n--;                             /* the last '.' */
		rev[n] = '\0';
	} else {
		return -1;
	}
	return join(rev, n, zone, buf, len);
}

/* domain_query - the query name for domain, or the static reason it has none */
static const char *domain_query(const char *zone, const char *domain, char *buf, size_t len)
{
	size_t n = domain ? trim_dot(domain) : 0;
	const char *why = domain ? name_problem(domain, n) : "empty name";

	if (len > 0)
		buf[0] = '\0';
	if (why)
		return why;
	if (join(domain, n, zone, buf, len) < 0)
		return "too long to query (over 253 octets with the list's zone)";
	return NULL;
}

/* dnsbl_query_domain - see dnsbl.h */
int dnsbl_query_domain(const char *zone, const char *domain, char *buf, size_t len,
		       char *err, size_t errlen)
{
	const char *why = domain_query(zone ? zone : "", domain, buf, len);

	if (why) {
		errf(err, errlen, "%s", why);
		return -1;
	}
	return (int)strlen(buf);
}

/* ---- one answer --------------------------------------------------------- */

/* keep - one code for the detail (bounded) */
static void keep(struct dnsbl_answer *out, uint32_t code)
{
	if (out->ncodes < DNSBL_CODES_KEPT)
		out->code[out->ncodes++] = code;
	else
		out->more++;
}

/* dnsbl_classify - see dnsbl.h */
enum dnsbl_result dnsbl_classify(const struct dnsbl_codes *filter, const struct dnsbl_codes *errors,
				 enum dns_status st, const unsigned char *ans, int len,
				 struct dnsbl_answer *out)
{
	struct dns_addr a[DNSBL_ANSWER_MAX];
	uint32_t code[DNSBL_ANSWER_MAX];
	size_t total = 0;
	unsigned na = 0;
	bool listed = false;
	int n;

	memset(out, 0, sizeof *out);
	switch (st) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return out->result = DNSBL_CLEAN;
	case DNS_BADNAME:
		out->why = "the name cannot be queried";
		return out->result = DNSBL_TEMPERROR;
	default:
		out->why = dns_status_name(st);
		return out->result = DNSBL_TEMPERROR;
	}
	if (!ans || len <= 0) {
		out->why = "empty answer";
		return out->result = DNSBL_TEMPERROR;
	}
	n = dns_parse_addrs(ans, len, a, DNSBL_ANSWER_MAX, &total);
	if (n < 0) {
		out->why = n == -2 ? "out of memory" : "malformed answer";
		return out->result = DNSBL_TEMPERROR;
	}
	if (total > DNSBL_ANSWER_MAX) {
		out->why = "an answer with more than 32 address records is no blocklist answer";
		return out->result = DNSBL_UNUSABLE;
	}
	for (int i = 0; i < n; i++)
		if (a[i].family == AF_INET)
			code[na++] = (uint32_t)a[i].addr[0] << 24 | (uint32_t)a[i].addr[1] << 16 |
				     (uint32_t)a[i].addr[2] << 8 | a[i].addr[3];
	if (na == 0) {
		out->why = "no A record in the answer";
		return out->result = DNSBL_TEMPERROR;
	}
	for (unsigned i = 0; i < na; i++) {
		const char *why = dnsbl_code_error(code[i], errors);

		if (why) {
			if (!out->why)
				out->why = why;
			keep(out, code[i]);
		}
	}
	if (out->why)
		return out->result = DNSBL_UNUSABLE;
	for (unsigned i = 0; i < na; i++)
		if (filter && dnsbl_codes_match(filter, code[i])) {
			listed = true;
			keep(out, code[i]);
		}
	if (listed)
		return out->result = DNSBL_LISTED;
	for (unsigned i = 0; i < na; i++)
		keep(out, code[i]);
	return out->result = DNSBL_CLEAN;
}

/* ---- lists and combination ---------------------------------------------- */

/* dnsbl_spec_init - see dnsbl.h */
int dnsbl_spec_init(struct dnsbl_spec *s, const char *name, const char *zone,
		    const char *filter, const char *errors, char *err, size_t errlen)
{
	char why[256];
	size_t n = name ? strlen(name) : 0;

	memset(s, 0, sizeof *s);
	if (n == 0 || n >= DNSBL_NAME_MAX) {
		errf(err, errlen, "a list's name has 1 to %d characters", DNSBL_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!ldh((unsigned char)name[i])) {
			errf(err, errlen, "list name %.32s: only letters, digits, '-' and '_'", name);
			return -1;
		}
	memcpy(s->name, name, n + 1);
	if (dnsbl_zone_check(zone, s->zone, sizeof s->zone, why, sizeof why) < 0) {
		errf(err, errlen, "list %s: %s", s->name, why);
		goto fail;
	}
	if (dnsbl_codes_parse(&s->filter, filter && *filter ? filter : "127.0.0.2", why, sizeof why) < 0) {
		errf(err, errlen, "list %s: %s", s->name, why);
		goto fail;
	}
	if (errors && *errors) {
		if (dnsbl_codes_parse(&s->errors, errors, why, sizeof why) < 0) {
			errf(err, errlen, "list %s: error codes: %s", s->name, why);
			goto fail;
		}
		if (s->errors.any) {
			errf(err, errlen, "list %s: error codes cannot be 'any'", s->name);
			goto fail;
		}
	}
	return 0;
fail:
	memset(s, 0, sizeof *s);
	return -1;
}

/* contains_ci - does hay contain needle (case-insensitive)? */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return false;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* show_target - a target for the detail: printable, at most 120 characters, never the zone */
static const char *show_target(const struct dnsbl_spec *s, const char *t, char *buf, size_t len)
{
	size_t n = 0;

	if (contains_ci(t, s->zone))
		return "(a name inside the list's zone)";
	for (; n < 120 && n + 1 < len && t[n]; n++)
		buf[n] = (unsigned char)t[n] >= 0x20 && (unsigned char)t[n] < 0x7f ? t[n] : '?';
	buf[n] = '\0';
	if (n == 0)
		return "(no name)";
	return buf;
}

/* show_codes - "127.0.0.2,127.0.0.4" (and "+N" for those not kept) */
static const char *show_codes(const struct dnsbl_answer *a, char *buf, size_t len)
{
	size_t n = 0;
	char one[16];

	buf[0] = '\0';
	for (unsigned i = 0; i < a->ncodes && i < DNSBL_CODES_KEPT && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "",
				      dnsbl_code_format(a->code[i], one, sizeof one));
	if (a->more && n < len)
		snprintf(buf + n, len - n, "+%u", a->more);
	return buf;
}

/* appendf - add to detail (truncating) */
static void appendf(char *detail, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void appendf(char *detail, size_t len, const char *fmt, ...)
{
	size_t n = strlen(detail);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(detail + n, len - n, fmt, ap);
	va_end(ap);
}

/* first_with - the first outcome with result r (DNSBL_UNKNOWN counts as temperror), n when none; *count all of them */
static unsigned first_with(const struct dnsbl_outcome *o, unsigned n, enum dnsbl_result r, unsigned *count)
{
	unsigned first = n;

	*count = 0;
	for (unsigned i = 0; i < n; i++) {
		enum dnsbl_result v = o[i].ans.result;

		if (v == r || (r == DNSBL_TEMPERROR && (v == DNSBL_UNKNOWN || v >= DNSBL_RESULT_COUNT ||
							  v == DNSBL_SKIPPED))) {
			if (first == n)
				first = i;
			(*count)++;
		}
	}
	return first;
}

/* dnsbl_combine - see dnsbl.h */
enum dnsbl_result dnsbl_combine(const struct dnsbl_spec *s, const struct dnsbl_outcome *o,
				unsigned n, unsigned flags, char *detail, size_t len)
{
	char tbuf[128], cbuf[80], safe[DNSBL_NAME_MAX + 2];
	const char *name = show_target(s, s->name, safe, sizeof safe);
	enum dnsbl_result r;
	unsigned i, count;
	char scratch[FACT_DETAIL_MAX];

	if (!detail || len == 0) {
		detail = scratch;
		len = sizeof scratch;
	}
	detail[0] = '\0';
	if ((i = first_with(o, n, DNSBL_LISTED, &count)) < n) {
		r = DNSBL_LISTED;
		snprintf(detail, len, "%s: %s listed %s", name, show_target(s, o[i].target, tbuf, sizeof tbuf),
			 show_codes(&o[i].ans, cbuf, sizeof cbuf));
		if (count > 1)
			appendf(detail, len, " (and %u more listed)", count - 1);
	} else if ((i = first_with(o, n, DNSBL_UNUSABLE, &count)) < n) {
		r = DNSBL_UNUSABLE;
		if (o[i].ans.ncodes > 0)
			snprintf(detail, len, "%s: answer %s for %s is a list error: %s", name,
				 show_codes(&o[i].ans, cbuf, sizeof cbuf),
				 show_target(s, o[i].target, tbuf, sizeof tbuf),
				 o[i].ans.why ? o[i].ans.why : "unusable");
		else
			snprintf(detail, len, "%s: unusable answer for %s: %s", name,
				 show_target(s, o[i].target, tbuf, sizeof tbuf),
				 o[i].ans.why ? o[i].ans.why : "unusable");
	} else if ((i = first_with(o, n, DNSBL_TEMPERROR, &count)) < n) {
		r = DNSBL_TEMPERROR;
		snprintf(detail, len, "%s: lookup of %s failed: %s", name,
			 show_target(s, o[i].target, tbuf, sizeof tbuf),
			 o[i].ans.result == DNSBL_TEMPERROR && o[i].ans.why ? o[i].ans.why : "no answer");
		if (count > 1)
			appendf(detail, len, " (and %u more failed)", count - 1);
	} else if (flags & DNSBL_INCOMPLETE) {
		r = DNSBL_TEMPERROR;
		snprintf(detail, len, "%s: not every target is known (a lookup behind them failed); "
			 "none of the %u asked is listed", name, n);
	} else {
		r = DNSBL_CLEAN;
		for (i = 0; i < n && o[i].ans.ncodes == 0; i++)
			;
		if (n == 0)
			snprintf(detail, len, "%s: nothing to look up", name);
		else if (n == 1)
			snprintf(detail, len, "%s: %s not listed", name, show_target(s, o[0].target, tbuf, sizeof tbuf));
		else
			snprintf(detail, len, "%s: none of %u targets listed", name, n);
		if (i < n && n == 1)
			appendf(detail, len, " (answered %s, not counted)", show_codes(&o[i].ans, cbuf, sizeof cbuf));
		else if (i < n)
			appendf(detail, len, " (%s answered %s, not counted)",
				show_target(s, o[i].target, tbuf, sizeof tbuf),
				show_codes(&o[i].ans, cbuf, sizeof cbuf));
	}
	if (flags & DNSBL_TRUNCATED)
		appendf(detail, len, " (only the first %d targets were asked)", DNSBL_QUERIES_MAX);
	if (contains_ci(detail, s->zone))        /* cannot happen; the zone must never show */
		snprintf(detail, len, "%s: %s", name, dnsbl_result_name(r));
	return r;
}

/* ---- self-test ---------------------------------------------------------- */

/* dnsbl_selftest_name - see dnsbl.h */
int dnsbl_selftest_name(const struct dnsbl_spec *s, bool domain_list, bool listed, char *buf, size_t len)
{
	const char *probe = domain_list ? (listed ? "test" : "invalid") : (listed ? "2.0.0.127" : "1.0.0.127");

	return join(probe, strlen(probe), s->zone, buf, len);
}

/* dnsbl_selftest_judge - see dnsbl.h */
enum dnsbl_selftest dnsbl_selftest_judge(const struct dnsbl_spec *s,
					 enum dns_status st1, const unsigned char *ans1, int len1,
					 enum dns_status st2, const unsigned char *ans2, int len2,
					 char *why, size_t whylen)
{
	struct dnsbl_answer a1, a2;
	char codes[80];

	dnsbl_classify(&s->filter, &s->errors, st1, ans1, len1, &a1);
	dnsbl_classify(&s->filter, &s->errors, st2, ans2, len2, &a2);
	errf(why, whylen, "%s: answers as a blocklist should", s->name);
	if (a1.result == DNSBL_TEMPERROR || a2.result == DNSBL_TEMPERROR) {
		const struct dnsbl_answer *a = a1.result == DNSBL_TEMPERROR ? &a1 : &a2;

		errf(why, whylen, "%s: not tested: the %s entry's lookup failed: %s", s->name,
		     a == &a1 ? "test" : "never-listed", a->why ? a->why : "error");
		return DNSBL_SELFTEST_UNTESTED;
	}
	if (a1.result == DNSBL_UNUSABLE) {
		errf(why, whylen, "%s: the test entry answered %s: %s", s->name,
		     a1.ncodes ? show_codes(&a1, codes, sizeof codes) : "badly", a1.why);
		return DNSBL_SELFTEST_FAILED;
	}
	if (a1.result == DNSBL_CLEAN && a1.ncodes == 0) {
		errf(why, whylen, "%s: the test entry is not listed (%s): a wrong zone, or the list "
		     "does not answer this resolver", s->name, dns_status_name(st1));
		return DNSBL_SELFTEST_FAILED;
	}
	if (a1.result == DNSBL_CLEAN) {
		errf(why, whylen, "%s: the test entry answered %s, which the filter does not count", s->name,
		     show_codes(&a1, codes, sizeof codes));
		return DNSBL_SELFTEST_FAILED;
	}
	if (a2.result != DNSBL_CLEAN || a2.ncodes > 0) {
		errf(why, whylen, "%s: the never-listed entry is listed (%s): the list, or a resolver on "
		     "the way, answers every query", s->name,
		     a2.ncodes ? show_codes(&a2, codes, sizeof codes) : dnsbl_result_name(a2.result));
		return DNSBL_SELFTEST_FAILED;
	}
	return DNSBL_SELFTEST_OK;
}

/* ---- rate limit --------------------------------------------------------- */

/* dnsbl_ratelimit_due - one winner per interval */
bool dnsbl_ratelimit_due(struct dnsbl_ratelimit *r, time_t now, unsigned interval)
{
	long long next = atomic_load(&r->next);

	if ((long long)now < next)
		return false;
	return atomic_compare_exchange_strong(&r->next, &next, (long long)now + (long long)interval);
}

/* ---- the asynchronous check --------------------------------------------- */

/* finish - the value from the outcomes so far */
static void finish(struct dnsbl_check *c)
{
	c->result = dnsbl_combine(c->spec, c->out, c->ntargets, c->flags, c->detail, sizeof c->detail);
	c->done = true;
}

/* on_answer - one target's answer (lookups_answer_fn) */
static void on_answer(void *owner, int tag, int type, enum dns_status st,
		      const unsigned char *ans, int len)
{
	struct dnsbl_check *c = owner;

	(void)type;
	if (c->done || tag < 0 || (unsigned)tag >= c->ntargets)
		return;
	dnsbl_classify(&c->spec->filter, &c->spec->errors, st, ans, len, &c->out[tag].ans);
	if (c->out[tag].ans.result == DNSBL_LISTED || c->q.outstanding == 0)
		finish(c);
}

/* dnsbl_check_init - see dnsbl.h */
void dnsbl_check_init(struct dnsbl_check *c, struct resolver *res, const struct dnsbl_spec *spec)
{
	memset(c, 0, sizeof *c);
	c->spec = spec;
	c->res = res;
	lookups_init(&c->q, c, on_answer);
}

/* add_target - a target by its text and query name (or why it has none) */
static bool add_target(struct dnsbl_check *c, const char *text, size_t tlen, const char *qname, const char *qerr)
{
	unsigned i;

	if (c->started || !c->spec)
		return false;
	if (tlen >= DNSBL_TARGET_MAX)
		tlen = DNSBL_TARGET_MAX - 1;
	for (i = 0; i < c->ntargets; i++)
		if (strlen(c->out[i].target) == tlen && strncmp(c->out[i].target, text, tlen) == 0)
			return false;
	if (c->ntargets == DNSBL_QUERIES_MAX) {
		c->skipped++;
		c->flags |= DNSBL_TRUNCATED;
		return false;
	}
	i = c->ntargets++;
	memcpy(c->out[i].target, text, tlen);
	c->out[i].target[tlen] = '\0';
	snprintf(c->qname[i], sizeof c->qname[i], "%s", qname);
	c->qerr[i] = qname[0] ? NULL : qerr;
	return true;
}

/* dnsbl_check_add_addr - see dnsbl.h */
bool dnsbl_check_add_addr(struct dnsbl_check *c, int family, const void *addr)
{
	const unsigned char *a = addr;
	char text[INET6_ADDRSTRLEN], qname[DNSBL_QNAME_MAX];

	if (!c->spec || !addr || (family != AF_INET && family != AF_INET6))
		return false;
	if (family == AF_INET6 && memcmp(a, v4mapped, sizeof v4mapped) == 0) {
		family = AF_INET;
		a += 12;
	}
	if (!inet_ntop(family, a, text, sizeof text))
		return false;
	if (dnsbl_query_name(c->spec->zone, family, a, qname, sizeof qname) < 0)
		qname[0] = '\0';
	return add_target(c, text, strlen(text), qname, "too long to query with the list's zone");
}

/* dnsbl_check_add_sockaddr - see dnsbl.h */
bool dnsbl_check_add_sockaddr(struct dnsbl_check *c, const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return dnsbl_check_add_addr(c, AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return dnsbl_check_add_addr(c, AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return false;
}

/* dnsbl_check_add_domain - see dnsbl.h */
bool dnsbl_check_add_domain(struct dnsbl_check *c, const char *domain)
{
	char text[DNSBL_TARGET_MAX], qname[DNSBL_QNAME_MAX];
	const char *why;
	size_t n;

	if (!c->spec || !domain || !domain[0])
		return false;
	n = trim_dot(domain);
	if (n >= sizeof text)
		n = sizeof text - 1;
	for (size_t i = 0; i < n; i++)
		text[i] = (char)tolower((unsigned char)domain[i]);
	text[n] = '\0';
	why = domain_query(c->spec->zone, domain, qname, sizeof qname);
	return add_target(c, text, n, why ? "" : qname, why);
}

/* dnsbl_check_add_addrs - see dnsbl.h */
void dnsbl_check_add_addrs(struct dnsbl_check *c, const struct fact_address_set *set)
{
	if (set->partial)
		c->flags |= DNSBL_INCOMPLETE;
	for (unsigned i = 0; i < set->count && i < FACT_SET_ADDRS; i++)
		dnsbl_check_add_sockaddr(c, (const struct sockaddr *)&set->addr[i]);
}

/* dnsbl_check_add_domains - see dnsbl.h */
void dnsbl_check_add_domains(struct dnsbl_check *c, const struct fact_domain_set *set)
{
	if (set->partial)
		c->flags |= DNSBL_INCOMPLETE;
	for (unsigned i = 0; i < set->count && i < FACT_SET_NAMES; i++)
		dnsbl_check_add_domain(c, set->name[i]);
}

/* dnsbl_check_incomplete - see dnsbl.h */
void dnsbl_check_incomplete(struct dnsbl_check *c)
{
	c->flags |= DNSBL_INCOMPLETE;
}

/* dnsbl_check_start - see dnsbl.h */
void dnsbl_check_start(struct dnsbl_check *c)
{
	if (c->started || !c->spec)
		return;
	c->started = true;
	for (unsigned i = 0; i < c->ntargets; i++) {
		struct dnsbl_answer *a = &c->out[i].ans;

		if (!c->qname[i][0]) {
			a->result = DNSBL_TEMPERROR;
			a->why = c->qerr[i] ? c->qerr[i] : "cannot be queried";
		} else if (!lookups_start(&c->q, c->res, c->qname[i], ns_t_a, (int)i)) {
			a->result = DNSBL_TEMPERROR;
			a->why = "the lookup could not be started";
		}
	}
	if (c->q.outstanding == 0)
		finish(c);
}

/* dnsbl_check_done - resolver_wait predicate */
bool dnsbl_check_done(void *arg)
{
	return ((const struct dnsbl_check *)arg)->done;
}

/* dnsbl_check_result - the value once done */
enum dnsbl_result dnsbl_check_result(const struct dnsbl_check *c)
{
	return c->done ? c->result : DNSBL_UNKNOWN;
}

/* dnsbl_check_abandon - see dnsbl.h */
void dnsbl_check_abandon(struct dnsbl_check *c)
{
	lookups_abandon(&c->q);
	if (c->done)
		return;
	if (!c->spec) {
		c->done = true;
		return;
	}
	for (unsigned i = 0; i < c->ntargets; i++)
		if (c->out[i].ans.result == DNSBL_UNKNOWN) {
			c->out[i].ans.result = DNSBL_TEMPERROR;
			c->out[i].ans.why = c->started ? "abandoned before an answer" : "never asked";
		}
	finish(c);
}
