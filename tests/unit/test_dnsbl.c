/*
 * test_dnsbl.c - policy/dnsbl.c: filters, query names, one answer, the
 * combined value, the self-test, the rate limit, and the asynchronous
 * check against canned DNS (tests/unit/fake_resolver.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policy/dnsbl.h"
#include "tests/unit/dns_build.h"
#include "tests/unit/fake_resolver.h"

#define A ns_t_a

/* A zone with a secret in it, as Spamhaus DQS zones have: it must never show. */
#define KEY  "k3y0123456789abcdefsecret"
#define ZONE KEY ".zen.dq.example"

static struct resolver *res;
static struct dnsbl_spec spec;
static struct dnsbl_check chk;

static int setup(void **state)
{
	char err[128];

	(void)state;
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	res = resolver_new(NULL, err, sizeof err);
	if (dnsbl_spec_init(&spec, "zen", ZONE, "127.0.0.[2..11]", NULL, err, sizeof err) < 0) {
		print_error("%s\n", err);
		return -1;
	}
	memset(&chk, 0, sizeof chk);
	return res ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dnsbl_check_abandon(&chk);
	resolver_free(res);
	fake_dns_reset();
	return 0;
}

/* no_zone - the text never shows the zone, nor its key */
static void no_zone(const char *text)
{
	if (strcasestr(text, KEY) || strcasestr(text, "zen.dq.example"))
		print_error("'%s' shows the zone\n", text);
	assert_null(strcasestr(text, KEY));
	assert_null(strcasestr(text, "zen.dq.example"));
}

/* has - text contains s */
static void has(const char *text, const char *s)
{
	if (!strstr(text, s))
		print_error("'%s' lacks '%s'\n", text, s);
	assert_non_null(strstr(text, s));
}

/* code - 127.0.0.2 as a host-order code */
static uint32_t code(const char *dotted)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, dotted, &a), 1);
	return ntohl(a.s_addr);
}

/* parse_ok - text parses */
static void parse_ok(struct dnsbl_codes *c, const char *text)
{
	char err[256] = "";

	if (dnsbl_codes_parse(c, text, err, sizeof err) != 0)
		print_error("'%s': %s\n", text, err);
	assert_int_equal(dnsbl_codes_parse(c, text, err, sizeof err), 0);
}

/* parse_err - text is refused with a reason that says why */
static void parse_err(const char *text, const char *reason)
{
	struct dnsbl_codes c;
	char err[256] = "";

	assert_int_equal(dnsbl_codes_parse(&c, text, err, sizeof err), -1);
	has(err, reason);
	assert_false(c.any);
	assert_int_equal(c.n, 0);
}

/* ---- filters ------------------------------------------------------------ */

static void filter_forms(void **state)
{
	struct dnsbl_codes c;

	(void)state;
	parse_ok(&c, "127.0.0.2");
	assert_true(dnsbl_codes_match(&c, code("127.0.0.2")));
	assert_false(dnsbl_codes_match(&c, code("127.0.0.3")));
	assert_false(dnsbl_codes_match(&c, code("127.0.1.2")));

	parse_ok(&c, "127.0.0.[2..11]");
	assert_false(dnsbl_codes_match(&c, code("127.0.0.1")));
	for (int i = 2; i <= 11; i++)
		assert_true(dnsbl_codes_match(&c, 0x7f000000u | (uint32_t)i));
	assert_false(dnsbl_codes_match(&c, code("127.0.0.12")));
	assert_false(dnsbl_codes_match(&c, code("127.0.1.5")));

	parse_ok(&c, "127.0.1.[2;3;4]");
	assert_true(dnsbl_codes_match(&c, code("127.0.1.3")));
	assert_false(dnsbl_codes_match(&c, code("127.0.1.5")));

	/* brackets in any octet, lists with ranges, several patterns */
	parse_ok(&c, "127.0.[0;1].[2..4;9], 127.0.2.[0..255]; 127.1.0.1  127.0.3.7");
	assert_int_equal(c.n, 4);
	assert_true(dnsbl_codes_match(&c, code("127.0.1.9")));
	assert_true(dnsbl_codes_match(&c, code("127.0.0.3")));
	assert_false(dnsbl_codes_match(&c, code("127.0.0.5")));
	assert_true(dnsbl_codes_match(&c, code("127.0.2.0")));
	assert_true(dnsbl_codes_match(&c, code("127.0.2.255")));
	assert_true(dnsbl_codes_match(&c, code("127.1.0.1")));
	assert_true(dnsbl_codes_match(&c, code("127.0.3.7")));
	assert_false(dnsbl_codes_match(&c, code("127.0.3.8")));
	assert_false(dnsbl_codes_match(&c, code("128.0.2.0")));

	parse_ok(&c, "[127].0.0.[0..255]");
	assert_true(dnsbl_codes_match(&c, code("127.0.0.200")));
	parse_ok(&c, " ,127.0.0.2, ");
	parse_ok(&c, "127.0.[0;1].[1;2;255]");       /* 127.0.0.2 and 127.0.1.2 can count */
	parse_ok(&c, "127.[0..255].[0..255].[0..255]");

	parse_ok(&c, "any");
	assert_true(c.any);
	assert_true(dnsbl_codes_match(&c, code("127.0.0.2")));
	assert_true(dnsbl_codes_match(&c, code("127.200.1.9")));
	assert_false(dnsbl_codes_match(&c, code("10.0.0.2")));
	parse_ok(&c, "ANY");
	assert_true(c.any);

	/* sixteen patterns fit, a seventeenth does not */
	char many[512] = "";
	for (int i = 0; i < DNSBL_CODES_SPECS; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "127.0.0.%d,", i + 2);
	parse_ok(&c, many);
	assert_int_equal(c.n, DNSBL_CODES_SPECS);
	strcat(many, "127.0.0.99");
	parse_err(many, "too many patterns");

	/* an empty filter matches nothing */
	memset(&c, 0, sizeof c);
	assert_false(dnsbl_codes_match(&c, code("127.0.0.2")));
}

