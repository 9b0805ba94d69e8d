/*
 * dnsbl_impl.h - inside the DNS-blocklist module: what its files
 * (dnsbl.c, dnsbl_codes.c, dnsbl_names.c, dnsbl_check.c) share. Nobody
 * else includes it; the contract is policy/dnsbl.h.
 */
#ifndef MXGUARD_DNSBL_IMPL_H
#define MXGUARD_DNSBL_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/dnsbl.h"

#define DNSBL_NAME_LIMIT 253        /* octets of a name in presentation form, no trailing dot */

/* dnsbl_errf - printf into an error buffer (err may be NULL) */
void dnsbl_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* dnsbl_trim_dot - the length of s without one trailing dot */
size_t dnsbl_trim_dot(const char *s);

/* dnsbl_ldh - a character a label may hold (RFC 1123 host names, and '_') */
bool dnsbl_ldh(unsigned char ch);

/* dnsbl_join - "prefix" + "." + zone into buf; the length, or -1 when over 253 octets or buf */
int dnsbl_join(const char *prefix, size_t plen, const char *zone, char *buf, size_t len);

/* The ::ffff:0:0/96 prefix: an IPv4-mapped IPv6 address is queried as IPv4. */
extern const unsigned char dnsbl_v4mapped[12];

/* dnsbl_domain_query - the query name for domain into buf: NULL, or the (static) reason it has none */
const char *dnsbl_domain_query(const char *zone, const char *domain, char *buf, size_t len);

/* dnsbl_show_codes - "127.0.0.2,127.0.0.4" (and "+N" for those not kept) into buf; returns buf */
const char *dnsbl_show_codes(const struct dnsbl_answer *a, char *buf, size_t len);

#endif
