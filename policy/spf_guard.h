/*
 * spf_guard.h - strict RFC 7208 syntax check of SPF records and explanation
 * strings, done before libspf2 ever sees them.
 *
 * Why: libspf2 1.2.10 (Debian 12) aborts the process on internal errors and
 * carries an unpatched integer underflow in its macro compiler
 * (CVE-2023-42118). Every SPF record and every exp= text comes from the
 * sender's DNS, i.e. from whoever sends us mail. So nothing reaches
 * libspf2's compiler unless it parsed here first, against the ABNF of
 * RFC 7208 section 12 plus tight length bounds far below libspf2's own
 * buffers (SPF_MAX_MECH_LEN/SPF_MAX_MOD_LEN 511, SPF_MAX_STR_LEN 255).
 * A record that fails is a permerror and is never handed on.
 *
 * The parser does no I/O and allocates nothing: a struct spf_parsed points
 * into the caller's text, which must outlive it.
 */
#ifndef MXGUARD_SPF_GUARD_H
#define MXGUARD_SPF_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#define SPF_GUARD_MAX_RECORD 4096   /* joined TXT strings of one record */
#define SPF_GUARD_MAX_TERMS  512    /* a 4096-byte record of "a" terms has ~2000; real ones far fewer */
#define SPF_GUARD_MAX_TERM   255    /* one mechanism or modifier */
#define SPF_GUARD_MAX_EXP    384    /* an explanation TXT record */
#define SPF_GUARD_MAX_DIGITS 128    /* %{d128}: libspf2 refuses more */

enum spf_term_kind {
	SPF_T_ALL = 1, SPF_T_INCLUDE, SPF_T_A, SPF_T_MX, SPF_T_PTR,
	SPF_T_IP4, SPF_T_IP6, SPF_T_EXISTS,
	SPF_T_REDIRECT, SPF_T_EXP, SPF_T_UNKNOWN_MOD,
};

/* One term, pointing into the record text. */
struct spf_term {
	enum spf_term_kind kind;
	char qualifier;          /* '+', '-', '~', '?' ('+' when absent); 0 for modifiers */
	const char *arg;         /* domain-spec, ip network or modifier value; NULL when absent */
	size_t arglen;
	int cidr4, cidr6;        /* -1 when absent */
};

struct spf_parsed {
	struct spf_term terms[SPF_GUARD_MAX_TERMS];
	unsigned n;
	int redirect;            /* index of the redirect= term, -1 if none */
	int exp;                 /* index of the exp= term, -1 if none */
	bool has_all;
};

/*
 * spf_guard_is_spf - true when the TXT record (len bytes, may hold NULs) is
 * an SPF record per RFC 7208 section 4.5: it starts with "v=spf1"
 * (any case) followed by a space or its end.
 */
bool spf_guard_is_spf(const char *txt, size_t len);

/*
 * spf_guard_parse - check one SPF record (len bytes) and split it into
 * terms. Returns 0 when it is valid RFC 7208 within our bounds; -1 with a
 * human reason in why (a permerror) otherwise.
 */
int spf_guard_parse(const char *txt, size_t len, struct spf_parsed *out,
		    char *why, size_t whylen);

/*
 * spf_guard_explanation - check an exp= TXT record (explain-string:
 * visible ASCII, spaces and valid macros, all letters allowed). 0 valid,
 * -1 with a reason otherwise (RFC 7208 6.2: then behave as if no exp).
 */
int spf_guard_explanation(const char *txt, size_t len, char *why, size_t whylen);

/*
 * spf_guard_domain_spec - check one domain-spec (macro-string domain-end).
 * 0 valid, -1 with a reason. Exposed for tests and the DNS layer.
 */
int spf_guard_domain_spec(const char *s, size_t len, char *why, size_t whylen);

