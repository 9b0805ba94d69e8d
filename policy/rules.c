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

/* eval_test - one "field matches values" leaf */
static enum tv eval_test(const struct cond *c, const struct facts *f)
{
	const struct rules_field_info *fi = &rules_fields[c->field];

	if (!(f->known & fi->fact_bit))
		return TV_UNKNOWN;
	switch (c->field) {
	case RF_MX:            return test_enum(c->values, f->mx);
	case RF_SPF:           return test_enum(c->values, f->spf);
	case RF_HELO_SPF:      return test_enum(c->values, f->helo_spf);
	case RF_DKIM:          return test_enum(c->values, f->dkim);
	case RF_DKIM_ALIGNED:  return tv_of(c->values & (f->dkim_aligned ? 2u : 1u));
	case RF_TRUSTED:       return tv_of(c->values & (f->trusted ? 2u : 1u));
	case RF_AUTHENTICATED: return tv_of(c->values & (f->authenticated ? 2u : 1u));
	case RF_CLIENT_IP:
		return tv_of(netlist_contains(c->nets, (const struct sockaddr *)&f->client_addr));
	case RF_SENDER:        return tv_of(namelist_match(c->names, f->sender));
	case RF_SENDER_DOMAIN: return tv_of(namelist_match(c->names, f->sender_domain));
	case RF_FROM_DOMAIN:   return tv_of(namelist_match(c->names, f->from_domain));
	case RF_HELO:          return tv_of(namelist_match(c->names, f->helo));
	case RF_RCPT_DOMAIN:   return tv_of(namelist_match(c->names, f->rcpt_domain));
	case RF_COUNT:         break;
	}
	return TV_UNKNOWN;
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
static unsigned cond_needed(const struct cond *c, const struct facts *f)
{
	if (eval_cond(c, f) != TV_UNKNOWN)
		return 0;
	switch (c->op) {
	case COND_TEST:
		return rules_fields[c->field].fact_bit & ~f->known;
	case COND_NOT:
		return cond_needed(c->left, f);
	case COND_AND:
	case COND_OR:
		return cond_needed(c->left, f) | cond_needed(c->right, f);
	}
	return 0;
}

/* rules_needed_facts - see rules.h */
unsigned rules_needed_facts(const struct ruleset *rs, const struct facts *f)
{
	unsigned need = 0;

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
