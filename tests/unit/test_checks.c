/*
 * test_checks.c - the check orchestrator (policy/checks.c) with real rules
 * (config_load_string) and canned DNS (tests/unit/fake_resolver.c): which
 * checks run, when a decision is made, skipped clients, deadlines, and the
 * From: header domain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf/config.h"
#include "tests/unit/fact_groups.h"
#include "policy/checks.h"
#include "policy/resolver.h"
#include "tests/unit/checks_fixture.h"
#include "tests/unit/test_bogus.h"
#include "tests/unit/fake_resolver.h"

static const char *const base_rules =
	"rule null-mx mx = nullmx reject 550 5.7.27 \"%{domain} null MX\"\n"
	"rule no-domain mx = nxdomain reject 550 5.1.8 \"no such domain\"\n"
	"rule bad mx = invalid reject 550 5.1.7 \"bad sender\"\n"
	"rule dns mx = temperror tempfail 451 4.4.3 \"try later\"\n"
	"default accept\n";

/* the shared fixture (fx, setup, teardown): tests/unit/checks_fixture.h */
#define setup checks_fixture_setup
#define teardown checks_fixture_teardown

/* load - a config from text plus the base rules; fails the test on error */
static void load(const char *extra, const char *rules)
{
	char text[4096];

	snprintf(text, sizeof text, "trusted_networks = 10.1.0.0/16\nbogus_networks = " TEST_BOGUS_NETWORKS
		 "\n%s\n%s", extra ? extra : "", rules ? rules : base_rules);
	checks_fixture_load(text);
}

/* envelope - connect from ip, HELO, MAIL FROM; advance to MAIL */
#define envelope checks_fixture_envelope

/* rcpt - one recipient and a decision at RCPT */
static enum checks_status rcpt(struct verdict *v)
{
	checks_set_rcpt(fx.ck, "<user@example.com>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
	return checks_decide(fx.ck, v);
}

static void test_null_mx_rejects(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, NULL);
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_mx, DNS_OK, "MX 0 ."), 0);
	envelope("192.0.2.1", "<a@NullMX.example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_REJECT);
	assert_string_equal(v.rule_name, "null-mx");
	assert_int_equal(checks_facts(fx.ck)->mx, MX_NULLMX);
	assert_string_equal(checks_facts(fx.ck)->sender_domain, "nullmx.example");
	assert_int_equal(fake_dns_count("nullmx.example", ns_t_mx), 1);
}

static void test_valid_accepts(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, NULL);
	assert_int_equal(fake_dns_add("good.example", ns_t_mx, DNS_OK, "MX 10 mx.good.example"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_a, DNS_OK, "A 192.0.2.25"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_aaaa, DNS_NODATA, NULL), 0);
	envelope("192.0.2.1", "<a@good.example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_string_equal(v.rule_name, "default");
	assert_int_equal(checks_facts(fx.ck)->mx, MX_VALID);
}

static void test_no_dns_when_no_rule_needs_mx(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, "rule h helo = bad.example reject\ndefault accept\n");
	envelope("192.0.2.1", "<a@nullmx.example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_int_equal(fake_dns_total(), 0);
	assert_false(checks_facts(fx.ck)->known & FACT_MX);
}

static void test_trusted_client_skips_everything(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, NULL);
	envelope("10.1.2.3", "<a@nullmx.example>", false);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_string_equal(v.rule_name, "trusted");
	assert_true(checks_facts(fx.ck)->trusted);
	assert_int_equal(checks_facts(fx.ck)->mx, MX_SKIPPED);
	assert_int_equal(fake_dns_total(), 0);
}

static void test_authenticated_skips_when_configured(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, NULL);
	envelope("192.0.2.1", "<a@nullmx.example>", true);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "authenticated");
	assert_int_equal(fake_dns_total(), 0);
}

static void test_authenticated_checked_when_not_skipped(void **state)
{
	struct verdict v;

	(void)state;
	load("skip_authenticated = no", NULL);
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_mx, DNS_OK, "MX 0 ."), 0);
	envelope("192.0.2.1", "<a@nullmx.example>", true);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "null-mx");
}

static void test_null_sender_is_skipped_without_dns(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, NULL);
	envelope("192.0.2.1", "<>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_int_equal(checks_facts(fx.ck)->mx, MX_SKIPPED);
	assert_string_equal(checks_facts(fx.ck)->sender, "");
	assert_int_equal(fake_dns_total(), 0);
}

