/*
 * test_dnssec.c - policy/dnssec.c (the mx_dnssec fact) against canned DNS
 * (tests/unit/fake_resolver.c, AD set with fake_dns_ad), the trust rule
 * (dnssec_ad_trusted), and the check's row through the orchestrator with
 * real configuration text and rules.
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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/config.h"
#include "policy/checks.h"
#include "policy/dnssec.h"
#include "tests/unit/checks_fixture.h"
#include "tests/unit/fake_resolver.h"
#include "tests/unit/test_bogus.h"

#define A    ns_t_a
#define AAAA ns_t_aaaa
#define MX   ns_t_mx

static struct resolver *res;
static struct dnssec_options opts;
static struct dnssec_check chk;

static int setup(void **state)
{
	char err[128];
	(void)state;
	fake_dns_reset();
	memset(&chk, 0, sizeof chk);
	res = resolver_new(NULL, err, sizeof err);
	opts.max_targets = 10;
	opts.untrusted = NULL;
	return res ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dnssec_check_abandon(&chk);
	resolver_free(res);
	fake_dns_reset();
	return 0;
}

/* add - register a canned answer, with AD when ad; fail the test otherwise */
static void add(const char *name, int type, enum dns_status st, const char *spec, bool ad)
{
	assert_int_equal(fake_dns_add(name, type, st, spec), 0);
	if (ad)
		assert_int_equal(fake_dns_ad(name, type, true), 0);
}

/* run - check domain to the end; returns the result */
static enum mx_dnssec_result run(const char *domain)
{
	dnssec_check_abandon(&chk);      /* dnssec.h: before reusing the memory of a check */
	dnssec_check_start(&chk, res, domain, &opts);
	assert_true(resolver_wait(res, dnssec_check_done, &chk));
	assert_true(dnssec_check_done(&chk));
	return chk.result;
}

/* detail_has - the detail mentions s */
static void detail_has(const char *s)
{
	if (!strstr(chk.detail, s))
		fail_msg("detail \"%s\" lacks \"%s\"", chk.detail, s);
}

/* two_exchanges - good.example: MX 10 mx1, 20 mx2, every address answer with AD */
static void two_exchanges(void)
{
	add("good.example", MX, DNS_OK, "MX 10 mx1.good.example; MX 20 mx2.good.example", true);
	add("mx1.good.example", A, DNS_OK, "A 192.0.2.1", true);
	add("mx1.good.example", AAAA, DNS_NODATA, NULL, true);
	add("mx2.good.example", A, DNS_OK, "A 192.0.2.2", true);
	add("mx2.good.example", AAAA, DNS_OK, "AAAA 2001:db8::2", true);
}

static void secure_when_every_answer_has_ad(void **state)
{
	(void)state;
	two_exchanges();
	assert_int_equal(run("Good.Example."), MXD_SECURE);
	detail_has("2 exchanges");
	assert_int_equal(fake_dns_count("good.example", MX), 1);
	assert_int_equal(fake_dns_count(NULL, A), 2);
	assert_int_equal(fake_dns_count(NULL, AAAA), 2);
	struct facts f;
	memset(&f, 0, sizeof f);
	dnssec_check_facts(&chk, &f);
	assert_true(facts_known(&f, FID_mx_dnssec) && facts_known(&f, FID_mx_dnssec_detail));
	assert_string_equal(facts_mx_dnssec_name(f.mx_dnssec), "secure");
	assert_string_equal(f.mx_dnssec_detail, chk.detail);
}

static void insecure_mx_answer(void **state)
{
	(void)state;
	two_exchanges();
	assert_int_equal(fake_dns_ad("good.example", MX, false), 0);
	assert_int_equal(run("good.example"), MXD_INSECURE);
	detail_has("MX answer for good.example");
	assert_int_equal(fake_dns_total(), 1);   /* decided without the exchanges */
}

