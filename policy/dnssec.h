/*
 * dnssec.h - the mx_dnssec fact: did the sender domain's MX answer, and
 * the address answers of its exchanges, come authenticated from a
 * validating resolver we trust? An asynchronous check on a connection's
 * resolver, shaped like policy/mx.h.
 *
 *   struct dnssec_check d;                        (inside per-message state)
 *   dnssec_check_for_sender(&d, res, &sender_addr, &opts);
 *   resolver_wait(res, dnssec_check_done, &d);    (also drives the others)
 *   dnssec_check_facts(&d, facts);                (result + detail)
 *   dnssec_check_abandon(&d);                     (before freeing or reusing d)
 *
 * The resolver asks every query with the AD bit set and hands back the
 * raw answer (policy/resolver.h); a validating resolver sets AD in an
 * answer whose data (or denial) it authenticated. AD means nothing from a
 * resolver that does not validate or that is reached over a path an
 * attacker can touch, so it counts only when dnssec_ad_trusted() says so:
 * every configured server is loopback, or dns_trust_ad = yes.
 *
 * Lookups, the same the MX check makes (the resolver asks identical
 * queries of a message once, so with the MX check running too this costs
 * no extra DNS): the domain's MX; then A and AAAA of the max_targets most
 * preferred distinct exchanges (an exchange written as an IP address or
 * localhost is not looked up, as the MX check does); for no MX (NODATA)
 * the domain's own A and AAAA; for a null MX ("0 ." alone) or NXDOMAIN
 * the MX answer alone.
 *
 * Values:
 *   secure      every answer used had AD (records or authenticated denial)
 *   insecure    an answer lacked AD (decided as soon as one arrives)
 *   unverified  AD is not trusted (no DNS is asked), or a lookup failed
 *               (SERVFAIL - also what a validating resolver says for bogus
 *               data -, timeout, malformed answer); the detail says which
 *   skipped     null sender, address literal, invalid domain (no DNS)
 * An answer without AD wins over a failed lookup: that part of the data is
 * unsigned whatever the rest says.
 *
 * Lifetime: as mx.h - the lookups in flight (policy/lookups.h) point back
 * at the check; dnssec_check_abandon() detaches them so late answers never
 * touch the check's memory. Call it before freeing or reusing it.
 */
#ifndef MXGUARD_DNSSEC_H
#define MXGUARD_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/address.h"
#include "policy/dns_parse.h"
#include "policy/facts.h"
#include "policy/lookups.h"
#include "policy/mx.h"
#include "policy/resolver.h"

#define DNSSEC_QUERIES_MAX (1 + 2 * MX_TARGETS_MAX)

struct dnssec_options {
	unsigned max_targets;      /* exchanges to look at; 0 = MX_TARGETS_DEFAULT, capped at MX_TARGETS_MAX */
	const char *untrusted;     /* NULL: AD is trusted; else why not (the detail of unverified) */
};


struct dnssec_check {
	/* The result: valid once dnssec_check_done() is true. */
	enum mx_dnssec_result result;
	char detail[FACT_DETAIL_MAX];

	/* Private. */
	bool done;
	bool implicit;                 /* judging the domain's own addresses (no MX) */
	struct resolver *res;
	unsigned max_targets;
	char domain[FACT_NAME_MAX];
	unsigned ntargets;             /* exchanges looked up */
	char target[MX_TARGETS_MAX][DNS_HOST_BUF];
	struct lookups q;              /* lookups in flight */
	unsigned authenticated;        /* answers with AD so far */
	enum dns_status temp;          /* first temporary failure, or DNS_OK */
	char temp_what[DNS_HOST_BUF + 8];   /* "AAAA mx1.example.org" */
};

/*
 * dnssec_ad_trusted - may the AD bit from these servers be believed?
 * servers is the canonical dns_servers list ("ip:port,[v6]:port", as the
 * configuration stores it) or NULL / "" for the system resolver. Trusted
 * when trust_ad is set, or when there is a list and every entry is a
 * loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). Otherwise
 * false, with the reason in why ("resolver 192.0.2.53 is not loopback;
 * set dns_trust_ad = yes if the path to it is trusted").
 */
bool dnssec_ad_trusted(const char *servers, bool trust_ad, char *why, size_t whylen);

/*
 * dnssec_check_start - judge domain (normalised and checked with
 * address_domain() first: a bad one is skipped without DNS). c is
 * overwritten: abandon any previous check in it first. When opt says AD
 * is untrusted the check is done at once (unverified) without DNS.
 */
void dnssec_check_start(struct dnssec_check *c, struct resolver *res, const char *domain,
			const struct dnssec_options *opt);

/*
 * dnssec_check_for_sender - the same for a parsed MAIL FROM, as the MX
 * check treats it: the null sender, an address literal and an invalid
 * address are skipped (the detail says which) without DNS.
 */
void dnssec_check_for_sender(struct dnssec_check *c, struct resolver *res,
			     const struct address *sender, const struct dnssec_options *opt);

/* dnssec_check_done - has the check decided? (a resolver_done_fn: arg is the struct dnssec_check) */
bool dnssec_check_done(void *arg);

/* dnssec_check_facts - copy result and detail into f and mark them known; no-op until done. */
void dnssec_check_facts(const struct dnssec_check *c, struct facts *f);

/* dnssec_check_abandon - detach lookups in flight; an unfinished check becomes unverified. */
void dnssec_check_abandon(struct dnssec_check *c);

#endif
