/*
 * test_spf.c - policy/spf.c and its libspf2 DNS layer against canned DNS
 * (tests/unit/fake_resolver.c): results, RFC 7208 4.3 initial processing,
 * the 4.6.4 limits, what is (not) asked of DNS, the deadline, other
 * lookups progressing while SPF waits, and a libspf2 fatal error ending
 * one check instead of the process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spf2/spf.h>

#include "policy/spf.h"
#include "tests/unit/fake_resolver.h"

#define TXT  ns_t_txt
#define A    ns_t_a
#define AAAA ns_t_aaaa
#define MX   ns_t_mx
#define PTR  ns_t_ptr

static struct spf_context *ctx;
static struct resolver *res;
static struct spf_outcome out;

static int group_setup(void **state)
{
	struct spf_options opt = { "DEFAULT %{i}", "receiver.example" };
	char err[256];

	(void)state;
	ctx = spf_context_new(&opt, err, sizeof(err));
	return ctx ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	spf_context_free(ctx);
	return 0;
}

static int setup(void **state)
{
	char err[128];

	(void)state;
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	res = resolver_new(NULL, err, sizeof(err));
	return res ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	resolver_free(res);
	fake_dns_reset();
	return 0;
}

/* add - register a canned answer or fail */
static void add(const char *name, int type, enum dns_status st, const char *spec)
{
	assert_int_equal(fake_dns_add(name, type, st, spec), 0);
}

/* client - a sockaddr for an address in text form */
static const struct sockaddr *client(const char *ip)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		fail_msg("bad address %s", ip);
	return (const struct sockaddr *)&ss;
}

/* check - MAIL FROM check of sender from ip */
static enum spf_result check(const char *ip, const char *sender)
{
	return spf_check_mailfrom(ctx, res, client(ip), "mail.example.net", sender, &out);
}

static void test_pass_fail_explanation(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK,
	    "TXT \"v=spf1 ip4:192.0.2.0/24 \" \"-all exp=why.example.org\"; TXT \"google-site-verification\"");
	add("why.example.org", TXT, DNS_OK, "TXT \"%{s} may not use %{i}\"");
	assert_int_equal(check("192.0.2.77", "a@example.org"), SPFR_PASS);
	assert_string_equal(out.identity, "a@example.org");
	assert_string_equal(out.domain, "example.org");
	assert_string_equal(out.explanation, "");
	assert_int_equal(check("198.51.100.1", "a@example.org"), SPFR_FAIL);
	assert_string_equal(out.explanation, "a@example.org may not use 198.51.100.1");
}

static void test_explanation_only_for_fail(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 include:inc.example.org ?all exp=why.example.org\"");
	add("inc.example.org", TXT, DNS_OK, "TXT \"v=spf1 -all exp=why.example.org\"");
	add("why.example.org", TXT, DNS_OK, "TXT \"not %{d}\"");
	/* an inner fail and a final neutral: RFC 7208 6.2 wants no explanation */
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_NEUTRAL);
	assert_int_equal(fake_dns_count("why.example.org", TXT), 0);
	/* a final fail after a redirect: looked up once, expanded with <domain> of then */
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 include:inc.example.org redirect=inc.example.org\"");
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_FAIL);
	assert_int_equal(fake_dns_count("why.example.org", TXT), 1);
	assert_string_equal(out.explanation, "not inc.example.org");
}

static void test_default_explanation_and_detail(void **state)
{
	enum spf_result r;
	char detail[256];

	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 -all\"");
	r = spf_check(ctx, res, client("198.51.100.1"), "h.example.net", "a@example.org",
		      &r, detail, sizeof(detail));
	assert_int_equal(r, SPFR_FAIL);
	assert_string_equal(detail, "DEFAULT 198.51.100.1");
}