static void test_invalid_sender_rejects_without_dns(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, NULL);
	envelope("192.0.2.1", "<a@bad..example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "bad");
	assert_int_equal(checks_facts(fx.ck)->mx, MX_INVALID);
	assert_int_equal(fake_dns_total(), 0);
}

static void test_deadline_gives_temperror(void **state)
{
	struct verdict v;

	(void)state;
	load("dns_timeout = 100ms\ndns_try_timeout = 50ms", NULL);
	assert_int_equal(fake_dns_hang("slow.example", ns_t_mx), 0);
	envelope("192.0.2.1", "<a@slow.example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_TEMPFAIL);
	assert_string_equal(v.rule_name, "dns");
	assert_int_equal(checks_facts(fx.ck)->mx, MX_TEMPERROR);
}

static void test_no_resolver_is_an_internal_error(void **state)
{
	struct verdict v;
	char err[256];

	(void)state;
	fx.cfg = config_load_string("t", base_rules, err, sizeof err);
	assert_non_null(fx.cfg);
	fx.ck = checks_new(fx.cfg, NULL);
	checks_set_sender(fx.ck, "<a@good.example>", false);
	/* the MX check cannot start: reported at once, and by every decision after */
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_MAIL), -1);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_ERROR);
	assert_string_not_equal(checks_error(fx.ck), "");
	assert_int_equal(v.action, ACTION_NONE);
}

static void test_rule_on_later_fact_waits(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, "rule f from_domain = evil.example reject\n"
		   "rule null-mx mx = nullmx reject\ndefault accept\n");
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_mx, DNS_OK, "MX 0 ."), 0);
	envelope("192.0.2.1", "<a@nullmx.example>", false);
	/* the first rule needs From:, so nothing after it may decide at RCPT */
	assert_int_equal(rcpt(&v), CHECKS_UNDECIDED);
	checks_header(fx.ck, "Subject", " hi");
	checks_header(fx.ck, "From", " \"Evil, Inc.\" <ceo@Evil.Example>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "f");
	assert_string_equal(checks_facts(fx.ck)->from_domain, "evil.example");
}

/* from_domain_of - parse one From: value in a fresh message */
static const char *from_domain_of(const char *value)
{
	checks_free(fx.ck);
	fx.ck = checks_new(fx.cfg, fx.res);
	checks_header(fx.ck, "From", value);
	return checks_facts(fx.ck)->from_domain;
}

static void test_from_header_forms(void **state)
{
	(void)state;
	load(NULL, NULL);
	assert_string_equal(from_domain_of(" a@Example.ORG"), "example.org");
	assert_string_equal(from_domain_of(" Name <a@example.org>"), "example.org");
	assert_string_equal(from_domain_of(" \"a@fake.example\" <b@real.example>"), "real.example");
	assert_string_equal(from_domain_of(" a@example.org (comment <x@y.example>)"), "example.org");
	assert_string_equal(from_domain_of(" list: a@example.org, b@example.org;"), "example.org");
	assert_string_equal(from_domain_of(" a@one.example, b@two.example"), "");
	assert_string_equal(from_domain_of(" no address here"), "");
	assert_string_equal(from_domain_of(" <a@bad..example>"), "");
	assert_string_equal(from_domain_of(" Name\r\n\t<a@folded.example>"), "folded.example");
	/* only the first From: counts */
	checks_header(fx.ck, "From", " x@second.example");
	assert_string_equal(checks_facts(fx.ck)->from_domain, "folded.example");
}

/* from_header_of - the from_header fact of a message with these From: values (NULL: fewer) */
static unsigned from_header_of(const char *first, const char *second)
{
	checks_free(fx.ck);
	fx.ck = checks_new(fx.cfg, fx.res);
	if (first)
		checks_header(fx.ck, "From", first);
	if (second)
		checks_header(fx.ck, "From", second);
	checks_header(fx.ck, "Subject", " x");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	assert_true(checks_facts(fx.ck)->known & FACT_HEADERS);
	return checks_facts(fx.ck)->from_header;
}

