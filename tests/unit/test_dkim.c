/*
 * test_dkim.c - the DKIM verifier (policy/dkim.c, policy/dkim_keys.c) on
 * messages signed by dkimpy (dkim_fixtures.h), keys served by the fake
 * resolver. Covers the result table of dkim.h, key-query timing and the
 * SERVFAIL/timeout -> temperror rule.
 */

/* system */
#include <arpa/nameser.h>
#include <stdarg.h>
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
#include "tests/unit/fake_resolver.h"

#define K2048 "sel2048._domainkey.example.com"
#define K1024 "sel1024._domainkey.example.com"
#define KED   "ed._domainkey.example.com"
#define KOTHER "sel1024._domainkey.other.example"

static struct dkimv_lib *lib;
static bool bare_lf_folds;   /* feed_headers hands values over with LF folds */

/* setup_lib - one library for the whole file, as in the daemon. */
static int setup_lib(void **state)
{
	char err[256];

	(void)state;
	lib = dkimv_lib_new(NULL, err, sizeof err);
	if (lib == NULL)
		fprintf(stderr, "dkimv_lib_new: %s\n", err);
	return lib == NULL ? -1 : 0;
}

static int teardown_lib(void **state)
{
	(void)state;
	dkimv_lib_free(lib);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	bare_lf_folds = false;
	fake_dns_reset();
	return 0;
}

/* add_key - serve a TXT key record, split into 255-byte strings as DNS needs. */
static void add_key(const char *name, const char *record)
{
	char spec[4096];
	size_t n = strlen(record), o = 0;

	o += (size_t)snprintf(spec + o, sizeof spec - o, "TXT");
	for (size_t i = 0; i < n; i += 255)
		o += (size_t)snprintf(spec + o, sizeof spec - o, " \"%.*s\"", (int)(n - i > 255 ? 255 : n - i), record + i);
	assert_int_equal(fake_dns_add(name, ns_t_txt, DNS_OK, spec), 0);
}

/* replace - a copy of msg with the first "from" replaced by "to". Caller frees. */
static char *replace(const char *msg, const char *from, const char *to)
{
	const char *at = strstr(msg, from);
	char *out;

	assert_non_null(at);
	out = malloc(strlen(msg) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, msg, (size_t)(at - msg));
	strcpy(out + (at - msg), to);
	strcat(out, at + strlen(from));
	return out;
}

