/*
 * checks_dnssec.c - the mx_dnssec row of the check table: adapts
 * policy/dnssec.h.
 *
 * Whether AD is trusted is decided per message from the configuration
 * snapshot (dns_servers, dns_trust_ad): every server loopback, or the
 * setting. When it is not, the check finishes at once as unverified and
 * asks nothing.
 *
 * No part of Authentication-Results: RFC 8601 results name a registered
 * authentication method, and there is none for "the sender domain's MX
 * data validated"; it is not an authentication of the message either. The
 * fact is in the decision log, `mxguard check` and rules.
 *
 * State: one heap struct dnssec_check per message, owned by the
 * orchestrator's slot and freed by dnssec_release (after
 * dnssec_check_abandon, so a late answer never touches freed memory).
 */
#include <stdio.h>
#include <stdlib.h>

#include "conf/config.h"
#include "policy/checks_row.h"
#include "policy/dnssec.h"

/* dnssec_start - trust first; the null sender, literals and bad domains are skipped without DNS */
static int dnssec_start(struct checks *ck, void **state)
{
	char why[FACT_DETAIL_MAX - 32];
	struct dnssec_options opt = { .max_targets = ck->cfg->max_mx_targets };
	struct dnssec_check *c;

	if (!dnssec_ad_trusted(ck->cfg->dns_servers, ck->cfg->dns_trust_ad, why, sizeof why))
		opt.untrusted = why;
	if (!ck->res && ck->sender.cls == ADDR_NORMAL && !opt.untrusted) {
		checks_fail(ck, "no DNS resolver for the DNSSEC check");
		return -1;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		checks_fail(ck, "out of memory starting the DNSSEC check");
		return -1;
	}
	dnssec_check_for_sender(c, ck->res, &ck->sender, &opt);
	*state = c;
	return 0;
}

/* dnssec_done - finished? */
static bool dnssec_done(const void *state)
{
	return dnssec_check_done((void *)state);
}

/* dnssec_finish - the result, or unverified (this fact's temperror) when it can make no more progress */
static void dnssec_finish(void *state, struct facts *f)
{
	struct dnssec_check *c = state;

	if (dnssec_check_done(c)) {
		dnssec_check_facts(c, f);
		return;
	}
	f->mx_dnssec = MXD_UNVERIFIED;
	snprintf(f->mx_dnssec_detail, sizeof f->mx_dnssec_detail, "no DNS answer in time");
}

/* dnssec_release - detach lookups, then free */
static void dnssec_release(void *state)
{
	dnssec_check_abandon(state);
	free(state);
}

const struct check_row check_row_dnssec = {
	.name = "dnssec",
	.facts = FBIT(mx_dnssec) | FBIT(mx_dnssec_detail),
	.stage = CHECK_STAGE_MAIL,
	.start = dnssec_start,
	.done = dnssec_done,
	.finish = dnssec_finish,
	.release = dnssec_release,
};
