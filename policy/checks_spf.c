/*
 * checks_spf.c - the spf and helo_spf rows of the check table: adapt
 * policy/spf.h, and own the process-wide SPF evaluator.
 *
 * libspf2 evaluates synchronously, driving the connection's resolver
 * itself while it waits for TXT answers (so an MX lookup already in
 * flight keeps progressing). So start() only records that the check is
 * wanted, and the orchestrator calls run() when a rule waits for the
 * fact; run() returns with the result, never later than the message's
 * DNS deadline (temperror then).
 *
 * State: one struct spf_row per message and identity, freed by
 * spf_release. spf_ctx is made once (the spf row's lib_init, through
 * checks_library_init) before any check starts and only read afterwards;
 * both rows share it. The Received-SPF header (add_received_spf) is the
 * spf row's; it falls back to the HELO result when MAIL FROM was not
 * checked.
 */
#include <stdio.h>
#include <stdlib.h>

#include "policy/checks_row.h"
#include "policy/spf.h"

struct spf_row {
	struct checks *ck;      /* for the client, HELO, sender and resolver */
	bool helo_identity;     /* helo_spf rather than spf */
	bool ran;
	struct spf_outcome out;
};

static struct spf_context *spf_ctx;

/* spf_lib_init - the process-wide evaluator (checks_library_init, once) */
static int spf_lib_init(char *err, size_t errlen)
{
	char why[256] = "";

	spf_ctx = spf_context_new(NULL, why, sizeof why);
	if (spf_ctx)
		return 0;
	snprintf(err, errlen, "cannot set up SPF: %s", why);
	return -1;
}

/* spf_lib_free - at exit */
static void spf_lib_free(void)
{
	spf_context_free(spf_ctx);
	spf_ctx = NULL;
}

/* spf_start_common - remember the message; the work happens in run */
static int spf_start_common(struct checks *ck, void **state, bool helo_identity)
{
	struct spf_row *s;

	if (!ck->res) {
		checks_fail(ck, "no DNS resolver for the SPF check");
		return -1;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		checks_fail(ck, "out of memory starting the SPF check");
		return -1;
	}
	s->ck = ck;
	s->helo_identity = helo_identity;
	*state = s;
	return 0;
}

/* spf_start - MAIL FROM identity */
static int spf_start(struct checks *ck, void **state)
{
	return spf_start_common(ck, state, false);
}

/* helo_spf_start - HELO identity */
static int helo_spf_start(struct checks *ck, void **state)
{
	return spf_start_common(ck, state, true);
}

/* spf_run - evaluate now (blocks until the result or the deadline) */
static void spf_run(void *state)
{
	struct spf_row *s = state;
	const struct facts *f = &s->ck->facts;
	const struct sockaddr *client = (const struct sockaddr *)&f->client_ip.sa;

	if (s->ran)
		return;
	if (s->helo_identity)
		spf_check_helo(spf_ctx, s->ck->res, client, f->helo, &s->out);
	else
		spf_check_mailfrom(spf_ctx, s->ck->res, client, f->helo, f->sender, &s->out);
	s->ran = true;
}

/* spf_done - has run() been called? */
static bool spf_done(const void *state)
{
	return ((const struct spf_row *)state)->ran;
}

/* spf_finish - MAIL FROM result and its reason (the explanation for fail) */
static void spf_finish(void *state, struct facts *f)
{
	const struct spf_row *s = state;

	if (!s->ran) {
		f->spf = SPFR_TEMPERROR;
		snprintf(f->spf_detail, sizeof f->spf_detail, "not evaluated in time");
		return;
	}
	f->spf = s->out.result;
	snprintf(f->spf_detail, sizeof f->spf_detail, "%s", spf_outcome_detail(&s->out));
}

/* helo_spf_finish - HELO result (the detail field belongs to MAIL FROM) */
static void helo_spf_finish(void *state, struct facts *f)
{
	const struct spf_row *s = state;

	f->helo_spf = s->ran ? s->out.result : SPFR_TEMPERROR;
}

/* spf_authres - "spf=R (why) smtp.mailfrom=..." */
static void spf_authres(const void *state, const struct facts *f, struct authres_hdr *ar)
{
	(void)state;
	authres_spf(ar, f);
}

/* helo_spf_authres - "spf=R smtp.helo=..." */
static void helo_spf_authres(const void *state, const struct facts *f, struct authres_hdr *ar)
{
	(void)state;
	authres_helo_spf(ar, f);
}

/* spf_received - Received-SPF (add_received_spf) for the MAIL FROM result, else the HELO one */
static int spf_received(const void *state, const struct config *cfg, const struct facts *f,
			struct checks_hdr *out)
{
	(void)state;
	if (!cfg->add_received_spf)
		return 0;
	out->name = "Received-SPF";
	if (authres_received_spf(cfg->authserv_id, f, &out->value) < 0)
		return -1;
	return out->value ? 1 : 0;
}

/* spf_release - nothing in flight: run() returns with its lookups done */
static void spf_release(void *state)
{
	free(state);
}

const struct check_row check_row_spf = {
	.name = "spf",
	.facts = FBIT(spf) | FBIT(spf_detail),
	.stage = CHECK_STAGE_MAIL,
	.lib_init = spf_lib_init,
	.lib_free = spf_lib_free,
	.start = spf_start,
	.done = spf_done,
	.finish = spf_finish,
	.release = spf_release,
	.run = spf_run,
	.authres = spf_authres,
	.result_header = spf_received,
};

const struct check_row check_row_helo_spf = {
	.name = "helo_spf",
	.facts = FBIT(helo_spf),
	.stage = CHECK_STAGE_MAIL,
	.start = helo_spf_start,
	.done = spf_done,
	.finish = helo_spf_finish,
	.release = spf_release,
	.run = spf_run,
	.authres = helo_spf_authres,
};
