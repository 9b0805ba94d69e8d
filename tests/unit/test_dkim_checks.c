/*
 * test_dkim_checks.c - the dkim row in the check orchestrator
 * (policy/checks_dkim.c through policy/checks.h): it starts only when a
 * rule needs dkim, sees every header, never finishes before end of
 * message, and its results reach the rules and Authentication-Results.
 * Messages signed by dkimpy (dkim_fixtures.h), keys from the fake resolver.
 */

/* system */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "conf/config.h"
#include "tests/unit/fact_groups.h"
#include "policy/checks.h"
#include "policy/resolver.h"
#include "tests/unit/dkim_fixtures.h"
#include "tests/unit/checks_fixture.h"
#include "tests/unit/dkim_test_util.h"
#include "tests/unit/fake_resolver.h"

static const char *const dkim_rules =
	"authserv_id = mx.test\n"
	"rule dkim-fail dkim = fail reject 550 5.7.20 \"DKIM failed\"\n"
	"rule dkim-temp dkim = temperror tempfail 451 4.7.5 \"DKIM later\"\n"
	"default accept\n";

/* the shared fixture (fx, setup, teardown): tests/unit/checks_fixture.h */
#define setup checks_fixture_setup
#define teardown checks_fixture_teardown

static int teardown_group(void **state)
{
	(void)state;
	checks_library_free();
	return 0;
}

/* ar_count - how often needle occurs in the Authentication-Results header the message would get */
static size_t ar_count(const char *needle)
{
	struct checks_hdr hdrs[CHECKS_HDR_MAX];
	size_t count = 0;
	int nh = checks_result_headers(fx.ck, hdrs);

	assert_true(nh >= 1);
	for (const char *p = hdrs[0].value; (p = strstr(p, needle)) != NULL; p++)
		count++;
	checks_result_headers_free(hdrs, nh);
	return count;
}

/* load - config from rules; fails the test on error */
static void load(const char *rules)
{
	char text[2048];

	snprintf(text, sizeof text, "trusted_networks = 10.1.0.0/16\n%s", rules);
	checks_fixture_load(text);
}

/* envelope - connect from ip, HELO, MAIL FROM, RCPT; returns the RCPT-stage status. */
static enum checks_status envelope(const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct verdict v;

	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	checks_set_client(fx.ck, (struct sockaddr *)&sin);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_CONNECT), 0);
	checks_set_helo(fx.ck, "mail.example.com");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HELO), 0);
	checks_set_sender(fx.ck, "<alice@mail.example.com>", false);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_MAIL), 0);
	checks_set_rcpt(fx.ck, "<bob@example.net>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
	return checks_decide(fx.ck, &v);
}

/* headers - every field of msg (checks_fixture.h); returns the body. */
#define headers checks_fixture_headers

/* message - headers, end of headers (must stay undecided), body, end of message; the verdict. */
static enum checks_status message(const char *msg, struct verdict *v)
{
	const char *body = headers(msg);

	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	/* a DKIM rule cannot decide before the body: no verdict, and dkim not cut short */
	assert_int_equal(checks_decide(fx.ck, v), CHECKS_UNDECIDED);
	assert_false(checks_facts(fx.ck)->known & FACT_DKIM);
	assert_true(checks_wants_body(fx.ck));
	checks_body(fx.ck, (const unsigned char *)body, strlen(body));
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	return checks_decide(fx.ck, v);
}

