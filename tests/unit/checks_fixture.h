/*
 * checks_fixture.h - the cmocka fixture of the unit tests that drive the
 * check orchestrator (policy/checks.h) with real rules and the fake
 * resolver (tests/unit/fake_resolver.h): test_checks.c, test_dkim_checks.c.
 *
 * One fixture at a time (tests are single-threaded), in the global fx:
 *   checks_fixture_setup     cmocka setup: fx empty, fake DNS reset, names
 *                            nobody registered answer NXDOMAIN
 *   checks_fixture_load      fx.cfg from configuration text, a resolver and
 *                            a checks on them; fails the test on any error
 *   checks_fixture_envelope  the client, HELO and MAIL FROM of a message
 *   checks_fixture_headers   a message's header fields, as the milter hands them
 *   checks_fixture_teardown  cmocka teardown: free what load made, reset
 *                            the fake DNS
 */
#ifndef MXGUARD_TEST_CHECKS_FIXTURE_H
#define MXGUARD_TEST_CHECKS_FIXTURE_H

#include <stdbool.h>

struct config;
struct resolver;
struct checks;

struct checks_fixture {
	struct config *cfg;
	struct resolver *res;
	struct checks *ck;
};

extern struct checks_fixture fx;

/* checks_fixture_setup - cmocka setup: an empty fixture, fake DNS answering NXDOMAIN */
int checks_fixture_setup(void **state);

/* checks_fixture_teardown - cmocka teardown: free the fixture, reset the fake DNS */
int checks_fixture_teardown(void **state);

/* checks_fixture_load - config from text, a resolver and checks on them; fails the test on error */
void checks_fixture_load(const char *text);

/* checks_fixture_envelope - connect from ip (IPv4), HELO client.example.net, MAIL FROM from; advanced to MAIL */
void checks_fixture_envelope(const char *ip, const char *from, bool auth);

/*
 * checks_fixture_headers - every field of msg (CRLF, folded lines kept)
 * to checks_header, value exactly as after the colon; returns the body.
 */
const char *checks_fixture_headers(const char *msg);

#endif
