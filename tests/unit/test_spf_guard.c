/*
 * test_spf_guard.c - the pure parts of the SPF code: the record guard
 * (policy/spf_guard.c), the rewrite handed to libspf2 (spf_rewrite.c), the
 * %{dN} clamp (spf_macro.c) and the raw DNS reply reader (spf_answer.c).
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
#include <sys/socket.h>

#include "policy/spf_answer.h"
#include "policy/spf_guard.h"
#include "tests/unit/dns_build.h"

/* parse - spf_guard_parse on a C string; returns its verdict, reason in why */
static int parse(const char *txt, struct spf_parsed *p, char *why, size_t whylen)
{
	return spf_guard_parse(txt, strlen(txt), p, why, whylen);
}

/* valid - the record must pass */
static void valid(const char *txt)
{
	struct spf_parsed *p = malloc(sizeof(*p));
	char why[256] = "";

	assert_non_null(p);
	if (parse(txt, p, why, sizeof(why)) != 0)
		fail_msg("should be valid: \"%s\" (%s)", txt, why);
	free(p);
}

/* invalid - the record must be refused, with a reason */
static void invalid(const char *txt)
{
	struct spf_parsed *p = malloc(sizeof(*p));
	char why[256] = "";

	assert_non_null(p);
	if (parse(txt, p, why, sizeof(why)) == 0)
		fail_msg("should be refused: \"%s\"", txt);
	assert_true(why[0] != '\0');
	free(p);
}

static void test_selection(void **state)
{
	(void)state;
	assert_true(spf_guard_is_spf("v=spf1", 6));
	assert_true(spf_guard_is_spf("V=SpF1 -all", 11));
	assert_false(spf_guard_is_spf("v=spf10", 7));
	assert_false(spf_guard_is_spf("v=spf1-all", 10));
	assert_false(spf_guard_is_spf(" v=spf1", 7));
	assert_false(spf_guard_is_spf("v=spf", 5));
}

static void test_valid_records(void **state)
{
	(void)state;
	valid("v=spf1");
	valid("v=spf1 -all");
	valid("v=spf1   a  mx -all   ");
	valid("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all");
	valid("v=spf1 ip4:0.0.0.0/0 ip6:::/0 ip6:::FFFF:1.2.3.4");
	valid("v=spf1 a/24//64 mx:example.org/0 a:foo.example.com//128");
	valid("v=spf1 include:_spf.example.com exists:%{i}.%{l1r-}.user.%{d2} -all");
	valid("v=spf1 ptr ptr:example.org ?all");
	valid("v=spf1 a:foo:bar/baz.example.com");
	valid("v=spf1 a:foo.example.xn--zckzah");
	valid("v=spf1 redirect=_spf.example.org");
	valid("v=spf1 -all exp=explain.%{d}");
	valid("v=spf1 moo.cow-far_out=man:dog/cat default=+ ip4:1.2.3.4");
	valid("v=spf1 a:macro%%percent%_%_space%-url-space.example.com");
	valid("v=spf1 exists:%{d128}");
	valid("v=spf1 exists:%{L}.%{S}.%{O}.%{D}.%{I}.%{P}.%{V}.%{H}.example.com");
	valid("v=spf1 exists:%{l2r+-=_.}.example.com");
	valid("v=spf1 a:example.com.");
	valid("v=spf1 include:%{d}.");
}

