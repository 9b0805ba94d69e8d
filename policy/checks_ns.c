/*
 * checks_ns.c - the ns and ns_addr rows of the check table: adapt
 * policy/ns.h.
 *
 * Two rows, so that each fact costs only its own lookups: the orchestrator
 * starts a row only when a rule that can still decide needs one of its
 * facts.
 *   ns       ns, ns_detail, ns_host: the NS walk (at most NS_WALK_MAX
 *            queries), no address lookups.
 *   ns_addr  ns_addr, ns_addr_result: the same walk again, then A and
 *            AAAA of the name servers. When both rows run, the walk's
 *            queries go out once: the resolver asks identical queries of
 *            a message once (policy/resolver_share.c).
 * Each row has its own enumerated companion (ns, ns_addr_result) that says
 * temperror when its set cannot be trusted; an address lookup that failed
 * is reported by ns_addr_result, which only the ns_addr row can know.
 *
 * State: one heap struct ns_check per row and message, owned by the
 * orchestrator's slot and freed by ns_release (after ns_check_abandon, so
 * a late answer never touches freed memory). The Public Suffix List that
 * bounds the walk is process-wide: loaded once by the ns row's lib_init,
 * only read afterwards, shared by both rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "policy/checks_row.h"
#include "policy/ns.h"
#include "policy/orgdomain.h"

static struct orgdomain *psl;

/* ns_lib_init - the Public Suffix List, once per process */
static int ns_lib_init(char *err, size_t errlen)
{
	char why[256] = "";

	psl = orgdomain_load(NULL, why, sizeof why);
	if (psl)
		return 0;
	snprintf(err, errlen, "cannot set up the NS check: %s", why);
	return -1;
}

/* ns_lib_free - at exit */
static void ns_lib_free(void)
{
	orgdomain_free(psl);
	psl = NULL;
}

/* start - one check for the sender; addrs: also the name servers' addresses */
static int start(struct checks *ck, void **state, bool addrs)
{
	struct ns_options opt = { .od = psl, .addrs = addrs };
	struct ns_check *c;

	if (!ck->res && ck->sender.cls == ADDR_NORMAL) {
		checks_fail(ck, "no DNS resolver for the NS check");
		return -1;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		checks_fail(ck, "out of memory starting the NS check");
		return -1;
	}
	ns_check_for_sender(c, ck->res, &ck->sender, &opt);
	*state = c;
	return 0;
}

/* ns_start - the walk only */
static int ns_start(struct checks *ck, void **state)
{
	return start(ck, state, false);
}

/* ns_addr_start - the walk, then the addresses */
static int ns_addr_start(struct checks *ck, void **state)
{
	return start(ck, state, true);
}

/* ns_done - finished? */
static bool ns_done(const void *state)
{
	return ns_check_done((void *)state);
}

/* ns_finish - ns, ns_detail, ns_host; temperror when the walk cannot finish */
static void ns_finish(void *state, struct facts *f)
{
	struct ns_check *c = state;

	if (ns_check_done(c)) {
		ns_check_facts(c, f);
	} else {
		f->ns = NSR_TEMPERROR;
		snprintf(f->ns_detail, sizeof f->ns_detail, "no DNS answer in time");
		memset(&f->ns_host, 0, sizeof f->ns_host);
	}
	/* a set DNS could not complete: "not in it" is unknown, never "not listed" */
	f->ns_host.partial = f->ns == NSR_TEMPERROR;
}

/* ns_addr_finish - ns_addr, ns_addr_result; temperror (with what came in) when it cannot finish */
static void ns_addr_finish(void *state, struct facts *f)
{
	struct ns_check *c = state;

	if (ns_check_done(c)) {
		ns_check_addr_facts(c, f);
	} else {
		f->ns_addr_result = NSR_TEMPERROR;
		ns_check_addrs(c, &f->ns_addr);
	}
	f->ns_addr.partial = f->ns_addr_result == NSR_TEMPERROR;
}

/* ns_release - detach lookups, then free */
static void ns_release(void *state)
{
	ns_check_abandon(state);
	free(state);
}

const struct check_row check_row_ns = {
	.name = "ns",
	.facts = FBIT(ns) | FBIT(ns_detail) | FBIT(ns_host),
	.stage = CHECK_STAGE_MAIL,
	.lib_init = ns_lib_init,
	.lib_free = ns_lib_free,
	.start = ns_start,
	.done = ns_done,
	.finish = ns_finish,
	.release = ns_release,
};

const struct check_row check_row_ns_addr = {
	.name = "ns_addr",
	.facts = FBIT(ns_addr) | FBIT(ns_addr_result),
	.stage = CHECK_STAGE_MAIL,
	.start = ns_addr_start,
	.done = ns_done,
	.finish = ns_addr_finish,
	.release = ns_release,
};
