/*
 * checks_dkim.c - the dkim row of the check table: adapts policy/dkim.h.
 *
 * When it runs: the row starts at RCPT (when a rule refers to dkim,
 * dkim_aligned or dkim_detail, or dkim_verify = always), so it sees
 * every header; fires the key queries at end of headers; hashes the body
 * as it streams; and can only finish at end of message, once every key
 * answer is in (or the DNS deadline passed: temperror).
 *
 * State: one heap struct dkim_state per message, owned by the
 * orchestrator's slot and freed by dkim_release; the verifier inside
 * detaches its key queries when freed, so a late answer never touches
 * freed memory. The library (libopendkim + the Public Suffix List) is
 * process-wide, made once by lib_init (checks_library_init) and only
 * read afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "policy/address.h"
#include "policy/checks_row.h"
#include "policy/dkim.h"

static struct dkimv_lib *lib;

struct dkim_state {
	struct dkimv *v;
	bool missed_headers;   /* started after the headers went by: cannot verify */
	bool at_eom;           /* the whole body has been fed */
};

/* dkim_lib_init - libopendkim and the PSL, once per process; milter bodies are CRLF, FIXCRLF mends anything else */
static int dkim_lib_init(char *err, size_t errlen)
{
	struct dkimv_lib_options opt = { .fixcrlf = true };
	char why[256] = "";

	lib = dkimv_lib_new(&opt, why, sizeof why);
	if (lib)
		return 0;
	snprintf(err, errlen, "cannot set up DKIM verification: %s", why);
	return -1;
}

/* dkim_lib_free - at exit */
static void dkim_lib_free(void)
{
	dkimv_lib_free(lib);
	lib = NULL;
}

/* checks_orgdomain - see checks_row.h: the PSL the DKIM library loaded, shared with DMARC's psl mode */
const struct orgdomain *checks_orgdomain(void)
{
	return lib ? dkimv_lib_orgdomain(lib) : NULL;
}

/* dkim_always - dkim_verify = always: Authentication-Results reports DKIM for every message */
static bool dkim_always(const struct config *cfg)
{
	return cfg->dkim_verify == DKIM_VERIFY_ALWAYS && cfg->authserv_id;
}

/* dkim_start - a verifier for the message; no DNS until end of headers */
static int dkim_start(struct checks *ck, void **state)
{
	struct dkim_state *s;

	if (!ck->res) {
		checks_fail(ck, "no DNS resolver for the DKIM check");
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

/* pass_domains - dkim_domain: the d= of each passing signature, lower case, once each */
static void pass_domains(const struct dkim_state *s, struct facts *f)
{
	size_t n = 0;
	const struct dkimv_sig *sig = dkimv_results(s->v, &n);
	struct fact_domain_set *set = &f->dkim_domain;

	memset(set, 0, sizeof *set);
	for (size_t i = 0; i < n; i++) {
		char d[FACT_NAME_MAX];

		if (sig[i].result == DKIMR_PASS && address_domain(sig[i].domain, d, sizeof d, NULL, 0) == 0 &&
		    !facts_set_add_name(set, d))
			break;
	}
}

/* dkim_finish - verify; keys still missing (deadline passed) give temperror */
static void dkim_finish(void *state, struct facts *f)
{
	struct dkim_state *s = state;

	memset(&f->dkim_domain, 0, sizeof f->dkim_domain);
	if (s->missed_headers || !s->at_eom) {
		f->dkim = DKIMR_TEMPERROR;
		f->dkim_aligned = false;
		snprintf(f->dkim_detail, sizeof f->dkim_detail, "%s",
			 s->missed_headers ? "started after the headers" : "message not complete");
		return;
	}
	(void)dkimv_eom(s->v, f);
	pass_domains(s, f);
}

/* dkim_authres - one resinfo per signature (state NULL: the summary result only) */
static void dkim_authres(const void *state, const struct facts *f, struct authres_hdr *ar)
{
	const struct dkim_state *s = state;
	const struct dkimv_sig *sigs = NULL;
	size_t n = 0;

	if (s)
		sigs = dkimv_results(s->v, &n);
	authres_dkim(ar, f, sigs, n);
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
	.facts = FBIT(dkim) | FBIT(dkim_aligned) | FBIT(dkim_detail) | FBIT(dkim_domain),
	.stage = CHECK_STAGE_RCPT,
	.lib_init = dkim_lib_init,
	.lib_free = dkim_lib_free,
	.always = dkim_always,
	.start = dkim_start,
	.done = dkim_done,
	.finish = dkim_finish,
	.release = dkim_release,
	.header = dkim_header,
	.body = dkim_body,
	.stage_event = dkim_stage_event,
	.authres = dkim_authres,
};
