/*
 * examples.c - a changed decision's example line (see examples.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/examples.h"

#define FACTS_TEXT 512     /* the facts that matter, as "name=value ..." */
#define VALUE_MAX  80      /* one value (a long set is cut) */

/* rule_facts - the facts the rule called name tests in cfg (0 when it has no such rule) */
static fact_mask rule_facts(const struct config *cfg, const char *name)
{
	struct rule_info ri;
	size_t n = rules_size(cfg->rules);

	for (size_t i = 0; name && i <= n; i++) {
		rules_info(cfg->rules, i, &ri);
		if (strcmp(ri.name, name) == 0)
			return ri.facts;
	}
	return 0;
}

/* example_fact_list - see examples.h */
const char *example_fact_list(fact_mask mask, const struct facts *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < FACT_COUNT && n + 1 < len; i++) {
		char namebuf[96];
		const char *name;

		if (!(mask & FBIT_OF(i)) || !(name = facts_name(f, (enum fact_id)i, namebuf, sizeof namebuf)))
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
	}
	return buf;
}

/* facts_text - "name=value" for each fact in mask that f knows, "name=?" for the others */
static void facts_text(fact_mask mask, const struct facts *f, char *buf, size_t len)
{
	size_t n = 0;
	char *value = malloc(FACT_RENDER_MAX);

	buf[0] = '\0';
	for (unsigned i = 0; value && i < FACT_COUNT && n + 1 < len; i++) {
		char namebuf[96];
		const char *name;

		if (!(mask & FBIT_OF(i)) || !(name = facts_name(f, (enum fact_id)i, namebuf, sizeof namebuf)))
			continue;
		if (!facts_render(f, (enum fact_id)i, -1, value, FACT_RENDER_MAX))
			snprintf(value, FACT_RENDER_MAX, "?");
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%.*s%s", n ? " " : "", name, VALUE_MAX, value,
				      strlen(value) > VALUE_MAX ? "..." : "");
	}
	free(value);
}

/* copy_str - a copy of s, "" for NULL; false when out of memory */
static bool copy_str(char **to, const char *s)
{
	return (*to = strdup(s ? s : "")) != NULL;
}

/* field_text - a line's string field, NULL when it has none */
static const char *field_text(const struct jl_field *f)
{
	return f && f->type == JL_STRING ? f->str : NULL;
}

/* example_make - see examples.h */
struct rp_example *example_make(const struct config *candidate, const struct config *old_cfg, const char *old_rule,
				const struct record *rec, const struct walk_in *in, struct walk *w,
				struct facts *f)
{
	struct rp_example *ex = calloc(1, sizeof *ex);
	const struct walk_line *l = walk_last(w);
	char facts[FACTS_TEXT], needs[FACTS_TEXT], reply_text[FACTS_TEXT + 32];
	fact_mask mask = w->needs;
	struct reply *r = malloc(sizeof *r);
	bool ok;

	if (!ex || !r) {
		free(ex);
		free(r);
		return NULL;
	}
	if (w->end != WALK_UNDECIDED && w->end != WALK_FAILED && l && l->v.action != ACTION_NONE)
		mask |= rule_facts(candidate, l->v.rule_name);
	mask |= rule_facts(old_cfg ? old_cfg : candidate, old_rule);
	walk_facts_at(w, in, f);
	facts_text(mask, f, facts, sizeof facts);
	if (w->end == WALK_UNDECIDED)
		snprintf(reply_text, sizeof reply_text, "undecided: needs %s",
			 example_fact_list(w->needs, f, needs, sizeof needs));
	else if (w->end == WALK_FAILED)
		snprintf(reply_text, sizeof reply_text, "no rule could decide (the daemon answers on_error)");
	else if (l) {
		walk_reply(w, in, l, f, r);
		snprintf(reply_text, sizeof reply_text, "%s", r->line);
	} else {
		reply_text[0] = '\0';
	}
	free(r);
	ok = copy_str(&ex->time, rec->time) && copy_str(&ex->queue_id, rec->queue_id) &&
	     copy_str(&ex->sender, field_text(rec->fact[FID_sender])) &&
	     copy_str(&ex->client, field_text(rec->fact[FID_client_ip])) && copy_str(&ex->facts, facts) &&
	     copy_str(&ex->reply, reply_text);
	if (!ok) {
		rp_example_free(ex);
		return NULL;
	}
	return ex;
}
