/*
 * checks_answer.c - what a message's checks answer at each SMTP stage
 * (see checks.h). The one place that says when a verdict acts: the
 * milter callbacks and `mxguard check` only map these answers to libmilter
 * calls or printed lines.
 */
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

/* checks_final_answer - see checks.h */
enum checks_answer checks_final_answer(struct checks *ck, struct verdict *v, struct reply *r)
{
	switch (checks_decide(ck, v)) {
	case CHECKS_DECIDED:
		reply_format(v, &ck->facts, r);
		return CHECKS_FINAL;
	case CHECKS_UNDECIDED:
		checks_fail(ck, "no rule could decide at end of message");
		return CHECKS_FAILED;
	case CHECKS_ERROR:
		break;
	}
	return CHECKS_FAILED;
}
