/*
 * test_dns_cache.c - policy/dns_cache.c: what is kept and for how long
 * (TTLs, the cap, negative answers by their SOA, none without one, failure
 * backoff, truncated answers), LRU eviction within the size, flush, and
 * lookups in flight joined across threads (eventfd wake-ups, abandon and
 * hand-over, a waiter giving up), run under the sanitizers by make sanitize.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/nameser.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "policy/dns_cache.h"
#include "tests/unit/dns_build.h"

static unsigned char pkt[4096];

/* configure - a fresh cache of max_bytes with ttl cap */
static int configure(size_t max_bytes, unsigned max_ttl)
{
	struct dns_cache_options o = { true, max_bytes, max_ttl };

	dns_cache_shutdown();
	return dns_cache_configure(&o);
}

static int setup(void **state)
{
	(void)state;
	return configure(1 << 20, 3600);
}

static int teardown(void **state)
{
	(void)state;
	dns_cache_shutdown();
	return 0;
}

/* build - a reply into pkt */
static int build(const char *qname, int qtype, int rcode, const char *spec)
{
	int len = dns_build(pkt, sizeof pkt, qname, qtype, rcode, spec);

	assert_true(len > 0);
	return len;
}

/* get - dns_cache_get without a waiter (fails the test on WAIT) */
static enum dns_cache_result get(const char *key, int type, enum dns_status *st, int *len)
{
	struct dns_cache_waiter w = { .wake_fd = -1 };
	unsigned char *ans = NULL;
	enum dns_cache_result r = dns_cache_get(key, type, &w, st, &ans, len);

	assert_int_not_equal(r, DNS_CACHE_WAIT);
	free(ans);
	return r;
}

/* own_and_put - miss, then the owner's outcome */
static void own_and_put(const char *key, int type, enum dns_status st, const unsigned char *ans, int len)
{
	enum dns_status s;
	int l;

	assert_int_equal(get(key, type, &s, &l), DNS_CACHE_OWN);
	dns_cache_put(key, type, st, ans, len);
}

static void test_ttls(void **state)
{
	enum dns_status st;
	int len, l;

	(void)state;
	/* kept for the smallest TTL of the answer */
	len = build("example.org", ns_t_mx, 0, "/60 MX 10 mx.example.org");
	assert_int_equal(dns_cache_ttl(DNS_OK, pkt, len, 0), 60);
	own_and_put("example.org", ns_t_mx, DNS_OK, pkt, len);
	assert_int_equal(get("example.org", ns_t_mx, &st, &l), DNS_CACHE_HIT);
	assert_int_equal(st, DNS_OK);
	assert_int_equal(l, len);
	/* another type of the same name is another key */
	assert_int_equal(get("example.org", ns_t_a, &st, &l), DNS_CACHE_OWN);
	dns_cache_abandon("example.org", ns_t_a);
	/* capped by max_ttl */
	len = build("long.example.org", ns_t_a, 0, "/86400 A 192.0.2.1");
	assert_int_equal(dns_cache_ttl(DNS_OK, pkt, len, 0), 3600);
	/* a TTL of 0 (or the top bit set) keeps nothing */
	len = build("zero.example.org", ns_t_a, 0, "/0 A 192.0.2.1");
	own_and_put("zero.example.org", ns_t_a, DNS_OK, pkt, len);
	assert_int_equal(get("zero.example.org", ns_t_a, &st, &l), DNS_CACHE_OWN);
	dns_cache_abandon("zero.example.org", ns_t_a);
	len = build("neg.example.org", ns_t_a, 0, "/2147483650 A 192.0.2.1");
	assert_int_equal(dns_cache_ttl(DNS_OK, pkt, len, 0), 0);
}

