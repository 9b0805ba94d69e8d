/*
 * decide.h - what a message's facts answer at one SMTP stage: pure.
 *
 * The one place that turns facts into an answer, for the daemon (through
 * policy/checks.h, which fetches the facts first: DNS, DKIM, ...) and for
 * `mxguard replay`, which rebuilds the facts from a decision log line and
 * asks the same questions without any DNS:
 *   - clients that skip every check (trusted_networks; SMTP AUTH with
 *     skip_authenticated) are accepted by the pseudo-rule "trusted" /
 *     "authenticated" from MAIL FROM on;
 *   - otherwise the rules decide (rules_eval, three-valued), and the
 *     global dry_run setting is ORed into the rule's own flag;
 *   - before the end of the message only a refusal acts (reject or
 *     tempfail; a dry-run one is only logged), and with reject_stage =
 *     rcpt nothing is decided at MAIL FROM;
 *   - at the end of the message, when no rule could decide only because
 *     a set a rule tests is partial (DNS errors), the answer is a DNS
 *     tempfail by the pseudo-rule "dns-incomplete:FACT[,FACT]" (451 4.4.3).
 *
 * Nothing here waits, allocates or logs. Verdicts point into the
 * configuration's ruleset, into static storage, or (dns-incomplete) into
 * the caller's name buffer: keep all three alive while using them.
 */
#ifndef MXGUARD_DECIDE_H
#define MXGUARD_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "policy/facts.h"
#include "policy/rules.h"

/* The answer at a stage (the milter and `mxguard check` map it to their output). */
enum checks_answer {
	CHECKS_GO_ON,      /* nothing to refuse now: go on to the next stage */
	CHECKS_WOULD,      /* a dry-run rule would refuse: log the verdict (once), go on */
	CHECKS_REFUSE,     /* refuse now: the verdict (reject or tempfail) with its reply */
	CHECKS_FINAL,      /* end of message: the verdict decides (verdict_delivers) */
	CHECKS_FAILED,     /* internal error, or nothing could decide at end of message */
};

/* The longest pseudo-rule name decide_incomplete writes, NUL included. */
#define DECIDE_NAME_MAX 96

/* decide_skipped - "trusted" or "authenticated" when the client skips every check, else NULL. */
const char *decide_skipped(const struct config *cfg, const struct facts *f);

/*
 * decide_eval - the verdict on what f knows at stage: the skip pseudo-rule
 * (from MAIL FROM on), else the rules with the global dry run ORed in.
 * True and *v filled when decided; false (*v zeroed) when a rule waits
 * for a fact f does not know.
 */
bool decide_eval(const struct config *cfg, const struct facts *f, enum check_stage stage, struct verdict *v);

/* decide_waits - at this stage the decision waits for a later one (MAIL FROM with reject_stage = rcpt). */
bool decide_waits(const struct config *cfg, enum check_stage stage);

/*
 * decide_envelope - at MAIL FROM or RCPT, what a verdict answers: a
 * refusal refuses (or, dry run, is only logged: CHECKS_WOULD); anything
 * else, and no decision, goes on.
 */
enum checks_answer decide_envelope(const struct verdict *v, bool decided);

/*
 * decide_incomplete - at the end of the message, when no rule decided:
 * the dns-incomplete tempfail when a set f knows is partial (its name,
 * listing them, into name), true; false when no set is partial.
 */
bool decide_incomplete(const struct config *cfg, const struct facts *f, struct verdict *v,
		       char *name, size_t len);

/*
 * decide_stage - all of the above for facts that are all there will be
 * (nothing to wait for): the answer at stage, with *v (action none when
 * nothing decided). At CHECK_STAGE_EOM: CHECKS_FINAL, or CHECKS_FAILED
 * when nothing could decide. name: DECIDE_NAME_MAX bytes for a
 * dns-incomplete verdict's name.
 */
enum checks_answer decide_stage(const struct config *cfg, const struct facts *f, enum check_stage stage,
				struct verdict *v, char *name, size_t len);

#endif
