/*
 * resolver_cache.c - a resolver's use of the process's DNS cache
 * (policy/dns_cache.h): each name a query asks on the wire - each hop of
 * a CNAME chain - is looked up there first. A kept answer is used as if it
 * had just arrived; a lookup another connection's resolver has in flight
 * is waited for (its owner's thread writes our wake_fd, which step() polls
 * with the c-ares sockets), under this resolver's own deadline; otherwise
 * the query goes on the wire and ares_cb hands the cache its outcome.
 *
 * Ownership: nothing here allocates but the answer copies the cache hands
 * out, freed once resolver_record_outcome() has made its own.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/resolver_impl.h"

/* resolver_send - see resolver_impl.h */
void resolver_send(struct resolver *r, struct rquery *q, const char *name)
{
	enum dns_status st;
	unsigned char *ans;
	int len;

	free(q->hop_key);
	q->hop_key = resolver_share_key_dup(name);
	if (!q->hop_key) {
		resolver_record_outcome(q, DNS_ERROR, NULL, 0);
		return;
	}
	q->cw.wake_fd = r->wake_fd;
	switch (r->wake_fd < 0 ? DNS_CACHE_OFF : dns_cache_get(q->hop_key, q->type, &q->cw, &st, &ans, &len)) {
	case DNS_CACHE_HIT:
		resolver_record_outcome(q, st, ans, len);
		free(ans);
		return;
	case DNS_CACHE_WAIT:
		q->cnext = r->cwait;
		r->cwait = q;
		return;
	case DNS_CACHE_OWN:
		q->cache_owner = true;
		break;
	case DNS_CACHE_OFF:
		break;
	}
	resolver_wire_query(r, q, name);
}

/* resolver_cache_collect - see resolver_impl.h */
void resolver_cache_collect(struct resolver *r)
{
	struct rquery **pp = &r->cwait, *q;
	uint64_t n;

	if (r->wake_fd >= 0 && read(r->wake_fd, &n, sizeof n) < 0) {
		/* EAGAIN: nothing was written; the list is looked at anyway */
	}
	while ((q = *pp) != NULL) {
		enum dns_status st;
		unsigned char *ans;
		int len;
		bool again;
		char name[DNS_NAME_BUF];

		if (!dns_cache_waiter_take(&q->cw, &again, &st, &ans, &len)) {
			pp = &q->cnext;
			continue;
		}
		*pp = q->cnext;
		q->cnext = NULL;
		if (again) {
			snprintf(name, sizeof name, "%s", q->hop_key);   /* resolver_send replaces hop_key */
			resolver_send(r, q, name);
		} else {
			resolver_record_outcome(q, st, ans, len);
			free(ans);
		}
	}
}

/* resolver_cache_fail_waiters - see resolver_impl.h */
void resolver_cache_fail_waiters(struct resolver *r, enum dns_status status)
{
	struct rquery *q;

	while ((q = r->cwait) != NULL) {
		r->cwait = q->cnext;
		q->cnext = NULL;
		dns_cache_unwait(&q->cw);
		resolver_record_outcome(q, status, NULL, 0);
	}
}