static void test_invalid_records(void **state)
{
	(void)state;
	invalid("v=spf1 -all.");                     /* all takes nothing */
	invalid("v=spf1 -all:foo");
	invalid("v=spf1 -all/8");
	invalid("v=spf1 ptr/0");
	invalid("v=spf1 include");
	invalid("v=spf1 include:");
	invalid("v=spf1 exists");
	invalid("v=spf1 exists:mail.example.com/24");
	invalid("v=spf1 ip4");
	invalid("v=spf1 ip4:1.2.3");
	invalid("v=spf1 ip4:1.2.3.4:8080");
	invalid("v=spf1 ip4:01.2.3.4");
	invalid("v=spf1 ip4:1.2.3.4/33");
	invalid("v=spf1 ip4:1.2.3.4/032");
	invalid("v=spf1 ip4:1.2.3.4//32");
	invalid("v=spf1 ip4:256.2.3.4");
	invalid("v=spf1 ip6::CAFE::BABE");
	invalid("v=spf1 ip6:::1/129");
	invalid("v=spf1 ip6:fe80::1%eth0");
	invalid("v=spf1 a/33");
	invalid("v=spf1 a//129");
	invalid("v=spf1 a/24/64");
	invalid("v=spf1 a:foo-bar");                  /* no dot: not a domain-end */
	invalid("v=spf1 a:museum");
	invalid("v=spf1 a:museum.");
	invalid("v=spf1 a:abc.123");                  /* all-numeric toplabel */
	invalid("v=spf1 a:111.222.33.44");
	invalid("v=spf1 a:example.-com");
	invalid("v=spf1 a:example.com-");
	invalid("v=spf1 a:example.com:8080");
	invalid("v=spf1 redirect:example.com");      /* a modifier used as mechanism */
	invalid("v=spf1 redirect=");
	invalid("v=spf1 exp=");
	invalid("v=spf1 exp=-all");
	invalid("v=spf1 redirect=a.example.com redirect=b.example.com");
	invalid("v=spf1 exp=a.example.com exp=b.example.com");
	invalid("v=spf1 =all");
	invalid("v=spf1 1up=foo");
	invalid("v=spf1 foo=%abc");
	invalid("v=spf1 moo");
	invalid("v=spf1 +-all");
	invalid("v=spf1 a:ctrl.example.com\rptr -all");
	invalid("v=spf1 ip4:192.0.2.5\n include:example.org");
	invalid("v=spf1 a:\xef\xbb\xbf" "garbage.example.net -all");
	invalid("v=spf1 \x80" "a:example.net -all");
}

static void test_invalid_macros(void **state)
{
	(void)state;
	invalid("v=spf1 exists:%(ir).sbl.example.com");
	invalid("v=spf1 exists:foo%.sbl.example.com");
	invalid("v=spf1 exists:example.com%");
	invalid("v=spf1 exists:%{d");
	invalid("v=spf1 exists:%{}.example.com");
	invalid("v=spf1 exists:%{x}.example.com");
	invalid("v=spf1 exists:%{c}.example.com");   /* c r t only in explanations */
	invalid("v=spf1 exists:%{r}.example.com");
	invalid("v=spf1 -all exp=%{t}.example.com");
	invalid("v=spf1 exists:%{d0}.example.com");
	invalid("v=spf1 exists:%{d129}.example.com");
	invalid("v=spf1 exists:%{d4294967297}.example.com");
	invalid("v=spf1 exists:%{d0001}.example.com");
	invalid("v=spf1 exists:%{l|}.example.com");    /* libspf2-only delimiter */
	invalid("v=spf1 exists:%{l,}.example.com");    /* RFC, but libspf2 cannot */
	invalid("v=spf1 exists:%{lrr}.example.com");
	invalid("v=spf1 exists:%{l }.example.com");
}

static void test_bounds(void **state)
{
	char *rec = malloc(8192);
	size_t n;

	(void)state;
	assert_non_null(rec);
	/* dense macros: cheap as text, expensive for libspf2's compiler */
	n = (size_t)snprintf(rec, 8192, "v=spf1 exists:");
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(rec + n, 8192 - n, "x%%{d}");
	snprintf(rec + n, 8192 - n, ".example.com");
	invalid(rec);
	/* one term longer than SPF_GUARD_MAX_TERM */
	n = (size_t)snprintf(rec, 8192, "v=spf1 a:");
	memset(rec + n, 'a', 300);
	snprintf(rec + n + 300, 8192 - n - 300, ".example.com");
	invalid(rec);
	/* the whole record over SPF_GUARD_MAX_RECORD */
	n = (size_t)snprintf(rec, 8192, "v=spf1");
	while (n < SPF_GUARD_MAX_RECORD + 10)
		n += (size_t)snprintf(rec + n, 8192 - n, " a");
	invalid(rec);
	/* many terms, but within bounds: fine */
	n = (size_t)snprintf(rec, 8192, "v=spf1");
	for (int i = 0; i < 250; i++)
		n += (size_t)snprintf(rec + n, 8192 - n, " ip4:10.0.%d.%d", i / 200, i % 200);
	valid(rec);
	/* a NUL inside the record */
	{
		struct spf_parsed *p = malloc(sizeof(*p));
		char why[128];

		assert_non_null(p);
		assert_int_equal(spf_guard_parse("v=spf1 a\0 -all", 14, p, why, sizeof(why)), -1);
		free(p);
	}
	free(rec);
}

