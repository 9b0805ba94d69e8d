/*
 * dns_cache.h - DNS answers shared by every connection's resolver, and the
 * lookups in flight they can join. One cache per process.
 *
 * Real traffic repeats sender domains: without a cache every message asks
 * the same MX, A, TXT and _dmarc names again. Keys are (name in lower case
 * without the trailing dot, type); the class is always IN.
 *
 * What is kept (dns_cache_put):
 *   records (DNS_OK)     the answer, for its smallest TTL
 *   NXDOMAIN, NODATA     for min(SOA TTL, SOA MINIMUM) of the authority
 *                        section; not at all without an SOA (RFC 2308 §5)
 *   SERVFAIL, TIMEOUT    a failure, no packet: 1 s, doubling with each
 *                        failure in a row up to 300 s (RFC 9520 §3.2), so
 *                        a dead domain costs one deadline, not one per
 *                        message
 *                        - unless the name servers had answered nothing
 *                        for DNS_CACHE_SILENT_MS before it (the local
 *                        resolver down, not the domain): such a failure
 *                        is dropped, its backoff reset, as soon as they
 *                        answer anything again
 *   anything else        (DNS_ERROR, DNS_BADNAME, an answer with TC set,
 *                        a malformed one): nothing
 * Every TTL is capped by max_ttl_s; a TTL of 0 keeps nothing. When the
 * cache holds more than max_bytes, the least recently used answers go
 * (eviction); an answer bigger than an eighth of a shard is not kept.
 *
 * Threads: the cache is split into DNS_CACHE_SHARDS shards by the key's
 * hash, each with its own mutex, table and LRU list, so lookups of
 * different names seldom wait for one another. No call blocks on the
 * network: callers hold a shard lock only to copy.
 *
 * In flight: the first resolver to miss (name, type) owns the lookup
 * (DNS_CACHE_OWN) and must end it with dns_cache_put() or
 * dns_cache_abandon(). Another that asks meanwhile waits
 * (DNS_CACHE_WAIT) on a struct dns_cache_waiter of its own: when the
 * owner ends, the waiter gets a copy of the outcome (or, when the owner
 * gave up - its message ended, its deadline passed - word that it must
 * ask again) and its wake_fd is written, so the thread that drives that
 * resolver leaves poll() and collects it with dns_cache_waiter_take().
 * A waiter that gives up first (its own message's deadline) calls
 * dns_cache_unwait(). Each waits under its own deadline.
 *
 * Ownership: the cache owns its entries. Every answer it hands out (a HIT,
 * a waiter's outcome) is a malloc'd copy the caller frees. A waiter is
 * the caller's memory: it must stay valid until dns_cache_waiter_take()
 * returned true or dns_cache_unwait() returned.
 */
#ifndef MXGUARD_DNS_CACHE_H
#define MXGUARD_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/resolver.h"

#define DNS_CACHE_SHARDS 16
#define DNS_CACHE_FAIL_MIN_S 1
#define DNS_CACHE_FAIL_MAX_S 300
#define DNS_CACHE_SILENT_MS 1000

struct dns_cache_options {
	bool enabled;
	size_t max_bytes;          /* answers and keys together; 0: 64 MiB */
	unsigned max_ttl_s;        /* cap on any TTL; 0: 3600 */
};

/* What dns_cache_get says. */
enum dns_cache_result {
	DNS_CACHE_OFF = 0,         /* no cache (disabled, out of memory): ask, and tell the cache nothing */
	DNS_CACHE_HIT,             /* *status, *answer (a copy; NULL for a failure), *answer_len */
	DNS_CACHE_OWN,             /* ask it, then dns_cache_put() or dns_cache_abandon() - exactly once */
	DNS_CACHE_WAIT,            /* another resolver is asking: wait on w (see above) */
};

struct dns_cache_waiter {
	/* filled by dns_cache_get */
	const char *key;           /* the caller's string; must outlive the wait */
	int type;
	int wake_fd;               /* written (8 bytes, eventfd style) when the outcome is in */
	/* the cache's, under its shard lock */
	struct dns_cache_waiter *next;
	unsigned shard;
	bool ready, again;
	enum dns_status status;
	unsigned char *answer;
	int answer_len;
};

struct dns_cache_stats {
	unsigned long hits, negative_hits, misses, joins, evictions, entries, bytes;
};

/*
 * dns_cache_configure - set (or change, on reload) what the cache does.
 * The first call, before any thread, makes the shards; later ones only
 * change the limits (and switching it off drops every answer). 0, or -1
 * when out of memory (the cache then stays off).
 */
int dns_cache_configure(const struct dns_cache_options *opt);

/* dns_cache_flush - drop every answer (the name servers changed); lookups in flight go on. */
void dns_cache_flush(void);

/* dns_cache_shutdown - free everything (at exit, after the last resolver). */
void dns_cache_shutdown(void);

/*
 * dns_cache_get - key (lower case, no trailing dot), type; see enum
 * dns_cache_result. For DNS_CACHE_WAIT, w->wake_fd must be set by the
 * caller beforehand (the other fields are filled here).
 */
enum dns_cache_result dns_cache_get(const char *key, int type, struct dns_cache_waiter *w,
				    enum dns_status *status, unsigned char **answer, int *answer_len);

/* dns_cache_put - the owner's outcome: kept as above, copied to every waiter. */
void dns_cache_put(const char *key, int type, enum dns_status status, const unsigned char *answer, int answer_len);

/* dns_cache_abandon - the owner gives up without an outcome: waiters are told to ask again. */
void dns_cache_abandon(const char *key, int type);

/*
 * dns_cache_waiter_take - has the outcome come? true with *again (ask
 * again: call dns_cache_get anew) or *status, *answer (yours to free),
 * *answer_len; false while still waiting.
 */
bool dns_cache_waiter_take(struct dns_cache_waiter *w, bool *again, enum dns_status *status,
			   unsigned char **answer, int *answer_len);

/* dns_cache_unwait - stop waiting (deadline, cancel); frees an outcome not taken. */
void dns_cache_unwait(struct dns_cache_waiter *w);

/* dns_cache_get_stats - the counters so far (entries and bytes now). */
void dns_cache_get_stats(struct dns_cache_stats *out);

/* dns_cache_ttl - how long an outcome would be kept (0: not at all); for tests and logs. */
unsigned long dns_cache_ttl(enum dns_status status, const unsigned char *answer, int answer_len,
			    unsigned failures_before);

#endif
