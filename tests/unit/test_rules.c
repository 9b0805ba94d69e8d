/*
 * test_rules.c - rule syntax (good and bad, exact messages), three-valued
 * evaluation, rules_needed_facts, and the shipped rules stage by stage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "tests/unit/fact_groups.h"
#include "policy/rules_ast.h"

static char err[1500];

/* load - config from a string; fails the test when it does not load */
static struct config *load(const char *text)
{
	struct config *c = config_load_string("t.conf", text, err, sizeof(err));
	if (!c)
		fail_msg("config:\n%s\nerror: %s", text, err);
	return c;
}

/* expect_error - text must fail with exactly this message */
static void expect_error(const char *text, const char *msg)
{
	struct config *c = config_load_string("t.conf", text, err, sizeof(err));
	if (c || strcmp(err, msg) != 0)
		fail_msg("config:\n%s\nexpected error: %s\ngot: %s", text, msg, c ? "(loaded)" : err);
}

/* set_ip - client address and FACT_CLIENT */
static void set_ip(struct facts *f, const char *ip)
{
	memset(&f->client_ip.sa, 0, sizeof(f->client_ip.sa));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&f->client_ip.sa;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&f->client_ip.sa;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	snprintf(f->client_ip.text, sizeof(f->client_ip.text), "%s", ip);
	f->known |= FACT_CLIENT;
}

/* set_sender - sender, its domain and FACT_SENDER */
static void set_sender(struct facts *f, const char *sender)
{
	const char *at = strrchr(sender, '@');
	snprintf(f->sender, sizeof(f->sender), "%s", sender);
	snprintf(f->sender_domain, sizeof(f->sender_domain), "%s", at ? at + 1 : "");
	f->known |= FACT_SENDER;
}

/* decide - rules_eval must decide with this rule and action */
static void decide(const struct config *c, const struct facts *f, const char *rule, enum action a)
{
	struct verdict v;
	if (!rules_eval(c->rules, f, &v))
		fail_msg("expected rule %s to decide, but evaluation waits", rule);
	assert_string_equal(v.rule_name, rule);
	assert_int_equal(v.action, a);
	assert_non_null(v.reply);
}

/* undecided - rules_eval must wait for more facts */
static void undecided(const struct config *c, const struct facts *f)
{
	struct verdict v;
	if (rules_eval(c->rules, f, &v))
		fail_msg("expected no decision yet, got rule %s", v.rule_name);
	assert_int_equal(v.action, ACTION_NONE);
	assert_null(v.rule_name);
}

static void test_parse_shapes(void **state)
{
	(void)state;
	struct config *c = load(
		"rule a mx = nullmx reject 550 5.7.27 \"%{domain} has null MX\"\n"
		"rule b mx in {none, bogus} reject 550 5.1.8\n"
		"rule c mx = temperror or spf = temperror\n"
		"       tempfail 451 4.4.3 \"later\"\n"
		"rule d spf = fail and not (dkim = pass and dkim_aligned = yes) reject dry_run\n"
		"rule e sender_domain in {example.com, *.example.net, file:/dev/null} discard\n"
		"rule f client_ip in {192.0.2.0/24 2001:db8::/32} quarantine \"look at it\"\n"
		"rule g trusted or authenticated = yes accept\n"
		"rule h helo != localhost and rcpt_domain not in {a.example} reject \"no\"\n"
		"rule i.j-k_l from_domain = x.example reject 554\n"
		"default tempfail 421 4.3.2 \"closed\"\n");

	assert_int_equal(rules_count(c->rules), 9);
	const struct rule *r = rules_at(c->rules, 0);
	assert_string_equal(r->name, "a");
	assert_int_equal(r->action, ACTION_REJECT);
	assert_string_equal(r->reply.code, "550");
	assert_string_equal(r->reply.xcode, "5.7.27");
	assert_string_equal(r->reply.text, "%{domain} has null MX");
	assert_false(r->dry_run);
	assert_int_equal(r->line, 1);
	r = rules_at(c->rules, 1);
	assert_string_equal(r->reply.xcode, "5.1.8");
	assert_null(r->reply.text);
	assert_int_equal(r->cond->values, (1u << MX_NONE) | (1u << MX_BOGUS));
	r = rules_at(c->rules, 2);
	assert_int_equal(r->cond->op, COND_OR);
	assert_string_equal(r->reply.text, "later");
	r = rules_at(c->rules, 3);
	assert_true(r->dry_run);
	assert_int_equal(r->cond->op, COND_AND);
	assert_int_equal(r->cond->right->op, COND_NOT);
	assert_string_equal(r->reply.code, "");
	assert_int_equal(rules_at(c->rules, 4)->action, ACTION_DISCARD);
	assert_int_equal(rules_at(c->rules, 5)->action, ACTION_QUARANTINE);
	assert_string_equal(rules_at(c->rules, 5)->reply.text, "look at it");
	assert_string_equal(rules_at(c->rules, 8)->name, "i.j-k_l");
	assert_string_equal(rules_at(c->rules, 8)->reply.code, "554");
	r = rules_at(c->rules, 9);
	assert_string_equal(r->name, "default");
	assert_int_equal(r->action, ACTION_TEMPFAIL);
	assert_string_equal(r->reply.code, "421");
	assert_string_equal(r->reply.text, "closed");
	config_unref(c);
}