static void filter_errors(void **state)
{
	(void)state;
	parse_err("127.0.0.256", "bad octet 256 in 127.0.0.256");
	parse_err("127.0.0.[2..300]", "bad octet 300 in 127.0.0.[2..300]");
	parse_err("127.0.0.0002", "bad octet 0002");
	parse_err("127.0.0.[11..2]", "range 11..2 is backwards in 127.0.0.[11..2]");
	parse_err("127.0.0", "127.0.0 has 3 octets, a filter needs 4");
	parse_err("127", "127 has 1 octet, a filter needs 4");
	parse_err("127.0.0.2.5", "more than 4 octets");
	parse_err("127.0.0.[2..11", "unclosed [ in 127.0.0.[2..11");
	parse_err("127.0.0.[2..]", "a range needs an end");
	parse_err("127.0.0.[]", "expected a number inside [...]");
	parse_err("127.0.0.[2;;3]", "expected a number inside [...]");
	parse_err("127.0.0.[2:3]", "unexpected ':' inside [...]");
	parse_err("127.0.0.x", "expected a number");
	parse_err("127.0.0.2x", "unexpected 'x'");
	parse_err("127..0.2", "expected a number");
	parse_err("127.0.0.", "missing octet");
	parse_err("10.0.0.2", "filter 10.0.0.2 is outside 127.0.0.0/8");
	parse_err("[126..127].0.0.2", "outside 127.0.0.0/8");
	parse_err("127.255.255.254", "127.255.255.254 matches only error codes");
	parse_err("127.255.255.[0..255]", "matches only error codes");
	parse_err("127.0.0.2; 127.0.1.255", "127.0.1.255 matches only error codes");
	parse_err("127.0.0.1", "127.0.0.1 matches only error codes");
	parse_err("", "empty filter");
	parse_err(" , ; ", "empty filter");
	parse_err("any, 127.0.0.2", "'any' cannot be combined");
	parse_err("127.0.0.2 anything", "expected a number");
	parse_err(NULL, "empty filter");
}

/* ---- query names -------------------------------------------------------- */

