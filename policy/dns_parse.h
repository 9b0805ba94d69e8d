/*
 * dns_parse.h - bounded readers for raw DNS answers (RFC 1035 wire form).
 *
 * The resolver hands its callbacks the raw reply; these helpers pull out
 * what the checks need: MX lists, addresses, TXT records, PTR and NS names, and
 * where a CNAME chain ends. They never trust a count or a length from the
 * packet: every read is checked against the packet size, compression
 * pointers must point strictly backwards (no loops), and output goes to
 * caller-supplied fixed arrays (or, for TXT, to an owned list freed with
 * dns_txt_free).
 *
 * Only answer-section records that belong to the question name, or to a
 * name reached from it through CNAME records in the same answer, are
 * returned; everything else in the packet is ignored.
 *
 * Names come out in presentation form without the trailing dot, lower
 * case, with RFC 1035 escapes (\. \\ \DDD) for bytes that are not plain
 * printable characters; the root name is "". Such a name can be passed
 * back to resolver_query().
 *
 * Return convention: >= 0 is the number of items stored, -1 means the
 * packet is malformed, including a record of the wanted type whose RDATA
 * does not parse (an A record that is not 4 octets, a TXT whose strings
 * overrun it) (treat as a temporary failure: a hostile answer
 * must not turn into a permanent verdict), -2 out of memory.
 */
#ifndef MXGUARD_DNS_PARSE_H
#define MXGUARD_DNS_PARSE_H

#include <stddef.h>

/* Longest escaped name we keep: 255 wire octets could need 4 chars each. */
#define DNS_NAME_BUF 1025
/* Longest name we hand on: a host name in presentation form, NUL included. */
#define DNS_HOST_BUF 256

struct dns_mx {
	unsigned pref;
	char host[DNS_HOST_BUF];   /* "" for the null MX "." */
};

struct dns_addr {
	int family;                /* AF_INET or AF_INET6 */
	unsigned char addr[16];    /* 4 or 16 bytes used */
};

struct dns_txt {
	char *text;                /* the record's strings joined, NUL-terminated (may also hold NULs) */
	size_t len;                /* bytes in text, excluding the final NUL */
};

struct dns_txt_list {
	struct dns_txt *rec;       /* owned; dns_txt_free() */
	size_t count;
};

/* At most this many TXT records are kept per answer; the rest are counted only. */
#define DNS_TXT_MAX 64

/* dns_parse_rcode - the RCODE of a reply, or -1 when it is too short. */
int dns_parse_rcode(const unsigned char *ans, int len);

/*
 * dns_parse_ttl - how long an answer may be kept: with records in the
 * answer section, the smallest of their TTLs; without (NXDOMAIN, NODATA),
 * min(SOA TTL, SOA MINIMUM) of the first SOA in the authority section
 * (RFC 2308 §5). A TTL with the top bit set counts as 0 (RFC 2181 §8).
 * Returns 0 with *ttl in seconds, 1 for a negative answer without an SOA
 * (nothing to go by: do not keep it), -1 when malformed.
 */
int dns_parse_ttl(const unsigned char *ans, int len, unsigned long *ttl);

/* The AD (authentic data) flag: in byte 3 of the header (RFC 4035 §3.2.3, RFC 6840 §5.7). */
#define DNS_FLAG_AD_BYTE3 0x20

/*
 * dns_parse_ad - 1 when the reply's AD bit is set, 0 when it is clear, -1
 * when the reply is too short to have a header. Only a validating
 * resolver the caller trusts (and reaches over a trusted path) makes the
 * bit mean "authenticated"; the resolver (policy/resolver.h) asks with AD
 * set and clears it in a CNAME chain's final answer unless every answer
 * of the chain had it.
 */
int dns_parse_ad(const unsigned char *ans, int len);

/*
 * dns_parse_canonical - the name the answer's records of qtype belong to:
 * the end of the CNAME chain from the question name inside the answer,
 * else the question name itself, into out (presentation form, lower
 * case, no trailing dot). A caller that asked for name X and gets
 * another name back was answered through an alias (here or by the
 * resolver following the chain). 0, or -1 when malformed or out is too
 * short.
 */
int dns_parse_canonical(const unsigned char *ans, int len, int qtype, char *out, size_t outlen);

/*
 * dns_parse_follow - where does the answer for qtype end up? Returns
 * DNS_FOLLOW_HAS_TYPE when it holds a record of qtype for the question
 * name (or the end of its CNAME chain), DNS_FOLLOW_CNAME with the chain's
 * last name in target when it holds only the chain, DNS_FOLLOW_EMPTY when
 * it holds neither, -1 when malformed. A chain longer than 16 links in
 * one answer counts as malformed.
 */
enum { DNS_FOLLOW_HAS_TYPE = 0, DNS_FOLLOW_CNAME = 1, DNS_FOLLOW_EMPTY = 2 };
int dns_parse_follow(const unsigned char *ans, int len, int qtype,
		     char *target, size_t targetlen);

/*
 * dns_parse_mx - MX records, the max most preferred ones sorted by
 * preference (ties keep answer order). *total (may be NULL) gets the
 * number of MX records in the answer, including those not stored and
 * those whose exchange name is too long for DNS_HOST_BUF (never stored).
 */
int dns_parse_mx(const unsigned char *ans, int len, struct dns_mx *out,
		 size_t max, size_t *total);

/*
 * dns_parse_addrs - A and AAAA records, in answer order, at most max.
 * *total as for dns_parse_mx.
 */
int dns_parse_addrs(const unsigned char *ans, int len, struct dns_addr *out,
		    size_t max, size_t *total);

/* dns_parse_ptr - PTR target names, at most max. */
int dns_parse_ptr(const unsigned char *ans, int len, char (*out)[DNS_HOST_BUF],
		  size_t max, size_t *total);

/*
 * dns_parse_ns - NS target names in answer order, at most max; *total as
 * for dns_parse_mx (names too long for DNS_HOST_BUF are counted, never
 * stored). Only the answer section counts: NS records in the authority
 * section (a referral) and glue in the additional section are ignored.
 */
int dns_parse_ns(const unsigned char *ans, int len, char (*out)[DNS_HOST_BUF],
		 size_t max, size_t *total);

/*
 * dns_parse_txt - TXT records, each record's character-strings joined
 * (RFC 7208 §3.3), at most DNS_TXT_MAX. On success out owns the records
 * (also when count is 0): release with dns_txt_free(). On error out is
 * empty.
 */
int dns_parse_txt(const unsigned char *ans, int len, struct dns_txt_list *out);
void dns_txt_free(struct dns_txt_list *);

/* dns_addr_format - presentation form of an address into buf; returns buf. */
char *dns_addr_format(const struct dns_addr *, char *buf, size_t buflen);

#endif