static void insecure_one_address_answer(void **state)
{
	(void)state;
	two_exchanges();
	assert_int_equal(fake_dns_ad("mx2.good.example", AAAA, false), 0);
	assert_int_equal(run("good.example"), MXD_INSECURE);
	detail_has("AAAA answer for mx2.good.example");
	/* an unauthenticated NODATA counts too */
	dnssec_check_abandon(&chk);
	two_exchanges();
	assert_int_equal(fake_dns_ad("mx1.good.example", AAAA, false), 0);
	assert_int_equal(run("good.example"), MXD_INSECURE);
	detail_has("AAAA answer for mx1.good.example");
}

static void implicit_mx(void **state)
{
	(void)state;
	add("plain.example", MX, DNS_NODATA, NULL, true);
	add("plain.example", A, DNS_OK, "A 192.0.2.9", true);
	add("plain.example", AAAA, DNS_NODATA, NULL, true);
	assert_int_equal(run("plain.example"), MXD_SECURE);
	detail_has("no MX");
	assert_int_equal(fake_dns_count("plain.example", A), 1);
	dnssec_check_abandon(&chk);
	assert_int_equal(fake_dns_ad("plain.example", A, false), 0);
	assert_int_equal(run("plain.example"), MXD_INSECURE);
	detail_has("A answer for plain.example");
	dnssec_check_abandon(&chk);
	assert_int_equal(fake_dns_ad("plain.example", MX, false), 0);
	assert_int_equal(run("plain.example"), MXD_INSECURE);
	detail_has("MX answer");
}

static void null_mx_and_nxdomain_alone(void **state)
{
	(void)state;
	add("null.example", MX, DNS_OK, "MX 0 .", true);
	assert_int_equal(run("null.example"), MXD_SECURE);
	detail_has("null MX");
	dnssec_check_abandon(&chk);
	add("nx.example", MX, DNS_NXDOMAIN, NULL, true);
	assert_int_equal(run("nx.example"), MXD_SECURE);
	detail_has("does not exist");
	assert_int_equal(fake_dns_total(), 2);   /* the MX answers alone */
	dnssec_check_abandon(&chk);
	add("nx.example", MX, DNS_NXDOMAIN, NULL, false);
	assert_int_equal(run("nx.example"), MXD_INSECURE);
	dnssec_check_abandon(&chk);
	add("null.example", MX, DNS_OK, "MX 0 .", false);
	assert_int_equal(run("null.example"), MXD_INSECURE);
}

static void failures_are_unverified(void **state)
{
	(void)state;
	add("sf.example", MX, DNS_SERVFAIL, NULL, false);
	assert_int_equal(run("sf.example"), MXD_UNVERIFIED);
	detail_has("MX lookup for sf.example failed: servfail");
	dnssec_check_abandon(&chk);
	fake_dns_reset();
	two_exchanges();
	add("mx2.good.example", A, DNS_TIMEOUT, NULL, false);
	assert_int_equal(run("good.example"), MXD_UNVERIFIED);
	detail_has("A mx2.good.example lookup failed: timeout");
	/* an answer without AD wins over a failed lookup */
	dnssec_check_abandon(&chk);
	assert_int_equal(fake_dns_ad("mx1.good.example", AAAA, false), 0);
	assert_int_equal(run("good.example"), MXD_INSECURE);
}

static void hostile_answers_are_unverified(void **state)
{
	/* header: QR RD RA AD, NOERROR, one question, one answer; then garbage */
	static const unsigned char bad[] = { 0, 1, 0x81, 0xa0, 0, 1, 0, 1, 0, 0, 0, 0,
					     3, 'b', 'a', 'd', 0xc0, 0xff };
	(void)state;
	assert_int_equal(fake_dns_add_raw("bad.example", MX, DNS_OK, bad, sizeof bad), 0);
	assert_int_equal(run("bad.example"), MXD_UNVERIFIED);
	detail_has("malformed MX answer");
	/* an OK answer without a packet has no AD to read */
	dnssec_check_abandon(&chk);
	assert_int_equal(fake_dns_add_raw("nopkt.example", MX, DNS_OK, NULL, 0), 0);
	assert_int_equal(run("nopkt.example"), MXD_INSECURE);
}