static void test_negative(void **state)
{
	enum dns_status st;
	int len, l;

	(void)state;
	/* NXDOMAIN and NODATA for min(SOA TTL, MINIMUM) */
	len = build("nx.example.org", ns_t_a, 3, "^@example.org /600 SOA ns.example.org h.example.org 1 2 3 4 30");
	assert_int_equal(dns_cache_ttl(DNS_NXDOMAIN, pkt, len, 0), 30);
	own_and_put("nx.example.org", ns_t_a, DNS_NXDOMAIN, pkt, len);
	assert_int_equal(get("nx.example.org", ns_t_a, &st, &l), DNS_CACHE_HIT);
	assert_int_equal(st, DNS_NXDOMAIN);
	len = build("example.org", ns_t_aaaa, 0, "^@example.org /20 SOA ns.example.org h.example.org 1 2 3 4 300");
	assert_int_equal(dns_cache_ttl(DNS_NODATA, pkt, len, 0), 20);
	own_and_put("example.org", ns_t_aaaa, DNS_NODATA, pkt, len);
	assert_int_equal(get("example.org", ns_t_aaaa, &st, &l), DNS_CACHE_HIT);
	assert_int_equal(st, DNS_NODATA);
	/* without an SOA: not kept */
	len = build("nosoa.example.org", ns_t_a, 3, "");
	assert_int_equal(dns_cache_ttl(DNS_NXDOMAIN, pkt, len, 0), 0);
	own_and_put("nosoa.example.org", ns_t_a, DNS_NXDOMAIN, pkt, len);
	assert_int_equal(get("nosoa.example.org", ns_t_a, &st, &l), DNS_CACHE_OWN);
	dns_cache_abandon("nosoa.example.org", ns_t_a);
	/* a truncated answer is never kept */
	len = build("tc.example.org", ns_t_txt, 0, "TXT \"x\"");
	pkt[2] |= 0x02;
	assert_int_equal(dns_cache_ttl(DNS_OK, pkt, len, 0), 0);
	/* nor errors that say nothing about the name */
	assert_int_equal(dns_cache_ttl(DNS_ERROR, NULL, 0, 0), 0);
	assert_int_equal(dns_cache_ttl(DNS_BADNAME, NULL, 0, 0), 0);
}

static void test_failure_backoff(void **state)
{
	enum dns_status st;
	int l;

	(void)state;
	/* 1 s, doubling, at most 5 minutes */
	assert_int_equal(dns_cache_ttl(DNS_SERVFAIL, NULL, 0, 0), 1);
	assert_int_equal(dns_cache_ttl(DNS_SERVFAIL, NULL, 0, 1), 2);
	assert_int_equal(dns_cache_ttl(DNS_TIMEOUT, NULL, 0, 4), 16);
	assert_int_equal(dns_cache_ttl(DNS_TIMEOUT, NULL, 0, 8), 256);
	assert_int_equal(dns_cache_ttl(DNS_TIMEOUT, NULL, 0, 9), 300);
	assert_int_equal(dns_cache_ttl(DNS_SERVFAIL, NULL, 0, 40), 300);
	own_and_put("dead.example", ns_t_mx, DNS_SERVFAIL, NULL, 0);
	assert_int_equal(get("dead.example", ns_t_mx, &st, &l), DNS_CACHE_HIT);
	assert_int_equal(st, DNS_SERVFAIL);
	assert_int_equal(l, 0);
	/* after a second the failure has gone: asked again, and a second failure is kept 2 s */
	sleep(1);
	usleep(100000);
	assert_int_equal(get("dead.example", ns_t_mx, &st, &l), DNS_CACHE_OWN);
	dns_cache_put("dead.example", ns_t_mx, DNS_TIMEOUT, NULL, 0);
	sleep(1);
	usleep(100000);
	assert_int_equal(get("dead.example", ns_t_mx, &st, &l), DNS_CACHE_HIT);
	assert_int_equal(st, DNS_TIMEOUT);
}

/*
 * test_resolver_outage - a failure while the servers answered nothing for a
 * second is the resolver's, not the name's: served while they stay silent,
 * dropped (its backoff reset) once they answer anything; a failure while
 * they answer others keeps its backoff.
 */
static void test_resolver_outage(void **state)
{
	enum dns_status st;
	int l, len = build("up.example", ns_t_a, 0, "/300 A 192.0.2.1");

	(void)state;
	own_and_put("up.example", ns_t_a, DNS_OK, pkt, len);
	own_and_put("dead.example", ns_t_mx, DNS_SERVFAIL, NULL, 0);   /* others answer: the domain's */
	len = build("other.example", ns_t_a, 0, "/300 A 192.0.2.2");
	own_and_put("other.example", ns_t_a, DNS_OK, pkt, len);
	assert_int_equal(get("dead.example", ns_t_mx, &st, &l), DNS_CACHE_HIT);
	assert_int_equal(st, DNS_SERVFAIL);

	usleep((DNS_CACHE_SILENT_MS + 100) * 1000);                  /* nothing answered for a while */
	own_and_put("dead2.example", ns_t_mx, DNS_SERVFAIL, NULL, 0);
	len = build("other2.example", ns_t_a, 0, "/300 A 192.0.2.4");
	own_and_put("other2.example", ns_t_a, DNS_OK, pkt, len);
	assert_int_equal(get("dead2.example", ns_t_mx, &st, &l), DNS_CACHE_OWN);   /* back: asked again */
	dns_cache_abandon("dead2.example", ns_t_mx);
	usleep((DNS_CACHE_SILENT_MS + 100) * 1000);
	own_and_put("busy.example", ns_t_mx, DNS_TIMEOUT, NULL, 0);
	assert_int_equal(get("busy.example", ns_t_mx, &st, &l), DNS_CACHE_HIT);
	/* the servers answer again: the failure is not served, the name is asked at once */
	len = build("back.example", ns_t_a, 0, "/300 A 192.0.2.3");
	own_and_put("back.example", ns_t_a, DNS_OK, pkt, len);
	assert_int_equal(get("busy.example", ns_t_mx, &st, &l), DNS_CACHE_OWN);
	/* ... and a failure now starts the backoff over: 1 s, not 2 */
	dns_cache_put("busy.example", ns_t_mx, DNS_SERVFAIL, NULL, 0);
	assert_int_equal(get("busy.example", ns_t_mx, &st, &l), DNS_CACHE_HIT);
	usleep(1100 * 1000);
	assert_int_equal(get("busy.example", ns_t_mx, &st, &l), DNS_CACHE_OWN);
	dns_cache_abandon("busy.example", ns_t_mx);
}

