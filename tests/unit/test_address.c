/*
 * test_address.c - policy/address.c: MAIL FROM arguments and host names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/address.h"

static struct address a;

/* parse_ok - parse, expect class, domain and local part */
static void parse_ok(const char *arg, enum addr_class cls, const char *local, const char *domain)
{
	enum addr_class got = address_parse(arg, &a);
	if (got != cls)
		print_error("'%s': class %d, reason '%s'\n", arg, got, a.reason);
	assert_int_equal(got, cls);
	assert_int_equal(a.cls, cls);
	assert_string_equal(a.local, local);
	assert_string_equal(a.domain, domain);
	assert_string_equal(a.reason, "");
}

/* parse_bad - expect ADDR_INVALID with a reason containing why */
static void parse_bad(const char *arg, const char *why)
{
	assert_int_equal(address_parse(arg, &a), ADDR_INVALID);
	if (!strstr(a.reason, why))
		print_error("'%s': reason '%s', wanted '%s'\n", arg ? arg : "(null)", a.reason, why);
	assert_non_null(strstr(a.reason, why));
	assert_string_equal(a.domain, "");
	assert_string_equal(a.addr, "");
}

static void null_sender(void **state)
{
	(void)state;
	parse_ok("<>", ADDR_NULL, "", "");
	parse_ok(" <> ", ADDR_NULL, "", "");
	parse_ok("", ADDR_NULL, "", "");
	parse_ok("<> SIZE=100", ADDR_NULL, "", "");
}

static void normal(void **state)
{
	(void)state;
	parse_ok("<user@Example.ORG>", ADDR_NORMAL, "user", "example.org");
	assert_string_equal(a.addr, "user@example.org");
	parse_ok("User.Name+tag@mail.example.org", ADDR_NORMAL, "User.Name+tag", "mail.example.org");
	parse_ok("<user@example.org.>", ADDR_NORMAL, "user", "example.org");
	parse_ok("<a..b@example.org>", ADDR_NORMAL, "a..b", "example.org");   /* loose on local parts */
	parse_ok("<bounce-12345=user=example.com@lists.example.org>", ADDR_NORMAL,
		 "bounce-12345=user=example.com", "lists.example.org");
	parse_ok("<user@localhost>", ADDR_NORMAL, "user", "localhost");
}

static void quoted_local(void **state)
{
	(void)state;
	parse_ok("<\"a b\"@example.org>", ADDR_NORMAL, "\"a b\"", "example.org");
	parse_ok("<\"a@b\"@example.org>", ADDR_NORMAL, "\"a@b\"", "example.org");
	parse_ok("<\"a>b\"@example.org>", ADDR_NORMAL, "\"a>b\"", "example.org");
	parse_ok("<\"a\\\"b\"@example.org>", ADDR_NORMAL, "\"a\\\"b\"", "example.org");
	assert_string_equal(a.addr, "\"a\\\"b\"@example.org");
	parse_bad("<\"ab@example.org>", "missing '>'");
	parse_bad("\"ab@example.org", "unbalanced quote");
	parse_bad("<\"a\"b@example.org>", "text after quoted local part");
	parse_bad("<\"a\001b\"@example.org>", "control character");
}

static void source_routes(void **state)
{
	(void)state;
	parse_ok("<@relay.example,@hop.example:user@dom.example>", ADDR_NORMAL, "user", "dom.example");
	parse_ok("<@relay.example:user@dom.example>", ADDR_NORMAL, "user", "dom.example");
	parse_bad("<@relay.example,user@dom.example>", "source route");
	parse_bad("<@,@hop.example:user@dom.example>", "source route");
	parse_bad("<@relay.example,:user@dom.example>", "source route");
	parse_bad("<@:user@dom.example>", "source route");
}

static void literals(void **state)
{
	(void)state;
	parse_ok("<user@[192.0.2.1]>", ADDR_LITERAL, "user", "[192.0.2.1]");
	assert_string_equal(a.addr, "user@[192.0.2.1]");
	parse_ok("<user@[IPv6:2001:db8::1]>", ADDR_LITERAL, "user", "[IPv6:2001:db8::1]");
	parse_ok("<user@[ipv6:::1]>", ADDR_LITERAL, "user", "[ipv6:::1]");
	parse_bad("<user@[300.1.1.1]>", "malformed address literal");
	parse_bad("<user@[2001:db8::1]>", "malformed address literal");
	parse_bad("<user@[IPv6:zz::1]>", "malformed address literal");
	parse_bad("<user@[x-tag:content]>", "malformed address literal");
	parse_bad("<user@[192.0.2.1>", "malformed address literal");
	parse_bad("<user@[]>", "malformed address literal");
}