static void test_from_header_integrity(void **state)
{
	(void)state;
	load(NULL, NULL);
	assert_int_equal(from_header_of(" a@example.org", NULL), FROMH_SINGLE);
	assert_int_equal(from_header_of(" a@example.org, B@EXAMPLE.org", NULL), FROMH_SINGLE);
	assert_int_equal(from_header_of(NULL, NULL), FROMH_NONE);
	/* a bounce's From: without any address shows no domain */
	assert_int_equal(from_header_of(" <>", NULL), FROMH_NONE);
	assert_int_equal(from_header_of(" Mail Delivery Subsystem <MAILER-DAEMON>", NULL), FROMH_NONE);
	/* an "@" we cannot read an address from might show a domain: invalid */
	assert_int_equal(from_header_of(" ceo@bank.example <>", NULL), FROMH_INVALID);
	assert_int_equal(from_header_of(" <a@bad..example>", NULL), FROMH_INVALID);
	assert_int_equal(from_header_of(" a@one.example, b@two.example", NULL), FROMH_MULTI_DOMAIN);
	assert_int_equal(from_header_of(" a@one.example", " a@one.example"), FROMH_MULTIPLE);
	assert_int_equal(from_header_of(" a@one.example", " <>"), FROMH_MULTIPLE);
	assert_string_equal(checks_facts(fx.ck)->from_domain, "one.example");
}

static void test_global_dry_run_marks_verdict(void **state)
{
	struct verdict v;

	(void)state;
	load("dry_run = yes", NULL);
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_mx, DNS_OK, "MX 0 ."), 0);
	envelope("192.0.2.1", "<a@nullmx.example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_REJECT);
	assert_true(v.dry_run);
}

static void test_spf_fail_rejects(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, "rule null-mx mx = nullmx reject\n"
		   "rule spf-fail spf = fail reject 550 5.7.23 \"SPF fail for %{domain}\"\n"
		   "default accept\n");
	assert_int_equal(fake_dns_add("good.example", ns_t_mx, DNS_OK, "MX 10 mx.good.example"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_a, DNS_OK, "A 192.0.2.25"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_aaaa, DNS_NODATA, NULL), 0);
	assert_int_equal(fake_dns_add("good.example", ns_t_txt, DNS_OK,
				      "TXT \"v=spf1 ip4:192.0.2.25 -all\""), 0);
	envelope("192.0.2.99", "<a@good.example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "spf-fail");
	assert_int_equal(checks_facts(fx.ck)->spf, SPFR_FAIL);
	assert_int_equal(checks_facts(fx.ck)->mx, MX_VALID);
	assert_false(checks_facts(fx.ck)->known & FACT_HELO_SPF);
}

static void test_spf_pass_and_helo_spf(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, "rule h helo_spf = fail reject\nrule s spf != pass tempfail\ndefault accept\n");
	assert_int_equal(fake_dns_add("good.example", ns_t_txt, DNS_OK,
				      "TXT \"v=spf1 ip4:192.0.2.0/24 -all\""), 0);
	assert_int_equal(fake_dns_add("client.example.net", ns_t_txt, DNS_OK,
				      "TXT \"v=spf1 ip4:192.0.2.1 -all\""), 0);
	envelope("192.0.2.1", "<a@good.example>", false);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "default");
	assert_int_equal(checks_facts(fx.ck)->spf, SPFR_PASS);
	assert_int_equal(checks_facts(fx.ck)->helo_spf, SPFR_PASS);
	/* no rule on mx: no MX lookup */
	assert_int_equal(fake_dns_count("good.example", ns_t_mx), 0);
}

static void test_spf_not_run_when_decided_before(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, "rule null-mx mx = nullmx reject\nrule s spf = fail reject\ndefault accept\n");
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_mx, DNS_OK, "MX 0 ."), 0);
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_txt, DNS_OK, "TXT \"v=spf1 -all\""), 0);
	envelope("192.0.2.1", "<a@nullmx.example>", false);
	checks_set_rcpt(fx.ck, "<user@example.com>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
	/* the MX answer is in before anyone asks: null-mx decides, SPF never runs */
	resolver_wait(fx.res, NULL, NULL);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "null-mx");
	assert_int_equal(fake_dns_count("nullmx.example", ns_t_txt), 0);
}

static void test_settle_survives_a_slow_client(void **state)
{
	struct timespec pause = { 0, 150 * 1000000L };
	struct verdict v;

	(void)state;
	load("dns_timeout = 100ms\ndns_try_timeout = 50ms", NULL);
	assert_int_equal(fake_dns_add("good.example", ns_t_mx, DNS_OK, "MX 10 mx.good.example"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_a, DNS_OK, "A 192.0.2.25"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_aaaa, DNS_NODATA, NULL), 0);
	envelope("192.0.2.1", "<a@good.example>", false);
	checks_settle(fx.ck);
	assert_true(checks_facts(fx.ck)->known & FACT_MX);
	/* the client takes longer than dns_timeout to send RCPT */
	nanosleep(&pause, NULL);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_int_equal(checks_facts(fx.ck)->mx, MX_VALID);
	assert_int_equal(v.action, ACTION_ACCEPT);
}