/* table_list - the names of the facts in fact_table order (rules_only: not the text facts), ", "-joined */
static const char *table_list(char *buf, size_t len, bool rules_only)
{
	size_t n = 0;
	char label[64];

	buf[0] = '\0';
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const char *l = facts_label((enum fact_id)i, label, sizeof label);

		if (l && (!rules_only || fact_table[i].kind != FACT_KIND_TEXT))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", l);
	}
	return buf;
}

/* set_hosts - mx_host known with these members */
static void set_hosts(struct facts *f, int n, const char *const *names)
{
	memset(&f->mx_host, 0, sizeof f->mx_host);
	for (int i = 0; i < n; i++)
		assert_true(facts_set_add_name(&f->mx_host, names[i]));
	f->known |= FBIT(mx_host);
}

/* test_set_facts - "in" is true when any member matches; "=" on a set is refused */
static void test_set_facts(void **state)
{
	static const char *const two[] = { "mx1.example.org", "mx.bad.example" };
	static const char *const one[] = { "mx1.example.org" };
	struct config *c;
	struct facts f;

	(void)state;
	expect_error("rule x mx_host = mx.bad.example reject\n",
		     "t.conf:1: rule x: mx_host is a set of domains; write \"mx_host in {...}\" (true when any "
		     "member matches) or \"mx_host not in {...}\"");
	expect_error("rule x mx_host != mx.bad.example reject\n",
		     "t.conf:1: rule x: mx_host is a set of domains; write \"mx_host in {...}\" (true when any "
		     "member matches) or \"mx_host not in {...}\"");
	expect_error("rule x mx_host in {} reject\n", "t.conf:1: rule x: empty list after 'in'");

	c = load("rule bad mx_host in {*.bad.example, evil.example} reject\n"
		 "rule odd mx_host not in {*.example.org} quarantine\n");
	memset(&f, 0, sizeof(f));
	undecided(c, &f);                                   /* not known yet */
	assert_int_equal(rules_needed_facts(c->rules, &f), FBIT(mx_host));
	set_hosts(&f, 2, two);
	decide(c, &f, "bad", ACTION_REJECT);                /* one member of two matches */
	set_hosts(&f, 1, one);
	decide(c, &f, "default", ACTION_ACCEPT);            /* none matches; every one is in example.org */
	set_hosts(&f, 0, NULL);
	decide(c, &f, "odd", ACTION_QUARANTINE);            /* empty: "in" is false, "not in" true */

	/* partial: a member we could not see might match, so no match is "unknown", not "false" */
	set_hosts(&f, 1, one);
	f.mx_host.partial = true;
	undecided(c, &f);
	assert_int_equal(rules_needed_facts(c->rules, &f), 0);   /* nothing left to wait for */
	set_hosts(&f, 2, two);
	f.mx_host.partial = true;
	decide(c, &f, "bad", ACTION_REJECT);                /* a member it has matches: true */
	config_unref(c);
}

/* set_add_ip - one member (IPv4 or IPv6 text) into an address set */
static void set_add_ip(struct fact_address_set *set, const char *ip)
{
	unsigned char raw[16];

	if (inet_pton(AF_INET, ip, raw) == 1)
		assert_true(facts_set_add_addr(set, AF_INET, raw));
	else if (inet_pton(AF_INET6, ip, raw) == 1)
		assert_true(facts_set_add_addr(set, AF_INET6, raw));
	else
		fail_msg("bad address %s", ip);
}

/* add_addr - one member of mx_addr */
static void add_addr(struct facts *f, const char *ip)
{
	set_add_ip(&f->mx_addr, ip);
	f->known |= FBIT(mx_addr);
}

/* test_address_set - mx_addr against CIDR lists: any member, IPv4 and IPv6 */
static void test_address_set(void **state)
{
	struct config *c;
	struct facts f;

	(void)state;
	expect_error("rule x mx_addr = 192.0.2.1 reject\n",
		     "t.conf:1: rule x: mx_addr is a set of addresses; write \"mx_addr in {...}\" (true when any "
		     "member matches) or \"mx_addr not in {...}\"");
	c = load("rule drop mx_addr in {198.51.100.0/24, 2001:db8:bad::/48} reject\n");
	memset(&f, 0, sizeof(f));
	undecided(c, &f);
	f.known |= FBIT(mx_addr);
	decide(c, &f, "default", ACTION_ACCEPT);            /* no addresses */
	add_addr(&f, "192.0.2.1");
	add_addr(&f, "2001:db8::1");
	decide(c, &f, "default", ACTION_ACCEPT);
	add_addr(&f, "198.51.100.77");
	decide(c, &f, "drop", ACTION_REJECT);               /* the third of three */
	memset(&f, 0, sizeof(f));
	add_addr(&f, "2001:db8:bad::25");
	decide(c, &f, "drop", ACTION_REJECT);               /* IPv6 */
	memset(&f, 0, sizeof(f));
	add_addr(&f, "::ffff:198.51.100.7");
	decide(c, &f, "drop", ACTION_REJECT);               /* IPv4-mapped IPv6 is matched as IPv4 */
	config_unref(c);
}

