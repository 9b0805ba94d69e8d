/*
 * test_dkim.c - the DKIM verifier's results (policy/dkim.c, the table in
 * dkim.h) on messages signed by dkimpy (dkim_fixtures.h), keys served by
 * the fake resolver: pass, fail, temperror (never "no key" for a
 * SERVFAIL or timeout), permerror, none, the best-of order, alignment.
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
#include <time.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "policy/dkim.h"
#include "policy/resolver.h"
#include "tests/unit/dkim_fixtures.h"
#include "tests/unit/dkim_test_util.h"
#include "tests/unit/fake_resolver.h"

static void test_pass_relaxed_2048(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "mail.example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_true(f.dkim_aligned);
	s = dkt_one_sig(v);
	assert_int_equal(s->result, DKIMR_PASS);
	assert_string_equal(s->domain, "example.com");
	assert_string_equal(s->selector, "sel2048");
	assert_string_equal(s->algorithm, "rsa-sha256");
	assert_int_equal(strlen(s->b), 8);
	assert_non_null(strstr(FX_RSA2048_RELAXED, s->b));
	assert_int_equal(s->key_bits, 2048);
	assert_true(s->aligned);
	assert_string_equal(s->reason, "");
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
	dkt_done(v, res);
}

static void test_pass_simple_1024(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	dkt_add_key(K1024, KEY_RSA1024);
	v = dkt_verify(&res, FX_RSA1024_SIMPLE, 1024, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_int_equal(dkt_one_sig(v)->key_bits, 1024);
	dkt_done(v, res);
}

static void test_ed25519(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	dkt_add_key(KED, KEY_ED25519);
	v = dkt_verify(&res, FX_ED25519, 0, "example.com", &f, 0);
	if (dkimv_lib_ed25519(dkt_lib)) {
		assert_int_equal(f.dkim, DKIMR_PASS);
		assert_int_equal(dkt_one_sig(v)->key_bits, 0);
	} else {
		/* a libopendkim without ed25519 must say so, not pass or crash */
		assert_int_equal(f.dkim, DKIMR_PERMERROR);
	}
	dkt_done(v, res);
}

static void test_servfail_is_temperror(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;

	(void)state;
	assert_int_equal(fake_dns_add(K2048, ns_t_txt, DNS_SERVFAIL, NULL), 0);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	assert_false(f.dkim_aligned);
	s = dkt_one_sig(v);
	assert_int_equal(s->result, DKIMR_TEMPERROR);
	assert_string_equal(s->reason, "key lookup servfail");
	dkt_done(v, res);
}

