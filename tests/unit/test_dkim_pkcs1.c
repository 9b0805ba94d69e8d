/*
 * test_dkim_pkcs1.c - keys published as a bare PKCS#1 RSAPublicKey
 * (policy/dkim_pkcs1.h): the rewrite gives exactly what openssl writes
 * as SubjectPublicKeyInfo for the same key, only such keys are touched,
 * and through the verifier a PKCS#1 key verifies what its SPKI twin
 * verifies; broken blobs are permerror, never a crash. Keys converted
 * by openssl, the message signed by dkimpy (dkim_fixtures_forms.h).
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
#include "policy/dkim_pkcs1.h"
#include "policy/resolver.h"
#include "tests/unit/dkim_fixtures_forms.h"
#include "tests/unit/dkim_test_util.h"
#include "tests/unit/fake_resolver.h"

#define KGOOD "forms._domainkey.legitimate.com"

/* p_of - the p= value of a fixture record (they end with it). */
static const char *p_of(const char *rec)
{
	const char *p = strstr(rec, "p=");

	assert_non_null(p);
	return p + 2;
}

/* rewrite - dkimp_rewrite on a C string; out gets the result (or "" when unchanged). */
static size_t rewrite(const char *rec, char *out, size_t outlen)
{
	size_t n = dkimp_rewrite(rec, strlen(rec), out, outlen - 1);

	out[n] = '\0';
	return n;
}

/* test_same_as_openssl - the wrapped key is byte for byte openssl's SubjectPublicKeyInfo (two- and one-octet lengths). */
static void test_same_as_openssl(void **state)
{
	char out[DKIMP_RECORD_MAX + DKIMP_GROWTH + 1];

	(void)state;
	assert_int_equal(rewrite(KEYF_PKCS1, out, sizeof out), strlen(KEYF_SPKI));
	assert_string_equal(out, KEYF_SPKI);
	assert_int_equal(rewrite(KEYF_PKCS1_1024, out, sizeof out), strlen(KEYF_SPKI_1024));
	assert_string_equal(out, KEYF_SPKI_1024);
	/* the growth promised in the header */
	assert_true(strlen(KEYF_SPKI) <= strlen(KEYF_PKCS1) + DKIMP_GROWTH);
}

/* test_other_bytes_kept - tags around p=, whitespace inside it, k=RSA in capitals. */
static void test_other_bytes_kept(void **state)
{
	char in[2048], want[2048], out[DKIMP_RECORD_MAX + DKIMP_GROWTH + 1];
	const char *p = p_of(KEYF_PKCS1), *q = p_of(KEYF_SPKI);

	(void)state;
	snprintf(in, sizeof in, " v=DKIM1 ;k = RSA;  p = %.100s\r\n\t%s ; t=s;n=hi ", p, p + 100);
	snprintf(want, sizeof want, " v=DKIM1 ;k = RSA;  p = %s ; t=s;n=hi ", q);
	rewrite(in, out, sizeof out);
	assert_string_equal(out, want);
	/* no k= at all: RSA is the default */
	snprintf(in, sizeof in, "p=%s", p);
	snprintf(want, sizeof want, "p=%s", q);
	rewrite(in, out, sizeof out);
	assert_string_equal(out, want);
}

