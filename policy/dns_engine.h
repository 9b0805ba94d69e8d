/*
 * dns_engine.h - one c-ares channel for the whole process, driven by a
 * thread of its own; every connection's resolver sends its wire queries
 * through it. Private to policy/resolver*.c (see policy/resolver.h).
 *
 * Why: a c-ares 1.18 channel costs 73 KB (its query tables), and is not
 * thread-safe; one channel per connection made 1,000 sessions waiting on
 * DNS cost 101 MB. Now a connection's resolver costs a few KB: it hands
 * each query (a struct dns_job) to the engine and sleeps on its own
 * eventfd until the engine has put the finished job in its inbox.
 *
 * Engines are shared by resolver options (servers, per-try timeout,
 * tries): dns_engine_acquire() finds or makes one. The newest engine
 * stays running when its last user releases it (the next connection
 * needs it again); older ones, of options a reload replaced, stop once
 * nobody uses them; dns_engine_shutdown() stops every idle one at exit.
 *
 * Jobs: made by the resolver (dns_engine_job_new), given to the engine
 * (dns_engine_submit), handed back finished through the inbox
 * (dns_engine_take), then freed by the resolver (dns_engine_job_free). A
 * resolver that gives up on a job (its deadline, a cancel) calls
 * dns_engine_forsake(): a job already finished is taken out of the inbox
 * and freed; one still out is freed by the engine when it ends. Either way
 * its outcome still reaches the shared cache when the job owns the
 * cache's lookup (cache_owner): waiting connections are not left hanging.
 */
#ifndef MXGUARD_DNS_ENGINE_H
#define MXGUARD_DNS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "policy/dns_parse.h"
#include "policy/resolver.h"

struct dns_engine;

/* Finished jobs for one resolver; the engine's lock guards the list. */
struct dns_inbox {
	int wake_fd;                   /* eventfd written when a job arrives */
	struct dns_job *head;
};

struct dns_job {
	struct dns_job *next;          /* submit queue, then the inbox */
	struct dns_inbox *inbox;       /* NULL once the resolver forsook it */
	void *user;                    /* the resolver's query */
	int type;
	bool cache_owner;              /* hand the outcome to the shared cache under cache_key */
	bool finished;
	struct timespec submitted;     /* CLOCK_MONOTONIC, for the answer-time histogram (dns_stats.h) */
	/* the outcome: c-ares's status (RCODE mapped as ares_query would) and the raw answer */
	int ares_status;
	unsigned char *answer;
	int answer_len;
	const char *cache_key;         /* in the job's own allocation, after name */
	char name[];                   /* asked as given; sized to fit (a job waits as long as its lookup) */
};

/* dns_engine_acquire - the engine for these options (made and started when new); NULL with err. */
struct dns_engine *dns_engine_acquire(const struct resolver_options *opt, char *err, size_t errlen);

/* dns_engine_release - drop a reference (see above for when an engine stops). */
void dns_engine_release(struct dns_engine *);

/* dns_engine_shutdown - stop and free every engine nobody uses (resolver_library_cleanup). */
void dns_engine_shutdown(void);

/* dns_engine_job_new - a job for name/type, its outcome kept in the cache under cache_key (copied); NULL when out of memory. */
struct dns_job *dns_engine_job_new(const char *name, const char *cache_key, int type, void *user);
void dns_engine_job_free(struct dns_job *);

/* dns_engine_submit - send it; it comes back finished through inbox (every job does, once). */
void dns_engine_submit(struct dns_engine *, struct dns_job *job, struct dns_inbox *inbox);

/* dns_engine_take - the finished jobs of inbox, oldest first (the caller frees each). */
struct dns_job *dns_engine_take(struct dns_engine *, struct dns_inbox *inbox);

/* dns_engine_forsake - the resolver gives job up (see above); job must not be used afterwards. */
void dns_engine_forsake(struct dns_engine *, struct dns_job *job);

/* dns_engine_status - a c-ares status (after dns_engine_map_rcode) as ours; cancelled ones are DNS_ERROR. */
enum dns_status dns_engine_status(int ares_status);

/* dns_engine_map_rcode - what ares_query() made of an answer's RCODE (ares_send gives it raw). */
int dns_engine_map_rcode(int status, const unsigned char *abuf, int alen);

#endif
