/*
 * test_dns_parse.c - policy/dns_parse.c on built, hand-made and hostile packets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/dns_parse.h"
#include "tests/unit/dns_build.h"

static unsigned char pkt[65535];

/* build - a reply or fail the test */
static int build(const char *qname, int qtype, int rcode, const char *spec)
{
	int len = dns_build(pkt, sizeof(pkt), qname, qtype, rcode, spec);
	assert_true(len > 0);
	return len;
}

static void mx_sorted_and_bounded(void **state)
{
	struct dns_mx mx[2];
	size_t total = 0;
	int len = build("example.org", ns_t_mx, 0,
			"MX 20 b.example.org; MX 10 a.example.org; MX 30 c.example.org; MX 10 a2.example.org");
	(void)state;
	assert_int_equal(dns_parse_mx(pkt, len, mx, 2, &total), 2);
	assert_int_equal(total, 4);
	assert_int_equal(mx[0].pref, 10);
	assert_string_equal(mx[0].host, "a.example.org");   /* ties keep answer order */
	assert_int_equal(mx[1].pref, 10);
	assert_string_equal(mx[1].host, "a2.example.org");
}

static void mx_many_keeps_best(void **state)
{
	char spec[8192] = "";
	struct dns_mx mx[10];
	size_t total;
	(void)state;
	for (int i = 60; i > 0; i--) {
		char rec[64];
		snprintf(rec, sizeof(rec), "MX %d mx%d.example.org;", i, i);
		strcat(spec, rec);
	}
	int len = build("example.org", ns_t_mx, 0, spec);
	assert_int_equal(dns_parse_mx(pkt, len, mx, 10, &total), 10);
	assert_int_equal(total, 60);
	for (int i = 0; i < 10; i++) {
		char want[32];
		snprintf(want, sizeof(want), "mx%d.example.org", i + 1);
		assert_int_equal(mx[i].pref, (unsigned)i + 1);
		assert_string_equal(mx[i].host, want);
	}
}

static void mx_null_and_case(void **state)
{
	struct dns_mx mx[4];
	size_t total;
	int len = build("Example.ORG", ns_t_mx, 0, "MX 0 .; MX 5 MX1.Example.Org.");
	(void)state;
	assert_int_equal(dns_parse_mx(pkt, len, mx, 4, &total), 2);
	assert_string_equal(mx[0].host, "");
	assert_string_equal(mx[1].host, "mx1.example.org");
}

static void addrs_mixed_and_chain(void **state)
{
	struct dns_addr a[4];
	char buf[64];
	size_t total;
	int len = build("alias.example", ns_t_a, 0,
			"CNAME t.example; @t.example A 192.0.2.5; @t.example AAAA 2001:db8::5; @evil.example A 198.51.100.1");
	(void)state;
	assert_int_equal(dns_parse_addrs(pkt, len, a, 4, &total), 2);
	assert_int_equal(total, 2);
	assert_int_equal(a[0].family, AF_INET);
	assert_string_equal(dns_addr_format(&a[0], buf, sizeof(buf)), "192.0.2.5");
	assert_int_equal(a[1].family, AF_INET6);
	assert_string_equal(dns_addr_format(&a[1], buf, sizeof(buf)), "2001:db8::5");
}

static void follow_kinds(void **state)
{
	char t[DNS_NAME_BUF];
	int len;
	(void)state;
	len = build("alias.example", ns_t_a, 0, "CNAME mid.example; @mid.example CNAME end.example");
	assert_int_equal(dns_parse_follow(pkt, len, ns_t_a, t, sizeof(t)), DNS_FOLLOW_CNAME);
	assert_string_equal(t, "end.example");
	len = build("x.example", ns_t_a, 0, "A 192.0.2.1");
	assert_int_equal(dns_parse_follow(pkt, len, ns_t_a, t, sizeof(t)), DNS_FOLLOW_HAS_TYPE);
	len = build("x.example", ns_t_a, 0, "MX 10 y.example");
	assert_int_equal(dns_parse_follow(pkt, len, ns_t_a, t, sizeof(t)), DNS_FOLLOW_EMPTY);
	len = build("x.example", ns_t_cname, 0, "CNAME y.example");
	assert_int_equal(dns_parse_follow(pkt, len, ns_t_cname, t, sizeof(t)), DNS_FOLLOW_HAS_TYPE);
	/* a target too long for the caller's buffer is an error, not a truncation */
	len = build("alias.example", ns_t_a, 0, "CNAME end.example");
	assert_int_equal(dns_parse_follow(pkt, len, ns_t_a, t, 5), -1);
}