static void test_eviction_lru(void **state)
{
	char name[64];
	enum dns_status st;
	struct dns_cache_stats stats;
	int len, l;

	(void)state;
	/* 16 shards of 2 KiB: a few dozen answers fit */
	assert_int_equal(configure(32 * 1024, 3600), 0);
	len = build("a.example", ns_t_txt, 0, "TXT \"0123456789012345678901234567890123456789\"");
	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		own_and_put(name, ns_t_txt, DNS_OK, pkt, len);
		/* n0 is used all the time: never the least recently used */
		assert_int_equal(get("n0.example", ns_t_txt, &st, &l), DNS_CACHE_HIT);
	}
	dns_cache_get_stats(&stats);
	assert_true(stats.evictions > 0);
	assert_true(stats.bytes <= 32 * 1024);
	assert_true(stats.entries < 400);
	assert_int_equal(get("n0.example", ns_t_txt, &st, &l), DNS_CACHE_HIT);
	assert_int_equal(get("n1.example", ns_t_txt, &st, &l), DNS_CACHE_OWN);
	dns_cache_abandon("n1.example", ns_t_txt);
	/* flush drops every answer */
	dns_cache_flush();
	assert_int_equal(get("n0.example", ns_t_txt, &st, &l), DNS_CACHE_OWN);
	dns_cache_abandon("n0.example", ns_t_txt);
	dns_cache_get_stats(&stats);
	assert_int_equal(stats.entries, 0);
	/* switched off: nothing is asked of it */
	struct dns_cache_options off = { false, 0, 0 };
	assert_int_equal(dns_cache_configure(&off), 0);
	assert_int_equal(get("n0.example", ns_t_txt, &st, &l), DNS_CACHE_OFF);
}

/* A thread that asks what another resolver is asking. */
struct joiner {
	const char *key;
	int fd;
	enum dns_cache_result first;
	bool again;
	enum dns_status st;
	int len;
	bool timed_out;
	int wait_ms;
};

static void *join_thread(void *arg)
{
	struct joiner *j = arg;
	struct dns_cache_waiter w = { .wake_fd = j->fd };
	unsigned char *ans = NULL;
	struct pollfd p = { .fd = j->fd, .events = POLLIN };

	j->first = dns_cache_get(j->key, ns_t_a, &w, &j->st, &ans, &j->len);
	if (j->first != DNS_CACHE_WAIT) {
		free(ans);
		return NULL;
	}
	for (;;) {
		uint64_t n;

		if (poll(&p, 1, j->wait_ms) == 0) {
			/* its own deadline: it gives up */
			dns_cache_unwait(&w);
			j->timed_out = true;
			return NULL;
		}
		if (read(j->fd, &n, sizeof n) < 0) {
			/* spurious: look anyway */
		}
		if (dns_cache_waiter_take(&w, &j->again, &j->st, &ans, &j->len))
			break;
	}
	free(ans);
	return NULL;
}

/* start_joiners - n threads asking key while we own it */
static void start_joiners(pthread_t *t, struct joiner *j, int n, const char *key, int wait_ms)
{
	struct dns_cache_stats before, after;

	dns_cache_get_stats(&before);
	for (int i = 0; i < n; i++) {
		j[i] = (struct joiner){ .key = key, .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), .wait_ms = wait_ms };
		assert_true(j[i].fd >= 0);
		assert_int_equal(pthread_create(&t[i], NULL, join_thread, &j[i]), 0);
	}
	/* until every one of them has joined */
	for (int tries = 0; tries < 2000; tries++) {
		dns_cache_get_stats(&after);
		if (after.joins - before.joins >= (unsigned long)n)
			return;
		usleep(1000);
	}
	fail_msg("the threads did not join the lookup");
}

