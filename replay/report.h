/*
 * report.h - what `mxguard replay` found, counted: the table of actions
 * (the log's, or the baseline's, against the candidate's), the changed
 * decisions grouped by the pair of rules with a few examples each, the
 * facts undecided messages need, each candidate rule's counts, and what
 * the reader skipped.
 *
 * One message's outcome on each side is a struct rp_side; the engine
 * (replay/engine.h) fills a struct rp_message per message and hands it
 * to rp_add once the message's last line is known. The report owns
 * everything it holds (rule names are interned in it, examples copied)
 * and frees it in rp_free.
 */
#ifndef MXGUARD_REPORT_H
#define MXGUARD_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/facts.h"
#include "policy/rules.h"
#include "replay/record.h"

/*
 * Outcome labels: an action and its dry-run flag (an accept in dry run is
 * an accept: nothing would differ), then two the candidate alone can have.
 */
#define RP_LABEL(action, dry) ((int)(action) * 2 + ((dry) && (action) != ACTION_ACCEPT ? 1 : 0))
#define RP_UNDECIDED (RP_LABEL(ACTION_QUARANTINE, true) + 1)   /* the log lacks a fact it needs */
#define RP_FAILED    (RP_UNDECIDED + 1)                        /* no rule could decide: on_error */
#define RP_NLABELS   (RP_FAILED + 1)

/* rp_label_name - "reject", "reject (dry run)", "none" (ended early, no decision), "undecided", ... */
const char *rp_label_name(int label);

struct rp_side {
	int label;
	const char *rule;          /* the deciding rule's name, NULL when none */
	enum rec_stage stage;
	unsigned long refused;     /* recipients refused */
	bool at_mail;              /* refused at MAIL FROM: no recipient was judged */
	fact_mask needs;           /* RP_UNDECIDED: the facts the log lacks */
};

/* An example of a changed decision, for the report (strings owned by the example). */
struct rp_example {
	const char *file;          /* the input it was read from (the caller's string, not owned) */
	unsigned long line;        /* the message's last line in it */
	char *time, *queue_id, *sender, *client, *facts, *reply;
};

struct rp_message {
	struct rp_side old, new;
	bool error;                /* the log's line is an internal error (on_error): not compared */
	bool changed;              /* label or rule differ, or (neither refused at MAIL FROM) refused recipients */
	bool stage_only;           /* same decision, at another stage */
	struct rp_example *ex;     /* changed: the example (rp_add takes it), else NULL */
	/* the candidate's rules at the last point they were asked (bitsets of rules_size + 1 bits) */
	const uint64_t *matched, *lines_by, *unknown;
	long decider;              /* the rule that decided there, -1 none */
};

/* A pair of rules with its count and first examples. */
struct rp_group {
	const char *old_rule, *new_rule;
	int old_label, new_label;
	unsigned long count;
	struct rp_example *ex;     /* limit of them */
	unsigned nex;
};

struct rp_rule {
	struct rule_info info;
	unsigned long decides;     /* messages it wrote a decision line for */
	unsigned long matched;     /* messages it was true for: where it wrote a line, or where the rules were last asked */
	unsigned long unknown;     /* messages it could not be told for (the log lacks a fact) */
	unsigned long *shadowed;   /* [j]: messages it was true for that rule j (earlier) decided */
};

#define RP_KEYS_MAX 32         /* distinct unknown keys named */

/* Why a line was skipped. */
enum rp_skip {
	RP_SKIP_EMPTY, RP_SKIP_TEXT, RP_SKIP_NOT_JSON, RP_SKIP_BROKEN, RP_SKIP_UTF8, RP_SKIP_LIMITS,
	RP_SKIP_TOO_LONG, RP_SKIP_NOT_OURS, RP_SKIP_BAD, RP_SKIP_KINDS
};

/* rp_skip_name - "blank lines", "text-format decision lines (log_format = text)", ... */
const char *rp_skip_name(enum rp_skip kind);

struct report {
	unsigned long lines, decision_lines, messages, compared, changed, stage_only, errors;
	unsigned long undecided;                   /* candidate side */
	unsigned long table[RP_NLABELS][RP_NLABELS];   /* [old][new], messages */
	unsigned long needs[FACT_COUNT];           /* undecided messages by a fact they need */
	unsigned long lines_compared, lines_same, lines_reply_differs;   /* the log's lines against the reference */
	unsigned long versions[3];                 /* lines of log_version 1, 2, newer */
	unsigned long no_txn;                      /* lines without a txn (one message each) */
	unsigned long bad_values[FACT_COUNT];      /* a fact's value this version could not read */
	unsigned long flushed;                     /* messages closed early: no line for an hour */
	unsigned long skipped[RP_SKIP_KINDS];
	const char *key_name[RP_KEYS_MAX];         /* interned */
	unsigned long key_count[RP_KEYS_MAX];
	unsigned nkeys;
	unsigned long keys_more;                   /* lines with unknown keys past RP_KEYS_MAX names */
	struct rp_group *group;
	unsigned ngroups, cap_groups;
	unsigned limit;                            /* examples kept per group */
	struct rp_rule *rule;                      /* the candidate's rules and its default */
	unsigned nrules;                           /* rules_size + 1 */
	struct rp_intern *names;
};

/* rp_init - an empty report for the candidate's ruleset, limit examples per group; -1 out of memory. */
int rp_init(struct report *rp, const struct ruleset *candidate, unsigned limit);

/* rp_add - one message's outcome; takes m->ex. -1 out of memory. */
int rp_add(struct report *rp, struct rp_message *m);

/* rp_intern - a copy of name kept for the report's life (NULL for NULL; NULL out of memory). */
const char *rp_intern(struct report *rp, const char *name);

/* rp_unknown_key - a key this version does not know was on a line. */
void rp_unknown_key(struct report *rp, const char *key);

/* rp_example_free - an example and its strings. NULL is fine. */
void rp_example_free(struct rp_example *ex);

/* rp_free - everything the report holds. */
void rp_free(struct report *rp);

#endif
