/*
 * resolver_impl.h - private to resolver.c and resolver_share.c: the
 * resolver's state and the calls the two halves make of each other.
 * Nothing else includes this; everyone else sees policy/resolver.h.
 *
 * resolver.c owns the channel, the completion queue, CNAME following and
 * the deadline; resolver_share.c owns the sharing of identical queries of
 * a message (the wire list, each query's joined list, the kept answers);
 * resolver_cache.c the use of the process's cache (policy/dns_cache.h).
 *
 * Ownership: each struct rquery is allocated by resolver_query() and freed
 * right after its user callback returns, with the answer copy it carries.
 * Kept answers belong to the resolver and are freed by
 * resolver_forget()/resolver_free().
 */
#ifndef MXGUARD_RESOLVER_IMPL_H
#define MXGUARD_RESOLVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <ares.h>

#include "policy/dns_cache.h"
#include "policy/dns_engine.h"
#include "policy/dns_parse.h"
#include "policy/resolver.h"

#define RESOLVER_KEEP_MAX 32             /* answers kept for reuse until resolver_forget */
#define RESOLVER_KEEP_BYTES (64 * 1024)  /* ... and their total size */

/* What ares_cb() makes of c-ares's ECANCELLED/EDESTRUCTION, and what deliver() overrides. */
enum resolver_mode {
	MODE_NORMAL,
	MODE_EXPIRING,       /* the deadline passed: cancelled queries time out */
	MODE_CANCELLING,     /* resolver_cancel_all/free: everything fails with DNS_ERROR */
};

struct rquery {
	struct resolver *r;
	resolver_callback *cb;
	void *arg;
	int type;
	int hops;                     /* CNAME re-queries so far */
	/* the outcome, set by ares_cb() and read by deliver() */
	enum dns_status status;
	unsigned char *answer;        /* owned copy of the reply, or NULL */
	int answer_len;
	bool follow;                  /* re-query follow_name instead of calling back */
	bool ad_chain;                /* every answer so far (CNAME hops) had AD; cleared in the copy otherwise */
	struct dns_job *job;          /* with the engine while on the wire; NULL otherwise */
	char follow_name[DNS_NAME_BUF];
	char *key;                    /* the asked name in lower case without trailing dot; "" = unshared (owned) */
	struct rquery *joined;        /* identical queries waiting for this one's outcome */
	struct rquery *next;          /* completion queue, joined list or wire list link */
	bool on_wire;                 /* in the resolver's wire list */
	/* the shared cache (policy/dns_cache.h), for the name of this hop */
	char *hop_key;                /* the name asked now, lower case without the trailing dot (owned; NULL before the first hop) */
	bool cache_owner;             /* this query must end the cache's lookup (put or abandon) */
	struct dns_cache_waiter cw;   /* waiting for another resolver's lookup */
	struct rquery *cnext;         /* in the resolver's list of queries waiting on the cache */
};

/* A definitive answer kept for identical queries of the same message. */
struct kept {
	char *key;
	int type;
	enum dns_status status;
	unsigned char *answer;        /* may be NULL (no packet) */
	int answer_len;
};

struct resolver {
	struct dns_engine *eng;       /* shared; sends the wire queries (dns_engine.h) */
	struct dns_inbox inbox;       /* where the engine puts finished jobs */
	bool has_deadline;
	struct timespec deadline;
	unsigned pending;             /* user callbacks not run yet */
	struct rquery *done_head, **done_tail;
	struct rquery *wire;          /* queries sent to c-ares and not yet delivered (joinable) */
	struct rquery *cwait;         /* queries waiting for another resolver's lookup (dns_cache) */
	int wake_fd;                  /* eventfd the engine and the cache write when a job or a wait may be done */
	enum resolver_mode mode;
	struct kept kept[RESOLVER_KEEP_MAX];
	unsigned nkept;
	size_t kept_bytes;
};

/* resolver.c */
/* resolver_enqueue - a finished (or to-be-followed) query waits for deliver() */
void resolver_enqueue(struct resolver *r, struct rquery *q);
/* resolver_record_outcome - what a hop's answer (from the wire or the cache) means for q; queued for deliver() */
void resolver_record_outcome(struct rquery *q, enum dns_status st, const unsigned char *abuf, int alen);
/* resolver_wire_query - send q's question about name through the DNS engine */
void resolver_wire_query(struct resolver *r, struct rquery *q, const char *name);

/* resolver_cache.c */
/* resolver_send - ask name for q: from the shared cache, by waiting for another resolver's lookup, or on the wire */
void resolver_send(struct resolver *r, struct rquery *q, const char *name);
/* resolver_cache_collect - queries whose awaited lookup ended: record their outcome, or ask again */
void resolver_cache_collect(struct resolver *r);
/* resolver_cache_fail_waiters - every query waiting on the cache ends now with status (deadline, cancel) */
void resolver_cache_fail_waiters(struct resolver *r, enum dns_status status);

/* resolver_share.c */
/* resolver_share_key - name as a sharing key: lower case, no trailing dot; "" when it does not fit */
void resolver_share_key(const char *name, char *key, size_t cap);
/* resolver_share_key_dup - the same, malloc'ed to size (the caller frees it); NULL when out of memory */
char *resolver_share_key_dup(const char *name);
/* resolver_share_lookup - q answered from a kept answer or joined to an identical query out: true; else false */
bool resolver_share_lookup(struct resolver *r, struct rquery *q);
/* resolver_share_wire_add - q goes out: identical queries may join it until resolver_share_wire_remove */
void resolver_share_wire_add(struct resolver *r, struct rquery *q);
/* resolver_share_wire_remove - q is no longer joinable */
void resolver_share_wire_remove(struct resolver *r, struct rquery *q);
/* resolver_share_done - q is final: keep its answer, queue the queries that joined it with copies */
void resolver_share_done(struct resolver *r, struct rquery *q);

#endif
