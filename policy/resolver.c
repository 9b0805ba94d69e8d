/*
 * resolver.c - policy/resolver.h on one c-ares 1.18 channel.
 *
 * c-ares calls ares_cb() from inside ares_query(), ares_process_fd(),
 * ares_cancel() and ares_destroy(). ares_cb() never calls the user: it
 * records the outcome on the query and appends it to a completion queue,
 * which deliver() empties from resolver_wait(), resolver_poll() and
 * resolver_cancel_all(). So user callbacks never run inside
 * resolver_query() nor inside c-ares, and a callback may freely start or
 * cancel queries.
 *
 * CNAME following also happens in deliver(): an answer that holds only a
 * CNAME chain re-sends the same struct rquery for the chain's end, at most
 * RESOLVER_CNAME_MAX times.
 *
 * Identical queries of a message go out once: resolver_share.c. Across
 * messages and connections, each name a query asks on the wire (each hop
 * of a CNAME chain) goes through the process's cache first:
 * resolver_cache.c; ares_cb() hands the cache the outcomes it owes.
 *
 * Every query goes out with the AD bit set (RFC 6840 §5.7: a validating
 * resolver then says in its answer's AD bit whether the data was
 * authenticated). c-ares 1.18's ares_query() never sets AD, so
 * resolver_wire_query() builds the query itself (ares_create_query, RD set, no
 * EDNS, as ares_query did), sets AD and a query ID from getrandom(2), and
 * hands it to ares_send(), which sends the buffer unchanged and returns the
 * raw answer; map_rcode() does what ares_query's wrapper did with its
 * RCODE. An answer that ended a CNAME chain keeps its AD bit only when
 * every answer of the chain had it (q->ad_chain).
 *
 * Ownership: each struct rquery is allocated by resolver_query() and freed
 * by deliver() right after its user callback returns; the answer copy it
 * carries is freed with it. The channel belongs to the struct resolver.
 * The state itself is declared in policy/resolver_impl.h.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include <ares.h>

#include "policy/dns_parse.h"
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

/* map_status - c-ares status to ours (facts.md: SERVFAIL/REFUSED arrive as ECONNREFUSED) */
static enum dns_status map_status(int status, enum resolver_mode mode)
{
	switch (status) {
	case ARES_SUCCESS:      return DNS_OK;
	case ARES_ENODATA:      return DNS_NODATA;
	case ARES_ENOTFOUND:    return DNS_NXDOMAIN;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ECONNREFUSED:
	case ARES_ENOTIMP:      return DNS_SERVFAIL;
	case ARES_ETIMEOUT:     return DNS_TIMEOUT;
	case ARES_EBADNAME:     return DNS_BADNAME;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return mode == MODE_EXPIRING ? DNS_TIMEOUT : DNS_ERROR;
	default:                return DNS_ERROR;
	}
}

/* map_rcode - what ares_query()'s wrapper made of an answer's RCODE (ares_send gives it raw) */
static int map_rcode(int status, const unsigned char *abuf, int alen)
{
	if (status != ARES_SUCCESS)
		return status;
	if (!abuf || alen < 12)
		return ARES_EBADRESP;
	switch (abuf[3] & 0x0f) {
	case ns_r_noerror:  return (abuf[6] << 8 | abuf[7]) > 0 ? ARES_SUCCESS : ARES_ENODATA;
	case ns_r_formerr:  return ARES_EFORMERR;
	case ns_r_servfail: return ARES_ESERVFAIL;
	case ns_r_nxdomain: return ARES_ENOTFOUND;
	case ns_r_notimpl:  return ARES_ENOTIMP;
	case ns_r_refused:  return ARES_EREFUSED;
	default:            return ARES_SUCCESS;   /* as ares_query: other RCODEs pass */
	}
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

/* ares_cb - c-ares is done with a query: tell the cache, record the outcome */
static void ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct rquery *q = arg;
	int st = map_rcode(status, abuf, alen);

	(void)timeouts;
	resolver_share_wire_remove(q->r, q);   /* the completion queue uses the same link */
	if (q->cache_owner) {
		q->cache_owner = false;
		/* a cancelled query (this message's deadline or end) says nothing about the name */
		if (st == ARES_ECANCELLED || st == ARES_EDESTRUCTION || st == ARES_ENOMEM)
			dns_cache_abandon(q->hop_key, q->type);
		else
			dns_cache_put(q->hop_key, q->type, map_status(st, MODE_NORMAL), abuf, alen);
	}
	resolver_record_outcome(q, map_status(st, q->r->mode), abuf, alen);
}

