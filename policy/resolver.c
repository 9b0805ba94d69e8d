/*
 * resolver.c - policy/resolver.h on the process's DNS engine.
 *
 * A query for the wire becomes a job of the engine (policy/dns_engine.h),
 * whose thread owns the c-ares channel; the finished job comes back in
 * this resolver's inbox and its eventfd wakes step(). job_done() never
 * calls the user: it records the outcome on the query and appends it to a
 * completion queue, which deliver() empties from resolver_wait(),
 * resolver_poll() and resolver_cancel_all(). So user callbacks never run
 * inside resolver_query(), and a callback may freely start or cancel
 * queries. A query given up (deadline, cancel) is forsaken: the engine
 * frees its job when it ends, and still tells the shared cache.
 *
 * CNAME following also happens in deliver(): an answer that holds only a
 * CNAME chain re-sends the same struct rquery for the chain's end, at most
 * RESOLVER_CNAME_MAX times.
 *
 * Identical queries of a message go out once: resolver_share.c. Across
 * messages and connections, each name a query asks on the wire (each hop
 * of a CNAME chain) goes through the process's cache first:
 * resolver_cache.c; the engine hands the cache the outcomes it owes.
 *
 * Every query goes out with the AD bit set (RFC 6840 §5.7: a validating
 * resolver then says in its answer's AD bit whether the data was
 * authenticated): the engine builds each query itself (c-ares 1.18's
 * ares_query() never sets AD). An answer that ended a CNAME chain keeps
 * its AD bit only when every answer of the chain had it (q->ad_chain).
 *
 * Ownership: each struct rquery is allocated by resolver_query() and freed
 * by deliver() right after its user callback returns; the answer copy it
 * carries is freed with it. A job belongs to the engine while it is out,
 * to this resolver once it is in the inbox.
 * The state itself is declared in policy/resolver_impl.h.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include <ares.h>

#include "policy/dns_parse.h"
#include "policy/dns_stats.h"
#include "policy/resolver_impl.h"

#define RESOLVER_CNAME_MAX 8

/* now_mono - CLOCK_MONOTONIC now */
static struct timespec now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* deadline_ms - milliseconds until the deadline, rounded up; 0 once passed; -1 without one */
static long deadline_ms(const struct resolver *r)
{
	if (!r->has_deadline)
		return -1;
	struct timespec n = now_mono();
	long long ns = (long long)(r->deadline.tv_sec - n.tv_sec) * 1000000000LL
		     + (r->deadline.tv_nsec - n.tv_nsec);
	if (ns <= 0)
		return 0;
	return (long)((ns + 999999) / 1000000);
}

/* deadline_passed - is there a deadline and is it behind us? */
static bool deadline_passed(const struct resolver *r)
{
	return deadline_ms(r) == 0;
}

/* resolver_enqueue - a finished (or to-be-followed) query waits for deliver() */
void resolver_enqueue(struct resolver *r, struct rquery *q)
{
	q->next = NULL;
	*r->done_tail = q;
	r->done_tail = &q->next;
}

/* map_status - c-ares status to ours; a query cancelled at the deadline timed out */
static enum dns_status map_status(int status, enum resolver_mode mode)
{
	if (mode == MODE_EXPIRING && (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION))
		return DNS_TIMEOUT;
	return dns_engine_status(status);
}

/* classify_ok - an ARES_SUCCESS answer: records of the type, a chain to follow, or nothing */
static void classify_ok(struct rquery *q, const unsigned char *abuf, int alen)
{
	switch (dns_parse_follow(abuf, alen, q->type, q->follow_name, sizeof(q->follow_name))) {
	case DNS_FOLLOW_HAS_TYPE:
		break;
	case DNS_FOLLOW_CNAME:
		if (q->hops < RESOLVER_CNAME_MAX)
			q->follow = true;
		else
			q->status = DNS_ERROR;   /* too long a chain, or a loop */
		break;
	case DNS_FOLLOW_EMPTY:
		q->status = DNS_NODATA;      /* records of other types only */
		break;
	default:
		q->status = DNS_ERROR;       /* malformed or out of memory */
		break;
	}
}

