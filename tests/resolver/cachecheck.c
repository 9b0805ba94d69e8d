/*
 * cachecheck.c - drive the process's DNS cache (policy/dns_cache.h)
 * through real resolvers (policy/resolver.c) against a real DNS server,
 * for tests/resolver/run.sh, which counts what reached the server.
 *
 *   cachecheck [-d DEADLINE_MS] SERVERS STEP...
 *
 * The cache is on (64 MiB, 1 h cap). Steps, in order:
 *   ask:TYPE:NAME       a new resolver (as a new connection would have)
 *                       asks NAME; prints "ask NAME STATUS"
 *   par:N:TYPE:NAME     N threads, each with its own resolver, ask at
 *                       once; prints "par NAME STATUS" per thread
 *   cancel:TYPE:NAME    one resolver asks, another asks the same name at
 *                       once, then the first one's message ends (cancel):
 *                       prints "cancel NAME STATUS" for the second (the
 *                       lookup goes on in the DNS engine and serves it)
 *   sleep:MS            waits
 *   stats               prints "stats hits=H negative=N misses=M joins=J"
 * TYPE is a, aaaa, mx or txt. Exits 2 on bad usage.
 */
#include <arpa/nameser.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "policy/dns_cache.h"
#include "policy/resolver.h"

static const char *servers;
static unsigned deadline_ms = 5000;

struct ask {
	const char *name;
	int type;
	enum dns_status status;
	bool done;
};

static void on_answer(void *arg, enum dns_status st, const unsigned char *ans, int len)
{
	struct ask *a = arg;

	(void)ans;
	(void)len;
	a->status = st;
	a->done = true;
}

/* new_resolver - one of our own, with this process's deadline from now */
static struct resolver *new_resolver(void)
{
	struct resolver_options o = { servers, 500, 2 };
	char err[256];
	struct resolver *r = resolver_new(&o, err, sizeof err);
	struct timespec d;

	if (!r) {
		fprintf(stderr, "cachecheck: %s\n", err);
		exit(2);
	}
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec += deadline_ms / 1000;
	d.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000L;
	}
	resolver_set_deadline(r, &d);
	return r;
}

/* ask_one - a whole lookup on a fresh resolver */
static void *ask_one(void *arg)
{
	struct ask *a = arg;
	struct resolver *r = new_resolver();

	if (resolver_query(r, a->name, a->type, on_answer, a) == 0)
		(void)resolver_wait(r, NULL, NULL);
	else
		a->status = DNS_ERROR;
	resolver_free(r);
	return NULL;
}

static int type_of(const char *t)
{
	if (!strcasecmp(t, "a"))
		return ns_t_a;
	if (!strcasecmp(t, "aaaa"))
		return ns_t_aaaa;
	if (!strcasecmp(t, "mx"))
		return ns_t_mx;
	if (!strcasecmp(t, "txt"))
		return ns_t_txt;
	return -1;
}

/* split - "TYPE:NAME" into a */
static bool split(char *spec, struct ask *a)
{
	char *colon = strchr(spec, ':');

	if (!colon)
		return false;
	*colon = '\0';
	a->type = type_of(spec);
	a->name = colon + 1;
	return a->type > 0 && *a->name;
}

/* cancel_step - the owner's message ends while another waits on its lookup */
static void cancel_step(struct ask *a)
{
	struct resolver *owner = new_resolver();
	struct ask first = *a;
	pthread_t t;

	(void)resolver_query(owner, first.name, first.type, on_answer, &first);
	resolver_poll(owner);                 /* on the wire now: the cache knows its owner */
	pthread_create(&t, NULL, ask_one, a);
	usleep(100000);                       /* the second one has joined */
	resolver_cancel_all(owner);
	resolver_free(owner);
	pthread_join(t, NULL);
	printf("cancel %s %s\n", a->name, dns_status_name(a->status));
}

int main(int argc, char **argv)
{
	struct dns_cache_options co = { true, 64u << 20, 3600 };
	int opt;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd')
			return 2;
		deadline_ms = (unsigned)atoi(optarg);
	}
	if (optind + 1 > argc)
		return 2;
	servers = argv[optind++];
	if (resolver_library_init() != 0 || dns_cache_configure(&co) != 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (; optind < argc; optind++) {
		char *step = argv[optind];
		struct ask a = { 0 };

		if (!strncmp(step, "ask:", 4) && split(step + 4, &a)) {
			ask_one(&a);
			printf("ask %s %s\n", a.name, dns_status_name(a.status));
		} else if (!strncmp(step, "par:", 4)) {
			char *p = step + 4;
			int n = atoi(p);
			pthread_t t[32];
			struct ask as[32];

			p = strchr(p, ':');
			if (!p || n < 1 || n > 32 || !split(p + 1, &a))
				return 2;
			for (int i = 0; i < n; i++) {
				as[i] = a;
				pthread_create(&t[i], NULL, ask_one, &as[i]);
			}
			for (int i = 0; i < n; i++) {
				pthread_join(t[i], NULL);
				printf("par %s %s\n", as[i].name, dns_status_name(as[i].status));
			}
		} else if (!strncmp(step, "cancel:", 7) && split(step + 7, &a)) {
			cancel_step(&a);
		} else if (!strncmp(step, "sleep:", 6)) {
			usleep((useconds_t)atoi(step + 6) * 1000);
		} else if (!strcmp(step, "stats")) {
			struct dns_cache_stats st;

			dns_cache_get_stats(&st);
			printf("stats hits=%lu negative=%lu misses=%lu joins=%lu\n", st.hits, st.negative_hits,
			       st.misses, st.joins);
		} else {
			fprintf(stderr, "cachecheck: bad step %s\n", step);
			return 2;
		}
	}
	resolver_library_cleanup();
	dns_cache_shutdown();
	return 0;
}
