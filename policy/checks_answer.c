/*
 * checks_answer.c - what a message's checks answer at each SMTP stage
 * (see checks.h): the facts fetched, policy/decide.h says what they
 * answer (the same code `mxguard replay` runs on logged facts). The
 * milter callbacks and `mxguard check` only map these answers to libmilter
 * calls or printed lines.
 */
#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "policy/checks.h"
#include "policy/checks_row.h"
#include "policy/decide.h"
#include "policy/reply.h"

/* checks_envelope_answer - see checks.h */
enum checks_answer checks_envelope_answer(struct checks *ck, enum check_stage stage,
					  struct verdict *v, struct reply *r)
{
	enum checks_answer ans;

	memset(v, 0, sizeof *v);
	if (decide_waits(ck->cfg, stage)) {
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
	ans = decide_envelope(v, true);
	if (ans != CHECKS_GO_ON)
		reply_format(v, &ck->facts, r);
	return ans;
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
		if (decide_incomplete(ck->cfg, &ck->facts, v, ck->pseudo_rule, sizeof ck->pseudo_rule)) {
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
