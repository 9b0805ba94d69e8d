/*
 * test_ns.c - policy/ns.c against canned DNS (tests/unit/fake_resolver.c):
 * every value of ns and ns_addr_result, the walk and its bound, failures
 * at each step, hostile answers; and the two rows through the orchestrator
 * (ns_host alone asks no address).
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
#include <time.h>

#include "conf/config.h"
#include "policy/checks.h"
#include "policy/ns.h"
#include "policy/orgdomain.h"
#include "policy/rules.h"
#include "tests/unit/checks_fixture.h"
#include "tests/unit/dns_build.h"
#include "tests/unit/fact_groups.h"
#include "tests/unit/fake_resolver.h"

#define A    ns_t_a
#define AAAA ns_t_aaaa
#define NS   ns_t_ns

static struct resolver *res;
static struct orgdomain *psl;
static struct ns_options opts;
static struct ns_check *chk;

static int setup(void **state)
{
	char err[128];
	(void)state;
	fake_dns_reset();
	res = resolver_new(NULL, err, sizeof(err));
	if (!psl)
		psl = orgdomain_load(NULL, err, sizeof err);
	chk = calloc(1, sizeof *chk);
	opts.od = psl;
	opts.addrs = true;
	return res && psl && chk ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ns_check_abandon(chk);
	free(chk);
	resolver_free(res);
	fake_dns_reset();
	return 0;
}

/* add - register a canned answer or fail */
static void add(const char *name, int type, enum dns_status st, const char *spec)
{
	assert_int_equal(fake_dns_add(name, type, st, spec), 0);
}

/* run - check domain to the end; returns the NS result */
static enum ns_result run(const char *domain)
{
	ns_check_abandon(chk);
	ns_check_start(chk, res, domain, &opts);
	assert_true(resolver_wait(res, ns_check_done, chk));
	assert_true(ns_check_done(chk));
	return chk->result;
}

/* render - fact id of the finished check's facts, ","-joined ("" when empty) */
static const char *render(enum fact_id id)
{
	static char buf[FACT_RENDER_MAX];
	struct facts f;

	memset(&f, 0, sizeof(f));
	ns_check_facts(chk, &f);
	ns_check_addr_facts(chk, &f);
	assert_true(facts_known(&f, id));
	return facts_render(&f, id, -1, buf, sizeof buf);
}

/* has - s mentions what */
static void has(const char *s, const char *what)
{
	if (!strstr(s, what))
		print_error("'%s' lacks '%s'\n", s, what);
	assert_non_null(strstr(s, what));
}

/* ns_pair - ns1/ns2.dns.example with one IPv4 and one IPv6 address each */
static void ns_pair(void)
{
	add("ns1.dns.example", A, DNS_OK, "A 192.0.2.53");
	add("ns1.dns.example", AAAA, DNS_OK, "AAAA 2001:db8::53");
	add("ns2.dns.example", A, DNS_OK, "A 198.51.100.53");
	add("ns2.dns.example", AAAA, DNS_NODATA, NULL);
}

static void found_at_domain(void **state)
{
	(void)state;
	add("example.org", NS, DNS_OK, "NS NS1.dns.example.; NS ns2.dns.example");
	ns_pair();
	assert_int_equal(run("Example.ORG."), NSR_FOUND);
	assert_string_equal(chk->detail, "2 name servers at example.org");
	assert_string_equal(render(FID_ns_host), "ns1.dns.example,ns2.dns.example");
	assert_int_equal(chk->addr_result, NSR_FOUND);
	assert_string_equal(render(FID_ns_addr), "192.0.2.53,198.51.100.53,2001:db8::53");
	assert_string_equal(render(FID_ns_addr_result), "found");
	assert_int_equal(fake_dns_total(), 1 + 4);
	struct facts f;
	memset(&f, 0, sizeof f);
	ns_check_facts(chk, &f);
	assert_int_equal(f.known, FACT_NS);        /* each row writes its own facts only */
	memset(&f, 0, sizeof f);
	ns_check_addr_facts(chk, &f);
	assert_int_equal(f.known, FACT_NS_ADDR);
}

