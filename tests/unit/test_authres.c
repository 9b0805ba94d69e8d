/* test_authres.c - Authentication-Results / Received-SPF text and forged A-R detection (policy/authres.c). */

/* system */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "tests/unit/fact_groups.h"
#include "policy/authres.h"

#define AUTHSERV "mx.example.net"

/* base_facts - a message from user@example.com at 192.0.2.1 with helo mail.example.com. */
static void base_facts(struct facts *f)
{
	memset(f, 0, sizeof *f);
	f->known = FACT_CLIENT | FACT_HELO | FACT_SENDER;
	strcpy(f->client_ip.text, "192.0.2.1");
	strcpy(f->helo, "mail.example.com");
	strcpy(f->sender, "user@example.com");
	strcpy(f->sender_domain, "example.com");
}

/* make_sig - a signature result. */
static struct dkimv_sig make_sig(enum dkim_result r, const char *d, const char *s, const char *b,
				 unsigned bits, const char *reason)
{
	struct dkimv_sig sig;

	memset(&sig, 0, sizeof sig);
	sig.result = r;
	snprintf(sig.domain, sizeof sig.domain, "%s", d);
	snprintf(sig.selector, sizeof sig.selector, "%s", s);
	snprintf(sig.b, sizeof sig.b, "%s", b);
	snprintf(sig.algorithm, sizeof sig.algorithm, "rsa-sha256");
	sig.key_bits = bits;
	snprintf(sig.reason, sizeof sig.reason, "%s", reason);
	return sig;
}

/* build_as - every check's part in check-table order, as the orchestrator adds them; 0 or -1 */
static int build_as(const char *authserv_id, const struct facts *f, const struct dkimv_sig *sigs,
		    size_t n, char **out)
{
	struct authres_hdr *ar = authres_begin(authserv_id);

	if (ar) {
		authres_mx(ar, f);
		authres_spf(ar, f);
		authres_helo_spf(ar, f);
		authres_dkim(ar, f, sigs, n);
	}
	return authres_finish(ar, out);
}

/* build - the header, which must be built. Caller frees. */
static char *build(const struct facts *f, const struct dkimv_sig *sigs, size_t n)
{
	char *out = NULL;

	assert_int_equal(build_as(AUTHSERV, f, sigs, n, &out), 0);
	assert_non_null(out);
	return out;
}

/*
 * assert_header_safe - no CR, every LF starts a continuation line, and no
 * line longer than max (the first line counts the header name).
 */
static void assert_header_safe(const char *v, size_t name_len, size_t max)
{
	size_t col = name_len;

	for (const char *p = v; *p; p++) {
		assert_int_not_equal(*p, '\r');
		if (*p == '\n') {
			assert_true(p[1] == '\t' || p[1] == ' ');
			assert_true(col <= max);
			col = 0;
			continue;
		}
		assert_true((unsigned char)*p >= 0x20 || *p == '\t');
		assert_true((unsigned char)*p < 0x7f);
		col++;
	}
	assert_true(col <= max);
}

/* unfold - turn every "\n\t" fold back into a space, in place. */
static void unfold(char *v)
{
	char *d = v;

	for (const char *p = v; *p; p++) {
		if (p[0] == '\n' && p[1] == '\t') {
			*d++ = ' ';
			p++;
		} else {
			*d++ = *p;
		}
	}
	*d = '\0';
}

static void test_full_header(void **state)
{
	struct facts f;
	struct dkimv_sig sigs[2];
	char *v;

	(void)state;
	base_facts(&f);
	f.known |= FACT_MX | FACT_SPF | FACT_HELO_SPF | FACT_DKIM;
	f.mx = MX_VALID;
	f.spf = SPFR_PASS;
	f.helo_spf = SPFR_NONE;
	f.dkim = DKIMR_PASS;
	sigs[0] = make_sig(DKIMR_PASS, "example.com", "sel1", "abcdEFGH", 2048, "");
	sigs[1] = make_sig(DKIMR_FAIL, "other.example", "s2", "zz+1xY9Q", 1024, "body hash mismatch");
	v = build(&f, sigs, 2);
	assert_string_equal(v,
		"mx.example.net (mx=valid);\n"
		"\tspf=pass smtp.mailfrom=user@example.com;\n"
		"\tspf=none smtp.helo=mail.example.com;\n"
		"\tdkim=pass (2048-bit key) header.d=example.com header.s=sel1\n"
		"\theader.a=rsa-sha256 header.b=abcdEFGH;\n"
		"\tdkim=fail (body hash mismatch) header.d=other.example header.s=s2\n"
		"\theader.a=rsa-sha256 header.b=zz+1xY9Q");
	assert_header_safe(v, strlen("Authentication-Results: "), 78);
	free(v);
}

static void test_nothing_checked(void **state)
{
	struct facts f;
	char *v;

	(void)state;
	base_facts(&f);
	v = build(&f, NULL, 0);
	assert_string_equal(v, "mx.example.net; none");
	free(v);

	/* skipped results are not reported either */
	f.known |= FACT_MX | FACT_SPF | FACT_DKIM;
	f.mx = MX_SKIPPED;
	f.spf = SPFR_SKIPPED;
	f.dkim = DKIMR_SKIPPED;
	v = build(&f, NULL, 0);
	assert_string_equal(v, "mx.example.net; none");
	free(v);
}

