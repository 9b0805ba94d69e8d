/*
 * checks_dkim.c - the dkim row of the check table: adapts policy/dkim.h
 * (see checks_dkim.h for when it runs).
 *
 * State: one heap struct dkim_state per message, owned by the
 * orchestrator's slot and freed by dkim_release; the verifier inside
 * detaches its key queries when freed, so a late answer never touches
 * freed memory. The library is process-wide, made once (pthread_once)
 * and only read afterwards.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf/config.h"
#include "policy/checks_dkim.h"
#include "policy/checks_row.h"
#include "policy/dkim.h"

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static struct dkimv_lib *lib;
static char lib_error[256];

struct dkim_state {
	struct dkimv *v;
	bool missed_headers;   /* started after the headers went by: cannot verify */
	bool at_eom;           /* the whole body has been fed */
};

/* make_lib - once per process; milter bodies are CRLF, FIXCRLF mends anything else */
static void make_lib(void)
{
	struct dkimv_lib_options opt = { .fixcrlf = true };

	lib = dkimv_lib_new(&opt, lib_error, sizeof lib_error);
}

/* checks_dkim_init - see checks_dkim.h */
int checks_dkim_init(char *err, size_t errlen)
{
	pthread_once(&lib_once, make_lib);
	if (lib)
		return 0;
	snprintf(err, errlen, "cannot set up DKIM verification: %s", lib_error);
	return -1;
}

/* checks_dkim_cleanup - at exit */
void checks_dkim_cleanup(void)
{
	dkimv_lib_free(lib);
	lib = NULL;
}

/* dkim_start - a verifier for the message; no DNS until end of headers */
static int dkim_start(struct checks *ck, void **state)
{
	char err[300];
	struct dkim_state *s;

	if (!ck->res) {
		checks_fail(ck, "no DNS resolver for the DKIM check");
		return -1;
	}
	if (checks_dkim_init(err, sizeof err) < 0) {
		checks_fail(ck, err);
		return -1;
	}
	s = calloc(1, sizeof *s);
	if (s)
		s->v = dkimv_new(lib, ck->res, ck->cfg->dkim_min_key_bits, NULL);
	if (!s || !s->v) {
		free(s);
		checks_fail(ck, "out of memory starting the DKIM check");
		return -1;
	}
	s->missed_headers = ck->stage >= CHECK_STAGE_HEADERS;
	*state = s;
	return 0;
}

/* dkim_header - every header, as it arrives */
static void dkim_header(void *state, const char *name, const char *value)
{
	struct dkim_state *s = state;

	/* an internal error is kept in the verifier and ends as temperror */
	(void)dkimv_header(s->v, name, value);
}

/* dkim_body - one chunk, hashed at once */
static void dkim_body(void *state, const unsigned char *data, size_t len)
{
	struct dkim_state *s = state;

	(void)dkimv_body(s->v, data, len);
}

/* dkim_stage_event - end of headers fires the key queries; end of message allows finishing */
static void dkim_stage_event(void *state, enum check_stage stage)
{
	struct dkim_state *s = state;

	if (stage >= CHECK_STAGE_HEADERS && !s->missed_headers)
		(void)dkimv_eoh(s->v);
	if (stage >= CHECK_STAGE_EOM)
		s->at_eom = true;
}

/* dkim_done - the body is complete and every key answer is in */
static bool dkim_done(const void *state)
{
	const struct dkim_state *s = state;

	return s->at_eom && (s->missed_headers || dkimv_keys_pending(s->v) == 0);
}

/* dkim_finish - verify; keys still missing (deadline passed) give temperror */
static void dkim_finish(void *state, struct facts *f)
{
	struct dkim_state *s = state;

	if (s->missed_headers || !s->at_eom) {
		f->dkim = DKIMR_TEMPERROR;
		f->dkim_aligned = false;
		snprintf(f->dkim_detail, sizeof f->dkim_detail, "%s",
			 s->missed_headers ? "started after the headers" : "message not complete");
		return;
	}
	(void)dkimv_eom(s->v, f);
}

/* dkim_skip - trusted or authenticated client */
static void dkim_skip(struct facts *f)
{
	f->dkim = DKIMR_SKIPPED;
	f->dkim_aligned = false;
	f->dkim_detail[0] = '\0';
}

/* dkim_release - free the verifier (detaching its key queries) */
static void dkim_release(void *state)
{
	struct dkim_state *s = state;

	dkimv_free(s->v);
	free(s);
}

const struct check_row check_row_dkim = {
	.name = "dkim",
	.fact = FACT_DKIM,
	.stage = CHECK_STAGE_RCPT,
	.ready = CHECK_STAGE_EOM,
	.start = dkim_start,
	.done = dkim_done,
	.finish = dkim_finish,
	.skip = dkim_skip,
	.release = dkim_release,
	.header = dkim_header,
	.body = dkim_body,
	.stage_event = dkim_stage_event,
};

/* checks_dkim_results - see checks_dkim.h */
const struct dkimv_sig *checks_dkim_results(const struct checks *ck, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < check_table_len; i++) {
		const struct check_slot *s = &ck->row[i];

		if (check_table[i] == &check_row_dkim && s->state && s->harvested)
			return dkimv_results(((const struct dkim_state *)s->state)->v, n);
	}
	return NULL;
}
