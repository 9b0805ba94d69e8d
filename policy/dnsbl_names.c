/*
 * dnsbl_names.c - DNS blocklists: zones and RFC 5782 query names (see dnsbl.h).
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

/* ---- names -------------------------------------------------------------- */

/* ldh - a character a label may hold (RFC 1123 host names, and '_') */
bool dnsbl_ldh(unsigned char ch)
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
		if (!dnsbl_ldh(ch))
			return "characters other than letters, digits, '-' and '_'";
		if (++label > 63)
			return "a label longer than 63 octets";
	}
	if (label == 0)
		return "empty label";
	return NULL;
}

/* trim_dot - the length of s without one trailing dot */
size_t dnsbl_trim_dot(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

/* dnsbl_zone_check - see dnsbl.h */
int dnsbl_zone_check(const char *zone, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n = zone ? dnsbl_trim_dot(zone) : 0;
	const char *why = zone ? name_problem(zone, n) : "empty name";
	const char *last;
	bool letter = false;

	if (outlen > 0)
		out[0] = '\0';
	if (why) {
		dnsbl_errf(err, errlen, "bad zone: %s", why);
		return -1;
	}
	if (n >= DNSBL_ZONE_MAX) {
		dnsbl_errf(err, errlen, "zone too long (%zu octets; at most %d, so that IPv6 queries fit)", n,
		     DNSBL_ZONE_MAX - 1);
		return -1;
	}
	if (!memchr(zone, '.', n)) {
		dnsbl_errf(err, errlen, "bad zone: a blocklist zone has at least two labels");
		return -1;
	}
	last = zone + n;
	while (last > zone && last[-1] != '.')
		last--;
	for (const char *q = last; q < zone + n; q++)
		letter |= isalpha((unsigned char)*q) != 0;
	if (!letter) {
		dnsbl_errf(err, errlen, "bad zone: its last label is not a top-level domain");
		return -1;
	}
	if (n >= outlen) {
		dnsbl_errf(err, errlen, "zone too long");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)zone[i]);
	out[n] = '\0';
	return 0;
}

/* join - "prefix" + "." + zone into buf; the length, or -1 when over 253 octets or buf */
int dnsbl_join(const char *prefix, size_t plen, const char *zone, char *buf, size_t len)
{
	size_t zlen = dnsbl_trim_dot(zone);
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

const unsigned char dnsbl_v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

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
	if (family == AF_INET6 && memcmp(a, dnsbl_v4mapped, sizeof dnsbl_v4mapped) == 0) {
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
	return dnsbl_join(rev, n, zone, buf, len);
}

/* domain_query - the query name for domain, or the static reason it has none */
const char *dnsbl_domain_query(const char *zone, const char *domain, char *buf, size_t len)
{
	size_t n = domain ? dnsbl_trim_dot(domain) : 0;
	const char *why = domain ? name_problem(domain, n) : "empty name";

	if (len > 0)
		buf[0] = '\0';
	if (why)
		return why;
	if (dnsbl_join(domain, n, zone, buf, len) < 0)
		return "too long to query (over 253 octets with the list's zone)";
	return NULL;
}

/* dnsbl_query_domain - see dnsbl.h */
int dnsbl_query_domain(const char *zone, const char *domain, char *buf, size_t len,
		       char *err, size_t errlen)
{
	const char *why = dnsbl_domain_query(zone ? zone : "", domain, buf, len);

	if (why) {
		dnsbl_errf(err, errlen, "%s", why);
		return -1;
	}
	return (int)strlen(buf);
}
