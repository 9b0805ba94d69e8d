/*
 * checks_dnsbl.c - the dnsbl rows of the check table: one per list the
 * configuration may declare (FACT_LISTS_MAX), adapting policy/dnsbl.h.
 *
 * Row i writes dnsbl.LIST and dnsbl_detail.LIST of the configuration's
 * i-th list. Its inputs are the list's targets (client_ip, mx_host, ...):
 * the orchestrator starts the checks that make them when the row's facts
 * are needed, and the row itself once they are all known, so a list on
 * mx_host asks as soon as the MX answer is in. A target set that DNS
 * errors left partial makes the list's value never "clean".
 *
 * State: one heap struct dnsbl_row per message and list, freed by
 * dnsbl_release after the check's lookups are detached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "policy/checks_row.h"
#include "policy/dnsbl.h"

struct dnsbl_row {
	unsigned list;                  /* index into cfg->dnsbl */
	struct dnsbl_check check;
};

/* dnsbl_inputs - the facts list i looks up (none for a list not declared) */
static fact_mask dnsbl_inputs(const struct config *cfg, unsigned i)
{
	return i < cfg->ndnsbl ? cfg->dnsbl[i].targets : 0;
}

/* add_target - every value of fact id (a scalar, or each member of a set) as a target */
static void add_target(struct dnsbl_check *c, const struct facts *f, enum fact_id id)
{
	switch (id) {
	case FID_client_ip:
		(void)dnsbl_check_add_sockaddr(c, (const struct sockaddr *)&f->client_ip.sa);
		break;
	case FID_helo: case FID_sender_domain: case FID_from_domain:
		(void)dnsbl_check_add_domain(c, facts_field(f, id));
		break;
	case FID_mx_host: case FID_ns_host:
		dnsbl_check_add_domains(c, facts_field(f, id));
		break;
	case FID_mx_addr: case FID_ns_addr:
		dnsbl_check_add_addrs(c, facts_field(f, id));
		break;
	default:
		break;
	}
}

/* dnsbl_start - the list's queries, all at once (its inputs are known: the orchestrator waited) */
static int dnsbl_start(struct checks *ck, void **state, unsigned i)
{
	const struct config_dnsbl *b = &ck->cfg->dnsbl[i];
	struct dnsbl_row *r;

	if (!ck->res) {
		checks_fail(ck, "no DNS resolver for the DNS blocklists");
		return -1;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		checks_fail(ck, "out of memory starting a DNS blocklist check");
		return -1;
	}
	r->list = i;
	dnsbl_check_init(&r->check, ck->res, &b->spec);
	for (unsigned id = 0; id < FACT_COUNT; id++)
		if (b->targets & FBIT_OF(id))
			add_target(&r->check, &ck->facts, (enum fact_id)id);
	dnsbl_check_start(&r->check);
	*state = r;
	return 0;
}

/* dnsbl_done - finished? */
static bool dnsbl_done(const void *state)
{
	return dnsbl_check_done((void *)&((const struct dnsbl_row *)state)->check);
}

/* dnsbl_finish - the value and its detail; temperror when the answers did not come in time */
static void dnsbl_finish(void *state, struct facts *f)
{
	struct dnsbl_row *r = state;

	if (!dnsbl_check_done(&r->check))
		dnsbl_check_abandon(&r->check);   /* what is still out is a temperror */
	f->dnsbl[r->list] = dnsbl_check_result(&r->check);
	memcpy(f->dnsbl_detail[r->list], r->check.detail, sizeof f->dnsbl_detail[r->list]);
}

/* dnsbl_release - detach lookups, then free */
static void dnsbl_release(void *state)
{
	struct dnsbl_row *r = state;

	dnsbl_check_abandon(&r->check);
	free(r);
}

#define DNSBL_ROW(i) \
	static int dnsbl_start_##i(struct checks *ck, void **state) { return dnsbl_start(ck, state, i); } \
	static fact_mask dnsbl_inputs_##i(const struct config *cfg) { return dnsbl_inputs(cfg, i); } \
	const struct check_row check_row_dnsbl_##i = { \
		.name = "dnsbl", \
		.facts = FBIT_OF(FID_dnsbl + i) | FBIT_OF(FID_dnsbl_detail + i), \
		.stage = CHECK_STAGE_MAIL, \
		.inputs = dnsbl_inputs_##i, \
		.start = dnsbl_start_##i, \
		.done = dnsbl_done, \
		.finish = dnsbl_finish, \
		.release = dnsbl_release, \
	};

DNSBL_ROW(0)
DNSBL_ROW(1)
DNSBL_ROW(2)
DNSBL_ROW(3)
DNSBL_ROW(4)
DNSBL_ROW(5)
DNSBL_ROW(6)
DNSBL_ROW(7)
_Static_assert(FACT_LISTS_MAX == 8, "one DNSBL_ROW line per list");