static void test_timeout_is_temperror(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char err[128];
	struct timespec dl;

	(void)state;
	assert_int_equal(fake_dns_hang(K2048, ns_t_txt), 0);
	res = resolver_new(NULL, err, sizeof err);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 30;   /* the fake jumps to it when only hanging queries are left */
	resolver_set_deadline(res, &dl);
	v = dkimv_new(dkt_lib, res, 0, NULL);
	memset(&f, 0, sizeof f);
	dkt_feed_body(v, dkt_feed_headers(v, FX_RSA2048_RELAXED));
	assert_int_equal(dkimv_eom(v, &f), 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	assert_string_equal(dkt_one_sig(v)->reason, "key lookup timeout");
	dkt_done(v, res);
}

static void test_malformed_answer_is_temperror(void **state)
{
	static const unsigned char junk[] = { 0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7, 'x' };
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	assert_int_equal(fake_dns_add_raw(K2048, ns_t_txt, DNS_OK, junk, sizeof junk), 0);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	dkt_done(v, res);
}

static void test_no_key_is_permerror(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	assert_int_equal(fake_dns_add(K2048, ns_t_txt, DNS_NXDOMAIN, NULL), 0);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_string_equal(dkt_one_sig(v)->reason, "no key for signature");
	dkt_done(v, res);

	/* the name exists, without a TXT record */
	fake_dns_reset();
	assert_int_equal(fake_dns_add(K2048, ns_t_txt, DNS_NODATA, NULL), 0);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	dkt_done(v, res);
}

static void test_revoked_key_fails(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	dkt_add_key(K2048, "v=DKIM1; k=rsa; p=");
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	assert_string_equal(dkt_one_sig(v)->reason, "key revoked");
	dkt_done(v, res);
}

static void test_two_key_records_permerror(void **state)
{
	char spec[2048];
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	snprintf(spec, sizeof spec, "TXT \"%s\"; TXT \"v=DKIM1; p=\"", KEY_RSA1024);
	assert_int_equal(fake_dns_add(K1024, ns_t_txt, DNS_OK, spec), 0);
	v = dkt_verify(&res, FX_RSA1024_SIMPLE, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	dkt_done(v, res);
}

static void test_body_changed_fails(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = dkt_replace(FX_RSA2048_RELAXED, "Body line one.", "Body line 0ne.");

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkt_verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	assert_false(f.dkim_aligned);
	assert_string_equal(dkt_one_sig(v)->reason, "body hash mismatch");
	assert_string_equal(f.dkim_detail, "example.com/sel2048 fail (body hash mismatch)");
	dkt_done(v, res);
	free(msg);
}

static void test_header_changed_fails(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = dkt_replace(FX_RSA2048_RELAXED, "Subject: hello there", "Subject: hello thera");

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkt_verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	assert_string_equal(dkt_one_sig(v)->reason, "signature verification failed");
	dkt_done(v, res);
	free(msg);
}

/* test_canonicalization - relaxed survives whitespace changes, simple does not. */
static void test_canonicalization(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *relaxed = dkt_replace(FX_RSA2048_RELAXED, "with  double  spaces.", "with double spaces.  ");
	char *simple = dkt_replace(FX_RSA1024_SIMPLE, "with  double  spaces.", "with double spaces.  ");

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	dkt_add_key(K1024, KEY_RSA1024);
	v = dkt_verify(&res, relaxed, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	dkt_done(v, res);
	v = dkt_verify(&res, simple, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	dkt_done(v, res);
	free(relaxed);
	free(simple);
}

/* test_length_tag - l= covers the signed body only; text added after it still passes. */
static void test_length_tag(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *longer, *shorter;

	(void)state;
	assert_non_null(strstr(FX_LENGTH, " l="));
	longer = dkt_replace(FX_LENGTH, "spaces.\r\n", "spaces.\r\nAppended by a list.\r\n");
	shorter = dkt_replace(FX_LENGTH, "Body line two, with  double  spaces.\r\n", "");
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkt_verify(&res, longer, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	dkt_done(v, res);
	v = dkt_verify(&res, shorter, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	dkt_done(v, res);
	free(longer);
	free(shorter);
}

static void test_min_key_bits(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;

	(void)state;
	dkt_add_key(K1024, KEY_RSA1024);
	v = dkt_verify(&res, FX_RSA1024_SIMPLE, 2048, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_false(f.dkim_aligned);
	s = dkt_one_sig(v);
	assert_string_equal(s->reason, "key too short (1024 bits, 2048 required)");
	assert_int_equal(s->key_bits, 1024);
	dkt_done(v, res);
}

static void test_unsigned_is_none(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const char *plain = strstr(FX_RSA2048_RELAXED, "From: ");
	size_t n;

	(void)state;
	v = dkt_verify(&res, plain, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_NONE);
	assert_false(f.dkim_aligned);
	assert_string_equal(f.dkim_detail, "");
	assert_null(dkimv_results(v, &n));
	assert_int_equal(n, 0);
	assert_int_equal(fake_dns_total(), 0);
	dkt_done(v, res);
}

static void test_malformed_signature_is_permerror(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = dkt_replace(FX_RSA2048_RELAXED, " d=example.com;", " x=nothing;");

	(void)state;
	v = dkt_verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_string_equal(dkt_one_sig(v)->domain, "");
	assert_int_equal(fake_dns_total(), 0);
	dkt_done(v, res);
	free(msg);
}

static void test_two_signatures(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;
	size_t n;

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	dkt_add_key(KOTHER, KEY_RSA1024);
	v = dkt_verify(&res, FX_TWO_SIGS, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_true(f.dkim_aligned);
	s = dkimv_results(v, &n);
	assert_int_equal(n, 2);
	/* header order: the newer signature (other.example) is on top */
	assert_string_equal(s[0].domain, "other.example");
	assert_int_equal(s[0].result, DKIMR_PASS);
	assert_false(s[0].aligned);
	assert_string_equal(s[1].domain, "example.com");
	assert_true(s[1].aligned);
	assert_string_equal(f.dkim_detail, "other.example/sel1024 pass; example.com/sel2048 pass");
	dkt_done(v, res);
}

/* test_best_result_order - pass > temperror > fail > permerror. */
static void test_best_result_order(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *broken = dkt_replace(FX_TWO_SIGS, "Subject: hello there", "Subject: changed");

	(void)state;
	/* one passes, the other's key is gone: pass */
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkt_verify(&res, FX_TWO_SIGS, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	dkt_done(v, res);

	/* both fail, one key SERVFAILs: temperror wins over fail */
	assert_int_equal(fake_dns_add(KOTHER, ns_t_txt, DNS_SERVFAIL, NULL), 0);
	v = dkt_verify(&res, broken, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	dkt_done(v, res);

	/* fail beats permerror (no key) */
	assert_int_equal(fake_dns_add(KOTHER, ns_t_txt, DNS_NXDOMAIN, NULL), 0);
	v = dkt_verify(&res, broken, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	dkt_done(v, res);
	free(broken);
}

/* test_alignment - relaxed: same organizational domain. */
static void test_alignment(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "deep.sub.EXAMPLE.com", &f, 0);
	assert_true(f.dkim_aligned);
	dkt_done(v, res);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "example.org", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_false(f.dkim_aligned);
	dkt_done(v, res);
	/* From: domain unknown: never aligned */
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, NULL, &f, 0);
	assert_false(f.dkim_aligned);
	dkt_done(v, res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pass_relaxed_2048, dkt_reset),
		cmocka_unit_test_setup(test_pass_simple_1024, dkt_reset),
		cmocka_unit_test_setup(test_ed25519, dkt_reset),
		cmocka_unit_test_setup(test_servfail_is_temperror, dkt_reset),
		cmocka_unit_test_setup(test_timeout_is_temperror, dkt_reset),
		cmocka_unit_test_setup(test_malformed_answer_is_temperror, dkt_reset),
		cmocka_unit_test_setup(test_no_key_is_permerror, dkt_reset),
		cmocka_unit_test_setup(test_revoked_key_fails, dkt_reset),
		cmocka_unit_test_setup(test_two_key_records_permerror, dkt_reset),
		cmocka_unit_test_setup(test_body_changed_fails, dkt_reset),
		cmocka_unit_test_setup(test_header_changed_fails, dkt_reset),
		cmocka_unit_test_setup(test_canonicalization, dkt_reset),
		cmocka_unit_test_setup(test_length_tag, dkt_reset),
		cmocka_unit_test_setup(test_min_key_bits, dkt_reset),
		cmocka_unit_test_setup(test_unsigned_is_none, dkt_reset),
		cmocka_unit_test_setup(test_malformed_signature_is_permerror, dkt_reset),
		cmocka_unit_test_setup(test_two_signatures, dkt_reset),
		cmocka_unit_test_setup(test_best_result_order, dkt_reset),
		cmocka_unit_test_setup(test_alignment, dkt_reset),
	};
	return cmocka_run_group_tests(tests, dkt_setup, dkt_teardown);
}
