/*
 * resolve.c - drive policy/resolver.c (and the MX check) against a real
 * DNS server, for tests/resolver/run.sh.
 *
 *   resolve [-d DEADLINE_MS] [-t TRY_MS] [-n TRIES] [-a] [-c | -f | -p] [-2 | -F] SERVERS QUERY...
 *
 * QUERY is TYPE:NAME (TYPE one of a aaaa mx txt ptr cname) or
 * mx-check:DOMAIN. All queries start at once on one resolver; then
 * resolver_wait() drives them (-p: resolver_poll() in a loop instead;
 * -c: resolver_cancel_all() right away; -f: resolver_free() right away).
 * Prints one line per query, in argument order:
 *   QUERY STATUS ms=ELAPSED [DATA]
 * (-a adds " ad=0|1|-1" at the end: the answer's AD bit, -1 without one)
 * (for mx-check STATUS is the MX fact and DATA its detail), then
 *   pending=N
 * -2 then asks every plain query again on the same resolver (-F: after
 * resolver_forget) and prints "again:QUERY STATUS ms=..." lines, the time
 * counted from the start of that second round.
 * Exits 2 on bad usage or when the resolver cannot be created (reason on
 * stderr), 3 when the resolver broke its contract: a callback ran inside
 * resolver_query(), ran twice, or never ran.
 */
#include <arpa/nameser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "policy/dns_parse.h"
#include "policy/mx.h"
#include "policy/netlist.h"
#include "policy/resolver.h"
#include "tests/unit/test_bogus.h"

struct job {
	const char *spec;
	const char *name;
	int type;                /* 0 for mx-check */
	int calls;
	long ms;
	char line[1024];
	struct mx_check *mx;
};

static struct timespec t0;
static int in_query, broken, show_ad;

/* elapsed_ms - since the queries started */
static long elapsed_ms(void)
{
	struct timespec n;

	clock_gettime(CLOCK_MONOTONIC, &n);
	return (n.tv_sec - t0.tv_sec) * 1000 + (n.tv_nsec - t0.tv_nsec) / 1000000;
}

/* describe - the records of an answer, one short string */
static void describe(const struct job *j, const unsigned char *ans, int len, char *out, size_t cap)
{
	size_t o = 0;
	char buf[64];

	if (j->type == ns_t_a || j->type == ns_t_aaaa) {
		struct dns_addr a[128];
		int n = dns_parse_addrs(ans, len, a, 128, NULL);
		o += (size_t)snprintf(out, cap, "n=%d", n);
		for (int i = 0; i < n && i < 3 && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, " %s", dns_addr_format(&a[i], buf, sizeof(buf)));
	} else if (j->type == ns_t_mx) {
		struct dns_mx mx[8];
		size_t total;
		int n = dns_parse_mx(ans, len, mx, 8, &total);
		o += (size_t)snprintf(out, cap, "n=%zu", total);
		for (int i = 0; i < n && i < 3 && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, " %u:%s", mx[i].pref, mx[i].host);
	} else if (j->type == ns_t_txt) {
		struct dns_txt_list l;
		int n = dns_parse_txt(ans, len, &l);
		o += (size_t)snprintf(out, cap, "n=%d", n);
		for (int i = 0; i < n && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, " len=%zu:%.40s", l.rec[i].len, l.rec[i].text);
		if (n >= 0)
			dns_txt_free(&l);
	} else if (j->type == ns_t_ptr) {
		char names[4][DNS_HOST_BUF];
		int n = dns_parse_ptr(ans, len, names, 4, NULL);
		o += (size_t)snprintf(out, cap, "n=%d", n);
		for (int i = 0; i < n && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, " %s", names[i]);
	}
}

/* cb - one query finished */
static void cb(void *arg, enum dns_status st, const unsigned char *ans, int len)
{
	struct job *j = arg;
	char data[512] = "", ad[16] = "";

	if (in_query) {
		fprintf(stderr, "%s: callback inside resolver_query\n", j->spec);
		broken = 1;
	}
	if (++j->calls > 1) {
		fprintf(stderr, "%s: callback ran twice\n", j->spec);
		broken = 1;
		return;
	}
	j->ms = elapsed_ms();
	if (st == DNS_OK)
		describe(j, ans, len, data, sizeof(data));
	if (show_ad)
		snprintf(ad, sizeof ad, " ad=%d", dns_parse_ad(ans, len));
	snprintf(j->line, sizeof(j->line), "%.300s %s ms=%ld %s%s", j->spec, dns_status_name(st), j->ms, data, ad);
}

/* parse_type - "mx" to ns_t_mx; 0 for mx-check, -1 when unknown */
static int parse_type(const char *t, size_t n)
{
	static const struct { const char *name; int type; } types[] = {
		{ "a", ns_t_a }, { "aaaa", ns_t_aaaa }, { "mx", ns_t_mx }, { "txt", ns_t_txt },
		{ "ptr", ns_t_ptr }, { "cname", ns_t_cname }, { "mx-check", 0 },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == n && strncasecmp(t, types[i].name, n) == 0)
			return types[i].type;
	return -1;
}

