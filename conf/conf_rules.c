/*
 * conf_rules.c - recursive-descent parser for rule conditions, actions
 * and replies (grammar in conf_rules.h).
 *
 * Nodes are built bottom-up; on any error the partial tree is freed
 * before returning, so the ruleset only ever holds complete rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_lists.h"
#include "conf/conf_rules.h"
#include "policy/reply.h"
#include "policy/rules_ast.h"

#define MAX_DEPTH 32        /* parentheses and "not"s; deeper is a mistake, not a policy */
#define RULE_NAME_MAX 64

struct parser {
	struct conf_ctx *ctx;
	const struct conf_line *l;
	size_t i;                 /* next token */
	const char *what;         /* "rule NAME" or "default", for messages */
	const char *fact;         /* the fact of the test being parsed, as written (dnsbl.zen) */
	int depth;
};

static const struct {
	const char *name;
	enum action action;
} actions[] = {
	{ "accept", ACTION_ACCEPT }, { "reject", ACTION_REJECT }, { "tempfail", ACTION_TEMPFAIL },
	{ "discard", ACTION_DISCARD }, { "quarantine", ACTION_QUARANTINE },
};
#define ACTION_LIST "accept, reject, tempfail, discard, quarantine"

/* peek - the next token, NULL at the end of the line */
static const struct conf_token *peek(const struct parser *ps)
{
	return ps->i < ps->l->count ? &ps->l->tok[ps->i] : NULL;
}

/* is_word - the token is exactly this bare word */
static bool is_word(const struct conf_token *t, const char *w)
{
	return t && t->type == TOK_WORD && strcmp(t->text, w) == 0;
}

/* line_of - a token's line, or the directive's for "end of line" */
static int line_of(const struct parser *ps, const struct conf_token *t)
{
	return t ? t->line : ps->l->tok[ps->l->count - 1].line;
}

/* unexpected - "rule X: expected ..., got ..." */
static int unexpected(struct parser *ps, const char *expected)
{
	const struct conf_token *t = peek(ps);
	char d[80];

	return conf_error(ps->ctx, NULL, line_of(ps, t), "%s: expected %s, got %s", ps->what,
			  expected, conf_tok_describe(t, d, sizeof(d)));
}

/* action_find - ACTION_NONE when the word is not an action */
static enum action action_find(const struct conf_token *t)
{
	if (!t || t->type != TOK_WORD)
		return ACTION_NONE;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(t->text, actions[i].name) == 0)
			return actions[i].action;
	return ACTION_NONE;
}

/* fact_names - the names of the facts rules can test, for messages */
static const char *fact_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < FACT_COUNT && n < len; i++) {
		char label[64];
		const char *l = facts_label((enum fact_id)i, label, sizeof label);

		if (l && fact_table[i].kind != FACT_KIND_TEXT)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", l);
	}
	return buf;
}

/* value_names - "pass, fail, ..." for an enumerated fact */
static const char *value_names(enum fact_id id, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned v = 1; v < fact_table[id].nvalues && n < len; v++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", v > 1 ? ", " : "", facts_value_name(id, v));
	return buf;
}

/* closest - the candidate nearest a misspelt word (at most 2 edits away), or NULL */
static const char *closest(const char *word, const char *const *cand, size_t n)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (size_t i = 0; i < n; i++) {
		unsigned d = conf_edit_distance(word, cand[i]);

		if (d < bestd) {
			bestd = d;
			best = cand[i];
		}
	}
	return best;
}

/* Every fact name a rule or macro may use now: the table's, and "family.LIST" for each declared list. */
struct fact_names {
	char name[FACT_COUNT][64];
	const char *ptr[FACT_COUNT];
	size_t n;
};

/* known_names - the names into *fn; text facts only when with_text */
static void known_names(const struct config *cfg, bool with_text, struct fact_names *fn)
{
	struct facts probe = { .list_name = cfg->list_name };

	fn->n = 0;
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const char *name = facts_name(&probe, (enum fact_id)i, fn->name[fn->n], sizeof fn->name[0]);

		if (!name || (!with_text && fact_table[i].kind == FACT_KIND_TEXT))
			continue;
		if (name != fn->name[fn->n])
			snprintf(fn->name[fn->n], sizeof fn->name[0], "%s", name);
		fn->ptr[fn->n] = fn->name[fn->n];
		fn->n++;
	}
}

/* closest_fact - the testable fact nearest a misspelt name (declared lists included), or NULL */
static const char *closest_fact(const struct config *cfg, const char *word, struct fact_names *fn)
{
	known_names(cfg, false, fn);
	return closest(word, fn->ptr, fn->n);
}

