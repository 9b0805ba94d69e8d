/*
 * decide.c - the answer at a stage from facts (see decide.h). Pure: the
 * daemon's orchestrator (checks.c, checks_answer.c) and `mxguard replay`
 * both call these, so a replayed log is judged by the code that wrote it.
 */
#include <stdio.h>
#include <string.h>

#include "policy/decide.h"

/* The reply of the pseudo-rules for clients that skip all checks. */
static const struct reply_template empty_reply;

/* The answer when only DNS errors kept the rules from deciding. */
static const struct reply_template dns_incomplete_reply = {
	.code = "451", .xcode = "4.4.3",
	.text = (char *)"cannot verify %{domain} now: some DNS answers did not come, try again later",
};

/* decide_skipped - see decide.h */
const char *decide_skipped(const struct config *cfg, const struct facts *f)
{
	if (facts_known(f, FID_trusted) && f->trusted)
		return "trusted";
	if (facts_known(f, FID_authenticated) && f->authenticated && cfg->skip_authenticated)
		return "authenticated";
	return NULL;
}

/* decide_eval - see decide.h */
bool decide_eval(const struct config *cfg, const struct facts *f, enum check_stage stage, struct verdict *v)
{
	const char *who;

	memset(v, 0, sizeof *v);
	if (stage >= CHECK_STAGE_MAIL && (who = decide_skipped(cfg, f)) != NULL) {
		v->action = ACTION_ACCEPT;
		v->rule_name = who;
		v->reply = &empty_reply;
		return true;
	}
	if (!rules_eval(cfg->rules, f, v))
		return false;
	v->dry_run = v->dry_run || cfg->dry_run;
	return true;
}

/* decide_waits - see decide.h */
bool decide_waits(const struct config *cfg, enum check_stage stage)
{
	return stage == CHECK_STAGE_MAIL && cfg->reject_stage != STAGE_MAIL;
}

/* decide_envelope - see decide.h */
enum checks_answer decide_envelope(const struct verdict *v, bool decided)
{
	/* accept, discard and quarantine wait for the end of the message */
	if (!decided || (v->action != ACTION_REJECT && v->action != ACTION_TEMPFAIL))
		return CHECKS_GO_ON;
	return verdict_refuses(v) ? CHECKS_REFUSE : CHECKS_WOULD;
}

/* decide_incomplete - see decide.h */
bool decide_incomplete(const struct config *cfg, const struct facts *f, struct verdict *v,
		       char *name, size_t len)
{
	size_t n = (size_t)snprintf(name, len, "dns-incomplete");
	const char *sep = ":";

	for (unsigned i = 0; i < FACT_COUNT && n < len; i++) {
		if (!facts_known(f, (enum fact_id)i) || !facts_set_partial(f, (enum fact_id)i))
			continue;
		n += (size_t)snprintf(name + n, len - n, "%s%s", sep, fact_table[i].name);
		sep = ",";
	}
	if (sep[0] == ':')
		return false;
	v->action = ACTION_TEMPFAIL;
	v->rule_name = name;
	v->reply = &dns_incomplete_reply;
	v->dry_run = cfg->dry_run;
	return true;
}

/* decide_stage - see decide.h */
enum checks_answer decide_stage(const struct config *cfg, const struct facts *f, enum check_stage stage,
				struct verdict *v, char *name, size_t len)
{
	bool decided;

	memset(v, 0, sizeof *v);
	if (decide_waits(cfg, stage))
		return CHECKS_GO_ON;
	decided = decide_eval(cfg, f, stage, v);
	if (stage < CHECK_STAGE_EOM)
		return decide_envelope(v, decided);
	if (decided || decide_incomplete(cfg, f, v, name, len))
		return CHECKS_FINAL;
	return CHECKS_FAILED;
}
