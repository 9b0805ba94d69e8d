/*
 * walk.c - the stages of a logged message, decided again (see walk.h).
 *
 * Which lines are written when mirrors milter/callbacks.c: a refusal at
 * MAIL FROM or RCPT writes a line (with the recipient at RCPT); a dry-run
 * refusal writes the message's line once; at the end of the message a
 * reject, tempfail, discard or quarantine writes the message's line, an
 * accept or a dry run only when none was written; a message that ends
 * early gets an "abort" line when it got no line at all. The replay tier
 * checks this against a real daemon's log: every line reproduced.
 */
#include <pthread.h>
#include <string.h>

#include "policy/checks.h"
#include "replay/walk.h"

/* upto[s]: the facts known no later than stage s */
static fact_mask upto[CHECK_STAGE_EOM + 1];
static pthread_once_t upto_once = PTHREAD_ONCE_INIT;

/* upto_init - from the stages of the fact table */
static void upto_init(void)
{
	for (unsigned s = 0; s <= CHECK_STAGE_EOM; s++)
		for (unsigned i = 0; i < FACT_COUNT; i++)
			if (fact_table[i].stage <= (enum check_stage)s)
				upto[s] |= FBIT_OF(i);
}

/* set_rcpt - recipient i's facts current in f (or none: -1, or not listed); parsed once per walk */
static void set_rcpt(struct walk *w, const struct walk_in *in, struct facts *f, int i)
{
	if (i >= 0 && (unsigned)i < in->nrcpts) {
		if (w->rcpt_parsed != in->rcpts[i]) {
			checks_parse_rcpt(f, in->rcpts[i]);
			w->rcpt_parsed = in->rcpts[i];
		}
		f->known |= FACT_RCPT;
	} else {
		f->known &= ~(fact_mask)FACT_RCPT;
	}
}

/* emit - the daemon would write a line */
static void emit(struct walk *w, enum rec_stage stage, int rcpt, unsigned pos, const struct verdict *v,
		 const struct facts *f, int rcpt_at)
{
	struct walk_line *l;

	if (w->nlines == WALK_LINES_MAX)
		return;   /* cannot happen: a line per listed recipient and a few */
	l = &w->line[w->nlines++];
	l->stage = stage;
	l->rcpt = rcpt;
	l->pos = pos;
	l->v = *v;
	l->known = f->known;
	l->rcpt_at = rcpt_at;
}

enum step { STEP_ON, STEP_REFUSED, STEP_STOP };

struct state {
	const struct config *cfg;
	const struct walk_in *in;
	const struct rec_facts *rf;
	struct facts *f;
	struct walk *w;
	bool logged;             /* the message's line was written */
};

/*
 * step - ask the rules at one point (stage st; at RCPT recipient rcpt is
 * current); write the line a refusal or a dry-run refusal writes. At the
 * end of the message *v is the verdict for the caller.
 */
static enum step step(struct state *S, enum check_stage st, unsigned pos, int rcpt, struct verdict *v)
{
	struct walk *w = S->w;
	enum checks_answer ans;
	bool pseudo;

	if (decide_waits(S->cfg, st))
		return STEP_ON;
	ans = decide_stage(S->cfg, S->f, st, v, w->name, sizeof w->name);
	w->asked = true;
	w->last_known = S->f->known;
	w->last_rcpt = rcpt;
	w->last_rule = v->action != ACTION_NONE ? rules_index(S->cfg->rules, v) : -1;
	/* nothing decided, or only the DNS tempfail that stands for "nothing decided" */
	pseudo = v->action == ACTION_NONE || v->rule_name == w->name;
	if (pseudo) {
		fact_mask missing = rules_needed_facts(S->cfg->rules, S->f) & upto[st] & ~S->rf->logged;

		if (missing) {
			w->end = WALK_UNDECIDED;
			w->needs = missing;
			w->needs_at = st;
			return STEP_STOP;
		}
	}
	switch (ans) {
	case CHECKS_REFUSE:
		emit(w, st == CHECK_STAGE_MAIL ? REC_MAIL : REC_RCPT, st == CHECK_STAGE_MAIL ? -1 : rcpt, pos, v, S->f,
		     rcpt);
		return STEP_REFUSED;
	case CHECKS_WOULD:
		if (!S->logged)
			emit(w, st == CHECK_STAGE_MAIL ? REC_MAIL : REC_RCPT, -1, pos, v, S->f, rcpt);
		S->logged = true;
		return STEP_ON;
	case CHECKS_FAILED:
		w->end = WALK_FAILED;
		return STEP_STOP;
	case CHECKS_GO_ON:
	case CHECKS_FINAL:
		break;
	}
	return STEP_ON;
}

/* final - the end of the message: which line the daemon writes for verdict v */
static void final(struct state *S, const struct verdict *v, int rcpt_at)
{
	bool always = !v->dry_run && v->action != ACTION_ACCEPT;

	if (always || !S->logged)
		emit(S->w, REC_EOM, -1, WALK_POS_END, v, S->f, rcpt_at);
	S->w->end = WALK_EOM;
}

