/*
 * rules.c - three-valued evaluation of the operator's rules.
 *
 * Pure: reads a ruleset and a struct facts, writes a struct verdict that
 * points into the ruleset. No I/O, no allocation, no logging.
 *
 * Kleene logic: a test whose fact is not known yet is UNKNOWN;
 *   false and unknown = false, true or unknown = true, not unknown = unknown.
 * The first rule that is TRUE decides, provided every rule before it is
 * FALSE; an UNKNOWN rule before it means "wait for the next stage".
 */
#include <stddef.h>

#include "policy/netlist.h"
#include "policy/rules.h"
#include "policy/rules_ast.h"
#include "policy/rules_namelist.h"

enum tv { TV_FALSE, TV_TRUE, TV_UNKNOWN };

static const char *const action_names[] = {
	[ACTION_NONE] = "none", [ACTION_ACCEPT] = "accept", [ACTION_REJECT] = "reject",
	[ACTION_TEMPFAIL] = "tempfail", [ACTION_DISCARD] = "discard",
	[ACTION_QUARANTINE] = "quarantine",
};

/* action_name - see rules.h */
const char *action_name(enum action a)
{
	if ((unsigned)a < sizeof(action_names) / sizeof(action_names[0]))
		return action_names[a];
	return "none";
}

/* verdict_delivers - see rules.h */
bool verdict_delivers(const struct verdict *v)
{
	return v->dry_run || v->action == ACTION_ACCEPT || v->action == ACTION_QUARANTINE;
}

/* verdict_refuses - see rules.h */
bool verdict_refuses(const struct verdict *v)
{
	return !v->dry_run && (v->action == ACTION_REJECT || v->action == ACTION_TEMPFAIL);
}

/* tv_of - bool to truth value */
static enum tv tv_of(bool b)
{
	return b ? TV_TRUE : TV_FALSE;
}

/* test_enum - is value one of the set? value 0 means the check has not filled it in: unknown */
static enum tv test_enum(unsigned set, unsigned value)
{
	if (value == 0 || value >= 32)
		return TV_UNKNOWN;
	return tv_of(set & (1u << value));
}

/* test_member - does member i of fact id (its value, for a scalar) match the test? */
static bool test_member(const struct cond *c, const struct facts *f, unsigned i)
{
	const struct fact_def *d = &fact_table[c->fact];
	const char *p = facts_field(f, c->fact);

	switch (d->kind) {
	case FACT_KIND_BOOL:
		return c->values & (*(const bool *)p ? 2u : 1u);
	case FACT_KIND_ADDRESS:
		return netlist_contains(c->nets, (const struct sockaddr *)&((const struct fact_address *)p)->sa);
	case FACT_KIND_ADDRESS_SET:
		return netlist_contains(c->nets, &((const struct fact_address_set *)p)->addr[i].sa);
	case FACT_KIND_DOMAIN:
	case FACT_KIND_MAILBOX:
		return namelist_match(c->names, p);
	case FACT_KIND_DOMAIN_SET:
		return namelist_match(c->names, facts_set_name((const struct fact_domain_set *)p, i));
	case FACT_KIND_ENUM:
	case FACT_KIND_TEXT:
		break;
	}
	return false;
}

/*
 * eval_test - one "fact matches" leaf. A set matches when any member
 * does; when none does but members may be missing (partial), it is
 * unknown: a member we could not see might have matched.
 */
static enum tv eval_test(const struct cond *c, const struct facts *f)
{
	unsigned n;

	if (!facts_known(f, c->fact))
		return TV_UNKNOWN;
	if (fact_table[c->fact].kind == FACT_KIND_ENUM)
		return test_enum(c->values, facts_enum(f, c->fact));
	n = facts_set_count(f, c->fact);
	for (unsigned i = 0; i < n; i++)
		if (test_member(c, f, i))
			return TV_TRUE;
	return facts_set_partial(f, c->fact) ? TV_UNKNOWN : TV_FALSE;
}

/* eval_cond - Kleene evaluation of a condition tree */
static enum tv eval_cond(const struct cond *c, const struct facts *f)
{
	enum tv l, r;

	switch (c->op) {
	case COND_TEST:
		return eval_test(c, f);
	case COND_NOT:
		l = eval_cond(c->left, f);
		return l == TV_UNKNOWN ? TV_UNKNOWN : tv_of(l == TV_FALSE);
	case COND_AND:
		l = eval_cond(c->left, f);
		if (l == TV_FALSE)
			return TV_FALSE;
		r = eval_cond(c->right, f);
		if (r == TV_FALSE)
			return TV_FALSE;
		return l == TV_TRUE && r == TV_TRUE ? TV_TRUE : TV_UNKNOWN;
	case COND_OR:
		l = eval_cond(c->left, f);
		if (l == TV_TRUE)
			return TV_TRUE;
		r = eval_cond(c->right, f);
		if (r == TV_TRUE)
			return TV_TRUE;
		return l == TV_FALSE && r == TV_FALSE ? TV_FALSE : TV_UNKNOWN;
	}
	return TV_UNKNOWN;
}

/* fill_verdict - the rule decides */
static void fill_verdict(const struct rule *r, struct verdict *v)
{
	v->action = r->action;
	v->rule_name = r->name;
	v->reply = &r->reply;
	v->dry_run = r->dry_run;
}

/* rules_eval - see rules.h */
bool rules_eval(const struct ruleset *rs, const struct facts *f, struct verdict *v)
{
	v->action = ACTION_NONE;
	v->rule_name = NULL;
	v->reply = NULL;
	v->dry_run = false;
	if (!rs)
		return false;
	for (size_t i = 0; i < rs->count; i++) {
		switch (eval_cond(rs->rules[i].cond, f)) {
		case TV_FALSE:
			continue;
		case TV_TRUE:
			fill_verdict(&rs->rules[i], v);
			return true;
		case TV_UNKNOWN:
			return false;
		}
	}
	fill_verdict(&rs->deflt, v);
	return true;
}

/* cond_needed - fact bits whose arrival could change an UNKNOWN (sub)condition */
static fact_mask cond_needed(const struct cond *c, const struct facts *f)
{
	if (eval_cond(c, f) != TV_UNKNOWN)
		return 0;
	switch (c->op) {
	case COND_TEST:
		return ((fact_mask)1 << c->fact) & ~f->known;
	case COND_NOT:
		return cond_needed(c->left, f);
	case COND_AND:
	case COND_OR:
		return cond_needed(c->left, f) | cond_needed(c->right, f);
	}
	return 0;
}

/* rules_needed_facts - see rules.h */
fact_mask rules_needed_facts(const struct ruleset *rs, const struct facts *f)
{
	fact_mask need = 0;

	if (!rs)
		return 0;
	for (size_t i = 0; i < rs->count; i++) {
		enum tv t = eval_cond(rs->rules[i].cond, f);
		if (t == TV_TRUE)
			break;
		if (t == TV_UNKNOWN)
			need |= cond_needed(rs->rules[i].cond, f);
	}
	return need;
}
