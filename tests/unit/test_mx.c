/*
 * test_mx.c - policy/mx.c against canned DNS (tests/unit/fake_resolver.c).
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
#include <time.h>

#include "tests/unit/fact_groups.h"
#include "policy/mx.h"
#include "policy/netlist.h"
#include "tests/unit/fake_resolver.h"
#include "tests/unit/test_bogus.h"

#define A    ns_t_a
#define AAAA ns_t_aaaa
#define MX   ns_t_mx

static struct resolver *res;
static struct netlist *bogus;
static struct mx_options opts;
static struct mx_check chk;

static int setup(void **state)
{
	char err[128];
	(void)state;
	fake_dns_reset();
	res = resolver_new(NULL, err, sizeof(err));
	bogus = test_bogus_netlist();
	opts.bogus = bogus;
	opts.max_targets = 10;
	opts.all_addresses = false;
	opts.hosts_only = false;
	return res && bogus ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	mx_check_release(&chk);
	resolver_free(res);
	netlist_free(bogus);
	fake_dns_reset();
	return 0;
}

/* add - register a canned answer or fail */
static void add(const char *name, int type, enum dns_status st, const char *spec)
{
	assert_int_equal(fake_dns_add(name, type, st, spec), 0);
}

/* run - check domain to the end; returns the result */
static enum mx_result run(const char *domain)
{
	mx_check_release(&chk);          /* mx.h: before reusing the memory of a check */
	mx_check_start(&chk, res, domain, &opts);
	assert_true(resolver_wait(res, mx_check_done, &chk));
	assert_true(mx_check_done(&chk));
	return chk.result;
}

/* hosts - the mx_host set of the finished check, ","-joined ("" when empty) */
static const char *hosts(void)
{
	static char buf[FACT_RENDER_MAX];
	struct facts f;

	memset(&f, 0, sizeof(f));
	mx_check_hosts(&chk, &f.mx_host);
	f.known = FBIT(mx_host);
	return facts_render(&f, FID_mx_host, -1, buf, sizeof buf);
}

/* detail_has - the detail mentions s */
static void detail_has(const char *s)
{
	if (!strstr(chk.detail, s))
		print_error("detail '%s' lacks '%s'\n", chk.detail, s);
	assert_non_null(strstr(chk.detail, s));
}

static void valid_simple(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org");
	add("mx1.example.org", A, DNS_OK, "A 192.0.2.10");
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("Example.ORG."), MX_VALID);
	assert_string_equal(chk.detail, "mx1.example.org has address 192.0.2.10");
	struct facts f;
	memset(&f, 0, sizeof(f));
	mx_check_facts(&chk, &f);
	assert_int_equal(f.mx, MX_VALID);
	assert_true(f.known & FACT_MX);
	assert_string_equal(f.mx_detail, chk.detail);
	assert_string_equal(hosts(), "mx1.example.org");
}

/* The first usable address decides; the other answers are still in flight. */
static void valid_decides_early(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org; MX 30 mx3.example.org");
	for (int i = 1; i <= 3; i++) {
		char h[32];
		snprintf(h, sizeof(h), "mx%d.example.org", i);
		add(h, A, DNS_OK, "A 192.0.2.1");
		add(h, AAAA, DNS_OK, "AAAA 2001:db8::1");
	}
	assert_int_equal(run("example.org"), MX_VALID);
	detail_has("mx1.example.org has address 192.0.2.1");
	/* 1 MX + A and AAAA of 3 exchanges fired together; only one address answer was needed */
	assert_int_equal(fake_dns_total(), 7);
	assert_int_equal(resolver_pending(res), 5);
	/* late answers change nothing */
	assert_true(resolver_wait(res, NULL, NULL));
	assert_int_equal(chk.result, MX_VALID);
	assert_int_equal(fake_dns_total(), 7);
}

static void null_mx(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 0 .");
	assert_int_equal(run("example.org"), MX_NULLMX);
	assert_string_equal(chk.detail, "example.org has a null MX (RFC 7505)");
	assert_int_equal(fake_dns_total(), 1);
	assert_string_equal(hosts(), "");
}

