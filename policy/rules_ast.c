/*
 * rules_ast.c - the condition field table and building/freeing of rulesets.
 * The ruleset owns everything reachable from it; see rules_ast.h.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/netlist.h"
#include "policy/rules_ast.h"
#include "policy/rules_namelist.h"

/* One line per field: config name, the fact bit that makes it known, value kind. */
const struct rules_field_info rules_fields[RF_COUNT] = {
	[RF_MX]            = { "mx",            FACT_MX,       RV_MX },
	[RF_SPF]           = { "spf",           FACT_SPF,      RV_SPF },
	[RF_HELO_SPF]      = { "helo_spf",      FACT_HELO_SPF, RV_SPF },
	[RF_DKIM]          = { "dkim",          FACT_DKIM,     RV_DKIM },
	[RF_DKIM_ALIGNED]  = { "dkim_aligned",  FACT_DKIM,     RV_BOOL },
	[RF_TRUSTED]       = { "trusted",       FACT_CLIENT,   RV_BOOL },
	[RF_AUTHENTICATED] = { "authenticated", FACT_SENDER,   RV_BOOL },
	[RF_CLIENT_IP]     = { "client_ip",     FACT_CLIENT,   RV_NET },
	[RF_SENDER]        = { "sender",        FACT_SENDER,   RV_ADDRESS },
	[RF_SENDER_DOMAIN] = { "sender_domain", FACT_SENDER,   RV_DOMAIN },
	[RF_FROM_DOMAIN]   = { "from_domain",   FACT_FROM,     RV_DOMAIN },
	[RF_HELO]          = { "helo",          FACT_HELO,     RV_DOMAIN },
	[RF_RCPT_DOMAIN]   = { "rcpt_domain",   FACT_RCPT,     RV_DOMAIN },
};

/* rules_field_find - see rules_ast.h */
enum rules_field rules_field_find(const char *name)
{
	for (unsigned i = 0; i < RF_COUNT; i++)
		if (strcmp(rules_fields[i].name, name) == 0)
			return (enum rules_field)i;
	return RF_COUNT;
}

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