static void query_names_ip(void **state)
{
	unsigned char v4[4] = { 192, 0, 2, 99 }, v6[16], mapped[16] = { 0 };
	char buf[DNSBL_QNAME_MAX];

	(void)state;
	assert_int_equal(dnsbl_query_name("zen.example.org", AF_INET, v4, buf, sizeof buf), 26);
	assert_string_equal(buf, "99.2.0.192.zen.example.org");

	/* RFC 5782 section 2.4's example: 2001:db8:1:2:3:4:567:89ab */
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2:3:4:567:89ab", v6), 1);
	assert_true(dnsbl_query_name("bl.example", AF_INET6, v6, buf, sizeof buf) > 0);
	assert_string_equal(buf, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");

	/* IPv4-mapped IPv6 is asked as IPv4 */
	mapped[10] = mapped[11] = 0xff;
	memcpy(mapped + 12, v4, 4);
	assert_int_equal(dnsbl_query_name("zen.example.org", AF_INET6, mapped, buf, sizeof buf), 26);
	assert_string_equal(buf, "99.2.0.192.zen.example.org");

	/* other families, tiny buffers, names over 253 octets */
	assert_int_equal(dnsbl_query_name("zen.example.org", AF_UNIX, v4, buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(dnsbl_query_name("zen.example.org", AF_INET, v4, buf, 26), -1);
	assert_string_equal(buf, "");
	assert_int_equal(dnsbl_query_name("zen.example.org", AF_INET, v4, buf, 27), 26);
	char zone[DNSBL_ZONE_MAX];
	memset(zone, 'a', sizeof zone);
	for (int i = 63; i < DNSBL_ZONE_MAX - 1; i += 64)
		zone[i] = '.';
	zone[DNSBL_ZONE_MAX - 1] = '\0';       /* 189 octets: the IPv6 query is exactly 253 */
	assert_int_equal(dnsbl_query_name(zone, AF_INET6, v6, buf, sizeof buf), 253);
	assert_int_equal(strlen(buf), 253);
	char longer[DNSBL_ZONE_MAX + 2];
	snprintf(longer, sizeof longer, "a%s", zone);   /* one octet more: 254 */
	assert_int_equal(dnsbl_query_name(longer, AF_INET6, v6, buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_true(dnsbl_query_name(longer, AF_INET, v4, buf, sizeof buf) > 0);
}

static void query_names_domain(void **state)
{
	char buf[DNSBL_QNAME_MAX], err[128], dom[300];

	(void)state;
	assert_int_equal(dnsbl_query_domain("dbl.example", "Mail.EXAMPLE.org.", buf, sizeof buf, err, sizeof err),
			 (int)strlen("mail.example.org.dbl.example"));
	assert_string_equal(buf, "mail.example.org.dbl.example");
	assert_true(dnsbl_query_domain("dbl.example.", "_dmarc.x-y.example", buf, sizeof buf, NULL, 0) > 0);
	assert_string_equal(buf, "_dmarc.x-y.example.dbl.example");

	/* exactly 253 octets is fine, 254 is not: "DOMAIN.dbl.example" (12 octets of zone and dot) */
	memset(dom, 0, sizeof dom);
	for (int i = 0; i < 241; i++)
		dom[i] = (i % 60 == 59) ? '.' : 'a';
	assert_int_equal(strlen(dom), 241);
	assert_int_equal(dnsbl_query_domain("dbl.example", dom, buf, sizeof buf, err, sizeof err), 253);
	dom[241] = 'a';
	assert_int_equal(dnsbl_query_domain("dbl.example", dom, buf, sizeof buf, err, sizeof err), -1);
	has(err, "too long");
	assert_string_equal(buf, "");

	/* labels: 63 octets fine, 64 not; empty ones refused */
	memset(dom, 0, sizeof dom);
	memset(dom, 'b', 63);
	strcat(dom, ".example");
	assert_true(dnsbl_query_domain("dbl.example", dom, buf, sizeof buf, err, sizeof err) > 0);
	memset(dom, 0, sizeof dom);
	memset(dom, 'b', 64);
	strcat(dom, ".example");
	assert_int_equal(dnsbl_query_domain("dbl.example", dom, buf, sizeof buf, err, sizeof err), -1);
	has(err, "longer than 63");

	static const char *const bad[] = { "", ".", "a..example", ".example", "example..",
					   "a b.example", "[192.0.2.1]", "ex\\046ample.org", "caf\xc3\xa9.example" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(dnsbl_query_domain("dbl.example", bad[i], buf, sizeof buf, err, sizeof err), -1);
		assert_string_equal(buf, "");
		assert_true(err[0] != '\0');
	}
	assert_int_equal(dnsbl_query_domain("dbl.example", NULL, buf, sizeof buf, err, sizeof err), -1);
	assert_int_equal(dnsbl_query_domain("dbl.example", "a.example", buf, 10, err, sizeof err), -1);
}

static void zones_and_specs(void **state)
{
	char out[DNSBL_ZONE_MAX], err[256], zone[300];
	struct dnsbl_spec s;

	(void)state;
	assert_int_equal(dnsbl_zone_check("ZEN.Spamhaus.ORG.", out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "zen.spamhaus.org");
	static const char *const bad[] = { "", "zen", "zen..example", "zen.example/x", "zen.127", "1.2.3.4" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(dnsbl_zone_check(bad[i], out, sizeof out, err, sizeof err), -1);
	memset(zone, 0, sizeof zone);
	for (int i = 0; i < DNSBL_ZONE_MAX - 1; i++)
		zone[i] = i % 50 == 49 ? '.' : 'k';
	assert_int_equal(dnsbl_zone_check(zone, out, sizeof out, err, sizeof err), 0);
	strcat(zone, "k");
	assert_int_equal(dnsbl_zone_check(zone, out, sizeof out, err, sizeof err), -1);
	has(err, "zone too long");
	no_zone(err);

	assert_int_equal(dnsbl_spec_init(&s, "dbl", "dbl.example", "127.0.1.[2..99]", "127.0.1.[100..199]",
					 err, sizeof err), 0);
	assert_string_equal(s.name, "dbl");
	assert_string_equal(s.zone, "dbl.example");
	assert_true(dnsbl_codes_match(&s.errors, code("127.0.1.150")));
	/* the default filter is RFC 5782's 127.0.0.2 */
	assert_int_equal(dnsbl_spec_init(&s, "x", "bl.example", NULL, "", err, sizeof err), 0);
	assert_true(dnsbl_codes_match(&s.filter, code("127.0.0.2")));
	assert_false(dnsbl_codes_match(&s.filter, code("127.0.0.3")));
	assert_int_equal(s.errors.n, 0);

	/* refusals name the list, never the zone */
	assert_int_equal(dnsbl_spec_init(&s, "zen", KEY ".zen..example", NULL, NULL, err, sizeof err), -1);
	has(err, "list zen: bad zone");
	no_zone(err);
	assert_int_equal(dnsbl_spec_init(&s, "zen", ZONE, "127.0.0.256", NULL, err, sizeof err), -1);
	has(err, "list zen: bad octet 256");
	no_zone(err);
	assert_string_equal(s.zone, "");
	assert_int_equal(dnsbl_spec_init(&s, "zen", ZONE, NULL, "any", err, sizeof err), -1);
	has(err, "cannot be 'any'");
	assert_int_equal(dnsbl_spec_init(&s, "zen", ZONE, NULL, "127.0.0.[9..1]", err, sizeof err), -1);
	has(err, "list zen: error codes: range 9..1 is backwards");
	assert_int_equal(dnsbl_spec_init(&s, "", ZONE, NULL, NULL, err, sizeof err), -1);
	assert_int_equal(dnsbl_spec_init(&s, "z.en", ZONE, NULL, NULL, err, sizeof err), -1);
	assert_int_equal(dnsbl_spec_init(&s, "abcdefghijklmnopqrstuvwxyz0123456", ZONE, NULL, NULL, err, sizeof err), -1);
	assert_int_equal(dnsbl_spec_init(&s, "abcdefghijklmnopqrstuvwxyz012345", ZONE, NULL, NULL, err, sizeof err), 0);
}

/* ---- one answer --------------------------------------------------------- */

/* judge - classify a built answer for the zen spec */
static enum dnsbl_result judge(enum dns_status st, const char *records, struct dnsbl_answer *out)
{
	unsigned char pkt[4096];
	int len = 0;

	if (st == DNS_OK || st == DNS_NXDOMAIN || st == DNS_NODATA) {
		len = dns_build(pkt, sizeof pkt, "2.0.2.192." ZONE, A, st == DNS_NXDOMAIN ? 3 : 0, records);
		assert_true(len > 0);
	}
	return dnsbl_classify(&spec.filter, &spec.errors, st, len ? pkt : NULL, len, out);
}

static void classify_values(void **state)
{
	struct dnsbl_answer a;
	char buf[16];

	(void)state;
	assert_int_equal(judge(DNS_OK, "A 127.0.0.2", &a), DNSBL_LISTED);
	assert_int_equal(a.ncodes, 1);
	assert_string_equal(dnsbl_code_format(a.code[0], buf, sizeof buf), "127.0.0.2");
	assert_null(a.why);

	/* several codes: only the counted ones are kept for a listing */
	assert_int_equal(judge(DNS_OK, "A 127.0.0.4; A 127.0.0.20; A 127.0.0.10", &a), DNSBL_LISTED);
	assert_int_equal(a.ncodes, 2);
	assert_int_equal(a.code[0], code("127.0.0.4"));
	assert_int_equal(a.code[1], code("127.0.0.10"));

	/* a 127/8 code outside the filter is not a listing (Postfix): clean, the code kept */
	assert_int_equal(judge(DNS_OK, "A 127.0.0.20", &a), DNSBL_CLEAN);
	assert_int_equal(a.ncodes, 1);
	assert_int_equal(a.code[0], code("127.0.0.20"));

	assert_int_equal(judge(DNS_NXDOMAIN, NULL, &a), DNSBL_CLEAN);
	assert_int_equal(a.ncodes, 0);
	assert_int_equal(judge(DNS_NODATA, NULL, &a), DNSBL_CLEAN);

	static const enum dns_status temp[] = { DNS_SERVFAIL, DNS_TIMEOUT, DNS_ERROR, DNS_BADNAME };
	for (size_t i = 0; i < sizeof temp / sizeof temp[0]; i++) {
		assert_int_equal(judge(temp[i], NULL, &a), DNSBL_TEMPERROR);
		assert_non_null(a.why);
		assert_int_equal(a.ncodes, 0);
	}
	assert_int_equal(judge(DNS_TIMEOUT, NULL, &a), DNSBL_TEMPERROR);
	assert_string_equal(a.why, "timeout");

	/* OK without a packet, or with one that is no DNS message */
	assert_int_equal(dnsbl_classify(&spec.filter, NULL, DNS_OK, NULL, 0, &a), DNSBL_TEMPERROR);
	unsigned char junk[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c };
	assert_int_equal(dnsbl_classify(&spec.filter, NULL, DNS_OK, junk, sizeof junk, &a), DNSBL_TEMPERROR);
	assert_string_equal(a.why, "malformed answer");
	/* an A answer holding only AAAA records */
	assert_int_equal(judge(DNS_OK, "AAAA 2001:db8::2", &a), DNSBL_TEMPERROR);
	/* a bad A RDATA length is malformed, not a listing */
	unsigned char pkt[512];
	int len = dns_build(pkt, sizeof pkt, "x.example", A, 0, "A 127.0.0.2");
	assert_true(len > 0);
	pkt[len - 5] = 5;                        /* RDLENGTH 4 -> 5 */
	assert_int_equal(dnsbl_classify(&spec.filter, NULL, DNS_OK, pkt, len, &a), DNSBL_TEMPERROR);
	assert_int_equal(dnsbl_classify(&spec.filter, NULL, DNS_OK, pkt, len - 1, &a), DNSBL_TEMPERROR);
}

static void classify_error_codes(void **state)
{
	static const struct { const char *rec, *why; } cases[] = {
		{ "A 192.0.2.1", "outside 127.0.0.0/8" },
		{ "A 10.0.0.2", "outside 127.0.0.0/8" },
		{ "A 128.0.0.2", "outside 127.0.0.0/8" },
		{ "A 126.255.255.255", "outside 127.0.0.0/8" },
		{ "A 127.255.255.254", "refused the query" },
		{ "A 127.255.255.252", "refused the query" },
		{ "A 127.255.255.0", "refused the query" },
		{ "A 127.255.255.255", "refused the query" },
		{ "A 127.0.1.255", "DBL" },
		{ "A 127.0.0.1", "never a listing" },
		/* one error code spoils a listing in the same answer */
		{ "A 127.0.0.2; A 127.255.255.254", "refused the query" },
		{ "A 127.0.0.3; A 0.0.0.0", "outside 127.0.0.0/8" },
	};
	struct dnsbl_answer a;
	struct dnsbl_codes any;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(judge(DNS_OK, cases[i].rec, &a), DNSBL_UNUSABLE);
		has(a.why, cases[i].why);
		assert_int_equal(a.ncodes, 1);
		/* whatever the filter says */
		parse_ok(&any, "any");
		unsigned char pkt[512];
		int len = dns_build(pkt, sizeof pkt, "q.example", A, 0, cases[i].rec);
		assert_int_equal(dnsbl_classify(&any, NULL, DNS_OK, pkt, len, &a), DNSBL_UNUSABLE);
	}
	/* neighbours of the error codes are ordinary */
	parse_ok(&any, "any");
	assert_null(dnsbl_code_error(code("127.255.254.255"), NULL));
	assert_null(dnsbl_code_error(code("127.0.1.254"), NULL));
	assert_null(dnsbl_code_error(code("127.0.0.2"), NULL));
	assert_null(dnsbl_code_error(code("127.0.0.0"), NULL));

	/* the list's own error set */
	char err[128];
	struct dnsbl_spec s;
	assert_int_equal(dnsbl_spec_init(&s, "dbl", "dbl.example", "127.0.1.[2..99]", "127.0.1.[100..199]",
					 err, sizeof err), 0);
	unsigned char pkt[512];
	int len = dns_build(pkt, sizeof pkt, "q.example", A, 0, "A 127.0.1.150");
	assert_int_equal(dnsbl_classify(&s.filter, &s.errors, DNS_OK, pkt, len, &a), DNSBL_UNUSABLE);
	has(a.why, "list's error codes");
	len = dns_build(pkt, sizeof pkt, "q.example", A, 0, "A 127.0.1.2");
	assert_int_equal(dnsbl_classify(&s.filter, &s.errors, DNS_OK, pkt, len, &a), DNSBL_LISTED);
	len = dns_build(pkt, sizeof pkt, "q.example", A, 0, "A 127.0.1.200");
	assert_int_equal(dnsbl_classify(&s.filter, &s.errors, DNS_OK, pkt, len, &a), DNSBL_CLEAN);
}

static void classify_huge_and_many(void **state)
{
	char spec_text[4096] = "";
	struct dnsbl_answer a;

	(void)state;
	/* 32 records: judged, but only 4 codes kept */
	for (int i = 0; i < DNSBL_ANSWER_MAX; i++)
		snprintf(spec_text + strlen(spec_text), sizeof spec_text - strlen(spec_text), "%sA 127.0.0.%d",
			 i ? "; " : "", 2 + i % 10);
	assert_int_equal(judge(DNS_OK, spec_text, &a), DNSBL_LISTED);
	assert_int_equal(a.ncodes, DNSBL_CODES_KEPT);
	assert_int_equal(a.more, DNSBL_ANSWER_MAX - DNSBL_CODES_KEPT);

	/* 33 records is no blocklist answer */
	strcat(spec_text, "; A 127.0.0.2");
	assert_int_equal(judge(DNS_OK, spec_text, &a), DNSBL_UNUSABLE);
	has(a.why, "more than 32");

	/* a CNAME chain inside the answer to a listing is followed by the parser */
	assert_int_equal(judge(DNS_OK, "CNAME other.example; @other.example A 127.0.0.3", &a), DNSBL_LISTED);
	/* records of other owners do not count */
	assert_int_equal(judge(DNS_OK, "@elsewhere.example A 127.0.0.2; A 127.0.0.30", &a), DNSBL_CLEAN);
}

/* ---- combination -------------------------------------------------------- */

/* outcome - a target with a result and a code */
static void outcome(struct dnsbl_outcome *o, const char *target, enum dnsbl_result r, const char *c,
		    const char *why)
{
	memset(o, 0, sizeof *o);
	snprintf(o->target, sizeof o->target, "%s", target);
	o->ans.result = r;
	o->ans.why = why;
	if (c) {
		o->ans.code[0] = code(c);
		o->ans.ncodes = 1;
	}
}

static void combine_rules(void **state)
{
	struct dnsbl_outcome o[4];
	char d[FACT_DETAIL_MAX];

	(void)state;
	memset(o, 0, sizeof o);
	/* nothing to look up */
	assert_int_equal(dnsbl_combine(&spec, o, 0, 0, d, sizeof d), DNSBL_CLEAN);
	assert_string_equal(d, "zen: nothing to look up");

	outcome(&o[0], "192.0.2.1", DNSBL_CLEAN, NULL, NULL);
	assert_int_equal(dnsbl_combine(&spec, o, 1, 0, d, sizeof d), DNSBL_CLEAN);
	assert_string_equal(d, "zen: 192.0.2.1 not listed");
	outcome(&o[1], "mx2.example.org", DNSBL_CLEAN, "127.0.0.20", NULL);
	assert_int_equal(dnsbl_combine(&spec, o, 2, 0, d, sizeof d), DNSBL_CLEAN);
	assert_string_equal(d, "zen: none of 2 targets listed (mx2.example.org answered 127.0.0.20, not counted)");
	assert_int_equal(dnsbl_combine(&spec, o + 1, 1, 0, d, sizeof d), DNSBL_CLEAN);
	assert_string_equal(d, "zen: mx2.example.org not listed (answered 127.0.0.20, not counted)");

	/* fail closed: never clean when a query failed, had no answer, or targets are missing */
	outcome(&o[2], "mx3.example.org", DNSBL_TEMPERROR, NULL, "timeout");
	assert_int_equal(dnsbl_combine(&spec, o, 3, 0, d, sizeof d), DNSBL_TEMPERROR);
	assert_string_equal(d, "zen: lookup of mx3.example.org failed: timeout");
	outcome(&o[2], "mx3.example.org", DNSBL_UNKNOWN, NULL, NULL);
	assert_int_equal(dnsbl_combine(&spec, o, 3, 0, d, sizeof d), DNSBL_TEMPERROR);
	assert_string_equal(d, "zen: lookup of mx3.example.org failed: no answer");
	assert_int_equal(dnsbl_combine(&spec, o, 2, DNSBL_INCOMPLETE, d, sizeof d), DNSBL_TEMPERROR);
	has(d, "not every target is known");
	outcome(&o[1], "mx2.example.org", DNSBL_TEMPERROR, NULL, "servfail");
	outcome(&o[2], "mx3.example.org", DNSBL_TEMPERROR, NULL, "timeout");
	assert_int_equal(dnsbl_combine(&spec, o, 3, 0, d, sizeof d), DNSBL_TEMPERROR);
	assert_string_equal(d, "zen: lookup of mx2.example.org failed: servfail (and 1 more failed)");

	/* the list error beats a failure */
	outcome(&o[3], "mx4.example.org", DNSBL_UNUSABLE, "127.255.255.254",
		dnsbl_code_error(code("127.255.255.254"), NULL));
	assert_int_equal(dnsbl_combine(&spec, o, 4, 0, d, sizeof d), DNSBL_UNUSABLE);
	has(d, "zen: answer 127.255.255.254 for mx4.example.org is a list error: the list refused the query");

	/* a listing beats everything; the first listed target (array order) and its code are named */
	outcome(&o[2], "mx3.example.org", DNSBL_LISTED, "127.0.0.4", NULL);
	outcome(&o[1], "mx2.example.org", DNSBL_LISTED, "127.0.0.2", NULL);
	o[1].ans.code[1] = code("127.0.0.10");
	o[1].ans.ncodes = 2;
	assert_int_equal(dnsbl_combine(&spec, o, 4, DNSBL_INCOMPLETE, d, sizeof d), DNSBL_LISTED);
	assert_string_equal(d, "zen: mx2.example.org listed 127.0.0.2,127.0.0.10 (and 1 more listed)");

	/* truncation is said; the value is still judged on what was asked */
	outcome(&o[0], "192.0.2.1", DNSBL_CLEAN, NULL, NULL);
	assert_int_equal(dnsbl_combine(&spec, o, 1, DNSBL_TRUNCATED, d, sizeof d), DNSBL_CLEAN);
	has(d, "only the first 32 targets were asked");

	/* a small buffer is cut, terminated; a NULL one is fine */
	outcome(&o[0], "192.0.2.1", DNSBL_LISTED, "127.0.0.2", NULL);
	assert_int_equal(dnsbl_combine(&spec, o, 1, 0, d, 8), DNSBL_LISTED);
	assert_string_equal(d, "zen: 19");
	assert_int_equal(dnsbl_combine(&spec, o, 1, 0, NULL, 0), DNSBL_LISTED);
}

/* The detail never shows the zone, whatever the outcome and even when a target holds it. */
static void combine_never_shows_zone(void **state)
{
	static const enum dnsbl_result rs[] = { DNSBL_LISTED, DNSBL_CLEAN, DNSBL_UNUSABLE, DNSBL_TEMPERROR, DNSBL_UNKNOWN };
	struct dnsbl_outcome o[2];
	char d[FACT_DETAIL_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
		outcome(&o[0], "2.0.2.192." ZONE, rs[i], "127.0.0.2", "why");
		outcome(&o[1], "Mail." KEY ".ZEN.dq.example", rs[i], "127.0.0.3", "why");
		for (unsigned f = 0; f < 4; f++) {
			dnsbl_combine(&spec, o, 2, f, d, sizeof d);
			no_zone(d);
			has(d, "zen: ");
		}
	}
	outcome(&o[0], "mail." KEY ".zen.dq.example", DNSBL_LISTED, "127.0.0.2", NULL);
	assert_int_equal(dnsbl_combine(&spec, o, 1, 0, d, sizeof d), DNSBL_LISTED);
	assert_string_equal(d, "zen: (a name inside the list's zone) listed 127.0.0.2");

	/* a target with bytes no log or reply should carry */
	outcome(&o[0], "a\r\nb\x01.example", DNSBL_LISTED, "127.0.0.2", NULL);
	assert_int_equal(dnsbl_combine(&spec, o, 1, 0, d, sizeof d), DNSBL_LISTED);
	assert_string_equal(d, "zen: a??b?.example listed 127.0.0.2");
}

/* ---- self-test ---------------------------------------------------------- */

/* selftest - judge two built answers */
static enum dnsbl_selftest selftest(enum dns_status st1, const char *r1, enum dns_status st2, const char *r2,
				    char *why, size_t len)
{
	unsigned char p1[512], p2[512];
	int l1 = 0, l2 = 0;

	if (st1 == DNS_OK || st1 == DNS_NXDOMAIN || st1 == DNS_NODATA)
		l1 = dns_build(p1, sizeof p1, "2.0.0.127." ZONE, A, st1 == DNS_NXDOMAIN ? 3 : 0, r1);
	if (st2 == DNS_OK || st2 == DNS_NXDOMAIN || st2 == DNS_NODATA)
		l2 = dns_build(p2, sizeof p2, "1.0.0.127." ZONE, A, st2 == DNS_NXDOMAIN ? 3 : 0, r2);
	enum dnsbl_selftest r = dnsbl_selftest_judge(&spec, st1, l1 ? p1 : NULL, l1, st2, l2 ? p2 : NULL, l2,
						     why, len);
	no_zone(why);
	return r;
}

static void selftest_cases(void **state)
{
	char why[256], buf[DNSBL_QNAME_MAX];

	(void)state;
	assert_true(dnsbl_selftest_name(&spec, false, true, buf, sizeof buf) > 0);
	assert_string_equal(buf, "2.0.0.127." ZONE);
	assert_true(dnsbl_selftest_name(&spec, false, false, buf, sizeof buf) > 0);
	assert_string_equal(buf, "1.0.0.127." ZONE);
	assert_true(dnsbl_selftest_name(&spec, true, true, buf, sizeof buf) > 0);
	assert_string_equal(buf, "test." ZONE);
	assert_true(dnsbl_selftest_name(&spec, true, false, buf, sizeof buf) > 0);
	assert_string_equal(buf, "invalid." ZONE);

	assert_int_equal(selftest(DNS_OK, "A 127.0.0.2; A 127.0.0.10", DNS_NXDOMAIN, NULL, why, sizeof why),
			 DNSBL_SELFTEST_OK);
	assert_int_equal(selftest(DNS_OK, "A 127.0.0.2", DNS_NODATA, NULL, why, sizeof why), DNSBL_SELFTEST_OK);

	assert_int_equal(selftest(DNS_NXDOMAIN, NULL, DNS_NXDOMAIN, NULL, why, sizeof why), DNSBL_SELFTEST_FAILED);
	has(why, "zen: the test entry is not listed (nxdomain)");
	assert_int_equal(selftest(DNS_OK, "A 127.255.255.254", DNS_NXDOMAIN, NULL, why, sizeof why),
			 DNSBL_SELFTEST_FAILED);
	has(why, "zen: the test entry answered 127.255.255.254: the list refused the query");
	assert_int_equal(selftest(DNS_OK, "A 127.0.0.50", DNS_NXDOMAIN, NULL, why, sizeof why), DNSBL_SELFTEST_FAILED);
	has(why, "answered 127.0.0.50, which the filter does not count");
	/* a resolver that answers everything */
	assert_int_equal(selftest(DNS_OK, "A 127.0.0.2", DNS_OK, "A 127.0.0.2", why, sizeof why), DNSBL_SELFTEST_FAILED);
	has(why, "zen: the never-listed entry is listed (127.0.0.2)");
	assert_int_equal(selftest(DNS_OK, "A 127.0.0.2", DNS_OK, "A 127.0.0.1", why, sizeof why), DNSBL_SELFTEST_FAILED);
	assert_int_equal(selftest(DNS_OK, "A 192.0.2.1", DNS_OK, "A 192.0.2.1", why, sizeof why), DNSBL_SELFTEST_FAILED);
	has(why, "outside 127.0.0.0/8");

	assert_int_equal(selftest(DNS_TIMEOUT, NULL, DNS_NXDOMAIN, NULL, why, sizeof why), DNSBL_SELFTEST_UNTESTED);
	has(why, "zen: not tested: the test entry's lookup failed: timeout");
	assert_int_equal(selftest(DNS_OK, "A 127.0.0.2", DNS_SERVFAIL, NULL, why, sizeof why), DNSBL_SELFTEST_UNTESTED);
	has(why, "never-listed entry's lookup failed: servfail");
}

static void ratelimit(void **state)
{
	struct dnsbl_ratelimit r = { 0 };

	(void)state;
	assert_true(dnsbl_ratelimit_due(&r, 1000, 300));
	assert_false(dnsbl_ratelimit_due(&r, 1000, 300));
	assert_false(dnsbl_ratelimit_due(&r, 1299, 300));
	assert_true(dnsbl_ratelimit_due(&r, 1300, 300));
	assert_false(dnsbl_ratelimit_due(&r, 1301, 300));
	assert_true(dnsbl_ratelimit_due(&r, 5000, 300));
}

static void result_names(void **state)
{
	(void)state;
	assert_string_equal(dnsbl_result_name(DNSBL_UNKNOWN), "unknown");
	assert_string_equal(dnsbl_result_name(DNSBL_LISTED), "listed");
	assert_string_equal(dnsbl_result_name(DNSBL_CLEAN), "clean");
	assert_string_equal(dnsbl_result_name(DNSBL_UNUSABLE), "unusable");
	assert_string_equal(dnsbl_result_name(DNSBL_TEMPERROR), "temperror");
	assert_string_equal(dnsbl_result_name(DNSBL_SKIPPED), "skipped");
	assert_string_equal(dnsbl_result_name((enum dnsbl_result)99), "unknown");
}

/* ---- the asynchronous check --------------------------------------------- */

/* add - register a canned answer or fail */
static void add(const char *name, enum dns_status st, const char *records)
{
	assert_int_equal(fake_dns_add(name, A, st, records), 0);
}

/* run - start the check and drive it to the end */
static enum dnsbl_result run(void)
{
	dnsbl_check_start(&chk);
	assert_true(resolver_wait(res, dnsbl_check_done, &chk));
	assert_true(dnsbl_check_done(&chk));
	no_zone(chk.detail);
	return dnsbl_check_result(&chk);
}

/* ip - add an address target given as text */
static bool ip(const char *text)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, text, a) == 1)
		return dnsbl_check_add_addr(&chk, AF_INET, a);
	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	return dnsbl_check_add_addr(&chk, AF_INET6, a);
}

static void check_client_ip(void **state)
{
	(void)state;
	add("99.2.0.192." ZONE, DNS_OK, "A 127.0.0.4");
	dnsbl_check_init(&chk, res, &spec);
	assert_true(ip("192.0.2.99"));
	assert_int_equal(dnsbl_check_result(&chk), DNSBL_UNKNOWN);
	assert_int_equal(run(), DNSBL_LISTED);
	assert_string_equal(chk.detail, "zen: 192.0.2.99 listed 127.0.0.4");
	assert_int_equal(fake_dns_count("99.2.0.192." ZONE, A), 1);

	/* clean: NXDOMAIN (the fake's default here) */
	dnsbl_check_abandon(&chk);
	dnsbl_check_init(&chk, res, &spec);
	assert_true(ip("192.0.2.98"));
	assert_int_equal(run(), DNSBL_CLEAN);
	assert_string_equal(chk.detail, "zen: 192.0.2.98 not listed");

	/* IPv6, and IPv4-mapped IPv6 asked as IPv4 */
	dnsbl_check_abandon(&chk);
	add("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2." ZONE, DNS_OK, "A 127.0.0.3");
	dnsbl_check_init(&chk, res, &spec);
	assert_true(ip("2001:db8::1"));
	assert_int_equal(run(), DNSBL_LISTED);
	assert_string_equal(chk.detail, "zen: 2001:db8::1 listed 127.0.0.3");

	dnsbl_check_abandon(&chk);
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	add("99.2.0.192." ZONE, DNS_OK, "A 127.0.0.2");
	dnsbl_check_init(&chk, res, &spec);
	assert_true(ip("::ffff:192.0.2.99"));
	assert_false(ip("192.0.2.99"));          /* the same target */
	assert_int_equal(run(), DNSBL_LISTED);
	assert_string_equal(chk.detail, "zen: 192.0.2.99 listed 127.0.0.2");
	assert_int_equal(fake_dns_total(), 1);

	/* a sockaddr (client_ip), and a unix socket's none */
	dnsbl_check_abandon(&chk);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.99", &sin.sin_addr);
	struct sockaddr_un_like { sa_family_t f; char path[20]; } su = { AF_UNIX, "x" };
	dnsbl_check_init(&chk, res, &spec);
	assert_true(dnsbl_check_add_sockaddr(&chk, (struct sockaddr *)&sin));
	assert_false(dnsbl_check_add_sockaddr(&chk, (struct sockaddr *)&su));
	assert_false(dnsbl_check_add_sockaddr(&chk, NULL));
	assert_int_equal(run(), DNSBL_LISTED);
}

static void check_domains_mixed(void **state)
{
	struct fact_domain_set hosts;

	(void)state;
	memset(&hosts, 0, sizeof hosts);
	/* what the set holds is normalised again and asked once each */
	assert_true(facts_set_add_name(&hosts, "mx1.example.org"));
	assert_true(facts_set_add_name(&hosts, "mx2.example.org"));
	assert_true(facts_set_add_name(&hosts, "MX3.example.org."));
	assert_true(facts_set_add_name(&hosts, "MX1.example.org"));   /* the same host */
	add("mx1.example.org." ZONE, DNS_NXDOMAIN, NULL);
	add("mx2.example.org." ZONE, DNS_OK, "A 127.0.0.20");
	add("mx3.example.org." ZONE, DNS_OK, "A 127.0.0.11");
	dnsbl_check_init(&chk, res, &spec);
	dnsbl_check_add_domains(&chk, &hosts);
	assert_int_equal(run(), DNSBL_LISTED);
	assert_string_equal(chk.detail, "zen: mx3.example.org listed 127.0.0.11");
	assert_int_equal(fake_dns_total(), 3);

	/* one fails: temperror, never clean */
	dnsbl_check_abandon(&chk);
	add("mx3.example.org." ZONE, DNS_SERVFAIL, NULL);
	dnsbl_check_init(&chk, res, &spec);
	dnsbl_check_add_domains(&chk, &hosts);
	assert_int_equal(run(), DNSBL_TEMPERROR);
	assert_string_equal(chk.detail, "zen: lookup of mx3.example.org failed: servfail");

	/* one answers an error code: unusable */
	dnsbl_check_abandon(&chk);
	add("mx2.example.org." ZONE, DNS_OK, "A 127.255.255.254");
	dnsbl_check_init(&chk, res, &spec);
	dnsbl_check_add_domains(&chk, &hosts);
	assert_int_equal(run(), DNSBL_UNUSABLE);
	has(chk.detail, "zen: answer 127.255.255.254 for mx2.example.org is a list error");

	/* all clean, one with a code the filter does not count */
	dnsbl_check_abandon(&chk);
	add("mx2.example.org." ZONE, DNS_OK, "A 127.0.0.20");
	add("mx3.example.org." ZONE, DNS_NODATA, NULL);
	dnsbl_check_init(&chk, res, &spec);
	dnsbl_check_add_domains(&chk, &hosts);
	assert_int_equal(run(), DNSBL_CLEAN);
	assert_string_equal(chk.detail, "zen: none of 3 targets listed (mx2.example.org answered 127.0.0.20, not counted)");

	/* a partial set: never clean */
	dnsbl_check_abandon(&chk);
	hosts.partial = true;
	dnsbl_check_init(&chk, res, &spec);
	dnsbl_check_add_domains(&chk, &hosts);
	assert_int_equal(run(), DNSBL_TEMPERROR);
	has(chk.detail, "not every target is known");

	/* addresses and domains in one list */
	dnsbl_check_abandon(&chk);
	struct fact_address_set addrs;
	memset(&addrs, 0, sizeof addrs);
	addrs.count = 2;
	addrs.addr[0].in.sin_family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", &addrs.addr[0].in.sin_addr);
	addrs.addr[1].in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", &addrs.addr[1].in6.sin6_addr);
	add("7.100.51.198." ZONE, DNS_OK, "A 127.0.0.9");
	dnsbl_check_init(&chk, res, &spec);
	assert_true(dnsbl_check_add_domain(&chk, "mx2.example.org"));
	dnsbl_check_add_addrs(&chk, &addrs);
	assert_int_equal(run(), DNSBL_LISTED);
	assert_string_equal(chk.detail, "zen: 198.51.100.7 listed 127.0.0.9");
}

static void check_bad_targets(void **state)
{
	char dom[300];

	(void)state;
	/* "" is nothing to look up */
	dnsbl_check_init(&chk, res, &spec);
	assert_false(dnsbl_check_add_domain(&chk, ""));
	assert_false(dnsbl_check_add_domain(&chk, NULL));
	assert_false(dnsbl_check_add_addr(&chk, AF_UNIX, "abcd"));
	dnsbl_check_start(&chk);
	assert_true(dnsbl_check_done(&chk));
	assert_int_equal(dnsbl_check_result(&chk), DNSBL_CLEAN);
	assert_string_equal(chk.detail, "zen: nothing to look up");
	assert_int_equal(fake_dns_total(), 0);

	/* a domain too long to query with this zone: asked nothing, temperror */
	dnsbl_check_abandon(&chk);
	memset(dom, 0, sizeof dom);
	for (int i = 0; i < 240; i++)
		dom[i] = i % 60 == 59 ? '.' : 'a';
	dnsbl_check_init(&chk, res, &spec);
	assert_true(dnsbl_check_add_domain(&chk, dom));
	assert_true(dnsbl_check_add_domain(&chk, "bad..example"));
	assert_int_equal(run(), DNSBL_TEMPERROR);
	has(chk.detail, "failed: too long to query");
	has(chk.detail, "(and 1 more failed)");
	assert_int_equal(fake_dns_total(), 0);

	/* adding after start does nothing */
	assert_false(dnsbl_check_add_domain(&chk, "late.example"));
}

static void check_bounded(void **state)
{
	struct fact_address_set addrs;

	(void)state;
	memset(&addrs, 0, sizeof addrs);
	addrs.count = 40;
	for (unsigned i = 0; i < addrs.count; i++) {
		struct sockaddr_in *sin = &addrs.addr[i].in;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0xc6336400u + i);   /* 198.51.100.i */
	}
	dnsbl_check_init(&chk, res, &spec);
	dnsbl_check_add_addrs(&chk, &addrs);
	assert_int_equal(run(), DNSBL_CLEAN);
	assert_int_equal(fake_dns_total(), DNSBL_QUERIES_MAX);
	has(chk.detail, "none of 32 targets listed (only the first 32 targets were asked)");
	assert_int_equal(fake_dns_count("39.100.51.198." ZONE, A), 0);
}

static void check_hostile(void **state)
{
	unsigned char junk[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c };

	(void)state;
	/* outside 127/8: a resolver rewriting NXDOMAIN */
	add("1.2.0.192." ZONE, DNS_OK, "A 198.51.100.1");
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	assert_int_equal(run(), DNSBL_UNUSABLE);
	has(chk.detail, "zen: answer 198.51.100.1 for 192.0.2.1 is a list error: outside 127.0.0.0/8");

	/* a CNAME loop: temperror */
	dnsbl_check_abandon(&chk);
	add("1.2.0.192." ZONE, DNS_OK, "CNAME loop.example");
	fake_dns_add("loop.example", A, DNS_OK, "CNAME 1.2.0.192." ZONE);
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	assert_int_equal(run(), DNSBL_TEMPERROR);

	/* malformed */
	dnsbl_check_abandon(&chk);
	fake_dns_add_raw("1.2.0.192." ZONE, A, DNS_OK, junk, sizeof junk);
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	assert_int_equal(run(), DNSBL_TEMPERROR);
	assert_string_equal(chk.detail, "zen: lookup of 192.0.2.1 failed: malformed answer");

	/* huge */
	char records[4096] = "";
	for (int i = 0; i < 60; i++)
		snprintf(records + strlen(records), sizeof records - strlen(records), "%sA 127.0.0.2", i ? ";" : "");
	dnsbl_check_abandon(&chk);
	add("1.2.0.192." ZONE, DNS_OK, records);
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	assert_int_equal(run(), DNSBL_UNUSABLE);
	has(chk.detail, "more than 32");
}

/* The first listing decides; answers still out are dropped. */
static void check_listed_decides_early(void **state)
{
	(void)state;
	add("1.2.0.192." ZONE, DNS_OK, "A 127.0.0.2");
	fake_dns_hang("2.2.0.192." ZONE, A);
	add("3.2.0.192." ZONE, DNS_OK, "A 127.0.0.3");
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	ip("192.0.2.2");
	ip("192.0.2.3");
	assert_int_equal(run(), DNSBL_LISTED);
	assert_string_equal(chk.detail, "zen: 192.0.2.1 listed 127.0.0.2");
	assert_true(resolver_pending(res) > 0);
	dnsbl_check_abandon(&chk);
	assert_int_equal(dnsbl_check_result(&chk), DNSBL_LISTED);   /* abandoning changes nothing */
	resolver_cancel_all(res);
}

/* A list that hangs: temperror at the message deadline, never a stall, never listed. */
static void check_deadline(void **state)
{
	struct timespec d;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec += 30;                     /* the fake jumps to it once only hanging queries are left */
	resolver_set_deadline(res, &d);
	add("1.2.0.192." ZONE, DNS_NXDOMAIN, NULL);
	fake_dns_hang("2.2.0.192." ZONE, A);
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	ip("192.0.2.2");
	assert_int_equal(run(), DNSBL_TEMPERROR);
	assert_string_equal(chk.detail, "zen: lookup of 192.0.2.2 failed: timeout");

	/* a deadline already passed */
	dnsbl_check_abandon(&chk);
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec -= 1;
	resolver_set_deadline(res, &d);
	add("3.2.0.192." ZONE, DNS_OK, "A 127.0.0.2");
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.3");
	assert_int_equal(run(), DNSBL_TEMPERROR);
	has(chk.detail, "timeout");
}

/* Abandon with answers in flight, free the memory: late answers must not touch it. */
static void check_abandon_then_free(void **state)
{
	struct dnsbl_check *c = malloc(sizeof *c);
	unsigned char a[4] = { 192, 0, 2, 1 };

	(void)state;
	assert_non_null(c);
	add("1.2.0.192." ZONE, DNS_OK, "A 127.0.0.2");
	dnsbl_check_init(c, res, &spec);
	assert_true(dnsbl_check_add_addr(c, AF_INET, a));
	dnsbl_check_start(c);
	assert_false(dnsbl_check_done(c));       /* callbacks only run inside wait */
	assert_int_equal(resolver_pending(res), 1);
	dnsbl_check_abandon(c);
	assert_true(dnsbl_check_done(c));
	assert_int_equal(dnsbl_check_result(c), DNSBL_TEMPERROR);
	has(c->detail, "abandoned before an answer");
	memset(c, 0xa5, sizeof *c);
	free(c);
	assert_true(resolver_wait(res, NULL, NULL));
	assert_int_equal(resolver_pending(res), 0);

	/* abandoned before start, and a zeroed check */
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	dnsbl_check_abandon(&chk);
	assert_int_equal(dnsbl_check_result(&chk), DNSBL_TEMPERROR);
	has(chk.detail, "never asked");
	memset(&chk, 0, sizeof chk);
	dnsbl_check_abandon(&chk);

	/* the resolver freed under the check: its lookups fail, the check is temperror */
	char err[64];
	dnsbl_check_init(&chk, res, &spec);
	ip("192.0.2.1");
	dnsbl_check_start(&chk);
	resolver_free(res);
	assert_true(dnsbl_check_done(&chk));
	assert_int_equal(dnsbl_check_result(&chk), DNSBL_TEMPERROR);
	res = resolver_new(NULL, err, sizeof err);
	assert_non_null(res);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(filter_forms),
		T(filter_errors),
		T(query_names_ip),
		T(query_names_domain),
		T(zones_and_specs),
		T(classify_values),
		T(classify_error_codes),
		T(classify_huge_and_many),
		T(combine_rules),
		T(combine_never_shows_zone),
		T(selftest_cases),
		T(ratelimit),
		T(result_names),
		T(check_client_ip),
		T(check_domains_mixed),
		T(check_bad_targets),
		T(check_bounded),
		T(check_hostile),
		T(check_listed_decides_early),
		T(check_deadline),
		T(check_abandon_then_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
