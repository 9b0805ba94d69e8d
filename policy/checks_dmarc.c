/*
 * checks_dmarc.c - the dmarc row of the check table: adapts policy/dmarc.h.
 *
 * When it runs: the row starts at RCPT (when a rule refers to a dmarc
 * fact, or dkim_verify = always: the header reports DMARC too), so it
 * sees the DKIM-Signature fields go by and keeps their d= domains. At end
 * of headers it asks the _dmarc names of the From: domain, and of the SPF
 * and d= domains that relaxed alignment may need - on the connection's
 * resolver, alongside the DKIM key queries, so both are answered in the
 * same round trip. It reads the spf, dkim and dkim_domain facts (.uses:
 * the orchestrator keeps those rows needed) and finishes once they are
 * known and every answer it needs is in; the deadline turns what is
 * missing into temperror.
 *
 * State: one heap struct dmarc_state per message, owned by the
 * orchestrator's slot and freed by dmarc_release after its lookups are
 * detached. It points at the orchestrator's struct checks (facts,
 * config, resolver), which outlives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/config.h"
#include "policy/address.h"
#include "policy/checks_row.h"
#include "policy/dkim.h"
#include "policy/dmarc.h"

/* What DMARC reads from other rows at the end. */
#define DMARC_USES (FBIT(spf) | FBIT(dkim) | FBIT(dkim_domain))

struct dmarc_state {
	struct checks *ck;
	struct dmarc_check dc;
	bool asked;                      /* the walks have been asked */
	bool missed_headers;             /* started after the headers: d= of the signatures not seen */
	bool have;                       /* out is final */
	struct dmarc_outcome out;
	size_t n_header_d;
	char header_d[DMARC_HEADER_DOMAINS][FACT_NAME_MAX];
};

/* spf_domain - the MAIL FROM identity's domain (facts_mailfrom_domain), the HELO name normalised */
static void spf_domain(const struct facts *f, char *out, size_t len)
{
	out[0] = '\0';
	if (facts_mailfrom_domain(f) == FID_sender_domain)
		snprintf(out, len, "%s", f->sender_domain);
	else if (address_domain(f->helo, out, len, NULL, 0) < 0)
		out[0] = '\0';
}

/* try_evaluate - once the facts it reads are known, evaluate (final: the deadline passed) */
static void try_evaluate(struct dmarc_state *s, bool final)
{
	const struct facts *f = &s->ck->facts;
	struct dmarc_input in;
	char spf_dom[FACT_NAME_MAX];

	if (s->have || !(f->known & FBIT(from_header)))
		return;
	if (f->from_header == FROMH_SINGLE && !final && (f->known & DMARC_USES) != DMARC_USES)
		return;
	spf_domain(f, spf_dom, sizeof spf_dom);
	memset(&in, 0, sizeof in);
	in.from_header = f->from_header;
	in.spf_domain = spf_dom;
	in.spf = (f->known & FBIT(spf)) ? f->spf : SPFR_TEMPERROR;
	in.dkim = (f->known & FBIT(dkim)) ? f->dkim : DKIMR_TEMPERROR;
	in.dkim_pass = (f->known & FBIT(dkim_domain)) ? &f->dkim_domain : NULL;
	if (!s->missed_headers) {
		in.header_d = (const char (*)[FACT_NAME_MAX])s->header_d;
		in.n_header_d = s->n_header_d;
	}
	if (dmarc_check_evaluate(&s->dc, &in, final, &s->out) == DMARC_EVAL_DONE)
		s->have = true;
}

/* on_notify - an answer came in */
static void on_notify(void *arg)
{
	try_evaluate(arg, false);
}

/* ask_walks - the From: domain's, and those of the identifiers that may align with it */
static void ask_walks(struct dmarc_state *s)
{
	const struct facts *f = &s->ck->facts;
	char dom[FACT_NAME_MAX];

	if (s->asked || !(f->known & FBIT(from_header)))
		return;
	s->asked = true;
	if (f->from_header != FROMH_SINGLE)
		return;
	dmarc_check_author(&s->dc, f->from_domain);
	spf_domain(f, dom, sizeof dom);
	dmarc_check_identifier(&s->dc, dom);
	for (size_t i = 0; i < s->n_header_d; i++)
		dmarc_check_identifier(&s->dc, s->header_d[i]);
}

/* dmarc_always - dkim_verify = always: the header reports DMARC for every message too */
static bool dmarc_always(const struct config *cfg)
{
	return cfg->dkim_verify == DKIM_VERIFY_ALWAYS && cfg->authserv_id;
}

/* dmarc_start - nothing asked before the end of the headers (the From: domain is known then) */
static int dmarc_start(struct checks *ck, void **state)
{
	struct dmarc_state *s;
	struct dmarc_options opt = { DMARC_TREEWALK, NULL };

	if (!ck->res) {
		checks_fail(ck, "no DNS resolver for the DMARC check");
		return -1;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		checks_fail(ck, "out of memory starting the DMARC check");
		return -1;
	}
	if (ck->cfg->dmarc_discovery == DMARC_DISCOVERY_PSL) {
		opt.discovery = DMARC_PSL;
		opt.psl = checks_orgdomain();
	}
	s->ck = ck;
	dmarc_check_init(&s->dc, ck->res, &opt);
	s->dc.notify = on_notify;
	s->dc.notify_arg = s;
	s->missed_headers = ck->stage >= CHECK_STAGE_HEADERS;
	*state = s;
	if (s->missed_headers) {
		ask_walks(s);
		try_evaluate(s, false);
	}
	return 0;
}