/* ask_again - the plain queries once more on the same resolver, optionally after resolver_forget */
static void ask_again(struct resolver *r, struct job *jobs, int njobs, bool forget)
{
	if (forget)
		resolver_forget(r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (j->type == 0)
			continue;
		j->calls = 0;
		in_query = 1;
		if (resolver_query(r, j->name, j->type, cb, j) < 0) {
			snprintf(j->line, sizeof(j->line), "%s not-started", j->spec);
			j->calls = 1;
		}
		in_query = 0;
	}
	resolver_wait(r, NULL, NULL);
	for (int i = 0; i < njobs; i++) {
		if (jobs[i].type == 0)
			continue;
		if (jobs[i].calls != 1) {
			fprintf(stderr, "%s: callback never ran (again)\n", jobs[i].spec);
			broken = 1;
		}
		printf("again:%s\n", jobs[i].line);
	}
}

/* main - start every query at once, drive them, print the outcomes */
int main(int argc, char **argv)
{
	struct resolver_options o = { NULL, 0, 0 };
	struct mx_options mo = { .bogus = NULL, .max_targets = 10 };
	struct netlist *bogus;
	long deadline = -1;
	int opt, mode = 0, again = 0, njobs;
	struct job *jobs;
	char err[256];

	while ((opt = getopt(argc, argv, "d:t:n:acfp2F")) != -1) {
		switch (opt) {
		case 'd': deadline = atol(optarg); break;
		case 't': o.try_timeout_ms = (unsigned)atol(optarg); break;
		case 'n': o.tries = (unsigned)atol(optarg); break;
		case 'a': show_ad = 1; break;
		case 'c': case 'f': case 'p': mode = opt; break;
		case '2': case 'F': again = opt; break;
		default: return 2;
		}
	}
	if (argc - optind < 2 || (again && mode)) {
		fprintf(stderr, "usage: resolve [-d MS] [-t MS] [-n N] [-a] [-c|-f|-p] [-2|-F] SERVERS QUERY...\n");
		return 2;
	}
	o.servers = argv[optind++];
	njobs = argc - optind;
	jobs = calloc((size_t)njobs, sizeof(*jobs));
	/* the zones use the documentation ranges for the Internet (tests/unit/test_bogus.h) */
	mo.bogus = bogus = test_bogus_netlist();
	if (!jobs || !bogus || resolver_library_init() != 0) {
		fprintf(stderr, "out of memory\n");
		return 2;
	}
	struct resolver *r = resolver_new(&o, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "resolver_new: %s\n", err);
		netlist_free(bogus);
		free(jobs);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (deadline >= 0) {
		struct timespec d = t0;
		d.tv_sec += deadline / 1000;
		d.tv_nsec += (deadline % 1000) * 1000000;
		if (d.tv_nsec >= 1000000000) {
			d.tv_sec++;
			d.tv_nsec -= 1000000000;
		}
		resolver_set_deadline(r, &d);
	}
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		const char *colon = strchr(argv[optind + i], ':');
		j->spec = argv[optind + i];
		if (!colon || (j->type = parse_type(j->spec, (size_t)(colon - j->spec))) < 0) {
			fprintf(stderr, "bad query %s\n", j->spec);
			return 2;
		}
		j->name = colon + 1;
		in_query = 1;
		if (j->type == 0) {
			j->mx = calloc(1, sizeof(*j->mx));
			if (!j->mx)
				return 2;
			mx_check_start(j->mx, r, j->name, &mo);
		} else if (resolver_query(r, j->name, j->type, cb, j) < 0) {
			snprintf(j->line, sizeof(j->line), "%s not-started", j->spec);
			j->calls = 1;
		}
		in_query = 0;
	}
	if (mode == 'c') {
		resolver_cancel_all(r);
	} else if (mode == 'f') {
		resolver_free(r);
		r = NULL;
	} else if (mode == 'p') {
		for (int k = 0; k < 2000 && resolver_pending(r) > 0; k++) {
			resolver_poll(r);
			usleep(10000);
		}
	} else {
		resolver_wait(r, NULL, NULL);
	}
	long end = elapsed_ms();
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		if (j->mx) {
			printf("%s %s ms=%ld %s\n", j->spec, facts_mx_name(j->mx->result), end, j->mx->detail);
			mx_check_release(j->mx);
			free(j->mx);
			continue;
		}
		if (j->calls != 1) {
			fprintf(stderr, "%s: callback never ran\n", j->spec);
			broken = 1;
		}
		printf("%s\n", j->line);
	}
	if (again)
		ask_again(r, jobs, njobs, again == 'F');
	printf("pending=%u\n", resolver_pending(r));
	resolver_free(r);
	netlist_free(bogus);
	free(jobs);
	resolver_library_cleanup();
	return broken ? 3 : 0;
}
