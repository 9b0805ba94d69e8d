/*
 * test_decide.c - policy/decide.h, the answer at a stage from facts alone:
 * the skip pseudo-rules, the global dry run, reject_stage, which actions
 * act before the end of the message, dns-incomplete, nothing decided; and
 * the rules' reports for replay (policy/rules.h: rules_info, rules_index,
 * rules_truth_each).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "policy/decide.h"
#include "tests/unit/fact_groups.h"

static char err[1500];
static char name[DECIDE_NAME_MAX];

/* load - config from a string; fails the test when it does not load */
static struct config *load(const char *text)
{
	struct config *c = config_load_string("t.conf", text, err, sizeof(err));

	if (!c)
		fail_msg("config:\n%s\nerror: %s", text, err);
	return c;
}

/* envelope - facts known at MAIL FROM: a sender of mx class mx, client not trusted */
static struct facts envelope(enum mx_result mx)
{
	struct facts f;

	memset(&f, 0, sizeof f);
	snprintf(f.sender, sizeof f.sender, "a@example.test");
	snprintf(f.sender_domain, sizeof f.sender_domain, "example.test");
	f.mx = mx;
	f.known = FACT_CLIENT | FACT_HELO | FACT_SENDER | FACT_MX;
	return f;
}

/* answer - decide_stage at stage; the verdict's rule and action must be as given */
static enum checks_answer answer(const struct config *c, const struct facts *f, enum check_stage st,
				 const char *rule, enum action a, bool dry)
{
	struct verdict v;
	enum checks_answer ans = decide_stage(c, f, st, &v, name, sizeof name);

	if (rule)
		assert_string_equal(v.rule_name, rule);
	else
		assert_null(v.rule_name);
	assert_int_equal(v.action, a);
	assert_int_equal(v.dry_run, dry);
	return ans;
}

static const char rules[] =
	"rule null-mx mx = nullmx reject 550 5.7.27 \"null MX\"\n"
	"rule temp    mx = temperror tempfail\n"
	"rule quar    mx = bogus quarantine\n"
	"rule drop    mx = none discard\n"
	"rule would   mx = nxdomain reject dry_run\n"
	"rule late    mx = implicit and dkim = fail reject\n"
	"default accept\n";

static void test_envelope_actions(void **state)
{
	struct config *c = load(rules);
	struct facts f;

	(void)state;
	f = envelope(MX_NULLMX);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "null-mx", ACTION_REJECT, false), CHECKS_REFUSE);
	f = envelope(MX_TEMPERROR);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "temp", ACTION_TEMPFAIL, false), CHECKS_REFUSE);
	/* accept, quarantine and discard wait for the end of the message */
	f = envelope(MX_BOGUS);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "quar", ACTION_QUARANTINE, false), CHECKS_GO_ON);
	assert_int_equal(answer(c, &f, CHECK_STAGE_EOM, "quar", ACTION_QUARANTINE, false), CHECKS_FINAL);
	f = envelope(MX_NONE);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "drop", ACTION_DISCARD, false), CHECKS_GO_ON);
	f = envelope(MX_VALID);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "default", ACTION_ACCEPT, false), CHECKS_GO_ON);
	assert_int_equal(answer(c, &f, CHECK_STAGE_EOM, "default", ACTION_ACCEPT, false), CHECKS_FINAL);
	/* a dry-run refusal is only logged */
	f = envelope(MX_NXDOMAIN);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "would", ACTION_REJECT, true), CHECKS_WOULD);
	/* a rule that needs dkim keeps everything after it waiting until the end of the message */
	f = envelope(MX_IMPLICIT);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, NULL, ACTION_NONE, false), CHECKS_GO_ON);
	f.dkim = DKIMR_FAIL;
	f.known |= FACT_DKIM;
	assert_int_equal(answer(c, &f, CHECK_STAGE_EOM, "late", ACTION_REJECT, false), CHECKS_FINAL);
	config_unref(c);
}

static void test_reject_stage(void **state)
{
	struct config *rcpt = load(rules), *mail = load("reject_stage = mail\n" "rule null-mx mx = nullmx reject\n");
	struct facts f = envelope(MX_NULLMX);

	(void)state;
	assert_true(decide_waits(rcpt, CHECK_STAGE_MAIL));
	assert_false(decide_waits(rcpt, CHECK_STAGE_RCPT));
	assert_false(decide_waits(mail, CHECK_STAGE_MAIL));
	/* reject_stage = rcpt: nothing at MAIL FROM, not even evaluated */
	assert_int_equal(answer(rcpt, &f, CHECK_STAGE_MAIL, NULL, ACTION_NONE, false), CHECKS_GO_ON);
	assert_int_equal(answer(mail, &f, CHECK_STAGE_MAIL, "null-mx", ACTION_REJECT, false), CHECKS_REFUSE);
	config_unref(rcpt);
	config_unref(mail);
}

static void test_global_dry_run(void **state)
{
	struct config *c = load("dry_run = yes\n" "rule null-mx mx = nullmx reject\n"
				"rule own mx = nxdomain reject dry_run\n" "default accept\n");
	struct facts f = envelope(MX_NULLMX);

	(void)state;
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "null-mx", ACTION_REJECT, true), CHECKS_WOULD);
	assert_int_equal(answer(c, &f, CHECK_STAGE_EOM, "null-mx", ACTION_REJECT, true), CHECKS_FINAL);
	f = envelope(MX_NXDOMAIN);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "own", ACTION_REJECT, true), CHECKS_WOULD);
	f = envelope(MX_VALID);
	/* an accept under the global dry run is marked too (the log says dry_run) */
	assert_int_equal(answer(c, &f, CHECK_STAGE_EOM, "default", ACTION_ACCEPT, true), CHECKS_FINAL);
	config_unref(c);
}

