/*
 * rules_ast.h - private shape of a ruleset, shared by the rule parser
 * (conf/conf_rules.c) and the evaluator (policy/rules.c). Nobody else
 * should include it: the public contract is policy/rules.h.
 *
 * Ownership is a plain tree: a ruleset owns its rules; a rule owns its
 * name, its reply text and its condition; a condition node owns its
 * children and its lists (netlist, namelist). rules_free() (rules.c)
 * frees all of it.
 *
 * A test names a fact (policy/facts.def); the fact's kind says how it
 * matches: enumerated and yes/no facts by a set of values, addresses by
 * a netlist, domains and mailboxes by a namelist, sets when any member
 * matches.
 */
#ifndef MXGUARD_RULES_AST_H
#define MXGUARD_RULES_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/rules.h"

struct netlist;
struct namelist;

enum cond_op { COND_TEST, COND_NOT, COND_AND, COND_OR };

struct cond {
	enum cond_op op;
	struct cond *left;         /* NOT, AND, OR */
	struct cond *right;        /* AND, OR */

	/* COND_TEST: "field matches one of these" */
	enum fact_id fact;
	unsigned values;           /* enum: bit (1u << value); yes/no: bit 1 = yes, bit 0 = no */
	struct netlist *nets;      /* address, set of addresses */
	struct namelist *names;    /* domain, mailbox, set of domains */
};

struct rule {
	char *name;
	struct cond *cond;         /* never NULL for a rule; NULL for the default */
	enum action action;
	struct reply_template reply;
	bool dry_run;
	int line;                  /* where it was defined, for messages */
};

struct ruleset {
	struct rule *rules;
	size_t count, cap;
	struct rule deflt;         /* name "default", cond NULL */
};

/* rules_new - an empty ruleset whose default is plain accept; NULL when out of memory. */
struct ruleset *rules_new(void);

/*
 * rules_append - move *r into the ruleset (the ruleset now owns its
 * name, text and cond, and *r is zeroed). Returns 0, -1 when out of
 * memory (then *r is left untouched for the caller to free).
 */
int rules_append(struct ruleset *, struct rule *r);

/* rules_rule_clear - free what a rule owns (not the struct itself) and zero it. */
void rules_rule_clear(struct rule *);

/* cond_new - a zeroed node of this op; NULL when out of memory. */
struct cond *cond_new(enum cond_op op);
/* cond_free - the node, its children and its lists. NULL is fine. */
void cond_free(struct cond *);

/* rules_count - number of rules, not counting the default. */
size_t rules_count(const struct ruleset *);
/* rules_at - the i-th rule (i < rules_count), or the default when i == rules_count. */
const struct rule *rules_at(const struct ruleset *, size_t i);

#endif
