/*
 * test_reply.c - reply defaults, %{macro} substitution, sanitising of
 * hostile fact values, '%' escaping for smfi_setreply, length limits,
 * and template validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tests/unit/fact_groups.h"
#include "policy/reply.h"

/* verdict_of - a decided verdict using template t */
static struct verdict verdict_of(enum action a, const char *rule, const struct reply_template *t)
{
	struct verdict v = { a, rule, t, false };
	return v;
}

/* tmpl - a reply template */
static struct reply_template tmpl(const char *code, const char *xcode, const char *text)
{
	struct reply_template t = { "", "", (char *)text };
	snprintf(t.code, sizeof(t.code), "%s", code);
	snprintf(t.xcode, sizeof(t.xcode), "%s", xcode);
	return t;
}

/* full_facts - every fact group known, with ordinary values */
static struct facts full_facts(void)
{
	struct facts f = { 0 };
	f.known = FACT_MASK_ALL;
	snprintf(f.client_ip.text, sizeof(f.client_ip.text), "192.0.2.7");
	snprintf(f.helo, sizeof(f.helo), "mail.example.org");
	snprintf(f.sender, sizeof(f.sender), "alice@example.org");
	snprintf(f.sender_domain, sizeof(f.sender_domain), "example.org");
	snprintf(f.from_domain, sizeof(f.from_domain), "example.com");
	snprintf(f.mx_detail, sizeof(f.mx_detail), "mx1.example.org resolves only to 10.0.0.1");
	f.mx = MX_BOGUS;
	f.spf = SPFR_SOFTFAIL;
	f.dkim = DKIMR_PERMERROR;
	return f;
}

static void test_macros(void **state)
{
	(void)state;
	struct reply_template t = tmpl("550", "5.1.8",
		"d=%{domain} s=%{sender} ip=%{client_ip} h=%{helo} mx=%{mx} spf=%{spf} dkim=%{dkim} "
		"r=%{rule} f=%{from_domain} why=%{mx_detail} 100%% %{nomacro} 5% off");
	struct verdict v = verdict_of(ACTION_REJECT, "no-route", &t);
	struct facts f = full_facts();
	struct reply r;

	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.xcode, "5.1.8");
	assert_string_equal(r.text,
		"d=example.org s=alice@example.org ip=192.0.2.7 h=mail.example.org mx=bogus spf=softfail "
		"dkim=permerror r=no-route f=example.com why=mx1.example.org resolves only to 10.0.0.1 "
		"100% %{nomacro} 5% off");
	assert_string_equal(r.smtp_text,
		"d=example.org s=alice@example.org ip=192.0.2.7 h=mail.example.org mx=bogus spf=softfail "
		"dkim=permerror r=no-route f=example.com why=mx1.example.org resolves only to 10.0.0.1 "
		"100%% %%{nomacro} 5%% off");
}

static void test_unknown_facts_and_null_sender(void **state)
{
	(void)state;
	struct reply_template t = tmpl("451", "4.4.3", "[%{domain}|%{sender}|%{mx}|%{spf}|%{dkim}|%{helo}|%{from_domain}]");
	struct verdict v = verdict_of(ACTION_TEMPFAIL, "x", &t);
	struct facts f = full_facts();
	struct reply r;

	f.known = FACT_CLIENT;        /* e.g. a verdict at connect time */
	reply_format(&v, &f, &r);
	assert_string_equal(r.text, "[||unknown|unknown|unknown||]");
	f.known = FACT_SENDER | FACT_MX;
	f.sender[0] = f.sender_domain[0] = '\0';
	f.mx = MX_SKIPPED;
	reply_format(&v, &f, &r);
	assert_string_equal(r.text, "[|<>|skipped|unknown|unknown||]");
	/* once HELO is known, the null sender's %{domain} is the HELO name SPF checked */
	f.known |= FACT_HELO;
	reply_format(&v, &f, &r);
	assert_string_equal(r.text, "[mail.example.org|<>|skipped|unknown|unknown|mail.example.org|]");
}

static void test_sanitise_hostile_values(void **state)
{
	(void)state;
	struct reply_template t = tmpl("550", "5.7.1", "helo %{helo} from <%{sender}>");
	struct verdict v = verdict_of(ACTION_REJECT, "r", &t);
	struct facts f = full_facts();
	struct reply r;

	snprintf(f.helo, sizeof(f.helo), "evil\r\n250 OK\r\n");
	snprintf(f.sender, sizeof(f.sender), "a%%n%%s\x01\x7f\xc3\xa9@x");
	reply_format(&v, &f, &r);
	assert_string_equal(r.text, "helo evil??250 OK?? from <a%n%s????@x>");
	assert_string_equal(r.smtp_text, "helo evil??250 OK?? from <a%%n%%s????@x>");
	assert_null(strpbrk(r.text, "\r\n"));

	/* a fact buffer without its NUL is read only up to its size */
	memset(f.helo, 'h', sizeof(f.helo));
	t = tmpl("550", "5.7.1", "%{helo}");
	reply_format(&v, &f, &r);
	assert_int_equal(strlen(r.text), sizeof(f.helo));
}

