/*
 * test_dkim_reply.c - the key reply rebuilt for libopendkim
 * (policy/dkim_reply.c): records kept string by string, rcodes, names
 * that cannot be encoded, malformed answers and small buffers refused,
 * a bare PKCS#1 key handed over wrapped (dkim_pkcs1.h).
 */

/* system */
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

/* libraries */
#include <ares.h>
#include <cmocka.h>

/* project */
#include "policy/dkim_reply.h"
#include "tests/unit/dkim_fixtures_forms.h"
#include "tests/unit/dns_build.h"

#define QNAME "sel._domainkey.example.com"

/* rcode - the reply's RCODE. */
static int rcode(const unsigned char *p)
{
	return p[3] & 0x0f;
}

/* count16 - a 16-bit header count at offset. */
static unsigned count16(const unsigned char *p, int offset)
{
	return (unsigned)p[offset] << 8 | p[offset + 1];
}

static void test_records_and_strings_kept(void **state)
{
	unsigned char raw[1024], out[1024];
	struct ares_txt_ext *txt = NULL, *t;
	int rawlen, n;

	(void)state;
	rawlen = dns_build(raw, sizeof raw, QNAME, ns_t_txt, 0,
			   "TXT \"v=DKIM1; k=rsa; \" \"p=ABC\"; @other.example CNAME x.example; TXT \"second\"");
	assert_true(rawlen > 0);
	n = dkimr_build(QNAME, DNS_OK, raw, rawlen, out, sizeof out);
	assert_true(n > 12);
	assert_int_equal(rcode(out), 0);
	assert_int_equal(count16(out, 4), 1);   /* one question */
	assert_int_equal(count16(out, 6), 2);   /* two TXT records, the CNAME is gone */
	assert_int_equal(ares_parse_txt_reply_ext(out, n, &txt), ARES_SUCCESS);
	t = txt;
	assert_true(t->record_start);
	assert_memory_equal(t->txt, "v=DKIM1; k=rsa; ", t->length);
	t = t->next;
	assert_false(t->record_start);
	assert_memory_equal(t->txt, "p=ABC", t->length);
	t = t->next;
	assert_true(t->record_start);
	assert_memory_equal(t->txt, "second", t->length);
	assert_null(t->next);
	ares_free_data(txt);
}

static void test_rcodes(void **state)
{
	unsigned char raw[512], out[512];
	int rawlen, n;

	(void)state;
	rawlen = dns_build(raw, sizeof raw, QNAME, ns_t_txt, 3, NULL);
	n = dkimr_build(QNAME, DNS_NXDOMAIN, raw, rawlen, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(rcode(out), 3);
	assert_int_equal(count16(out, 6), 0);
	/* no packet at all is fine too */
	n = dkimr_build(QNAME, DNS_NODATA, NULL, 0, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(rcode(out), 0);
	assert_int_equal(count16(out, 6), 0);
	n = dkimr_build(QNAME, DNS_BADNAME, NULL, 0, out, sizeof out);
	assert_int_equal(rcode(out), 3);
}

static void test_name_that_cannot_be_encoded(void **state)
{
	unsigned char out[512];
	char longlabel[100];
	int n;

	(void)state;
	memset(longlabel, 'a', 70);
	strcpy(longlabel + 70, "._domainkey.example.com");
	n = dkimr_build(longlabel, DNS_BADNAME, NULL, 0, out, sizeof out);
	assert_true(n > 12);
	/* the question stands in as "invalid" */
	assert_int_equal(out[12], 7);
	assert_memory_equal(out + 13, "invalid", 7);
	n = dkimr_build("a..b", DNS_BADNAME, NULL, 0, out, sizeof out);
	assert_true(n > 12);
}

static void test_malformed_answer_refused(void **state)
{
	static const unsigned char junk[] = { 0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7, 'x' };
	unsigned char raw[512], out[512];
	int rawlen;

	(void)state;
	assert_int_equal(dkimr_build(QNAME, DNS_OK, junk, sizeof junk, out, sizeof out), -1);
	/* cut in the middle of the record */
	rawlen = dns_build(raw, sizeof raw, QNAME, ns_t_txt, 0, "TXT \"v=DKIM1; p=ABCDEFGH\"");
	assert_int_equal(dkimr_build(QNAME, DNS_OK, raw, rawlen - 4, out, sizeof out), -1);
}

static void test_small_buffer_refused(void **state)
{
	unsigned char raw[512], out[512];
	int rawlen, n;

	(void)state;
	rawlen = dns_build(raw, sizeof raw, QNAME, ns_t_txt, 0, "TXT \"v=DKIM1; p=ABCDEFGH\"");
	n = dkimr_build(QNAME, DNS_OK, raw, rawlen, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(dkimr_build(QNAME, DNS_OK, raw, rawlen, out, (size_t)n - 1), -1);
	assert_int_equal(dkimr_build(QNAME, DNS_OK, raw, rawlen, out, (size_t)n), n);
	assert_int_equal(dkimr_build(QNAME, DNS_OK, raw, rawlen, out, 10), -1);
}

/* test_pkcs1_key_wrapped - a PKCS#1 key record over three strings goes out as openssl's SPKI record, in strings of 255; the record beside it is kept. */
static void test_pkcs1_key_wrapped(void **state)
{
	unsigned char raw[2048], out[2048];
	char spec[2048], joined[1024];
	struct ares_txt_ext *txt = NULL, *t;
	size_t n = 0;
	int rawlen, len;

	(void)state;
	snprintf(spec, sizeof spec, "TXT \"%.100s\" \"%.200s\" \"%s\"; TXT \"other\"",
		 KEYF_PKCS1, KEYF_PKCS1 + 100, KEYF_PKCS1 + 300);
	rawlen = dns_build(raw, sizeof raw, QNAME, ns_t_txt, 0, spec);
	assert_true(rawlen > 0);
	len = dkimr_build(QNAME, DNS_OK, raw, rawlen, out, sizeof out);
	assert_true(len > 0);
	assert_int_equal(count16(out, 6), 2);
	assert_int_equal(ares_parse_txt_reply_ext(out, len, &txt), ARES_SUCCESS);
	assert_true(txt->record_start);
	for (t = txt; t != NULL && (t == txt || !t->record_start); t = t->next) {
		assert_true(t->length == 255 || t->next == NULL || t->next->record_start);
		memcpy(joined + n, t->txt, t->length);
		n += t->length;
	}
	assert_int_equal(n, strlen(KEYF_SPKI));
	assert_memory_equal(joined, KEYF_SPKI, n);
	assert_non_null(t);
	assert_true(t->record_start);
	assert_memory_equal(t->txt, "other", t->length);
	ares_free_data(txt);
	/* the wrapped record must fit too: one byte short is refused */
	assert_int_equal(dkimr_build(QNAME, DNS_OK, raw, rawlen, out, (size_t)len - 1), -1);
	assert_int_equal(dkimr_build(QNAME, DNS_OK, raw, rawlen, out, (size_t)len), len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_strings_kept),
		cmocka_unit_test(test_rcodes),
		cmocka_unit_test(test_name_that_cannot_be_encoded),
		cmocka_unit_test(test_malformed_answer_refused),
		cmocka_unit_test(test_small_buffer_refused),
		cmocka_unit_test(test_pkcs1_key_wrapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