static void test_join_across_threads(void **state)
{
	pthread_t t[8];
	struct joiner j[8];
	enum dns_status st;
	int len, l;

	(void)state;
	assert_int_equal(get("shared.example", ns_t_a, &st, &l), DNS_CACHE_OWN);
	start_joiners(t, j, 8, "shared.example", 10000);
	len = build("shared.example", ns_t_a, 0, "A 192.0.2.7");
	dns_cache_put("shared.example", ns_t_a, DNS_OK, pkt, len);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		close(j[i].fd);
		assert_int_equal(j[i].first, DNS_CACHE_WAIT);
		assert_false(j[i].again);
		assert_false(j[i].timed_out);
		assert_int_equal(j[i].st, DNS_OK);
		assert_int_equal(j[i].len, len);
	}
	/* and it is kept for the next one */
	assert_int_equal(get("shared.example", ns_t_a, &st, &l), DNS_CACHE_HIT);
}

static void test_abandon_hands_over(void **state)
{
	pthread_t t[4];
	struct joiner j[4];
	enum dns_status st;
	int l;

	(void)state;
	assert_int_equal(get("gone.example", ns_t_a, &st, &l), DNS_CACHE_OWN);
	start_joiners(t, j, 4, "gone.example", 10000);
	/* the owner's message ended: each waiter is told to ask again */
	dns_cache_abandon("gone.example", ns_t_a);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		close(j[i].fd);
		assert_true(j[i].again);
	}
	/* asking again: one owns it, the next would wait */
	assert_int_equal(get("gone.example", ns_t_a, &st, &l), DNS_CACHE_OWN);
	dns_cache_put("gone.example", ns_t_a, DNS_SERVFAIL, NULL, 0);
	assert_int_equal(get("gone.example", ns_t_a, &st, &l), DNS_CACHE_HIT);
}

static void test_waiter_gives_up(void **state)
{
	pthread_t t[2];
	struct joiner j[2];
	enum dns_status st;
	int len, l;

	(void)state;
	assert_int_equal(get("slow.example", ns_t_a, &st, &l), DNS_CACHE_OWN);
	/* two waiters whose deadlines pass long before the answer */
	start_joiners(t, j, 2, "slow.example", 50);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		close(j[i].fd);
		assert_true(j[i].timed_out);
	}
	/* the owner's answer later touches no freed waiter (ASan would say) and is kept */
	len = build("slow.example", ns_t_a, 0, "A 192.0.2.8");
	dns_cache_put("slow.example", ns_t_a, DNS_OK, pkt, len);
	assert_int_equal(get("slow.example", ns_t_a, &st, &l), DNS_CACHE_HIT);
}

/* Many threads, many names, all at once: every lookup ends, the counts add up. */
struct hammer {
	int id;
	unsigned hits, owns;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	unsigned char buf[512];

	for (int i = 0; i < 2000; i++) {
		char key[32];
		struct dns_cache_waiter w = { .wake_fd = fd };
		enum dns_status st;
		unsigned char *ans = NULL;
		int len;
		bool again;
		int n = dns_build(buf, sizeof buf, "x.example", ns_t_a, 0, "/5 A 192.0.2.1");

		snprintf(key, sizeof key, "k%d.example", (i * 7 + h->id) % 50);
		switch (dns_cache_get(key, ns_t_a, &w, &st, &ans, &len)) {
		case DNS_CACHE_HIT:
			h->hits++;
			break;
		case DNS_CACHE_OWN:
			h->owns++;
			dns_cache_put(key, ns_t_a, DNS_OK, buf, n);
			break;
		case DNS_CACHE_WAIT:
			while (!dns_cache_waiter_take(&w, &again, &st, &ans, &len))
				usleep(100);
			break;
		case DNS_CACHE_OFF:
			break;
		}
		free(ans);
	}
	close(fd);
	return NULL;
}

static void test_threads_hammer(void **state)
{
	pthread_t t[6];
	struct hammer h[6];
	struct dns_cache_stats st;
	unsigned owns = 0;

	(void)state;
	for (int i = 0; i < 6; i++) {
		h[i] = (struct hammer){ .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		owns += h[i].owns;
	}
	dns_cache_get_stats(&st);
	/* 50 names with a 5 s TTL: each looked up on the wire once */
	assert_int_equal(owns, 50);
	assert_int_equal(st.misses, 50);
	assert_int_equal(st.entries, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_across_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandon_hands_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiter_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_hammer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
