/*
 * rules.h - the operator's rules and their three-valued evaluation.
 *
 * A ruleset is an ordered list of (name, condition, action, reply,
 * dry_run) plus a default action. It is built by conf/ at load time and
 * then only read: one ruleset is shared by all connection threads.
 *
 * Evaluation is pure: facts in, verdict out. Each condition evaluates to
 * true, false or unknown (a fact it needs is not known yet). Walking the
 * rules in order, the first true rule decides provided every rule before
 * it is false; an unknown rule first means "wait for more facts".
 */
#ifndef MXGUARD_RULES_H
#define MXGUARD_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/facts.h"

enum action {
	ACTION_NONE = 0,      /* no decision yet */
	ACTION_ACCEPT,
	ACTION_REJECT,
	ACTION_TEMPFAIL,
	ACTION_DISCARD,
	ACTION_QUARANTINE,
};

/* action_name - "accept", "reject", ...; "none" for ACTION_NONE. */
const char *action_name(enum action);

/* A reply as the operator wrote it; text may hold %{macro}s. */
struct reply_template {
	char code[4];         /* "550", "" when the rule gave none */
	char xcode[16];       /* "5.7.27", "" when none */
	char *text;           /* owned by the ruleset; NULL when none */
};

struct rule;              /* opaque; built by conf/, read by rules_eval */
struct ruleset;

/* The outcome of one evaluation. Points into the ruleset: keep the config snapshot alive while using it. */
struct verdict {
	enum action action;            /* ACTION_NONE when undecided */
	const char *rule_name;         /* "default" when the default decided; NULL when undecided */
	const struct reply_template *reply;  /* never NULL once decided (may be all empty) */
	bool dry_run;                  /* the deciding rule is marked dry_run (see below) */
};

/*
 * dry_run: rules_eval reports only the deciding rule's own flag. The
 * global `dry_run` setting lives in struct config; callers OR it in:
 *     dry = v.dry_run || cfg->dry_run;
 * A dry-run verdict still ends the walk (first match wins): the caller
 * logs what would have happened and accepts.
 */

/* verdict_delivers - the message goes on to delivery: accept, quarantine, or any dry run. */
bool verdict_delivers(const struct verdict *);

/* verdict_refuses - the SMTP command is refused now: reject or tempfail, not a dry run. */
bool verdict_refuses(const struct verdict *);

/*
 * rules_eval - evaluate the ruleset against what is known. Returns true
 * and fills v when a rule (or the default) decides; false when a rule
 * that could still match needs facts that are not known yet.
 */
bool rules_eval(const struct ruleset *, const struct facts *, struct verdict *v);

/*
 * rules_needed_facts - the facts (FBIT) still unknown that some rule which
 * could still decide refers to (rules before the first true one that are
 * not already false). A check that writes none of them need not run.
 */
fact_mask rules_needed_facts(const struct ruleset *, const struct facts *);

/*
 * For `mxguard replay`'s report on each rule: which rules exist, what they
 * test, and each one's own truth value on a message (not only the first
 * true one's, which is all rules_eval tells).
 */
enum rule_truth { RULE_FALSE, RULE_TRUE, RULE_UNKNOWN };

struct rule_info {
	const char *name;      /* points into the ruleset; "default" for the default */
	int line;              /* where the configuration defines it (0: the built-in default) */
	enum action action;
	bool dry_run;
	fact_mask facts;       /* every fact its condition tests (0 for the default) */
};

/* rules_size - the number of rules, the default not counted. */
size_t rules_size(const struct ruleset *);

/* rules_info - rule i (i < rules_size; i == rules_size: the default) into *out. */
void rules_info(const struct ruleset *, size_t i, struct rule_info *out);

/* rules_index - the rule a verdict of this ruleset names (rules_size: the default); -1 for a pseudo-rule. */
long rules_index(const struct ruleset *, const struct verdict *v);

/* rules_truth_each - out[i] = rule i's own condition on f, for every i < rules_size. */
void rules_truth_each(const struct ruleset *, const struct facts *f, enum rule_truth *out);

/* rules_free - frees the ruleset and everything it owns. NULL is fine. */
void rules_free(struct ruleset *);

#endif
