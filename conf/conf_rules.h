/*
 * conf_rules.h - parse "rule" and "default" directives into the
 * config's ruleset (policy/rules_ast.h).
 *
 *   rule NAME CONDITION ACTION [CODE [XCODE]] ["TEXT"] [dry_run]
 *   default ACTION [CODE [XCODE]] ["TEXT"] [dry_run]
 *
 *   CONDITION := OR
 *   OR        := AND { "or" AND }
 *   AND       := UNARY { "and" UNARY }
 *   UNARY     := "not" UNARY | "(" OR ")" | TEST
 *   TEST      := FACT ("=" | "!=") VALUE
 *              | FACT ["not"] "in" "{" VALUE { [","] VALUE } "}"
 *              | BOOLFACT                      (short for BOOLFACT = yes)
 *   ACTION    := accept | reject | tempfail | discard | quarantine
 *
 * Facts: mx, spf, helo_spf, dkim (their result names), dkim_aligned,
 * trusted, authenticated (yes/no), client_ip (CIDR items), sender
 * (addresses; <> is the null sender), sender_domain, from_domain, helo,
 * rcpt_domain (domains, "*.example.com" for subdomains). Name and
 * network items may be "file:PATH".
 */
#ifndef MXGUARD_CONF_RULES_H
#define MXGUARD_CONF_RULES_H

#include "conf/conf_ctx.h"
#include "conf/conf_lex.h"

/* conf_rule_parse - one "rule" line, appended to ctx->cfg->rules. 0 or -1 (error in ctx). */
int conf_rule_parse(struct conf_ctx *, const struct conf_line *);

/* conf_default_parse - the "default" line (at most one). 0 or -1. */
int conf_default_parse(struct conf_ctx *, const struct conf_line *);

#endif