/* fill_values - the items tok[0..n) of an enum or yes/no test into c->values */
static int fill_values(struct parser *ps, struct cond *c, const struct conf_token *tok, size_t n)
{
	const struct fact_def *fd = &fact_table[c->fact];
	char d[80], names[200];

	for (size_t k = 0; k < n; k++) {
		const struct conf_token *t = &tok[k];
		const char *hint;
		unsigned v;
		int b;

		if (t->type == TOK_COMMA)
			continue;
		if (!conf_tok_is_value(t))
			return conf_error(ps->ctx, NULL, t->line, "%s: unexpected %s in a list", ps->what,
					  conf_tok_describe(t, d, sizeof(d)));
		if (fd->kind == FACT_KIND_BOOL) {
			b = strcmp(t->text, "yes") == 0 ? 1 : strcmp(t->text, "no") == 0 ? 0 : -1;
			if (b < 0)
				return conf_error(ps->ctx, NULL, t->line, "%s: %s is yes or no, got \"%s\"",
						  ps->what, ps->fact, t->text);
			c->values |= 1u << b;
			continue;
		}
		v = facts_value_parse(c->fact, t->text);
		if (v == 0) {
			hint = closest(t->text, fd->values + 1, fd->nvalues - 1);
			if (hint)
				return conf_error(ps->ctx, NULL, t->line, "%s: %s has no value \"%s\" (did you mean %s?)",
						  ps->what, ps->fact, t->text, hint);
			return conf_error(ps->ctx, NULL, t->line, "%s: %s has no value \"%s\" (valid: %s)",
					  ps->what, ps->fact, t->text, value_names(c->fact, names, sizeof(names)));
		}
		c->values |= 1u << v;
	}
	return 0;
}

/* fill_list - items of an address, domain or mailbox test (or a set of them) into c->nets / c->names */
static int fill_list(struct parser *ps, struct cond *c, const struct conf_token *tok, size_t n)
{
	const struct fact_def *fd = &fact_table[c->fact];
	char what[RULE_NAME_MAX + 64];
	struct conf_token *copy = NULL;
	int rc;

	snprintf(what, sizeof(what), "%s: %s", ps->what, ps->fact);
	if (fd->kind == FACT_KIND_ADDRESS || fd->kind == FACT_KIND_ADDRESS_SET)
		return conf_netlist_parse(ps->ctx, what, tok, n, &c->nets);
	if (fd->kind == FACT_KIND_MAILBOX) {
		/* "<>" names the null sender, which the facts hold as "" */
		copy = calloc(n ? n : 1, sizeof(*copy));
		if (!copy)
			return conf_error(ps->ctx, NULL, tok->line, "out of memory");
		for (size_t k = 0; k < n; k++) {
			copy[k] = tok[k];
			if (tok[k].type == TOK_WORD && strcmp(tok[k].text, "<>") == 0)
				copy[k].text = (char *)"";
		}
		tok = copy;
	}
	rc = conf_namelist_parse(ps->ctx, what, tok, n, fd->kind != FACT_KIND_MAILBOX, &c->names);
	free(copy);
	return rc;
}

/*
 * read_operand - after the fact name: "= V", "!= V" or "[not] in {...}".
 * Sets the operand's token range tok[*from .. *from + *n) and whether the
 * test is negated. Returns 0 or -1 (error recorded).
 */
static int read_operand(struct parser *ps, enum fact_id f, size_t *from, size_t *n, bool *negate)
{
	const struct conf_token *op = peek(ps);
	const struct fact_def *fd = &fact_table[f];

	*negate = false;
	if (op && (op->type == TOK_EQ || op->type == TOK_NE)) {
		if (facts_is_set(f))
			return conf_error(ps->ctx, NULL, op->line,
					  "%s: %s is %s; write \"%s in {...}\" (true when any member matches) or \"%s not in {...}\"",
					  ps->what, ps->fact, facts_kind_name(fd->kind), ps->fact, ps->fact);
		*negate = op->type == TOK_NE;
		ps->i++;
		if (!conf_tok_is_value(peek(ps)))
			return unexpected(ps, "a value");
		*from = ps->i++;
		*n = 1;
		return 0;
	}
	if (is_word(op, "not")) {
		*negate = true;
		ps->i++;
	}
	if (!is_word(peek(ps), "in"))
		return unexpected(ps, *negate ? "'in' after 'not'" : "'=', '!=' or 'in'");
	if (fd->kind == FACT_KIND_BOOL)
		return conf_error(ps->ctx, NULL, peek(ps)->line, "%s: %s is yes or no; use = or !=",
				  ps->what, ps->fact);
	ps->i++;
	if (!peek(ps) || peek(ps)->type != TOK_LBRACE)
		return unexpected(ps, "'{' after 'in'");
	*from = ++ps->i;
	while (peek(ps) && peek(ps)->type != TOK_RBRACE)
		ps->i++;
	if (!peek(ps))
		return unexpected(ps, "'}' to close the list");
	*n = ps->i++ - *from;
	if (*n == 0)
		return conf_error(ps->ctx, NULL, ps->l->tok[*from].line, "%s: empty list after 'in'", ps->what);
	return 0;
}