/* a.b.example.com -> b.example.com -> example.com; com is never asked */
static void walk_up(void **state)
{
	(void)state;
	add("a.b.example.com", NS, DNS_NODATA, NULL);
	add("b.example.com", NS, DNS_NODATA, NULL);
	add("example.com", NS, DNS_OK, "NS ns1.dns.example");
	add("com", NS, DNS_OK, "NS a.gtld-servers.net");
	ns_pair();
	assert_int_equal(run("a.b.example.com"), NSR_FOUND);
	assert_string_equal(chk->detail, "1 name server at example.com");
	assert_int_equal(fake_dns_count(NULL, NS), 3);
	assert_int_equal(fake_dns_count("com", 0), 0);
	assert_string_equal(render(FID_ns_host), "ns1.dns.example");

	/* nothing up to the registrable domain: none, and still no query of com */
	add("example.com", NS, DNS_NODATA, NULL);
	fake_dns_reset();
	add("a.b.example.com", NS, DNS_NODATA, NULL);
	add("b.example.com", NS, DNS_NODATA, NULL);
	add("example.com", NS, DNS_NODATA, NULL);
	assert_int_equal(run("a.b.example.com"), NSR_NONE);
	assert_string_equal(chk->detail, "no NS records for a.b.example.com or its parents up to example.com");
	assert_int_equal(chk->addr_result, NSR_NONE);
	assert_string_equal(render(FID_ns_host), "");
	assert_string_equal(render(FID_ns_addr), "");
	assert_int_equal(fake_dns_total(), 3);

	/* the Public Suffix List: co.uk is a public suffix, never asked */
	fake_dns_reset();
	add("mail.example.co.uk", NS, DNS_NODATA, NULL);
	add("example.co.uk", NS, DNS_NODATA, NULL);
	assert_int_equal(run("mail.example.co.uk"), NSR_NONE);
	assert_int_equal(fake_dns_count("co.uk", 0), 0);
	assert_int_equal(fake_dns_total(), 2);

	/* a registrable domain is asked alone */
	fake_dns_reset();
	add("example.net", NS, DNS_NODATA, NULL);
	assert_int_equal(run("example.net"), NSR_NONE);
	assert_int_equal(fake_dns_total(), 1);
}

/* An OK answer without NS in the answer section (a referral, only glue) is NODATA: walk on. */
static void answer_without_ns_walks_on(void **state)
{
	(void)state;
	add("www.example.org", NS, DNS_OK, "&@example.org NS ns.evil.example; &@ns.evil.example A 203.0.113.66");
	add("example.org", NS, DNS_OK, "NS ns1.dns.example; &@ns1.dns.example A 203.0.113.66");
	ns_pair();
	assert_int_equal(run("www.example.org"), NSR_FOUND);
	assert_string_equal(render(FID_ns_host), "ns1.dns.example");
	/* the glue (203.0.113.66) is never used: the name is resolved */
	assert_string_equal(render(FID_ns_addr), "192.0.2.53,2001:db8::53");
	assert_int_equal(fake_dns_count("ns1.dns.example", A), 1);
}

/* At most NS_WALK_MAX NS queries; the last one is the registrable domain. */
static void walk_bounded(void **state)
{
	(void)state;
	fake_dns_default(DNS_NODATA);
	add("evil.example", NS, DNS_OK, "NS ns1.dns.example");
	ns_pair();
	assert_int_equal(run("a.b.c.d.e.f.evil.example"), NSR_FOUND);
	assert_int_equal(fake_dns_count(NULL, NS), NS_WALK_MAX);
	assert_int_equal(fake_dns_count("a.b.c.d.e.f.evil.example", NS), 1);
	assert_int_equal(fake_dns_count("b.c.d.e.f.evil.example", NS), 1);
	assert_int_equal(fake_dns_count("c.d.e.f.evil.example", NS), 1);
	assert_int_equal(fake_dns_count("d.e.f.evil.example", NS), 0);
	assert_int_equal(fake_dns_count("evil.example", NS), 1);
	assert_int_equal(fake_dns_count("example", NS), 0);
	assert_string_equal(render(FID_ns_host), "ns1.dns.example");

	/* without a PSL the walk stops at the last two labels */
	fake_dns_reset();
	fake_dns_default(DNS_NODATA);
	opts.od = NULL;
	assert_int_equal(run("x.y.example.org"), NSR_NONE);
	assert_int_equal(fake_dns_total(), 3);
	assert_int_equal(fake_dns_count("org", 0), 0);
	assert_int_equal(run("localdomain"), NSR_NONE);     /* a single label: itself only */
	assert_int_equal(fake_dns_total(), 4);
}

