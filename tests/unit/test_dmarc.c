/*
 * test_dmarc.c - policy/dmarc.c against canned DNS (fake_resolver.c):
 * the walk's names and its 8-query bound, policy discovery (Author
 * Domain, Organizational Domain, psd=y/psd=n, sp, np with the existence
 * lookup, t=y), Organizational Domains for relaxed alignment, strict
 * alignment, SPF and DKIM identifiers, every DNS failure -> temperror,
 * and the PSL mode.
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

#include "policy/dmarc.h"
#include "policy/orgdomain.h"
#include "policy/resolver.h"
#include "tests/unit/fake_resolver.h"

#define TXT ns_t_txt

static struct resolver *res;
static struct orgdomain *psl;
static struct dmarc_check *chk;
static struct dmarc_outcome out;
static struct fact_domain_set passed;     /* dkim_domain */
static struct dmarc_input in;

static int setup(void **state)
{
	char err[128];

	(void)state;
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	res = resolver_new(NULL, err, sizeof err);
	if (!psl)
		psl = orgdomain_load(NULL, err, sizeof err);
	chk = calloc(1, sizeof *chk);
	memset(&passed, 0, sizeof passed);
	memset(&in, 0, sizeof in);
	in.from_header = FROMH_SINGLE;
	in.spf_domain = "";
	in.spf = SPFR_NONE;
	in.dkim = DKIMR_NONE;
	in.dkim_pass = &passed;
	return res && psl && chk ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dmarc_check_abandon(chk);
	free(chk);
	resolver_free(res);
	fake_dns_reset();
	return 0;
}

/* rec - publish a DMARC record at _dmarc.DOMAIN */
static void rec(const char *domain, const char *text)
{
	char name[300], spec[600];

	snprintf(name, sizeof name, "_dmarc.%s", domain);
	snprintf(spec, sizeof spec, "TXT \"%s\"", text);
	assert_int_equal(fake_dns_add(name, TXT, DNS_OK, spec), 0);
}

/* pass_dkim - a passing signature of d */
static void pass_dkim(const char *d)
{
	assert_true(facts_set_add_name(&passed, d));
	in.dkim = DKIMR_PASS;
}

/* wait_all - drive the resolver until no answer is pending */
static bool none_pending(void *arg)
{
	return dmarc_check_pending(arg) == 0;
}

/* evaluate - author's check to the end (asking what evaluation asks, too) */
static enum dmarc_result evaluate(const char *author)
{
	dmarc_check_abandon(chk);
	dmarc_check_init(chk, res, &(struct dmarc_options){ DMARC_TREEWALK, NULL });
	dmarc_check_author(chk, author);
	for (int round = 0; round < 10; round++) {
		(void)resolver_wait(res, none_pending, chk);
		if (dmarc_check_evaluate(chk, &in, false, &out) == DMARC_EVAL_DONE)
			return out.result;
	}
	fail_msg("still pending after 10 rounds");
	return DMARCR_UNKNOWN;
}

static void test_walk_names(void **state)
{
	char n[DMARC_WALK_MAX][FACT_NAME_MAX];
	size_t k;

	(void)state;
	k = dmarc_walk_names("a.b.c.d.e.f.g.h.i.j.mail.example.com", n, DMARC_WALK_MAX);
	/* RFC 9989 §4.10's own example: eight queries */
	assert_int_equal(k, 8);
	assert_string_equal(n[0], "a.b.c.d.e.f.g.h.i.j.mail.example.com");
	assert_string_equal(n[1], "g.h.i.j.mail.example.com");
	assert_string_equal(n[2], "h.i.j.mail.example.com");
	assert_string_equal(n[6], "example.com");
	assert_string_equal(n[7], "com");
	k = dmarc_walk_names("mail.example.com", n, DMARC_WALK_MAX);
	assert_int_equal(k, 3);
	assert_string_equal(n[2], "com");
	/* exactly 8 labels: 8 queries, the 8-label name and then 7 .. 1 */
	k = dmarc_walk_names("a.b.c.d.e.f.g.h", n, DMARC_WALK_MAX);
	assert_int_equal(k, 8);
	assert_string_equal(n[1], "b.c.d.e.f.g.h");
	assert_int_equal(dmarc_walk_names("", n, DMARC_WALK_MAX), 0);
}

