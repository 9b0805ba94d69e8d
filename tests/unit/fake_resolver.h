/*
 * fake_resolver.h - a link-time stand-in for policy/resolver.h in unit tests.
 *
 * Tests register canned answers per (name, type); the fake builds real
 * DNS wire replies (tests/unit/dns_build.h) so the production parsers run
 * on them. It behaves like resolver.c where the checks can tell:
 *   - callbacks run only from resolver_wait/poll/cancel_all, one answer
 *     per step of resolver_wait, in the order the queries were made, so a
 *     check that decides early is seen deciding with answers still pending;
 *   - CNAME chains are followed (an OK answer holding only CNAMEs makes the
 *     fake look up the chain's end, counted as a query, at most 8 times);
 *     an OK answer with neither records of the type nor a chain is NODATA;
 *   - a deadline that has passed (CLOCK_MONOTONIC) fails every pending and
 *     new query with DNS_TIMEOUT; a query registered with fake_dns_hang()
 *     never answers, so it times out when only hanging queries are left and
 *     a deadline is set (without one, resolver_wait returns false);
 *   - an unknown (name, type) gets the default status (DNS_TIMEOUT unless
 *     fake_dns_default() says otherwise), with no packet;
 *   - canned answers have AD clear until fake_dns_ad() sets it (a validating
 *     resolver's answer); after CNAME following the final answer keeps AD
 *     only when every answer of the chain had it.
 * Names are matched case-insensitively, trailing dot ignored.
 *
 * Unlike resolver.c it never shares identical queries nor keeps answers
 * (resolver_forget does nothing): every query is asked and counted, so
 * tests can assert what each check asked; tests/resolver covers sharing.
 * Every query is counted, so tests can assert what was (not) asked.
 * State is global (tests are single-threaded); fake_dns_reset() between tests.
 */
#ifndef MXGUARD_TEST_FAKE_RESOLVER_H
#define MXGUARD_TEST_FAKE_RESOLVER_H

#include <stdbool.h>

#include "policy/resolver.h"

/* fake_dns_reset - forget all answers and counts; default status back to DNS_TIMEOUT. */
void fake_dns_reset(void);

/* fake_dns_default - the status for names nobody registered. */
void fake_dns_default(enum dns_status);

/*
 * fake_dns_add - register the answer for (name, type). For DNS_OK, spec
 * lists the records (dns_build.h syntax); DNS_NXDOMAIN and DNS_NODATA get
 * a reply packet with RCODE 3 or 0 (spec may add records, e.g. a CNAME
 * chain); other statuses carry no packet. Returns 0, or -1 if spec is bad.
 * A later registration for the same (name, type) wins.
 */
int fake_dns_add(const char *name, int type, enum dns_status, const char *spec);

/* fake_dns_add_raw - register a hand-made (e.g. malformed) reply; it is delivered as is with status. */
int fake_dns_add_raw(const char *name, int type, enum dns_status,
		     const unsigned char *pkt, int len);

/*
 * fake_dns_ad - set (or clear) the AD bit of the answer registered for
 * (name, type), as a validating resolver does for authenticated data.
 * Register first; a later fake_dns_add for the same pair starts clear.
 * Returns 0, or -1 when nothing with a packet is registered.
 */
int fake_dns_ad(const char *name, int type, bool ad);

/* fake_dns_ad_all - fake_dns_ad on every answer registered so far that has a packet. */
void fake_dns_ad_all(bool ad);

/* fake_dns_hang - (name, type) never answers. */
int fake_dns_hang(const char *name, int type);

/* fake_dns_count - queries made for name (NULL: any) and type (0: any), CNAME follow-ups included. */
unsigned fake_dns_count(const char *name, int type);

/* fake_dns_total - all queries made since the last reset. */
unsigned fake_dns_total(void);

#endif
