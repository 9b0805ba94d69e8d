/*
 * test_dkim_tags.c - signatures whose d= or s= cannot name a key
 * (policy/dkim_tags.h): permerror with the reason, decided before any
 * key lookup - the fake resolver sees no query, even when a key is
 * published at the name libopendkim would have asked. A good d= next to
 * them still passes. Messages signed by dkimpy (dkim_fixtures_forms.h).
 */

/* system */
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "policy/dkim.h"
#include "policy/dkim_keys.h"
#include "policy/dkim_tags.h"
#include "policy/resolver.h"
#include "tests/unit/dkim_fixtures_forms.h"
#include "tests/unit/dkim_test_util.h"
#include "tests/unit/fake_resolver.h"

#define KGOOD     "forms._domainkey.legitimate.com"
#define KATTACKER "forms._domainkey.legitimate.com(.attacker.com"
#define L63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define L64 L63 "l"
#define L36 "abcdefghijklmnopqrstuvwxyzabcdefghij"

/* with_tags - FXF_GOOD with its d= and s= replaced (i= dropped, so libopendkim's own i=/d= check stays quiet). Caller frees. */
static char *with_tags(const char *selector, const char *domain)
{
	char *a = dkt_replace(FXF_GOOD, "\r\n i=@legitimate.com;", "");
	char tag[600], *b, *c;

	snprintf(tag, sizeof tag, "d=%s;", domain);
	b = dkt_replace(a, "d=legitimate.com;", tag);
	snprintf(tag, sizeof tag, "s=%s;", selector);
	c = dkt_replace(b, "s=forms;", tag);
	free(a);
	free(b);
	return c;
}

/* expect_refused - msg gives permerror with reason why and not one DNS query. */
static void expect_refused(const char *msg, const char *why)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;

	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	dkt_add_key(KGOOD, KEYF_SPKI);
	dkt_add_key(KATTACKER, KEYF_SPKI);
	v = dkt_verify(&res, msg, 0, "legitimate.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_false(f.dkim_aligned);
	s = dkt_one_sig(v);
	assert_int_equal(s->result, DKIMR_PERMERROR);
	assert_string_equal(s->reason, why);
	assert_int_equal(fake_dns_total(), 0);
	dkt_done(v, res);
}

