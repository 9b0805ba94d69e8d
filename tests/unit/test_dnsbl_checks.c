/*
 * test_dnsbl_checks.c - DNS blocklists as rules see them: the dnsbl
 * directive, the facts dnsbl.LIST and dnsbl_detail.LIST, and the rows that
 * ask the lists once their targets are known (policy/checks_dnsbl.c),
 * on the fake resolver.
 */
/* system */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "conf/config.h"
#include "policy/checks.h"
#include "tests/unit/checks_fixture.h"
#include "tests/unit/fake_resolver.h"
#include "tests/unit/test_bogus.h"

#define setup checks_fixture_setup
#define teardown checks_fixture_teardown

static char err[1024];

/* expect_error - text must fail to load with exactly msg */
static void expect_error(const char *text, const char *msg)
{
	struct config *c = config_load_string("t.conf", text, err, sizeof err);

	if (c || strcmp(err, msg) != 0)
		fail_msg("config:\n%s\nexpected error: %s\ngot: %s", text, msg, c ? "(loaded)" : err);
}

/* unknown_zen - the message for an undeclared list: every fact a rule can test, from the table */
static const char *unknown_zen(void)
{
	static char msg[2048];
	size_t n = (size_t)snprintf(msg, sizeof msg, "t.conf:1: rule z: unknown fact \"dnsbl.zen\" (known: ");

	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char buf[64];
		const char *label = facts_label((enum fact_id)i, buf, sizeof buf);

		if (label && fact_table[i].kind != FACT_KIND_TEXT)
			n += (size_t)snprintf(msg + n, sizeof msg - n, "%s, ", label);
	}
	snprintf(msg + n - 2, sizeof msg - n + 2, ")");
	return msg;
}

static void test_directive(void **state)
{
	struct config *c;

	(void)state;
	c = config_load_string("t.conf",
			       "dnsbl zen zen.test 127.0.0.[2..11] client_ip\n"
			       "dnsbl dbl dbl.test 127.0.1.[2..99] sender_domain, mx_host, ns_host\n"
			       "dnsbl sbl sbl.test mx_addr ns_addr\n"
			       "rule z dnsbl.zen = listed reject 550 5.7.1 \"%{dnsbl_detail.zen}\"\n",
			       err, sizeof err);
	if (!c)
		fail_msg("%s", err);
	assert_int_equal(c->ndnsbl, 3);
	assert_string_equal(c->list_name[0], "zen");
	assert_string_equal(c->list_name[2], "sbl");
	assert_null(c->list_name[3]);
	assert_int_equal(c->dnsbl[1].targets, FBIT(sender_domain) | FBIT(mx_host) | FBIT(ns_host));
	assert_int_equal(c->dnsbl[2].targets, FBIT(mx_addr) | FBIT(ns_addr));
	config_unref(c);

	expect_error("dnsbl zen zen.test\n", "t.conf:1: dnsbl: expected dnsbl NAME ZONE [FILTER] TARGET, ...");
	expect_error("dnsbl Zen zen.test client_ip\n", "t.conf:1: dnsbl: the name must be 1-32 of a-z 0-9 _ -, got \"Zen\"");
	expect_error("dnsbl zen zen.test client_ip\ndnsbl zen other.test client_ip\n",
		     "t.conf:2: dnsbl zen: already declared on line 1");
	expect_error("dnsbl zen zen.test sender\n",
		     "t.conf:1: dnsbl zen: \"sender\" is not something a list can look up (client_ip, helo, "
		     "sender_domain, from_domain, mx_host, mx_addr, ns_host, ns_addr)");
	expect_error("dnsbl zen zen.test 127.0.0.256 client_ip\n",
		     "t.conf:1: dnsbl zen: bad octet 256 in 127.0.0.256");
	/* a rule names a list declared before it */
	expect_error("rule z dnsbl.zen = listed reject\n", unknown_zen());
	expect_error("dnsbl zen zen.test client_ip\nrule z dnsbl.zen = found reject\n",
		     "t.conf:2: rule z: dnsbl.zen has no value \"found\" (valid: listed, clean, unusable, temperror, skipped)");
	expect_error("dnsbl zen zen.test client_ip\nrule z dnsbl.zen = listed reject 550 5.7.1 \"%{dnsbl.zne}\"\n",
		     "t.conf:2: rule z: unknown macro %{dnsbl.zne} in reply text (did you mean dnsbl.zen?)");
	expect_error("dnsbl zen zen.test client_ip\nrule z dnsbl.zne = listed reject\n",
		     "t.conf:2: rule z: unknown fact \"dnsbl.zne\" (did you mean dnsbl.zen?)");
}

/* load - a config with lists and rules on them */
static void load(const char *lists_and_rules)
{
	char text[4096];

	snprintf(text, sizeof text, "trusted_networks = 10.1.0.0/16\nbogus_networks = " TEST_BOGUS_NETWORKS
		 "\ndns_timeout = 1s\n%s", lists_and_rules);
	checks_fixture_load(text);
}