/* id_in_flight - is a query of r on the wire with this ID? (c-ares matches answers by ID first) */
static bool id_in_flight(const struct resolver *r, unsigned short id)
{
	for (const struct rquery *w = r->wire; w; w = w->next)
		if (w->qid == id)
			return true;
	return false;
}

/* new_id - a random query ID no query of r in flight has; -1 when the kernel gives no randomness */
static int new_id(const struct resolver *r)
{
	unsigned short id;

	for (int tries = 0; tries < 8; tries++) {
		if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
			return -1;
		if (!id_in_flight(r, id))
			break;
	}
	return id;   /* after 8 clashes (60 queries in flight at most) take the last: c-ares retries */
}

/* resolver_wire_query - build the query (AD set, random ID), hand it to c-ares; the outcome always comes back through ares_cb */
void resolver_wire_query(struct resolver *r, struct rquery *q, const char *name)
{
	unsigned char *buf = NULL;
	int len = 0, id, rc;

	id = new_id(r);
	if (id < 0) {
		ares_cb(q, ARES_ENOMEM, 0, NULL, 0);   /* DNS_ERROR, queued for deliver() */
		return;
	}
	rc = ares_create_query(name, ns_c_in, q->type, (unsigned short)id, 1, &buf, &len, 0);
	if (rc != ARES_SUCCESS) {
		ares_cb(q, rc, 0, NULL, 0);           /* e.g. ARES_EBADNAME, as ares_query said it */
		return;
	}
	buf[3] |= DNS_FLAG_AD_BYTE3;
	q->qid = (unsigned short)id;
	/* joinable while out; ares_cb takes it off (also when c-ares calls back at once) */
	resolver_share_wire_add(r, q);
	ares_send(r->ch, buf, len, ares_cb, q);
	ares_free_string(buf);
}

/* finish - run the user callback once and free the query */
static void finish(struct resolver *r, struct rquery *q)
{
	r->pending--;
	q->cb(q->arg, q->status, q->answer, q->answer_len);
	free(q->answer);
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
	r->mode = MODE_EXPIRING;
	ares_cancel(r->ch);
	resolver_cache_fail_waiters(r, DNS_TIMEOUT);
	deliver(r);
	r->mode = saved;
}

/* step - wait up to max_ms (0: just look) for c-ares sockets, then let c-ares work */
static void step(struct resolver *r, long max_ms)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM + 1];
	struct timeval maxtv, tv, *tvp;
	int bits, n = 0, rc;
	long ms;

	bits = ares_getsock(r->ch, socks, ARES_GETSOCK_MAXNUM);
	for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		short ev = 0;
		if (ARES_GETSOCK_READABLE(bits, i))
			ev |= POLLIN;
		if (ARES_GETSOCK_WRITABLE(bits, i))
			ev |= POLLOUT;
		if (!ev)
			break;
		pfd[n].fd = socks[i];
		pfd[n].events = ev;
		pfd[n].revents = 0;
		n++;
	}
	if (r->cwait) {
		/* another resolver's lookup we wait for ends with a write to wake_fd */
		pfd[n].fd = r->wake_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (max_ms >= 0) {
		maxtv.tv_sec = max_ms / 1000;
		maxtv.tv_usec = (max_ms % 1000) * 1000;
	}
	tvp = ares_timeout(r->ch, max_ms >= 0 ? &maxtv : NULL, &tv);
	/* c-ares always has a timeout while a query is out; 1 s only guards against surprises */
	ms = tvp ? (long)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000 : 1000;

	rc = poll(pfd, (nfds_t)n, (int)ms);
	if (r->cwait)
		resolver_cache_collect(r);
	if (rc < 0 && errno == EINTR)
		return;
	if (rc <= 0) {
		ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents || pfd[i].fd == r->wake_fd)
			continue;
		ares_socket_t rd = pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd : ARES_SOCKET_BAD;
		ares_socket_t wr = pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD;
		ares_process_fd(r->ch, rd, wr);
	}
}