/* test_left_alone - everything but a certain bare RSAPublicKey passes unchanged. */
static void test_left_alone(void **state)
{
	char in[4096], out[DKIMP_RECORD_MAX + DKIMP_GROWTH + 1];
	const char *p = p_of(KEYF_PKCS1);
	const char *unchanged[] = {
		KEYF_SPKI, KEYF_SPKI_1024,
		"v=DKIM1; k=ed25519; p=X99bnnR0Cex1GbfqHTtO8Lm3BIFl0WTXfgGwpYDVpGU=",
		"v=DKIM1; k=rsa; p=",            /* revoked */
		"v=DKIM1; k=rsa",                /* no p= */
		"",
		"v=DKIM1; k=rsa; p=MAA=",        /* SEQUENCE {} */
		"v=DKIM1; k=rsa; p=MAMCAQE=",    /* SEQUENCE { INTEGER 1 } */
		"v=DKIM1; k=rsa; p=MAYCAYECAQM=",    /* negative modulus */
		"v=DKIM1; k=rsa; p=MAcCAgB/AgED",    /* INTEGER not minimal */
		"v=DKIM1; k=rsa; p=MAYCAQUCAQMA",    /* a byte after the SEQUENCE */
		"v=DKIM1; k=rsa; p=MAkCAQUCAQM=",    /* SEQUENCE longer than its content */
		"v=DKIM1; k=rsa; p=MAkCAQUCAQMCAQE=",    /* three INTEGERs */
		"v=DKIM1; k=rsa; p=MIACAQUCAQMAAA==",    /* indefinite length */
		"v=DKIM1; k=rsa; p=MAUCAAIBAw==",        /* empty INTEGER */
		"v=DKIM1; k=rsa; p=MAYCAQUCAQM",         /* not a multiple of 4 */
		"v=DKIM1; k=rsa; p=MAYC=AQUCAQM=",       /* padding inside */
		"v=DKIM1; k=rsa; p=MAYCAQUCAQM*",        /* not base64 */
		"v=DKIM1; k=rsa; p=MAYCAQUCAQM===",      /* too much padding */
		"v=DKIM1; k=rsa; MAYCAQUCAQM=",          /* a tag without '=' */
	};

	(void)state;
	for (size_t i = 0; i < sizeof unchanged / sizeof unchanged[0]; i++)
		assert_int_equal(rewrite(unchanged[i], out, sizeof out), 0);
	/* a truncated key */
	snprintf(in, sizeof in, "v=DKIM1; p=%.*s", (int)strlen(p) - 8, p);
	assert_int_equal(rewrite(in, out, sizeof out), 0);
	/* k= other than rsa, even with an RSAPublicKey in p= */
	snprintf(in, sizeof in, "v=DKIM1; k=ed25519; p=%s", p);
	assert_int_equal(rewrite(in, out, sizeof out), 0);
	/* p= or k= twice: invalid, libopendkim decides */
	snprintf(in, sizeof in, "p=%s; p=%s", p, p);
	assert_int_equal(rewrite(in, out, sizeof out), 0);
	snprintf(in, sizeof in, "k=rsa; k=rsa; p=%s", p);
	assert_int_equal(rewrite(in, out, sizeof out), 0);
	/* the smallest RSAPublicKey there is is still one: rewritten (libopendkim judges the key) */
	assert_true(rewrite("p=MAYCAQUCAQM=", out, sizeof out) > 0);
}

/* test_bounds - records over DKIMP_RECORD_MAX and outputs that do not fit are left alone. */
static void test_bounds(void **state)
{
	char in[DKIMP_RECORD_MAX + 200], out[DKIMP_RECORD_MAX + DKIMP_GROWTH + 1];
	size_t n;

	(void)state;
	n = (size_t)snprintf(in, sizeof in, "%s; n=", KEYF_PKCS1);
	memset(in + n, 'x', sizeof in - n - 1);
	in[sizeof in - 1] = '\0';
	assert_int_equal(rewrite(in, out, sizeof out), 0);
	/* exactly at the limit: still done */
	in[DKIMP_RECORD_MAX] = '\0';
	assert_int_equal(rewrite(in, out, sizeof out), DKIMP_RECORD_MAX + strlen(KEYF_SPKI) - strlen(KEYF_PKCS1));
	/* an output buffer one byte short */
	assert_int_equal(dkimp_rewrite(KEYF_PKCS1, strlen(KEYF_PKCS1), out, strlen(KEYF_SPKI) - 1), 0);
	assert_int_equal(dkimp_rewrite(KEYF_PKCS1, strlen(KEYF_PKCS1), out, strlen(KEYF_SPKI)), strlen(KEYF_SPKI));
	assert_int_equal(dkimp_rewrite(KEYF_PKCS1, strlen(KEYF_PKCS1), out, 5), 0);
}