static void test_none(void **state)
{
	(void)state;
	add("nodata.example", TXT, DNS_NODATA, NULL);
	add("other.example", TXT, DNS_OK, "TXT \"v=spf10 -all\"; TXT \"v=DMARC1\"");
	assert_int_equal(check("192.0.2.1", "a@nx.example"), SPFR_NONE);
	assert_int_equal(check("192.0.2.1", "a@nodata.example"), SPFR_NONE);
	assert_int_equal(check("192.0.2.1", "a@other.example"), SPFR_NONE);
}

static void test_errors(void **state)
{
	(void)state;
	add("servfail.example", TXT, DNS_SERVFAIL, NULL);
	add("twice.example", TXT, DNS_OK, "TXT \"v=spf1 -all\"; TXT \"v=spf1 +all\"");
	add("broken.example", TXT, DNS_OK, "TXT \"v=spf1 a:museum -all\"");
	add("inc.example", TXT, DNS_OK, "TXT \"v=spf1 include:servfail.example -all\"");
	assert_int_equal(check("192.0.2.1", "a@servfail.example"), SPFR_TEMPERROR);
	assert_int_equal(check("192.0.2.1", "a@twice.example"), SPFR_PERMERROR);
	assert_non_null(strstr(out.reason, "more than one SPF record"));
	assert_int_equal(check("192.0.2.1", "a@broken.example"), SPFR_PERMERROR);
	assert_non_null(strstr(out.reason, "museum"));
	assert_int_equal(check("192.0.2.1", "a@inc.example"), SPFR_TEMPERROR);
}

static void test_initial_processing(void **state)
{
	(void)state;
	/* RFC 7208 4.3: no usable domain means "none", without asking DNS */
	assert_int_equal(check("192.0.2.1", "a@[192.0.2.1]"), SPFR_NONE);
	assert_int_equal(check("192.0.2.1", "a@localhost"), SPFR_NONE);
	assert_int_equal(check("192.0.2.1", "a@bad..example.org"), SPFR_NONE);
	assert_int_equal(check("192.0.2.1",
			       "a@x1234567890123456789012345678901234567890123456789012345678901234.example"),
			 SPFR_NONE);
	assert_int_equal(spf_check_mailfrom(ctx, res, client("192.0.2.1"), "", "", &out), SPFR_NONE);
	assert_int_equal(fake_dns_total(), 0);
	/* not an IP client */
	{
		struct sockaddr_storage ss = { .ss_family = AF_UNIX };

		assert_int_equal(spf_check_mailfrom(ctx, res, (struct sockaddr *)&ss, "h.example",
						    "a@example.org", &out), SPFR_SKIPPED);
	}
}

static void test_null_sender_and_helo(void **state)
{
	(void)state;
	add("mail.example.net", TXT, DNS_OK, "TXT \"v=spf1 exists:%{l}.%{d} -all\"");
	add("postmaster.mail.example.net", A, DNS_OK, "A 127.0.0.2");
	assert_int_equal(check("192.0.2.1", ""), SPFR_PASS);
	assert_string_equal(out.identity, "postmaster@mail.example.net");
	assert_int_equal(spf_check_helo(ctx, res, client("192.0.2.1"), "mail.example.net", &out),
			 SPFR_PASS);
	assert_string_equal(out.domain, "mail.example.net");
	/* "@domain": no local-part means postmaster */
	assert_int_equal(check("192.0.2.1", "@mail.example.net"), SPFR_PASS);
	/* an internationalised domain is looked up in A-labels (RFC 8616) */
	add("xn--bcher-kva.example", TXT, DNS_OK, "TXT \"v=spf1 ip4:192.0.2.1 -all\"");
	assert_int_equal(check("192.0.2.1", "k\xc3\xa4the@b\xc3\xbc" "cher.example"), SPFR_PASS);
	assert_string_equal(out.domain, "xn--bcher-kva.example");
	/* a trailing dot on the domain is ignored */
	assert_int_equal(check("192.0.2.1", "postmaster@mail.example.net."), SPFR_PASS);
	assert_string_equal(out.domain, "mail.example.net");
}