static void cname_chain_needs_ad_all_along(void **state)
{
	(void)state;
	add("alias.example", MX, DNS_OK, "MX 10 mx.alias.example", true);
	add("mx.alias.example", A, DNS_OK, "CNAME host.example", true);
	add("mx.alias.example", AAAA, DNS_NODATA, NULL, true);
	add("host.example", A, DNS_OK, "A 192.0.2.7", true);
	assert_int_equal(run("alias.example"), MXD_SECURE);
	dnssec_check_abandon(&chk);
	assert_int_equal(fake_dns_ad("mx.alias.example", A, false), 0);
	assert_int_equal(run("alias.example"), MXD_INSECURE);   /* the end had AD, the link did not */
	detail_has("A answer for mx.alias.example");
}

static void exchanges_not_looked_up_and_bounded(void **state)
{
	char spec[2048] = "", name[64];
	size_t n = 0;

	(void)state;
	add("odd.example", MX, DNS_OK, "MX 10 192.0.2.1; MX 20 localhost; MX 30 [192.0.2.3]", true);
	assert_int_equal(run("odd.example"), MXD_SECURE);
	assert_int_equal(fake_dns_total(), 1);   /* as the MX check: no lookup for those */
	dnssec_check_abandon(&chk);
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(spec + n, sizeof spec - n, "%sMX %d mx%d.many.example", i ? "; " : "", i, i);
	add("many.example", MX, DNS_OK, spec, true);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "mx%d.many.example", i);
		add(name, A, DNS_OK, "A 192.0.2.1", true);
		add(name, AAAA, DNS_NODATA, NULL, true);
	}
	opts.max_targets = 3;
	assert_int_equal(run("many.example"), MXD_SECURE);
	assert_int_equal(fake_dns_count(NULL, A), 3);
	assert_int_equal(fake_dns_count("mx2.many.example", AAAA), 1);
	assert_int_equal(fake_dns_count("mx3.many.example", A), 0);
	detail_has("3 exchanges");
}

static void untrusted_ad_asks_nothing(void **state)
{
	(void)state;
	two_exchanges();
	opts.untrusted = "resolver 192.0.2.53 is not loopback";
	assert_int_equal(run("good.example"), MXD_UNVERIFIED);
	detail_has("resolver 192.0.2.53 is not loopback");
	assert_int_equal(fake_dns_total(), 0);
}

static void skipped_like_the_mx_check(void **state)
{
	static const char *const senders[] = { "<>", "<a@[192.0.2.1]>", "<a@bad_domain.example>", "<a@-x.example>" };
	static const char *const why[] = { "null sender", "address literal", "invalid sender address", "invalid" };
	struct address a;

	(void)state;
	for (size_t i = 0; i < sizeof senders / sizeof senders[0]; i++) {
		address_parse(senders[i], &a);
		dnssec_check_for_sender(&chk, res, &a, &opts);
		assert_true(dnssec_check_done(&chk));
		assert_int_equal(chk.result, MXD_SKIPPED);
		detail_has(why[i]);
		dnssec_check_abandon(&chk);
	}
	assert_int_equal(fake_dns_total(), 0);
}

static void deadline_and_abandon(void **state)
{
	struct timespec past;

	(void)state;
	two_exchanges();
	assert_int_equal(fake_dns_hang("mx2.good.example", AAAA), 0);
	clock_gettime(CLOCK_MONOTONIC, &past);
	past.tv_sec += 3600;
	resolver_set_deadline(res, &past);
	dnssec_check_start(&chk, res, "good.example", &opts);
	resolver_poll(res);
	assert_false(dnssec_check_done(&chk));
	dnssec_check_abandon(&chk);                   /* late answers must not touch it */
	assert_true(dnssec_check_done(&chk));
	assert_int_equal(chk.result, MXD_UNVERIFIED);
	detail_has("abandoned");
	memset(&chk, 0xa5, sizeof chk);               /* "freed" */
	resolver_cancel_all(res);
	memset(&chk, 0, sizeof chk);
	/* the deadline passes with the AAAA still out: unverified, timeout */
	clock_gettime(CLOCK_MONOTONIC, &past);
	past.tv_nsec = 0;
	resolver_set_deadline(res, &past);
	assert_int_equal(run("good.example"), MXD_UNVERIFIED);
	detail_has("timeout");
}