static void test_record_at_author(void **state)
{
	(void)state;
	rec("example.com", "v=DMARC1; p=reject; sp=none");
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	assert_int_equal(out.policy, DMARCP_REJECT);
	assert_int_equal(out.published, DMARC_POLICY_REJECT);
	assert_string_equal(out.policy_tag, "p");
	assert_string_equal(out.domain, "example.com");
	assert_non_null(strstr(out.detail, "no aligned identifier passed"));
	/* SPF pass of the same domain passes */
	in.spf = SPFR_PASS;
	in.spf_domain = "example.com";
	assert_int_equal(evaluate("example.com"), DMARCR_PASS);
	assert_non_null(strstr(out.detail, "aligned: spf example.com"));
	/* every name of the walk was asked at once: the author's and the TLD's */
	assert_int_equal(fake_dns_count("_dmarc.com", TXT), 2);
}

static void test_no_record(void **state)
{
	(void)state;
	assert_int_equal(evaluate("mail.example.org"), DMARCR_NONE);
	assert_int_equal(out.policy, DMARCP_NONE);
	assert_string_equal(out.domain, "");
	/* the walk never asks more than 8 names, however deep the domain */
	assert_int_equal(evaluate("a.b.c.d.e.f.g.h.i.j.k.l.example.org"), DMARCR_NONE);
	assert_true(fake_dns_count(NULL, TXT) <= 3 + 8);
	/* several DMARC records at one name: none (other TXT records do not count) */
	assert_int_equal(fake_dns_add("_dmarc.two.example", TXT, DNS_OK,
				      "TXT \"v=DMARC1; p=reject\"; TXT \"v=DMARC1; p=none\""), 0);
	assert_int_equal(evaluate("two.example"), DMARCR_NONE);
	assert_int_equal(fake_dns_add("_dmarc.one.example", TXT, DNS_OK,
				      "TXT \"v=spf1 -all\"; TXT \"v=DMARC1; p=reject\""), 0);
	assert_int_equal(evaluate("one.example"), DMARCR_FAIL);
	/* not v=DMARC1 first: not a record */
	rec("notfirst.example", "p=reject; v=DMARC1");
	assert_int_equal(evaluate("notfirst.example"), DMARCR_NONE);
}

static void test_subdomain_sp_np(void **state)
{
	(void)state;
	rec("example.com", "v=DMARC1; p=reject; sp=quarantine; np=reject");
	assert_int_equal(fake_dns_add("mail.example.com", ns_t_a, DNS_OK, "A 192.0.2.1"), 0);
	/* an existing subdomain: sp */
	assert_int_equal(evaluate("mail.example.com"), DMARCR_FAIL);
	assert_int_equal(out.policy, DMARCP_QUARANTINE);
	assert_string_equal(out.policy_tag, "sp");
	assert_string_equal(out.domain, "example.com");
	/* a subdomain that does not exist (NXDOMAIN): np */
	assert_int_equal(evaluate("ghost.example.com"), DMARCR_FAIL);
	assert_int_equal(out.policy, DMARCP_REJECT);
	assert_string_equal(out.policy_tag, "np");
	assert_int_equal(fake_dns_count("ghost.example.com", ns_t_a), 1);
	/* NODATA is a name that exists */
	assert_int_equal(fake_dns_add("empty.example.com", ns_t_a, DNS_NODATA, NULL), 0);
	assert_int_equal(evaluate("empty.example.com"), DMARCR_FAIL);
	assert_string_equal(out.policy_tag, "sp");
	/* the existence lookup fails: temperror, never a guess */
	assert_int_equal(fake_dns_add("slow.example.com", ns_t_a, DNS_SERVFAIL, NULL), 0);
	assert_int_equal(evaluate("slow.example.com"), DMARCR_TEMPERROR);
	/* without np, no existence lookup at all: sp, else p */
	rec("example.net", "v=DMARC1; p=reject");
	assert_int_equal(evaluate("ghost.example.net"), DMARCR_FAIL);
	assert_string_equal(out.policy_tag, "p");
	assert_int_equal(out.policy, DMARCP_REJECT);
	assert_int_equal(fake_dns_count("ghost.example.net", ns_t_a), 0);
	/* np absent, sp present: sp for a non-existent subdomain too */
	rec("example.org", "v=DMARC1; p=reject; sp=none");
	assert_int_equal(evaluate("ghost.example.org"), DMARCR_FAIL);
	assert_string_equal(out.policy_tag, "sp");
	assert_int_equal(out.policy, DMARCP_NONE);
}

