/*
 * spf_driver.c - runs mxguard's own SPF path (policy/spf.c, the libspf2 DNS
 * layer, the real c-ares resolver) for the RFC 7208 conformance tier.
 *
 *   spf_driver SERVERS        e.g. spf_driver 127.0.0.1:5353
 *
 * Reads one check per line on stdin, tab-separated:
 *     CLIENT-IP <TAB> MAIL-FROM <TAB> HELO
 * (MAIL-FROM empty for the null sender) and answers one line per check:
 *     RESULT <TAB> EXPLANATION <TAB> REASON
 * Each check gets a fresh resolver on SERVERS with a short per-try timeout
 * and a 3 s deadline, so "never answers" costs little. The default
 * explanation is "DEFAULT", as in the suite's own driver (pyspf testspf.py).
 */
#include <arpa/inet.h>
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
	struct spf_context *ctx;
	char line[4096], err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: spf_driver SERVERS\n");
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
		struct spf_outcome out;
		struct resolver *res;
		struct timespec dl;

		line[strcspn(line, "\n")] = '\0';
		ip = drv_field(&p);
		from = drv_field(&p);
		helo = drv_field(&p);
		res = resolver_new(&ropt, err, sizeof(err));
		if (!res || drv_addr(ip, &ss) < 0) {
			printf("error\t\t%s\n", res ? "bad client address" : err);
			fflush(stdout);
			resolver_free(res);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += 3;
		resolver_set_deadline(res, &dl);
		spf_check_mailfrom(ctx, res, (struct sockaddr *)&ss, helo, from, &out);
		drv_clean(out.explanation);
		drv_clean(out.reason);
		printf("%s\t%s\t%s\n", facts_spf_name(out.result), out.explanation, out.reason);
		fflush(stdout);
		resolver_free(res);
	}
	spf_context_free(ctx);
	resolver_library_cleanup();
	return 0;
}
