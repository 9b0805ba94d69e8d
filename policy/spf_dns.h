/*
 * spf_dns.h - libspf2's DNS layer (SPF_dns_server_t) on our resolver.
 *
 * libspf2 asks its layer synchronously ("give me the A records of x"); this
 * layer starts the query on the calling connection's resolver and drives
 * resolver_wait() until that answer is in, so every other pending query of
 * the connection (the MX check, DKIM keys) progresses meanwhile.
 *
 * Because every lookup of an evaluation passes through here, this is also
 * where RFC 7208 4.6.4 is enforced, which libspf2 does not do:
 *   - at most 10 DNS-querying terms (include, a, mx, ptr, exists, redirect)
 *     over the whole evaluation, includes and redirects counted;
 *   - at most 2 void lookups (NXDOMAIN or no records) among those terms;
 *   - an mx term with more than 10 MX records is a permerror; a ptr term
 *     (and the %{p} macro) looks at the first 10 PTR names only; errors
 *     while validating PTR names skip that name (5.5); the %{p} macro's
 *     own lookups are not terms;
 *   - a hard cap on all queries of one check, whatever libspf2 does.
 * When a limit is hit the layer records the verdict in the evaluation and
 * answers every further lookup with "try again", which makes libspf2
 * unwind at once; spf.c then reports the recorded verdict.
 *
 * The layer also fetches records itself (get_spf: TXT only, RFC 7208 4.4;
 * record selection 4.5; the spf_guard check and rewrite) and explanations
 * (get_exp: exactly one TXT record, guarded, 6.2).
 *
 * Per-check state lives in a struct spf_eval owned by the caller of
 * spf_dns_enter(), found through a thread-local pointer, so one
 * SPF_server_t (and one layer) serves all threads.
 */
#ifndef MXGUARD_SPF_DNS_H
#define MXGUARD_SPF_DNS_H

#include <stdbool.h>
#include <netinet/in.h>
#include <spf2/spf.h>

#include "policy/facts.h"

#define SPF_MAX_TERMS     10     /* RFC 7208 4.6.4 */
#define SPF_MAX_VOIDS     2      /* RFC 7208 4.6.4 */
#define SPF_MAX_NAMES     10     /* MX or PTR names looked at per term */
#define SPF_MAX_QUERIES   160    /* all queries of one check: a backstop */
#define SPF_NAME_BUF      256

struct resolver;

/* The state of one check_host() evaluation. Zero it, then fill the inputs. */
struct spf_eval {
	/* inputs */
	struct resolver *res;
	SPF_request_t *req;
	SPF_record_t *record;            /* the compiled record of <domain> (spf.c frees it) */
	int af;                          /* AF_INET or AF_INET6 */
	struct in_addr ip4;
	struct in6_addr ip6;
	bool default_url;                /* the default explanation URL-encodes (spf_guard_upper_hex) */

	/* RFC 7208 4.6.4 accounting */
	unsigned terms, voids, queries;
	bool started;                    /* the record of <domain> itself was fetched */

	/* verdicts the layer reached; SPFR_UNKNOWN when none */
	enum spf_result forced;          /* a limit or an internal failure: overrides libspf2 */
	enum spf_result top;             /* none/temperror/permerror while fetching the first record */
	char why[FACT_DETAIL_MAX];       /* the first reason recorded */

	/* names an mx/ptr term will look up next (its "children") */
	char child[SPF_MAX_NAMES][SPF_NAME_BUF];
	unsigned nchild, next_child;
	bool child_lenient;              /* ptr validation: errors mean "skip" */

	void *inflight;                  /* the query being waited for (spf_dns.c) */

	/* the latest explanation libspf2 asked for (spf_fetch.c) */
	unsigned exp_seq;
	char exp_domain[1024];           /* the exp= domain-spec, expanded */
	char exp_curdom[1024];           /* <domain> at the time */
};

/* spf_dns_new - the layer (owned by the SPF_server_t it is given to). NULL on OOM. */
SPF_dns_server_t *spf_dns_new(void);

/* spf_dns_enter - make ev the evaluation of this thread's lookups; spf_dns_leave undoes it. */
void spf_dns_enter(struct spf_eval *ev);
void spf_dns_leave(void);

/*
 * spf_dns_abandon - the evaluation is being given up while a query may be
 * in flight (libspf2 fatal error): its late answer will be dropped.
 */
void spf_dns_abandon(struct spf_eval *ev);

/* spf_dns_note - record a reason in ev->why unless one is there already. */
void spf_dns_note(struct spf_eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * spf_dns_domain_ok - true when name (no trailing dot needed) can be an SPF
 * <domain> per RFC 7208 4.3: at least two labels, none empty or over 63
 * octets, at most 253 octets, not an address literal.
 */
bool spf_dns_domain_ok(const char *name);

#endif