static void test_ipv4_mapped_and_ipv6(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 -ip4:192.0.2.1 ip6:::ffff:192.0.2.1 ip6:2001:db8::/32 ?all\"");
	assert_int_equal(check("::ffff:192.0.2.1", "a@example.org"), SPFR_FAIL);
	assert_int_equal(check("2001:db8::5", "a@example.org"), SPFR_PASS);
	assert_int_equal(check("2001:db9::5", "a@example.org"), SPFR_NEUTRAL);
}

static void test_cidr_zero(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 a:h.example.org/0//0 mx//0 -all\"");
	add("h.example.org", A, DNS_OK, "A 203.0.113.9");
	add("h.example.org", AAAA, DNS_NODATA, NULL);
	add("example.org", MX, DNS_OK, "MX 10 mx.example.org");
	add("mx.example.org", AAAA, DNS_OK, "AAAA 2001:db8::99");
	/* /0 matches any address of the family the name has */
	assert_int_equal(check("198.51.100.7", "a@example.org"), SPFR_PASS);
	assert_int_equal(check("2001:db8:ffff::1", "a@example.org"), SPFR_PASS);
	add("mx.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(check("2001:db8:ffff::1", "a@example.org"), SPFR_FAIL);
}

static void test_term_limit(void **state)
{
	char name[64], spec[128];

	(void)state;
	for (int i = 0; i < 14; i++) {
		snprintf(name, sizeof(name), "i%d.example", i);
		snprintf(spec, sizeof(spec), "TXT \"v=spf1 include:i%d.example -all\"", i + 1);
		add(name, TXT, DNS_OK, spec);
	}
	assert_int_equal(check("192.0.2.1", "a@i0.example"), SPFR_PERMERROR);
	assert_non_null(strstr(out.reason, "10 DNS-querying terms"));
	/* the record of the domain itself plus 10 includes; the 11th is never asked */
	assert_int_equal(fake_dns_count(NULL, TXT), 11);
	assert_int_equal(fake_dns_count("i11.example", TXT), 0);
}

static void test_at_term_limit(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 a a a a a a a a a a ip4:192.0.2.1 -all\"");
	add("example.org", A, DNS_OK, "A 198.51.100.1");
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_PASS);
	assert_int_equal(fake_dns_count("example.org", A), 10);
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 a a a a a a a a a a a ip4:192.0.2.1 -all\"");
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_PERMERROR);
}

static void test_p_macro_is_not_a_term(void **state)
{
	(void)state;
	/* nine terms plus exists: ten; the %{p} lookups (PTR + A) come on top */
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 a a a a a a a a a exists:%{p}.x.example.org -all\"");
	add("example.org", A, DNS_OK, "A 198.51.100.1");
	add("1.2.0.192.in-addr.arpa", PTR, DNS_OK, "PTR bad.example.org; PTR h.example.org");
	add("bad.example.org", A, DNS_SERVFAIL, NULL);
	add("h.example.org", A, DNS_OK, "A 192.0.2.1");
	add("h.example.org.x.example.org", A, DNS_OK, "A 127.0.0.2");
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_PASS);
	assert_int_equal(fake_dns_count("1.2.0.192.in-addr.arpa", PTR), 1);
}

static void test_void_limit(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 a:v1.example a:v2.example mx:v3.example ?all\"");
	add("v2.example", A, DNS_NODATA, NULL);
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_PERMERROR);
	assert_non_null(strstr(out.reason, "void"));
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 a:v1.example a:v2.example ?all exp=v4.example\"");
	/* two voids are allowed; the explanation lookup is not counted */
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_NEUTRAL);
}

static void test_mx_limit(void **state)
{
	char spec[1024];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 11; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%sMX %d m%d.example.org",
				      i ? "; " : "", i, i);
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 mx -all\"");
	add("example.org", MX, DNS_OK, spec);
	add("m0.example.org", A, DNS_OK, "A 192.0.2.1");
	/* more than 10 MX records: permerror, even though the first one matches */
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_PERMERROR);
	assert_int_equal(fake_dns_count(NULL, A), 0);
}