/* lf_folds - turn every CRLF in s into a bare LF, in place (how MTAs store folds). */
static void lf_folds(char *s)
{
	char *d = s;

	for (const char *p = s; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*d++ = *p;
	*d = '\0';
}


/* feed_headers - every header field of msg to the verifier; returns the body. */
static const char *feed_headers(struct dkimv *v, const char *msg)
{
	const char *p = msg;

	while (!(p[0] == '\r' && p[1] == '\n')) {
		const char *colon = strchr(p, ':'), *e = p;
		char name[128], *value;

		assert_non_null(colon);
		for (;;) {
			e = strstr(e, "\r\n");
			assert_non_null(e);
			if (e[2] != ' ' && e[2] != '\t')
				break;
			e += 2;
		}
		assert_true((size_t)(colon - p) < sizeof name);
		memcpy(name, p, (size_t)(colon - p));
		name[colon - p] = '\0';
		value = strndup(colon + 1, (size_t)(e - colon - 1));
		assert_non_null(value);
		if (bare_lf_folds)
			lf_folds(value);
		assert_int_equal(dkimv_header(v, name, value), 0);
		free(value);
		p = e + 2;
	}
	return p + 2;
}

/* feed_body - the body in two chunks, to show it streams. */
static void feed_body(struct dkimv *v, const char *body)
{
	size_t n = strlen(body), half = n / 2;

	assert_int_equal(dkimv_body(v, (const unsigned char *)body, half), 0);
	assert_int_equal(dkimv_body(v, (const unsigned char *)body + half, n - half), 0);
}

/* verify - run a whole message; f gets the facts. Caller frees the verifier and resolver. */
static struct dkimv *verify(struct resolver **res, const char *msg, unsigned min_bits,
			    const char *from_domain, struct facts *f, int want_rc)
{
	char err[128];
	struct dkimv *v;

	*res = resolver_new(NULL, err, sizeof err);
	assert_non_null(*res);
	v = dkimv_new(lib, *res, min_bits, "TESTQ1");
	assert_non_null(v);
	memset(f, 0, sizeof *f);
	if (from_domain != NULL) {
		f->known |= FACT_FROM;
		snprintf(f->from_domain, sizeof f->from_domain, "%s", from_domain);
	}
	feed_body(v, feed_headers(v, msg));
	assert_int_equal(dkimv_eom(v, f), want_rc);
	assert_true(f->known & FACT_DKIM);
	return v;
}

/* done - free what verify made. */
static void done(struct dkimv *v, struct resolver *res)
{
	dkimv_free(v);
	resolver_free(res);
}

/* one_sig - the single result of a verifier. */
static const struct dkimv_sig *one_sig(const struct dkimv *v)
{
	size_t n;
	const struct dkimv_sig *s = dkimv_results(v, &n);

	assert_int_equal(n, 1);
	return s;
}

static void test_pass_relaxed_2048(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;

	(void)state;
	add_key(K2048, KEY_RSA2048);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "mail.example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_true(f.dkim_aligned);
	s = one_sig(v);
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
	done(v, res);
}

static void test_pass_simple_1024(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	add_key(K1024, KEY_RSA1024);
	v = verify(&res, FX_RSA1024_SIMPLE, 1024, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_int_equal(one_sig(v)->key_bits, 1024);
	done(v, res);
}

static void test_ed25519(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	add_key(KED, KEY_ED25519);
	v = verify(&res, FX_ED25519, 0, "example.com", &f, 0);
	if (dkimv_lib_ed25519(lib)) {
		assert_int_equal(f.dkim, DKIMR_PASS);
		assert_int_equal(one_sig(v)->key_bits, 0);
	} else {
		/* a libopendkim without ed25519 must say so, not pass or crash */
		assert_int_equal(f.dkim, DKIMR_PERMERROR);
	}
	done(v, res);
}

/* test_key_query_fired_at_eoh - the lookup starts at end of headers, not at end of message. */
static void test_key_query_fired_at_eoh(void **state)
{
	char err[128];
	struct resolver *res = resolver_new(NULL, err, sizeof err);
	struct dkimv *v = dkimv_new(lib, res, 0, NULL);
	const char *body;
	struct facts f;

	(void)state;
	add_key(K2048, KEY_RSA2048);
	assert_non_null(v);
	body = feed_headers(v, FX_RSA2048_RELAXED);
	assert_int_equal(fake_dns_total(), 0);
	assert_int_equal(dkimv_eoh(v), 0);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
	assert_int_equal(resolver_pending(res), 1);
	feed_body(v, body);
	/* answered while the body streamed (the body step polls the resolver) */
	assert_int_equal(resolver_pending(res), 0);
	memset(&f, 0, sizeof f);
	assert_int_equal(dkimv_eom(v, &f), 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	/* libopendkim's own lookup at eom reused the prefetched answer */
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 1);
	done(v, res);
}

static void test_servfail_is_temperror(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;

	(void)state;
	assert_int_equal(fake_dns_add(K2048, ns_t_txt, DNS_SERVFAIL, NULL), 0);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	assert_false(f.dkim_aligned);
	s = one_sig(v);
	assert_int_equal(s->result, DKIMR_TEMPERROR);
	assert_string_equal(s->reason, "key lookup servfail");
	done(v, res);
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
	v = dkimv_new(lib, res, 0, NULL);
	memset(&f, 0, sizeof f);
	feed_body(v, feed_headers(v, FX_RSA2048_RELAXED));
	assert_int_equal(dkimv_eom(v, &f), 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	assert_string_equal(one_sig(v)->reason, "key lookup timeout");
	done(v, res);
}

static void test_malformed_answer_is_temperror(void **state)
{
	static const unsigned char junk[] = { 0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7, 'x' };
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	assert_int_equal(fake_dns_add_raw(K2048, ns_t_txt, DNS_OK, junk, sizeof junk), 0);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	done(v, res);
}

static void test_no_key_is_permerror(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	assert_int_equal(fake_dns_add(K2048, ns_t_txt, DNS_NXDOMAIN, NULL), 0);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_string_equal(one_sig(v)->reason, "no key for signature");
	done(v, res);

	/* the name exists, without a TXT record */
	fake_dns_reset();
	assert_int_equal(fake_dns_add(K2048, ns_t_txt, DNS_NODATA, NULL), 0);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	done(v, res);
}

static void test_revoked_key_fails(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	add_key(K2048, "v=DKIM1; k=rsa; p=");
	v = verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	assert_string_equal(one_sig(v)->reason, "key revoked");
	done(v, res);
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
	v = verify(&res, FX_RSA1024_SIMPLE, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	done(v, res);
}

static void test_body_changed_fails(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = replace(FX_RSA2048_RELAXED, "Body line one.", "Body line 0ne.");

	(void)state;
	add_key(K2048, KEY_RSA2048);
	v = verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	assert_false(f.dkim_aligned);
	assert_string_equal(one_sig(v)->reason, "body hash mismatch");
	assert_string_equal(f.dkim_detail, "example.com/sel2048 fail (body hash mismatch)");
	done(v, res);
	free(msg);
}

static void test_header_changed_fails(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = replace(FX_RSA2048_RELAXED, "Subject: hello there", "Subject: hello thera");

	(void)state;
	add_key(K2048, KEY_RSA2048);
	v = verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	assert_string_equal(one_sig(v)->reason, "signature verification failed");
	done(v, res);
	free(msg);
}

/* test_canonicalization - relaxed survives whitespace changes, simple does not. */
static void test_canonicalization(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *relaxed = replace(FX_RSA2048_RELAXED, "with  double  spaces.", "with double spaces.  ");
	char *simple = replace(FX_RSA1024_SIMPLE, "with  double  spaces.", "with double spaces.  ");

	(void)state;
	add_key(K2048, KEY_RSA2048);
	add_key(K1024, KEY_RSA1024);
	v = verify(&res, relaxed, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	done(v, res);
	v = verify(&res, simple, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	done(v, res);
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
	longer = replace(FX_LENGTH, "spaces.\r\n", "spaces.\r\nAppended by a list.\r\n");
	shorter = replace(FX_LENGTH, "Body line two, with  double  spaces.\r\n", "");
	add_key(K2048, KEY_RSA2048);
	v = verify(&res, longer, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	done(v, res);
	v = verify(&res, shorter, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	done(v, res);
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
	add_key(K1024, KEY_RSA1024);
	v = verify(&res, FX_RSA1024_SIMPLE, 2048, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_false(f.dkim_aligned);
	s = one_sig(v);
	assert_string_equal(s->reason, "key too short (1024 bits, 2048 required)");
	assert_int_equal(s->key_bits, 1024);
	done(v, res);
}

static void test_unsigned_is_none(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const char *plain = strstr(FX_RSA2048_RELAXED, "From: ");
	size_t n;

	(void)state;
	v = verify(&res, plain, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_NONE);
	assert_false(f.dkim_aligned);
	assert_string_equal(f.dkim_detail, "");
	assert_null(dkimv_results(v, &n));
	assert_int_equal(n, 0);
	assert_int_equal(fake_dns_total(), 0);
	done(v, res);
}

static void test_malformed_signature_is_permerror(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = replace(FX_RSA2048_RELAXED, " d=example.com;", " x=nothing;");

	(void)state;
	v = verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_string_equal(one_sig(v)->domain, "");
	assert_int_equal(fake_dns_total(), 0);
	done(v, res);
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
	add_key(K2048, KEY_RSA2048);
	add_key(KOTHER, KEY_RSA1024);
	v = verify(&res, FX_TWO_SIGS, 0, "example.com", &f, 0);
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
	done(v, res);
}

/* test_best_result_order - pass > temperror > fail > permerror. */
static void test_best_result_order(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *broken = replace(FX_TWO_SIGS, "Subject: hello there", "Subject: changed");

	(void)state;
	/* one passes, the other's key is gone: pass */
	add_key(K2048, KEY_RSA2048);
	v = verify(&res, FX_TWO_SIGS, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	done(v, res);

	/* both fail, one key SERVFAILs: temperror wins over fail */
	assert_int_equal(fake_dns_add(KOTHER, ns_t_txt, DNS_SERVFAIL, NULL), 0);
	v = verify(&res, broken, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_TEMPERROR);
	done(v, res);

	/* fail beats permerror (no key) */
	assert_int_equal(fake_dns_add(KOTHER, ns_t_txt, DNS_NXDOMAIN, NULL), 0);
	v = verify(&res, broken, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_FAIL);
	done(v, res);
	free(broken);
}

/* test_alignment - relaxed: same organizational domain. */
static void test_alignment(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;

	(void)state;
	add_key(K2048, KEY_RSA2048);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "deep.sub.EXAMPLE.com", &f, 0);
	assert_true(f.dkim_aligned);
	done(v, res);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "example.org", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	assert_false(f.dkim_aligned);
	done(v, res);
	/* From: domain unknown: never aligned */
	v = verify(&res, FX_RSA2048_RELAXED, 0, NULL, &f, 0);
	assert_false(f.dkim_aligned);
	done(v, res);
}

/* test_free_with_query_in_flight - the detached query is cleaned up by its callback. */
static void test_free_with_query_in_flight(void **state)
{
	char err[128];
	struct resolver *res = resolver_new(NULL, err, sizeof err);
	struct dkimv *v = dkimv_new(lib, res, 0, NULL);

	(void)state;
	assert_int_equal(fake_dns_hang(K2048, ns_t_txt), 0);
	(void)feed_headers(v, FX_RSA2048_RELAXED);
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
	add_key(K2048, KEY_RSA2048);
	add_key(KOTHER, KEY_RSA1024);
	v = dkimv_new(one, res, 0, NULL);
	memset(&f, 0, sizeof f);
	feed_body(v, feed_headers(v, FX_TWO_SIGS));
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
	v = verify(&res, msg, 0, "example.com", &f, 0);
	(void)dkimv_results(v, &n);
	assert_int_equal(n, DKIMV_DEFAULT_MAX_SIGS);
	assert_true(fake_dns_total() <= DKIMV_DEFAULT_MAX_SIGS);
	assert_int_equal(fake_dns_count(K2048, ns_t_txt), 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	done(v, res);
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
	add_key(K2048, KEY_RSA2048);
	v = dkimv_new(lf, res, 0, NULL);
	memset(&f, 0, sizeof f);
	(void)feed_headers(v, FX_RSA2048_RELAXED);
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
	add_key(K1024, KEY_RSA1024);
	add_key(K2048, KEY_RSA2048);
	bare_lf_folds = true;
	/* simple header canonicalization: only an exact CRLF fold verifies */
	v = verify(&res, FX_RSA1024_SIMPLE, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	done(v, res);
	v = verify(&res, FX_RSA2048_RELAXED, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PASS);
	done(v, res);
}

/* test_body_without_final_crlf - a message libopendkim cannot verify is permerror, not temperror. */
static void test_body_without_final_crlf(void **state)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	char *msg = replace(FX_RSA2048_RELAXED, "spaces.\r\n", "spaces.");

	(void)state;
	add_key(K2048, KEY_RSA2048);
	v = verify(&res, msg, 0, "example.com", &f, 0);
	assert_int_equal(f.dkim, DKIMR_PERMERROR);
	assert_non_null(strstr(one_sig(v)->reason, "CRLF"));
	done(v, res);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pass_relaxed_2048, reset),
		cmocka_unit_test_setup(test_pass_simple_1024, reset),
		cmocka_unit_test_setup(test_ed25519, reset),
		cmocka_unit_test_setup(test_key_query_fired_at_eoh, reset),
		cmocka_unit_test_setup(test_servfail_is_temperror, reset),
		cmocka_unit_test_setup(test_timeout_is_temperror, reset),
		cmocka_unit_test_setup(test_malformed_answer_is_temperror, reset),
		cmocka_unit_test_setup(test_no_key_is_permerror, reset),
		cmocka_unit_test_setup(test_revoked_key_fails, reset),
		cmocka_unit_test_setup(test_two_key_records_permerror, reset),
		cmocka_unit_test_setup(test_body_changed_fails, reset),
		cmocka_unit_test_setup(test_header_changed_fails, reset),
		cmocka_unit_test_setup(test_canonicalization, reset),
		cmocka_unit_test_setup(test_length_tag, reset),
		cmocka_unit_test_setup(test_min_key_bits, reset),
		cmocka_unit_test_setup(test_unsigned_is_none, reset),
		cmocka_unit_test_setup(test_malformed_signature_is_permerror, reset),
		cmocka_unit_test_setup(test_two_signatures, reset),
		cmocka_unit_test_setup(test_best_result_order, reset),
		cmocka_unit_test_setup(test_alignment, reset),
		cmocka_unit_test_setup(test_free_with_query_in_flight, reset),
		cmocka_unit_test_setup(test_max_signatures, reset),
		cmocka_unit_test_setup(test_signature_flood, reset),
		cmocka_unit_test_setup(test_lf_only_with_fixcrlf, reset),
		cmocka_unit_test_setup(test_lf_folded_headers, reset),
		cmocka_unit_test_setup(test_body_without_final_crlf, reset),
	};
	return cmocka_run_group_tests(tests, setup_lib, teardown_lib);
}
