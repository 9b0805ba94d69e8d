/*
 * test_replay.c - `mxguard replay`'s reading and deciding again
 * (replay/record.h, replay/walk.h, replay/engine.h):
 *   - every kind of fact written by the decision log (milter/decision_log.h)
 *     reads back to the same fact, a list's facts by the reading
 *     configuration's names, partial sets marked partial;
 *   - the golden log of the replay tier replays to every line again under
 *     the configuration that wrote it;
 *   - the cases a log cannot settle: a client the logging daemon did not
 *     check, recipients past the list, a version 1 line, a fact never
 *     looked up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "milter/decision_log.h"
#include "replay/engine.h"
#include "replay/input.h"
#include "replay/record.h"

static char err[1500];
static struct facts F, G;
static struct jl_line J;
static struct record R;
static char line[DECISION_LINE_MAX];

/* load - config from a string; fails the test when it does not load */
static struct config *load(const char *text)
{
	struct config *c = config_load_string("t.conf", text, err, sizeof(err));

	if (!c)
		fail_msg("config:\n%s\nerror: %s", text, err);
	return c;
}

/* ip4 - raw IPv4 octets of text */
static const void *ip(int family, const char *text)
{
	static unsigned char raw[16];

	assert_int_equal(inet_pton(family, text, raw), 1);
	return raw;
}

/* full_facts - every fact of the table known, with a value of its kind */
static void full_facts(struct facts *f, const struct config *cfg)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&f->client_ip.sa;

	memset(f, 0, sizeof *f);
	f->list_name = cfg->list_name;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ip(AF_INET, "192.0.2.77"), 4);
	snprintf(f->client_ip.text, sizeof f->client_ip.text, "192.0.2.77");
	snprintf(f->helo, sizeof f->helo, "Client.Example \"quoted\" \xc3\xa9");
	snprintf(f->sender, sizeof f->sender, "a\\b\"c@example.test");
	snprintf(f->sender_domain, sizeof f->sender_domain, "example.test");
	snprintf(f->from_domain, sizeof f->from_domain, "from.test");
	f->from_header = FROMH_MULTI_DOMAIN;
	snprintf(f->list_id, sizeof f->list_id, "list.example.test");
	f->authenticated = true;
	f->mx = MX_BOGUS;
	snprintf(f->mx_detail, sizeof f->mx_detail, "tab\there, newline\nthere");
	facts_set_add_name(&f->mx_host, "mx1.example.test");
	facts_set_add_name(&f->mx_host, "mx2.example.test");
	facts_set_add_addr(&f->mx_addr, AF_INET, ip(AF_INET, "10.0.0.1"));
	facts_set_add_addr(&f->mx_addr, AF_INET6, ip(AF_INET6, "2001:db8::1"));
	f->mx_addr.partial = true;
	f->mx_dnssec = MXD_UNVERIFIED;
	f->ns = NSR_FOUND;
	facts_set_add_name(&f->ns_host, "ns.example.test");
	f->ns_addr_result = NSR_TEMPERROR;
	f->dnsbl[0] = DNSBL_LISTED;
	snprintf(f->dnsbl_detail[0], sizeof f->dnsbl_detail[0], "zen: 192.0.2.77 listed");
	f->dnsbl[1] = DNSBL_CLEAN;
	f->spf = SPFR_SOFTFAIL;
	f->helo_spf = SPFR_NONE;
	f->dkim = DKIMR_PASS;
	f->dkim_aligned = true;
	facts_set_add_name(&f->dkim_domain, "example.test");
	f->dmarc = DMARCR_FAIL;
	f->dmarc_policy = DMARCP_REJECT;
	snprintf(f->dmarc_domain, sizeof f->dmarc_domain, "example.test");
	f->known = FACT_MASK_ALL & ~(fact_mask)FACT_RCPT;
	/* the lists this configuration does not declare have no facts */
	for (unsigned i = cfg->ndnsbl; i < FACT_LISTS_MAX; i++)
		f->known &= ~(FBIT_OF(FID_dnsbl + i) | FBIT_OF(FID_dnsbl_detail + i));
}

/* read_back - f written as a JSON decision line, read back for cfg into G */
static struct rec_facts read_back(const struct facts *f, const struct config *cfg, const char *rcpts, unsigned n)
{
	struct decision d = { .queue_id = "Q1", .facts = f, .stage = "eom", .rule = "default", .action = "accept",
			      .txn = "00000001.1", .time = "2026-12-03T10:00:00.000Z", .rcpts = rcpts, .nrcpts = n };
	struct rec_facts rf;
	size_t len = decision_format(LOG_JSON, &d, line, sizeof line);

