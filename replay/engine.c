/*
 * engine.c - lines in, a report out (see engine.h).
 *
 * A message still open is a struct pending in a chained hash table keyed
 * by its txn: the result of its latest line (both sides' outcomes, the
 * candidate's rules there, an example when it changed) and what only
 * adds up over its lines (refused recipients the log shows, a dry-run
 * line seen). A line's result replaces the one before: the later line
 * knows everything the earlier one did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/engine.h"
#include "replay/examples.h"
#include "replay/walk.h"

#define FLUSH_EVERY 65536       /* decision lines between looks for messages long silent */
#define FLUSH_AFTER 3600        /* seconds of log time without a line: the message is over */

struct pending {
	struct pending *next;
	char *txn;                  /* owned */
	long t;                     /* its latest line's time, seconds; -1 none */
	unsigned long refused_old;  /* refused-recipient lines the log has for it */
	bool would_old;             /* a dry-run line of the message's */
	struct rp_message m;        /* its latest line's result; m.ex owned */
	uint64_t bits[];            /* matched, lines_by, unknown: 3 * words */
};

struct replay {
	struct replay_setup s;
	struct report rp;
	struct replay_first first[RP_SKIP_KINDS];
	struct jl_line jl;
	struct record rec;
	struct facts fc, fb;        /* the candidate's and the baseline's facts of the line */
	struct walk wc, wb;
	struct pending **bucket;
	size_t nbuckets, npending;
	unsigned words;             /* 64-bit words of a bitset over the candidate's rules and default */
	uint64_t *scratch;          /* 3 * words, for a message counted at once */
	const char *file;           /* the line being read: where */
	unsigned long lineno;
	unsigned long since_flush;
};

/* replay_new - see engine.h */
struct replay *replay_new(const struct replay_setup *s)
{
	struct replay *R = calloc(1, sizeof *R);

	if (!R)
		return NULL;
	R->s = *s;
	R->words = (unsigned)((rules_size(s->candidate->rules) + 1 + 63) / 64);
	R->nbuckets = 1024;
	R->bucket = calloc(R->nbuckets, sizeof *R->bucket);
	R->scratch = calloc(3 * (size_t)R->words, sizeof *R->scratch);
	if (!R->bucket || !R->scratch || rp_init(&R->rp, s->candidate->rules, s->limit) < 0) {
		replay_free(R);
		return NULL;
	}
	return R;
}

/* skip - a line that is not read: counted, the first of its kind kept */
static void skip(struct replay *R, enum rp_skip kind, const char *file, unsigned long lineno, size_t column,
		 const char *why)
{
	R->rp.skipped[kind]++;
	if (!R->first[kind].line)
		R->first[kind] = (struct replay_first){ file, lineno, column, why };
}

/* replay_too_long - see engine.h */
void replay_too_long(struct replay *R, const char *file, unsigned long lineno)
{
	R->rp.lines++;
	skip(R, RP_SKIP_TOO_LONG, file, lineno, 0, "longer than the reader takes");
}

/* iso_seconds - "2026-12-03T10:00:00.123Z" as seconds since 1970; -1 when it is not that */
static long iso_seconds(const char *t)
{
	int v[6], w[6] = { 4, 2, 2, 2, 2, 2 };
	const char *sep = "--T::";
	long y, m, days;

	if (!t)
		return -1;
	for (int i = 0; i < 6; i++) {
		v[i] = 0;
		for (int k = 0; k < w[i]; k++, t++) {
			if (*t < '0' || *t > '9')
				return -1;
			v[i] = v[i] * 10 + (*t - '0');
		}
		if (i < 5 && *t++ != sep[i])
			return -1;
	}
	/* days from the civil date (proleptic Gregorian) */
	y = v[0] - (v[1] <= 2);
	m = v[1] <= 2 ? v[1] + 9 : v[1] - 3;
	days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + v[2] - 1 - 719468;
	return days * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
}

/* bucket_of - the chain for a txn */
static struct pending **bucket_of(struct replay *R, const char *txn)
{
	size_t h = 2166136261u;

