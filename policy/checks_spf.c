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
 * spf_release. spf_ctx is made once by checks_spf_init() before any
 * thread and only read afterwards.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/checks_row.h"
#include "policy/checks_spf.h"
#include "policy/spf.h"

struct spf_row {
	struct checks *ck;      /* for the client, HELO, sender and resolver */
	bool helo_identity;     /* helo_spf rather than spf */
	bool ran;
	struct spf_outcome out;
};

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static struct spf_context *spf_ctx;
static char ctx_error[256];

/* make_ctx - once per process */
static void make_ctx(void)
{
	spf_ctx = spf_context_new(NULL, ctx_error, sizeof ctx_error);
}

/* checks_spf_init - see checks_spf.h */
int checks_spf_init(char *err, size_t errlen)
{
	pthread_once(&ctx_once, make_ctx);
	if (spf_ctx)
		return 0;
	snprintf(err, errlen, "cannot set up SPF: %s", ctx_error);
	return -1;
}

/* checks_spf_cleanup - at exit */
void checks_spf_cleanup(void)
{
	spf_context_free(spf_ctx);
	spf_ctx = NULL;
}

/* spf_start_common - remember the message; the work happens in run */
static int spf_start_common(struct checks *ck, void **state, bool helo_identity)
{
	char err[300];
	struct spf_row *s;

	if (!ck->res) {
		checks_fail(ck, "no DNS resolver for the SPF check");
		return -1;
	}
	if (checks_spf_init(err, sizeof err) < 0) {
		checks_fail(ck, err);
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
	const struct sockaddr *client = (const struct sockaddr *)&f->client_addr;

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

/* spf_skip - trusted or authenticated client */
static void spf_skip(struct facts *f)
{
	f->spf = SPFR_SKIPPED;
	f->spf_detail[0] = '\0';
}

/* helo_spf_skip - trusted or authenticated client */
static void helo_spf_skip(struct facts *f)
{
	f->helo_spf = SPFR_SKIPPED;
}

/* spf_release - nothing in flight: run() returns with its lookups done */
static void spf_release(void *state)
{
	free(state);
}

const struct check_row check_row_spf = {
	.name = "spf",
	.fact = FACT_SPF,
	.stage = CHECK_STAGE_MAIL,
	.start = spf_start,
	.done = spf_done,
	.finish = spf_finish,
	.skip = spf_skip,
	.release = spf_release,
	.run = spf_run,
};

const struct check_row check_row_helo_spf = {
	.name = "helo_spf",
	.fact = FACT_HELO_SPF,
	.stage = CHECK_STAGE_MAIL,
	.start = helo_spf_start,
	.done = spf_done,
	.finish = helo_spf_finish,
	.skip = helo_spf_skip,
	.release = spf_release,
	.run = spf_run,
};
