/*
 * dns_engine.c - the process's c-ares channels and the threads that drive
 * them (see dns_engine.h).
 *
 * The engine thread owns its channel: only it calls c-ares. It takes
 * submitted jobs from a queue (under the engine's mutex, its eventfd
 * written to wake it), sends each with the AD bit and a query ID no other
 * job of the channel has in flight, drives the sockets, and moves each
 * finished job to its resolver's inbox (or frees it, when forsaken). The
 * shared cache hears every outcome of a lookup it is waiting for from here,
 * and policy/dns_stats.h counts every job's outcome and time (no logging).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <ares.h>

#include "policy/dns_cache.h"
#include "policy/dns_engine.h"
#include "policy/dns_stats.h"

struct dns_engine {
	struct dns_engine *next;            /* the registry */
	unsigned refs;                      /* under reg_mu */
	char *servers;
	unsigned try_ms, tries;
	ares_channel ch;
	pthread_t thread;
	pthread_mutex_t mu;                 /* submit queue, inboxes, forsaking */
	struct dns_job *submit_head, **submit_tail;
	bool stop;
	int wake_fd;
	uint8_t ids[65536 / 8];             /* query IDs in flight (engine thread only) */
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dns_engine *engines;

/* wake - one eventfd write */
static void wake(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof one) < 0 && errno != EAGAIN) {
		/* the reader still has its own timeout */
	}
}

int dns_engine_map_rcode(int status, const unsigned char *abuf, int alen)
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

/* dns_engine_status - see dns_engine.h (facts.md: SERVFAIL/REFUSED arrive as ECONNREFUSED) */
enum dns_status dns_engine_status(int st)
{
	switch (st) {
	case ARES_SUCCESS:      return DNS_OK;
	case ARES_ENODATA:      return DNS_NODATA;
	case ARES_ENOTFOUND:    return DNS_NXDOMAIN;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ECONNREFUSED:
	case ARES_ENOTIMP:      return DNS_SERVFAIL;
	case ARES_ETIMEOUT:     return DNS_TIMEOUT;
	case ARES_EBADNAME:     return DNS_BADNAME;
	default:                return DNS_ERROR;
	}
}

/* finish - the job's outcome, to its inbox or (forsaken) away */
static void finish(struct dns_engine *e, struct dns_job *job, int st, const unsigned char *abuf, int alen)
{
	bool drop;
	/* the channel's own end says nothing about the name */
	bool cancelled = st == ARES_ECANCELLED || st == ARES_EDESTRUCTION;

	dns_stats_query_done(job->type, dns_engine_status(st), cancelled, histogram_elapsed_us(&job->submitted));
	if (job->cache_owner) {
		if (cancelled || st == ARES_ENOMEM)
			dns_cache_abandon(job->cache_key, job->type);
		else
			dns_cache_put(job->cache_key, job->type, dns_engine_status(st), abuf, alen);
	}
	job->ares_status = st;
	if (abuf && alen > 0 && (job->answer = malloc((size_t)alen)) != NULL) {
		memcpy(job->answer, abuf, (size_t)alen);
		job->answer_len = alen;
	} else if (abuf && alen > 0 && st == ARES_SUCCESS) {
		job->ares_status = ARES_ENOMEM;
	}
	pthread_mutex_lock(&e->mu);
	job->finished = true;
	drop = !job->inbox;
	if (!drop) {
		job->next = job->inbox->head;   /* newest first; dns_engine_take reverses */
		job->inbox->head = job;
		wake(job->inbox->wake_fd);
	}
	pthread_mutex_unlock(&e->mu);
	if (drop)
		dns_engine_job_free(job);
}

struct sent {
	struct dns_engine *e;
	struct dns_job *job;
	unsigned short id;
};

/* engine_cb - c-ares is done with a job (engine thread) */
static void engine_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct sent *s = arg;

	(void)timeouts;
	s->e->ids[s->id / 8] &= (uint8_t)~(1u << (s->id % 8));
	finish(s->e, s->job, dns_engine_map_rcode(status, abuf, alen), abuf, alen);
	free(s);
}

/* new_id - a random query ID free on this channel; -1 when the kernel gives no randomness */
static int new_id(struct dns_engine *e)
{
	unsigned short id = 0;

	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
			return -1;
		if (!(e->ids[id / 8] & (1u << (id % 8))))
			break;
	}
	e->ids[id / 8] |= (uint8_t)(1u << (id % 8));
	return id;
}