static void null_mx_mixed(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 0 .; MX 10 mx1.example.org");
	add("mx1.example.org", A, DNS_OK, "A 10.0.0.1");
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_BOGUS);
	detail_has("mx1.example.org resolves only to bogus address 10.0.0.1");
	detail_has("null MX among other MX records ignored");
	assert_string_equal(hosts(), "mx1.example.org");   /* the "." is no host */
	add("mx1.example.org", A, DNS_OK, "A 192.0.2.1");
	assert_int_equal(run("example.org"), MX_VALID);
}

static void nxdomain(void **state)
{
	(void)state;
	add("nope.example", MX, DNS_NXDOMAIN, NULL);
	assert_int_equal(run("nope.example"), MX_NXDOMAIN);
	detail_has("NXDOMAIN");
	assert_int_equal(fake_dns_total(), 1);
	assert_string_equal(hosts(), "");
}

static void mx_lookup_fails(void **state)
{
	(void)state;
	add("sf.example", MX, DNS_SERVFAIL, NULL);
	assert_int_equal(run("sf.example"), MX_TEMPERROR);
	assert_string_equal(chk.detail, "MX lookup for sf.example failed: servfail");
	assert_string_equal(hosts(), "");
	{
		struct fact_domain_set h;

		mx_check_hosts(&chk, &h);
		assert_true(h.partial);          /* no MX answer: an exchange may be missing, never "not listed" */
		add("nope.example", MX, DNS_NXDOMAIN, NULL);
		assert_int_equal(run("nope.example"), MX_NXDOMAIN);
		mx_check_hosts(&chk, &h);
		assert_false(h.partial);         /* NXDOMAIN is an answer: no exchanges, for sure */
	}
	/* unknown names time out in the fake */
	assert_int_equal(run("unknown.example"), MX_TEMPERROR);
	detail_has("timeout");
}

static void implicit_mx(void **state)
{
	(void)state;
	add("example.org", MX, DNS_NODATA, NULL);
	add("example.org", A, DNS_NODATA, NULL);
	add("example.org", AAAA, DNS_OK, "AAAA 2001:db8::25");
	assert_int_equal(run("example.org"), MX_IMPLICIT);
	assert_string_equal(chk.detail, "no MX; example.org has address 2001:db8::25");
	assert_string_equal(hosts(), "example.org");   /* RFC 5321 5.1: the domain is its own MX */
}