	assert_int_equal(jl_parse(&J, line, len), JL_OK);
	assert_int_equal(record_read(&R, &J), REC_OK);
	record_facts(&R, cfg, &G, &rf);
	return rf;
}

/* same_fact - fact id renders alike in a and b */
static void same_fact(const struct facts *a, const struct facts *b, enum fact_id id)
{
	char x[FACT_RENDER_MAX], y[FACT_RENDER_MAX];

	facts_render(a, id, -1, x, sizeof x);
	facts_render(b, id, -1, y, sizeof y);
	if (strcmp(x, y) != 0)
		fail_msg("%s: wrote \"%s\", read \"%s\"", fact_table[id].name, x, y);
}

static void test_every_fact_reads_back(void **state)
{
	struct config *cfg = load("dnsbl zen zen.example 127.0.0.2 client_ip\n"
				  "dnsbl dbl dbl.example 127.0.1.2 sender_domain\n"
				  "trusted_networks = 198.51.100.0/24\n");
	struct rec_facts rf;

	(void)state;
	full_facts(&F, cfg);
	rf = read_back(&F, cfg, "a@b.test\0c@d.test\0", 2);
	assert_true(rf.logged == F.known);
	assert_true(rf.bad == 0);
	assert_false(rf.skipped);
	for (unsigned i = 0; i < FACT_COUNT; i++)
		if (F.known & FBIT_OF(i))
			same_fact(&F, &G, (enum fact_id)i);
	assert_true(G.mx_addr.partial);
	assert_false(G.mx_host.partial);
	assert_int_equal(G.client_ip.sa.ss_family, AF_INET);
	/* the decision keys and the message's */
	assert_string_equal(R.txn, "00000001.1");
	assert_int_equal(R.log_version, 2);
	assert_int_equal(R.nrcpts, 2);
	assert_string_equal(R.rcpts[1], "<c@d.test>");
	assert_int_equal(R.stage, REC_EOM);
	assert_int_equal(R.action, ACTION_ACCEPT);
	config_unref(cfg);
}

static void test_lists_by_name(void **state)
{
	struct config *two = load("dnsbl zen zen.example 127.0.0.2 client_ip\n"
				  "dnsbl dbl dbl.example 127.0.1.2 sender_domain\n");
	struct config *other = load("dnsbl dbl dbl.example 127.0.1.2 sender_domain\n"
				    "dnsbl new new.example 127.0.0.2 client_ip\n");

	(void)state;
	full_facts(&F, two);
	read_back(&F, other, NULL, 0);
	/* dbl is the other configuration's first list: its value is dnsbl.dbl's; "new" the log never had */
	assert_true(facts_known(&G, FID_dnsbl));
	assert_int_equal(G.dnsbl[0], DNSBL_CLEAN);
	assert_false(facts_known(&G, (enum fact_id)(FID_dnsbl + 1)));
	config_unref(two);
	config_unref(other);
}

static void test_judged_again(void **state)
{
	struct config *trusting = load("trusted_networks = 192.0.2.0/24\n");
	struct config *plain = load("trusted_networks = 127.0.0.0/8\n");
	struct rec_facts rf;

	(void)state;
	/* trusted is the reading configuration's judgement of the address */
	full_facts(&F, plain);
	rf = read_back(&F, trusting, NULL, 0);
	assert_true(facts_known(&G, FID_trusted) && G.trusted);
	/* the logging daemon trusted this client: the check facts are placeholders, not values */
	F.trusted = true;
	facts_skip(&F, FBIT(mx) | FBIT(spf) | FBIT(dkim));
	rf = read_back(&F, plain, NULL, 0);
	assert_true(rf.skipped);
	assert_false(facts_known(&G, FID_mx));
	assert_false(facts_known(&G, FID_spf));
	assert_true(facts_known(&G, FID_sender));
	assert_false(G.trusted);
	config_unref(trusting);
	config_unref(plain);
}

