/*
 * mx.h - the MX fact (design.md, "The MX fact"; RFC 5321 §5.1, RFC 7505)
 * as an asynchronous check on a connection's resolver.
 *
 *   struct mx_check mx;                          (inside per-message state)
 *   mx_check_for_sender(&mx, res, &sender_addr, &opts);
 *   ... start other lookups, do other work ...
 *   resolver_wait(res, mx_check_done, &mx);      (also drives the others)
 *   mx_check_facts(&mx, facts);                  (result + detail)
 *   mx_check_release(&mx);                       (before freeing or reusing mx)
 *
 * Classes: "<>" gives skipped, an address literal literal, a bad domain
 * invalid (address.h reasons) - all without any DNS. Otherwise: MX of the
 * domain; NXDOMAIN -> nxdomain; failure -> temperror; a null MX ("0 .")
 * as the only MX -> nullmx. A null MX among other MX records is a broken
 * setup (RFC 7505 §3 forbids it): the "." is ignored and the others are
 * judged, and the detail says so. The max_targets most preferred distinct
 * exchanges get A and AAAA lookups, all at once. An exchange that is an
 * IP address or localhost is unusable without a lookup. The first address
 * outside the bogus networks decides valid at once (answers still in
 * flight are ignored when they arrive, unless all_addresses asks for
 * every address: then the result is still decided early, but the check
 * is done only when every lookup is back); once every lookup is back: any
 * temporary failure -> temperror, else bogus. No MX records (NODATA): the
 * domain's own A/AAAA decide implicit / bogus / none / temperror.
 * CNAMEs are followed by the resolver. A malformed answer counts as a
 * temporary failure: a hostile server must not earn a permanent verdict.
 *
 * The detail names misconfigurations in words an administrator can act
 * on: an exchange that is the domain's name appended to itself
 * ("mail.example.com.example.com": the zone file lacks a trailing dot),
 * an exchange that is an alias (a CNAME; RFC 2181 §10.3 says an MX must
 * name the host itself), an IP literal or localhost, exchanges only in bogus networks, and a
 * most preferred exchange that is unusable while a backup works (still
 * valid; said when its answers were in when the backup decided).
 *
 * Lifetime: the check owns one heap array, its exchanges (allocated at the
 * MX answer, as many as it will judge: a session waiting on DNS holds a few
 * hundred bytes, not MX_TARGETS_MAX of them), and its lookups in flight
 * (policy/lookups.h) point back at it. mx_check_release() detaches them,
 * so late answers are dropped without touching the check, and frees the
 * array: call it before the check's memory is freed or reused (including
 * before starting a new check in the same memory). mx_check_abandon()
 * only detaches: the check stays readable (mx_check_facts, _hosts,
 * _explain) until released.
 */
#ifndef MXGUARD_MX_H
#define MXGUARD_MX_H

#include <stdbool.h>

#include "policy/address.h"
#include "policy/dns_parse.h"
#include "policy/facts.h"
#include "policy/lookups.h"
#include "policy/resolver.h"

struct netlist;

#define MX_TARGETS_DEFAULT 10
#define MX_TARGETS_MAX     32     /* hard cap, whatever the configuration says */
#define MX_QUERIES_MAX     (1 + 2 * MX_TARGETS_MAX)
_Static_assert(MX_QUERIES_MAX <= LOOKUPS_MAX, "an MX check's lookups fit in struct lookups");

struct mx_options {
	const struct netlist *bogus;  /* addresses that do not count; NULL: none are bogus */
	unsigned max_targets;         /* exchanges to resolve; 0 = MX_TARGETS_DEFAULT, capped at MX_TARGETS_MAX */
	bool all_addresses;           /* done only once every address lookup is back (mx_addr) */
	bool hosts_only;              /* done at the MX answer, no address lookups (mx_host) */
};


#define MX_TARGET_ADDRS 8          /* addresses kept per exchange for mx_check_explain */