static void implicit_bogus_none_temperror(void **state)
{
	(void)state;
	add("example.org", MX, DNS_NODATA, NULL);
	add("example.org", A, DNS_OK, "A 127.0.0.1");
	add("example.org", AAAA, DNS_OK, "AAAA ::1");
	assert_int_equal(run("example.org"), MX_BOGUS);
	detail_has("resolves only to bogus address");

	add("example.org", A, DNS_NODATA, NULL);
	add("example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_NONE);
	assert_string_equal(chk.detail, "example.org has no MX and no address records");

	add("example.org", A, DNS_SERVFAIL, NULL);
	add("example.org", AAAA, DNS_OK, "AAAA fe80::1");
	assert_int_equal(run("example.org"), MX_TEMPERROR);
	detail_has("servfail");
}

static void exchange_is_ip_or_localhost(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 192.0.2.1");
	assert_int_equal(run("example.org"), MX_BOGUS);
	assert_string_equal(chk.detail, "192.0.2.1 is an IP address, not a host name");
	assert_int_equal(fake_dns_count("192.0.2.1", 0), 0);

	add("example.org", MX, DNS_OK, "MX 10 localhost; MX 20 mail.localhost");
	assert_int_equal(run("example.org"), MX_BOGUS);
	detail_has("localhost is localhost (and 1 more unusable MX)");
	assert_int_equal(fake_dns_count("localhost", 0), 0);
	assert_int_equal(fake_dns_count("mail.localhost", 0), 0);
	assert_int_equal(fake_dns_total(), 2);
	assert_string_equal(hosts(), "localhost,mail.localhost");   /* published names, usable or not */
}

static void many_mx_bounded(void **state)
{
	char spec[4096] = "";
	(void)state;
	for (int i = 60; i >= 1; i--) {
		char rec[48];
		snprintf(rec, sizeof(rec), "MX %d mx%02d.example.org;", i, i);
		strcat(spec, rec);
	}
	add("example.org", MX, DNS_OK, spec);
	fake_dns_default(DNS_NXDOMAIN);
	assert_int_equal(run("example.org"), MX_BOGUS);
	assert_int_equal(fake_dns_total(), 1 + 2 * 10);
	assert_int_equal(fake_dns_count("mx10.example.org", A), 1);
	assert_int_equal(fake_dns_count("mx11.example.org", 0), 0);
	detail_has("mx01.example.org has no address records (and 9 more unusable MX, not all checked)");
	/* mx_host holds the max_targets most preferred exchanges, in preference order */
	assert_string_equal(hosts(), "mx01.example.org,mx02.example.org,mx03.example.org,mx04.example.org,"
			    "mx05.example.org,mx06.example.org,mx07.example.org,mx08.example.org,"
			    "mx09.example.org,mx10.example.org");

	/* a configured maximum above the hard cap is capped */
	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	add("example.org", MX, DNS_OK, spec);
	opts.max_targets = 1000;
	assert_int_equal(run("example.org"), MX_BOGUS);
	assert_int_equal(fake_dns_total(), 1 + 2 * MX_TARGETS_MAX);
	{
		struct facts f;

		memset(&f, 0, sizeof(f));
		mx_check_hosts(&chk, &f.mx_host);
		assert_int_equal(f.mx_host.count, MX_TARGETS_MAX);   /* the hard cap, and the set holds it all */
		assert_string_equal(facts_set_name(&f.mx_host, MX_TARGETS_MAX - 1), "mx32.example.org");
	}
}

static void duplicate_exchanges(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 MX1.example.org.");
	add("mx1.example.org", A, DNS_OK, "A 10.1.2.3");
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_BOGUS);
	assert_int_equal(fake_dns_total(), 3);
}

static void cname_chains(void **state)
{
	(void)state;
	add("alias.example", MX, DNS_OK, "CNAME real.example");
	add("real.example", MX, DNS_OK, "MX 10 mx.real.example");
	add("mx.real.example", A, DNS_OK, "CNAME host.cdn.example; @host.cdn.example CNAME edge.cdn.example");
	add("edge.cdn.example", A, DNS_OK, "A 198.51.100.7");
	add("mx.real.example", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("alias.example"), MX_VALID);
	/* the exchange itself is an alias: valid, but said (RFC 2181 10.3) */
	assert_string_equal(chk.detail, "mx.real.example has address 198.51.100.7 (a CNAME for edge.cdn.example; "
			    "RFC 2181 10.3: an MX names the host itself)");
	assert_int_equal(fake_dns_count("real.example", MX), 1);
	assert_int_equal(fake_dns_count("edge.cdn.example", A), 1);

	/* the chain and the address in one answer (as a recursive resolver sends them) */
	add("inline.example", MX, DNS_OK, "MX 10 mx.inline.example");
	add("mx.inline.example", A, DNS_OK, "CNAME host.inline.example; @host.inline.example A 198.51.100.8");
	add("mx.inline.example", AAAA, DNS_NODATA, NULL);
	if (run("inline.example") != MX_VALID)
		fail_msg("inline.example: %s", chk.detail);
	detail_has("(a CNAME for host.inline.example; RFC 2181 10.3");
	/* an exchange that is no alias says nothing of the kind */
	add("plainmx.example", MX, DNS_OK, "MX 10 host.plainmx.example");
	add("host.plainmx.example", A, DNS_OK, "A 198.51.100.9");
	add("host.plainmx.example", AAAA, DNS_NODATA, NULL);
	if (run("plainmx.example") != MX_VALID)
		fail_msg("plainmx.example: %s", chk.detail);
	assert_null(strstr(chk.detail, "CNAME"));

	/* a loop is a temporary error, not a verdict */
	add("loop1.example", MX, DNS_OK, "CNAME loop2.example");
	add("loop2.example", MX, DNS_OK, "CNAME loop1.example");
	assert_int_equal(run("loop1.example"), MX_TEMPERROR);
}