static void test_bad_values_unknown(void **state)
{
	struct config *cfg = load("default accept\n");
	struct rec_facts rf;
	char text[] = "{\"mx\":\"sideways\",\"client_ip\":\"not-an-ip\",\"mx_addr\":[\"192.0.2.1\",\"x\"],"
		      "\"spf\":[\"pass\"],\"trusted\":\"maybe\",\"sender\":\"<a@b.test>\",\"action\":\"accept\","
		      "\"stage\":\"eom\",\"future\":1,\"dnsbl.nolist\":\"listed\"}";

	(void)state;
	assert_int_equal(jl_parse(&J, text, strlen(text)), JL_OK);
	assert_int_equal(record_read(&R, &J), REC_OK);
	record_facts(&R, cfg, &G, &rf);
	assert_true(rf.bad == (FBIT(mx) | FBIT(client_ip) | FBIT(mx_addr) | FBIT(spf) | FBIT(trusted)));
	assert_true(rf.logged == FBIT(sender));
	assert_string_equal(G.sender, "a@b.test");
	assert_int_equal(R.nunknown, 1);
	assert_string_equal(R.unknown[0], "future");
	assert_int_equal(R.log_version, 1);
	config_unref(cfg);
}

/* read_status - record_read of a text line */
static enum rec_status read_status(const char *text)
{
	static char buf[512];

	snprintf(buf, sizeof buf, "%s", text);
	assert_int_equal(jl_parse(&J, buf, strlen(buf)), JL_OK);
	return record_read(&R, &J);
}

static void test_not_decision_lines(void **state)
{
	(void)state;
	assert_int_equal(read_status("{\"level\":\"info\",\"msg\":\"hello\"}"), REC_NOT_OURS);
	assert_int_equal(read_status("{\"action\":\"accept\"}"), REC_NOT_OURS);
	assert_int_equal(read_status("{\"action\":\"explode\",\"stage\":\"eom\"}"), REC_BAD);
	assert_string_equal(R.why, "action is not one mxguard writes");
	assert_int_equal(read_status("{\"action\":\"accept\",\"stage\":\"later\"}"), REC_BAD);
	assert_int_equal(read_status("{\"action\":\"accept\",\"stage\":\"eom\",\"dry_run\":\"no\"}"), REC_BAD);
	assert_int_equal(read_status("{\"action\":\"accept\",\"stage\":\"eom\",\"mx\":\"valid\",\"mx\":\"nullmx\"}"), REC_BAD);
	assert_string_equal(R.why, "a key twice");
	assert_int_equal(read_status("{\"action\":\"accept\",\"stage\":\"eom\",\"rcpts\":\"a\"}"), REC_BAD);
	assert_int_equal(read_status("{\"action\":\"accept\",\"stage\":\"eom\",\"log_version\":0}"), REC_BAD);
	assert_int_equal(read_status("{\"action\":\"accept\",\"stage\":\"eom\",\"rcpts_more\":-1}"), REC_BAD);
	assert_int_equal(read_status("{\"action\":\"none\",\"stage\":\"abort\",\"rule\":null}"), REC_OK);
}

/* replay_text - the engine on lines (one a line) under cand (and base); the report is *rp until replay_free */
static struct replay *replay_text(const struct config *cand, const struct config *base, const char *text)
{
	struct replay *rp = replay_new(&(struct replay_setup){ cand, base, 3 });
	char *copy = strdup(text), *p = copy, *nl;
	unsigned long n = 0;

	assert_non_null(rp);
	assert_non_null(copy);
	while (*p) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		assert_int_equal(replay_line(rp, p, strlen(p), "t", ++n), 0);
		p = nl ? nl + 1 : p + strlen(p);
	}
	assert_int_equal(replay_finish(rp), 0);
	free(copy);
	return rp;
}

static void test_golden_log(void **state)
{
	struct config *cfg = config_load("tests/replay/logged.conf", err, sizeof err);
	struct replay *rp;
	struct input *in;
	const struct report *r;
	char *l;
	size_t len;
	unsigned long n;

	(void)state;
	if (!cfg)
		fail_msg("%s", err);
	rp = replay_new(&(struct replay_setup){ cfg, NULL, 3 });
	in = input_open("tests/replay/golden/log.jsonl", err, sizeof err);
	if (!in)
		fail_msg("%s", err);
	while (input_next(in, &l, &len, &n) == INPUT_LINE)
		assert_int_equal(replay_line(rp, l, len, "golden", n), 0);
	input_close(in);
	assert_int_equal(replay_finish(rp), 0);
	r = replay_report(rp);
	assert_true(r->decision_lines > 250);
	assert_int_equal(r->lines_same, r->decision_lines);
	assert_int_equal(r->changed, 0);
	assert_int_equal(r->undecided, 0);
	assert_true(r->messages > 200 && r->messages < r->decision_lines);
	replay_free(rp);
	config_unref(cfg);
}

