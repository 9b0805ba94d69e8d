/*
 * ns.h - the name servers of the sender domain's zone (facts ns,
 * ns_detail, ns_host) and their addresses (ns_addr, ns_addr_result), as
 * an asynchronous check on a connection's resolver.
 *
 *   struct ns_check *c = calloc(1, sizeof *c);   (about 20 KiB: keep it off the stack)
 *   ns_check_for_sender(c, res, &sender_addr, &opts);
 *   ... start other lookups, do other work ...
 *   resolver_wait(res, ns_check_done, c);          (also drives the others)
 *   ns_check_facts(c, facts) / ns_check_addr_facts(c, facts);
 *   ns_check_abandon(c);                           (before freeing or reusing c)
 *
 * The walk. NS of the sender domain; on NODATA (the name exists, no NS:
 * it is inside a zone, not at its apex) NS of its parent, one label at a
 * time, down to the registrable domain (opts.od, the Public Suffix List;
 * without one, down to the last two labels): a public suffix or a single
 * label is never asked, so the walk never reports the registry's
 * servers. BOUND: at most NS_WALK_MAX (4) NS queries per check; when the
 * walk would be longer, the last query is the registrable domain itself,
 * so a deeply nested sender name cannot walk the check out of its bound
 * before the zone that holds it. The first answer with NS records in the
 * answer section ends the walk (found); their names are ns_host, in
 * answer order, duplicates and unusable names (the root ".", IP
 * literals: not host names) left out. NS in the authority section (a
 * referral) and glue in the additional section are never read.
 *
 * Results (enum ns_result, the ns fact):
 *   found      NS records with at least one usable name
 *   none       no NS records anywhere on the walk, or only unusable names
 *   nxdomain   the sender domain does not exist (ns_host empty)
 *   temperror  SERVFAIL, timeout, a malformed answer, a parent that does
 *              not exist under a name that does (inconsistent), more NS
 *              names than ns_host holds (FACT_SET_NAMES): ns_host is not
 *              to be trusted
 *   skipped    null sender, address literal, invalid domain: no DNS
 * CNAMEs are followed by the resolver.
 *
 * Addresses (opts.addrs; ns_addr and ns_addr_result). A and AAAA of the
 * first NS_HOSTS_MAX (10) names of ns_host, all at once, once the walk
 * has found them; at most FACT_SET_ADDRS distinct addresses are kept.
 * addr_result is found (at least one address), none, nxdomain or skipped
 * as above, and temperror when the walk failed, when any address lookup
 * failed (SERVFAIL, timeout, malformed answer) or when the set is
 * incomplete by the bounds (more than NS_HOSTS_MAX name servers, more
 * addresses than FACT_SET_ADDRS): a rule on ns_addr could then miss the
 * address it is looking for, so "not listed" is never claimed on a
 * partial set. Without opts.addrs no address is looked up.
 *
 * Lifetime: the check owns no heap memory of its own, but its lookups in
 * flight (policy/lookups.h) point back at it; ns_check_abandon() detaches
 * them (late answers are then dropped without touching the check). Call it before the check's memory is freed or reused; it is
 * harmless on a finished check. resolver_cancel_all() or resolver_free()
 * before freeing works too.
 */
#ifndef MXGUARD_NS_H
#define MXGUARD_NS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "policy/address.h"
#include "policy/dns_parse.h"
#include "policy/facts.h"
#include "policy/lookups.h"
#include "policy/resolver.h"

struct orgdomain;

#define NS_WALK_MAX   4                          /* NS queries per check */
#define NS_HOSTS_MAX  10                         /* name servers whose addresses are looked up */
#define NS_QUERIES_MAX (1 + 2 * NS_HOSTS_MAX)    /* lookups in flight at once, at most */
_Static_assert(NS_QUERIES_MAX <= LOOKUPS_MAX, "an NS check's lookups fit in struct lookups");

struct ns_options {
	const struct orgdomain *od;   /* where the walk stops; NULL: before a single label */
	bool addrs;                   /* also look up the name servers' addresses */
};


struct ns_check {
	/* The results: valid once ns_check_done() is true. */
	enum ns_result result;             /* the NS set (ns) */
	char detail[FACT_DETAIL_MAX];      /* why result (ns_detail) */
	enum ns_result addr_result;        /* with opts.addrs: the addresses (ns_addr_result) */
	char addr_detail[FACT_DETAIL_MAX]; /* why addr_result (for people and tests; not a fact) */

	/* Private. */
	bool done, walk_done;
	struct resolver *res;
	struct ns_options opt;
	char domain[FACT_NAME_MAX];
	char walk[NS_WALK_MAX][FACT_NAME_MAX];   /* the names to ask, in order */
	unsigned nwalk, step;
	unsigned nhosts, unusable;
	char host[FACT_SET_NAMES][DNS_HOST_BUF];
	bool addrs_dropped;                 /* an address did not fit the set */
	struct fact_address_set addrs;      /* the distinct addresses found (its partial flag unused) */
	enum dns_status addr_temp;          /* first temporary failure of an address lookup */
	char addr_temp_host[DNS_HOST_BUF];
	struct lookups q;              /* lookups in flight */
};

/*
 * ns_check_start - look for the NS set of domain (normalised and checked
 * with address_domain() first: a bad one gives skipped without DNS). c is
 * overwritten: abandon any previous check in it first. On return the
 * check is either done or has lookups in flight on res; opt is copied,
 * the orgdomain it points to must outlive the check.
 */
void ns_check_start(struct ns_check *c, struct resolver *res, const char *domain,
		    const struct ns_options *opt);

/* ns_check_for_sender - skipped for "<>", literals and invalid senders (no DNS); ns_check_start() otherwise. */
void ns_check_for_sender(struct ns_check *c, struct resolver *res,
			 const struct address *sender, const struct ns_options *opt);

/* ns_check_done - has the check finished? (a resolver_done_fn: arg is the struct ns_check) */
bool ns_check_done(void *arg);

/* ns_check_facts - ns, ns_detail and ns_host into f, marked known; no-op until done. */
void ns_check_facts(const struct ns_check *c, struct facts *f);

/* ns_check_addr_facts - ns_addr and ns_addr_result into f, marked known; no-op until done. */
void ns_check_addr_facts(const struct ns_check *c, struct facts *f);

/* ns_check_hosts - the usable NS names found so far (empty unless found); readable before done. */
void ns_check_hosts(const struct ns_check *c, struct fact_domain_set *hosts);

/* ns_check_addrs - the distinct addresses found so far; readable before done. */
void ns_check_addrs(const struct ns_check *c, struct fact_address_set *addrs);

/* ns_check_abandon - detach lookups in flight (an unfinished check becomes temperror); it may then be freed. */
void ns_check_abandon(struct ns_check *c);

#endif