static void mixed_bogus_and_usable(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_OK, "A 10.0.0.1; A 192.168.1.1");
	add("mx1.example.org", AAAA, DNS_OK, "AAAA fc00::1");
	add("mx2.example.org", A, DNS_OK, "A 172.16.0.1; A 203.0.113.9");
	add("mx2.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_VALID);
	/* valid, but the preferred exchange's trouble is said */
	assert_string_equal(chk.detail, "mx2.example.org has address 203.0.113.9; the preferred "
			    "mx1.example.org resolves only to bogus address 10.0.0.1");
}

/* a zone file entry without its trailing dot: the exchange is the domain's name appended again */
static void appended_origin_named(void **state)
{
	(void)state;
	fake_dns_default(DNS_NXDOMAIN);
	add("example.com", MX, DNS_OK, "MX 10 mail.example.com.example.com");
	assert_int_equal(run("example.com"), MX_BOGUS);
	assert_string_equal(chk.detail, "mail.example.com.example.com has no address records (the zone's "
			    "name appended to mail.example.com: a missing trailing dot?)");
	add("example.com", MX, DNS_OK, "MX 10 example.com.example.com");
	assert_int_equal(run("example.com"), MX_BOGUS);
	detail_has("appended to example.com:");
	/* a backup that works: valid, and the preferred exchange's mistake is said */
	add("example.com", MX, DNS_OK, "MX 10 mail.example.com.example.com; MX 20 backup.example.net");
	add("backup.example.net", A, DNS_OK, "A 198.51.100.25");
	add("backup.example.net", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.com"), MX_VALID);
	/* the fake answers in query order, so the preferred exchange's answers were in first */
	assert_string_equal(chk.detail, "backup.example.net has address 198.51.100.25; the preferred "
			    "mail.example.com.example.com has no address records (the zone's name appended to "
			    "mail.example.com: a missing trailing dot?)");
	/* not a repetition: another domain's name, or the name only once */
	add("example.com", MX, DNS_OK, "MX 10 mail.example.com.evil.example");
	assert_int_equal(run("example.com"), MX_BOGUS);
	assert_null(strstr(chk.detail, "appended"));
	add("example.com", MX, DNS_OK, "MX 10 xexample.com.example.com");
	assert_int_equal(run("example.com"), MX_BOGUS);
	assert_null(strstr(chk.detail, "appended"));
}

/* addrs_text - the check's address set as mx_addr renders it */
static const char *addrs_text(bool *partial)
{
	static char buf[FACT_RENDER_MAX];
	static struct facts f;

	memset(&f, 0, sizeof(f));
	mx_check_addrs(&chk, &f.mx_addr);
	f.known = FBIT(mx_addr);
	*partial = f.mx_addr.partial;
	return facts_render(&f, FID_mx_addr, -1, buf, sizeof buf);
}

/* all_addresses: every address of every exchange, bogus ones too; the result still decides at the first usable */
static void all_addresses(void **state)
{
	const char *t;
	bool partial;

	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_OK, "A 10.0.0.1; A 192.0.2.1");
	add("mx1.example.org", AAAA, DNS_OK, "AAAA 2001:db8::1");
	add("mx2.example.org", A, DNS_OK, "A 198.51.100.2; A 192.0.2.1");
	add("mx2.example.org", AAAA, DNS_NODATA, NULL);
	opts.all_addresses = true;
	assert_int_equal(run("example.org"), MX_VALID);
	assert_int_equal(fake_dns_total(), 5);
	t = addrs_text(&partial);
	assert_false(partial);
	assert_int_equal(chk.addrs.count, 4);      /* 192.0.2.1 once, though both have it */
	assert_string_equal(t, "10.0.0.1,192.0.2.1,198.51.100.2,2001:db8::1");   /* a fixed order: IPv4 first, by address */
	assert_non_null(strstr(t, "10.0.0.1"));
	assert_non_null(strstr(t, "192.0.2.1"));
	assert_non_null(strstr(t, "2001:db8::1"));
	assert_non_null(strstr(t, "198.51.100.2"));
	{
		char lines[1024];

		mx_check_explain(&chk, lines, sizeof lines);
		assert_string_equal(lines, "mx_record: 10 mx1.example.org 10.0.0.1 192.0.2.1 2001:db8::1\n"
				    "mx_record: 20 mx2.example.org 198.51.100.2 192.0.2.1\n");
		mx_check_explain(&chk, lines, 20);                  /* cut, never overrun */
		assert_int_equal(strlen(lines), 19);
	}

	/* one exchange's lookup fails: still valid, but the set is partial */
	fake_dns_reset();
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_OK, "A 192.0.2.1");
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	add("mx2.example.org", A, DNS_SERVFAIL, NULL);
	add("mx2.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_VALID);
	t = addrs_text(&partial);
	assert_true(partial);
	assert_string_equal(t, "192.0.2.1");

	/* a null MX, NXDOMAIN: no addresses, and nothing missing */
	add("nullmx.example", MX, DNS_OK, "MX 0 .");
	assert_int_equal(run("nullmx.example"), MX_NULLMX);
	t = addrs_text(&partial);
	assert_false(partial);
	assert_string_equal(t, "");
}

