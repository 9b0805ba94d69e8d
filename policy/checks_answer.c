/*
 * checks_answer.c - what a message's checks answer at each SMTP stage
 * (see checks.h). The one place that says when a verdict acts: the
 * milter callbacks and `mxguard check` only map these answers to libmilter
 * calls or printed lines.
 */
#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "policy/checks.h"
#include "policy/checks_row.h"
#include "policy/reply.h"

/* checks_envelope_answer - see checks.h */
enum checks_answer checks_envelope_answer(struct checks *ck, enum check_stage stage,
					  struct verdict *v, struct reply *r)
{
	memset(v, 0, sizeof *v);
	if (stage == CHECK_STAGE_MAIL && ck->cfg->reject_stage != STAGE_MAIL) {
		/* the decision waits for RCPT, but the lookups must not wait for the client */
		checks_settle(ck);
		return ck->error[0] ? CHECKS_FAILED : CHECKS_GO_ON;
	}
	switch (checks_decide(ck, v)) {
	case CHECKS_ERROR:
		return CHECKS_FAILED;
	case CHECKS_UNDECIDED:
		return CHECKS_GO_ON;
	case CHECKS_DECIDED:
		break;
	}
	if (v->action != ACTION_REJECT && v->action != ACTION_TEMPFAIL)
		return CHECKS_GO_ON;
	reply_format(v, &ck->facts, r);
	return verdict_refuses(v) ? CHECKS_REFUSE : CHECKS_WOULD;
}

/* The answer when only DNS errors kept the rules from deciding. */
static const struct reply_template dns_incomplete_reply = {
	.code = "451", .xcode = "4.4.3",
	.text = (char *)"cannot verify %{domain} now: some DNS answers did not come, try again later",
};

/*
 * incomplete_verdict - at end of message no rule decided because a set a
 * rule tests is partial (its lookups failed): that is a DNS failure, so
 * tempfail as one, by the pseudo-rule "dns-incomplete:FACT[,FACT]" (its
 * name, in ck, says which sets). False when no set is partial.
 */
static bool incomplete_verdict(struct checks *ck, struct verdict *v)
{
	size_t n = (size_t)snprintf(ck->pseudo_rule, sizeof ck->pseudo_rule, "dns-incomplete");
	const char *sep = ":";

	for (unsigned i = 0; i < FACT_COUNT && n < sizeof ck->pseudo_rule; i++) {
		if (!facts_known(&ck->facts, (enum fact_id)i) || !facts_set_partial(&ck->facts, (enum fact_id)i))
			continue;
		n += (size_t)snprintf(ck->pseudo_rule + n, sizeof ck->pseudo_rule - n, "%s%s", sep,
				      fact_table[i].name);
		sep = ",";
	}
	if (sep[0] == ':')
		return false;
	v->action = ACTION_TEMPFAIL;
	v->rule_name = ck->pseudo_rule;
	v->reply = &dns_incomplete_reply;
	v->dry_run = ck->cfg->dry_run;
	return true;
}

/* note_final - what was decided, for the headers' report of it (checks_disposition) */
static void note_final(struct checks *ck, const struct verdict *v)
{
	ck->final_known = true;
	ck->final_action = v->action;
	ck->final_dry_run = v->dry_run;
}

/* checks_disposition - see checks_row.h */
const char *checks_disposition(const struct checks *ck)
{
	/* only delivered mail is reported: accepted, quarantined, or any dry run */
	return ck->final_known && !ck->final_dry_run && ck->final_action == ACTION_QUARANTINE ?
	       "quarantine" : "none";
}

/* undecided_error - say which facts the rules were still waiting for: a check that never finished */
static void undecided_error(struct checks *ck)
{
	char what[256] = "", name[64];
	fact_mask need = rules_needed_facts(ck->cfg->rules, &ck->facts);
	size_t n = 0;

	for (unsigned i = 0; i < FACT_COUNT && n + 1 < sizeof what; i++)
		if ((need & FBIT_OF(i)) && facts_name(&ck->facts, (enum fact_id)i, name, sizeof name))
			n += (size_t)snprintf(what + n, sizeof what - n, "%s%s", n ? ", " : "", name);
	if (n >= sizeof what)
		n = sizeof what - 1;
	snprintf(ck->error, sizeof ck->error, "no rule could decide at end of message (unknown: %s)",
		 n ? what : "nothing");
}

/* checks_final_answer - see checks.h */
enum checks_answer checks_final_answer(struct checks *ck, struct verdict *v, struct reply *r)
{
	switch (checks_decide(ck, v)) {
	case CHECKS_DECIDED:
		reply_format(v, &ck->facts, r);
		note_final(ck, v);
		return CHECKS_FINAL;
	case CHECKS_UNDECIDED:
		if (incomplete_verdict(ck, v)) {
			reply_format(v, &ck->facts, r);
			note_final(ck, v);
			return CHECKS_FINAL;
		}
		undecided_error(ck);
		return CHECKS_FAILED;
	case CHECKS_ERROR:
		break;
	}
	return CHECKS_FAILED;
}
