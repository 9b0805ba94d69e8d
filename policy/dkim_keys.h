/*
 * dkim_keys.h - DKIM key lookups for one message on the connection's
 * resolver, and the libopendkim DNS hooks that use them. Internal to the
 * DKIM verifier (policy/dkim.c).
 *
 * A key table holds one TXT query per distinct "selector._domainkey.domain".
 * dkimk_prefetch() starts a query at end of headers; when libopendkim later
 * (inside dkim_eom) asks for that name through its query_start hook, the
 * hook finds the query already answered or in flight, and waitreply drives
 * the resolver until it completes. A name nobody prefetched is queried on
 * the spot. A name that is not a DNS name (policy/dkim_tags.h) is never
 * sent: the hook answers it "no such name" itself (libopendkim: no key,
 * permanent). The verifier already keeps such signatures away from
 * libopendkim's key lookup; this is the second line.
 *
 * libopendkim's DNS hooks are per library (per process), not per message,
 * and carry no message context; the table in use is therefore named per
 * thread with dkimk_activate() around every libopendkim call that may
 * look up keys. Each connection runs on one thread, and so does its
 * resolver, so this is exactly the right scope.
 *
 * What libopendkim gets back is not the raw answer but a minimal reply
 * rebuilt from it (question + the TXT records, re-encoded): it never
 * parses hostile wire data. SERVFAIL, REFUSED, timeouts, malformed
 * answers and internal errors become DKIM_DNS_ERROR / DKIM_DNS_EXPIRED
 * (libopendkim: key lookup failed, temporary), never an empty answer
 * (which it would read as "no key", permanent).
 *
 * Ownership: the verifier owns its table (dkimk_free). A query still in
 * flight at dkimk_free is detached: its record stays allocated until the
 * resolver runs its callback (the resolver guarantees exactly one call,
 * also when it is freed), which then frees it.
 */
#ifndef MXGUARD_POLICY_DKIM_KEYS_H
#define MXGUARD_POLICY_DKIM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <dkim.h>

#include "policy/resolver.h"

struct dkimk;

/* dkimk_install_hooks - point lib's DNS hooks at this module; once, at library set-up. */
void dkimk_install_hooks(DKIM_LIB *lib);

/* dkimk_new - an empty table on res; NULL when out of memory. */
struct dkimk *dkimk_new(struct resolver *res);

/* dkimk_free - free the table, detaching queries still in flight. NULL is fine. */
void dkimk_free(struct dkimk *);

/*
 * dkimk_prefetch - start the key query for selector/domain unless one is
 * already there. Returns 0, or -1 when out of memory or the key name is
 * not a DNS name (dkimt_key_name_ok; libopendkim will then find no
 * prefetched query and ask on its own).
 */
int dkimk_prefetch(struct dkimk *, const char *selector, const char *domain);

/*
 * dkimk_status - how the query for selector/domain ended. Returns false
 * when there is no such query or it has not completed.
 */
bool dkimk_status(const struct dkimk *, const char *selector, const char *domain, enum dns_status *st);

/* dkimk_pending - queries started and not yet answered. */
unsigned dkimk_pending(const struct dkimk *);

/* dkimk_activate - the table the hooks use on this thread from now on; NULL after the library call. */
void dkimk_activate(struct dkimk *);

#endif