/* set_addrs - ns_addr known with these members (IPv4 or IPv6 text) */
static void set_addrs(struct facts *f, int n, const char *const *ips)
{
	memset(&f->ns_addr, 0, sizeof f->ns_addr);
	for (int i = 0; i < n; i++)
		set_add_ip(&f->ns_addr, ips[i]);
	f->known |= FBIT(ns_addr);
}

/* test_ns_address_set - ns_addr: any member (IPv4 or IPv6) in the CIDR list matches; "=" refused */
static void test_ns_address_set(void **state)
{
	static const char *const v4[] = { "192.0.2.53", "198.51.100.7" };
	static const char *const v6[] = { "2001:db8::53", "2001:db8:bad::1" };
	static const char *const fine[] = { "192.0.2.53", "2001:db8::53" };
	static const char *const mapped[] = { "::ffff:198.51.100.9" };
	struct config *c;
	struct facts f;
	char buf[FACT_RENDER_MAX];

	(void)state;
	expect_error("rule x ns_addr = 192.0.2.1 reject\n",
		     "t.conf:1: rule x: ns_addr is a set of addresses; write \"ns_addr in {...}\" (true when any "
		     "member matches) or \"ns_addr not in {...}\"");
	expect_error("rule x ns_addr in {} reject\n", "t.conf:1: rule x: empty list after 'in'");
	c = config_load_string("t.conf", "rule x ns_addr in {not-a-net} reject\n", err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "not-a-net"));

	c = load("rule bad ns_addr in {198.51.100.0/24, 2001:db8:bad::/48} reject\n"
		 "rule odd ns_addr not in {192.0.2.0/24, 2001:db8::/32} quarantine\n");
	memset(&f, 0, sizeof(f));
	undecided(c, &f);
	assert_int_equal(rules_needed_facts(c->rules, &f), FBIT(ns_addr));
	set_addrs(&f, 2, v4);
	decide(c, &f, "bad", ACTION_REJECT);                /* the second IPv4 member */
	assert_string_equal(facts_render(&f, FID_ns_addr, -1, buf, sizeof buf), "192.0.2.53,198.51.100.7");
	set_addrs(&f, 2, v6);
	decide(c, &f, "bad", ACTION_REJECT);                /* the second IPv6 member */
	set_addrs(&f, 2, fine);
	decide(c, &f, "default", ACTION_ACCEPT);            /* none in the list, all in the other */
	set_addrs(&f, 1, mapped);
	decide(c, &f, "bad", ACTION_REJECT);                /* IPv4-mapped IPv6 matches the IPv4 entry */
	set_addrs(&f, 0, NULL);
	decide(c, &f, "odd", ACTION_QUARANTINE);            /* empty: "in" is false, "not in" true */
	config_unref(c);
}