/* dmarc_header - keep the d= of each DKIM-Signature (for the walks and a temperror's alignment) */
static void dmarc_header(void *state, const char *name, const char *value)
{
	struct dmarc_state *s = state;
	char d[FACT_NAME_MAX];

	if (strcasecmp(name, "DKIM-Signature") != 0 || s->n_header_d >= DMARC_HEADER_DOMAINS ||
	    !dmarc_signature_domain(value, d, sizeof d))
		return;
	for (size_t i = 0; i < s->n_header_d; i++)
		if (strcmp(s->header_d[i], d) == 0)
			return;
	memcpy(s->header_d[s->n_header_d++], d, sizeof d);
}

/* dmarc_stage_event - end of headers: ask; later: evaluate what is in */
static void dmarc_stage_event(void *state, enum check_stage stage)
{
	struct dmarc_state *s = state;

	if (stage >= CHECK_STAGE_HEADERS)
		ask_walks(s);
	try_evaluate(s, false);
}

/* dmarc_progress - another row finished (SPF, DKIM): its facts may complete the inputs */
static void dmarc_progress(void *state)
{
	try_evaluate(state, false);
}

static bool dmarc_done(const void *state)
{
	return ((const struct dmarc_state *)state)->have;
}

/* dmarc_finish - the facts; an evaluation still waiting counts what is missing as DNS failures */
static void dmarc_finish(void *state, struct facts *f)
{
	struct dmarc_state *s = state;

	if (!s->have) {
		ask_walks(s);
		try_evaluate(s, true);
	}
	if (!s->have) {
		memset(&s->out, 0, sizeof s->out);
		s->out.result = DMARCR_TEMPERROR;
		s->out.policy = DMARCP_NONE;
		s->out.policy_tag = "";
		snprintf(s->out.detail, sizeof s->out.detail, "message not complete");
		s->have = true;
	}
	f->dmarc = s->out.result;
	f->dmarc_policy = s->out.policy;
	snprintf(f->dmarc_domain, sizeof f->dmarc_domain, "%s", s->out.domain);
	snprintf(f->dmarc_detail, sizeof f->dmarc_detail, "%s", s->out.detail);
}

/* dmarc_skip - a trusted client: skipped, and no policy */
static void dmarc_skip(struct facts *f)
{
	facts_skip(f, FBIT(dmarc) | FBIT(dmarc_domain) | FBIT(dmarc_detail));
	f->dmarc_policy = DMARCP_NONE;
}

/*
 * dmarc_authres - "dmarc=R (p=reject sp=none dis=none) header.from=D
 * policy.dmarc=none": the record's p, the sp or np that applied instead,
 * t=y when it lowered the policy, and what was done
 */
static void dmarc_authres(const void *state, const struct facts *f, struct authres_hdr *ar)
{
	const struct dmarc_state *s = state;
	const struct dmarc_outcome *o = s ? &s->out : NULL;
	char comment[96] = "", sub[24] = "";

	if (o && o->record_p != DMARC_POLICY_ABSENT) {
		if (strcmp(o->policy_tag, "p") != 0)
			snprintf(sub, sizeof sub, " %s=%s", o->policy_tag, dmarc_req_name(o->published));
		snprintf(comment, sizeof comment, "p=%s%s%s dis=%s", dmarc_req_name(o->record_p), sub,
			 o->testing ? " t=y" : "", checks_disposition(s->ck));
	}
	authres_dmarc(ar, f, comment);
}

/* dmarc_explain - what each _dmarc name said, for `mxguard check` */
static void dmarc_explain(const void *state, char *buf, size_t len)
{
	dmarc_check_explain(&((const struct dmarc_state *)state)->dc, buf, len);
}

/* dmarc_release - detach the lookups, then free */
static void dmarc_release(void *state)
{
	struct dmarc_state *s = state;

	dmarc_check_abandon(&s->dc);
	free(s);
}

const struct check_row check_row_dmarc = {
	.name = "dmarc",
	.facts = FBIT(dmarc) | FBIT(dmarc_policy) | FBIT(dmarc_domain) | FBIT(dmarc_detail),
	.stage = CHECK_STAGE_RCPT,
	.uses = DMARC_USES,
	.always = dmarc_always,
	.start = dmarc_start,
	.done = dmarc_done,
	.finish = dmarc_finish,
	.skip = dmarc_skip,
	.release = dmarc_release,
	.header = dmarc_header,
	.stage_event = dmarc_stage_event,
	.progress = dmarc_progress,
	.authres = dmarc_authres,
	.explain = dmarc_explain,
};
