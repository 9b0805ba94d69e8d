/*
 * test_dmarc_checks.c - the dmarc row through the orchestrator
 * (policy/checks_dmarc.c) on the fake resolver: its _dmarc lookups go
 * out at end of headers, beside the DKIM keys; it makes the spf and dkim
 * rows run although no rule names them (.uses) and finishes after them;
 * From: integrity and List-Id reach the rules; Authentication-Results
 * reports dmarc= with the disposition; a trusted client skips it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "policy/checks.h"
#include "policy/resolver.h"
#include "tests/unit/checks_fixture.h"
#include "tests/unit/dkim_fixtures.h"
#include "tests/unit/dkim_test_util.h"
#include "tests/unit/fake_resolver.h"

#define setup checks_fixture_setup
#define teardown checks_fixture_teardown

static const char *const dmarc_rules =
	"authserv_id = mx.test\n"
	"trusted_networks = 10.1.0.0/16\n"
	"rule from-several from_header = multiple reject 550 5.7.1 \"two From fields\"\n"
	"rule dmarc-temp dmarc = temperror tempfail 451 4.4.3 \"DMARC later\"\n"
	"rule dmarc-reject dmarc = fail and dmarc_policy = reject reject 550 5.7.1 \"DMARC reject\"\n"
	"rule dmarc-q dmarc = fail and dmarc_policy = quarantine quarantine \"DMARC quarantine\"\n"
	"default accept\n";

static int teardown_group(void **state)
{
	(void)state;
	checks_library_free();
	return 0;
}

/* start - the rules, a DMARC record at example.com, the key, and the envelope up to RCPT */
static void start(const char *record, const char *ip)
{
	char spec[256];

	checks_fixture_load(dmarc_rules);
	snprintf(spec, sizeof spec, "TXT \"%s\"", record);
	assert_int_equal(fake_dns_add("_dmarc.example.com", ns_t_txt, DNS_OK, spec), 0);
	dkt_add_key(K2048, KEY_RSA2048);
	checks_fixture_envelope(ip, "<alice@mail.example.com>", false);
	checks_set_rcpt(fx.ck, "<bob@example.net>");
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_RCPT), 0);
}

/* finish - headers, end of headers, body, end of message; the final answer */
static enum checks_answer finish(const char *msg, struct verdict *v, struct reply *r)
{
	const char *body = checks_fixture_headers(msg);

	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	/* with one author domain the walk is asked now, with the keys, not after the body */
	if (checks_facts(fx.ck)->from_header == FROMH_SINGLE) {
		assert_int_equal(fake_dns_count("_dmarc.mail.example.com", ns_t_txt), 1);
		assert_int_equal(fake_dns_count("_dmarc.com", ns_t_txt), 1);
		assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
	} else {
		assert_int_equal(fake_dns_count("_dmarc.mail.example.com", ns_t_txt), 0);
	}
	checks_body(fx.ck, (const unsigned char *)body, strlen(body));
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	return checks_final_answer(fx.ck, v, r);
}

/* ar - the Authentication-Results value (caller frees) */
static char *ar(void)
{
	struct checks_hdr hdrs[CHECKS_HDR_MAX];
	int n = checks_result_headers(fx.ck, hdrs);
	char *v;

	assert_true(n >= 1);
	v = strdup(hdrs[0].value);
	checks_result_headers_free(hdrs, n);
	/* unfold: a fold "\n\t" stands where a space would */
	for (char *p = v; (p = strstr(p, "\n\t")) != NULL;)
		memmove(p, p + 1, strlen(p + 1) + 1), *p = ' ';
	return v;
}

static void test_pass_by_dkim(void **state)
{
	struct verdict v;
	struct reply r;
	const struct facts *f;
	char *h;

	(void)state;
	start("v=DMARC1; p=reject", "192.0.2.1");
	assert_int_equal(finish(FX_RSA2048_RELAXED, &v, &r), CHECKS_FINAL);
	f = checks_facts(fx.ck);
	assert_string_equal(v.rule_name, "default");
	assert_int_equal(f->dmarc, DMARCR_PASS);
	assert_int_equal(f->dmarc_policy, DMARCP_REJECT);
	assert_string_equal(f->dmarc_domain, "example.com");
	assert_non_null(strstr(f->dmarc_detail, "aligned: dkim example.com"));
	/* no rule names spf or dkim: DMARC made them run */
	assert_true(f->known & FBIT(spf));
	assert_int_equal(f->dkim, DKIMR_PASS);
	assert_int_equal(f->dkim_domain.count, 1);
	assert_string_equal(facts_set_name(&f->dkim_domain, 0), "example.com");
	h = ar();
	assert_non_null(strstr(h, "; dmarc=pass (p=reject dis=none) header.from=mail.example.com "
				   "policy.dmarc=reject"));
	free(h);
}

