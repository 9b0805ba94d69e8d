/*
 * resolver.h - asynchronous DNS for one connection.
 *
 * libmilter runs each SMTP connection on its own thread, so each
 * connection owns one resolver and only that thread touches it. All
 * lookups of a message (MX and exchange addresses, SPF TXT, DKIM keys) go
 * out through it and overlap: whoever needs an answer calls
 * resolver_wait(), which waits for every pending query, not just its own.
 * The wire itself is one c-ares channel for the whole process, driven by a
 * thread of its own (policy/dns_engine.h): a channel costs 73 KB, a
 * resolver a few.
 *
 * One deadline per message (resolver_set_deadline): when it passes, every
 * pending query completes with DNS_TIMEOUT. Nothing here ever blocks past
 * the deadline.
 *
 * Callbacks run only from inside resolver_wait(), resolver_poll() or
 * resolver_cancel_all(), never from inside resolver_query(), so a caller
 * may finish setting up its own state after starting a query.
 *
 * CNAMEs are followed (up to 8 links): when an answer holds only a CNAME
 * chain and no record of the asked type, the target is queried and the
 * callback sees the final answer.
 *
 * Every query asks with the AD bit set (RFC 6840 §5.7), so a validating
 * resolver says in each answer whether it authenticated the data
 * (dns_parse_ad() in policy/dns_parse.h). After CNAME following the
 * final answer keeps AD only when every answer of the chain had it.
 * Whether AD means anything is the caller's decision: only from a
 * validating resolver reached over a path it trusts (loopback).
 *
 * Unit tests link tests/unit/fake_resolver.c instead of resolver.c: this
 * header is the seam.
 */
#ifndef MXGUARD_RESOLVER_H
#define MXGUARD_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum dns_status {
	DNS_OK = 0,        /* answer holds at least one record of the asked type */
	DNS_NXDOMAIN,      /* the name does not exist (permanent) */
	DNS_NODATA,        /* the name exists, no record of this type (permanent) */
	DNS_SERVFAIL,      /* SERVFAIL or REFUSED from every server (temporary) */
	DNS_TIMEOUT,       /* no answer in time, or the message deadline passed (temporary) */
	DNS_BADNAME,       /* the name cannot be encoded as a query (permanent) */
	DNS_ERROR,         /* malformed answer, out of memory, cancelled, other (temporary) */
};

/* dns_status_temporary - true for the statuses that mean "ask again later". */
bool dns_status_temporary(enum dns_status);
/* dns_status_name - "ok", "nxdomain", "nodata", "servfail", "timeout", "badname", "error". */
const char *dns_status_name(enum dns_status);

struct resolver_options {
	const char *servers;     /* "host[:port],..." (IPv6 as [addr]:port); NULL or "" = system resolver */
	unsigned try_timeout_ms; /* first per-try timeout (c-ares doubles it per retry); 0 = 1000 */
	unsigned tries;          /* 0 = 3 */
};

struct resolver;

/*
 * resolver_callback - one query finished. answer/answer_len is the raw DNS
 * reply (the final one after CNAME following, its AD bit cleared unless
 * every answer of the chain had it) when the server sent one, also for
 * NXDOMAIN/NODATA; NULL/0 otherwise. It is only valid during the call.
 * The callback may start new queries.
 */
typedef void resolver_callback(void *arg, enum dns_status status,
			       const unsigned char *answer, int answer_len);

/* resolver_library_init - once per process, before threads; 0 on success. */
int resolver_library_init(void);
void resolver_library_cleanup(void);

/*
 * resolver_new - a resolver for one connection. On failure returns NULL and
 * puts the reason in err. The caller owns the result: resolver_free().
 */
struct resolver *resolver_new(const struct resolver_options *opt, char *err, size_t errlen);

/* resolver_free - cancels pending queries (their callbacks run with DNS_ERROR), then frees. NULL is fine. */
void resolver_free(struct resolver *);

/*
 * resolver_set_deadline - absolute CLOCK_MONOTONIC time after which every
 * pending and future query fails with DNS_TIMEOUT. NULL clears it.
 */
void resolver_set_deadline(struct resolver *, const struct timespec *deadline);

/*
 * resolver_query - start a lookup of name (presentation form, trailing dot
 * optional) for type (ns_t_a, ns_t_mx, ... from <arpa/nameser.h>), class IN.
 * Returns 0 when started (cb will run exactly once), -1 when it could not
 * be queued (cb will not run).
 *
 * Identical lookups (same name ignoring case and trailing dot, same type)
 * are asked once: one made while an identical one is out gets its outcome;
 * one made after an identical one got records, NXDOMAIN or NODATA gets
 * that answer again, until resolver_forget(). Either way cb runs as for
 * any query (from resolver_wait/poll/cancel_all, with its own copy).
 */
int resolver_query(struct resolver *, const char *name, int type,
		   resolver_callback *cb, void *arg);

/*
 * resolver_forget - drop the answers kept for identical lookups. Call it
 * when a new message starts: no answer outlives its message (there is no
 * DNS cache across messages, and no TTL to honour within one).
 */
void resolver_forget(struct resolver *);

/* resolver_done_fn - predicate for resolver_wait. */
typedef bool resolver_done_fn(void *arg);

/*
 * resolver_wait - drive all pending queries until done(arg) is true, no
 * query is pending, or the deadline passes (then every pending query fails
 * with DNS_TIMEOUT, callbacks run, and this returns). done may be NULL:
 * wait until nothing is pending. Returns true if done(arg) (or "nothing
 * pending" when done is NULL) became true.
 */
bool resolver_wait(struct resolver *, resolver_done_fn *done, void *arg);

/* resolver_poll - run callbacks for whatever has already arrived; never blocks. */
void resolver_poll(struct resolver *);

/* resolver_cancel_all - every pending query completes now with DNS_ERROR. */
void resolver_cancel_all(struct resolver *);

/* resolver_pending - number of queries whose callbacks have not run yet. */
unsigned resolver_pending(const struct resolver *);

#endif