static void test_unsigned_message(void **state)
{
	struct facts f;
	char *v;

	(void)state;
	base_facts(&f);
	f.known |= FACT_DKIM;
	f.dkim = DKIMR_NONE;
	v = build(&f, NULL, 0);
	assert_string_equal(v, "mx.example.net;\n\tdkim=none");
	free(v);
}

static void test_null_sender_uses_postmaster_at_helo(void **state)
{
	struct facts f;
	char *v;

	(void)state;
	base_facts(&f);
	f.sender[0] = '\0';
	f.known |= FACT_SPF;
	f.spf = SPFR_FAIL;
	v = build(&f, NULL, 0);
	assert_non_null(strstr(v, "spf=fail smtp.mailfrom=postmaster@mail.example.com"));
	free(v);
}

static void test_hostile_sender_and_helo(void **state)
{
	struct facts f;
	char *v;

	(void)state;
	base_facts(&f);
	f.known |= FACT_SPF | FACT_HELO_SPF;
	f.spf = SPFR_SOFTFAIL;
	f.helo_spf = SPFR_NEUTRAL;
	strcpy(f.sender, "evil\r\nX-Injected: \"yes\"@example.com");
	strcpy(f.helo, "bad\r\nX-Also: injected");
	v = build(&f, NULL, 0);
	assert_header_safe(v, strlen("Authentication-Results: "), 998);
	assert_null(strstr(v, "\nX-"));
	assert_non_null(strstr(v, "smtp.mailfrom=\"evil??X-Injected: \\\"yes\\\"\"@example.com"));
	assert_non_null(strstr(v, "smtp.helo=\"bad??X-Also: injected\""));
	free(v);

	/* a domain that is not a domain is left out rather than quoted */
	strcpy(f.sender, "user@exa mple.com");
	v = build(&f, NULL, 0);
	assert_null(strstr(v, "smtp.mailfrom"));
	free(v);
}

static void test_values_that_need_quotes(void **state)
{
	struct facts f;
	struct dkimv_sig sig;
	char *v;

	(void)state;
	base_facts(&f);
	f.known |= FACT_DKIM | FACT_HELO_SPF;
	f.dkim = DKIMR_PASS;
	f.helo_spf = SPFR_PASS;
	strcpy(f.helo, "[192.0.2.1]");
	sig = make_sig(DKIMR_PASS, "example.com", "s;1", "ab/cd=12", 1024, "");
	v = build(&f, &sig, 1);
	assert_non_null(strstr(v, "smtp.helo=\"[192.0.2.1]\""));
	assert_non_null(strstr(v, "header.s=\"s;1\""));
	assert_non_null(strstr(v, "header.b=\"ab/cd=12\""));
	free(v);
}

static void test_comments_escaped_and_folded(void **state)
{
	struct facts f;
	struct dkimv_sig sig;
	char *v;

	(void)state;
	base_facts(&f);
	f.known |= FACT_SPF | FACT_DKIM;
	f.spf = SPFR_PERMERROR;
	f.dkim = DKIMR_PERMERROR;
	snprintf(f.spf_detail, sizeof f.spf_detail,
		 "include:(evil) at example.com) broke\r\nX-Bad: 1 and this detail keeps going for a long "
		 "while so that it must be folded over more than one line of the header");
	sig = make_sig(DKIMR_PERMERROR, "", "", "", 0, "missing parameter(s) in signature data");
	v = build(&f, &sig, 1);
	assert_header_safe(v, strlen("Authentication-Results: "), 78);
	unfold(v);
	assert_non_null(strstr(v, "(include:\\(evil\\) at example.com\\) broke"));
	assert_non_null(strstr(v, "dkim=permerror (missing parameter\\(s\\) in signature data)"));
	/* no d=, s=, b= for a signature that had none */
	assert_null(strstr(v, "header.d="));
	assert_null(strstr(v, "header.b="));
	free(v);
}

static void test_requires_authserv_id(void **state)
{
	struct facts f;
	char *out = (char *)"x";

	(void)state;
	base_facts(&f);
	assert_int_equal(build_as("", &f, NULL, 0, &out), -1);
	assert_null(out);
	assert_int_equal(build_as(NULL, &f, NULL, 0, &out), -1);
}

static void test_authserv_id_quoted_when_odd(void **state)
{
	struct facts f;
	char *out = NULL;

	(void)state;
	base_facts(&f);
	assert_int_equal(build_as("odd;id", &f, NULL, 0, &out), 0);
	assert_string_equal(out, "\"odd;id\"; none");
	assert_true(authres_claims_id(out, "odd;id"));
	free(out);
}

