/*
 * dns_cache.c - the process's shared DNS cache (see dns_cache.h).
 *
 * Each shard: a mutex, a chained hash table, an LRU list (head = most
 * recently used) and its byte count. An entry lives while it holds an
 * answer, a lookup in flight, or the count of failures in a row that its
 * next failure's backoff needs; it never holds a waiter it could free.
 * Counters are atomics, read without any lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/dns_cache.h"
#include "policy/dns_parse.h"

#define BUCKETS 2048                   /* per shard, a power of two */
#define DEFAULT_BYTES ((size_t)64 << 20)
#define DEFAULT_MAX_TTL 3600u
#define ENTRY_OVERHEAD 96              /* what an entry costs beyond its key and answer, roughly */

struct entry {
	struct entry *hnext;
	struct entry *lprev, *lnext;
	char *key;
	int type;
	unsigned hash;
	bool valid;                        /* holds an outcome (which may have expired) */
	bool in_flight;                    /* an owner is asking */
	enum dns_status status;
	unsigned char *answer;
	int answer_len;
	uint64_t expires_ms;
	unsigned failures;                 /* failures in a row, for the backoff */
	bool suspect;                      /* a failure while the servers answered nothing (see last_answer_ms) */
	uint64_t stored_ms;                /* when the outcome was put */
	struct dns_cache_waiter *waiters;
	size_t bytes;
};

struct shard {
	pthread_mutex_t mu;
	struct entry *bucket[BUCKETS];
	struct entry *head, *tail;
	size_t bytes;
	unsigned long entries;
};

static struct shard *shards;          /* DNS_CACHE_SHARDS of them, made by the first configure */
static atomic_bool enabled;
static atomic_size_t shard_limit;     /* max_bytes / DNS_CACHE_SHARDS */
static atomic_uint max_ttl = DEFAULT_MAX_TTL;
static atomic_ulong n_hits, n_neg_hits, n_misses, n_joins, n_evictions;
/*
 * When the name servers last answered anything (an answer, NXDOMAIN,
 * NODATA). A failure put while they have answered nothing for
 * DNS_CACHE_SILENT_MS is suspect: more likely the local resolver was down
 * (c-ares reports a refused connection and a SERVFAIL alike) than the
 * name's own servers. Once they answer again, a suspect failure is not
 * served and its backoff starts over - otherwise a resolver outage would
 * keep busy domains tempfailed for up to DNS_CACHE_FAIL_MAX_S after it.
 */
static _Atomic uint64_t last_answer_ms;

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* hash_of - FNV-1a over the key and the type */
static unsigned hash_of(const char *key, int type)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ (uint32_t)(type & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)(type >> 8)) * 16777619u;
	return h;
}

static struct shard *shard_of(unsigned hash)
{
	return &shards[hash % DNS_CACHE_SHARDS];
}