static void idn(void **state)
{
	(void)state;
	parse_ok("<user@bücher.example>", ADDR_NORMAL, "user", "xn--bcher-kva.example");
	parse_ok("<user@BÜCHER.Example.>", ADDR_NORMAL, "user", "xn--bcher-kva.example");
	/* nontransitional: ß stays ß (xn--fa-hia), it does not become "ss" */
	parse_ok("<user@faß.de>", ADDR_NORMAL, "user", "xn--fa-hia.de");
	/* SMTPUTF8 local parts pass through */
	parse_ok("<δοκιμή@παράδειγμα.δοκιμή>", ADDR_NORMAL, "δοκιμή", "xn--hxajbheg2az3al.xn--jxalpdlp");
	parse_bad("<user@\xff\xfe.example>", "IDN conversion failed");
	parse_bad("<user@b\xc3\xbc_cher.example>", "bad character");
}

static void lengths(void **state)
{
	char name[400], arg[450], l63[64], l64[65];
	(void)state;
	memset(l63, 'a', 63); l63[63] = '\0';
	memset(l64, 'b', 64); l64[64] = '\0';
	snprintf(arg, sizeof(arg), "<u@%s.example>", l63);
	snprintf(name, sizeof(name), "%s.example", l63);
	parse_ok(arg, ADDR_NORMAL, "u", name);
	snprintf(arg, sizeof(arg), "<u@%s.example>", l64);
	parse_bad(arg, "label longer than 63 octets");
	/* 63+1+63+1+63+1+61 = 253 octets: the longest valid name */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	assert_int_equal(strlen(name), 253);
	snprintf(arg, sizeof(arg), "<u@%s>", name);
	parse_ok(arg, ADDR_NORMAL, "u", name);
	snprintf(arg, sizeof(arg), "<u@%s.>", name);
	parse_ok(arg, ADDR_NORMAL, "u", name);    /* the root dot does not count */
	snprintf(name, sizeof(name), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	snprintf(arg, sizeof(arg), "<u@%s>", name);
	parse_bad(arg, "longer than 253");
	char huge[2000];
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	parse_bad(huge, "address too long");
}

static void garbage(void **state)
{
	(void)state;
	parse_bad(NULL, "no address");
	parse_bad("<user@example.org", "missing '>'");
	parse_bad("<user@example.org>x", "text after '>'");
	parse_bad("<<>>", "text after '>'");
	parse_bad("postmaster", "no domain");
	parse_bad("<user@>", "empty domain");
	parse_bad("<@example.org>", "source route");
	parse_bad("<@>", "source route");
	parse_bad("<user@@example.org>", "more than one '@'");
	parse_bad("<a@b@example.org>", "more than one '@'");
	parse_bad("<user@exa mple.org>", "bad character");
	parse_bad("<user@exa_mple.org>", "bad character '_'");
	parse_bad("<user@example..org>", "empty label");
	parse_bad("<user@.example.org>", "empty label");
	parse_bad("<user@example.org..>", "empty label");
	parse_bad("<user@.>", "empty domain");
	parse_bad("<user@-example.org>", "hyphen");
	parse_bad("<user@example-.org>", "hyphen");
	parse_bad("<user@192.0.2.1>", "all digits");
	parse_bad("<us er@example.org>", "space in local part");
	parse_bad("<us\ter@example.org>", "control character");
	parse_bad("<us(er@example.org>", "special character");
	parse_bad("user@example.org SIZE=100", "bad character");
	parse_bad("<user@exa\rmple.org>", "bad character \\x0d");
}

static void bare_domains(void **state)
{
	char out[FACT_NAME_MAX], why[ADDR_REASON_MAX];
	(void)state;
	assert_int_equal(address_domain("Mail.Example.COM.", out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "mail.example.com");
	assert_string_equal(why, "");
	assert_int_equal(address_domain("xn--bcher-kva.example", out, sizeof(out), NULL, 0), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(address_domain("", out, sizeof(out), why, sizeof(why)), -1);
	assert_string_equal(why, "empty domain");
	assert_int_equal(address_domain(NULL, out, sizeof(out), why, sizeof(why)), -1);
	assert_int_equal(address_domain("[192.0.2.1]", out, sizeof(out), why, sizeof(why)), -1);
	assert_int_equal(address_domain("a..b", out, sizeof(out), NULL, 0), -1);
	/* an output buffer too small is an error, never a truncated name */
	assert_int_equal(address_domain("example.org", out, 5, why, sizeof(why)), -1);
	assert_int_equal(address_literal("[IPv6:::ffff:192.0.2.1]", why, sizeof(why)), 0);
	assert_int_equal(address_literal("192.0.2.1", why, sizeof(why)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_sender),
		cmocka_unit_test(normal),
		cmocka_unit_test(quoted_local),
		cmocka_unit_test(source_routes),
		cmocka_unit_test(literals),
		cmocka_unit_test(idn),
		cmocka_unit_test(lengths),
		cmocka_unit_test(garbage),
		cmocka_unit_test(bare_domains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
