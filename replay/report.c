/*
 * report.c - the counts of a replay (see report.h).
 *
 * Rule names come from the log (any text) and from the configurations;
 * they are interned once (a small chained hash set) so that a message's
 * outcome holds pointers, groups compare pointers, and nothing is freed
 * before the report.
 */
#include <stdlib.h>
#include <string.h>

#include "replay/report.h"

struct rp_intern {
	char **slot;
	size_t cap, n;
};

static const char *const label_names[RP_NLABELS] = {
	[RP_LABEL(ACTION_NONE, false)] = "none",
	[RP_LABEL(ACTION_NONE, true)] = "none (dry run)",
	[RP_LABEL(ACTION_ACCEPT, false)] = "accept",
	[RP_LABEL(ACTION_REJECT, false)] = "reject",
	[RP_LABEL(ACTION_REJECT, true)] = "reject (dry run)",
	[RP_LABEL(ACTION_TEMPFAIL, false)] = "tempfail",
	[RP_LABEL(ACTION_TEMPFAIL, true)] = "tempfail (dry run)",
	[RP_LABEL(ACTION_DISCARD, false)] = "discard",
	[RP_LABEL(ACTION_DISCARD, true)] = "discard (dry run)",
	[RP_LABEL(ACTION_QUARANTINE, false)] = "quarantine",
	[RP_LABEL(ACTION_QUARANTINE, true)] = "quarantine (dry run)",
	[RP_UNDECIDED] = "undecided",
	[RP_FAILED] = "no rule decides",
};

static const char *const skip_names[RP_SKIP_KINDS] = {
	[RP_SKIP_EMPTY] = "blank lines",
	[RP_SKIP_TEXT] = "text-format decision lines (replay reads log_format = json)",
	[RP_SKIP_NOT_JSON] = "lines without a JSON object (other programs)",
	[RP_SKIP_BROKEN] = "broken JSON (cut short, or not JSON)",
	[RP_SKIP_UTF8] = "invalid UTF-8",
	[RP_SKIP_LIMITS] = "over the reader's limits (keys, array items, nesting)",
	[RP_SKIP_TOO_LONG] = "lines too long",
	[RP_SKIP_NOT_OURS] = "JSON without action and stage (not a decision line)",
	[RP_SKIP_BAD] = "decision lines with a value mxguard never writes",
};

/* rp_skip_name - see report.h */
const char *rp_skip_name(enum rp_skip kind)
{
	return (unsigned)kind < RP_SKIP_KINDS ? skip_names[kind] : "?";
}

/* rp_label_name - see report.h */
const char *rp_label_name(int label)
{
	return label >= 0 && label < RP_NLABELS ? label_names[label] : "?";
}