/* resolver_record_outcome - what a hop's answer (from the wire or the cache) means for q; queued for deliver() */
void resolver_record_outcome(struct rquery *q, enum dns_status st, const unsigned char *abuf, int alen)
{
	q->status = st;
	q->follow = false;
	if (q->status == DNS_OK)
		classify_ok(q, abuf, alen);
	if (abuf && dns_parse_ad(abuf, alen) != 1)
		q->ad_chain = false;      /* one answer of the chain was not authenticated */
	if (!q->follow && abuf && alen > 0) {
		q->answer = malloc((size_t)alen);
		if (q->answer) {
			memcpy(q->answer, abuf, (size_t)alen);
			q->answer_len = alen;
			if (!q->ad_chain && alen >= 4)
				q->answer[3] &= (unsigned char)~DNS_FLAG_AD_BYTE3;
		} else if (q->status == DNS_OK) {
			q->status = DNS_ERROR;
		}
	}
	resolver_enqueue(q->r, q);
}

/* job_done - the engine finished q's job: its outcome (the cache has heard it from the engine) */
static void job_done(struct resolver *r, struct dns_job *job)
{
	struct rquery *q = job->user;

	q->job = NULL;
	resolver_share_wire_remove(r, q);   /* the completion queue uses the same link */
	resolver_record_outcome(q, map_status(job->ares_status, r->mode), job->answer, job->answer_len);
	dns_engine_job_free(job);
}

/* resolver_wire_query - hand q's question about name to the process's DNS engine (dns_engine.h) */
void resolver_wire_query(struct resolver *r, struct rquery *q, const char *name)
{
	struct dns_job *job = dns_engine_job_new(name, q->hop_key, q->type, q);

	if (!job) {
		if (q->cache_owner)
			dns_cache_abandon(q->hop_key, q->type);
		q->cache_owner = false;
		resolver_record_outcome(q, DNS_ERROR, NULL, 0);
		return;
	}
	/* the engine tells the cache, even if this message has ended by then */
	job->cache_owner = q->cache_owner;
	q->cache_owner = false;
	q->job = job;
	/* joinable while out; job_done takes it off */
	resolver_share_wire_add(r, q);
	dns_engine_submit(r->eng, job, &r->inbox);
}

/* take_jobs - every job the engine finished for r */
static void take_jobs(struct resolver *r)
{
	struct dns_job *list = dns_engine_take(r->eng, &r->inbox);

	while (list) {
		struct dns_job *j = list;

		list = j->next;
		job_done(r, j);
	}
}

/* forsake_wire - every query still out ends now with status; the engine forgets their jobs */
static void forsake_wire(struct resolver *r, enum dns_status status)
{
	struct rquery *q;

	take_jobs(r);                        /* answers already in still count */
	while ((q = r->wire) != NULL) {
		resolver_share_wire_remove(r, q);
		if (q->job)
			dns_engine_forsake(r->eng, q->job);
		q->job = NULL;
		resolver_record_outcome(q, status, NULL, 0);
	}
}

/* finish - run the user callback once and free the query */
static void finish(struct resolver *r, struct rquery *q)
{
	r->pending--;
	q->cb(q->arg, q->status, q->answer, q->answer_len);
	free(q->answer);
	free(q->key);
	free(q->hop_key);
	free(q);
}

/* deliver - empty the completion queue: follow CNAMEs or call back */
static void deliver(struct resolver *r)
{
	struct rquery *q;

	while ((q = r->done_head) != NULL) {
		r->done_head = q->next;
		if (!r->done_head)
			r->done_tail = &r->done_head;
		if (r->mode == MODE_CANCELLING) {
			q->follow = false;
			q->status = DNS_ERROR;
			free(q->answer);
			q->answer = NULL;
			q->answer_len = 0;
		} else if (q->follow && deadline_passed(r)) {
			q->follow = false;
			q->status = DNS_TIMEOUT;
		}
		if (q->follow) {
			q->follow = false;
			q->hops++;
			resolver_send(r, q, q->follow_name);
			continue;
		}
		resolver_share_done(r, q);
		finish(r, q);
	}
}

/* expire - the deadline passed: every query in flight times out now */
static void expire(struct resolver *r)
{
	enum resolver_mode saved = r->mode;

	if (saved == MODE_CANCELLING)
		return;
	dns_stats_expired(r->pending);
	r->mode = MODE_EXPIRING;
	forsake_wire(r, DNS_TIMEOUT);
	resolver_cache_fail_waiters(r, DNS_TIMEOUT);
	deliver(r);
	r->mode = saved;
}