static void cname_loop_in_answer(void **state)
{
	struct dns_addr a[2];
	char t[DNS_NAME_BUF];
	int len = build("a.example", ns_t_a, 0, "CNAME b.example; @b.example CNAME a.example; @b.example A 192.0.2.1");
	(void)state;
	assert_int_equal(dns_parse_follow(pkt, len, ns_t_a, t, sizeof(t)), -1);
	assert_int_equal(dns_parse_addrs(pkt, len, a, 2, NULL), -1);
}

static void txt_joined(void **state)
{
	struct dns_txt_list l;
	int len = build("example.org", ns_t_txt, 0,
			"TXT \"v=spf1 \" \"ip4:192.0.2.0/24 -all\"; TXT \"v=DKIM1; k=rsa; p=AB\\\"C\"; TXT \"\"");
	(void)state;
	assert_int_equal(dns_parse_txt(pkt, len, &l), 3);
	assert_string_equal(l.rec[0].text, "v=spf1 ip4:192.0.2.0/24 -all");
	assert_int_equal(l.rec[0].len, strlen("v=spf1 ip4:192.0.2.0/24 -all"));
	assert_string_equal(l.rec[1].text, "v=DKIM1; k=rsa; p=AB\"C");
	assert_int_equal(l.rec[2].len, 0);
	dns_txt_free(&l);
	assert_null(l.rec);
}