/* str_hash - FNV-1a */
static size_t str_hash(const char *s)
{
	size_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* intern_grow - twice the slots, every name moved */
static int intern_grow(struct rp_intern *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	char **slot = calloc(cap, sizeof *slot);

	if (!slot)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->slot[i])
			continue;
		for (j = str_hash(t->slot[i]) & (cap - 1); slot[j]; j = (j + 1) & (cap - 1))
			;
		slot[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

/* rp_intern - see report.h */
const char *rp_intern(struct report *rp, const char *name)
{
	struct rp_intern *t = rp->names;
	size_t j;

	if (!name)
		return NULL;
	if (t->n * 2 >= t->cap && intern_grow(t) < 0)
		return NULL;
	for (j = str_hash(name) & (t->cap - 1); t->slot[j]; j = (j + 1) & (t->cap - 1))
		if (strcmp(t->slot[j], name) == 0)
			return t->slot[j];
	if (!(t->slot[j] = strdup(name)))
		return NULL;
	t->n++;
	return t->slot[j];
}

/* rp_init - see report.h */
int rp_init(struct report *rp, const struct ruleset *candidate, unsigned limit)
{
	size_t n = rules_size(candidate) + 1;

	memset(rp, 0, sizeof *rp);
	rp->limit = limit;
	rp->names = calloc(1, sizeof *rp->names);
	rp->rule = calloc(n, sizeof *rp->rule);
	if (!rp->names || !rp->rule)
		return -1;
	rp->nrules = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		rules_info(candidate, i, &rp->rule[i].info);
		if (!(rp->rule[i].shadowed = calloc(n, sizeof *rp->rule[i].shadowed)))
			return -1;
	}
	return 0;
}

/* rp_unknown_key - see report.h */
void rp_unknown_key(struct report *rp, const char *key)
{
	unsigned i;

	for (i = 0; i < rp->nkeys; i++)
		if (strcmp(rp->key_name[i], key) == 0)
			break;
	if (i == rp->nkeys) {
		const char *k;

		if (rp->nkeys == RP_KEYS_MAX || !(k = rp_intern(rp, key))) {
			rp->keys_more++;
			return;
		}
		rp->key_name[rp->nkeys++] = k;
	}
	rp->key_count[i]++;
}

/* rp_example_free - see report.h */
void rp_example_free(struct rp_example *ex)
{
	if (!ex)
		return;
	free(ex->time);
	free(ex->queue_id);
	free(ex->sender);
	free(ex->client);
	free(ex->facts);
	free(ex->reply);
	free(ex);
}

/* group_of - the group of a changed message's pair of outcomes, made when new; NULL out of memory */
static struct rp_group *group_of(struct report *rp, const struct rp_message *m)
{
	struct rp_group *g;

	for (unsigned i = 0; i < rp->ngroups; i++) {
		g = &rp->group[i];
		if (g->old_rule == m->old.rule && g->new_rule == m->new.rule && g->old_label == m->old.label &&
		    g->new_label == m->new.label)
			return g;
	}
	if (rp->ngroups == rp->cap_groups) {
		unsigned cap = rp->cap_groups ? rp->cap_groups * 2 : 16;
		struct rp_group *more = realloc(rp->group, cap * sizeof *more);

		if (!more)
			return NULL;
		rp->group = more;
		rp->cap_groups = cap;
	}
	g = &rp->group[rp->ngroups];
	memset(g, 0, sizeof *g);
	g->old_rule = m->old.rule;
	g->new_rule = m->new.rule;
	g->old_label = m->old.label;
	g->new_label = m->new.label;
	if (rp->limit && !(g->ex = calloc(rp->limit, sizeof *g->ex)))
		return NULL;
	rp->ngroups++;
	return g;
}

/* has - bit i of a bitset */
static bool has(const uint64_t *set, unsigned i)
{
	return set && (set[i / 64] >> (i % 64)) & 1;
}

/* rule_counts - the candidate's rules on one message */
static void rule_counts(struct report *rp, const struct rp_message *m)
{
	for (unsigned i = 0; i < rp->nrules; i++) {
		struct rp_rule *r = &rp->rule[i];

		if (has(m->lines_by, i))
			r->decides++;
		if (has(m->unknown, i))
			r->unknown++;
		if (!has(m->matched, i))
			continue;
		r->matched++;
		/* true here, but an earlier rule decided: shadowed on this message */
		if (m->decider >= 0 && (unsigned long)m->decider < i && !has(m->lines_by, i))
			r->shadowed[m->decider]++;
	}
}

/* rp_add - see report.h */
int rp_add(struct report *rp, struct rp_message *m)
{
	struct rp_group *g;

	rp->messages++;
	if (m->error) {
		rp->errors++;
		rp_example_free(m->ex);
		m->ex = NULL;
		return 0;
	}
	rp->compared++;
	rp->table[m->old.label][m->new.label]++;
	rule_counts(rp, m);
	if (m->new.label == RP_UNDECIDED) {
		rp->undecided++;
		for (unsigned i = 0; i < FACT_COUNT; i++)
			if (m->new.needs & FBIT_OF(i))
				rp->needs[i]++;
	}
	if (m->stage_only)
		rp->stage_only++;
	if (!m->changed) {
		rp_example_free(m->ex);
		m->ex = NULL;
		return 0;
	}
	rp->changed++;
	if (!(g = group_of(rp, m))) {
		rp_example_free(m->ex);
		m->ex = NULL;
		return -1;
	}
	g->count++;
	if (m->ex && g->nex < rp->limit) {
		g->ex[g->nex++] = *m->ex;
		free(m->ex);   /* its strings now belong to the group */
	} else {
		rp_example_free(m->ex);
	}
	m->ex = NULL;
	return 0;
}

/* rp_free - see report.h */
void rp_free(struct report *rp)
{
	for (unsigned i = 0; i < rp->ngroups; i++) {
		for (unsigned k = 0; k < rp->group[i].nex; k++) {
			struct rp_example *ex = &rp->group[i].ex[k];

			free(ex->time);
			free(ex->queue_id);
			free(ex->sender);
			free(ex->client);
			free(ex->facts);
			free(ex->reply);
		}
		free(rp->group[i].ex);
	}
	free(rp->group);
	for (unsigned i = 0; rp->rule && i < rp->nrules; i++)
		free(rp->rule[i].shadowed);
	free(rp->rule);
	if (rp->names) {
		for (size_t i = 0; i < rp->names->cap; i++)
			free(rp->names->slot[i]);
		free(rp->names->slot);
		free(rp->names);
	}
	memset(rp, 0, sizeof *rp);
}
