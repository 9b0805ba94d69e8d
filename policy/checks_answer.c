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

/*
 * undecided_why - at end of message no rule decided: name the known set
 * facts that are partial (a lookup failed), since those are why
 */
static void undecided_why(struct checks *ck)
{
	char why[200] = "no rule could decide at end of message";
	size_t n = strlen(why);
	const char *sep = " (incomplete after DNS errors: ";

	for (unsigned i = 0; i < FACT_COUNT; i++) {
		if (!facts_known(&ck->facts, (enum fact_id)i) || !facts_set_partial(&ck->facts, (enum fact_id)i))
			continue;
		n += (size_t)snprintf(why + n, n < sizeof why ? sizeof why - n : 0, "%s%s", sep, fact_table[i].name);
		sep = ", ";
	}
	if (sep[0] == ',' && n < sizeof why)
		snprintf(why + n, sizeof why - n, ")");
	checks_fail(ck, why);
}

/* checks_final_answer - see checks.h */
enum checks_answer checks_final_answer(struct checks *ck, struct verdict *v, struct reply *r)
{
	switch (checks_decide(ck, v)) {
	case CHECKS_DECIDED:
		reply_format(v, &ck->facts, r);
		return CHECKS_FINAL;
	case CHECKS_UNDECIDED:
		undecided_why(ck);
		return CHECKS_FAILED;
	case CHECKS_ERROR:
		break;
	}
	return CHECKS_FAILED;
}