static void temp_on_one_usable_on_other(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_SERVFAIL, NULL);
	fake_dns_hang("mx1.example.org", AAAA);
	add("mx2.example.org", A, DNS_OK, "A 192.0.2.2");
	add("mx2.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_VALID);
	detail_has("mx2.example.org");
}

static void all_temp(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_SERVFAIL, NULL);
	add("mx1.example.org", AAAA, DNS_SERVFAIL, NULL);
	/* mx2 unknown: the fake times out */
	assert_int_equal(run("example.org"), MX_TEMPERROR);
	assert_string_equal(chk.detail, "address lookup for mx1.example.org failed: servfail");
}

static void bogus_and_temp_is_temperror(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_OK, "A 127.0.0.2");
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	add("mx2.example.org", A, DNS_NODATA, NULL);
	add("mx2.example.org", AAAA, DNS_ERROR, NULL);
	assert_int_equal(run("example.org"), MX_TEMPERROR);
	detail_has("mx2.example.org failed: error");
}

/* the built-in default: RFC 6890's documentation and benchmarking ranges are bogus too */
static void default_bogus_special_purpose(void **state)
{
	(void)state;
	netlist_free(bogus);
	bogus = netlist_bogus_default();
	opts.bogus = bogus;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org; MX 30 mx3.example.org");
	add("mx1.example.org", A, DNS_OK, "A 192.0.2.1; A 198.51.100.1; A 203.0.113.1");
	add("mx1.example.org", AAAA, DNS_OK, "AAAA 2001:db8::1; AAAA 100::1");
	add("mx2.example.org", A, DNS_OK, "A 198.18.0.1; A 192.0.0.8");
	add("mx2.example.org", AAAA, DNS_NODATA, NULL);
	add("mx3.example.org", A, DNS_NODATA, NULL);
	add("mx3.example.org", AAAA, DNS_OK, "AAAA ::ffff:192.0.2.9");
	assert_int_equal(run("example.org"), MX_BOGUS);
	detail_has("mx1.example.org resolves only to bogus address 192.0.2.1 (and 2 more unusable MX)");
	add("mx3.example.org", A, DNS_OK, "A 45.0.0.25");    /* data only: no traffic goes to MX addresses */
	assert_int_equal(run("example.org"), MX_VALID);
}

