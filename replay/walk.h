/*
 * walk.h - one logged message decided again under one configuration.
 *
 * The SMTP stages are walked as the daemon walks them: MAIL FROM, each
 * recipient, the end of the message. At each, policy/decide.h answers on
 * the facts a decision line gave, limited to what is known at that stage
 * (a fact's stage in policy/facts.def; the recipient's facts from the
 * line's list, one recipient after another, a refused one taken back as
 * checks_rcpt_refused does). The walk writes down the decision lines the
 * daemon would have written (milter/callbacks.c and milter/context.c: a
 * line per refused recipient, the message's line once, an aborted
 * message's line when nothing else was written), so that a replay of the
 * configuration that wrote a log can be compared with it line by line.
 *
 * When the rules wait for a fact the line does not have although the
 * daemon would have had it by then (the logging configuration never
 * needed it), the walk stops: WALK_UNDECIDED with the facts it needs.
 * It never guesses a value.
 *
 * The caller owns everything; struct walk holds fixed arrays only.
 * Verdicts point into cfg (or static storage, or w->name).
 */
#ifndef MXGUARD_WALK_H
#define MXGUARD_WALK_H

#include <stdbool.h>

#include "conf/config.h"
#include "policy/decide.h"
#include "policy/reply.h"
#include "replay/record.h"

enum walk_end {
	WALK_REFUSED_MAIL,   /* refused at MAIL FROM */
	WALK_ALL_REFUSED,    /* every recipient refused: no message data */
	WALK_EOM,            /* decided at the end of the message */
	WALK_ABORTED,        /* the log says the message ended early, and it did here too */
	WALK_UNDECIDED,      /* a rule needs facts the log does not have: needs */
	WALK_FAILED,         /* nothing could decide at the end (the daemon answers on_error) */
};

/* A recipient the line does not list (written at MAIL FROM, or past the list's bounds). */
#define WALK_RCPT_UNLISTED (-2)
/* Where a line is written: 0 MAIL FROM, 1 + i at listed recipient i, then the unlisted ones, then the end. */
#define WALK_POS_END 0x7fffffffu

#define WALK_LINES_MAX 72    /* a line per listed recipient (DECISION_RCPTS_MAX) and a few */

struct walk_line {
	enum rec_stage stage;
	int rcpt;                /* a refused recipient's index in the list (or WALK_RCPT_UNLISTED); -1: the message's line */
	unsigned pos;
	struct verdict v;        /* action none: an aborted message's line */
	fact_mask known;         /* the facts known then (for its reply) */
	int rcpt_at;             /* the recipient whose facts were current then, -1 none */
};

struct walk_in {
	bool ended_early;        /* the log says the message ended before its end (abort, close) */
	bool rcpts_known;        /* rcpts are the recipients given up to the line; false: not known */
	const char *const *rcpts;
	unsigned nrcpts;
	unsigned long rcpts_more;/* given but not listed */
};

struct walk {
	struct walk_line line[WALK_LINES_MAX];
	unsigned nlines;
	enum walk_end end;
	fact_mask needs;         /* WALK_UNDECIDED: what the log lacks */
	enum check_stage needs_at;
	unsigned long refused;   /* recipients refused */
	/* the last point the rules were asked at: its facts, and which rule decided there */
	bool asked;
	fact_mask last_known;
	int last_rcpt;
	long last_rule;          /* index in cfg's rules (rules_size: the default); -1 none or a pseudo-rule */
	const char *rcpt_parsed; /* the recipient whose facts f holds (parsing one costs): walk_run resets it */
	char name[DECIDE_NAME_MAX];
};

/*
 * walk_run - the message of rec (facts f from record_facts, whose result
 * is rf) under cfg, as far as in says. f is the caller's scratch space:
 * its known mask and recipient facts are changed.
 */
void walk_run(const struct config *cfg, const struct walk_in *in, struct facts *f, const struct rec_facts *rf,
	      struct walk *w);

/* walk_at - the last line the walk wrote at or before pos; NULL when none. */
const struct walk_line *walk_at(const struct walk *w, unsigned pos);

/* walk_last - the walk's last line; NULL when it wrote none (undecided, failed). */
const struct walk_line *walk_last(const struct walk *w);

/*
 * walk_reply - line l's reply as the daemon would have sent and logged it
 * (f's facts set back to what was known then; "" for accept and discard).
 */
void walk_reply(struct walk *w, const struct walk_in *in, const struct walk_line *l, struct facts *f,
		struct reply *r);

/* walk_facts_at - f's facts set back to what was known at the last point the rules were asked. */
void walk_facts_at(struct walk *w, const struct walk_in *in, struct facts *f);

/* walk_end_name - "refused at MAIL FROM", ... for reports. */
const char *walk_end_name(enum walk_end e);

#endif
