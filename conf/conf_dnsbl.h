/*
 * conf_dnsbl.h - parse "dnsbl" directives: the DNS blocklists rules can
 * test as facts dnsbl.NAME (policy/dnsbl.h does the DNS work).
 *
 *   dnsbl NAME ZONE [FILTER] TARGET [, TARGET ...]
 *
 *   NAME    1-32 of a-z 0-9 _ -, unique: the fact is dnsbl.NAME, and the
 *           name (never the zone, which may hold a DQS key) is what
 *           details and replies show
 *   ZONE    the list's DNS zone
 *   FILTER  the return codes that count as listed, Postfix style:
 *           127.0.0.[2..11], 127.0.1.[2;3], several separated by ';', or
 *           "any"; default 127.0.0.2 (RFC 5782)
 *   TARGET  what is looked up: client_ip, helo, sender_domain,
 *           from_domain, mx_host, mx_addr, ns_host, ns_addr
 *
 * At most FACT_LISTS_MAX lists. A list must be declared before a rule
 * names it.
 */
#ifndef MXGUARD_CONF_DNSBL_H
#define MXGUARD_CONF_DNSBL_H

#include "conf/conf_ctx.h"
#include "conf/conf_lex.h"

/* conf_dnsbl_parse - one "dnsbl" line into ctx->cfg->dnsbl. 0 or -1 (error in ctx). */
int conf_dnsbl_parse(struct conf_ctx *, const struct conf_line *);

#endif