static void test_parsed_terms(void **state)
{
	struct spf_parsed *p = malloc(sizeof(*p));
	char why[128];

	(void)state;
	assert_non_null(p);
	assert_int_equal(parse("v=spf1 -a:x.example.org/24//64 ~ip6:2001:db8::/32 redirect=r.example.org "
			       "exp=e.example.org ?all foo=bar", p, why, sizeof(why)), 0);
	assert_int_equal(p->n, 6);
	assert_int_equal(p->terms[0].kind, SPF_T_A);
	assert_int_equal(p->terms[0].qualifier, '-');
	assert_int_equal(p->terms[0].cidr4, 24);
	assert_int_equal(p->terms[0].cidr6, 64);
	assert_int_equal((int)p->terms[0].arglen, 13);
	assert_memory_equal(p->terms[0].arg, "x.example.org", 13);
	assert_int_equal(p->terms[1].kind, SPF_T_IP6);
	assert_int_equal(p->terms[1].cidr6, 32);
	assert_int_equal(p->redirect, 2);
	assert_int_equal(p->exp, 3);
	assert_true(p->has_all);
	assert_int_equal(p->terms[5].kind, SPF_T_UNKNOWN_MOD);
	free(p);
}

static void test_explanations(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(spf_guard_explanation("See %{c} at %{r} on %{t}: %{i} %_%-%%", 37, why, sizeof(why)), 0);
	assert_int_equal(spf_guard_explanation("The %{x}-files.", 15, why, sizeof(why)), -1);
	assert_int_equal(spf_guard_explanation("tab\there", 8, why, sizeof(why)), -1);
	assert_int_equal(spf_guard_explanation("nul\0inside", 10, why, sizeof(why)), -1);
	assert_int_equal(spf_guard_explanation("\xef\xbb\xbf" "Explanation", 14, why, sizeof(why)), -1);
}

/* rewrite - rewrite txt for client ip (v4 or v6 text); the output in out */
static void rewrite(const char *txt, const char *ip, char *out, size_t outlen, unsigned *nmech)
{
	struct spf_parsed *p = malloc(sizeof(*p));
	struct spf_rewrite_in in;
	unsigned char addr[16];
	char why[128];

	assert_non_null(p);
	memset(&in, 0, sizeof(in));
	in.af = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(in.af, ip, addr), 1);
	in.addr = addr;
	in.vals['d' - 'a'] = "example.com";
	in.vals['l' - 'a'] = "john.doe";
	if (parse(txt, p, why, sizeof(why)) != 0)
		fail_msg("\"%s\": %s", txt, why);
	assert_int_equal(spf_guard_rewrite(p, &in, out, outlen, nmech), 0);
	free(p);
}