/* fill_test - the operand tokens into the test node, by the fact's kind */
static int fill_test(struct parser *ps, struct cond *c, size_t from, size_t n)
{
	const struct fact_def *fd = &fact_table[c->fact];
	const struct conf_token *tok = &ps->l->tok[from];

	if (fd->kind != FACT_KIND_ENUM && fd->kind != FACT_KIND_BOOL)
		return fill_list(ps, c, tok, n);
	for (size_t k = 0; k < n; k++)
		if (tok[k].type == TOK_WORD && strncmp(tok[k].text, "file:", 5) == 0)
			return conf_error(ps->ctx, NULL, tok[k].line, "%s: %s takes result names, not file: lists",
					  ps->what, ps->fact);
	return fill_values(ps, c, tok, n);
}

/* cond_join - an op node over left (and right); out of memory frees both and is an error */
static struct cond *cond_join(struct parser *ps, enum cond_op op, struct cond *left,
			      struct cond *right, int line)
{
	struct cond *c = cond_new(op);

	if (!c) {
		cond_free(left);
		cond_free(right);
		conf_error(ps->ctx, NULL, line, "out of memory");
		return NULL;
	}
	c->left = left;
	c->right = right;
	return c;
}

/* find_fact - the fact a test names; FACT_COUNT (error recorded) when it names none rules can test */
static enum fact_id find_fact(struct parser *ps, const struct conf_token *t)
{
	struct fact_names fn;
	enum fact_id f = facts_find(t->text, ps->ctx->cfg->list_name);
	const char *hint;
	char names[400];

	if (f != FACT_COUNT && fact_table[f].kind == FACT_KIND_TEXT) {
		conf_error(ps->ctx, NULL, t->line, "%s: %s is %s (for logs and replies); rules cannot test it",
			   ps->what, t->text, facts_kind_name(FACT_KIND_TEXT));
		return FACT_COUNT;
	}
	if (f != FACT_COUNT)
		return f;
	hint = closest_fact(ps->ctx->cfg, t->text, &fn);
	if (hint)
		conf_error(ps->ctx, NULL, t->line, "%s: unknown fact \"%s\" (did you mean %s?)", ps->what,
			   t->text, hint);
	else
		conf_error(ps->ctx, NULL, t->line, "%s: unknown fact \"%s\" (known: %s)", ps->what,
			   t->text, fact_names(names, sizeof(names)));
	return FACT_COUNT;
}

/* parse_test - FACT = VALUE, FACT != VALUE, FACT [not] in {...}, BOOLFACT */
static struct cond *parse_test(struct parser *ps)
{
	const struct conf_token *t = peek(ps), *op;
	struct cond *c;
	bool negate;
	size_t from = 0, n = 0;
	enum fact_id f;

	if (!t || t->type != TOK_WORD) {
		unexpected(ps, "a fact (mx, spf, sender_domain, ...), 'not' or '('");
		return NULL;
	}
	f = find_fact(ps, t);
	if (f == FACT_COUNT)
		return NULL;
	ps->fact = t->text;
	ps->i++;
	c = cond_new(COND_TEST);
	if (!c) {
		conf_error(ps->ctx, NULL, t->line, "out of memory");
		return NULL;
	}
	c->fact = f;
	op = peek(ps);
	if (fact_table[f].kind == FACT_KIND_BOOL && !(op && (op->type == TOK_EQ || op->type == TOK_NE)) &&
	    !is_word(op, "in")) {
		c->values = 2;                   /* bare "trusted" means trusted = yes */
		return c;
	}
	if (read_operand(ps, f, &from, &n, &negate) != 0 || fill_test(ps, c, from, n) != 0) {
		cond_free(c);
		return NULL;
	}
	return negate ? cond_join(ps, COND_NOT, c, NULL, t->line) : c;
}