/* find - the entry of (key, type) in s, or NULL */
static struct entry *find(struct shard *s, unsigned hash, const char *key, int type)
{
	for (struct entry *e = s->bucket[(hash / DNS_CACHE_SHARDS) & (BUCKETS - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->type == type && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		s->head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		s->tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_front(struct shard *s, struct entry *e)
{
	if (s->head == e)
		return;
	if (e->lprev || e->lnext || s->tail == e)
		lru_unlink(s, e);
	e->lnext = s->head;
	if (s->head)
		s->head->lprev = e;
	s->head = e;
	if (!s->tail)
		s->tail = e;
}

/* drop_answer - forget the outcome (the entry stays) */
static void drop_answer(struct shard *s, struct entry *e)
{
	free(e->answer);
	e->answer = NULL;
	s->bytes -= (size_t)e->answer_len;
	e->bytes -= (size_t)e->answer_len;
	e->answer_len = 0;
	e->valid = false;
}

/* remove_entry - out of the table and the list, freed (no owner, no waiter) */
static void remove_entry(struct shard *s, struct entry *e)
{
	struct entry **pp = &s->bucket[(e->hash / DNS_CACHE_SHARDS) & (BUCKETS - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(s, e);
	s->bytes -= e->bytes;
	s->entries--;
	free(e->answer);
	free(e->key);
	free(e);
}

/* create - a new, empty entry at the front */
static struct entry *create(struct shard *s, unsigned hash, const char *key, int type)
{
	struct entry *e = calloc(1, sizeof *e);
	unsigned b = (hash / DNS_CACHE_SHARDS) & (BUCKETS - 1);

	if (!e || !(e->key = strdup(key))) {
		free(e);
		return NULL;
	}
	e->type = type;
	e->hash = hash;
	e->bytes = strlen(key) + 1 + ENTRY_OVERHEAD;
	e->hnext = s->bucket[b];
	s->bucket[b] = e;
	lru_front(s, e);
	s->bytes += e->bytes;
	s->entries++;
	return e;
}

/* evict - the least recently used entries nobody is asking or waiting for, until s fits */
static void evict(struct shard *s)
{
	struct entry *e = s->tail;
	size_t limit = atomic_load(&shard_limit);

	while (s->bytes > limit && e) {
		struct entry *prev = e->lprev;

		if (!e->in_flight && !e->waiters) {
			remove_entry(s, e);
			atomic_fetch_add(&n_evictions, 1);
		}
		e = prev;
	}
}

/* copy_out - a malloc'd copy of an answer; false when out of memory */
static bool copy_out(const unsigned char *answer, int len, unsigned char **out)
{
	*out = NULL;
	if (!answer || len <= 0)
		return true;
	*out = malloc((size_t)len);
	if (!*out)
		return false;
	memcpy(*out, answer, (size_t)len);
	return true;
}

/* wake - tell a waiter's thread (an eventfd takes 8 bytes; a pipe is fine with them too) */
static void wake(const struct dns_cache_waiter *w)
{
	uint64_t one = 1;

	if (w->wake_fd >= 0 && write(w->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN) {
		/* nothing to do: the waiter's own deadline still ends its wait */
	}
}

/* serve - every waiter of e gets the outcome (or again), and is woken */
static void serve(struct entry *e, bool again, enum dns_status status, const unsigned char *answer, int len)
{
	struct dns_cache_waiter *w;

	while ((w = e->waiters) != NULL) {
		e->waiters = w->next;
		w->next = NULL;
		w->again = again;
		w->status = status;
		w->answer_len = 0;
		if (!again && copy_out(answer, len, &w->answer))
			w->answer_len = w->answer ? len : 0;
		else if (!again)
			w->status = DNS_ERROR;
		w->ready = true;
		wake(w);
	}
}

unsigned long dns_cache_ttl(enum dns_status status, const unsigned char *answer, int answer_len,
			    unsigned failures_before)
{
	unsigned long ttl, cap = atomic_load(&max_ttl);

	switch (status) {
	case DNS_OK:
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		/* a truncated answer is never the whole answer */
		if (!answer || answer_len < 12 || (answer[2] & 0x02) || dns_parse_ttl(answer, answer_len, &ttl) != 0)
			return 0;
		break;
	case DNS_SERVFAIL:
	case DNS_TIMEOUT:
		ttl = DNS_CACHE_FAIL_MAX_S;
		if (failures_before < 9)
			ttl = (unsigned long)DNS_CACHE_FAIL_MIN_S << failures_before;
		if (ttl > DNS_CACHE_FAIL_MAX_S)
			ttl = DNS_CACHE_FAIL_MAX_S;
		break;
	default:
		return 0;
	}
	return ttl < cap ? ttl : cap;
}

int dns_cache_configure(const struct dns_cache_options *opt)
{
	size_t bytes = opt && opt->max_bytes ? opt->max_bytes : DEFAULT_BYTES;

	if (!shards) {
		shards = calloc(DNS_CACHE_SHARDS, sizeof *shards);
		if (!shards) {
			atomic_store(&enabled, false);
			return -1;
		}
		for (unsigned i = 0; i < DNS_CACHE_SHARDS; i++)
			pthread_mutex_init(&shards[i].mu, NULL);
	}
	atomic_store(&shard_limit, bytes / DNS_CACHE_SHARDS);
	atomic_store(&max_ttl, opt && opt->max_ttl_s ? opt->max_ttl_s : DEFAULT_MAX_TTL);
	if (atomic_exchange(&enabled, opt && opt->enabled) && !(opt && opt->enabled))
		dns_cache_flush();
	for (unsigned i = 0; i < DNS_CACHE_SHARDS; i++) {
		pthread_mutex_lock(&shards[i].mu);
		evict(&shards[i]);
		pthread_mutex_unlock(&shards[i].mu);
	}
	return 0;
}

void dns_cache_flush(void)
{
	for (unsigned i = 0; shards && i < DNS_CACHE_SHARDS; i++) {
		struct shard *s = &shards[i];

		pthread_mutex_lock(&s->mu);
		for (struct entry *e = s->head, *next; e; e = next) {
			next = e->lnext;
			/* lookups in flight stay joinable: their owner ends them */
			if (e->in_flight) {
				if (e->valid)
					drop_answer(s, e);
				e->failures = 0;
			} else {
				remove_entry(s, e);
			}
		}
		pthread_mutex_unlock(&s->mu);
	}
}

void dns_cache_shutdown(void)
{
	if (!shards)
		return;
	for (unsigned i = 0; i < DNS_CACHE_SHARDS; i++) {
		struct shard *s = &shards[i];

		while (s->head) {
			serve(s->head, true, DNS_ERROR, NULL, 0);
			s->head->in_flight = false;
			remove_entry(s, s->head);
		}
		pthread_mutex_destroy(&s->mu);
	}
	free(shards);
	shards = NULL;
	atomic_store(&enabled, false);
	atomic_store(&n_hits, 0);
	atomic_store(&n_neg_hits, 0);
	atomic_store(&n_misses, 0);
	atomic_store(&n_joins, 0);
	atomic_store(&n_evictions, 0);
	atomic_store(&last_answer_ms, 0);
}

enum dns_cache_result dns_cache_get(const char *key, int type, struct dns_cache_waiter *w,
				    enum dns_status *status, unsigned char **answer, int *answer_len)
{
	unsigned hash;
	struct shard *s;
	struct entry *e;
	enum dns_cache_result r = DNS_CACHE_OFF;

	*answer = NULL;
	*answer_len = 0;
	if (!shards || !atomic_load(&enabled) || !key || !*key)
		return DNS_CACHE_OFF;
	hash = hash_of(key, type);
	s = shard_of(hash);
	pthread_mutex_lock(&s->mu);
	e = find(s, hash, key, type);
	if (e && e->valid && e->suspect && atomic_load(&last_answer_ms) >= e->stored_ms) {
		drop_answer(s, e);                  /* the servers are back: ask again */
		e->failures = 0;
	}
	if (e && e->valid && now_ms() < e->expires_ms) {
		if (copy_out(e->answer, e->answer_len, answer)) {
			*status = e->status;
			*answer_len = *answer ? e->answer_len : 0;
			lru_front(s, e);
			atomic_fetch_add(e->status == DNS_OK ? &n_hits : &n_neg_hits, 1);
			r = DNS_CACHE_HIT;
		}
	} else if (e && e->in_flight) {
		int fd = w->wake_fd;

		memset(w, 0, sizeof *w);
		w->wake_fd = fd;
		w->key = key;
		w->type = type;
		w->shard = (unsigned)(hash % DNS_CACHE_SHARDS);
		w->next = e->waiters;
		e->waiters = w;
		atomic_fetch_add(&n_joins, 1);
		r = DNS_CACHE_WAIT;
	} else {
		if (e && e->valid)
			drop_answer(s, e);          /* expired */
		if (!e)
			e = create(s, hash, key, type);
		if (e) {
			e->in_flight = true;
			atomic_fetch_add(&n_misses, 1);
			r = DNS_CACHE_OWN;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void dns_cache_put(const char *key, int type, enum dns_status status, const unsigned char *answer, int answer_len)
{
	unsigned hash = hash_of(key, type);
	struct shard *s;
	struct entry *e;
	unsigned long ttl;
	bool failure = status == DNS_SERVFAIL || status == DNS_TIMEOUT;
	uint64_t now = now_ms();

	if (!shards)
		return;
	if (status == DNS_OK || status == DNS_NXDOMAIN || status == DNS_NODATA)
		atomic_store(&last_answer_ms, now);
	s = shard_of(hash);
	pthread_mutex_lock(&s->mu);
	e = find(s, hash, key, type);
	if (!e) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	e->in_flight = false;
	serve(e, false, status, answer, answer_len);
	if (e->valid)
		drop_answer(s, e);
	if (!atomic_load(&enabled)) {
		remove_entry(s, e);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	ttl = dns_cache_ttl(status, answer, answer_len, e->failures);
	e->failures = failure ? e->failures + 1 : 0;
	if (ttl > 0 && (size_t)(answer_len > 0 ? answer_len : 0) <= atomic_load(&shard_limit) / 8 &&
	    copy_out(answer, answer_len, &e->answer)) {
		e->answer_len = e->answer ? answer_len : 0;
		e->status = status;
		e->valid = true;
		e->stored_ms = now;
		e->suspect = failure && now - atomic_load(&last_answer_ms) > DNS_CACHE_SILENT_MS;
		e->expires_ms = now + (uint64_t)ttl * 1000u;
		e->bytes += (size_t)e->answer_len;
		s->bytes += (size_t)e->answer_len;
		lru_front(s, e);
	} else if (!e->failures) {
		remove_entry(s, e);
	}
	evict(s);
	pthread_mutex_unlock(&s->mu);
}

void dns_cache_abandon(const char *key, int type)
{
	unsigned hash = hash_of(key, type);
	struct shard *s;
	struct entry *e;

	if (!shards)
		return;
	s = shard_of(hash);
	pthread_mutex_lock(&s->mu);
	e = find(s, hash, key, type);
	if (e) {
		e->in_flight = false;
		serve(e, true, DNS_ERROR, NULL, 0);
		if (!e->valid && !e->failures)
			remove_entry(s, e);
	}
	pthread_mutex_unlock(&s->mu);
}

bool dns_cache_waiter_take(struct dns_cache_waiter *w, bool *again, enum dns_status *status,
			   unsigned char **answer, int *answer_len)
{
	struct shard *s = &shards[w->shard];
	bool ready;

	pthread_mutex_lock(&s->mu);
	ready = w->ready;
	if (ready) {
		*again = w->again;
		*status = w->status;
		*answer = w->answer;
		*answer_len = w->answer_len;
		w->answer = NULL;
		w->answer_len = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return ready;
}

void dns_cache_unwait(struct dns_cache_waiter *w)
{
	struct shard *s;
	struct entry *e;

	if (!shards)
		return;
	s = &shards[w->shard];
	pthread_mutex_lock(&s->mu);
	if (!w->ready && (e = find(s, hash_of(w->key, w->type), w->key, w->type)) != NULL) {
		for (struct dns_cache_waiter **pp = &e->waiters; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				break;
			}
	}
	w->ready = true;
	free(w->answer);
	w->answer = NULL;
	w->answer_len = 0;
	pthread_mutex_unlock(&s->mu);
}

void dns_cache_get_stats(struct dns_cache_stats *out)
{
	memset(out, 0, sizeof *out);
	out->hits = atomic_load(&n_hits);
	out->negative_hits = atomic_load(&n_neg_hits);
	out->misses = atomic_load(&n_misses);
	out->joins = atomic_load(&n_joins);
	out->evictions = atomic_load(&n_evictions);
	for (unsigned i = 0; shards && i < DNS_CACHE_SHARDS; i++) {
		pthread_mutex_lock(&shards[i].mu);
		out->entries += shards[i].entries;
		out->bytes += shards[i].bytes;
		pthread_mutex_unlock(&shards[i].mu);
	}
}