/*
 * SPF_MARK_ANY - a byte spf_guard_parse never lets through (control
 * characters are refused), appended by spf_guard_rewrite to the target of an
 * a/mx term whose CIDR length for the client's family is 0. libspf2 cannot
 * express /0 (it stores 0 as "no length"), so the DNS layer answers a name
 * carrying this mark with the client's own address whenever the real name
 * has any address of that family: exactly the meaning of /0.
 */
#define SPF_MARK_ANY '\x01'

/* DNS-querying terms one evaluation may use (RFC 7208 4.6.4). */
#define SPF_GUARD_DNS_TERMS 10

/*
 * spf_guard_rewrite - the parsed record as libspf2 should compile it for
 * the client in->addr. Same meaning, fewer and simpler terms:
 *   - ip4/ip6 terms are decided here: one that does not contain the client
 *     is dropped, the first that does becomes "<qualifier>all" (evaluation
 *     would stop there) and nothing after it is kept;
 *   - a/mx keep only the CIDR length of the client's family; a length of 0
 *     becomes the SPF_MARK_ANY suffix;
 *   - mechanisms after "all" or after the 11th DNS-querying term (which can
 *     only end in the limit's permerror) are dropped;
 *   - unknown modifiers are dropped; exp= is kept; redirect= goes last, and
 *     only when no "all" is in the record (RFC 7208 6.1) and it is reachable;
 *   - domain-specs lose their trailing dot and pass spf_guard_macro_clamp.
 * Why: libspf2 cannot express /0, runs redirect= where it stands, and
 * silently drops mechanisms beyond 511 compiled bytes (about 63 ip4 or 25
 * ip6 terms), so what it gets must be small. *nmech is the number of
 * mechanisms (redirect included) libspf2 must end up with: if its compiled
 * record has fewer, it truncated. Returns 0, or -1 when out is too small.
 */
struct spf_rewrite_in {
	int af;                         /* AF_INET or AF_INET6 */
	const void *addr;               /* the client: 4 or 16 bytes */
	const char *vals[26];           /* macro values known now (spf_guard_macro_clamp) */
};

int spf_guard_rewrite(const struct spf_parsed *p, const struct spf_rewrite_in *in,
		      char *out, size_t outlen, unsigned *nmech);

/*
 * spf_guard_macro_clamp - copy the (validated) macro-string s[0..n) to out
 * as a NUL-terminated string, dropping each digit transformer that asks
 * for at least as many parts as its macro's value has (vals['x' - 'a'] is
 * the value of %{x}, NULL when not known in advance): libspf2 mangles
 * those, see spf_macro.c. Returns the length, or -1 if out is too small.
 */
long spf_guard_macro_clamp(const char *s, size_t n, const char *const vals[26],
			   char *out, size_t outlen);

/*
 * spf_guard_explain_text - an explanation (already checked) as libspf2's
 * macro compiler must get it: clamped as above, and each SP written as the
 * "%_" macro, because that compiler stops a literal at a space and then
 * misreads what follows as an escape. vals may be NULL (nothing known).
 * Returns 0, or -1 when out (outlen bytes) is too small.
 */
int spf_guard_explain_text(const char *in, const char *const vals[26], char *out, size_t outlen);

/*
 * spf_guard_upper_hex - libspf2 URL-encodes with lower-case hex ("%3d");
 * RFC 3986 2.1 and the RFC 7208 suite want "%3D". Upper-cases in place the
 * two hex digits after each '%'.
 */
void spf_guard_upper_hex(char *s);

/*
 * spf_guard_upper_nibbles - libspf2 writes %{i} of an IPv6 client as
 * lower-case nibbles; pyspf and the RFC 7208 suite write them upper-case.
 * Upper-cases, in an expanded explanation, every full 32-nibble dotted form
 * of addr (forward or reversed). Only explanation text is touched: DNS
 * names are case-insensitive anyway.
 */
void spf_guard_upper_nibbles(char *s, const unsigned char addr[16]);

/* spf_guard_url_macro - does text use an upper-case (URL-encoding) macro letter? */
bool spf_guard_url_macro(const char *text);

#endif