static void test_testing_lowers(void **state)
{
	(void)state;
	rec("example.com", "v=DMARC1; p=reject; t=y");
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	assert_int_equal(out.published, DMARC_POLICY_REJECT);
	assert_int_equal(out.policy, DMARCP_QUARANTINE);
	assert_true(out.testing);
	rec("example.net", "v=DMARC1; p=quarantine; t=y");
	assert_int_equal(evaluate("example.net"), DMARCR_FAIL);
	assert_int_equal(out.policy, DMARCP_NONE);
	rec("example.org", "v=DMARC1; p=none; t=y");
	assert_int_equal(evaluate("example.org"), DMARCR_FAIL);
	assert_int_equal(out.policy, DMARCP_NONE);
	assert_false(out.testing);
}

static void test_org_domain_and_psd(void **state)
{
	(void)state;
	/* records at mail.example.com and example.com: the one with fewest labels is the org domain */
	rec("mail.example.com", "v=DMARC1; p=none");
	rec("example.com", "v=DMARC1; p=reject");
	assert_int_equal(evaluate("a.mail.example.com"), DMARCR_FAIL);
	assert_string_equal(out.domain, "example.com");
	assert_int_equal(out.policy, DMARCP_REJECT);
	/* psd=n stops the walk: mail.example.com is the org domain */
	rec("mail.example.com", "v=DMARC1; p=quarantine; psd=n");
	assert_int_equal(evaluate("a.mail.example.com"), DMARCR_FAIL);
	assert_string_equal(out.domain, "mail.example.com");
	assert_int_equal(out.policy, DMARCP_QUARANTINE);
	/* a PSD record (psd=y) at the top: the org domain is one label below it */
	rec("psd", "v=DMARC1; p=reject; psd=y");
	assert_int_equal(evaluate("a.b.bank.psd"), DMARCR_FAIL);
	assert_string_equal(out.domain, "psd");      /* bank.psd has none: the PSD's record applies */
	assert_string_equal(out.policy_tag, "p");    /* no sp in the PSD record */
	/* relaxed alignment uses that org domain: bank.psd and x.bank.psd align, other.psd does not */
	pass_dkim("x.bank.psd");
	assert_int_equal(evaluate("a.b.bank.psd"), DMARCR_PASS);
	passed.count = 0;
	pass_dkim("other.psd");
	assert_int_equal(evaluate("a.b.bank.psd"), DMARCR_FAIL);
	/* the org domain publishes under the PSD: its record wins */
	rec("bank.psd", "v=DMARC1; p=quarantine");
	assert_int_equal(evaluate("a.b.bank.psd"), DMARCR_FAIL);
	assert_string_equal(out.domain, "bank.psd");
}