static void test_skipped_clients(void **state)
{
	struct config *skip = load(rules), *noskip = load("skip_authenticated = no\n" "rule null-mx mx = nullmx reject\n");
	struct facts f = envelope(MX_NULLMX);

	(void)state;
	f.trusted = true;
	assert_string_equal(decide_skipped(skip, &f), "trusted");
	assert_int_equal(answer(skip, &f, CHECK_STAGE_RCPT, "trusted", ACTION_ACCEPT, false), CHECKS_GO_ON);
	/* not before MAIL FROM: a client is not judged at connect */
	assert_int_equal(answer(skip, &f, CHECK_STAGE_HELO, "null-mx", ACTION_REJECT, false), CHECKS_REFUSE);
	f.trusted = false;
	f.authenticated = true;
	assert_string_equal(decide_skipped(skip, &f), "authenticated");
	assert_int_equal(answer(skip, &f, CHECK_STAGE_EOM, "authenticated", ACTION_ACCEPT, false), CHECKS_FINAL);
	assert_null(decide_skipped(noskip, &f));
	assert_int_equal(answer(noskip, &f, CHECK_STAGE_RCPT, "null-mx", ACTION_REJECT, false), CHECKS_REFUSE);
	/* an unknown fact skips nothing */
	f.known &= ~FBIT(authenticated);
	assert_null(decide_skipped(skip, &f));
	config_unref(skip);
	config_unref(noskip);
}

static void test_incomplete_and_failed(void **state)
{
	struct config *c = load("rule drop mx_addr in {203.0.113.0/24} reject\n"
				"rule ns ns_addr in {198.51.100.0/24} reject\n" "default accept\n");
	struct config *dry = load("dry_run = yes\n" "rule drop mx_addr in {203.0.113.0/24} reject\n");
	struct facts f = envelope(MX_VALID);
	unsigned char a[4] = { 192, 0, 2, 1 };

	(void)state;
	facts_set_add_addr(&f.mx_addr, AF_INET, a);
	f.mx_addr.partial = true;
	f.ns_addr.partial = true;
	f.known |= FBIT(mx_addr) | FBIT(ns_addr);
	/* before the end: unknown, so nothing decides and nothing is refused */
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, NULL, ACTION_NONE, false), CHECKS_GO_ON);
	/* at the end: a DNS tempfail naming both partial sets, never an accept */
	assert_int_equal(answer(c, &f, CHECK_STAGE_EOM, "dns-incomplete:mx_addr,ns_addr", ACTION_TEMPFAIL, false),
			 CHECKS_FINAL);
	/* every partial set it knows is named, used by a rule or not */
	assert_int_equal(answer(dry, &f, CHECK_STAGE_EOM, "dns-incomplete:mx_addr,ns_addr", ACTION_TEMPFAIL, true),
			 CHECKS_FINAL);
	/* a member that matches decides whatever is missing */
	a[0] = 203;
	a[1] = 0;
	a[2] = 113;
	facts_set_add_addr(&f.mx_addr, AF_INET, a);
	assert_int_equal(answer(c, &f, CHECK_STAGE_RCPT, "drop", ACTION_REJECT, false), CHECKS_REFUSE);
	/* nothing partial and a fact never known: nothing can decide */
	f = envelope(MX_VALID);
	assert_int_equal(answer(c, &f, CHECK_STAGE_EOM, NULL, ACTION_NONE, false), CHECKS_FAILED);
	config_unref(c);
	config_unref(dry);
}

static void test_rule_reports(void **state)
{
	struct config *c = load(rules);
	struct facts f = envelope(MX_IMPLICIT);
	struct rule_info ri;
	struct verdict v;
	enum rule_truth t[8];

	(void)state;
	assert_int_equal(rules_size(c->rules), 6);
	rules_info(c->rules, 5, &ri);
	assert_string_equal(ri.name, "late");
	assert_int_equal(ri.line, 6);
	assert_int_equal(ri.action, ACTION_REJECT);
	assert_true(ri.facts == (FBIT(mx) | FBIT(dkim)));
	rules_info(c->rules, 4, &ri);
	assert_true(ri.dry_run);
	rules_info(c->rules, 6, &ri);
	assert_string_equal(ri.name, "default");
	assert_true(ri.facts == 0);
	/* each rule's own value, past the first one that is not false */
	rules_truth_each(c->rules, &f, t);
	assert_int_equal(t[0], RULE_FALSE);
	assert_int_equal(t[5], RULE_UNKNOWN);
	f.dkim = DKIMR_FAIL;
	f.known |= FACT_DKIM;
	rules_truth_each(c->rules, &f, t);
	assert_int_equal(t[5], RULE_TRUE);
	/* which rule a verdict names */
	assert_int_equal(decide_stage(c, &f, CHECK_STAGE_EOM, &v, name, sizeof name), CHECKS_FINAL);
	assert_int_equal(rules_index(c->rules, &v), 5);
	f = envelope(MX_VALID);
	decide_stage(c, &f, CHECK_STAGE_EOM, &v, name, sizeof name);
	assert_int_equal(rules_index(c->rules, &v), 6);
	f.trusted = true;
	decide_stage(c, &f, CHECK_STAGE_EOM, &v, name, sizeof name);
	assert_int_equal(rules_index(c->rules, &v), -1);
	config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope_actions),
		cmocka_unit_test(test_reject_stage),
		cmocka_unit_test(test_global_dry_run),
		cmocka_unit_test(test_skipped_clients),
		cmocka_unit_test(test_incomplete_and_failed),
		cmocka_unit_test(test_rule_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