static void test_length_limit(void **state)
{
	(void)state;
	struct reply_template t = tmpl("550", "5.7.1", "%{sender}%{sender}%{mx_detail}");
	struct verdict v = verdict_of(ACTION_REJECT, "r", &t);
	struct facts f = full_facts();
	struct reply r;

	memset(f.sender, '%', sizeof(f.sender) - 1);
	f.sender[sizeof(f.sender) - 1] = '\0';
	reply_format(&v, &f, &r);
	assert_int_equal(strlen(r.text), REPLY_TEXT_MAX);
	assert_string_equal(r.text + REPLY_TEXT_MAX - 3, "...");
	/* every '%' doubled, nothing lost to the escaped buffer */
	assert_int_equal(strlen(r.smtp_text), 2 * (REPLY_TEXT_MAX - 3) + 3);
	/* "550 5.7.1 " + text + CRLF stays inside SMTP's 512 octets */
	assert_true(3 + 1 + strlen(r.xcode) + 1 + strlen(r.text) + 2 <= 512);
	/* one set fact alone, longer than a reply: still cut with "..." */
	t = tmpl("550", "5.7.1", "%{mx_host}");
	f.known |= FBIT(mx_host);
	memset(&f.mx_host, 0, sizeof f.mx_host);
	for (unsigned i = 0; i < FACT_SET_NAMES; i++) {
		char name[FACT_NAME_MAX];

		snprintf(name, sizeof name, "mx%02u.a-rather-long-provider-name.example", i);
		assert_true(facts_set_add_name(&f.mx_host, name));
	}
	reply_format(&v, &f, &r);
	assert_int_equal(strlen(r.text), REPLY_TEXT_MAX);
	assert_string_equal(r.text + REPLY_TEXT_MAX - 3, "...");
	assert_int_equal(strncmp(r.text, "mx00.a-rather-long-provider-name.example,mx01.", 46), 0);
}

static void test_escape(void **state)
{
	(void)state;
	char buf[8];

	assert_string_equal(reply_escape("a%b", buf, sizeof(buf)), "a%%b");
	/* never half an escape at the end */
	assert_string_equal(reply_escape("abcde%f", buf, sizeof(buf)), "abcde%%");   /* fits exactly */
	assert_string_equal(reply_escape("abcdef%", buf, sizeof(buf)), "abcdef");
	assert_string_equal(reply_escape("%%%", buf, sizeof(buf)), "%%%%%%");
}

static void test_defaults(void **state)
{
	(void)state;
	struct reply_template empty = tmpl("", "", NULL), code_only = tmpl("554", "", NULL);
	struct reply_template text_only = tmpl("", "", "go away, %{domain}");
	struct facts f = full_facts();
	struct verdict v;
	struct reply r;
	char log[100];

	v = verdict_of(ACTION_REJECT, "spf-fail", &empty);
	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.xcode, "5.7.1");
	assert_string_equal(r.text, "rejected by policy (spf-fail)");
	assert_string_equal(reply_log_text(&v, &f, log, sizeof(log)), "rejected by policy (spf-fail)");

	v = verdict_of(ACTION_TEMPFAIL, "dns", &empty);
	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "451");
	assert_string_equal(r.xcode, "4.7.1");
	assert_string_equal(r.text, "temporarily deferred by policy (dns), try again later");

	v = verdict_of(ACTION_REJECT, "r", &code_only);
	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "554");
	assert_string_equal(r.xcode, "5.7.1");

	v = verdict_of(ACTION_REJECT, "r", &text_only);
	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.text, "go away, example.org");

	/* a template of the wrong class can never leave as a 4xx/5xx mix */
	struct reply_template wrong = tmpl("550", "5.7.27", NULL);
	v = verdict_of(ACTION_TEMPFAIL, "r", &wrong);
	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "451");
	assert_string_equal(r.xcode, "4.7.1");

	v = verdict_of(ACTION_QUARANTINE, "q", &empty);
	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "");
	assert_string_equal(r.xcode, "");
	assert_string_equal(r.text, "quarantined by policy (q)");

	v = verdict_of(ACTION_ACCEPT, "default", &empty);
	reply_format(&v, &f, &r);
	assert_string_equal(r.code, "");
	assert_string_equal(r.text, "");
	v = verdict_of(ACTION_DISCARD, "d", NULL);
	reply_format(&v, &f, &r);
	assert_string_equal(r.text, "");

	/* the log buffer may be small: cut, still terminated */
	v = verdict_of(ACTION_REJECT, "spf-fail", &empty);
	assert_string_equal(reply_log_text(&v, &f, log, 9), "rejected");
}