static void test_fail_rejects_and_quarantines(void **state)
{
	struct verdict v;
	struct reply r;
	char *broken = dkt_replace(FX_RSA2048_RELAXED, "Body line one.", "Body line 1.");
	char *h;

	(void)state;
	start("v=DMARC1; p=reject", "192.0.2.1");
	assert_int_equal(finish(broken, &v, &r), CHECKS_FINAL);
	assert_string_equal(v.rule_name, "dmarc-reject");
	assert_string_equal(r.line, "550 5.7.1 DMARC reject");
	assert_int_equal(checks_facts(fx.ck)->dkim, DKIMR_FAIL);
	assert_int_equal(checks_facts(fx.ck)->dmarc, DMARCR_FAIL);
	checks_fixture_teardown(NULL);
	checks_fixture_setup(NULL);
	/* t=y lowers reject to quarantine: delivered, and the header says what was done */
	start("v=DMARC1; p=reject; t=y", "192.0.2.1");
	assert_int_equal(finish(broken, &v, &r), CHECKS_FINAL);
	assert_string_equal(v.rule_name, "dmarc-q");
	assert_int_equal(v.action, ACTION_QUARANTINE);
	h = ar();
	assert_non_null(strstr(h, "dmarc=fail (p=reject t=y dis=quarantine) header.from=mail.example.com "
				   "policy.dmarc=quarantine"));
	free(h);
	free(broken);
}

static void test_dns_failure_tempfails(void **state)
{
	struct verdict v;
	struct reply r;

	(void)state;
	start("v=DMARC1; p=reject", "192.0.2.1");
	assert_int_equal(fake_dns_add("_dmarc.mail.example.com", ns_t_txt, DNS_SERVFAIL, NULL), 0);
	assert_int_equal(finish(FX_RSA2048_RELAXED, &v, &r), CHECKS_FINAL);
	assert_string_equal(v.rule_name, "dmarc-temp");
	assert_string_equal(r.line, "451 4.4.3 DMARC later");
}

static void test_two_from_fields(void **state)
{
	struct verdict v;
	struct reply r;
	char *two = dkt_replace(FX_RSA2048_RELAXED, "To: bob@example.net\r\n",
				"To: bob@example.net\r\nFrom: ceo@bank.example\r\n");

	(void)state;
	start("v=DMARC1; p=reject", "192.0.2.1");
	assert_int_equal(finish(two, &v, &r), CHECKS_FINAL);
	assert_string_equal(v.rule_name, "from-several");
	assert_int_equal(checks_facts(fx.ck)->from_header, FROMH_MULTIPLE);
	/* the first From: is still the one reported */
	assert_string_equal(checks_facts(fx.ck)->from_domain, "mail.example.com");
	free(two);
}

static void test_one_from_two_domains_and_list_id(void **state)
{
	struct verdict v;
	struct reply r;
	char *msg = dkt_replace(FX_RSA2048_RELAXED, "From: Alice <alice@mail.example.com>\r\n",
				"From: Alice <alice@mail.example.com>, ceo@bank.example\r\n"
				"List-Id: The List <Announce.Lists.Example.ORG>\r\n");
	const struct facts *f;

	(void)state;
	start("v=DMARC1; p=reject", "192.0.2.1");
	assert_int_equal(finish(msg, &v, &r), CHECKS_FINAL);
	f = checks_facts(fx.ck);
	assert_int_equal(f->from_header, FROMH_MULTI_DOMAIN);
	assert_string_equal(f->from_domain, "");
	assert_int_equal(f->dmarc, DMARCR_PERMERROR);
	assert_string_equal(f->list_id, "announce.lists.example.org");
	assert_string_equal(v.rule_name, "default");
	free(msg);
}

static void test_trusted_skips(void **state)
{
	struct verdict v;
	struct reply r;

	(void)state;
	checks_fixture_load(dmarc_rules);
	checks_fixture_envelope("10.1.2.3", "<alice@mail.example.com>", false);
	(void)checks_fixture_headers(FX_RSA2048_RELAXED);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_HEADERS), 0);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_EOM), 0);
	assert_int_equal(checks_final_answer(fx.ck, &v, &r), CHECKS_FINAL);
	assert_string_equal(v.rule_name, "trusted");
	assert_int_equal(checks_facts(fx.ck)->dmarc, DMARCR_SKIPPED);
	assert_int_equal(checks_facts(fx.ck)->dmarc_policy, DMARCP_NONE);
	assert_int_equal(fake_dns_total(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pass_by_dkim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_rejects_and_quarantines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_failure_tempfails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_from_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_from_two_domains_and_list_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_skips, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_group);
}