static void nxdomain(void **state)
{
	(void)state;
	add("nope.example", NS, DNS_NXDOMAIN, NULL);
	assert_int_equal(run("nope.example"), NSR_NXDOMAIN);
	assert_string_equal(chk->detail, "nope.example does not exist (NXDOMAIN)");
	assert_int_equal(chk->addr_result, NSR_NXDOMAIN);
	assert_string_equal(render(FID_ns_host), "");
	assert_string_equal(render(FID_ns_addr), "");
	assert_int_equal(fake_dns_total(), 1);

	/* a parent that does not exist under a name that does: not trusted */
	add("a.b.example.org", NS, DNS_NODATA, NULL);
	add("b.example.org", NS, DNS_NXDOMAIN, NULL);
	assert_int_equal(run("a.b.example.org"), NSR_TEMPERROR);
	has(chk->detail, "inconsistent");
	assert_int_equal(chk->addr_result, NSR_TEMPERROR);
}

/* SERVFAIL or a timeout at any step of the walk is temperror, never "none" */
static void failure_at_each_step(void **state)
{
	static const char *const names[] = { "a.b.example.org", "b.example.org", "example.org" };
	(void)state;
	for (int fail = 0; fail < 3; fail++) {
		for (int st = 0; st < 3; st++) {
			enum dns_status bad = st == 0 ? DNS_SERVFAIL : st == 1 ? DNS_TIMEOUT : DNS_ERROR;
			fake_dns_reset();
			for (int i = 0; i < fail; i++)
				add(names[i], NS, DNS_NODATA, NULL);
			add(names[fail], NS, bad, NULL);
			add("example.org", NS, fail == 2 ? bad : DNS_OK, "NS ns1.dns.example");
			ns_pair();
			assert_int_equal(run("a.b.example.org"), NSR_TEMPERROR);
			char want[128];
			snprintf(want, sizeof want, "NS lookup for %s failed: %s", names[fail], dns_status_name(bad));
			assert_string_equal(chk->detail, want);
			assert_int_equal(chk->addr_result, NSR_TEMPERROR);
			assert_string_equal(render(FID_ns_host), "");
			assert_string_equal(render(FID_ns_addr), "");
			assert_int_equal(fake_dns_count(NULL, NS), (unsigned)fail + 1);  /* no walking past a failure */
			assert_int_equal(fake_dns_count(NULL, A), 0);
		}
	}
}

static void deadline_gives_temperror(void **state)
{
	struct timespec d;
	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec += 30;                  /* the fake jumps to it once only hanging queries are left */
	resolver_set_deadline(res, &d);
	add("slow.example", NS, DNS_NODATA, NULL);
	fake_dns_hang("x.slow.example", NS);
	assert_int_equal(run("x.slow.example"), NSR_TEMPERROR);
	assert_string_equal(chk->detail, "NS lookup for x.slow.example failed: timeout");

	/* the NS set arrives, one address lookup hangs: the set is found, the addresses are not trusted */
	add("example.org", NS, DNS_OK, "NS ns1.dns.example; NS ns2.dns.example");
	ns_pair();
	fake_dns_hang("ns2.dns.example", AAAA);
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(chk->addr_result, NSR_TEMPERROR);
	assert_string_equal(chk->addr_detail, "address lookup for ns2.dns.example failed: timeout");
	assert_string_equal(render(FID_ns_addr_result), "temperror");
	/* what did come is kept for the log, but the result says not to trust it */
	assert_string_equal(render(FID_ns_addr), "192.0.2.53,198.51.100.53,2001:db8::53");
}