/* test_macros_are_the_facts - every fact of the table is a macro, listed in table order */
static void test_macros_are_the_facts(void **state)
{
	char want[1024], why[1024], t[64];
	size_t n;

	(void)state;
	n = (size_t)snprintf(want, sizeof want, "unknown macro %%{Domain} in reply text (known: domain, rule");
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char label[64];
		const char *l = facts_label((enum fact_id)i, label, sizeof label);

		if (!l)
			continue;
		n += (size_t)snprintf(want + n, sizeof want - n, ", %s", l);
		if (fact_table[i].instances > 1)
			continue;   /* a list's facts are macros by the list's name: test_rules */
		snprintf(t, sizeof t, "%%{%s}", l);
		assert_int_equal(reply_check_template(ACTION_REJECT, NULL, NULL, t, NULL, why, sizeof why), 0);
	}
	snprintf(want + n, sizeof want - n, ")");
	assert_int_equal(reply_check_template(ACTION_REJECT, NULL, NULL, "%{Domain}", NULL, why, sizeof why), -1);
	assert_string_equal(why, want);
}

static void test_check_template(void **state)
{
	(void)state;
	static const struct {
		enum action a;
		const char *code, *xcode, *text, *msg;
	} cases[] = {
		{ ACTION_REJECT, "550", "5.7.27", "ok %{domain}", NULL },
		{ ACTION_REJECT, "554", "5.7.1", NULL, NULL },
		{ ACTION_REJECT, NULL, NULL, "text only", NULL },
		{ ACTION_TEMPFAIL, "421", "4.3.2", "closing", NULL },
		{ ACTION_TEMPFAIL, "451", "4.7.24", "100%% sure, 5% off", NULL },
		{ ACTION_QUARANTINE, NULL, NULL, "held", NULL },
		{ ACTION_REJECT, "451", NULL, NULL, "reject needs a 5xx reply code, got 451" },
		{ ACTION_TEMPFAIL, "550", NULL, NULL, "tempfail needs a 4xx reply code, got 550" },
		{ ACTION_REJECT, "550", "4.7.1", NULL, "enhanced status 4.7.1 does not match reply class 5xx" },
		{ ACTION_TEMPFAIL, "451", "5.7.1", NULL, "enhanced status 5.7.1 does not match reply class 4xx" },
		{ ACTION_REJECT, "550", "5.7", NULL, "\"5.7\" is not an enhanced status code (like 5.7.1 or 4.4.3)" },
		{ ACTION_REJECT, "550", "5.7.1.", NULL, "\"5.7.1.\" is not an enhanced status code (like 5.7.1 or 4.4.3)" },
		{ ACTION_REJECT, "550", "3.7.1", NULL, "\"3.7.1\" is not an enhanced status code (like 5.7.1 or 4.4.3)" },
		{ ACTION_REJECT, "550", "5.7.01", NULL, "\"5.7.01\" is not an enhanced status code (like 5.7.1 or 4.4.3)" },
		{ ACTION_REJECT, "5x0", NULL, NULL, "\"5x0\" is not an SMTP reply code (like 550 or 451)" },
		{ ACTION_REJECT, "560", NULL, NULL, "\"560\" is not an SMTP reply code (like 550 or 451)" },
		{ ACTION_REJECT, NULL, "5.7.1", NULL, "an enhanced status code needs a reply code before it" },
		{ ACTION_ACCEPT, "250", NULL, NULL, "accept takes no reply code" },
		{ ACTION_ACCEPT, NULL, NULL, "hi", "accept takes no reply text" },
		{ ACTION_REJECT, NULL, NULL, "tab\there", "reply text may only hold printable ASCII (found byte 0x09)" },
		{ ACTION_REJECT, NULL, NULL, "caf\xc3\xa9", "reply text may only hold printable ASCII (found byte 0xc3)" },
	};
	char why[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = reply_check_template(cases[i].a, cases[i].code, cases[i].xcode, cases[i].text, NULL,
					      why, sizeof(why));
		if (!cases[i].msg && rc != 0)
			fail_msg("case %zu: unexpected error: %s", i, why);
		if (cases[i].msg && (rc == 0 || strcmp(why, cases[i].msg) != 0))
			fail_msg("case %zu: expected \"%s\", got %s", i, cases[i].msg, rc ? why : "success");
	}

	char longtext[REPLY_TEXT_MAX + 2];
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	assert_int_equal(reply_check_template(ACTION_REJECT, NULL, NULL, longtext, NULL, why, sizeof(why)), -1);
	assert_string_equal(why, "reply text is longer than 400 characters");
	longtext[REPLY_TEXT_MAX] = '\0';
	assert_int_equal(reply_check_template(ACTION_REJECT, NULL, NULL, longtext, NULL, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_unknown_facts_and_null_sender),
		cmocka_unit_test(test_sanitise_hostile_values),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_check_template),
		cmocka_unit_test(test_macros_are_the_facts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