/* a recipient refused by a rule on rcpt_domain is taken back: end of message judges the kept ones */
static void test_refused_rcpt_not_judged_at_eom(void **state)
{
	static const char *const rules =
		"rule closed rcpt_domain = closed.example reject 550 5.1.1 \"closed\"\n"
		"default accept\n";
	struct verdict v;

	(void)state;
	load(NULL, rules);
	envelope("192.0.2.1", "<a@good.example>", false);
	checks_set_rcpt(fx.ck, "<u@open.example>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	checks_set_rcpt(fx.ck, "<x@Closed.example>");
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_REJECT);
	assert_string_equal(v.rule_name, "closed");
	checks_rcpt_refused(fx.ck);
	assert_string_equal(checks_facts(fx.ck)->rcpt_domain, "open.example");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
	assert_string_equal(v.rule_name, "default");
}

/* the only recipient refused: the rcpt facts are unknown again */
static void test_refused_only_rcpt_is_unknown(void **state)
{
	static const char *const rules =
		"rule closed rcpt_domain = closed.example reject 550 5.1.1 \"closed\"\n"
		"default accept\n";
	struct verdict v;

	(void)state;
	load(NULL, rules);
	envelope("192.0.2.1", "<a@good.example>", false);
	checks_set_rcpt(fx.ck, "<x@closed.example>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_REJECT);
	checks_rcpt_refused(fx.ck);
	assert_false(checks_facts(fx.ck)->known & FACT_RCPT);
	assert_string_equal(checks_facts(fx.ck)->rcpt_domain, "");
	checks_set_rcpt(fx.ck, "<y@open.example>");
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(v.action, ACTION_ACCEPT);
}

static void test_settle_runs_spf_alongside_mx(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, "rule null-mx mx = nullmx reject\nrule s spf = fail reject\ndefault accept\n");
	assert_int_equal(fake_dns_add("good.example", ns_t_mx, DNS_OK, "MX 10 mx.good.example"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_a, DNS_OK, "A 192.0.2.25"), 0);
	assert_int_equal(fake_dns_add("mx.good.example", ns_t_aaaa, DNS_NODATA, NULL), 0);
	assert_int_equal(fake_dns_add("good.example", ns_t_txt, DNS_OK,
				      "TXT \"v=spf1 ip4:192.0.2.0/24 -all\""), 0);
	envelope("192.0.2.1", "<a@good.example>", false);
	/* MAIL FROM with the decision at RCPT: SPF runs now, not after the MX chain at RCPT */
	checks_settle(fx.ck);
	assert_true(checks_facts(fx.ck)->known & FACT_SPF);
	assert_int_equal(checks_facts(fx.ck)->spf, SPFR_PASS);
	assert_true(checks_facts(fx.ck)->known & FACT_MX);
	assert_int_equal(checks_facts(fx.ck)->mx, MX_VALID);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "default");
	assert_int_equal(fake_dns_count("good.example", ns_t_txt), 1);
}

static void test_settle_does_not_run_spf_nobody_needs(void **state)
{
	struct verdict v;

	(void)state;
	load(NULL, "rule null-mx mx = nullmx reject\nrule s spf = fail reject\ndefault accept\n");
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_mx, DNS_OK, "MX 0 ."), 0);
	assert_int_equal(fake_dns_add("nullmx.example", ns_t_txt, DNS_OK, "TXT \"v=spf1 -all\""), 0);
	envelope("192.0.2.1", "<a@nullmx.example>", false);
	/* the MX answer is in when MAIL FROM settles: null-mx will decide, SPF is not run */
	resolver_wait(fx.res, NULL, NULL);
	checks_settle(fx.ck);
	assert_false(checks_facts(fx.ck)->known & FACT_SPF);
	assert_int_equal(rcpt(&v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "null-mx");
	assert_int_equal(fake_dns_count("nullmx.example", ns_t_txt), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_null_mx_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_accepts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dns_when_no_rule_needs_mx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_client_skips_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authenticated_skips_when_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authenticated_checked_when_not_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sender_is_skipped_without_dns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_sender_rejects_without_dns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_gives_temperror, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_resolver_is_an_internal_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_on_later_fact_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_header_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_header_integrity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_dry_run_marks_verdict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spf_fail_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spf_pass_and_helo_spf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spf_not_run_when_decided_before, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settle_survives_a_slow_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_rcpt_not_judged_at_eom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_only_rcpt_is_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settle_runs_spf_alongside_mx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settle_does_not_run_spf_nobody_needs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
