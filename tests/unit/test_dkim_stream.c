/*
 * test_dkim_stream.c - how the DKIM verifier takes its input and its keys
 * (policy/dkim.c, policy/dkim_keys.c): key query fired at end of headers
 * and answered while the body streams, a query in flight at free,
 * signature limits against floods, bare-LF input, a message libopendkim
 * cannot verify.
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

/* test_key_query_fired_at_eoh - the lookup starts at end of headers, not at end of message. */
static void test_key_query_fired_at_eoh(void **state)
{
	char err[128];
	struct resolver *res = resolver_new(NULL, err, sizeof err);
	struct dkimv *v = dkimv_new(dkt_lib, res, 0, NULL);
	const char *body;
	struct facts f;

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	assert_non_null(v);
	body = dkt_feed_headers(v, FX_RSA2048_RELAXED);
	assert_int_equal(fake_dns_total(), 0);
	assert_int_equal(dkimv_eoh(v), 0);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
	assert_int_equal(resolver_pending(res), 1);
	dkt_feed_body(v, body);
	/* answered while the body streamed (the body step polls the resolver) */
	assert_int_equal(resolver_pending(res), 0);
	memset(&f, 0, sizeof f);
	assert_int_equal(dkimv_eom(v, &f), 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	/* libopendkim's own lookup at eom reused the prefetched answer */
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
	dkt_done(v, res);
}

/* test_free_with_query_in_flight - the detached query is cleaned up by its callback. */
static void test_free_with_query_in_flight(void **state)
{
	char err[128];
	struct resolver *res = resolver_new(NULL, err, sizeof err);
	struct dkimv *v = dkimv_new(dkt_lib, res, 0, NULL);

	(void)state;
	assert_int_equal(fake_dns_hang(K2048, ns_t_txt), 0);
	(void)dkt_feed_headers(v, FX_RSA2048_RELAXED);
	assert_int_equal(dkimv_eoh(v), 0);
	assert_int_equal(resolver_pending(res), 1);
	dkimv_free(v);
	/* the resolver still owes a callback; it must find a detached record, not freed memory */
	resolver_free(res);
}

/* test_max_signatures - signatures beyond the limit are neither looked up nor reported. */
static void test_max_signatures(void **state)
{
	struct dkimv_lib_options opt = { false, 1, NULL };
	struct dkimv_lib *one;
	char err[256];
	struct resolver *res = resolver_new(NULL, err, sizeof err);
	struct dkimv *v;
	struct facts f;
	size_t n;

	(void)state;
	one = dkimv_lib_new(&opt, err, sizeof err);
	assert_non_null(one);
	dkt_add_key(K2048, KEY_RSA2048);
	dkt_add_key(KOTHER, KEY_RSA1024);
	v = dkimv_new(one, res, 0, NULL);
	memset(&f, 0, sizeof f);
	dkt_feed_body(v, dkt_feed_headers(v, FX_TWO_SIGS));
	assert_int_equal(dkimv_eom(v, &f), 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	(void)dkimv_results(v, &n);
	assert_int_equal(n, 1);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 0);
	assert_int_equal(fake_dns_total(), 1);
	dkimv_free(v);
	resolver_free(res);
	dkimv_lib_free(one);
}

/* test_signature_flood - 40 signatures: 10 looked at, the rest never parsed. */
static void test_signature_flood(void **state)
{
	size_t len = strlen(FX_RSA2048_RELAXED) + 40 * 120 + 1, o = 0, n;
	char *msg = malloc(len);
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	assert_non_null(msg);
	fake_dns_default(DNS_NXDOMAIN);
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(msg + o, len - o, "DKIM-Signature: v=1; a=rsa-sha256; d=example.com;"
				      " s=flood%d; l=%d; h=from; bh=AAAA; b=AAAA\r\n", i, i);
	snprintf(msg + o, len - o, "%s", FX_RSA2048_RELAXED);
	v = dkt_verify(&res, msg, 0, "example.com", &f, 0);
	(void)dkimv_results(v, &n);
	assert_int_equal(n, DKIMV_DEFAULT_MAX_SIGS);
	assert_true(fake_dns_total() <= DKIMV_DEFAULT_MAX_SIGS);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	dkt_done(v, res);
	free(msg);
}

/* test_lf_only_with_fixcrlf - a message with bare LF verifies when the library accepts it. */
static void test_lf_only_with_fixcrlf(void **state)
{
	struct dkimv_lib_options opt = { true, 0, NULL };
	struct dkimv_lib *lf;
	char err[256];
	struct resolver *res = resolver_new(NULL, err, sizeof err);
	struct dkimv *v;
	struct facts f;
	char *body = strdup(strstr(FX_RSA2048_RELAXED, "\r\n\r\n") + 4), *d = body;

	(void)state;
	assert_non_null(body);
	for (const char *p = body; *p; p++)
		if (*p != '\r')
			*d++ = *p;
	*d = '\0';
	lf = dkimv_lib_new(&opt, err, sizeof err);
	assert_non_null(lf);
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkimv_new(lf, res, 0, NULL);
	memset(&f, 0, sizeof f);
	(void)dkt_feed_headers(v, FX_RSA2048_RELAXED);
	assert_int_equal(dkimv_body(v, (unsigned char *)body, strlen(body)), 0);
	assert_int_equal(dkimv_eom(v, &f), 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	dkimv_free(v);
	resolver_free(res);
	dkimv_lib_free(lf);
	free(body);
}

/* test_lf_folded_headers - folds arriving as bare LF (Postfix) are restored to CRLF. */
static void test_lf_folded_headers(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	assert_non_null(strstr(FX_RSA1024_SIMPLE, ";\r\n "));
	dkt_add_key(K1024, KEY_RSA1024);
	dkt_add_key(K2048, KEY_RSA2048);
	dkt_bare_lf_folds = true;
	/* simple header canonicalization: only an exact CRLF fold verifies */
	v = dkt_verify(&res, FX_RSA1024_SIMPLE, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	dkt_done(v, res);
	v = dkt_verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	dkt_done(v, res);
}

/* test_body_without_final_crlf - a message libopendkim cannot dkt_verify is permerror, not temperror. */
static void test_body_without_final_crlf(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = dkt_replace(FX_RSA2048_RELAXED, "spaces.\r\n", "spaces.");

	(void)state;
	dkt_add_key(K2048, KEY_RSA2048);
	v = dkt_verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_non_null(strstr(dkt_one_sig(v)->reason, "CRLF"));
	dkt_done(v, res);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_key_query_fired_at_eoh, dkt_reset),
		cmocka_unit_test_setup(test_free_with_query_in_flight, dkt_reset),
		cmocka_unit_test_setup(test_max_signatures, dkt_reset),
		cmocka_unit_test_setup(test_signature_flood, dkt_reset),
		cmocka_unit_test_setup(test_lf_only_with_fixcrlf, dkt_reset),
		cmocka_unit_test_setup(test_lf_folded_headers, dkt_reset),
		cmocka_unit_test_setup(test_body_without_final_crlf, dkt_reset),
	};
	return cmocka_run_group_tests(tests, dkt_setup, dkt_teardown);
}