/* verify_with - FXF_GOOD against key record rec; returns the one signature's result, reason in why. */
static enum dkim_result verify_with(const char *rec, char *why, size_t whylen, unsigned *bits)
{
	struct resolver *res;
	struct facts f;
	struct dkimv *v;
	const struct dkimv_sig *s;
	enum dkim_result r;

	fake_dns_reset();
	dkt_add_key(KGOOD, rec);
	v = dkt_verify(&res, FXF_GOOD, 0, "legitimate.com", &f, 0);
	s = dkt_one_sig(v);
	r = s->result;
	assert_int_equal(f.dkim, r);
	snprintf(why, whylen, "%s", s->reason);
	*bits = s->key_bits;
	assert_int_equal(fake_dns_count(KGOOD, ns_t_txt), 1);
	dkt_done(v, res);
	return r;
}

/* test_pkcs1_verifies - the message its SPKI key verifies, its PKCS#1 twin verifies too. */
static void test_pkcs1_verifies(void **state)
{
	char why[DKIMV_REASON_MAX], rec[2048];
	unsigned bits;
	const char *p = p_of(KEYF_PKCS1);

	(void)state;
	assert_int_equal(verify_with(KEYF_SPKI, why, sizeof why, &bits), DKIMR_PASS);
	assert_int_equal(bits, 2048);
	assert_int_equal(verify_with(KEYF_PKCS1, why, sizeof why, &bits), DKIMR_PASS);
	assert_string_equal(why, "");
	assert_int_equal(bits, 2048);
	/* folded inside p= and split over TXT strings mid-value (dkt_add_key cuts at 255) */
	snprintf(rec, sizeof rec, "v=DKIM1; k=rsa; t=s; p=%.60s %.60s\t%s", p, p + 60, p + 120);
	assert_int_equal(verify_with(rec, why, sizeof why, &bits), DKIMR_PASS);
	/* another key: the wrapping does not make a wrong key right */
	assert_int_equal(verify_with(KEYF_PKCS1_1024, why, sizeof why, &bits), DKIMR_FAIL);
}

/* test_broken_pkcs1_permerror - blobs that are not a key: permerror (a key that cannot be decoded), no crash. */
static void test_broken_pkcs1_permerror(void **state)
{
	char why[DKIMV_REASON_MAX], rec[2048];
	unsigned bits;
	const char *p = p_of(KEYF_PKCS1);
	const char *broken[] = {
		"v=DKIM1; k=rsa; p=MAA=",
		"v=DKIM1; k=rsa; p=MAMCAQE=",
		"v=DKIM1; k=rsa; p=MAYCAYECAQM=",
		"v=DKIM1; k=rsa; p=MAkCAQUCAQMCAQE=",
		"v=DKIM1; k=rsa; p=MIACAQUCAQMAAA==",
		"v=DKIM1; k=rsa; p=MAYCAQUCAQM",
	};

	(void)state;
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		assert_int_equal(verify_with(broken[i], why, sizeof why, &bits), DKIMR_PERMERROR);
		assert_true(why[0] != '\0');
	}
	/* well formed, wrapped, and a 3-bit modulus: libopendkim takes the key, the signature cannot verify */
	assert_int_equal(verify_with("v=DKIM1; k=rsa; p=MAYCAQUCAQM=", why, sizeof why, &bits), DKIMR_FAIL);
	/* truncated: the last 8 characters gone */
	snprintf(rec, sizeof rec, "v=DKIM1; k=rsa; p=%.*s", (int)strlen(p) - 8, p);
	assert_int_equal(verify_with(rec, why, sizeof why, &bits), DKIMR_PERMERROR);
	/* one byte of the modulus length changed */
	snprintf(rec, sizeof rec, "v=DKIM1; k=rsa; p=MIIBCgKCAQA%s", p + 11);
	assert_int_equal(verify_with(rec, why, sizeof why, &bits), DKIMR_PERMERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_openssl),
		cmocka_unit_test(test_other_bytes_kept),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test_setup(test_pkcs1_verifies, dkt_reset),
		cmocka_unit_test_setup(test_broken_pkcs1_permerror, dkt_reset),
	};
	return cmocka_run_group_tests(tests, dkt_setup, dkt_teardown);
}
