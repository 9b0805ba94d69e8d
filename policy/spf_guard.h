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
#define SPF_GUARD_MAX_TERMS  128
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

/*
 * spf_guard_rewrite - the parsed record as libspf2 should compile it for a
 * client of address family af (AF_INET or AF_INET6): same semantics, but
 * unknown modifiers dropped, ip4/ip6 terms of the other family dropped,
 * the other family's CIDR length dropped, /0 expressed without a zero
 * length, redirect= moved last (or dropped when "all" is present,
 * RFC 7208 6.1). Returns 0, or -1 when out (outlen bytes) is too small.
 */
int spf_guard_rewrite(const struct spf_parsed *p, int af, char *out, size_t outlen);

#endif