static void test_pass_accepts(void **state)
{
	struct verdict v;

	(void)state;
	load(dkim_rules);
	dkt_add_key(K2048, KEY_RSA2048);
	assert_int_equal(envelope("192.0.2.1"), CHECKS_UNDECIDED);
	assert_int_equal(fake_dns_total(), 0);
	assert_int_equal(message(FX_RSA2048_RELAXED, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_int_equal(checks_facts(fx.ck)->dkim, DKIMR_PASS);
	assert_true(checks_facts(fx.ck)->dkim_aligned);
	assert_string_equal(checks_facts(fx.ck)->from_domain, "mail.example.com");
	/* one signature reported, with its selector */
	assert_int_equal(ar_count("dkim="), 1);
	assert_int_equal(ar_count("header.s=sel2048"), 1);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
}

static void test_simple_canonicalization_gets_exact_headers(void **state)
{
	struct verdict v;

	(void)state;
	load(dkim_rules);
	dkt_add_key("sel1024._domainkey.example.com", KEY_RSA1024);
	assert_int_equal(envelope("192.0.2.1"), CHECKS_UNDECIDED);
	assert_int_equal(message(FX_RSA1024_SIMPLE, &v), CHECKS_DECIDED);
	assert_int_equal(checks_facts(fx.ck)->dkim, DKIMR_PASS);
}

static void test_fail_rejects(void **state)
{
	struct verdict v;
	char *msg = strdup(FX_RSA2048_RELAXED);

	(void)state;
	assert_non_null(msg);
	memcpy(strstr(msg, "Body line one"), "Body line 0ne", 13);
	load(dkim_rules);
	dkt_add_key(K2048, KEY_RSA2048);
	assert_int_equal(envelope("192.0.2.1"), CHECKS_UNDECIDED);
	assert_int_equal(message(msg, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_REJECT);
	assert_string_equal(v.rule_name, "dkim-fail");
	free(msg);
}

static void test_servfail_tempfails(void **state)
{
	struct verdict v;

	(void)state;
	load(dkim_rules);
	assert_int_equal(fake_dns_add(K2048, ns_t_txt, DNS_SERVFAIL, NULL), 0);
	assert_int_equal(envelope("192.0.2.1"), CHECKS_UNDECIDED);
	assert_int_equal(message(FX_RSA2048_RELAXED, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_TEMPFAIL);
	assert_string_equal(v.rule_name, "dkim-temp");
}

/* test_key_that_never_answers - the message deadline makes it temperror at end of message. */
static void test_key_that_never_answers(void **state)
{
	struct verdict v;

	(void)state;
	load(dkim_rules);
	assert_int_equal(fake_dns_hang(K2048, ns_t_txt), 0);
	assert_int_equal(envelope("192.0.2.1"), CHECKS_UNDECIDED);
	assert_int_equal(message(FX_RSA2048_RELAXED, &v), CHECKS_DECIDED);
	assert_int_equal(checks_facts(fx.ck)->dkim, DKIMR_TEMPERROR);
	assert_int_equal(v.action, ACTION_TEMPFAIL);
}

/* test_not_needed_not_run - no rule on dkim: no verifier, no key query, body skipped. */
static void test_not_needed_not_run(void **state)
{
	struct verdict v;

	(void)state;
	load("rule x mx = nullmx reject\ndefault accept\n");
	dkt_add_key(K2048, KEY_RSA2048);
	fake_dns_default(DNS_NODATA);
	(void)envelope("192.0.2.1");
	(void)headers(FX_RSA2048_RELAXED);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	assert_false(checks_wants_body(fx.ck));
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 0);
	assert_false(checks_facts(fx.ck)->known & FACT_DKIM);
	assert_int_equal(ar_count("dkim="), 0);
}

static void test_trusted_client_skipped(void **state)
{
	struct verdict v;

	(void)state;
	load(dkim_rules);
	dkt_add_key(K2048, KEY_RSA2048);
	assert_int_equal(envelope("10.1.2.3"), CHECKS_DECIDED);
	(void)headers(FX_RSA2048_RELAXED);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "trusted");
	assert_int_equal(checks_facts(fx.ck)->dkim, DKIMR_SKIPPED);
	assert_int_equal(fake_dns_total(), 0);
}

/* dkim_verify = always: no rule needs dkim, yet it is verified for the headers */
static void test_verify_always_reports(void **state)
{
	struct checks_hdr hdrs[CHECKS_HDR_MAX];
	struct verdict v;
	const char *body;
	int nh;

	(void)state;
	load("dkim_verify = always\nauthserv_id = mx.test\nrule x mx = nullmx reject\ndefault accept\n");
	dkt_add_key(K2048, KEY_RSA2048);
	assert_int_equal(envelope("192.0.2.1"), CHECKS_DECIDED);
	body = headers(FX_RSA2048_RELAXED);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	assert_true(checks_wants_body(fx.ck));
	checks_body(fx.ck, (const unsigned char *)body, strlen(body));
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_string_equal(v.rule_name, "default");
	assert_int_equal(checks_facts(fx.ck)->dkim, DKIMR_PASS);
	assert_true(checks_facts(fx.ck)->dkim_aligned);
	assert_int_equal(ar_count("dkim="), 1);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
	nh = checks_result_headers(fx.ck, hdrs);
	assert_true(nh >= 1);
	assert_non_null(strstr(hdrs[0].value, "dkim=pass"));
	assert_non_null(strstr(hdrs[0].value, "header.s=sel2048"));
	checks_result_headers_free(hdrs, nh);
}

/* dkim_verify = always with a key that never answers: accepted at the deadline, dkim temperror */
static void test_verify_always_deadline(void **state)
{
	struct verdict v;
	const char *body;

	(void)state;
	load("dkim_verify = always\nrule x mx = nullmx reject\ndefault accept\n");
	assert_int_equal(fake_dns_hang(K2048, ns_t_txt), 0);
	assert_int_equal(envelope("192.0.2.1"), CHECKS_DECIDED);
	body = headers(FX_RSA2048_RELAXED);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	checks_body(fx.ck, (const unsigned char *)body, strlen(body));
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_int_equal(checks_facts(fx.ck)->dkim, DKIMR_TEMPERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pass_accepts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simple_canonicalization_gets_exact_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_servfail_tempfails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_that_never_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_needed_not_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_client_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_always_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_always_deadline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_group);
}
