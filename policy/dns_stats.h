/*
 * dns_stats.h - what the process's DNS queries came to: how many went on
 * the wire by type and outcome, how long each took to answer, and how many
 * lookups a message's DNS deadline cut short. One set per process, counted
 * by the DNS engine thread and the resolvers (policy/dns_engine.c,
 * policy/resolver.c), read by the metrics scrape (milter/metrics.c).
 *
 * Counting only, like all of policy/: nothing here logs. Every counter is
 * an atomic added to without a lock; dns_stats_read copies them. Answers
 * the shared cache gave (policy/dns_cache.h counts those) never reach the
 * wire and are not counted here.
 *
 * Labels are bounded: the types mxguard asks (anything else is "other")
 * and the resolver's statuses plus "cancelled" (the engine stopped: a
 * reload that changed the name servers, or exit). No name is ever kept.
 */
#ifndef MXGUARD_DNS_STATS_H
#define MXGUARD_DNS_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/histogram.h"
#include "policy/resolver.h"

#define DNS_STATS_TYPES 9                       /* a mx ns txt ptr aaaa cname soa other */
#define DNS_STATS_OUTCOMES (DNS_ERROR + 2)      /* every enum dns_status, then cancelled */
#define DNS_STATS_CANCELLED (DNS_ERROR + 1)

struct dns_stats_view {
	unsigned long queries[DNS_STATS_TYPES][DNS_STATS_OUTCOMES];
	struct histogram_view answer[DNS_STATS_TYPES];   /* cancelled queries are not in it */
	unsigned long expired;                           /* lookups given up at a message's deadline */
};

/*
 * dns_stats_query_done - one query of type ended after us microseconds with
 * status (as dns_engine_status maps it), or was cancelled (status ignored).
 */
void dns_stats_query_done(int type, enum dns_status status, bool cancelled, uint64_t us);

/* dns_stats_expired - n lookups of one resolver timed out at its message's deadline. */
void dns_stats_expired(unsigned n);

/* dns_stats_read - a copy of every counter (any thread). */
void dns_stats_read(struct dns_stats_view *out);

/* dns_stats_type_name - "A", "MX", ..., "other" for index i < DNS_STATS_TYPES. */
const char *dns_stats_type_name(unsigned i);

/* dns_stats_outcome_name - dns_status_name(i), or "cancelled", for i < DNS_STATS_OUTCOMES. */
const char *dns_stats_outcome_name(unsigned i);

#endif