static void test_ptr_names(void **state)
{
	char spec[2048], name[64];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 30; i++) {
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%sPTR p%d.example.org",
				      i ? "; " : "", i);
		snprintf(name, sizeof(name), "p%d.example.org", i);
		add(name, A, i == 3 ? DNS_SERVFAIL : DNS_OK, i == 25 ? "A 192.0.2.1" : "A 198.51.100.1");
	}
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 ptr -all\"");
	add("1.2.0.192.in-addr.arpa", PTR, DNS_OK, spec);
	/* only 10 names are validated; a failing one is skipped (RFC 7208 5.5) */
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_FAIL);
	assert_int_equal(fake_dns_count(NULL, A), 10);
	assert_int_equal(fake_dns_count("p25.example.org", A), 0);
}

static void test_deadline(void **state)
{
	struct timespec dl;

	(void)state;
	assert_int_equal(fake_dns_hang("slow.example", TXT), 0);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_nsec += 200 * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	resolver_set_deadline(res, &dl);
	assert_int_equal(check("192.0.2.1", "a@slow.example"), SPFR_TEMPERROR);
	resolver_set_deadline(res, NULL);
}

struct bystander {
	int calls;
	enum dns_status status;
};

/* bystander_cb - another check's lookup (think: the MX check) */
static void bystander_cb(void *arg, enum dns_status status, const unsigned char *answer, int len)
{
	struct bystander *b = arg;

	(void)answer;
	(void)len;
	b->calls++;
	b->status = status;
}

static void test_other_lookups_progress(void **state)
{
	struct bystander b = { 0, DNS_ERROR };

	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx.example.org");
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 -all\"");
	assert_int_equal(resolver_query(res, "example.org", MX, bystander_cb, &b), 0);
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_FAIL);
	/* the MX answer came in while SPF waited for its TXT */
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, DNS_OK);
}

/*
 * SPF_dns_rr_new_init - interposed for the test: fail the Nth call, as an
 * allocation would under memory pressure. The layer then hands libspf2 no
 * answer, and libspf2 reacts with its fatal error path (SPF_error, then
 * abort() in the stock library): the check must end as temperror instead.
 */
static int rr_calls_left = -1;

SPF_dns_rr_t *SPF_dns_rr_new_init(SPF_dns_server_t *srv, const char *domain, ns_type type,
				  int ttl, SPF_dns_stat_t herrno)
{
	static SPF_dns_rr_t *(*real)(SPF_dns_server_t *, const char *, ns_type, int, SPF_dns_stat_t);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "SPF_dns_rr_new_init");
	if (rr_calls_left >= 0 && rr_calls_left-- == 0)
		return NULL;
	return real(srv, domain, type, ttl, herrno);
}

static void test_fatal_error_is_temperror(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 a -all\"");
	add("example.org", A, DNS_OK, "A 198.51.100.1");
	rr_calls_left = 0;      /* the first rr the layer builds: the answer for "a" */
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_TEMPERROR);
	rr_calls_left = -1;
	assert_non_null(strstr(out.reason, "libspf2 internal error"));
	/* the process and the next check are fine */
	assert_int_equal(check("192.0.2.1", "a@example.org"), SPFR_FAIL);
}

static void test_hostile_sender_text(void **state)
{
	(void)state;
	add("example.org", TXT, DNS_OK, "TXT \"v=spf1 -exists:%{L}.%{l}.x.example.org ~all\"");
	/* 8-bit and control bytes in the local-part never reach libspf2's URL encoder */
	assert_int_equal(check("192.0.2.1", "j\xc3\xb6hn\x01\x7f%{d}@example.org"), SPFR_SOFTFAIL);
	assert_non_null(strchr(out.identity, '?'));
	assert_null(strchr(out.identity, '\x01'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pass_fail_explanation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explanation_only_for_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_explanation_and_detail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_processing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sender_and_helo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_mapped_and_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cidr_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_term_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at_term_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_p_macro_is_not_a_term, setup, teardown),
		cmocka_unit_test_setup_teardown(test_void_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mx_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ptr_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_lookups_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_error_is_temperror, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_sender_text, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