/* send_job - build the query (AD set, RD set, no EDNS, as ares_query did) and send it */
static void send_job(struct dns_engine *e, struct dns_job *job)
{
	unsigned char *buf = NULL;
	int len = 0, id, rc;
	struct sent *s = malloc(sizeof *s);

	if (!s || (id = new_id(e)) < 0) {
		free(s);
		finish(e, job, ARES_ENOMEM, NULL, 0);
		return;
	}
	rc = ares_create_query(job->name, ns_c_in, job->type, (unsigned short)id, 1, &buf, &len, 0);
	if (rc != ARES_SUCCESS) {
		e->ids[id / 8] &= (uint8_t)~(1u << (id % 8));
		free(s);
		finish(e, job, rc, NULL, 0);    /* e.g. ARES_EBADNAME */
		return;
	}
	buf[3] |= DNS_FLAG_AD_BYTE3;
	s->e = e;
	s->job = job;
	s->id = (unsigned short)id;
	ares_send(e->ch, buf, len, engine_cb, s);
	ares_free_string(buf);
}

/* run - the engine thread */
static void *run(void *arg)
{
	struct dns_engine *e = arg;

	for (;;) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM + 1];
		struct timeval tv, *tvp;
		struct dns_job *list;
		int bits, n = 0, rc, ms;
		bool stop;
		uint64_t drain;

		pthread_mutex_lock(&e->mu);
		list = e->submit_head;
		e->submit_head = NULL;
		e->submit_tail = &e->submit_head;
		stop = e->stop;
		pthread_mutex_unlock(&e->mu);
		while (list) {
			struct dns_job *j = list;

			list = j->next;
			j->next = NULL;
			send_job(e, j);
		}
		if (stop) {
			ares_cancel(e->ch);         /* every job still out finishes as cancelled */
			return NULL;
		}
		bits = ares_getsock(e->ch, socks, ARES_GETSOCK_MAXNUM);
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
		pfd[n].fd = e->wake_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		tvp = ares_timeout(e->ch, NULL, &tv);
		ms = tvp ? (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000) : -1;
		rc = poll(pfd, (nfds_t)n + 1, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (pfd[n].revents && read(e->wake_fd, &drain, sizeof drain) < 0) {
			/* EAGAIN: someone else read it; the queue is looked at anyway */
		}
		if (rc == 0) {
			ares_process_fd(e->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			ares_process_fd(e->ch, pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd : ARES_SOCKET_BAD,
					pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
		}
		/* c-ares also times its retries out here */
		ares_process_fd(e->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
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

/* opt_try_ms, opt_tries - the options' first per-try timeout and tries, with resolver.h's defaults */
static unsigned opt_try_ms(const struct resolver_options *opt)
{
	return opt && opt->try_timeout_ms ? opt->try_timeout_ms : 1000;
}

static unsigned opt_tries(const struct resolver_options *opt)
{
	return opt && opt->tries ? opt->tries : 3;
}

/* engine_new - a channel of its own (with servers given, nothing read from the system) and its thread */
static struct dns_engine *engine_new(const struct resolver_options *opt, char *err, size_t errlen)
{
	struct ares_options o;
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES, rc;
	bool own_servers = opt && opt->servers && *opt->servers;
	char lookups[] = "b";
	struct dns_engine *e = calloc(1, sizeof *e);

	if (!e || (own_servers && !(e->servers = strdup(opt->servers)))) {
		free(e);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->try_ms = opt_try_ms(opt);
	e->tries = opt_tries(opt);
	e->submit_tail = &e->submit_head;
	pthread_mutex_init(&e->mu, NULL);
	memset(&o, 0, sizeof o);
	/* STAYOPEN: one socket serves every lookup, not a socket() and close() each time none is pending */
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_STAYOPEN;
	o.timeout = (int)e->try_ms;
	o.tries = (int)e->tries;
	if (own_servers) {
		/* every setting resolv.conf could supply, so c-ares never reads it */
		mask |= ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_NDOTS | ARES_OPT_SORTLIST;
		o.lookups = lookups;
		o.ndots = 1;
	}
	rc = ares_init_options(&e->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot create DNS channel: %s", ares_strerror(rc));
		goto fail;
	}
	if (own_servers) {
		rc = ares_set_servers_ports_csv(e->ch, opt->servers);
		if (rc != ARES_SUCCESS || count_servers(e->ch) < 1) {
			snprintf(err, errlen, "bad DNS server list \"%.100s\": %s", opt->servers,
				 rc != ARES_SUCCESS ? ares_strerror(rc) : "no servers");
			ares_destroy(e->ch);
			goto fail;
		}
	}
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0 || pthread_create(&e->thread, NULL, run, e) != 0) {
		snprintf(err, errlen, "cannot start the DNS thread");
		if (e->wake_fd >= 0)
			close(e->wake_fd);
		ares_destroy(e->ch);
		goto fail;
	}
	return e;
fail:
	pthread_mutex_destroy(&e->mu);
	free(e->servers);
	free(e);
	return NULL;
}

/* same_options - would e serve a resolver made with opt? */
static bool same_options(const struct dns_engine *e, const struct resolver_options *opt)
{
	const char *s = opt && opt->servers && *opt->servers ? opt->servers : NULL;

	return ((!s && !e->servers) || (s && e->servers && strcmp(s, e->servers) == 0)) &&
	       e->try_ms == opt_try_ms(opt) && e->tries == opt_tries(opt);
}

/* engine_stop - the thread stopped and joined, the channel destroyed, all freed (unlinked, no users) */
static void engine_stop(struct dns_engine *e)
{
	pthread_mutex_lock(&e->mu);
	e->stop = true;
	pthread_mutex_unlock(&e->mu);
	wake(e->wake_fd);
	pthread_join(e->thread, NULL);
	ares_destroy(e->ch);                /* anything left ends through engine_cb */
	close(e->wake_fd);
	pthread_mutex_destroy(&e->mu);
	free(e->servers);
	free(e);
}

/* unlink_idle - take every engine nobody uses, except keep, out of the registry (reg_mu held); a list */
static struct dns_engine *unlink_idle(const struct dns_engine *keep)
{
	struct dns_engine *idle = NULL, **pp = &engines;

	while (*pp) {
		struct dns_engine *e = *pp;

		if (e->refs == 0 && e != keep) {
			*pp = e->next;
			e->next = idle;
			idle = e;
		} else {
			pp = &e->next;
		}
	}
	return idle;
}

/* stop_all - engine_stop each of a list */
static void stop_all(struct dns_engine *list)
{
	while (list) {
		struct dns_engine *e = list;

		list = e->next;
		engine_stop(e);
	}
}

struct dns_engine *dns_engine_acquire(const struct resolver_options *opt, char *err, size_t errlen)
{
	struct dns_engine *e, *idle = NULL;

	pthread_mutex_lock(&reg_mu);
	for (e = engines; e && !same_options(e, opt); e = e->next)
		;
	if (!e && (e = engine_new(opt, err, errlen)) != NULL) {
		/* new options (a reload): engines of the old ones go once nobody uses them */
		idle = unlink_idle(NULL);
		e->next = engines;
		engines = e;
	}
	if (e)
		e->refs++;
	pthread_mutex_unlock(&reg_mu);
	stop_all(idle);
	return e;
}

void dns_engine_release(struct dns_engine *e)
{
	struct dns_engine *idle;

	if (!e)
		return;
	pthread_mutex_lock(&reg_mu);
	e->refs--;
	/*
	 * The newest engine stays, idle, for the next connection: a thread and
	 * a channel per connection would cost more than keeping them.
	 */
	idle = unlink_idle(engines);
	pthread_mutex_unlock(&reg_mu);
	stop_all(idle);
}

void dns_engine_shutdown(void)
{
	struct dns_engine *idle;

	pthread_mutex_lock(&reg_mu);
	idle = unlink_idle(NULL);
	pthread_mutex_unlock(&reg_mu);
	stop_all(idle);
}

struct dns_job *dns_engine_job_new(const char *name, const char *cache_key, int type, void *user)
{
	size_t n = strlen(name) + 1, k = strlen(cache_key) + 1;
	struct dns_job *j = calloc(1, sizeof *j + n + k);

	if (!j)
		return NULL;
	memcpy(j->name, name, n);
	j->cache_key = memcpy(j->name + n, cache_key, k);
	j->type = type;
	j->user = user;
	return j;
}

void dns_engine_job_free(struct dns_job *j)
{
	if (!j)
		return;
	free(j->answer);
	free(j);
}

void dns_engine_submit(struct dns_engine *e, struct dns_job *job, struct dns_inbox *inbox)
{
	clock_gettime(CLOCK_MONOTONIC, &job->submitted);
	pthread_mutex_lock(&e->mu);
	job->inbox = inbox;
	job->next = NULL;
	*e->submit_tail = job;
	e->submit_tail = &job->next;
	pthread_mutex_unlock(&e->mu);
	wake(e->wake_fd);
}

struct dns_job *dns_engine_take(struct dns_engine *e, struct dns_inbox *inbox)
{
	struct dns_job *list, *rev = NULL;

	pthread_mutex_lock(&e->mu);
	list = inbox->head;
	inbox->head = NULL;
	pthread_mutex_unlock(&e->mu);
	while (list) {
		struct dns_job *j = list;

		list = j->next;
		j->next = rev;
		rev = j;
	}
	return rev;
}

void dns_engine_forsake(struct dns_engine *e, struct dns_job *job)
{
	bool mine = false;

	pthread_mutex_lock(&e->mu);
	if (job->finished && job->inbox) {
		/* already in the inbox: take it out, it is ours to free */
		for (struct dns_job **pp = &job->inbox->head; *pp; pp = &(*pp)->next)
			if (*pp == job) {
				*pp = job->next;
				break;
			}
		mine = true;
	}
	job->inbox = NULL;                  /* still out: the engine frees it when it ends */
	pthread_mutex_unlock(&e->mu);
	if (mine)
		dns_engine_job_free(job);
}