/* hosts_only: done at the MX answer, no address asked (the mx_host row) */
static void hosts_only_at_the_mx_answer(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	opts.hosts_only = true;
	mx_check_release(&chk);
	mx_check_start(&chk, res, "example.org", &opts);
	assert_true(resolver_wait(res, mx_check_done, &chk));
	assert_string_equal(hosts(), "mx1.example.org,mx2.example.org");
	assert_int_equal(fake_dns_total(), 1);
	add("implicit.example", MX, DNS_NODATA, NULL);
	mx_check_release(&chk);
	mx_check_start(&chk, res, "implicit.example", &opts);
	assert_true(resolver_wait(res, mx_check_done, &chk));
	assert_string_equal(hosts(), "implicit.example");
	assert_int_equal(fake_dns_total(), 2);
}

/* an IPv4-mapped IPv6 address is judged as the IPv4 address it carries */
static void mapped_v4_is_bogus(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org");
	add("mx1.example.org", A, DNS_NODATA, NULL);
	add("mx1.example.org", AAAA, DNS_OK, "AAAA ::ffff:10.1.2.3");
	assert_int_equal(run("example.org"), MX_BOGUS);
	detail_has("resolves only to bogus address ::ffff:10.1.2.3");
}

static void all_bogus(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_OK, "A 10.0.0.1");
	add("mx1.example.org", AAAA, DNS_OK, "AAAA ::1");
	add("mx2.example.org", A, DNS_NXDOMAIN, NULL);
	add("mx2.example.org", AAAA, DNS_NXDOMAIN, NULL);
	assert_int_equal(run("example.org"), MX_BOGUS);
	assert_string_equal(chk.detail,
			    "mx1.example.org resolves only to bogus address 10.0.0.1 (and 1 more unusable MX)");
}

static void no_bogus_list(void **state)
{
	(void)state;
	opts.bogus = NULL;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org");
	add("mx1.example.org", A, DNS_OK, "A 10.0.0.1");
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_VALID);
}

static void no_dns_for_null_literal_invalid(void **state)
{
	struct address a;
	(void)state;
	address_parse("<>", &a);
	mx_check_for_sender(&chk, res, &a, &opts);
	assert_true(mx_check_done(&chk));
	assert_int_equal(chk.result, MX_SKIPPED);
	address_parse("<user@[192.0.2.1]>", &a);
	mx_check_for_sender(&chk, res, &a, &opts);
	assert_int_equal(chk.result, MX_LITERAL);
	assert_string_equal(chk.detail, "address literal [192.0.2.1]");
	address_parse("<user@exa_mple.org>", &a);
	mx_check_for_sender(&chk, res, &a, &opts);
	assert_int_equal(chk.result, MX_INVALID);
	detail_has("bad character '_'");
	mx_check_start(&chk, res, "-bad.example", &opts);
	assert_true(mx_check_done(&chk));
	assert_int_equal(chk.result, MX_INVALID);
	assert_int_equal(fake_dns_total(), 0);
	assert_int_equal(resolver_pending(res), 0);

	add("example.org", MX, DNS_NXDOMAIN, NULL);
	address_parse("<User@EXAMPLE.org>", &a);
	mx_check_for_sender(&chk, res, &a, &opts);
	assert_false(mx_check_done(&chk));      /* callbacks only run inside wait */
	assert_true(resolver_wait(res, mx_check_done, &chk));
	assert_int_equal(chk.result, MX_NXDOMAIN);
}

static void malformed_answers(void **state)
{
	unsigned char junk[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c };
	(void)state;
	fake_dns_add_raw("example.org", MX, DNS_OK, junk, sizeof(junk));
	assert_int_equal(run("example.org"), MX_TEMPERROR);
	assert_string_equal(chk.detail, "malformed MX answer for example.org");

	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org");
	fake_dns_add_raw("mx1.example.org", A, DNS_OK, junk, sizeof(junk));
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_TEMPERROR);
}