/* One exchange (or, for an implicit MX, the domain itself). Private. */
struct mx_target {
	char host[DNS_HOST_BUF];
	unsigned pref;
	char addr[MX_TARGET_ADDRS][48];  /* as answered, for mx_check_explain */
	unsigned naddr, more;          /* kept, and seen beyond that */
	const char *unusable;          /* set without DNS: "is an IP address, not a host name", ... */
	enum dns_status temp;          /* a temporary failure seen, or DNS_OK */
	char bogus_addr[48];           /* first bogus address seen, "" if none */
	unsigned answered;             /* address lookups back (of 2) */
	char alias_of[DNS_HOST_BUF];   /* the canonical name when host is a CNAME, "" when not */
};

struct mx_check {
	/* The result: valid once mx_check_done() is true. */
	enum mx_result result;
	char detail[FACT_DETAIL_MAX];

	/* Every A/AAAA address of the targets seen so far; partial when a lookup failed or more came than fit. */
	struct fact_address_set addrs;

	/* Private. */
	bool decided;                  /* result and detail are final */
	bool mx_answered;              /* the MX lookup got an answer (the exchanges are known) */
	bool done;                     /* decided, and (all_addresses) every lookup is back */
	bool implicit;                 /* judging the domain's own addresses */
	bool null_ignored;             /* a "." was among other MX records */
	struct resolver *res;
	struct mx_options opt;
	char domain[FACT_NAME_MAX];
	unsigned mx_total;             /* MX records in the answer */
	unsigned ntargets;
	struct lookups q;              /* lookups in flight */
	struct mx_target *target;      /* ntargets of them (capacity cap); owned, freed by mx_check_release */
	unsigned cap;
};

/*
 * mx_check_start - judge domain (a host name; it is normalised and
 * checked with address_domain() first, so a bad one gives invalid without
 * DNS). c is overwritten: abandon any previous check in it first. On
 * return the check is either done or has lookups in flight on res; opt is
 * copied, but the netlist it points to must outlive the check.
 */
void mx_check_start(struct mx_check *c, struct resolver *res, const char *domain,
		    const struct mx_options *opt);

/*
 * mx_check_for_sender - the same for a parsed MAIL FROM: skipped for the
 * null sender, literal, invalid (detail: the parse reason) with no DNS;
 * mx_check_start() on the domain otherwise.
 */
void mx_check_for_sender(struct mx_check *c, struct resolver *res,
			 const struct address *sender, const struct mx_options *opt);

/* mx_check_done - has the check decided? (a resolver_done_fn: arg is the struct mx_check) */
bool mx_check_done(void *arg);

/* mx_check_facts - copy result, detail and hosts into facts and mark them known; no-op until done. */
void mx_check_facts(const struct mx_check *c, struct facts *f);

/*
 * mx_check_hosts - the exchanges judged so far, most preferred first, at
 * most max_targets of them (no trailing dot, as published):
 * the domain itself for an implicit MX; none for a null MX, NXDOMAIN,
 * literals and bad domains; none and partial when the MX lookup failed
 * (or has not answered yet).
 */
void mx_check_hosts(const struct mx_check *c, struct fact_domain_set *hosts);

/*
 * mx_check_explain - the MX records and their addresses as dig would show
 * them, one "mx_record: PREF HOST ADDR..." line each ("implicit" for an
 * implicit MX, "0 ." for a null MX), with why an exchange has no usable
 * address; "" when there were no records. Into buf, always terminated.
 */
void mx_check_explain(const struct mx_check *c, char *buf, size_t len);

/*
 * mx_check_addrs - every A and AAAA address of the exchanges judged so
 * far (bogus ones too), at most FACT_SET_ADDRS; partial unless every
 * address lookup came back with an answer that fit. Readable before done.
 */
void mx_check_addrs(const struct mx_check *c, struct fact_address_set *addrs);

/* mx_check_abandon - detach lookups in flight; the check stays readable. */
void mx_check_abandon(struct mx_check *c);

/* mx_check_release - abandon, then free what the check owns; its memory may then be freed or reused. */
void mx_check_release(struct mx_check *c);

#endif