static void test_relaxed_and_strict(void **state)
{
	(void)state;
	rec("example.com", "v=DMARC1; p=reject");
	/* relaxed: a subdomain's signature aligns with the parent and with a sibling */
	pass_dkim("mail.example.com");
	assert_int_equal(evaluate("news.example.com"), DMARCR_PASS);
	assert_int_equal(evaluate("example.com"), DMARCR_PASS);
	/* a different organization never aligns, however it passes */
	passed.count = 0;
	pass_dkim("example.net");
	in.spf = SPFR_PASS;
	in.spf_domain = "bounces.example.org";
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	/* strict: identical only (libopendmarc passes d=sub for adkim=s: we do not) */
	rec("example.com", "v=DMARC1; p=reject; adkim=s; aspf=s");
	passed.count = 0;
	pass_dkim("sub.example.com");
	in.spf_domain = "bounce.example.com";
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	pass_dkim("EXAMPLE.com");
	assert_int_equal(evaluate("example.com"), DMARCR_PASS);
	/* strict SPF, relaxed DKIM */
	rec("example.com", "v=DMARC1; p=reject; aspf=s");
	passed.count = 0;
	in.dkim = DKIMR_NONE;
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	in.spf_domain = "example.com";
	assert_int_equal(evaluate("example.com"), DMARCR_PASS);
}

static void test_dns_failures(void **state)
{
	(void)state;
	/* the author's own _dmarc name fails: temperror (OpenDMARC says none) */
	assert_int_equal(fake_dns_add("_dmarc.example.com", TXT, DNS_SERVFAIL, NULL), 0);
	assert_int_equal(evaluate("example.com"), DMARCR_TEMPERROR);
	assert_non_null(strstr(out.detail, "servfail"));
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	/* a parent on the walk times out: the policy cannot be known */
	assert_int_equal(fake_dns_add("_dmarc.example.com", TXT, DNS_TIMEOUT, NULL), 0);
	assert_int_equal(evaluate("mail.example.com"), DMARCR_TEMPERROR);
	/* a malformed answer counts as a failure too */
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	assert_int_equal(fake_dns_add_raw("_dmarc.example.com", TXT, DNS_OK, (const unsigned char *)"\0\1", 2), 0);
	assert_int_equal(evaluate("example.com"), DMARCR_TEMPERROR);
	/* a hanging lookup at the deadline (final) is a failure, not none */
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	assert_int_equal(fake_dns_hang("_dmarc.example.com", TXT), 0);
	dmarc_check_abandon(chk);
	dmarc_check_init(chk, res, &(struct dmarc_options){ DMARC_TREEWALK, NULL });
	dmarc_check_author(chk, "example.com");
	assert_int_equal(dmarc_check_evaluate(chk, &in, false, &out), DMARC_EVAL_PENDING);
	assert_int_equal(dmarc_check_evaluate(chk, &in, true, &out), DMARC_EVAL_DONE);
	assert_int_equal(out.result, DMARCR_TEMPERROR);
}

static void test_temporary_identifiers(void **state)
{
	static const char hdr[][FACT_NAME_MAX] = { "example.com", "other.example" };

	(void)state;
	rec("example.com", "v=DMARC1; p=reject");
	/* SPF temperror for an aligned domain: cannot tell */
	in.spf = SPFR_TEMPERROR;
	in.spf_domain = "example.com";
	assert_int_equal(evaluate("example.com"), DMARCR_TEMPERROR);
	/* ... for an unrelated one: it could never make it pass */
	in.spf_domain = "example.net";
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	/* DKIM temperror: only a signature whose d= would align keeps it open */
	in.spf = SPFR_FAIL;
	in.dkim = DKIMR_TEMPERROR;
	in.header_d = &hdr[1];
	in.n_header_d = 1;
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	in.header_d = hdr;
	in.n_header_d = 2;
	assert_int_equal(evaluate("example.com"), DMARCR_TEMPERROR);
	/* an identifier under another top-level label never aligns: a failure up the walk cannot matter */
	in.header_d = &hdr[1];
	in.n_header_d = 1;
	in.dkim = DKIMR_NONE;
	in.spf = SPFR_PASS;
	in.spf_domain = "relay.example";
	assert_int_equal(fake_dns_add("_dmarc.com", TXT, DNS_SERVFAIL, NULL), 0);
	assert_int_equal(evaluate("example.com"), DMARCR_FAIL);
	in.spf = SPFR_FAIL;
	in.dkim = DKIMR_TEMPERROR;
	/* signatures not seen: cannot tell */
	in.header_d = NULL;
	assert_int_equal(evaluate("example.com"), DMARCR_TEMPERROR);
	/* an aligned pass wins over any temperror */
	pass_dkim("example.com");
	assert_int_equal(evaluate("example.com"), DMARCR_PASS);
}