/* test_messages_list_the_table - "known: ..." lists come from the fact table, whatever it holds */
static void test_messages_list_the_table(void **state)
{
	char want[1024], list[800];

	(void)state;
	snprintf(want, sizeof want, "t.conf:1: rule x: unknown fact \"reputation\" (known: %s)",
		 table_list(list, sizeof list, true));
	expect_error("rule x reputation = bad reject\n", want);
	snprintf(want, sizeof want, "t.conf:1: rule x: unknown fact \"reject\" (known: %s)",
		 table_list(list, sizeof list, true));
	expect_error("rule x mx = nullmx and reject\n", want);
	snprintf(want, sizeof want, "t.conf:1: rule x: unknown macro %%{reputation} in reply text (known: domain, rule, %s)",
		 table_list(list, sizeof list, false));
	expect_error("rule x mx = nullmx reject 550 5.7.1 \"%{reputation}\"\n", want);
	assert_non_null(strstr(want, "client_ip, helo, sender"));
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const struct { const char *text, *msg; } cases[] = {
		{ "rule\n", "t.conf:1: rule: missing name (rule NAME CONDITION ACTION ...)" },
		{ "rule x\n", "t.conf:1: rule x: missing condition before the action" },
		{ "rule x reject\n", "t.conf:1: rule x: missing condition before the action" },
		{ "rule x mx = nullmx\n",
		  "t.conf:1: rule x: expected 'and', 'or' or an action (accept, reject, tempfail, discard, quarantine), got end of line" },
		{ "rule x mx = nullmx deny\n",
		  "t.conf:1: rule x: expected 'and', 'or' or an action (accept, reject, tempfail, discard, quarantine), got \"deny\"" },
		{ "rule x mx = nulmx reject\n",
		  "t.conf:1: rule x: mx has no value \"nulmx\" (did you mean nullmx?)" },
		{ "rule x mx = nothing-like-it reject\n",
		  "t.conf:1: rule x: mx has no value \"nothing-like-it\" (valid: valid, implicit, nullmx, nxdomain, none, bogus, literal, "
		  "invalid, temperror, skipped)" },
		{ "rule x spf in {pass, hardfail} reject\n",
		  "t.conf:1: rule x: spf has no value \"hardfail\" (valid: pass, fail, softfail, neutral, none, temperror, "
		  "permerror, skipped)" },
		{ "rule x dkim = unknown reject\n",
		  "t.conf:1: rule x: dkim has no value \"unknown\" (valid: pass, fail, none, temperror, permerror, skipped)" },
		{ "rule x spff = fail reject\n",
		  "t.conf:1: rule x: unknown fact \"spff\" (did you mean spf?)" },
		{ "rule x mx_detail = nothing reject\n",
		  "t.conf:1: rule x: mx_detail is text for people (for logs and replies); rules cannot test it" },
		{ "rule x mx nullmx reject\n", "t.conf:1: rule x: expected '=', '!=' or 'in', got \"nullmx\"" },
		{ "rule x mx = reject\n",
		  "t.conf:1: rule x: mx has no value \"reject\" (valid: valid, implicit, nullmx, nxdomain, none, bogus, "
		  "literal, invalid, temperror, skipped)" },
		{ "rule x mx = ( reject\n", "t.conf:1: rule x: expected a value, got '('" },
		{ "rule x mx in none reject\n", "t.conf:1: rule x: expected '{' after 'in', got \"none\"" },
		{ "rule x mx in {none reject\n", "t.conf:1: rule x: expected '}' to close the list, got end of line" },
		{ "rule x mx in {} reject\n", "t.conf:1: rule x: empty list after 'in'" },
		{ "rule x mx not nullmx reject\n", "t.conf:1: rule x: expected 'in' after 'not', got \"nullmx\"" },
		{ "rule x mx in {file:/etc/x} reject\n", "t.conf:1: rule x: mx takes result names, not file: lists" },
		{ "rule x mx in {none, (} reject\n", "t.conf:1: rule x: unexpected '(' in a list" },
		{ "rule x (mx = nullmx reject\n", "t.conf:1: rule x: expected ')', got \"reject\"" },
		{ "rule x ) reject\n", "t.conf:1: rule x: expected a fact (mx, spf, sender_domain, ...), 'not' or '(', got ')'" },
		{ "rule x trusted in {yes} accept\n", "t.conf:1: rule x: trusted is yes or no; use = or !=" },
		{ "rule x dkim_aligned = maybe accept\n", "t.conf:1: rule x: dkim_aligned is yes or no, got \"maybe\"" },
		{ "rule x client_ip = 192.0.2.0/40 accept\n",
		  "t.conf:1: rule x: client_ip: bad prefix length in 192.0.2.0/40 (0..32)" },
		{ "rule x sender_domain = *. accept\n", "t.conf:1: rule x: sender_domain: \"*.\": expected *.domain" },
		{ "rule x sender_domain = a.*.b accept\n",
		  "t.conf:1: rule x: sender_domain: \"a.*.b\": '*' is only allowed as a leading \"*.\"" },
		{ "rule x sender = *@example.com accept\n",
		  "t.conf:1: rule x: sender: \"*@example.com\": wildcards are not allowed here" },
		{ "rule x helo = \"a b\" accept\n", "t.conf:1: rule x: helo: \"a b\" contains a space or control character" },
		{ "rule x sender_domain = b\xc3\xbc" "cher.example accept\n",
		  "t.conf:1: rule x: sender_domain: \"b\xc3\xbc" "cher.example\" is not ASCII; write internationalised domains as xn-- A-labels" },
		{ "rule x mx = nullmx reject 451\n", "t.conf:1: rule x: reject needs a 5xx reply code, got 451" },
		{ "rule x mx = nullmx tempfail 550 5.7.1\n", "t.conf:1: rule x: tempfail needs a 4xx reply code, got 550" },
		{ "rule x mx = nullmx tempfail 451 5.7.1\n",
		  "t.conf:1: rule x: enhanced status 5.7.1 does not match reply class 4xx" },
		{ "rule x mx = nullmx reject 550 5.07.1\n",
		  "t.conf:1: rule x: \"5.07.1\" is not an enhanced status code (like 5.7.1 or 4.4.3)" },
		{ "rule x mx = nullmx reject 550 5.7.1000\n",
		  "t.conf:1: rule x: \"5.7.1000\" is not an enhanced status code (like 5.7.1 or 4.4.3)" },
		{ "rule x mx = nullmx reject 5500\n",
		  "t.conf:1: rule x: \"5500\" is not an SMTP reply code (like 550 or 451)" },
		{ "rule x mx = nullmx reject 570\n",
		  "t.conf:1: rule x: \"570\" is not an SMTP reply code (like 550 or 451)" },
		{ "rule x mx = nullmx reject 550 5.7.1 go away\n",
		  "t.conf:1: rule x: expected end of line (reply text must be \"quoted\"; options: dry_run), got \"go\"" },
		{ "rule x mx = nullmx reject \"a\" dry_run extra\n", "t.conf:1: rule x: expected end of line, got \"extra\"" },
		{ "rule x mx = nullmx reject \"50%{rule\"\n", "t.conf:1: rule x: unterminated %{ in reply text" },
		{ "rule x mx = nullmx reject 550 5.7.1 \"%{domain} %{mx_detial}\"\n",
		  "t.conf:1: rule x: unknown macro %{mx_detial} in reply text (did you mean mx_detail?)" },
		{ "rule x mx = nullmx reject 550 5.7.1 \"100%%{domian} %{domian}\"\n",
		  "t.conf:1: rule x: unknown macro %{domian} in reply text (did you mean domain?)" },
		{ "rule x mx = nullmx reject \"two\\nlines\"\n",
		  "t.conf:1: rule x: reply text may only hold printable ASCII (found byte 0x0a)" },
		{ "rule x mx = nullmx reject \"\"\n", "t.conf:1: rule x: reply text is empty" },
		{ "rule x mx = nullmx reject 5.7.1 \"x\"\n",
		  "t.conf:1: rule x: an enhanced status code needs a reply code before it" },
		{ "rule x mx = valid accept 250\n", "t.conf:1: rule x: accept takes no reply code" },
		{ "rule x mx = valid discard \"why\"\n", "t.conf:1: rule x: discard takes no reply text" },
		{ "rule x mx = valid quarantine 550\n", "t.conf:1: rule x: quarantine takes no reply code" },
		{ "rule x mx = valid accept\nrule x mx = nullmx reject\n", "t.conf:2: rule x: name already used on line 1" },
		{ "rule default mx = valid accept\n",
		  "t.conf:1: \"default\" is reserved; write \"default ACTION\" for the default rule" },
		{ "rule -x mx = valid accept\n",
		  "t.conf:1: rule name must be 1-64 letters, digits, '_', '.' or '-', got \"-x\"" },
		{ "rule \"x\" mx = valid accept\n",
		  "t.conf:1: rule name must be 1-64 letters, digits, '_', '.' or '-', got \"x\"" },
		{ "default accept\nrule x mx = valid accept\n",
		  "t.conf:2: rule x: comes after \"default\" (line 1), so it could never match" },
		{ "default accept\ndefault reject\n", "t.conf:2: default: already set on line 1" },
		{ "default\n", "t.conf:1: default: expected an action (accept, reject, tempfail, discard, quarantine), got end of line" },
		{ "default mx = valid accept\n",
		  "t.conf:1: default: expected an action (accept, reject, tempfail, discard, quarantine), got \"mx\"" },
		{ "rule x mx = valid\n\n  and spf = pass\n    accept 1\n", "t.conf:4: rule x: accept takes no reply code" },
		{ "rule x mx = valid\n\n  and spf = pass\n   nope\n",
		  "t.conf:4: rule x: expected 'and', 'or' or an action (accept, reject, tempfail, discard, quarantine), got \"nope\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].text, cases[i].msg);

	/* nesting is bounded: a hostile or broken file cannot blow the stack */
	char deep[400] = "rule x ";
	for (int i = 0; i < 40; i++)
		strcat(deep, "(");
	strcat(deep, "mx = valid");
	for (int i = 0; i < 40; i++)
		strcat(deep, ")");
	strcat(deep, " accept\n");
	expect_error(deep, "t.conf:1: rule x: condition nested deeper than 32");
}

static void test_first_true_decides(void **state)
{
	(void)state;
	struct config *c = load(
		"rule a mx = nullmx reject\n"
		"rule b mx = valid and spf = pass accept\n"
		"rule c mx = valid tempfail\n");
	struct facts f = { 0 };

	f.known = FACT_MX | FACT_SPF;
	f.mx = MX_NULLMX;
	f.spf = SPFR_PASS;
	decide(c, &f, "a", ACTION_REJECT);
	f.mx = MX_VALID;
	decide(c, &f, "b", ACTION_ACCEPT);   /* a is false and skipped */
	f.spf = SPFR_FAIL;
	decide(c, &f, "c", ACTION_TEMPFAIL);
	f.mx = MX_IMPLICIT;
	decide(c, &f, "default", ACTION_ACCEPT);
	config_unref(c);
}

static void test_unknown_blocks_later_rules(void **state)
{
	(void)state;
	struct config *c = load(
		"rule dk dkim = fail reject\n"
		"rule nm mx = nullmx reject\n");
	struct facts f = { 0 };

	f.known = FACT_MX;
	f.mx = MX_NULLMX;
	undecided(c, &f);                   /* nm is true, but dk before it is unknown */
	assert_int_equal(rules_needed_facts(c->rules, &f), FBIT(dkim));
	f.known |= FACT_DKIM;
	f.dkim = DKIMR_PASS;
	decide(c, &f, "nm", ACTION_REJECT);
	f.dkim = DKIMR_FAIL;
	decide(c, &f, "dk", ACTION_REJECT);
	/* known bit set but the check left the value at 0: treated as unknown, never as a match */
	f.dkim = DKIMR_UNKNOWN;
	undecided(c, &f);
	config_unref(c);
}

static void test_kleene(void **state)
{
	(void)state;
	struct config *c;
	struct facts f = { 0 };

	/* false and unknown = false: the rule is skipped */
	c = load("rule r spf = fail and dkim = pass reject\n");
	f.known = FACT_SPF;
	f.spf = SPFR_PASS;
	decide(c, &f, "default", ACTION_ACCEPT);
	/* true and unknown = unknown */
	f.spf = SPFR_FAIL;
	undecided(c, &f);
	config_unref(c);

	/* true or unknown = true */
	c = load("rule r spf = fail or dkim = pass reject\n");
	decide(c, &f, "r", ACTION_REJECT);
	/* false or unknown = unknown */
	f.spf = SPFR_NONE;
	undecided(c, &f);
	f.known |= FACT_DKIM;
	f.dkim = DKIMR_NONE;
	decide(c, &f, "default", ACTION_ACCEPT);
	config_unref(c);

	/* not unknown = unknown; not false = true */
	c = load("rule r not dkim = pass reject\n");
	memset(&f, 0, sizeof(f));
	undecided(c, &f);
	f.known = FACT_DKIM;
	f.dkim = DKIMR_FAIL;
	decide(c, &f, "r", ACTION_REJECT);
	config_unref(c);

	/* != is not =, also for unknowns */
	c = load("rule r mx != valid reject\n");
	memset(&f, 0, sizeof(f));
	undecided(c, &f);
	f.known = FACT_MX;
	f.mx = MX_VALID;
	decide(c, &f, "default", ACTION_ACCEPT);
	f.mx = MX_BOGUS;
	decide(c, &f, "r", ACTION_REJECT);
	config_unref(c);

	/* precedence: and binds tighter than or */
	c = load("rule r mx = nullmx or mx = valid and spf = fail reject\n");
	memset(&f, 0, sizeof(f));
	f.known = FACT_MX;
	f.mx = MX_NULLMX;
	decide(c, &f, "r", ACTION_REJECT);   /* (nullmx) or (...): true without spf */
	f.mx = MX_VALID;
	undecided(c, &f);
	assert_int_equal(rules_needed_facts(c->rules, &f), FBIT(spf));
	config_unref(c);
}

static void test_needed_facts(void **state)
{
	(void)state;
	struct config *c = load(
		"rule a mx = nullmx reject\n"
		"rule b (mx = bogus and helo_spf = fail) or spf = fail reject\n"
		"rule c spf = softfail and dkim != pass reject\n"
		"rule d from_domain = example.com and dkim_aligned = no quarantine\n");
	struct facts f = { 0 };

	assert_int_equal(rules_needed_facts(c->rules, &f),
			 FBIT(mx) | FBIT(helo_spf) | FBIT(spf) | FBIT(dkim) | FBIT(dkim_aligned) | FACT_FROM);
	f.known = FACT_MX;
	f.mx = MX_VALID;
	/* a is false; in b the mx = bogus branch is false, so helo_spf cannot matter */
	assert_int_equal(rules_needed_facts(c->rules, &f), FBIT(spf) | FBIT(dkim) | FBIT(dkim_aligned) | FACT_FROM);
	f.known |= FACT_SPF;
	f.spf = SPFR_PASS;
	/* b and c are false now; only d is left */
	assert_int_equal(rules_needed_facts(c->rules, &f), FACT_FROM | FBIT(dkim_aligned));
	f.known |= FACT_FROM;
	snprintf(f.from_domain, sizeof(f.from_domain), "other.example");
	assert_int_equal(rules_needed_facts(c->rules, &f), 0);
	decide(c, &f, "default", ACTION_ACCEPT);
	/* nothing after a true rule is needed */
	memset(&f, 0, sizeof(f));
	f.known = FACT_MX;
	f.mx = MX_NULLMX;
	assert_int_equal(rules_needed_facts(c->rules, &f), 0);
	assert_int_equal(rules_needed_facts(NULL, &f), 0);
	config_unref(c);
}

static void test_domains_and_addresses(void **state)
{
	(void)state;
	struct config *c = load(
		"rule list sender_domain in {Example.COM, *.example.net} reject\n"
		"rule null sender = <> tempfail\n"
		"rule addr sender in {Boss@Example.org} discard\n"
		"rule helo helo = \"[192.0.2.1]\" reject\n"
		"rule rcpt rcpt_domain not in {ours.example, *.ours.example} reject\n"
		"rule from from_domain = \"\" quarantine\n");
	struct facts f = { 0 };

	f.known = FACT_HELO | FACT_RCPT | FACT_FROM;
	snprintf(f.helo, sizeof(f.helo), "mail.example");
	snprintf(f.rcpt_domain, sizeof(f.rcpt_domain), "ours.example");
	snprintf(f.from_domain, sizeof(f.from_domain), "x.example");

	set_sender(&f, "a@example.com.");
	decide(c, &f, "list", ACTION_REJECT);
	set_sender(&f, "a@deep.sub.EXAMPLE.net");
	decide(c, &f, "list", ACTION_REJECT);
	set_sender(&f, "a@example.net");           /* *.example.net: subdomains only */
	decide(c, &f, "default", ACTION_ACCEPT);
	set_sender(&f, "a@notexample.net");
	decide(c, &f, "default", ACTION_ACCEPT);
	set_sender(&f, "");
	decide(c, &f, "null", ACTION_TEMPFAIL);
	set_sender(&f, "boss@example.ORG");
	decide(c, &f, "addr", ACTION_DISCARD);
	set_sender(&f, "bos@example.org");
	decide(c, &f, "default", ACTION_ACCEPT);
	snprintf(f.helo, sizeof(f.helo), "[192.0.2.1]");
	decide(c, &f, "helo", ACTION_REJECT);
	snprintf(f.helo, sizeof(f.helo), "mail.example");
	snprintf(f.rcpt_domain, sizeof(f.rcpt_domain), "a.ours.example");
	decide(c, &f, "default", ACTION_ACCEPT);
	snprintf(f.rcpt_domain, sizeof(f.rcpt_domain), "elsewhere.example");
	decide(c, &f, "rcpt", ACTION_REJECT);
	snprintf(f.rcpt_domain, sizeof(f.rcpt_domain), "ours.example");
	f.from_domain[0] = '\0';
	decide(c, &f, "from", ACTION_QUARANTINE);
	config_unref(c);
}

static void test_client_ip_and_bools(void **state)
{
	(void)state;
	struct config *c = load(
		"rule nets client_ip in {192.0.2.0/24, 2001:db8::/32} accept\n"
		"rule one client_ip = 198.51.100.7 reject\n"
		"rule tr trusted accept\n"
		"rule au authenticated = no and dkim_aligned != yes tempfail\n");
	struct facts f = { 0 };

	f.known = FACT_SENDER | FACT_DKIM;
	f.authenticated = true;
	set_ip(&f, "192.0.2.77");
	decide(c, &f, "nets", ACTION_ACCEPT);
	set_ip(&f, "2001:db8:ffff::1");
	decide(c, &f, "nets", ACTION_ACCEPT);
	set_ip(&f, "::ffff:192.0.2.1");          /* IPv4-mapped matches the IPv4 entry */
	decide(c, &f, "nets", ACTION_ACCEPT);
	set_ip(&f, "198.51.100.7");
	decide(c, &f, "one", ACTION_REJECT);
	set_ip(&f, "203.0.113.1");
	decide(c, &f, "default", ACTION_ACCEPT);
	f.trusted = true;
	decide(c, &f, "tr", ACTION_ACCEPT);
	f.trusted = false;
	f.authenticated = false;
	decide(c, &f, "au", ACTION_TEMPFAIL);
	f.dkim_aligned = true;
	decide(c, &f, "default", ACTION_ACCEPT);
	/* a unix-socket client has no address: in no network */
	memset(&f.client_ip.sa, 0, sizeof(f.client_ip.sa));
	f.client_ip.text[0] = '\0';
	decide(c, &f, "default", ACTION_ACCEPT);
	config_unref(c);
}

static void test_dry_run_flag(void **state)
{
	(void)state;
	struct config *c = load(
		"dry_run = yes\n"
		"rule try mx = nullmx reject dry_run\n"
		"rule real mx = bogus reject\n");
	struct facts f = { 0 };
	struct verdict v;

	f.known = FACT_MX;
	f.mx = MX_NULLMX;
	assert_true(rules_eval(c->rules, &f, &v));
	assert_true(v.dry_run);
	f.mx = MX_BOGUS;
	assert_true(rules_eval(c->rules, &f, &v));
	assert_false(v.dry_run);                 /* the global flag is the caller's to OR in */
	assert_true(c->dry_run);
	config_unref(c);
}

/* stage_mail - facts known at MAIL FROM with this MX result */
static struct facts stage_mail(enum mx_result mx)
{
	struct facts f = { 0 };
	set_ip(&f, "192.0.2.10");
	f.known |= FACT_HELO | FACT_MX;
	snprintf(f.helo, sizeof(f.helo), "mail.example.org");
	set_sender(&f, "someone@example.org");
	f.mx = mx;
	return f;
}

static void test_shipped_rules(void **state)
{
	(void)state;
	struct config *c = config_load("conf/mxguard.conf", err, sizeof(err));
	struct facts f;
	struct verdict v;

	if (!c)
		fail_msg("%s", err);
	/* MX verdicts decide at MAIL FROM even before SPF is known */
	static const struct { enum mx_result mx; const char *rule; enum action a; const char *x; } mx[] = {
		{ MX_NULLMX, "null-mx", ACTION_REJECT, "5.7.27" },
		{ MX_NXDOMAIN, "no-domain", ACTION_REJECT, "5.1.8" },
		{ MX_NONE, "no-route", ACTION_REJECT, "5.1.8" },
		{ MX_BOGUS, "no-route", ACTION_REJECT, "5.1.8" },
		{ MX_INVALID, "bad-sender", ACTION_REJECT, "5.1.7" },
		{ MX_TEMPERROR, "mx-temperror", ACTION_TEMPFAIL, "4.4.3" },
	};
	for (size_t i = 0; i < sizeof(mx) / sizeof(mx[0]); i++) {
		f = stage_mail(mx[i].mx);
		assert_true(rules_eval(c->rules, &f, &v));
		assert_string_equal(v.rule_name, mx[i].rule);
		assert_int_equal(v.action, mx[i].a);
		assert_string_equal(v.reply->xcode, mx[i].x);
		assert_false(v.dry_run);
	}

	/* a good MX: SPF temperror still decides at MAIL FROM */
	f = stage_mail(MX_VALID);
	undecided(c, &f);
	f.known |= FACT_SPF;
	f.spf = SPFR_TEMPERROR;
	decide(c, &f, "spf-temperror", ACTION_TEMPFAIL);
	/* an SPF pass waits for the headers and DMARC: nothing about DKIM is asked for itself */
	f.spf = SPFR_PASS;
	undecided(c, &f);
	assert_int_equal(rules_needed_facts(c->rules, &f), FBIT(from_header) | FBIT(dmarc) | FBIT(dmarc_policy));

	/* the headers: one author domain, or refused */
	f.known |= FACT_HEADERS;
	f.from_header = FROMH_MULTIPLE;
	assert_true(rules_eval(c->rules, &f, &v));
	assert_string_equal(v.rule_name, "from-several");
	assert_string_equal(v.reply->code, "550");
	assert_string_equal(v.reply->xcode, "5.7.1");
	f.from_header = FROMH_MULTI_DOMAIN;
	decide(c, &f, "from-domains", ACTION_REJECT);
	/* a From: without a usable address may still show a forged domain: refused */
	f.from_header = FROMH_INVALID;
	decide(c, &f, "from-invalid", ACTION_REJECT);
	/* no From: at all shows no domain: not refused by itself (DMARC says permerror) */
	f.from_header = FROMH_NONE;
	undecided(c, &f);
	f.from_header = FROMH_SINGLE;
	undecided(c, &f);

	/* DMARC: temperror tempfails, the owner's reject and quarantine are applied */
	f.known |= FBIT(dmarc) | FBIT(dmarc_policy) | FBIT(dmarc_domain) | FBIT(dmarc_detail);
	f.dmarc = DMARCR_TEMPERROR;
	f.dmarc_policy = DMARCP_NONE;
	assert_true(rules_eval(c->rules, &f, &v));
	assert_string_equal(v.rule_name, "dmarc-temperror");
	assert_string_equal(v.reply->xcode, "4.4.3");
	f.dmarc = DMARCR_FAIL;
	f.dmarc_policy = DMARCP_REJECT;
	assert_true(rules_eval(c->rules, &f, &v));
	assert_string_equal(v.rule_name, "dmarc-reject");
	assert_string_equal(v.reply->code, "550");
	assert_string_equal(v.reply->xcode, "5.7.1");
	assert_non_null(strstr(v.reply->text, "DMARC"));
	f.dmarc_policy = DMARCP_QUARANTINE;
	decide(c, &f, "dmarc-quarantine", ACTION_QUARANTINE);
	/* p=none (or t=y lowered quarantine to none): the rest of the rules decide */
	f.dmarc_policy = DMARCP_NONE;
	decide(c, &f, "default", ACTION_ACCEPT);
	f.dmarc = DMARCR_PASS;
	f.dmarc_policy = DMARCP_REJECT;
	decide(c, &f, "default", ACTION_ACCEPT);
	f.dmarc = DMARCR_PERMERROR;
	f.dmarc_policy = DMARCP_NONE;
	decide(c, &f, "default", ACTION_ACCEPT);
	assert_int_equal(rules_needed_facts(c->rules, &f), 0);

	/* SPF permerror is a dry run, after every enforcing rule */
	f.dmarc = DMARCR_NONE;
	f.spf = SPFR_PERMERROR;
	assert_true(rules_eval(c->rules, &f, &v));
	assert_string_equal(v.rule_name, "spf-permerror");
	assert_true(v.dry_run);

	/* SPF fail waits for DKIM; an aligned DKIM pass rescues the message */
	f.spf = SPFR_FAIL;
	f.known &= ~(FACT_DKIM | FBIT(dkim_domain));
	undecided(c, &f);
	assert_int_equal(rules_needed_facts(c->rules, &f), FBIT(dkim) | FBIT(dkim_aligned));
	f.known |= FACT_DKIM;
	f.dkim = DKIMR_PASS;
	f.dkim_aligned = true;
	decide(c, &f, "default", ACTION_ACCEPT);
	f.dkim_aligned = false;
	decide(c, &f, "spf-fail", ACTION_REJECT);
	f.dkim = DKIMR_FAIL;
	decide(c, &f, "spf-fail", ACTION_REJECT);

	/* DKIM alone never rejects; literal and null senders fall through */
	f.spf = SPFR_SOFTFAIL;
	decide(c, &f, "default", ACTION_ACCEPT);
	f.mx = MX_LITERAL;
	f.spf = SPFR_NONE;
	decide(c, &f, "default", ACTION_ACCEPT);
	f.mx = MX_SKIPPED;
	decide(c, &f, "default", ACTION_ACCEPT);
	config_unref(c);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(action_name(ACTION_NONE), "none");
	assert_string_equal(action_name(ACTION_ACCEPT), "accept");
	assert_string_equal(action_name(ACTION_REJECT), "reject");
	assert_string_equal(action_name(ACTION_TEMPFAIL), "tempfail");
	assert_string_equal(action_name(ACTION_DISCARD), "discard");
	assert_string_equal(action_name(ACTION_QUARANTINE), "quarantine");
	assert_string_equal(action_name((enum action)99), "none");

	struct verdict v;
	struct facts f = { 0 };
	assert_false(rules_eval(NULL, &f, &v));
	assert_int_equal(v.action, ACTION_NONE);
	rules_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_shapes),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_messages_list_the_table),
		cmocka_unit_test(test_set_facts),
		cmocka_unit_test(test_address_set),
		cmocka_unit_test(test_ns_address_set),
		cmocka_unit_test(test_first_true_decides),
		cmocka_unit_test(test_unknown_blocks_later_rules),
		cmocka_unit_test(test_kleene),
		cmocka_unit_test(test_needed_facts),
		cmocka_unit_test(test_domains_and_addresses),
		cmocka_unit_test(test_client_ip_and_bools),
		cmocka_unit_test(test_dry_run_flag),
		cmocka_unit_test(test_shipped_rules),
		cmocka_unit_test(test_action_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
