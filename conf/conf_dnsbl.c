/*
 * conf_dnsbl.c - "dnsbl" directives (see conf_dnsbl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_dnsbl.h"
#include "conf/config.h"

/* target_ok - may a list look up this fact? (its kind holds addresses or domains) */
static bool target_ok(enum fact_id id)
{
	switch (id) {
	case FID_client_ip: case FID_helo: case FID_sender_domain: case FID_from_domain:
	case FID_mx_host: case FID_mx_addr: case FID_ns_host: case FID_ns_addr:
		return true;
	default:
		return false;
	}
}

/* name_ok - 1-32 of a-z 0-9 _ - */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n < DNSBL_NAME_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* is_filter - a word that is a return-code filter rather than a target */
static bool is_filter(const char *w)
{
	return strcmp(w, "any") == 0 || (w[0] >= '0' && w[0] <= '9') || w[0] == '[';
}

/* parse_targets - TARGET [, TARGET ...] from tok[i..]; 0 or -1 */
static int parse_targets(struct conf_ctx *ctx, const struct conf_line *l, size_t i, const char *name,
			 fact_mask *targets)
{
	char d[80];

	for (; i < l->count; i++) {
		const struct conf_token *t = &l->tok[i];
		enum fact_id id;

		if (t->type == TOK_COMMA)
			continue;
		id = t->type == TOK_WORD ? facts_find(t->text, NULL) : FACT_COUNT;
		if (id == FACT_COUNT || !target_ok(id))
			return conf_error(ctx, NULL, t->line,
					  "dnsbl %s: %s is not something a list can look up (client_ip, helo, "
					  "sender_domain, from_domain, mx_host, mx_addr, ns_host, ns_addr)",
					  name, conf_tok_describe(t, d, sizeof d));
		*targets |= FBIT_OF(id);
	}
	if (!*targets)
		return conf_error(ctx, NULL, l->line, "dnsbl %s: no target (client_ip, sender_domain, mx_host, ...)",
				  name);
	return 0;
}

/* conf_dnsbl_parse - see conf_dnsbl.h */
int conf_dnsbl_parse(struct conf_ctx *ctx, const struct conf_line *l)
{
	struct config *c = ctx->cfg;
	struct config_dnsbl *b;
	const char *name, *zone, *filter = NULL;
	char why[256];
	size_t i = 3;

	if (l->count < 4 || l->tok[1].type != TOK_WORD || l->tok[2].type != TOK_WORD)
		return conf_error(ctx, NULL, l->line, "dnsbl: expected dnsbl NAME ZONE [FILTER] TARGET, ...");
	name = l->tok[1].text;
	zone = l->tok[2].text;
	if (!name_ok(name))
		return conf_error(ctx, NULL, l->line, "dnsbl: the name must be 1-%d of a-z 0-9 _ -, got \"%.40s\"",
				  DNSBL_NAME_MAX - 1, name);
	for (unsigned k = 0; k < c->ndnsbl; k++)
		if (strcmp(c->dnsbl[k].spec.name, name) == 0)
			return conf_error(ctx, NULL, l->line, "dnsbl %s: already declared on line %d", name,
					  c->dnsbl[k].line);
	if (c->ndnsbl == FACT_LISTS_MAX)
		return conf_error(ctx, NULL, l->line, "dnsbl %s: at most %d lists", name, FACT_LISTS_MAX);
	if (l->tok[3].type == TOK_WORD && is_filter(l->tok[3].text))
		filter = l->tok[i++].text;
	if (!c->dnsbl && !(c->dnsbl = calloc(FACT_LISTS_MAX, sizeof *c->dnsbl)))
		return conf_error(ctx, NULL, l->line, "out of memory");
	b = &c->dnsbl[c->ndnsbl];
	memset(b, 0, sizeof *b);
	if (dnsbl_spec_init(&b->spec, name, zone, filter, NULL, why, sizeof why) != 0) {
		char prefix[DNSBL_NAME_MAX + 8];
		size_t n = (size_t)snprintf(prefix, sizeof prefix, "list %s: ", name);

		/* dnsbl_spec_init names the list itself; say it once */
		return conf_error(ctx, NULL, l->line, "dnsbl %s: %s", name,
				  strncmp(why, prefix, n) == 0 ? why + n : why);
	}
	if (parse_targets(ctx, l, i, name, &b->targets) != 0)
		return -1;
	b->line = l->line;
	c->list_name[c->ndnsbl++] = b->spec.name;
	return 0;
}