/* Abandon with answers in flight, free the memory: late answers must not touch it. */
static void abandon_then_free(void **state)
{
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_OK, "A 192.0.2.1");
	add("mx1.example.org", AAAA, DNS_OK, "AAAA 2001:db8::1");

	struct mx_check *c = malloc(sizeof(*c));
	assert_non_null(c);
	mx_check_start(c, res, "example.org", &opts);
	assert_int_equal(resolver_pending(res), 1);
	mx_check_abandon(c);
	assert_true(mx_check_done(c));
	assert_int_equal(c->result, MX_TEMPERROR);
	mx_check_release(c);
	memset(c, 0xa5, sizeof(*c));
	free(c);
	assert_true(resolver_wait(res, NULL, NULL));
	assert_int_equal(fake_dns_total(), 1);     /* the late MX answer started nothing */

	/* decided early, then abandoned and freed with address answers in flight */
	c = malloc(sizeof(*c));
	assert_non_null(c);
	mx_check_start(c, res, "example.org", &opts);
	assert_true(resolver_wait(res, mx_check_done, c));
	assert_int_equal(c->result, MX_VALID);
	assert_true(resolver_pending(res) > 0);
	mx_check_release(c);
	free(c);
	assert_true(resolver_wait(res, NULL, NULL));
	assert_int_equal(resolver_pending(res), 0);
}

static void deadline_gives_temperror(void **state)
{
	struct timespec d;
	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec += 30;                  /* the fake jumps to it once only hanging queries are left */
	resolver_set_deadline(res, &d);
	fake_dns_hang("slow.example", MX);
	assert_int_equal(run("slow.example"), MX_TEMPERROR);
	assert_string_equal(chk.detail, "MX lookup for slow.example failed: timeout");

	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org; MX 20 mx2.example.org");
	add("mx1.example.org", A, DNS_OK, "A 10.0.0.1");
	add("mx1.example.org", AAAA, DNS_NODATA, NULL);
	fake_dns_hang("mx2.example.org", A);
	add("mx2.example.org", AAAA, DNS_NODATA, NULL);
	assert_int_equal(run("example.org"), MX_TEMPERROR);
	detail_has("mx2.example.org failed: timeout");

	/* a deadline already passed: every lookup times out */
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec -= 1;
	resolver_set_deadline(res, &d);
	add("fast.example", MX, DNS_OK, "MX 10 mx1.example.org");
	assert_int_equal(run("fast.example"), MX_TEMPERROR);
	detail_has("timeout");
}

static void resolver_freed_under_check(void **state)
{
	char err[64];
	(void)state;
	add("example.org", MX, DNS_OK, "MX 10 mx1.example.org");
	mx_check_start(&chk, res, "example.org", &opts);
	resolver_free(res);                      /* pending lookups fail with DNS_ERROR */
	assert_true(mx_check_done(&chk));
	assert_int_equal(chk.result, MX_TEMPERROR);
	res = resolver_new(NULL, err, sizeof(err));
	assert_non_null(res);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(valid_simple),
		T(valid_decides_early),
		T(null_mx),
		T(null_mx_mixed),
		T(nxdomain),
		T(mx_lookup_fails),
		T(implicit_mx),
		T(implicit_bogus_none_temperror),
		T(exchange_is_ip_or_localhost),
		T(all_addresses),
		T(mapped_v4_is_bogus),
		T(hosts_only_at_the_mx_answer),
		T(default_bogus_special_purpose),
		T(appended_origin_named),
		T(many_mx_bounded),
		T(duplicate_exchanges),
		T(cname_chains),
		T(mixed_bogus_and_usable),
		T(temp_on_one_usable_on_other),
		T(all_temp),
		T(bogus_and_temp_is_temperror),
		T(all_bogus),
		T(no_bogus_list),
		T(no_dns_for_null_literal_invalid),
		T(malformed_answers),
		T(abandon_then_free),
		T(deadline_gives_temperror),
		T(resolver_freed_under_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