/* one SERVFAIL among the address lookups is temperror even when others answered */
static void address_failure_is_temperror(void **state)
{
	(void)state;
	add("example.org", NS, DNS_OK, "NS ns1.dns.example; NS ns2.dns.example");
	ns_pair();
	add("ns2.dns.example", A, DNS_SERVFAIL, NULL);
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(chk->addr_result, NSR_TEMPERROR);
	assert_string_equal(chk->addr_detail, "address lookup for ns2.dns.example failed: servfail");

	/* name servers without any address: none; NXDOMAIN of a name server is no failure */
	add("ns1.dns.example", A, DNS_NXDOMAIN, NULL);
	add("ns1.dns.example", AAAA, DNS_NXDOMAIN, NULL);
	add("ns2.dns.example", A, DNS_NODATA, NULL);
	add("ns2.dns.example", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(chk->addr_result, NSR_NONE);
	assert_string_equal(chk->addr_detail, "no name server of example.org has an address");
	assert_string_equal(render(FID_ns_addr_result), "none");
}

static void malformed_answers(void **state)
{
	unsigned char junk[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c };
	(void)state;
	fake_dns_add_raw("example.org", NS, DNS_OK, junk, sizeof(junk));
	assert_int_equal(run("example.org"), NSR_TEMPERROR);
	assert_string_equal(chk->detail, "malformed NS answer for example.org");
	assert_int_equal(chk->addr_result, NSR_TEMPERROR);

	add("example.org", NS, DNS_OK, "NS ns1.dns.example");
	ns_pair();
	fake_dns_add_raw("ns1.dns.example", AAAA, DNS_OK, junk, sizeof(junk));
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(chk->addr_result, NSR_TEMPERROR);
	has(chk->addr_detail, "failed: error");
	assert_string_equal(render(FID_ns_addr), "192.0.2.53");   /* the junk added nothing */
}

/* NS names that are no host names are left out and never looked up, never addresses */
static void unusable_names(void **state)
{
	(void)state;
	add("example.org", NS, DNS_OK, "NS 192.0.2.1; NS .; NS ns1.dns.example");
	ns_pair();
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_string_equal(chk->detail, "1 name server at example.org (2 unusable NS names ignored)");
	assert_string_equal(render(FID_ns_host), "ns1.dns.example");
	assert_string_equal(render(FID_ns_addr), "192.0.2.53,2001:db8::53");
	assert_int_equal(fake_dns_count("192.0.2.1", 0), 0);

	add("example.org", NS, DNS_OK, "NS 192.0.2.1; NS 2001:db8::1");
	assert_int_equal(run("example.org"), NSR_NONE);
	assert_string_equal(chk->detail, "example.org has 2 NS records, none a usable host name");
	assert_int_equal(chk->addr_result, NSR_NONE);
	assert_string_equal(render(FID_ns_addr), "");
	assert_int_equal(fake_dns_count(NULL, A) + fake_dns_count(NULL, AAAA), 2);   /* only the earlier run's */
}

/* Many NS: at most NS_HOSTS_MAX resolved, and then ns_addr is incomplete: temperror */
static void many_ns_bounded(void **state)
{
	char spec[4096] = "";
	(void)state;
	fake_dns_default(DNS_NODATA);
	for (int i = 1; i <= 12; i++) {
		char rec[48];
		snprintf(rec, sizeof(rec), "NS ns%02d.dns.example;", i);
		strcat(spec, rec);
	}
	add("example.org", NS, DNS_OK, spec);
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(fake_dns_total(), 1 + 2 * NS_HOSTS_MAX);
	assert_int_equal(fake_dns_count("ns10.dns.example", A), 1);
	assert_int_equal(fake_dns_count("ns11.dns.example", 0), 0);
	assert_int_equal(chk->addr_result, NSR_TEMPERROR);
	assert_string_equal(chk->addr_detail, "12 name servers, only the first 10 resolved: ns_addr is incomplete");
	{
		struct facts f;
		memset(&f, 0, sizeof f);
		ns_check_facts(chk, &f);
		assert_int_equal(f.ns_host.count, 12);   /* ns_host holds them all */
	}

	/* more NS than the set holds: ns is temperror, not a partial ns_host */
	spec[0] = '\0';
	for (int i = 1; i <= FACT_SET_NAMES + 1; i++) {
		char rec[48];
		snprintf(rec, sizeof(rec), "NS ns%02d.dns.example;", i);
		strcat(spec, rec);
	}
	add("example.org", NS, DNS_OK, spec);
	assert_int_equal(run("example.org"), NSR_TEMPERROR);
	has(chk->detail, "33 NS records, more than 32");
	assert_string_equal(render(FID_ns_host), "");

	/* exactly NS_HOSTS_MAX name servers: complete */
	fake_dns_reset();
	fake_dns_default(DNS_NODATA);
	spec[0] = '\0';
	for (int i = 1; i <= NS_HOSTS_MAX; i++) {
		char rec[48];
		snprintf(rec, sizeof(rec), "NS ns%02d.dns.example;", i);
		strcat(spec, rec);
	}
	add("example.org", NS, DNS_OK, spec);
	add("ns07.dns.example", AAAA, DNS_OK, "AAAA 2001:db8::7");
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(chk->addr_result, NSR_FOUND);
	assert_string_equal(render(FID_ns_addr), "2001:db8::7");
}

/* Huge address answers: bounded, duplicates once, incomplete is temperror */
static void many_addresses_bounded(void **state)
{
	char spec[8192] = "";
	(void)state;
	add("example.org", NS, DNS_OK, "NS ns1.dns.example; NS ns2.dns.example");
	for (int i = 1; i <= 40; i++) {
		char rec[48];
		snprintf(rec, sizeof(rec), "A 192.0.2.%d;", i);
		strcat(spec, rec);
	}
	add("ns1.dns.example", A, DNS_OK, spec);
	add("ns2.dns.example", A, DNS_OK, spec);       /* the same 40 again: counted once */
	add("ns1.dns.example", AAAA, DNS_NODATA, NULL);
	add("ns2.dns.example", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(chk->addr_result, NSR_FOUND);
	assert_int_equal(chk->addrs.count, 40);

	spec[0] = '\0';
	for (int i = 1; i <= 40; i++) {
		char rec[48];
		snprintf(rec, sizeof(rec), "AAAA 2001:db8::%x;", i);
		strcat(spec, rec);
	}
	add("ns2.dns.example", AAAA, DNS_OK, spec);
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(chk->addrs.count, FACT_SET_ADDRS);
	assert_int_equal(chk->addr_result, NSR_TEMPERROR);
	has(chk->addr_detail, "ns_addr is incomplete");
	struct facts f;
	memset(&f, 0, sizeof f);
	ns_check_addr_facts(chk, &f);
	assert_int_equal(f.ns_addr.count, FACT_SET_ADDRS);
}

/* CNAMEs are followed; a loop is temperror */
static void cname_chains(void **state)
{
	(void)state;
	add("alias.example", NS, DNS_OK, "CNAME real.example");
	add("real.example", NS, DNS_OK, "NS ns1.dns.example");
	ns_pair();
	add("ns1.dns.example", A, DNS_OK, "CNAME edge.cdn.example");
	add("edge.cdn.example", A, DNS_OK, "A 198.51.100.7");
	assert_int_equal(run("alias.example"), NSR_FOUND);
	assert_string_equal(render(FID_ns_host), "ns1.dns.example");
	assert_string_equal(render(FID_ns_addr), "198.51.100.7,2001:db8::53");   /* IPv4 first, whatever came first */

	add("loop1.example", NS, DNS_OK, "CNAME loop2.example");
	add("loop2.example", NS, DNS_OK, "CNAME loop1.example");
	assert_int_equal(run("loop1.example"), NSR_TEMPERROR);
}

/* Without opts.addrs no address is looked up */
static void no_addresses_without_asking(void **state)
{
	(void)state;
	opts.addrs = false;
	add("example.org", NS, DNS_OK, "NS ns1.dns.example");
	ns_pair();
	assert_int_equal(run("example.org"), NSR_FOUND);
	assert_int_equal(fake_dns_total(), 1);
	assert_int_equal(resolver_pending(res), 0);
}

static void no_dns_for_null_literal_invalid(void **state)
{
	struct address a;
	(void)state;
	address_parse("<>", &a);
	ns_check_for_sender(chk, res, &a, &opts);
	assert_true(ns_check_done(chk));
	assert_int_equal(chk->result, NSR_SKIPPED);
	assert_int_equal(chk->addr_result, NSR_SKIPPED);
	assert_string_equal(chk->detail, "null sender");
	address_parse("<user@[192.0.2.1]>", &a);
	ns_check_for_sender(chk, res, &a, &opts);
	assert_int_equal(chk->result, NSR_SKIPPED);
	has(chk->detail, "address literal [192.0.2.1]");
	address_parse("<user@exa_mple.org>", &a);
	ns_check_for_sender(chk, res, &a, &opts);
	assert_int_equal(chk->result, NSR_SKIPPED);
	has(chk->detail, "invalid sender address");
	ns_check_start(chk, res, "-bad.example", &opts);
	assert_true(ns_check_done(chk));
	assert_int_equal(chk->result, NSR_SKIPPED);
	assert_string_equal(render(FID_ns), "skipped");
	assert_int_equal(fake_dns_total(), 0);
}

/* Abandon with answers in flight, free the memory: late answers must not touch it. */
static void abandon_then_free(void **state)
{
	(void)state;
	add("example.org", NS, DNS_OK, "NS ns1.dns.example; NS ns2.dns.example");
	ns_pair();
	struct ns_check *c = malloc(sizeof(*c));
	assert_non_null(c);
	ns_check_start(c, res, "example.org", &opts);
	assert_int_equal(resolver_pending(res), 1);
	ns_check_abandon(c);
	assert_true(ns_check_done(c));
	assert_int_equal(c->result, NSR_TEMPERROR);
	assert_int_equal(c->addr_result, NSR_TEMPERROR);
	memset(c, 0xa5, sizeof(*c));
	free(c);
	assert_true(resolver_wait(res, NULL, NULL));
	assert_int_equal(fake_dns_total(), 1);     /* the late NS answer started nothing */

	/* abandoned with the address lookups in flight */
	c = malloc(sizeof(*c));
	assert_non_null(c);
	ns_check_start(c, res, "example.org", &opts);
	resolver_poll(res);                        /* the NS answer: four address lookups go out */
	assert_false(ns_check_done(c));
	assert_true(resolver_pending(res) > 0);
	ns_check_abandon(c);
	assert_int_equal(c->result, NSR_FOUND);
	assert_int_equal(c->addr_result, NSR_TEMPERROR);
	free(c);
	assert_true(resolver_wait(res, NULL, NULL));
	assert_int_equal(resolver_pending(res), 0);
}

static void resolver_freed_under_check(void **state)
{
	char err[64];
	(void)state;
	add("example.org", NS, DNS_OK, "NS ns1.dns.example");
	ns_check_start(chk, res, "example.org", &opts);
	resolver_free(res);                      /* pending lookups fail with DNS_ERROR */
	assert_true(ns_check_done(chk));
	assert_int_equal(chk->result, NSR_TEMPERROR);
	res = resolver_new(NULL, err, sizeof(err));
	assert_non_null(res);
}

/* A random garbage NS answer never crashes and never finds a set it cannot read */
static void hostile_fuzz(void **state)
{
	unsigned char base[512], p[512];
	int blen;
	(void)state;
	srand(4242);
	blen = dns_build(base, sizeof base, "example.org", NS, 0, "NS ns1.dns.example; NS ns2.dns.example");
	assert_true(blen > 0);
	fake_dns_default(DNS_NXDOMAIN);
	for (int i = 0; i < 2000; i++) {
		memcpy(p, base, (size_t)blen);
		for (int k = rand() % 4; k >= 0; k--)
			p[rand() % blen] = (unsigned char)rand();
		fake_dns_add_raw("example.org", NS, DNS_OK, p, blen);
		enum ns_result r = run("example.org");
		assert_true(r == NSR_FOUND || r == NSR_NONE || r == NSR_TEMPERROR);
		assert_true(chk->nhosts <= 2);
		assert_true(chk->addrs.count == 0);   /* every name server is NXDOMAIN: nothing to match */
	}
}

/* --- the rows through the orchestrator ------------------------------------ */

/* sender - MAIL FROM for the fixture, then decide */
static enum checks_status mail_from(const char *from, struct verdict *v)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(0xc0000201);   /* 192.0.2.1 */
	checks_set_client(fx.ck, (struct sockaddr *)&sin);
	checks_set_helo(fx.ck, "client.test");
	checks_set_sender(fx.ck, from, false);
	assert_int_equal(checks_advance(fx.ck, CHECK_STAGE_MAIL), 0);
	return checks_decide(fx.ck, v);
}

/* ns_host alone: the ns row runs, no address is asked */
static void rows_ns_host_alone(void **state)
{
	struct verdict v;
	(void)state;
	add("example.org", NS, DNS_OK, "NS ns1.bad-dns.example");
	ns_pair();
	checks_fixture_load("rule dns ns = temperror tempfail 451 4.4.3 \"later\"\n"
			    "rule bad ns_host in {*.bad-dns.example} reject 550 5.7.1 \"bad\"\n");
	assert_int_equal(mail_from("<a@example.org>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "bad");
	assert_int_equal(fake_dns_count(NULL, A) + fake_dns_count(NULL, AAAA), 0);
	assert_false(facts_known(checks_facts(fx.ck), FID_ns_addr));
}

/* ns_addr: IPv4 and IPv6 members match CIDR lists; a DNS failure tempfails */
static void rows_ns_addr(void **state)
{
	static const char *const rules =
		"rule dns ns_addr_result = temperror tempfail 451 4.4.3 \"later\"\n"
		"rule bad4 ns_addr in {198.51.100.0/24} reject 550 5.7.1 \"bad v4\"\n"
		"rule bad6 ns_addr in {2001:db8:bad::/48} reject 550 5.7.1 \"bad v6\"\n";
	struct verdict v;
	(void)state;
	add("example.org", NS, DNS_OK, "NS ns1.dns.example; NS ns2.dns.example");
	ns_pair();
	checks_fixture_load(rules);
	assert_int_equal(mail_from("<a@example.org>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "bad4");          /* ns2's IPv4 address */
	assert_false(facts_known(checks_facts(fx.ck), FID_ns));   /* the ns row never ran */
	checks_fixture_teardown(NULL);

	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	add("example.org", NS, DNS_OK, "NS ns1.dns.example");
	add("ns1.dns.example", A, DNS_OK, "A 192.0.2.53");
	add("ns1.dns.example", AAAA, DNS_OK, "AAAA 2001:db8:bad::53");
	checks_fixture_load(rules);
	assert_int_equal(mail_from("<a@example.org>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "bad6");
	checks_fixture_teardown(NULL);

	/* the address that would match cannot be looked up: tempfail, not accept */
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	add("example.org", NS, DNS_OK, "NS ns1.dns.example; NS ns2.dns.example");
	ns_pair();
	add("ns2.dns.example", A, DNS_SERVFAIL, NULL);
	checks_fixture_load(rules);
	assert_int_equal(mail_from("<a@example.org>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "dns");
	assert_int_equal(v.action, ACTION_TEMPFAIL);
	checks_fixture_teardown(NULL);

	/* fine name servers: the default */
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	add("example.org", NS, DNS_OK, "NS ns1.dns.example");
	ns_pair();
	checks_fixture_load(rules);
	assert_int_equal(mail_from("<a@example.org>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "default");
}

/* a trusted client skips both rows: skipped and empty */
static void rows_skipped(void **state)
{
	struct verdict v;
	(void)state;
	checks_fixture_load("trusted_networks = 192.0.2.0/24\n"
			    "rule bad ns_addr in {0.0.0.0/0} reject\n");
	assert_int_equal(mail_from("<a@example.org>", &v), CHECKS_DECIDED);
	assert_string_equal(v.rule_name, "trusted");
	assert_int_equal(fake_dns_total(), 0);
}

static int fx_setup(void **state)
{
	return checks_fixture_setup(state);
}

static int fx_teardown(void **state)
{
	return checks_fixture_teardown(state);
}

int main(void)
{
	int rc;
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define R(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(found_at_domain),
		T(walk_up),
		T(answer_without_ns_walks_on),
		T(walk_bounded),
		T(nxdomain),
		T(failure_at_each_step),
		T(deadline_gives_temperror),
		T(address_failure_is_temperror),
		T(malformed_answers),
		T(unusable_names),
		T(many_ns_bounded),
		T(many_addresses_bounded),
		T(cname_chains),
		T(no_addresses_without_asking),
		T(no_dns_for_null_literal_invalid),
		T(abandon_then_free),
		T(resolver_freed_under_check),
		T(hostile_fuzz),
		R(rows_ns_host_alone),
		R(rows_ns_addr),
		R(rows_skipped),
	};
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	orgdomain_free(psl);
	return rc;
}