static void test_from_and_unusable(void **state)
{
	(void)state;
	rec("example.com", "v=DMARC1; p=reject");
	in.from_header = FROMH_MULTIPLE;
	assert_int_equal(evaluate("example.com"), DMARCR_PERMERROR);
	assert_non_null(strstr(out.detail, "multiple"));
	in.from_header = FROMH_MULTI_DOMAIN;
	assert_int_equal(evaluate(""), DMARCR_PERMERROR);
	in.from_header = FROMH_SINGLE;
	/* an unusable record (bad p, no rua): permerror, not a walk to the parent */
	rec("sub.example.com", "v=DMARC1; p=bogus");
	assert_int_equal(evaluate("sub.example.com"), DMARCR_PERMERROR);
	assert_non_null(strstr(out.detail, "unusable"));
}

static void test_explain(void **state)
{
	char buf[512], small[40];

	(void)state;
	rec("example.com", "v=DMARC1; p=reject; sp=none; adkim=s; t=y; psd=n; pct=50");
	assert_int_equal(fake_dns_add("_dmarc.com", TXT, DNS_SERVFAIL, NULL), 0);
	(void)evaluate("mail.example.com");
	dmarc_check_explain(chk, buf, sizeof buf);
	assert_string_equal(buf,
			    "dmarc_record: _dmarc.mail.example.com none (nxdomain)\n"
			    "dmarc_record: _dmarc.example.com p=reject sp=none np=absent adkim=s aspf=r t=y psd=n\n"
			    "dmarc_record: _dmarc.com lookup failed (servfail)\n");
	/* psd=n stopped the walk before the failed name: the result does not depend on it */
	assert_int_equal(out.result, DMARCR_FAIL);
	assert_int_equal(out.policy, DMARCP_NONE);
	/* cut to fit, always terminated */
	dmarc_check_explain(chk, small, sizeof small);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_string_equal(small + sizeof small - 5, "...\n");
}

static void test_psl_mode(void **state)
{
	(void)state;
	rec("example.co.uk", "v=DMARC1; p=reject; sp=quarantine");
	dmarc_check_abandon(chk);
	dmarc_check_init(chk, res, &(struct dmarc_options){ DMARC_PSL, psl });
	dmarc_check_author(chk, "a.mail.example.co.uk");
	(void)resolver_wait(res, none_pending, chk);
	assert_int_equal(dmarc_check_evaluate(chk, &in, false, &out), DMARC_EVAL_DONE);
	assert_int_equal(out.result, DMARCR_FAIL);
	assert_string_equal(out.domain, "example.co.uk");
	assert_string_equal(out.policy_tag, "sp");
	/* two queries only: the author domain and its registrable domain */
	assert_int_equal(fake_dns_count(NULL, TXT), 2);
	pass_dkim("x.example.co.uk");
	assert_int_equal(dmarc_check_evaluate(chk, &in, false, &out), DMARC_EVAL_DONE);
	assert_int_equal(out.result, DMARCR_PASS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_names),
		cmocka_unit_test_setup_teardown(test_record_at_author, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subdomain_sp_np, setup, teardown),
		cmocka_unit_test_setup_teardown(test_testing_lowers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_org_domain_and_psd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relaxed_and_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temporary_identifiers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_and_unusable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_psl_mode, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