/* jline - a decision line for the engine tests, facts from F */
static const char *jline(const char *txn, const char *rcpts, unsigned n, unsigned more, const char *rcpt,
			 const char *stage, const char *rule, const char *action, const char *reply)
{
	static char buf[DECISION_LINE_MAX];
	struct decision d = { .facts = &F, .txn = txn, .rcpts = rcpts, .nrcpts = n, .rcpts_more = more, .rcpt = rcpt,
			      .stage = stage, .rule = rule, .action = action, .reply = reply,
			      .time = "2026-12-03T10:00:00.000Z" };

	decision_format(LOG_JSON, &d, buf, sizeof buf);
	return buf;
}

static void test_cases_a_log_cannot_settle(void **state)
{
	struct config *cfg = load("rule to-x rcpt_domain = x.test reject\n" "rule nmx mx = nullmx reject\n"
				  "default accept\n");
	struct config *nomx = load("rule spf spf = fail reject\n" "default accept\n");
	struct replay *rp;
	const struct report *r;
	static char text[DECISION_LINE_MAX + 2];

	(void)state;
	memset(&F, 0, sizeof F);
	snprintf(F.sender, sizeof F.sender, "a@n.test");
	snprintf(F.sender_domain, sizeof F.sender_domain, "n.test");
	F.mx = MX_NULLMX;
	F.known = FACT_CLIENT | FACT_HELO | FACT_SENDER | FBIT(mx);
	/* refused at RCPT: replayed exactly; a candidate that needs spf cannot tell */
	snprintf(text, sizeof text, "%s\n",
		 jline("1.1", "u@y.test\0", 1, 0, "u@y.test", "rcpt", "nmx", "reject", "550 5.7.1 rejected by policy (nmx)"));
	rp = replay_text(cfg, NULL, text);
	r = replay_report(rp);
	assert_int_equal(r->lines_same, 1);
	assert_int_equal(r->changed, 0);
	replay_free(rp);
	rp = replay_text(nomx, NULL, text);
	r = replay_report(rp);
	assert_int_equal(r->undecided, 1);
	assert_int_equal(r->needs[FID_spf], 1);
	assert_int_equal(r->table[RP_LABEL(ACTION_REJECT, false)][RP_UNDECIDED], 1);
	replay_free(rp);
	/* recipients past the list: a rule on rcpt cannot tell for them */
	F.mx = MX_VALID;
	snprintf(text, sizeof text, "%s\n",
		 jline("2.1", "u@y.test\0", 1, 3, NULL, "eom", "default", "accept", NULL));
	rp = replay_text(cfg, NULL, text);
	r = replay_report(rp);
	assert_int_equal(r->undecided, 1);
	assert_int_equal(r->needs[FID_rcpt_domain], 1);
	replay_free(rp);
	/* version 1 lines: no txn, no recipient list; a refused recipient's line names its recipient */
	snprintf(text, sizeof text, "%s\n",
		 "{\"sender\":\"<a@n.test>\",\"mx\":\"nullmx\",\"rcpt\":\"<u@x.test>\",\"rule\":\"to-x\","
		 "\"action\":\"reject\",\"reply\":\"550 5.7.1 rejected by policy (to-x)\",\"dry_run\":false,"
		 "\"stage\":\"rcpt\",\"elapsed_ms\":1}");
	rp = replay_text(cfg, NULL, text);
	r = replay_report(rp);
	assert_int_equal(r->no_txn, 1);
	assert_int_equal(r->versions[0], 1);
	assert_int_equal(r->lines_same, 1);
	assert_int_equal(r->changed, 0);
	replay_free(rp);
	config_unref(cfg);
	config_unref(nomx);
}