static void test_rewrite(void **state)
{
	char out[1024];
	unsigned n;

	(void)state;
	/* ip terms decided against the client; a match ends the record */
	rewrite("v=spf1 ip4:10.0.0.0/8 a -ip4:192.0.2.0/24 mx -all", "192.0.2.7", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 a -all");
	assert_int_equal(n, 2);
	rewrite("v=spf1 ip4:10.0.0.0/8 a -ip4:192.0.2.0/24 mx -all", "198.51.100.1", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 a mx -all");
	rewrite("v=spf1 ip6:2001:db8::/32 ip4:0.0.0.0/0", "2001:db8::1", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 all");
	rewrite("v=spf1 ?ip4:192.0.2.1/0 -all", "203.0.113.9", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 ?all");
	/* only the client's family's CIDR; /0 becomes the mark */
	rewrite("v=spf1 a/24//64 mx:mx.example.org//0 a/0", "192.0.2.1", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 a/24 mx:mx.example.org a:%{d}\x01");
	rewrite("v=spf1 a/24//64 mx:mx.example.org//0", "2001:db8::1", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 a//64 mx:mx.example.org\x01");
	/* redirect goes last; dropped when "all" is present; unknown modifiers dropped */
	rewrite("v=spf1 redirect=r.example.org a foo=bar exp=e.example.org.", "192.0.2.1", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 a exp=e.example.org redirect=r.example.org");
	assert_int_equal(n, 2);
	rewrite("v=spf1 redirect=r.example.org ~all", "192.0.2.1", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 ~all");
	/* trailing dots dropped; %{d2} of a two-label domain clamped */
	rewrite("v=spf1 include:_spf.%{d2}. exists:%{l3r}.%{d1}.x.example.org", "192.0.2.1", out, sizeof(out), &n);
	assert_string_equal(out, "v=spf1 include:_spf.%{d} exists:%{lr}.%{d1}.x.example.org");
	/* nothing after the 11th DNS-querying term can be reached */
	rewrite("v=spf1 a a a a a a a a a a a:eleven.example.org a:twelve.example.org -all", "192.0.2.1",
		out, sizeof(out), &n);
	assert_null(strstr(out, "twelve"));
	assert_non_null(strstr(out, "eleven"));
	assert_int_equal(n, 11);
}

static void test_macro_clamp(void **state)
{
	const char *vals[26] = { 0 };
	char out[256];

	(void)state;
	vals['d' - 'a'] = "mail.example.com";
	vals['l' - 'a'] = "a-b-c";
	assert_int_equal(spf_guard_macro_clamp("%{d2}.x", 7, vals, out, sizeof(out)), 7);
	assert_string_equal(out, "%{d2}.x");
	assert_int_equal(spf_guard_macro_clamp("%{d3}.x", 7, vals, out, sizeof(out)), 6);
	assert_string_equal(out, "%{d}.x");
	assert_true(spf_guard_macro_clamp("%{l3r-}", 7, vals, out, sizeof(out)) > 0);
	assert_string_equal(out, "%{lr-}");
	assert_true(spf_guard_macro_clamp("%{l2r-}", 7, vals, out, sizeof(out)) > 0);
	assert_string_equal(out, "%{l2r-}");
	assert_true(spf_guard_macro_clamp("%{D9}%%%{p1}", 12, vals, out, sizeof(out)) > 0);
	assert_string_equal(out, "%{D}%%%{p1}");     /* p unknown: untouched */
	assert_int_equal(spf_guard_macro_clamp("%{d2}", 5, vals, out, 4), -1);
}

static void test_output_fixes(void **state)
{
	char s[200], escaped[64];
	unsigned char a6[16];

	(void)state;
	strcpy(s, "l=~jack%26jill%3dup and %3D%zz%4");
	spf_guard_upper_hex(s);
	assert_string_equal(s, "l=~jack%26jill%3Dup and %3D%zz%4");
	assert_true(spf_guard_url_macro("http://x/?l=%{L}"));
	assert_false(spf_guard_url_macro("%{l} %{d2}"));
	assert_int_equal(inet_pton(AF_INET6, "cafe:babe::1", a6), 1);
	snprintf(s, sizeof(s), "q 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c.ip6.arpa");
	spf_guard_upper_nibbles(s, a6);
	assert_string_equal(s, "q 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.E.B.A.B.E.F.A.C.ip6.arpa");
	assert_int_equal(spf_guard_explain_text("a  b%{d}", NULL, escaped, sizeof(escaped)), 0);
	assert_string_equal(escaped, "a%_%_b%{d}");
	assert_int_equal(spf_guard_explain_text("a b c", NULL, escaped, 6), -1);
}

struct collect {
	char names[8][256];
	int n;
};

/* collect_name - spf_answer_fn: decode the PTR/MX name of each record */
static int collect_name(void *arg, const unsigned char *msg, size_t msglen,
			const unsigned char *rdata, size_t rdlen)
{
	struct collect *c = arg;

	(void)rdlen;
	if (c->n < 8 && spf_answer_name(msg, msglen, rdata, c->names[c->n], 256) == 0)
		c->n++;
	return 0;
}

static void test_answer_reader(void **state)
{
	unsigned char pkt[1024];
	struct collect c = { .n = 0 };
	char txt[64];
	int len;

	(void)state;
	len = dns_build(pkt, sizeof(pkt), "x.example", ns_t_txt, 0,
			"TXT \"v=spf1 \" \"-all\"; A 192.0.2.1; TXT \"other\"");
	assert_true(len > 0);
	assert_int_equal(spf_answer_walk(pkt, (size_t)len, ns_t_txt, NULL, NULL), 2);
	assert_int_equal(spf_answer_walk(pkt, (size_t)len, ns_t_a, NULL, NULL), 1);
	/* truncated replies are malformed, never over-read */
	for (int cut = 12; cut < len; cut += 7)
		assert_true(spf_answer_walk(pkt, (size_t)cut, ns_t_txt, NULL, NULL) <= 2);
	assert_int_equal(spf_answer_walk(pkt, 5, ns_t_txt, NULL, NULL), -1);
	/* TXT strings are joined, their true length reported */
	assert_int_equal(spf_answer_txt((const unsigned char *)"\x03" "abc\x02" "de", 7, txt, sizeof(txt)), 5);
	assert_memory_equal(txt, "abcde", 5);
	assert_int_equal(spf_answer_txt((const unsigned char *)"\x05" "abc", 4, txt, sizeof(txt)), -1);
	assert_int_equal(spf_answer_txt((const unsigned char *)"\x03" "abc", 4, txt, 2), 3);
	/* names */
	len = dns_build(pkt, sizeof(pkt), "1.2.0.192.in-addr.arpa", ns_t_ptr, 0,
			"PTR mail.example.org; PTR other.example.net");
	assert_true(len > 0);
	assert_int_equal(spf_answer_walk(pkt, (size_t)len, ns_t_ptr, collect_name, &c), 2);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.names[0], "mail.example.org");
	assert_string_equal(c.names[1], "other.example.net");
}

static void test_answer_hostile_names(void **state)
{
	/* header, then hand-made names at offset 12 */
	unsigned char loop[] = { 0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
				 0xc0, 12 };                     /* points at itself */
	unsigned char fwd[] = { 0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
				0xc0, 14, 1, 'a', 0 };           /* points forward */
	unsigned char dot[] = { 0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
				3, 'a', '.', 'b', 0 };           /* a '.' inside a label */
	unsigned char ctl[] = { 0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
				2, 'a', 1, 0 };                  /* a control byte */
	unsigned char cut[] = { 0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
				9, 'a', 'b' };                   /* label past the end */
	unsigned char ok[] = { 0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
			       1, 'b', 0, 1, 'a', 0xc0, 12 };    /* a.b via a back pointer */
	char name[256];

	(void)state;
	assert_int_equal(spf_answer_name(loop, sizeof(loop), loop + 12, name, sizeof(name)), -1);
	assert_int_equal(spf_answer_name(fwd, sizeof(fwd), fwd + 12, name, sizeof(name)), -1);
	assert_int_equal(spf_answer_name(dot, sizeof(dot), dot + 12, name, sizeof(name)), -1);
	assert_int_equal(spf_answer_name(ctl, sizeof(ctl), ctl + 12, name, sizeof(name)), -1);
	assert_int_equal(spf_answer_name(cut, sizeof(cut), cut + 12, name, sizeof(name)), -1);
	assert_int_equal(spf_answer_name(ok, sizeof(ok), ok + 15, name, sizeof(name)), 0);
	assert_string_equal(name, "a.b");
	assert_int_equal(spf_answer_name(ok, sizeof(ok), ok + 15, name, 3), -1);   /* does not fit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_valid_records),
		cmocka_unit_test(test_invalid_records),
		cmocka_unit_test(test_invalid_macros),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_parsed_terms),
		cmocka_unit_test(test_explanations),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_macro_clamp),
		cmocka_unit_test(test_output_fixes),
		cmocka_unit_test(test_answer_reader),
		cmocka_unit_test(test_answer_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
