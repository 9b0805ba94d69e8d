/*
 * spf_driver.c - runs mxguard's own SPF path (policy/spf.c, the libspf2 DNS
 * layer, the real c-ares resolver) for the RFC 7208 conformance tier.
 *
 *   spf_driver [-t THREADS] SERVERS        e.g. spf_driver 127.0.0.1:5353
 *
 * Reads one check per line on stdin, tab-separated:
 *     CLIENT-IP <TAB> MAIL-FROM <TAB> HELO
 * (MAIL-FROM empty for the null sender) and answers one line per check:
 *     RESULT <TAB> EXPLANATION <TAB> REASON
 * Each check gets a fresh resolver on SERVERS with a short per-try timeout
 * and a 3 s deadline, so "never answers" costs little. The default
 * explanation is "DEFAULT", as in the suite's own driver (pyspf testspf.py).
 *
 * With -t N every check runs in N threads at once, each with its own
 * resolver, all on the one process-wide SPF context (as in the daemon);
 * they must all agree, else the answer is "mismatch".
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/resolver.h"
#include "policy/spf.h"

/* drv_addr - parse the client address into ss; 0 on success. */
static int drv_addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* drv_field - the next tab-separated field of *p (modifies the line). */
static char *drv_field(char **p)
{
	char *start = *p, *tab;

	if (!start)
		return "";
	tab = strchr(start, '\t');
	if (tab) {
		*tab = '\0';
		*p = tab + 1;
	} else {
		*p = NULL;
	}
	return start;
}

#define DRV_MAX_THREADS 16

struct drv_job {
	struct spf_context *ctx;
	const struct resolver_options *ropt;
	const struct sockaddr_storage *client;
	const char *from, *helo;
	struct spf_outcome out;
	char err[256];
	int failed;
};

/* drv_check - one check on its own resolver with a 3 s deadline (a thread body) */
static void *drv_check(void *arg)
{
	struct drv_job *j = arg;
	struct resolver *res = resolver_new(j->ropt, j->err, sizeof(j->err));
	struct timespec dl;

	if (!res) {
		j->failed = 1;
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 3;
	resolver_set_deadline(res, &dl);
	spf_check_mailfrom(j->ctx, res, (const struct sockaddr *)j->client, j->helo, j->from, &j->out);
	resolver_free(res);
	return NULL;
}

/* drv_clean - tabs and newlines out of a field we print. */
static void drv_clean(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			*s = ' ';
}

int main(int argc, char **argv)
{
	struct spf_options opt = { "DEFAULT", "receiver.example" };
	struct resolver_options ropt = { NULL, 250, 2 };
	struct drv_job jobs[DRV_MAX_THREADS];
	pthread_t tid[DRV_MAX_THREADS];
	struct spf_context *ctx;
	char line[4096], err[256];
	int threads = 1;

	if (argc == 4 && strcmp(argv[1], "-t") == 0) {
		threads = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || threads < 1 || threads > DRV_MAX_THREADS) {
		fprintf(stderr, "usage: spf_driver [-t THREADS] SERVERS\n");
		return 2;
	}
	ropt.servers = argv[1];
	if (resolver_library_init() != 0) {
		fprintf(stderr, "resolver_library_init failed\n");
		return 1;
	}
	ctx = spf_context_new(&opt, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "spf_context_new: %s\n", err);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *p = line, *ip, *from, *helo;
		struct sockaddr_storage ss;
		const char *verdict;
		int i;

		line[strcspn(line, "\n")] = '\0';
		ip = drv_field(&p);
		from = drv_field(&p);
		helo = drv_field(&p);
		if (drv_addr(ip, &ss) < 0) {
			printf("error\t\tbad client address\n");
			fflush(stdout);
			continue;
		}
		for (i = 0; i < threads; i++) {
			memset(&jobs[i], 0, sizeof(jobs[i]));
			jobs[i].ctx = ctx;
			jobs[i].ropt = &ropt;
			jobs[i].client = &ss;
			jobs[i].from = from;
			jobs[i].helo = helo;
			if (threads == 1)
				drv_check(&jobs[i]);
			else if (pthread_create(&tid[i], NULL, drv_check, &jobs[i]) != 0)
				return 1;
		}
		for (i = 0; threads > 1 && i < threads; i++)
			pthread_join(tid[i], NULL);
		verdict = facts_spf_name(jobs[0].out.result);
		for (i = 0; i < threads; i++)
			if (jobs[i].failed || jobs[i].out.result != jobs[0].out.result ||
			    strcmp(jobs[i].out.explanation, jobs[0].out.explanation) != 0)
				verdict = "mismatch";
		if (jobs[0].failed) {
			printf("error\t\t%s\n", jobs[0].err);
			fflush(stdout);
			continue;
		}
		drv_clean(jobs[0].out.explanation);
		drv_clean(jobs[0].out.reason);
		printf("%s\t%s\t%s\n", verdict, jobs[0].out.explanation, jobs[0].out.reason);
		fflush(stdout);
	}
	spf_context_free(ctx);
	resolver_library_cleanup();
	return 0;
}
