/*
 * rules_ast.c - building and freeing rulesets.
 * The ruleset owns everything reachable from it; see rules_ast.h.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/netlist.h"
#include "policy/rules_ast.h"
#include "policy/rules_namelist.h"

/* cond_new - see rules_ast.h */
struct cond *cond_new(enum cond_op op)
{
	struct cond *c = calloc(1, sizeof(*c));

	if (c)
		c->op = op;
	return c;
}

/* cond_free - see rules_ast.h */
void cond_free(struct cond *c)
{
	if (!c)
		return;
	cond_free(c->left);
	cond_free(c->right);
	netlist_free(c->nets);
	namelist_free(c->names);
	free(c);
}

/* rules_rule_clear - see rules_ast.h */
void rules_rule_clear(struct rule *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->reply.text);
	cond_free(r->cond);
	memset(r, 0, sizeof(*r));
}

/* rules_new - see rules_ast.h */
struct ruleset *rules_new(void)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->deflt.name = strdup("default");
	if (!rs->deflt.name) {
		free(rs);
		return NULL;
	}
	rs->deflt.action = ACTION_ACCEPT;
	return rs;
}

/* rules_append - see rules_ast.h */
int rules_append(struct ruleset *rs, struct rule *r)
{
	if (rs->count == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct rule *n = realloc(rs->rules, cap * sizeof(*n));
		if (!n)
			return -1;
		rs->rules = n;
		rs->cap = cap;
	}
	rs->rules[rs->count++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

/* rules_count - see rules_ast.h */
size_t rules_count(const struct ruleset *rs)
{
	return rs ? rs->count : 0;
}

/* rules_at - see rules_ast.h */
const struct rule *rules_at(const struct ruleset *rs, size_t i)
{
	return i < rs->count ? &rs->rules[i] : &rs->deflt;
}

/* rules_free - see rules.h */
void rules_free(struct ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->count; i++)
		rules_rule_clear(&rs->rules[i]);
	free(rs->rules);
	rules_rule_clear(&rs->deflt);
	free(rs);
}