static struct cond *parse_or(struct parser *ps);

/* parse_unary - not X, ( X ), test */
static struct cond *parse_unary(struct parser *ps)
{
	const struct conf_token *t = peek(ps);
	struct cond *c, *inner;

	if (++ps->depth > MAX_DEPTH) {
		conf_error(ps->ctx, NULL, line_of(ps, t), "%s: condition nested deeper than %d", ps->what, MAX_DEPTH);
		return NULL;
	}
	if (is_word(t, "not")) {
		ps->i++;
		inner = parse_unary(ps);
		if (!inner)
			return NULL;
		c = cond_join(ps, COND_NOT, inner, NULL, t->line);
	} else if (t && t->type == TOK_LPAREN) {
		ps->i++;
		c = parse_or(ps);
		if (!c)
			return NULL;
		if (!peek(ps) || peek(ps)->type != TOK_RPAREN) {
			cond_free(c);
			unexpected(ps, "')'");
			return NULL;
		}
		ps->i++;
	} else {
		c = parse_test(ps);
	}
	ps->depth--;
	return c;
}

/* parse_binary - left-associative chain of op over sub */
static struct cond *parse_binary(struct parser *ps, const char *word, enum cond_op op,
				 struct cond *(*sub)(struct parser *))
{
	struct cond *left = sub(ps);

	while (left && is_word(peek(ps), word)) {
		int line = peek(ps)->line;
		struct cond *right;
		ps->i++;
		right = sub(ps);
		if (!right) {
			cond_free(left);
			return NULL;
		}
		left = cond_join(ps, op, left, right, line);
	}
	return left;
}

/* parse_and - UNARY { and UNARY } */
static struct cond *parse_and(struct parser *ps)
{
	return parse_binary(ps, "and", COND_AND, parse_unary);
}

/* parse_or - AND { or AND } */
static struct cond *parse_or(struct parser *ps)
{
	return parse_binary(ps, "or", COND_OR, parse_and);
}

/*
 * misspelt_macro - a %{name} in text that is no macro but close to one:
 * "unknown macro %{domian} in reply text (did you mean domain?)" into
 * why; false when every macro is known or none is close (then
 * reply_check_template says which and lists them all)
 */
static bool misspelt_macro(const struct config *cfg, const char *text, char *why, size_t len)
{
	struct fact_names fn;
	for (const char *p = text; (p = strstr(p, "%{")) != NULL; p += 2) {
		const char *close = strchr(p + 2, '}'), *m;
		char name[64], label[64], best[64] = "";
		unsigned bestd = 3;
		size_t n;

		if (p > text && p[-1] == '%')
			continue;                    /* "%%{" is a literal */
		if (!close || (n = (size_t)(close - (p + 2))) >= sizeof(name))
			return false;
		memcpy(name, p + 2, n);
		name[n] = '\0';
		bool exact = false;

		known_names(cfg, true, &fn);
		for (size_t i = 0; i < fn.n + 2 && !exact; i++) {
			m = i < 2 ? reply_macro_at(i, label, sizeof label) : fn.ptr[i - 2];   /* domain, rule, the facts */
			unsigned d = conf_edit_distance(name, m);

			exact = d == 0;
			if (d < bestd) {
				bestd = d;
				snprintf(best, sizeof best, "%s", m);
			}
		}
		if (!exact && best[0]) {
			snprintf(why, len, "unknown macro %%{%s} in reply text (did you mean %s?)", name, best);
			return true;
		}
	}
	return false;
}