static void trust_rule(void **state)
{
	static const struct { const char *servers; bool trust; bool want; const char *why; } cases[] = {
		{ NULL, false, false, "dns_servers is not set" },
		{ "", false, false, "dns_servers is not set" },
		{ NULL, true, true, "" },
		{ "127.0.0.1:53", false, true, "" },
		{ "127.0.0.1:53,[::1]:53,127.255.3.4:5353", false, true, "" },
		{ "[::ffff:127.0.0.1]:53", false, true, "" },
		{ "127.0.0.1:53,192.0.2.53:53", false, false, "resolver 192.0.2.53 is not loopback; set dns_trust_ad" },
		{ "[2001:db8::53]:53", false, false, "resolver 2001:db8::53 is not loopback" },
		{ "[::2]:53", false, false, "resolver ::2 is not loopback" },
		{ "128.0.0.1:53", false, false, "resolver 128.0.0.1 is not loopback" },
		{ "192.0.2.53:53", true, true, "" },
	};
	char why[200];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool got = dnssec_ad_trusted(cases[i].servers, cases[i].trust, why, sizeof why);
		if (got != cases[i].want || !strstr(why, cases[i].why))
			fail_msg("case %zu (%s): got %d \"%s\"", i, cases[i].servers ? cases[i].servers : "NULL",
				 got, why);
	}
}

/* --- the row through the orchestrator, with configuration text and rules --- */

static const char rules[] =
	"rule not-secure mx_dnssec != secure and mx = valid reject 550 5.7.1 \"%{mx_dnssec}: %{mx_dnssec_detail}\"\n"
	"default accept\n";

/* orchestrated - a message from sender under config text extra; the verdict's action */
static enum action orchestrated(const char *extra, const char *sender, struct verdict *v)
{
	char text[2048];