static void test_other_stage_same_decision(void **state)
{
	struct config *rcpt = load("rule nmx mx = nullmx reject\n" "default accept\n");
	struct config *mail = load("reject_stage = mail\n" "rule nmx mx = nullmx reject\n" "default accept\n");
	struct replay *rp;
	const struct report *r;
	static char text[2 * DECISION_LINE_MAX + 4];
	size_t n;

	(void)state;
	memset(&F, 0, sizeof F);
	snprintf(F.sender, sizeof F.sender, "a@n.test");
	snprintf(F.sender_domain, sizeof F.sender_domain, "n.test");
	F.mx = MX_NULLMX;
	F.known = FACT_CLIENT | FACT_HELO | FACT_SENDER | FBIT(mx);
	/* two recipients refused at RCPT; with reject_stage = mail the message is refused at MAIL FROM */
	n = (size_t)snprintf(text, sizeof text, "%s\n", jline("3.1", "u@y.test\0", 1, 0, "u@y.test", "rcpt", "nmx",
								 "reject", "550 5.7.1 rejected by policy (nmx)"));
	snprintf(text + n, sizeof text - n, "%s\n", jline("3.1", "u@y.test\0v@y.test\0", 2, 0, "v@y.test", "rcpt",
							   "nmx", "reject", "550 5.7.1 rejected by policy (nmx)"));
	rp = replay_text(mail, NULL, text);
	r = replay_report(rp);
	assert_int_equal(r->messages, 1);
	assert_int_equal(r->changed, 0);
	assert_int_equal(r->stage_only, 1);
	replay_free(rp);
	/* and back: a log refused at MAIL FROM, replayed with reject_stage = rcpt */
	snprintf(text, sizeof text, "%s\n", jline("4.1", NULL, 0, 0, NULL, "mail", "nmx", "reject",
						  "550 5.7.1 rejected by policy (nmx)"));
	rp = replay_text(rcpt, NULL, text);
	r = replay_report(rp);
	assert_int_equal(r->changed, 0);
	assert_int_equal(r->stage_only, 1);
	replay_free(rp);
	rp = replay_text(mail, NULL, text);
	r = replay_report(rp);
	assert_int_equal(r->lines_same, 1);
	assert_int_equal(r->stage_only, 0);
	replay_free(rp);
	config_unref(rcpt);
	config_unref(mail);
}

static void test_silent_messages_closed(void **state)
{
	struct config *cfg = load("rule to-x rcpt_domain = x.test reject\n" "default accept\n");
	struct replay *rp = replay_new(&(struct replay_setup){ cfg, NULL, 1 });
	const char *first = "{\"sender\":\"<a@b.test>\",\"rule\":\"to-x\",\"action\":\"reject\",\"dry_run\":false,"
			    "\"stage\":\"rcpt\",\"rcpt\":\"<u@x.test>\",\"rcpts\":[\"<u@x.test>\"],\"txn\":\"5.1\","
			    "\"time\":\"2026-12-03T10:00:00.000Z\",\"log_version\":2}";
	const char *later = "{\"sender\":\"<a@b.test>\",\"rule\":\"default\",\"action\":\"accept\",\"dry_run\":false,"
			    "\"stage\":\"eom\",\"rcpts\":[\"<u@y.test>\"],\"txn\":\"6.%lu\","
			    "\"time\":\"2026-12-03T12:00:00.000Z\",\"log_version\":2}";
	char buf[512];

	(void)state;
	assert_non_null(rp);
	/* a message whose last line is a refused recipient's stays open ... */
	snprintf(buf, sizeof buf, "%s", first);
	assert_int_equal(replay_line(rp, buf, strlen(buf), "t", 1), 0);
	/* ... until the log has gone on for an hour without it (looked at every 65,536 lines) */
	for (unsigned long i = 0; i < 65536; i++) {
		snprintf(buf, sizeof buf, later, i);
		assert_int_equal(replay_line(rp, buf, strlen(buf), "t", i + 2), 0);
	}
	assert_int_equal(replay_report(rp)->flushed, 1);
	assert_int_equal(replay_report(rp)->messages, 65537);
	assert_int_equal(replay_finish(rp), 0);
	assert_int_equal(replay_report(rp)->messages, 65537);
	assert_int_equal(replay_report(rp)->changed, 0);
	replay_free(rp);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fact_reads_back),
		cmocka_unit_test(test_lists_by_name),
		cmocka_unit_test(test_judged_again),
		cmocka_unit_test(test_bad_values_unknown),
		cmocka_unit_test(test_not_decision_lines),
		cmocka_unit_test(test_golden_log),
		cmocka_unit_test(test_cases_a_log_cannot_settle),
		cmocka_unit_test(test_other_stage_same_decision),
		cmocka_unit_test(test_silent_messages_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