/* resolver_library_init - c-ares global state, once per process */
int resolver_library_init(void)
{
	return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : -1;
}

/* resolver_library_cleanup - undo resolver_library_init */
void resolver_library_cleanup(void)
{
	ares_library_cleanup();
}

/* count_servers - how many name servers the channel ended up with */
static int count_servers(ares_channel ch)
{
	struct ares_addr_port_node *list = NULL;
	int n = 0;

	if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS)
		return -1;
	for (struct ares_addr_port_node *p = list; p; p = p->next)
		n++;
	ares_free_data(list);
	return n;
}

/* resolver_new - a channel of our own; with servers given, nothing is read from the system */
struct resolver *resolver_new(const struct resolver_options *opt, char *err, size_t errlen)
{
	struct ares_options o;
	struct resolver *r;
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES, rc;
	bool own_servers = opt && opt->servers && *opt->servers;
	char lookups[] = "b";

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->done_tail = &r->done_head;
	/* without an eventfd the resolver simply does not use the shared cache */
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	memset(&o, 0, sizeof(o));
	/* STAYOPEN: the connection's socket serves all its lookups, instead of a
	 * socket(), connect() and close() each time none is pending */
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_STAYOPEN;
	o.timeout = (int)(opt && opt->try_timeout_ms ? opt->try_timeout_ms : 1000);
	o.tries = (int)(opt && opt->tries ? opt->tries : 3);
	if (own_servers) {
		/* Every setting resolv.conf could supply, so c-ares never reads it. */
		mask |= ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS |
			ARES_OPT_NDOTS | ARES_OPT_SORTLIST;
		o.nservers = 0;
		o.ndomains = 0;
		o.lookups = lookups;
		o.ndots = 1;
		o.nsort = 0;
	}
	rc = ares_init_options(&r->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot create DNS channel: %s", ares_strerror(rc));
		if (r->wake_fd >= 0)
			close(r->wake_fd);
		free(r);
		return NULL;
	}
	if (own_servers) {
		rc = ares_set_servers_ports_csv(r->ch, opt->servers);
		if (rc != ARES_SUCCESS || count_servers(r->ch) < 1) {
			snprintf(err, errlen, "bad DNS server list \"%.100s\": %s", opt->servers,
				 rc != ARES_SUCCESS ? ares_strerror(rc) : "no servers");
			ares_destroy(r->ch);
			if (r->wake_fd >= 0)
				close(r->wake_fd);
			free(r);
			return NULL;
		}
	}
	return r;
}

/* resolver_free - fail whatever is pending, then destroy the channel */
void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	resolver_cancel_all(r);
	r->mode = MODE_CANCELLING;
	ares_destroy(r->ch);       /* nothing should be left; if so it fails through ares_cb */
	deliver(r);
	resolver_forget(r);
	if (r->wake_fd >= 0)
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
	if (!q)
		return -1;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->type = type;
	q->ad_chain = true;
	resolver_share_key(name, q->key, sizeof q->key);
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
	ares_cancel(r->ch);
	resolver_cache_fail_waiters(r, DNS_ERROR);
	deliver(r);
	r->mode = saved;
}

/* resolver_pending - user callbacks still owed */
unsigned resolver_pending(const struct resolver *r)
{
	return r ? r->pending : 0;
}