/* recipients - every recipient in turn; the one the message keeps last, or -1 */
static enum step recipients(struct state *S, int *kept)
{
	const struct walk_in *in = S->in;
	struct verdict v;
	unsigned n = in->rcpts_known ? in->nrcpts : 0;
	bool unlisted = !in->rcpts_known || in->rcpts_more > 0;

	*kept = -1;
	for (unsigned i = 0; i <= n; i++) {
		int r = i < n ? (int)i : WALK_RCPT_UNLISTED;
		enum step s;

		if (i == n && !unlisted)
			break;
		S->f->known = (S->rf->logged & ~(fact_mask)FACT_RCPT) & upto[CHECK_STAGE_RCPT];
		set_rcpt(S->w, in, S->f, r);
		s = step(S, CHECK_STAGE_RCPT, 1 + i, r, &v);
		if (s == STEP_STOP)
			return s;
		if (s == STEP_REFUSED)
			/* the unlisted ones: as many as there were, or one when nobody knows */
			S->w->refused += i < n ? 1 : in->rcpts_more ? in->rcpts_more : 1;
		else
			*kept = r;
	}
	return STEP_ON;
}

/* walk_run - see walk.h */
void walk_run(const struct config *cfg, const struct walk_in *in, struct facts *f, const struct rec_facts *rf,
	      struct walk *w)
{
	struct state S = { cfg, in, rf, f, w, false };
	struct verdict v;
	int kept;

	pthread_once(&upto_once, upto_init);
	w->nlines = 0;
	w->needs = 0;
	w->refused = 0;
	w->asked = false;
	w->last_rule = -1;
	w->last_rcpt = -1;
	w->rcpt_parsed = NULL;   /* a new line: its strings may lie where the last one's did */
	/* MAIL FROM */
	f->known = (rf->logged & ~(fact_mask)FACT_RCPT) & upto[CHECK_STAGE_MAIL];
	switch (step(&S, CHECK_STAGE_MAIL, 0, -1, &v)) {
	case STEP_STOP:
		return;
	case STEP_REFUSED:
		w->end = WALK_REFUSED_MAIL;
		return;
	case STEP_ON:
		break;
	}
	if (recipients(&S, &kept) == STEP_STOP)
		return;
	if (in->ended_early) {
		/* msg_end: a line only when the message got none */
		if (!S.logged && w->nlines == 0) {
			memset(&v, 0, sizeof v);
			emit(w, REC_ABORT, -1, WALK_POS_END, &v, f, -1);
		}
		w->end = WALK_ABORTED;
		return;
	}
	if (kept == -1) {
		w->end = WALK_ALL_REFUSED;
		return;
	}
	/* the end of the message, with the last recipient it kept */
	f->known = rf->logged & ~(fact_mask)FACT_RCPT;
	set_rcpt(w, in, f, kept);
	if (step(&S, CHECK_STAGE_EOM, WALK_POS_END, kept, &v) == STEP_STOP)
		return;
	final(&S, &v, kept);
}

/* walk_at - see walk.h */
const struct walk_line *walk_at(const struct walk *w, unsigned pos)
{
	const struct walk_line *found = NULL;

	for (unsigned i = 0; i < w->nlines && w->line[i].pos <= pos; i++)
		found = &w->line[i];
	return found;
}

/* walk_last - see walk.h */
const struct walk_line *walk_last(const struct walk *w)
{
	return w->nlines ? &w->line[w->nlines - 1] : NULL;
}

/* walk_reply - see walk.h */
void walk_reply(struct walk *w, const struct walk_in *in, const struct walk_line *l, struct facts *f,
		struct reply *r)
{
	f->known = l->known & ~(fact_mask)FACT_RCPT;
	set_rcpt(w, in, f, l->rcpt_at);
	if (l->v.action == ACTION_NONE) {
		memset(r, 0, sizeof *r);
		return;
	}
	reply_format(&l->v, f, r);
	if (l->v.action == ACTION_ACCEPT || l->v.action == ACTION_DISCARD)
		r->line[0] = '\0';
}

/* walk_facts_at - see walk.h */
void walk_facts_at(struct walk *w, const struct walk_in *in, struct facts *f)
{
	f->known = w->last_known & ~(fact_mask)FACT_RCPT;
	set_rcpt(w, in, f, w->last_rcpt);
}

/* walk_end_name - see walk.h */
const char *walk_end_name(enum walk_end e)
{
	switch (e) {
	case WALK_REFUSED_MAIL: return "refused at MAIL FROM";
	case WALK_ALL_REFUSED: return "every recipient refused";
	case WALK_EOM: return "decided at the end of the message";
	case WALK_ABORTED: return "ended early";
	case WALK_UNDECIDED: return "undecided";
	case WALK_FAILED: return "nothing could decide";
	}
	return "?";
}