/* parse_action_tail - ACTION [CODE [XCODE]] ["TEXT"] [dry_run] to the end of the line, into r */
static int parse_action_tail(struct parser *ps, struct rule *r)
{
	const struct conf_token *t = peek(ps);
	const char *code = NULL, *xcode = NULL, *text = NULL;
	char why[1024];

	int line;

	r->action = action_find(t);
	if (r->action == ACTION_NONE)
		return unexpected(ps, r->cond ? "'and', 'or' or an action (" ACTION_LIST ")"
				  : "an action (" ACTION_LIST ")");
	line = t->line;             /* reply problems are reported where the action is */
	ps->i++;
	t = peek(ps);
	if (t && t->type == TOK_WORD && t->text[0] >= '0' && t->text[0] <= '9' && !strchr(t->text, '.')) {
		code = t->text;
		ps->i++;
		t = peek(ps);
	}
	if (t && t->type == TOK_WORD && t->text[0] >= '0' && t->text[0] <= '9') {
		/* without a code this is an error reply_check_template explains */
		xcode = t->text;
		ps->i++;
		t = peek(ps);
	}
	if (t && t->type == TOK_STRING) {
		text = t->text;
		ps->i++;
		t = peek(ps);
	}
	if (is_word(t, "dry_run")) {
		r->dry_run = true;
		ps->i++;
		t = peek(ps);
	}
	if (t)
		return unexpected(ps, t->type == TOK_WORD && !r->dry_run
				  ? "end of line (reply text must be \"quoted\"; options: dry_run)"
				  : "end of line");
	if (reply_check_template(r->action, code, xcode, text, ps->ctx->cfg->list_name, why, sizeof(why)) != 0) {
		if (text)
			misspelt_macro(ps->ctx->cfg, text, why, sizeof(why));
		return conf_error(ps->ctx, NULL, line, "%s: %s", ps->what, why);
	}
	if (code)
		snprintf(r->reply.code, sizeof(r->reply.code), "%s", code);
	if (xcode)
		snprintf(r->reply.xcode, sizeof(r->reply.xcode), "%s", xcode);
	if (text && !(r->reply.text = strdup(text)))
		return conf_error(ps->ctx, NULL, line, "out of memory");
	return 0;
}

/* check_rule_name - syntax and uniqueness */
static int check_rule_name(struct conf_ctx *ctx, const struct conf_token *t)
{
	const struct ruleset *rs = ctx->cfg->rules;
	size_t n = strlen(t->text);

	if (t->type != TOK_WORD || n == 0 || n > RULE_NAME_MAX ||
	    strspn(t->text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n ||
	    t->text[0] == '-' || t->text[0] == '.')
		return conf_error(ctx, NULL, t->line, "rule name must be 1-%d letters, digits, '_', '.' or '-', got \"%.80s\"",
				  RULE_NAME_MAX, t->text);
	if (strcmp(t->text, "default") == 0)
		return conf_error(ctx, NULL, t->line, "\"default\" is reserved; write \"default ACTION\" for the default rule");
	for (size_t i = 0; i < rules_count(rs); i++)
		if (strcmp(rules_at(rs, i)->name, t->text) == 0)
			return conf_error(ctx, NULL, t->line, "rule %s: name already used on line %d",
					  t->text, rules_at(rs, i)->line);
	return 0;
}

/* conf_rule_parse - see conf_rules.h */
int conf_rule_parse(struct conf_ctx *ctx, const struct conf_line *l)
{
	char what[RULE_NAME_MAX + 8];
	struct parser ps = { .ctx = ctx, .l = l, .i = 2, .what = what };
	struct rule r = { 0 };

	if (l->count < 2)
		return conf_error(ctx, NULL, l->line, "rule: missing name (rule NAME CONDITION ACTION ...)");
	if (check_rule_name(ctx, &l->tok[1]) != 0)
		return -1;
	snprintf(what, sizeof(what), "rule %s", l->tok[1].text);
	if (ctx->default_line)
		return conf_error(ctx, NULL, l->line, "%s: comes after \"default\" (line %d), so it could never match",
				  what, ctx->default_line);
	if (action_find(peek(&ps)) != ACTION_NONE || !peek(&ps))
		return conf_error(ctx, NULL, l->line, "%s: missing condition before the action", what);
	r.line = l->line;
	r.cond = parse_or(&ps);
	if (!r.cond || parse_action_tail(&ps, &r) != 0)
		goto fail;
	if (!(r.name = strdup(l->tok[1].text))) {
		conf_error(ctx, NULL, l->line, "out of memory");
		goto fail;
	}
	if (rules_append(ctx->cfg->rules, &r) != 0) {
		conf_error(ctx, NULL, l->line, "out of memory");
		goto fail;
	}
	return 0;
fail:
	rules_rule_clear(&r);
	return -1;
}

/* conf_default_parse - see conf_rules.h */
int conf_default_parse(struct conf_ctx *ctx, const struct conf_line *l)
{
	struct parser ps = { .ctx = ctx, .l = l, .i = 1, .what = "default" };
	struct rule r = { 0 };
	struct rule *d = &ctx->cfg->rules->deflt;

	if (ctx->default_line)
		return conf_error(ctx, NULL, l->line, "default: already set on line %d", ctx->default_line);
	if (parse_action_tail(&ps, &r) != 0) {
		rules_rule_clear(&r);
		return -1;
	}
	d->action = r.action;
	d->reply = r.reply;
	d->dry_run = r.dry_run;
	d->line = l->line;
	ctx->default_line = l->line;
	return 0;
}