	snprintf(text, sizeof text, "trusted_networks = 10.1.0.0/16\nbogus_networks = " TEST_BOGUS_NETWORKS
		 "\n%s\n%s", extra, rules);
	checks_fixture_load(text);
	checks_fixture_envelope("192.0.2.1", sender, false);
	checks_set_rcpt(fx.ck, "<user@example.com>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
	assert_int_equal(checks_decide(fx.ck, v), CHECKS_DECIDED);
	return v->action;
}

static void row_secure_accepts(void **state)
{
	struct verdict v;

	(void)state;
	two_exchanges();
	assert_int_equal(orchestrated("dns_servers = 127.0.0.1:53, [::1]:5353", "<a@good.example>", &v), ACTION_ACCEPT);
	assert_int_equal(checks_facts(fx.ck)->mx_dnssec, MXD_SECURE);
	assert_true(checks_facts(fx.ck)->known & FBIT(mx_dnssec_detail));
}

static void row_insecure_rejects(void **state)
{
	struct verdict v;

	(void)state;
	two_exchanges();
	assert_int_equal(fake_dns_ad("mx1.good.example", A, false), 0);
	assert_int_equal(orchestrated("dns_servers = 127.0.0.1", "<a@good.example>", &v), ACTION_REJECT);
	assert_string_equal(v.rule_name, "not-secure");
	assert_int_equal(checks_facts(fx.ck)->mx_dnssec, MXD_INSECURE);
}

static void row_untrusted_resolver(void **state)
{
	struct verdict v;
	const struct facts *f;

	(void)state;
	two_exchanges();
	assert_int_equal(orchestrated("dns_servers = 127.0.0.1, 192.0.2.53", "<a@good.example>", &v), ACTION_REJECT);
	f = checks_facts(fx.ck);
	assert_int_equal(f->mx_dnssec, MXD_UNVERIFIED);
	if (!strstr(f->mx_dnssec_detail, "resolver 192.0.2.53 is not loopback; set dns_trust_ad"))
		fail_msg("detail: %s", f->mx_dnssec_detail);
	assert_int_equal(fake_dns_total(), 5);   /* the MX check's lookups only */
	checks_fixture_teardown(NULL);
	checks_fixture_setup(NULL);
	/* no dns_servers at all: the system resolver is not trusted either */
	two_exchanges();
	assert_int_equal(orchestrated("", "<a@good.example>", &v), ACTION_REJECT);
	assert_int_equal(checks_facts(fx.ck)->mx_dnssec, MXD_UNVERIFIED);
	checks_fixture_teardown(NULL);
	checks_fixture_setup(NULL);
	/* dns_trust_ad = yes believes it */
	two_exchanges();
	assert_int_equal(orchestrated("dns_servers = 192.0.2.53\ndns_trust_ad = yes", "<a@good.example>", &v),
			 ACTION_ACCEPT);
	assert_int_equal(checks_facts(fx.ck)->mx_dnssec, MXD_SECURE);
}

static void row_trusted_client_skipped(void **state)
{
	struct verdict v;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char text[1024];

	(void)state;
	snprintf(text, sizeof text, "trusted_networks = 10.1.0.0/16\ndns_servers = 127.0.0.1\n%s", rules);
	checks_fixture_load(text);
	assert_int_equal(inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr), 1);
	checks_set_client(fx.ck, (struct sockaddr *)&sin);
	checks_advance(fx.ck, CHECK_STAGE_CONNECT);
	checks_set_sender(fx.ck, "<a@good.example>", false);
	checks_advance(fx.ck, CHECK_STAGE_MAIL);
	checks_set_rcpt(fx.ck, "<user@example.com>");
	checks_advance(fx.ck, CHECK_STAGE_RCPT);
	assert_int_equal(checks_decide(fx.ck, &v), CHECKS_DECIDED);
	assert_int_equal(checks_facts(fx.ck)->mx_dnssec, MXD_SKIPPED);
	assert_int_equal(fake_dns_total(), 0);
}

static void config_setting(void **state)
{
	char err[256];
	struct config *c;

	(void)state;
	c = config_load_string("t.conf", "dns_trust_ad = yes\ndefault accept\n", err, sizeof err);
	assert_non_null(c);
	assert_true(c->dns_trust_ad);
	config_unref(c);
	c = config_load_string("t.conf", "default accept\n", err, sizeof err);
	assert_non_null(c);
	assert_false(c->dns_trust_ad);
	config_unref(c);
	c = config_load_string("t.conf", "dns_trust_ad = maybe\ndefault accept\n", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "dns_trust_ad: expected yes or no"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define O(f) cmocka_unit_test_setup_teardown(f, checks_fixture_setup, checks_fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(secure_when_every_answer_has_ad),
		T(insecure_mx_answer),
		T(insecure_one_address_answer),
		T(implicit_mx),
		T(null_mx_and_nxdomain_alone),
		T(failures_are_unverified),
		T(hostile_answers_are_unverified),
		T(cname_chain_needs_ad_all_along),
		T(exchanges_not_looked_up_and_bounded),
		T(untrusted_ad_asks_nothing),
		T(skipped_like_the_mx_check),
		T(deadline_and_abandon),
		cmocka_unit_test(trust_rule),
		O(row_secure_accepts),
		O(row_insecure_rejects),
		O(row_untrusted_resolver),
		O(row_trusted_client_skipped),
		cmocka_unit_test(config_setting),
	};
	return cmocka_run_group_tests_name("test_dnssec", tests, NULL, NULL);
}
