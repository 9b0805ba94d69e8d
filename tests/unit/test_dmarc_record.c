/*
 * test_dmarc_record.c - policy/dmarc_record.c: which TXT records are
 * DMARC records (v=DMARC1 first and exact), every tag, every bad value
 * and what RFC 9989 §4.7/§4.8/§4.10.1 say it turns into.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "policy/dmarc_record.h"

/* parse - a record given as a C string */
static enum dmarc_record_status parse(const char *text, struct dmarc_record *r)
{
	return dmarc_record_parse(text, strlen(text), r);
}

static void test_version_tag(void **state)
{
	static const char *const yes[] = {
		"v=DMARC1", "v=DMARC1;", "v=DMARC1; p=none", "v = DMARC1 ;p=reject", "V=DMARC1; p=none",
		"v=DMARC1\t;\tp=none",
	};
	static const char *const no[] = {
		"", "v=DMARC", "v=dmarc1; p=reject", "v=DMARC10; p=reject", "v=DMARC1p=reject",
		" v=DMARC1; p=reject", "p=reject; v=DMARC1", "v=spf1 -all", "vv=DMARC1", "v:DMARC1",
		"v=DMARC2; p=reject", "DMARC1",
	};
	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!dmarc_record_is_dmarc(yes[i], strlen(yes[i])))
			fail_msg("\"%s\" should be a DMARC record", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (dmarc_record_is_dmarc(no[i], strlen(no[i])))
			fail_msg("\"%s\" should not be a DMARC record", no[i]);
	/* a NUL inside the version tag is not the version tag */
	assert_false(dmarc_record_is_dmarc("v=DMA\0RC1", 9));
	assert_false(dmarc_record_is_dmarc(NULL, 0));
}