static void test_received_spf(void **state)
{
	struct facts f;
	char *out = NULL;

	(void)state;
	base_facts(&f);
	f.known |= FACT_SPF;
	f.spf = SPFR_PASS;
	assert_int_equal(authres_received_spf(AUTHSERV, &f, &out), 0);
	assert_non_null(out);
	assert_string_equal(out,
		"pass (mx.example.net: domain of user@example.com designates\n"
		"\t192.0.2.1 as permitted sender) client-ip=192.0.2.1;\n"
		"\tenvelope-from=\"user@example.com\"; helo=mail.example.com;\n"
		"\treceiver=mx.example.net; identity=mailfrom;");
	assert_header_safe(out, strlen("Received-SPF: "), 78);
	free(out);
}

static void test_received_spf_ipv6_detail_and_helo(void **state)
{
	struct facts f;
	char *out = NULL;

	(void)state;
	base_facts(&f);
	strcpy(f.client_ip.text, "2001:db8::1");
	f.known |= FACT_SPF;
	f.spf = SPFR_FAIL;
	strcpy(f.spf_detail, "example.com: 2001:db8::1 is not in v=spf1 -all");
	assert_int_equal(authres_received_spf(AUTHSERV, &f, &out), 0);
	unfold(out);
	assert_non_null(strstr(out, "fail (mx.example.net: example.com: 2001:db8::1 is not in v=spf1 -all)"));
	assert_non_null(strstr(out, "client-ip=\"2001:db8::1\";"));
	free(out);

	/* MAIL FROM not checked: the HELO result is reported */
	f.spf = SPFR_SKIPPED;
	f.known |= FACT_HELO_SPF;
	f.helo_spf = SPFR_TEMPERROR;
	strcpy(f.helo, "bad\nhelo");
	assert_int_equal(authres_received_spf(AUTHSERV, &f, &out), 0);
	assert_non_null(out);
	assert_true(strncmp(out, "temperror (", 11) == 0);
	assert_non_null(strstr(out, "helo=\"bad?helo\";"));
	assert_non_null(strstr(out, "identity=helo;"));
	assert_null(strstr(out, "envelope-from"));
	assert_header_safe(out, strlen("Received-SPF: "), 998);
	free(out);
}

static void test_received_spf_nothing_to_say(void **state)
{
	struct facts f;
	char *out = (char *)"x";

	(void)state;
	base_facts(&f);
	assert_int_equal(authres_received_spf(AUTHSERV, &f, &out), 0);
	assert_null(out);
	f.known |= FACT_SPF;
	f.spf = SPFR_SKIPPED;
	assert_int_equal(authres_received_spf(AUTHSERV, &f, &out), 0);
	assert_null(out);
}

static void test_claims_id(void **state)
{
	(void)state;
	assert_true(authres_claims_id("mx.example.net; spf=pass smtp.mailfrom=a@b", AUTHSERV));
	assert_true(authres_claims_id("MX.Example.NET 1; none", AUTHSERV));
	assert_true(authres_claims_id(" mx.example.net;", AUTHSERV));
	assert_true(authres_claims_id("mx.example.net", AUTHSERV));
	assert_true(authres_claims_id("(comment) mx.example.net; dkim=pass", AUTHSERV));
	assert_true(authres_claims_id("(nested (c) \\) x)\r\n\t mx.example.net;", AUTHSERV));
	assert_true(authres_claims_id("\"mx.example.net\"; none", AUTHSERV));
	assert_true(authres_claims_id("mx.example.net(comment);none", AUTHSERV));
	/* malformed after our id: still claims it, and is removed */
	assert_true(authres_claims_id("mx.example.net/1; none", AUTHSERV));
	assert_false(authres_claims_id("mx.example.net.evil.example; none", AUTHSERV));
	assert_false(authres_claims_id("evil.mx.example.net; none", AUTHSERV));
	assert_false(authres_claims_id("other.example; spf=pass", AUTHSERV));
	assert_false(authres_claims_id("other.example; x=mx.example.net", AUTHSERV));
	assert_false(authres_claims_id("(mx.example.net) other.example;", AUTHSERV));
	assert_false(authres_claims_id("", AUTHSERV));
	assert_false(authres_claims_id("   ", AUTHSERV));
	assert_false(authres_claims_id("(unterminated mx.example.net", AUTHSERV));
	assert_false(authres_claims_id("\"mx.example.net; none", AUTHSERV));
	assert_false(authres_claims_id(NULL, AUTHSERV));
	assert_false(authres_claims_id("mx.example.net;", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_header),
		cmocka_unit_test(test_nothing_checked),
		cmocka_unit_test(test_unsigned_message),
		cmocka_unit_test(test_null_sender_uses_postmaster_at_helo),
		cmocka_unit_test(test_hostile_sender_and_helo),
		cmocka_unit_test(test_values_that_need_quotes),
		cmocka_unit_test(test_comments_escaped_and_folded),
		cmocka_unit_test(test_requires_authserv_id),
		cmocka_unit_test(test_authserv_id_quoted_when_odd),
		cmocka_unit_test(test_received_spf),
		cmocka_unit_test(test_received_spf_ipv6_detail_and_helo),
		cmocka_unit_test(test_received_spf_nothing_to_say),
		cmocka_unit_test(test_claims_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