/* rcpt_decision - the message's verdict at RCPT */
static enum checks_status rcpt_decision(const char *ip, const char *from, struct verdict *v)
{
	checks_fixture_envelope(ip, from, false);
	checks_set_rcpt(fx.ck, "<user@example.com>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
	return checks_decide(fx.ck, v);
}

static const char *const client_list =
	"dnsbl zen zen.test 127.0.0.[2..11] client_ip\n"
	"rule zen-temp dnsbl.zen in {temperror, unusable} tempfail 451 4.7.1 \"cannot check your address now\"\n"
	"rule zen dnsbl.zen = listed reject 550 5.7.1 \"%{dnsbl_detail.zen}\"\n"
	"default accept\n";

static void test_client_listed(void **state)
{
	struct verdict v;
	struct reply r;

	(void)state;
	load(client_list);
	assert_int_equal(fake_dns_add("9.2.0.192.zen.test", ns_t_a, DNS_OK, "A 127.0.0.4"), 0);
	assert_int_equal(rcpt_decision("192.0.2.9", "<a@good.example>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "zen");
	assert_int_equal(checks_facts(fx.ck)->dnsbl[0], DNSBL_LISTED);
	reply_format(&v, checks_facts(fx.ck), &r);
	/* the detail names the list and what it listed, never the zone */
	assert_string_equal(r.line, "550 5.7.1 zen: 192.0.2.9 listed 127.0.0.4");
	assert_null(strstr(r.line, "zen.test"));
	assert_int_equal(fake_dns_count("9.2.0.192.zen.test", ns_t_a), 1);
}

static void test_client_clean_and_errors(void **state)
{
	struct verdict v;

	(void)state;
	load(client_list);
	fake_dns_default(DNS_NXDOMAIN);
	assert_int_equal(rcpt_decision("192.0.2.10", "<a@good.example>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "default");
	assert_int_equal(checks_facts(fx.ck)->dnsbl[0], DNSBL_CLEAN);
	checks_free(fx.ck);
	fx.ck = checks_new(fx.cfg, fx.res);

	/* "query through a public resolver": never listed, the list's own error */
	assert_int_equal(fake_dns_add("11.2.0.192.zen.test", ns_t_a, DNS_OK, "A 127.255.255.254"), 0);
	assert_int_equal(rcpt_decision("192.0.2.11", "<a@good.example>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "zen-temp");
	assert_int_equal(checks_facts(fx.ck)->dnsbl[0], DNSBL_UNUSABLE);
	checks_free(fx.ck);
	fx.ck = checks_new(fx.cfg, fx.res);

	/* no answer in time: temperror within the deadline, never listed */
	fake_dns_hang("12.2.0.192.zen.test", ns_t_a);
	assert_int_equal(rcpt_decision("192.0.2.12", "<a@good.example>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "zen-temp");
	assert_int_equal(checks_facts(fx.ck)->dnsbl[0], DNSBL_TEMPERROR);
}

/* a list on mx_host: the MX check runs for it (no rule names mx), then the list */
static void test_list_on_mx_host(void **state)
{
	struct verdict v;
	const struct facts *f;
	char name[64];

	(void)state;
	load("dnsbl dbl dbl.test 127.0.1.[2..99] sender_domain, mx_host\n"
	     "rule dbl dnsbl.dbl = listed reject 550 5.7.1 \"refused (%{dnsbl.dbl})\"\n"
	     "default accept\n");
	fake_dns_default(DNS_NXDOMAIN);
	assert_int_equal(fake_dns_add("good.example", ns_t_mx, DNS_OK, "MX 10 mx.badhost.example"), 0);
	assert_int_equal(fake_dns_add("mx.badhost.example", ns_t_a, DNS_OK, "A 192.0.2.25"), 0);
	assert_int_equal(fake_dns_add("mx.badhost.example", ns_t_aaaa, DNS_NODATA, NULL), 0);
	assert_int_equal(fake_dns_add("mx.badhost.example.dbl.test", ns_t_a, DNS_OK, "A 127.0.1.2"), 0);
	assert_int_equal(rcpt_decision("192.0.2.9", "<a@good.example>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "dbl");
	f = checks_facts(fx.ck);
	assert_int_equal(f->dnsbl[0], DNSBL_LISTED);
	assert_non_null(strstr(f->dnsbl_detail[0], "mx.badhost.example listed 127.0.1.2"));
	assert_int_equal(fake_dns_count("good.example.dbl.test", ns_t_a), 1);
	/* the facts carry the list's name for the log and `check` */
	assert_string_equal(facts_name(f, (enum fact_id)(FID_dnsbl + 0), name, sizeof name), "dnsbl.dbl");
	assert_null(facts_name(f, (enum fact_id)(FID_dnsbl + 1), name, sizeof name));
}

/* trusted clients skip the lists like every check */
static void test_trusted_skips(void **state)
{
	struct verdict v;

	(void)state;
	load(client_list);
	assert_int_equal(rcpt_decision("10.1.2.3", "<a@good.example>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "trusted");
	assert_int_equal(checks_facts(fx.ck)->dnsbl[0], DNSBL_SKIPPED);
	assert_int_equal(fake_dns_total(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directive),
		cmocka_unit_test_setup_teardown(test_client_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_clean_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_on_mx_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_skips, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