static void test_every_tag(void **state)
{
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=s; t=y; psd=n; "
			       "rua=mailto:a@example.com; ruf=mailto:f@example.com; fo=1", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.np, DMARC_POLICY_NONE);
	assert_true(r.strict_dkim);
	assert_true(r.strict_spf);
	assert_true(r.testing);
	assert_int_equal(r.psd, DMARC_PSD_N);
	assert_true(r.has_rua);
	assert_false(r.as_none);
	assert_string_equal(r.note, "");
	/* the defaults */
	assert_int_equal(parse("v=DMARC1; p=quarantine", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.sp, DMARC_POLICY_ABSENT);
	assert_int_equal(r.np, DMARC_POLICY_ABSENT);
	assert_false(r.strict_dkim || r.strict_spf || r.testing || r.has_rua);
	assert_int_equal(r.psd, DMARC_PSD_U);
	/* values and names in any case, blanks around "=" and ";" */
	assert_int_equal(parse("v=DMARC1 ; P = Reject ; ADKIM=S;psd=Y", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_true(r.strict_dkim);
	assert_int_equal(r.psd, DMARC_PSD_Y);
	assert_int_equal(parse("v=DMARC1; psd=u", &r), DMARC_RECORD_OK);
	assert_int_equal(r.psd, DMARC_PSD_U);
	assert_string_equal(r.note, "");
}

static void test_no_p_is_none(void **state)
{
	struct dmarc_record r;

	(void)state;
	/* RFC 9989 §4.7: a record without p acts as p=none */
	assert_int_equal(parse("v=DMARC1", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(parse("v=DMARC1; sp=reject; rua=mailto:x@example.org", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_REJECT);
}

static void test_bad_policy(void **state)
{
	struct dmarc_record r;

	(void)state;
	/* §4.10.1: a bad p, sp or np without a usable rua: no DMARC processing */
	assert_int_equal(parse("v=DMARC1; p=block", &r), DMARC_RECORD_UNUSABLE);
	assert_string_equal(r.note, "bad policy \"block\"");
	assert_int_equal(parse("v=DMARC1; p=reject; sp=deny", &r), DMARC_RECORD_UNUSABLE);
	assert_int_equal(parse("v=DMARC1; p=reject; np=", &r), DMARC_RECORD_OK);   /* "np=" is not a tag */
	assert_int_equal(parse("v=DMARC1; p=reject; np=x; rua=nonsense", &r), DMARC_RECORD_UNUSABLE);
	/* ... with one: act as p=none, sp and np too */
	assert_int_equal(parse("v=DMARC1; p=rejetc; sp=reject; rua=mailto:d@example.org", &r), DMARC_RECORD_OK);
	assert_true(r.as_none);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	assert_int_equal(r.np, DMARC_POLICY_NONE);
	assert_int_equal(parse("v=DMARC1; np=all; rua=bad uri, mailto:d@example.org!10m", &r), DMARC_RECORD_OK);
	assert_true(r.as_none);
}

static void test_bad_values_default(void **state)
{
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject; adkim=x", &r), DMARC_RECORD_OK);
	assert_false(r.strict_dkim);
	assert_string_equal(r.note, "bad adkim \"x\"");
	assert_int_equal(parse("v=DMARC1; p=reject; aspf=strict", &r), DMARC_RECORD_OK);
	assert_false(r.strict_spf);
	assert_int_equal(parse("v=DMARC1; p=reject; t=yes", &r), DMARC_RECORD_OK);
	assert_false(r.testing);
	assert_string_equal(r.note, "bad t \"yes\"");
	assert_int_equal(parse("v=DMARC1; p=reject; psd=maybe", &r), DMARC_RECORD_OK);
	assert_int_equal(r.psd, DMARC_PSD_U);
	/* unknown and removed (pct, rf, ri) tags are ignored without a note */
	assert_int_equal(parse("v=DMARC1; p=reject; pct=0; rf=afrf; ri=3600; xnew=1", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_string_equal(r.note, "");
	/* syntax errors are skipped, the rest still counts */
	assert_int_equal(parse("v=DMARC1; garbage; p=reject;; =x; 9=1; p\x01=none", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_string_equal(r.note, "not a tag \"garbage\"");
	/* a repeated tag keeps its first value */
	assert_int_equal(parse("v=DMARC1; p=none; p=reject", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_string_equal(r.note, "repeated tag \"p\"");
	/* 8-bit bytes in a value make it invalid, never a crash */
	assert_int_equal(parse("v=DMARC1; p=reject; adkim=\xc3\xa9", &r), DMARC_RECORD_OK);
	assert_false(r.strict_dkim);
}

static void test_rua(void **state)
{
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse("v=DMARC1; rua=mailto:a@example.org,mailto:b@example.net", &r), DMARC_RECORD_OK);
	assert_true(r.has_rua);
	assert_int_equal(parse("v=DMARC1; rua= , mailto:a@example.org", &r), DMARC_RECORD_OK);
	assert_true(r.has_rua);
	assert_int_equal(parse("v=DMARC1; rua=a@example.org", &r), DMARC_RECORD_OK);
	assert_false(r.has_rua);
	assert_int_equal(parse("v=DMARC1; rua=mailto:", &r), DMARC_RECORD_OK);
	assert_false(r.has_rua);
	assert_int_equal(parse("v=DMARC1; rua=1http:x", &r), DMARC_RECORD_OK);
	assert_false(r.has_rua);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dmarc_req_name(DMARC_POLICY_NONE), "none");
	assert_string_equal(dmarc_req_name(DMARC_POLICY_QUARANTINE), "quarantine");
	assert_string_equal(dmarc_req_name(DMARC_POLICY_REJECT), "reject");
	assert_string_equal(dmarc_req_name(DMARC_POLICY_ABSENT), "absent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_tag),
		cmocka_unit_test(test_every_tag),
		cmocka_unit_test(test_no_p_is_none),
		cmocka_unit_test(test_bad_policy),
		cmocka_unit_test(test_bad_values_default),
		cmocka_unit_test(test_rua),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
