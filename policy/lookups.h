/*
 * lookups.h - the DNS queries one asynchronous check has in flight, each
 * detachable, so a check can be freed while answers are still on their way.
 *
 *   struct lookups L;                          (inside the check's state)
 *   lookups_init(&L, check, on_answer);
 *   lookups_start(&L, res, name, type, tag);   false: could not be started
 *   ... on_answer(check, tag, type, status, answer, len) runs once per
 *       answer, from the resolver (resolver_wait/poll), after
 *       L.outstanding has counted it off
 *   lookups_abandon(&L);                       before the check is freed
 *                                              or reused
 *
 * Each query in flight holds a small heap ticket {lookups, tag, type,
 * slot}, and L keeps a pointer to each. The resolver runs every callback
 * exactly once and the callback frees its ticket, so none leaks;
 * lookups_abandon() clears each ticket's pointer back to L, which turns a
 * late callback into "free the ticket and return". resolver_cancel_all()
 * or resolver_free() before freeing the check is just as good (they run
 * the callbacks, with a cancelled status, while L is still alive).
 */
#ifndef MXGUARD_LOOKUPS_H
#define MXGUARD_LOOKUPS_H

#include <stdbool.h>

#include "policy/dns_parse.h"
#include "policy/resolver.h"

#define LOOKUPS_MAX 65              /* in flight at once: an MX and A+AAAA of 32 targets */

struct lookup_ticket;

/* An answer for the owner: tag and type as given to lookups_start. */
typedef void lookups_answer_fn(void *owner, int tag, int type, enum dns_status st,
			       const unsigned char *ans, int len);

struct lookups {
	void *owner;
	lookups_answer_fn *answer;
	unsigned outstanding;                    /* started, not yet answered nor abandoned */
	struct lookup_ticket *ticket[LOOKUPS_MAX];
};

/* lookups_init - nothing in flight; answers go to answer(owner, ...). */
void lookups_init(struct lookups *, void *owner, lookups_answer_fn *answer);

/* lookups_start - ask name/type; false (nothing started) when LOOKUPS_MAX are out, out of memory, or the resolver refused. */
bool lookups_start(struct lookups *, struct resolver *res, const char *name, int type, int tag);

/* lookups_abandon - detach every query in flight; their answers will be dropped. outstanding becomes 0. */
void lookups_abandon(struct lookups *);

#endif