	for (const char *p = txn; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &R->bucket[h & (R->nbuckets - 1)];
}

/* grow - twice the buckets when the chains get long */
static void grow(struct replay *R)
{
	size_t n = R->nbuckets * 2;
	struct pending **b = calloc(n, sizeof *b), **old = R->bucket;
	size_t oldn = R->nbuckets;

	if (!b)
		return;   /* longer chains, still correct */
	R->bucket = b;
	R->nbuckets = n;
	for (size_t i = 0; i < oldn; i++)
		for (struct pending *p = old[i], *next; p; p = next) {
			struct pending **to = bucket_of(R, p->txn);

			next = p->next;
			p->next = *to;
			*to = p;
		}
	free(old);
}

/* find - the open message of txn, NULL when none */
static struct pending *find(struct replay *R, const char *txn)
{
	for (struct pending *p = *bucket_of(R, txn); p; p = p->next)
		if (strcmp(p->txn, txn) == 0)
			return p;
	return NULL;
}

/* count_message - a message is over: into the report */
static int count_message(struct replay *R, struct rp_message *m)
{
	return rp_add(&R->rp, m);
}

/* close_pending - count an open message and forget it (unlinked by the caller) */
static int close_pending(struct replay *R, struct pending *p)
{
	int rc = count_message(R, &p->m);

	free(p->txn);
	free(p);
	R->npending--;
	return rc;
}

/* the real line's point in the walk (walk.h positions) */
static unsigned real_pos(const struct record *rec, const struct walk_in *in)
{
	bool at_rcpt = rec->rcpt || rec->stage == REC_RCPT;

	if (rec->rcpt == NULL && rec->stage == REC_MAIL)
		return 0;
	if (!at_rcpt)
		return WALK_POS_END;
	/* the recipient being answered is the last given: listed, or past the list */
	if (!in->rcpts_known || in->rcpts_more)
		return 1 + in->nrcpts;
	return in->nrcpts;
}

/* ended - the abort-like stages are one (abort, close, an error at end of headers) */
static int stage_class(enum rec_stage s)
{
	return s == REC_ABORT || s == REC_CLOSE || s == REC_HEADERS ? REC_ABORT : (int)s;
}

/* compare_line - the log's line against what the reference would have written at its point */
static void compare_line(struct replay *R, struct walk *w, const struct walk_in *in, struct facts *f)
{
	const struct record *rec = &R->rec;
	unsigned pos = real_pos(rec, in);
	const struct walk_line *l = walk_at(w, pos);
	struct reply r;
	const char *rule;

	if (rec->error)
		return;   /* an internal error is no decision to reproduce */
	R->rp.lines_compared++;
	if (!l || l->pos != pos || stage_class(l->stage) != stage_class(rec->stage) ||
	    l->v.action != rec->action || l->v.dry_run != rec->dry_run)
		return;
	if ((rec->rcpt != NULL) != (l->rcpt != -1))
		return;
	if (rec->rcpt && l->rcpt >= 0 && strcmp(in->rcpts[l->rcpt], rec->rcpt) != 0)
		return;
	rule = l->v.action != ACTION_NONE ? l->v.rule_name : NULL;
	if ((rule == NULL) != (rec->rule == NULL) || (rule && strcmp(rule, rec->rule) != 0))
		return;
	walk_reply(w, in, l, f, &r);
	if (strcmp(r.line, rec->reply ? rec->reply : "") != 0) {
		R->rp.lines_reply_differs++;
		return;
	}
	R->rp.lines_same++;
}

/* side_of_walk - a configuration's outcome for the message */
static void side_of_walk(struct replay *R, const struct walk *w, struct rp_side *s)
{
	const struct walk_line *l = walk_last(w);

	memset(s, 0, sizeof *s);
	s->refused = w->refused;
	if (w->end == WALK_UNDECIDED || w->end == WALK_FAILED) {
		s->label = w->end == WALK_UNDECIDED ? RP_UNDECIDED : RP_FAILED;
		s->needs = w->needs;
		s->stage = w->needs_at >= CHECK_STAGE_EOM ? REC_EOM : w->needs_at == CHECK_STAGE_MAIL ? REC_MAIL : REC_RCPT;
		if (w->end == WALK_FAILED)
			s->stage = REC_EOM;
		return;
	}
	if (!l)
		return;
	s->at_mail = w->end == WALK_REFUSED_MAIL;
	s->label = RP_LABEL(l->v.action, l->v.dry_run);
	s->rule = l->v.action != ACTION_NONE ? rp_intern(&R->rp, l->v.rule_name) : NULL;
	s->stage = l->stage;
}

/* rule_bits - the candidate's rules at the last point they were asked, into 3 bitsets */
static void rule_bits(struct replay *R, const struct walk_in *in, struct rp_message *m, uint64_t *bits)
{
	const struct ruleset *rs = R->s.candidate->rules;
	size_t n = rules_size(rs);
	uint64_t *matched = bits, *lines_by = bits + R->words, *unknown = bits + 2 * R->words;
	enum rule_truth truth[256], *t = n <= 256 ? truth : malloc(n * sizeof *t);

	memset(bits, 0, 3 * (size_t)R->words * sizeof *bits);
	m->matched = matched;
	m->lines_by = lines_by;
	m->unknown = unknown;
	m->decider = R->wc.last_rule;
	for (unsigned i = 0; i < R->wc.nlines; i++) {
		long k = rules_index(rs, &R->wc.line[i].v);

		if (k >= 0)
			lines_by[k / 64] |= (uint64_t)1 << (k % 64);
	}
	/* a skipped client is never judged by the rules */
	if (!R->wc.asked || !t || (m->decider < 0 && R->wc.end != WALK_UNDECIDED))
		goto out;
	walk_facts_at(&R->wc, in, &R->fc);
	rules_truth_each(rs, &R->fc, t);
	for (size_t i = 0; i < n; i++) {
		if (t[i] == RULE_TRUE)
			matched[i / 64] |= (uint64_t)1 << (i % 64);
		else if (t[i] == RULE_UNKNOWN && R->wc.end == WALK_UNDECIDED)
			unknown[i / 64] |= (uint64_t)1 << (i % 64);
	}
out:
	/* a rule that wrote a line was true there (at a recipient the last point may not see) */
	for (unsigned w = 0; w < R->words; w++)
		matched[w] |= lines_by[w];
	/* the default "matches" where it decides */
	if (m->decider == (long)n)
		matched[n / 64] |= (uint64_t)1 << (n % 64);
	if (t != truth)
		free(t);
}

/* walk_in_of - how far the line's message went, and its recipients */
static void walk_in_of(const struct record *rec, const struct pending *p, struct walk_in *in)
{
	unsigned long refused = (p ? p->refused_old : 0) + (rec->rcpt ? 1 : 0);
	bool would = (p && p->would_old) || (!rec->rcpt && rec->dry_run);

	memset(in, 0, sizeof *in);
	in->ended_early = stage_class(rec->stage) == REC_ABORT;
	if (rec->have_rcpts) {
		in->rcpts = rec->rcpts;
		in->nrcpts = rec->nrcpts;
		in->rcpts_more = rec->rcpts_more;
		/* a line written at MAIL FROM has no recipient yet: what comes is not known */
		in->rcpts_known = rec->stage != REC_MAIL;
	} else if (rec->rcpt) {
		/* version 1: the refused recipient's line names it */
		in->rcpts = &rec->rcpt;
		in->nrcpts = 1;
		in->rcpts_known = true;
	}
	/*
	 * A refused recipient's line that is the message's last: had the log's
	 * daemon kept another recipient, an end-of-message line would follow
	 * (unless a dry-run line came first). None came: the message ended there.
	 */
	if (rec->rcpt && in->rcpts_known && !would && refused < in->nrcpts + in->rcpts_more)
		in->ended_early = true;
}

/* process - a decision line: its message decided again, compared, kept or counted */
static int process(struct replay *R)
{
	const struct record *rec = &R->rec;
	const struct config *ref = R->s.baseline ? R->s.baseline : R->s.candidate;
	struct pending *p = rec->txn ? find(R, rec->txn) : NULL;
	struct rec_facts rfc, rfb;
	struct walk_in in;
	struct rp_message m;
	bool final;

	walk_in_of(rec, p, &in);
	record_facts(rec, R->s.candidate, &R->fc, &rfc);
	for (unsigned i = 0; i < FACT_COUNT; i++)
		if (rfc.bad & FBIT_OF(i))
			R->rp.bad_values[i]++;
	walk_run(R->s.candidate, &in, &R->fc, &rfc, &R->wc);
	if (R->s.baseline) {
		record_facts(rec, R->s.baseline, &R->fb, &rfb);
		walk_run(R->s.baseline, &in, &R->fb, &rfb, &R->wb);
	}
	compare_line(R, ref == R->s.baseline ? &R->wb : &R->wc, &in, ref == R->s.baseline ? &R->fb : &R->fc);

	memset(&m, 0, sizeof m);
	m.error = rec->error != NULL;
	if (R->s.baseline) {
		side_of_walk(R, &R->wb, &m.old);
	} else {
		m.old.label = RP_LABEL(rec->action, rec->dry_run);
		m.old.rule = rec->action != ACTION_NONE ? rp_intern(&R->rp, rec->rule) : NULL;
		m.old.stage = rec->stage;
		m.old.refused = (p ? p->refused_old : 0) + (rec->rcpt ? 1 : 0);
		m.old.at_mail = rec->stage == REC_MAIL && !rec->rcpt && !rec->dry_run &&
				(rec->action == ACTION_REJECT || rec->action == ACTION_TEMPFAIL);
	}
	side_of_walk(R, &R->wc, &m.new);
	/* a message refused at MAIL FROM on one side had no recipient judged: its count says nothing */
	m.changed = m.old.label != m.new.label || m.old.rule != m.new.rule ||
		    (!m.old.at_mail && !m.new.at_mail && m.old.refused != m.new.refused);
	m.stage_only = !m.changed && stage_class(m.old.stage) != stage_class(m.new.stage);
	if (m.changed && !m.error &&
	    !(m.ex = example_make(R->s.candidate, R->s.baseline, m.old.rule, rec, &in, &R->wc, &R->fc)))
		return -1;
	if (m.ex) {
		m.ex->file = R->file;
		m.ex->line = R->lineno;
	}

	/* over: its end, a refusal at MAIL FROM, or a line of no message (version 1) */
	final = !rec->txn || stage_class(rec->stage) == REC_ABORT || rec->stage == REC_EOM ||
		(rec->stage == REC_MAIL && !rec->dry_run && !rec->rcpt);
	if (final) {
		int rc;

		rule_bits(R, &in, &m, R->scratch);
		rc = count_message(R, &m);
		if (p) {
			struct pending **pp = bucket_of(R, p->txn);

			while (*pp != p)
				pp = &(*pp)->next;
			*pp = p->next;
			rp_example_free(p->m.ex);
			free(p->txn);
			free(p);
			R->npending--;
		}
		return rc;
	}
	if (!p) {
		struct pending **b;

		if (!(p = calloc(1, sizeof *p + 3 * (size_t)R->words * sizeof(uint64_t))) || !(p->txn = strdup(rec->txn))) {
			free(p);
			rp_example_free(m.ex);
			return -1;
		}
		b = bucket_of(R, p->txn);
		p->next = *b;
		*b = p;
		if (++R->npending > 2 * R->nbuckets)
			grow(R);
	}
	rp_example_free(p->m.ex);
	p->refused_old += rec->rcpt ? 1 : 0;
	p->would_old = p->would_old || (!rec->rcpt && rec->dry_run);
	p->t = iso_seconds(rec->time);
	rule_bits(R, &in, &m, p->bits);
	p->m = m;
	return 0;
}

/* flush - count the open messages with no line for FLUSH_AFTER seconds of log time */
static int flush(struct replay *R, long now)
{
	int rc = 0;

	for (size_t i = 0; i < R->nbuckets; i++)
		for (struct pending **pp = &R->bucket[i], *p; (p = *pp) != NULL;) {
			if (p->t >= 0 && p->t < now - FLUSH_AFTER) {
				*pp = p->next;
				R->rp.flushed++;
				rc |= close_pending(R, p);
			} else {
				pp = &p->next;
			}
		}
	return rc;
}

/* text_line - an mxguard decision line in log_format = text? */
static bool text_line(const char *line)
{
	return strstr(line, "queue_id=") && strstr(line, " action=") && strstr(line, " stage=");
}

/* replay_line - see engine.h */
int replay_line(struct replay *R, char *line, size_t len, const char *file, unsigned long lineno)
{
	enum jl_status st;
	size_t i;

	R->rp.lines++;
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
		;
	if (i == len) {
		skip(R, RP_SKIP_EMPTY, file, lineno, 0, "blank");
		return 0;
	}
	st = jl_parse(&R->jl, line, len);
	switch (st) {
	case JL_OK:
		break;
	case JL_NONE:
		/* jl_parse leaves a line without an object as it was */
		if (text_line(line))
			skip(R, RP_SKIP_TEXT, file, lineno, 0, "a decision line in log_format = text");
		else
			skip(R, RP_SKIP_NOT_JSON, file, lineno, 0, R->jl.error);
		return 0;
	case JL_BROKEN:
	case JL_BAD_UTF8:
	case JL_LIMIT:
		skip(R, st == JL_BROKEN ? RP_SKIP_BROKEN : st == JL_BAD_UTF8 ? RP_SKIP_UTF8 : RP_SKIP_LIMITS, file,
		     lineno, R->jl.error_at + 1, R->jl.error);
		return 0;
	}
	switch (record_read(&R->rec, &R->jl)) {
	case REC_OK:
		break;
	case REC_NOT_OURS:
		skip(R, RP_SKIP_NOT_OURS, file, lineno, 0, "no action and stage keys");
		return 0;
	case REC_BAD:
		skip(R, RP_SKIP_BAD, file, lineno, 0, R->rec.why);
		return 0;
	}
	R->rp.decision_lines++;
	R->file = file;
	R->lineno = lineno;
	R->rp.versions[R->rec.log_version >= 3 ? 2 : R->rec.log_version - 1]++;
	if (!R->rec.txn)
		R->rp.no_txn++;
	for (unsigned k = 0; k < R->rec.nunknown && k < REC_UNKNOWN_MAX; k++)
		rp_unknown_key(&R->rp, R->rec.unknown[k]);
	if (process(R) < 0)
		return -1;
	if (++R->since_flush >= FLUSH_EVERY && R->npending) {
		long now = iso_seconds(R->rec.time);

		R->since_flush = 0;
		if (now >= 0 && flush(R, now) < 0)
			return -1;
	}
	return 0;
}

/* replay_finish - see engine.h */
int replay_finish(struct replay *R)
{
	int rc = 0;

	for (size_t i = 0; i < R->nbuckets; i++)
		while (R->bucket[i]) {
			struct pending *p = R->bucket[i];

			R->bucket[i] = p->next;
			rc |= close_pending(R, p);
		}
	return rc;
}

/* replay_report - see engine.h */
const struct report *replay_report(const struct replay *R)
{
	return &R->rp;
}

/* replay_first - see engine.h */
const struct replay_first *replay_first(const struct replay *R, enum rp_skip kind)
{
	return &R->first[kind];
}

/* replay_free - see engine.h */
void replay_free(struct replay *R)
{
	if (!R)
		return;
	for (size_t i = 0; R->bucket && i < R->nbuckets; i++)
		for (struct pending *p = R->bucket[i], *next; p; p = next) {
			next = p->next;
			rp_example_free(p->m.ex);
			free(p->txn);
			free(p);
		}
	free(R->bucket);
	free(R->scratch);
	rp_free(&R->rp);
	free(R);
}
