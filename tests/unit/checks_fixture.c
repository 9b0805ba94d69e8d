/*
 * checks_fixture.c - the shared cmocka fixture for tests of the check
 * orchestrator (see checks_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/config.h"
#include "policy/checks.h"
#include "policy/resolver.h"
#include "tests/unit/checks_fixture.h"
#include "tests/unit/fake_resolver.h"

struct checks_fixture fx;

/* checks_fixture_setup - cmocka setup: an empty fixture, fake DNS answering NXDOMAIN */
int checks_fixture_setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	return 0;
}

/* checks_fixture_teardown - cmocka teardown: free the fixture, reset the fake DNS */
int checks_fixture_teardown(void **state)
{
	(void)state;
	checks_free(fx.ck);
	resolver_free(fx.res);
	config_unref(fx.cfg);
	memset(&fx, 0, sizeof fx);
	fake_dns_reset();
	return 0;
}

/* checks_fixture_load - config from text, a resolver and checks on them; fails the test on error */
void checks_fixture_load(const char *text)
{
	char err[256];

	fx.cfg = config_load_string("test.conf", text, err, sizeof err);
	if (!fx.cfg)
		fail_msg("config: %s", err);
	fx.res = resolver_new(NULL, err, sizeof err);
	assert_non_null(fx.res);
	fx.ck = checks_new(fx.cfg, fx.res);
	assert_non_null(fx.ck);
}

/* checks_fixture_envelope - see checks_fixture.h */
void checks_fixture_envelope(const char *ip, const char *from, bool auth)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	checks_set_client(fx.ck, (struct sockaddr *)&sin);
	checks_advance(fx.ck, CHECK_STAGE_CONNECT);
	checks_set_helo(fx.ck, "client.example.net");
	checks_advance(fx.ck, CHECK_STAGE_HELO);
	checks_set_sender(fx.ck, from, auth);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_MAIL), 0);
}

/* checks_fixture_headers - see checks_fixture.h */
const char *checks_fixture_headers(const char *msg)
{
	const char *p = msg;

	while (!(p[0] == '\r' && p[1] == '\n')) {
		const char *colon = strchr(p, ':'), *e = p;
		char name[64], *value;

		for (;;) {
			e = strstr(e, "\r\n");
			if (e[2] != ' ' && e[2] != '\t')
				break;
			e += 2;
		}
		snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
		value = strndup(colon + 1, (size_t)(e - colon - 1));
		assert_non_null(value);
		checks_header(fx.ck, name, value);
		free(value);
		p = e + 2;
	}
	return p + 2;
}