static void txt_bounded(void **state)
{
	static char spec[200 * 16];
	struct dns_txt_list l;
	(void)state;
	spec[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(spec, "TXT \"x\";");
	int len = build("example.org", ns_t_txt, 0, spec);
	assert_int_equal(dns_parse_txt(pkt, len, &l), DNS_TXT_MAX);
	dns_txt_free(&l);
}

static void ptr_names(void **state)
{
	char names[2][DNS_HOST_BUF];
	size_t total;
	int len = build("1.2.0.192.in-addr.arpa", ns_t_ptr, 0, "PTR a.example; PTR b.example; PTR c.example");
	(void)state;
	assert_int_equal(dns_parse_ptr(pkt, len, names, 2, &total), 2);
	assert_int_equal(total, 3);
	assert_string_equal(names[1], "b.example");
}

/* NS: answer-section records of the question name only; glue and long names never stored */
static void ns_names(void **state)
{
	char names[3][DNS_HOST_BUF], longname[400];
	size_t total;
	int len;
	(void)state;
	len = build("example.org", ns_t_ns, 0,
		    "NS NS1.Example.net; &@ns1.example.net A 192.0.2.53; NS ns2.example.net; "
		    "@other.example NS ns9.example.net; &NS glue-only.example.net");
	assert_int_equal(dns_parse_ns(pkt, len, names, 3, &total), 2);
	assert_int_equal(total, 2);
	assert_string_equal(names[0], "ns1.example.net");     /* lower case, answer order */
	assert_string_equal(names[1], "ns2.example.net");
	/* the additional section is not read at all: no A record comes out of it */
	struct dns_addr a[2];
	assert_int_equal(dns_parse_addrs(pkt, len, a, 2, NULL), 0);

	/* bounded: the rest are counted */
	len = build("example.org", ns_t_ns, 0, "NS a.example; NS b.example; NS c.example; NS d.example");
	assert_int_equal(dns_parse_ns(pkt, len, names, 2, &total), 2);
	assert_int_equal(total, 4);

	/* a name too long for DNS_HOST_BUF once escaped (3 labels of 63 "\\") is counted, never stored */
	memset(longname, 0, sizeof longname);
	for (int i = 0; i < 3; i++) {
		memset(longname + strlen(longname), '\\', 63);
		strcat(longname, ".");
	}
	strcat(longname, "example");
	char spec[512];
	snprintf(spec, sizeof spec, "NS %s; NS ok.example", longname);
	len = build("example.org", ns_t_ns, 0, spec);
	assert_int_equal(dns_parse_ns(pkt, len, names, 3, &total), 1);
	assert_int_equal(total, 2);
	assert_string_equal(names[0], "ok.example");
}

static void rcode(void **state)
{
	int len = build("nx.example", ns_t_mx, 3, NULL);
	(void)state;
	assert_int_equal(dns_parse_rcode(pkt, len), 3);
	assert_int_equal(dns_parse_rcode(pkt, 11), -1);
	assert_int_equal(dns_parse_rcode(NULL, 0), -1);
}

/* ad_bit - the AD flag of the header, set or clear; too short is -1 */
static void ad_bit(void **state)
{
	int len = build("ok.example", ns_t_a, 0, "A 192.0.2.1");
	(void)state;
	assert_int_equal(dns_parse_ad(pkt, len), 0);
	pkt[3] |= DNS_FLAG_AD_BYTE3;
	assert_int_equal(dns_parse_ad(pkt, len), 1);
	assert_int_equal(dns_parse_rcode(pkt, len), 0);   /* AD is not part of the RCODE */
	assert_int_equal(dns_parse_ad(pkt, 11), -1);
	assert_int_equal(dns_parse_ad(NULL, 0), -1);
}

/* Every truncation of a reply with answers must be seen as malformed. */
static void truncated_everywhere(void **state)
{
	struct dns_mx mx[4];
	struct dns_addr a[4];
	struct dns_txt_list l;
	(void)state;
	int len = build("example.org", ns_t_mx, 0, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	for (int n = 0; n < len; n++)
		assert_int_equal(dns_parse_mx(pkt, n, mx, 4, NULL), -1);
	assert_int_equal(dns_parse_mx(pkt, len, mx, 4, NULL), 2);
	len = build("example.org", ns_t_txt, 0, "TXT \"abc\" \"def\"");
	for (int n = 0; n < len; n++)
		assert_int_equal(dns_parse_txt(pkt, n, &l), -1);
	len = build("example.org", ns_t_aaaa, 0, "AAAA 2001:db8::1");
	for (int n = 0; n < len; n++)
		assert_int_equal(dns_parse_addrs(pkt, n, a, 4, NULL), -1);
}

/* Hand-made: header, question "a.example" A IN, then one answer RR. */
static int handmade(unsigned char *p, const unsigned char *rr, size_t rrlen)
{
	static const unsigned char head[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
	};
	memcpy(p, head, sizeof(head));
	memcpy(p + sizeof(head), rr, rrlen);
	return (int)(sizeof(head) + rrlen);
}

static void compression_attacks(void **state)
{
	struct dns_addr a[2];
	unsigned char p[512];
	(void)state;
	/* owner = pointer to the question name: fine */
	static const unsigned char good[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	assert_int_equal(dns_parse_addrs(p, handmade(p, good, sizeof(good)), a, 2, NULL), 1);
	/* owner = pointer to itself */
	static const unsigned char self[] = { 0xc0, 27, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	assert_int_equal(dns_parse_addrs(p, handmade(p, self, sizeof(self)), a, 2, NULL), -1);
	/* owner = pointer forwards (into its own RDATA) */
	static const unsigned char fwd[] = { 0xc0, 39, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 0xc0, 27, 2, 1 };
	assert_int_equal(dns_parse_addrs(p, handmade(p, fwd, sizeof(fwd)), a, 2, NULL), -1);
	/* extended label type 0x40 */
	static const unsigned char ext[] = { 0x41, 'x', 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	assert_int_equal(dns_parse_addrs(p, handmade(p, ext, sizeof(ext)), a, 2, NULL), -1);
	/* A record with RDLENGTH 5 */
	static const unsigned char len5[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 192, 0, 2, 1, 9 };
	assert_int_equal(dns_parse_addrs(p, handmade(p, len5, sizeof(len5)), a, 2, NULL), -1);
	/* RDLENGTH past the end */
	static const unsigned char over[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0xff, 0xff, 192, 0, 2, 1 };
	assert_int_equal(dns_parse_addrs(p, handmade(p, over, sizeof(over)), a, 2, NULL), -1);
}

static void hostile_counts_and_names(void **state)
{
	struct dns_addr a[2];
	struct dns_mx mx[2];
	struct dns_txt_list l;
	unsigned char p[512];
	int len;
	(void)state;
	/* ANCOUNT 65535 with one record */
	static const unsigned char one[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	len = handmade(p, one, sizeof(one));
	p[6] = p[7] = 0xff;
	assert_int_equal(dns_parse_addrs(p, len, a, 2, NULL), -1);
	/* QDCOUNT 0 */
	len = handmade(p, one, sizeof(one));
	p[5] = 0;
	assert_int_equal(dns_parse_addrs(p, len, a, 2, NULL), -1);
	/* MX whose exchange runs past its RDATA */
	static const unsigned char mxrr[] = { 0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 2, 'm', 'x', 0 };
	len = handmade(p, mxrr, sizeof(mxrr));
	p[26] = 15;     /* question type MX */
	assert_int_equal(dns_parse_mx(p, len, mx, 2, NULL), -1);
	/* TXT whose string length overruns RDATA */
	static const unsigned char txt[] = { 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 5, 'a', 'b' };
	len = handmade(p, txt, sizeof(txt));
	p[26] = 16;
	assert_int_equal(dns_parse_txt(p, len, &l), -1);
	assert_null(l.rec);
	/* odd bytes in a label come out escaped; a dot inside a label is not a separator */
	static const unsigned char odd[] = { 0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 10,
					     0, 10, 3, 'a', '.', 0x01, 2, 'B', 'c', 0 };
	len = handmade(p, odd, sizeof(odd));
	p[26] = 15;
	assert_int_equal(dns_parse_mx(p, len, mx, 2, NULL), 1);
	assert_string_equal(mx[0].host, "a\\.\\001.bc");
}

/* Random and mutated packets: never crash, never claim more than fits. */
static void fuzz(void **state)
{
	struct dns_mx mx[4];
	struct dns_addr a[4];
	struct dns_txt_list l;
	char names[2][DNS_HOST_BUF], t[DNS_NAME_BUF];
	unsigned char base[512], p[512];
	(void)state;
	int blen = dns_build(base, sizeof(base), "example.org", ns_t_mx, 0,
			     "MX 10 mx1.example.org; CNAME x.example.org; TXT \"a\" \"b\"; A 192.0.2.1");
	assert_true(blen > 0);
	srand(12345);
	for (int i = 0; i < 20000; i++) {
		int len = blen;
		memcpy(p, base, (size_t)blen);
		if (i % 2) {
			len = rand() % 200;
			for (int j = 0; j < len; j++)
				p[j] = (unsigned char)rand();
		} else {
			for (int k = rand() % 4; k >= 0; k--)
				p[rand() % blen] = (unsigned char)rand();
		}
		assert_true(dns_parse_mx(p, len, mx, 4, NULL) <= 4);
		assert_true(dns_parse_addrs(p, len, a, 4, NULL) <= 4);
		assert_true(dns_parse_ptr(p, len, names, 2, NULL) <= 2);
		assert_true(dns_parse_ns(p, len, names, 2, NULL) <= 2);
		assert_true(dns_parse_follow(p, len, ns_t_a, t, sizeof(t)) <= DNS_FOLLOW_EMPTY);
		if (dns_parse_txt(p, len, &l) >= 0)
			dns_txt_free(&l);
	}
}

static void ttl_positive_negative(void **state)
{
	unsigned long ttl;
	int len;

	(void)state;
	/* the smallest TTL of the answer records, the CNAME's too */
	len = build("www.example.org", ns_t_a, 0,
		    "/3600 CNAME host.example.org; @host.example.org /120 A 192.0.2.1; @host.example.org /900 A 192.0.2.2");
	assert_int_equal(dns_parse_ttl(pkt, len, &ttl), 0);
	assert_int_equal(ttl, 120);
	/* RFC 2181 §8: the top bit set counts as 0 */
	len = build("example.org", ns_t_a, 0, "/2147483649 A 192.0.2.1");
	assert_int_equal(dns_parse_ttl(pkt, len, &ttl), 0);
	assert_int_equal(ttl, 0);
	/* RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM) */
	len = build("nx.example.org", ns_t_a, 3, "^@example.org /3600 SOA ns.example.org h.example.org 1 7200 600 86400 300");
	assert_int_equal(dns_parse_ttl(pkt, len, &ttl), 0);
	assert_int_equal(ttl, 300);
	len = build("nodata.example.org", ns_t_mx, 0, "^@example.org /60 SOA ns.example.org h.example.org 1 7200 600 86400 300");
	assert_int_equal(dns_parse_ttl(pkt, len, &ttl), 0);
	assert_int_equal(ttl, 60);
	/* without an SOA there is nothing to go by */
	len = build("nx.example.org", ns_t_a, 3, "^@example.org NS ns.example.org");
	assert_int_equal(dns_parse_ttl(pkt, len, &ttl), 1);
	len = build("nx.example.org", ns_t_a, 3, "");
	assert_int_equal(dns_parse_ttl(pkt, len, &ttl), 1);
	/* cut short: malformed */
	len = build("nx.example.org", ns_t_a, 3, "^@example.org /60 SOA ns.example.org h.example.org 1 7200 600 86400 300");
	assert_int_equal(dns_parse_ttl(pkt, len - 3, &ttl), -1);
	assert_int_equal(dns_parse_ttl(pkt, 5, &ttl), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mx_sorted_and_bounded),
		cmocka_unit_test(mx_many_keeps_best),
		cmocka_unit_test(mx_null_and_case),
		cmocka_unit_test(addrs_mixed_and_chain),
		cmocka_unit_test(follow_kinds),
		cmocka_unit_test(cname_loop_in_answer),
		cmocka_unit_test(txt_joined),
		cmocka_unit_test(txt_bounded),
		cmocka_unit_test(ptr_names),
		cmocka_unit_test(ns_names),
		cmocka_unit_test(rcode),
		cmocka_unit_test(ad_bit),
		cmocka_unit_test(ttl_positive_negative),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(compression_attacks),
		cmocka_unit_test(hostile_counts_and_names),
		cmocka_unit_test(fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