/* step - wait up to max_ms (0: just look; -1: no deadline) for the engine or the cache to say something */
static void step(struct resolver *r, long max_ms)
{
	struct pollfd pfd = { .fd = r->wake_fd, .events = POLLIN };
	uint64_t n;

	/* every job ends (c-ares times its tries out); 1 s only guards against surprises */
	if (poll(&pfd, 1, (int)(max_ms >= 0 && max_ms < 1000 ? max_ms : 1000)) > 0 &&
	    read(r->wake_fd, &n, sizeof n) < 0) {
		/* EAGAIN: read meanwhile; the inbox is looked at anyway */
	}
	take_jobs(r);
	if (r->cwait)
		resolver_cache_collect(r);
}

/* resolver_library_init - c-ares global state, once per process */
int resolver_library_init(void)
{
	return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : -1;
}

/* resolver_library_cleanup - undo resolver_library_init */
void resolver_library_cleanup(void)
{
	dns_engine_shutdown();
	ares_library_cleanup();
}

/* resolver_new - a connection's resolver on the process's DNS engine for these options */
struct resolver *resolver_new(const struct resolver_options *opt, char *err, size_t errlen)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->done_tail = &r->done_head;
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake_fd < 0) {
		snprintf(err, errlen, "cannot create an eventfd: %s", strerror(errno));
		free(r);
		return NULL;
	}
	r->inbox.wake_fd = r->wake_fd;
	r->eng = dns_engine_acquire(opt, err, errlen);
	if (!r->eng) {
		close(r->wake_fd);
		free(r);
		return NULL;
	}
	return r;
}

/* resolver_free - fail whatever is pending, then let the engine go */
void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	resolver_cancel_all(r);
	r->mode = MODE_CANCELLING;
	deliver(r);
	resolver_forget(r);
	dns_engine_release(r->eng);
	close(r->wake_fd);
	free(r);
}

/* resolver_set_deadline - absolute CLOCK_MONOTONIC deadline, or none */
void resolver_set_deadline(struct resolver *r, const struct timespec *deadline)
{
	r->has_deadline = deadline != NULL;
	if (deadline)
		r->deadline = *deadline;
}

/* resolver_query - queue a lookup (or join an identical one); its outcome always arrives through deliver() */
int resolver_query(struct resolver *r, const char *name, int type,
		   resolver_callback *cb, void *arg)
{
	struct rquery *q;

	if (!r || !name || !cb)
		return -1;
	q = calloc(1, sizeof(*q));
	if (q && !(q->key = resolver_share_key_dup(name))) {
		free(q);
		q = NULL;
	}
	if (!q)
		return -1;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->type = type;
	q->ad_chain = true;
	r->pending++;
	if (r->mode == MODE_CANCELLING) {
		q->status = DNS_ERROR;
		resolver_enqueue(r, q);
	} else if (deadline_passed(r)) {
		q->status = DNS_TIMEOUT;
		resolver_enqueue(r, q);
	} else if (!resolver_share_lookup(r, q)) {
		resolver_send(r, q, name);
	}
	return 0;
}

/* run_out - the deadline passed: answers that already arrived still count, the rest time out */
static void run_out(struct resolver *r)
{
	step(r, 0);
	deliver(r);
	if (r->pending)
		expire(r);
}

/* resolver_wait - drive c-ares until done, idle, or the deadline */
bool resolver_wait(struct resolver *r, resolver_done_fn *done, void *arg)
{
	for (;;) {
		long ms;

		deliver(r);
		if (done ? done(arg) : r->pending == 0)
			return true;
		if (r->pending == 0)
			return false;
		ms = deadline_ms(r);
		if (ms == 0) {
			run_out(r);
			return done ? done(arg) : r->pending == 0;
		}
		step(r, ms);
	}
}

/* resolver_poll - one non-blocking look at the sockets */
void resolver_poll(struct resolver *r)
{
	deliver(r);
	if (r->pending == 0)
		return;
	if (deadline_passed(r)) {
		run_out(r);
		return;
	}
	step(r, 0);
	deliver(r);
}

/* resolver_cancel_all - every pending query fails now with DNS_ERROR */
void resolver_cancel_all(struct resolver *r)
{
	enum resolver_mode saved;

	if (!r)
		return;
	saved = r->mode;
	r->mode = MODE_CANCELLING;
	forsake_wire(r, DNS_ERROR);
	resolver_cache_fail_waiters(r, DNS_ERROR);
	deliver(r);
	r->mode = saved;
}

/* resolver_pending - user callbacks still owed */
unsigned resolver_pending(const struct resolver *r)
{
	return r ? r->pending : 0;
}
