/*
 * checks_mx.c - the mx, mx_host and mx_addr rows of the check table:
 * adapt policy/mx.h. The mx row decides at the first usable exchange;
 * the mx_host row is done at the MX answer; the mx_addr row runs the same
 * check until every address is in. Each starts only when its facts are
 * needed; the resolver asks their shared queries once per message.
 *
 * State: one heap struct mx_check per message, owned by the
 * orchestrator's slot and freed by mx_release (after mx_check_release,
 * so a late answer never touches freed memory).
 */
#include <stdio.h>
#include <stdlib.h>

#include "conf/config.h"
#include "policy/checks_row.h"
#include "policy/mx.h"

/* start_common - the null sender, literals and bad domains finish at once, without DNS */
static int start_common(struct checks *ck, void **state, bool all_addresses, bool hosts_only)
{
	struct mx_options opt = {
		.bogus = ck->cfg->bogus_networks,
		.max_targets = ck->cfg->max_mx_targets,
		.all_addresses = !hosts_only && (all_addresses || ck->explain),
		.hosts_only = hosts_only,
	};
	struct mx_check *c;

	if (!ck->res && ck->sender.cls == ADDR_NORMAL) {
		checks_fail(ck, "no DNS resolver for the MX check");
		return -1;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		checks_fail(ck, "out of memory starting the MX check");
		return -1;
	}
	mx_check_for_sender(c, ck->res, &ck->sender, &opt);
	*state = c;
	return 0;
}

/* mx_start - decides at the first usable exchange */
static int mx_start(struct checks *ck, void **state)
{
	return start_common(ck, state, false, false);
}

/*
 * mx_addr_start - the same lookups (the resolver asks each only once per
 * message, so with the mx row running too this costs no DNS), waiting
 * for every address
 */
static int mx_addr_start(struct checks *ck, void **state)
{
	return start_common(ck, state, true, false);
}

/*
 * mx_host_start - the MX query alone (shared with the other rows): the
 * exchanges are known at its answer, so a blocklist on mx_host asks
 * without waiting for their addresses
 */
static int mx_host_start(struct checks *ck, void **state)
{
	return start_common(ck, state, false, true);
}

/* mx_done - finished? */
static bool mx_done(const void *state)
{
	return mx_check_done((void *)state);
}

/* mx_finish - the result, or temperror when it can make no more progress */
static void mx_finish(void *state, struct facts *f)
{
	struct mx_check *c = state;

	if (mx_check_done(c)) {
		mx_check_facts(c, f);
		return;
	}
	f->mx = MX_TEMPERROR;
	snprintf(f->mx_detail, sizeof f->mx_detail, "no DNS answer in time");
}

/* mx_host_finish - the exchanges; partial when the MX answer did not come */
static void mx_host_finish(void *state, struct facts *f)
{
	mx_check_hosts(state, &f->mx_host);
}

/* mx_addr_finish - every address; partial (rules on it stay undecided) when some never came */
static void mx_addr_finish(void *state, struct facts *f)
{
	mx_check_addrs(state, &f->mx_addr);
}

/* mx_explain - the MX records and their addresses, for `mxguard check` */
static void mx_explain(const void *state, char *buf, size_t len)
{
	mx_check_explain(state, buf, len);
}

/* mx_authres - the MX class as a comment after the authserv-id */
static void mx_authres(const void *state, const struct facts *f, struct authres_hdr *ar)
{
	(void)state;
	authres_mx(ar, f);
}

/* mx_release - detach lookups, then free */
static void mx_release(void *state)
{
	mx_check_release(state);
	free(state);
}

const struct check_row check_row_mx = {
	.name = "mx",
	.facts = FBIT(mx) | FBIT(mx_detail),
	.stage = CHECK_STAGE_MAIL,
	.start = mx_start,
	.done = mx_done,
	.finish = mx_finish,
	.release = mx_release,
	.authres = mx_authres,
	.explain = mx_explain,
};

const struct check_row check_row_mx_addr = {
	.name = "mx_addr",
	.facts = FBIT(mx_addr),
	.stage = CHECK_STAGE_MAIL,
	.start = mx_addr_start,
	.done = mx_done,
	.finish = mx_addr_finish,
	.release = mx_release,
};

const struct check_row check_row_mx_host = {
	.name = "mx_host",
	.facts = FBIT(mx_host),
	.stage = CHECK_STAGE_MAIL,
	.start = mx_host_start,
	.done = mx_done,
	.finish = mx_host_finish,
	.release = mx_release,
};