/* test_good_d_passes - the control: the same signer, key and selector with a real domain. */
static void test_good_d_passes(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	dkt_add_key(KGOOD, KEYF_SPKI);
	v = dkt_verify(&res, FXF_GOOD, 0, "legitimate.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_true(f.dkim_aligned);
	assert_string_equal(dkt_one_sig(v)->domain, "legitimate.com");
	assert_int_equal(fake_dns_count(KGOOD, ns_t_txt), 1);
	dkt_done(v, res);
}

/*
 * test_attacker_d - d=legitimate.com(.attacker.com, signed by dkimpy, its
 * key published at the very name libopendkim would ask: refused for its
 * syntax, not for a missing key. Checked at end of headers too, where
 * key queries start.
 */
static void test_attacker_d(void **state)
{
	char err[128];
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const char *body;

	(void)state;
	expect_refused(FXF_ATTACKER, "d= is not a domain name (character not allowed)");

	dkt_add_key(KATTACKER, KEYF_SPKI);
	res = resolver_new(NULL, err, sizeof err);
	v = dkimv_new(dkt_lib, res, 0, NULL);
	memset(&f, 0, sizeof f);
	body = dkt_feed_headers(v, FXF_ATTACKER);
	assert_int_equal(dkimv_eoh(v), 0);
	assert_int_equal(dkimv_keys_pending(v), 0);
	assert_int_equal(fake_dns_total(), 0);
	dkt_feed_body(v, body);
	assert_int_equal(dkimv_eom(v, &f), 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_string_equal(dkt_one_sig(v)->domain, "legitimate.com(.attacker.com");
	assert_string_equal(f.dkim_detail,
			    "legitimate.com(.attacker.com/forms permerror (d= is not a domain name (character not allowed))");
	assert_int_equal(fake_dns_count(KATTACKER, ns_t_txt), 0);
	dkt_done(v, res);
}

/* test_bad_d_forms - each malformed d=: permerror, its reason, no query. */
static void test_bad_d_forms(void **state)
{
	static const struct {
		const char *d, *why;
	} cases[] = {
		{ "a..b", "d= is not a domain name (empty label)" },
		{ "legitimate..com", "d= is not a domain name (empty label)" },
		{ ".legitimate.com", "d= is not a domain name (empty label)" },
		{ "legitimate.com.", "d= is not a domain name (empty label)" },
		{ "legitimate.com/evil", "d= is not a domain name (character not allowed)" },
		{ "legitimate.com>", "d= is not a domain name (character not allowed)" },
		{ "legitimate.com\\x", "d= is not a domain name (character not allowed)" },
		{ "legitimate.com)", "d= is not a domain name (character not allowed)" },
		{ L64 ".com", "d= is not a domain name (label longer than 63)" },
		/* 254 characters (libopendkim's own i= check refuses much longer ones first) */
		{ L63 "." L63 "." L63 "." L36 "abcdefghijklmnopqrstuvwxyz", "d= is not a domain name (longer than 253)" },
		{ "localhost", "d= is not a domain name (one label)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *msg = with_tags("forms", cases[i].d);

		expect_refused(msg, cases[i].why);
		free(msg);
	}
}

/* test_bad_s_forms - each malformed s=: permerror, its reason, no query. */
static void test_bad_s_forms(void **state)
{
	static const struct {
		const char *s, *why;
	} cases[] = {
		{ "forms(.x", "s= is not a selector (character not allowed)" },
		{ "a..b", "s= is not a selector (empty label)" },
		{ ".forms", "s= is not a selector (empty label)" },
		{ "forms.", "s= is not a selector (empty label)" },
		{ "forms/x", "s= is not a selector (character not allowed)" },
		{ L64, "s= is not a selector (label longer than 63)" },
		{ L63 "." L63 "." L63 "." L63, "s= is not a selector (longer than 253)" },
		/* 228 + "._domainkey." + "legitimate.com" = 254 */
		{ L63 "." L63 "." L63 "." L36, "key name too long (s= and d= over 253 characters)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *msg = with_tags(cases[i].s, "legitimate.com");

		expect_refused(msg, cases[i].why);
		free(msg);
	}
}

/* test_good_forms_still_asked - multi-label selectors, '_' and '-', a 63-character label: looked up as before. */
static void test_good_forms_still_asked(void **state)
{
	static const struct {
		const char *s, *d;
	} cases[] = {
		{ "a.b", "legitimate.com" },
		{ "s_1-x", "mail-out.legitimate.com" },
		{ L63, "LEGITIMATE.COM" },
		{ "forms", L63 ".com" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *msg = with_tags(cases[i].s, cases[i].d), name[400];
		struct resolver *res;
		struct facts f;
		struct dkimv *v;

		fake_dns_reset();
		fake_dns_default(DNS_NXDOMAIN);
		v = dkt_verify(&res, msg, 0, NULL, &f, 0);
		/* the key is not there: the ordinary "no key", after asking for it */
		assert_string_equal(dkt_one_sig(v)->reason, "no key for signature");
		snprintf(name, sizeof name, "%s._domainkey.%s", cases[i].s, cases[i].d);
		assert_int_equal(fake_dns_count(name, ns_t_txt), 1);
		dkt_done(v, res);
		free(msg);
	}
}

/* test_refused_beside_good - a refused signature does not hide a good one, nor is its key asked. */
static void test_refused_beside_good(void **state)
{
	const char *from = strstr(FXF_ATTACKER, "From: ");
	size_t siglen = (size_t)(from - FXF_ATTACKER);
	char *msg = malloc(siglen + strlen(FXF_GOOD) + 1);
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;
	size_t n;

	(void)state;
	assert_non_null(msg);
	memcpy(msg, FXF_ATTACKER, siglen);
	strcpy(msg + siglen, FXF_GOOD);
	dkt_add_key(KGOOD, KEYF_SPKI);
	dkt_add_key(KATTACKER, KEYF_SPKI);
	v = dkt_verify(&res, msg, 0, "legitimate.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_true(f.dkim_aligned);
	s = dkimv_results(v, &n);
	assert_int_equal(n, 2);
	/* header order: the refused one is on top */
	assert_int_equal(s[0].result, DKIMR_PERMERROR);
	assert_string_equal(s[0].reason, "d= is not a domain name (character not allowed)");
	assert_false(s[0].aligned);
	assert_int_equal(s[1].result, DKIMR_PASS);
	assert_string_equal(s[1].domain, "legitimate.com");
	assert_true(s[1].aligned);
	assert_int_equal(fake_dns_count(KATTACKER, ns_t_txt), 0);
	assert_int_equal(fake_dns_total(), 1);
	dkt_done(v, res);
	free(msg);
}

/* test_libopendkim_reason_kept - an empty d= is libopendkim's finding; it stays its own, still no query. */
static void test_libopendkim_reason_kept(void **state)
{
	char *msg = with_tags("forms", "");
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	v = dkt_verify(&res, msg, 0, NULL, &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_string_not_equal(dkt_one_sig(v)->reason, "d= missing");
	assert_int_equal(fake_dns_total(), 0);
	dkt_done(v, res);
	free(msg);
}

/* test_key_table_refuses_bad_names - the second line: the key table never sends a name that is not a DNS name. */
static void test_key_table_refuses_bad_names(void **state)
{
	char err[128];
	struct resolver *res = resolver_new(NULL, err, sizeof err);
	struct dkimk *k = dkimk_new(res);

	(void)state;
	assert_non_null(k);
	assert_int_equal(dkimk_prefetch(k, "forms", "legitimate.com(.attacker.com"), -1);
	assert_int_equal(dkimk_prefetch(k, "a..b", "legitimate.com"), -1);
	assert_int_equal(dkimk_prefetch(k, "forms", "legitimate.com"), 0);
	assert_int_equal(dkimk_pending(k), 1);
	assert_int_equal(fake_dns_total(), 1);
	assert_int_equal(fake_dns_count(KGOOD, ns_t_txt), 1);
	dkimk_free(k);
	resolver_free(res);
}

/* test_check_table - dkimt_check and dkimt_key_name_ok on their own. */
static void test_check_table(void **state)
{
	(void)state;
	assert_null(dkimt_check("s", "example.com"));
	assert_null(dkimt_check("a.b_c-d", "_x.Example-1.COM"));
	assert_string_equal(dkimt_check(NULL, "example.com"), "s= missing");
	assert_string_equal(dkimt_check("s", NULL), "d= missing");
	assert_string_equal(dkimt_check("", "example.com"), "s= missing");
	assert_string_equal(dkimt_check("s", "ex ample.com"), "d= is not a domain name (character not allowed)");
	assert_string_equal(dkimt_check("s", "ex\xc3\xa4mple.com"), "d= is not a domain name (character not allowed)");
	/* a character problem outranks an empty label: it is the one that changes the name */
	assert_string_equal(dkimt_check("s", "a..b(.c"), "d= is not a domain name (character not allowed)");
	/* d= first */
	assert_string_equal(dkimt_check("(", "a..b"), "d= is not a domain name (empty label)");
	assert_true(dkimt_key_name_ok("s._domainkey.example.com"));
	assert_false(dkimt_key_name_ok("s._domainkey.legitimate.com(.attacker.com"));
	assert_false(dkimt_key_name_ok("s._domainkey.example.com."));
	assert_false(dkimt_key_name_ok("example"));
	assert_false(dkimt_key_name_ok(""));
	/* 253 characters is a name, 254 is not */
	assert_true(dkimt_key_name_ok(L63 "." L63 "." L63 "." L36 "abcdefghijklmnopqrstuvwxy"));
	assert_false(dkimt_key_name_ok(L63 "." L63 "." L63 "." L36 "abcdefghijklmnopqrstuvwxyz"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_d_passes, dkt_reset),
		cmocka_unit_test_setup(test_attacker_d, dkt_reset),
		cmocka_unit_test_setup(test_bad_d_forms, dkt_reset),
		cmocka_unit_test_setup(test_bad_s_forms, dkt_reset),
		cmocka_unit_test_setup(test_good_forms_still_asked, dkt_reset),
		cmocka_unit_test_setup(test_refused_beside_good, dkt_reset),
		cmocka_unit_test_setup(test_libopendkim_reason_kept, dkt_reset),
		cmocka_unit_test_setup(test_key_table_refuses_bad_names, dkt_reset),
		cmocka_unit_test_setup(test_check_table, dkt_reset),
	};
	return cmocka_run_group_tests(tests, dkt_setup, dkt_teardown);
}
