/*
 * dkim.c - the per-message DKIM verifier on libopendkim. See dkim.h for
 * the flow, the result table and who owns what; dkim_keys.c does the
 * key lookups, dkim_result.c turns libopendkim's verdicts into results.
 *
 * libopendkim keeps the headers it is given (it must: the signatures
 * cover them) and hashes the body as it streams; nothing here buffers
 * the message.
 */

/* system */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libraries */
#include <dkim.h>

/* project */
#include "policy/dkim.h"
#include "policy/dkim_impl.h"
#include "policy/dkim_keys.h"
#include "policy/dkim_tags.h"
#include "policy/orgdomain.h"
#include "policy/resolver.h"

#define DEFAULT_MIN_KEY_BITS 1024

/*
 * prescreen - libopendkim's hook between parsing the signatures and
 * doing anything with them (inside dkim_eoh, before header hashing and
 * any key lookup). A signature whose d= or s= cannot name a key
 * (dkim_tags.h) is ignored from here on, so libopendkim never asks for
 * its key and prefetch_keys skips it; it is remembered with its reason
 * and dkimv_collect reports it as permerror. Signatures libopendkim
 * already found malformed keep its own reason.
 */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkimv *v = dkim_get_user_context(dkim);

	if (v == NULL || nsigs <= 0 || v->tag_errors != NULL)
		return DKIM_CBSTAT_CONTINUE;
	v->tag_errors = calloc((size_t)nsigs, sizeof *v->tag_errors);
	if (v->tag_errors == NULL) {
		v->failed = true;
		return DKIM_CBSTAT_ERROR;
	}
	for (int i = 0; i < nsigs; i++) {
		const char *why;

		if (dkim_sig_geterror(sigs[i]) != DKIM_SIGERROR_UNKNOWN)
			continue;
		why = dkimt_check((const char *)dkim_sig_getselector(sigs[i]),
				  (const char *)dkim_sig_getdomain(sigs[i]));
		if (why == NULL)
			continue;
		dkim_sig_ignore(sigs[i]);
		v->tag_errors[v->ntag_errors].sig = sigs[i];
		v->tag_errors[v->ntag_errors++].why = why;
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* dkimv_lib_new - see dkim.h. */
struct dkimv_lib *dkimv_lib_new(const struct dkimv_lib_options *opt, char *err, size_t errlen)
{
	struct dkimv_lib_options defaults = { false, 0, NULL };
	struct dkimv_lib *l;
	unsigned int flags, minbits = 1;

	if (opt == NULL)
		opt = &defaults;
	l = calloc(1, sizeof *l);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->od = orgdomain_load(opt->psl_file, err, errlen);
	if (l->od == NULL) {
		free(l);
		return NULL;
	}
	l->lib = dkim_init(NULL, NULL);
	if (l->lib == NULL) {
		snprintf(err, errlen, "dkim_init failed");
		dkimv_lib_free(l);
		return NULL;
	}
	/*
	 * DELAYSIGPROC: keys are fetched in dkim_eom, after our own queries
	 * had the whole body transfer to come back. BADSIGHANDLES: malformed
	 * signatures get a handle, so they are reported (permerror) instead
	 * of silently making the message look unsigned.
	 */
	flags = DKIM_LIBFLAGS_DELAYSIGPROC | DKIM_LIBFLAGS_BADSIGHANDLES;
	if (opt->fixcrlf)
		flags |= DKIM_LIBFLAGS_FIXCRLF;
	/* key length is enforced per message (config can change on reload), so let libopendkim accept any */
	if (dkim_options(l->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK ||
	    dkim_options(l->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits, sizeof minbits) != DKIM_STAT_OK) {
		snprintf(err, errlen, "dkim_options failed");
		dkimv_lib_free(l);
		return NULL;
	}
	dkimk_install_hooks(l->lib);
	if (dkim_set_prescreen(l->lib, prescreen) != DKIM_STAT_OK) {
		snprintf(err, errlen, "dkim_set_prescreen failed");
		dkimv_lib_free(l);
		return NULL;
	}
	l->max_sigs = opt->max_signatures ? opt->max_signatures : DKIMV_DEFAULT_MAX_SIGS;
	l->ed25519 = dkim_libfeature(l->lib, DKIM_FEATURE_ED25519);
	return l;
}

/* dkimv_lib_free - see dkim.h. */
void dkimv_lib_free(struct dkimv_lib *l)
{
	if (l == NULL)
		return;
	if (l->lib != NULL)
		dkim_close(l->lib);
	orgdomain_free(l->od);
	free(l);
}

/* dkimv_lib_ed25519 - see dkim.h. */
bool dkimv_lib_ed25519(const struct dkimv_lib *l)
{
	return l->ed25519;
}

/* dkimv_lib_orgdomain - see dkim.h. */
const struct orgdomain *dkimv_lib_orgdomain(const struct dkimv_lib *l)
{
	return l->od;
}

/* dkimv_new - see dkim.h. */
struct dkimv *dkimv_new(struct dkimv_lib *l, struct resolver *res, unsigned min_key_bits, const char *id)
{
	struct dkimv *v = calloc(1, sizeof *v);
	DKIM_STAT st;

	if (v == NULL)
		return NULL;
	v->lib = l;
	v->res = res;
	v->min_key_bits = min_key_bits ? min_key_bits : DEFAULT_MIN_KEY_BITS;
	snprintf((char *)v->id, sizeof v->id, "%s", id != NULL ? id : "");
	v->keys = dkimk_new(res);
	if (v->keys == NULL) {
		free(v);
		return NULL;
	}
	v->dkim = dkim_verify(l->lib, v->id, NULL, &st);
	if (v->dkim == NULL) {
		dkimk_free(v->keys);
		free(v);
		return NULL;
	}
	/* the prescreen hook is per library: this is how it finds the message */
	(void)dkim_set_user_context(v->dkim, v);
	return v;
}

/* dkimv_free - see dkim.h. */
void dkimv_free(struct dkimv *v)
{
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	dkimk_free(v->keys);
	free(v->sigs);
	free(v->tag_errors);
	free(v);
}

/* note_error - keep libopendkim's explanation for the log and the results. */
static void note_error(struct dkimv *v, const char *what)
{
	const char *e = dkim_geterror(v->dkim);

	snprintf(v->error, sizeof v->error, "%s%s%s", what,
		 e != NULL && e[0] != '\0' ? ": " : "", e != NULL ? e : "");
}

/* fatal_status - statuses that mean we, not the message, are in trouble. */
static bool fatal_status(DKIM_STAT st)
{
	return st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL || st == DKIM_STAT_INVALID;
}

/*
 * field_text - "name:value" with every bare LF made CRLF. MTAs keep
 * header folds as bare LF (Postfix does) and libopendkim's FIXCRLF only
 * mends the body, but the signer hashed CRLF folds.
 */
static char *field_text(const char *name, const char *value, size_t *len)
{
	size_t ln = strlen(name), lv = strlen(value), extra = 0, n;
	char *h;

	for (size_t i = 0; i < lv; i++)
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			extra++;
	h = malloc(ln + 1 + lv + extra + 1);
	if (h == NULL)
		return NULL;
	memcpy(h, name, ln);
	h[ln] = ':';
	n = ln + 1;
	for (size_t i = 0; i < lv; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			h[n++] = '\r';
		h[n++] = value[i];
	}
	h[n] = '\0';
	*len = n;
	return h;
}

/* dkimv_header - see dkim.h. */
int dkimv_header(struct dkimv *v, const char *name, const char *value)
{
	size_t len;
	char *h;
	DKIM_STAT st;

	if (v->failed || v->eoh_done)
		return v->failed ? -1 : 0;
	/*
	 * Signatures past the limit are not even given to libopendkim: it
	 * would set up a body hash for each (l= can make them all distinct).
	 */
	if (strcasecmp(name, "DKIM-Signature") == 0 && ++v->sig_headers > v->lib->max_sigs)
		return 0;
	h = field_text(name, value, &len);
	if (h == NULL) {
		v->failed = true;
		return -1;
	}
	st = dkim_header(v->dkim, (unsigned char *)h, len);
	free(h);
	/* a malformed field (no name, bad signature syntax) is the message's problem, not ours */
	if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL) {
		note_error(v, "header");
		v->failed = true;
		return -1;
	}
	return 0;
}

/* prefetch_keys - fire a key query per usable signature; ignore those beyond the limit. */
static int prefetch_keys(struct dkimv *v)
{
	DKIM_SIGINFO **list = NULL;
	int n = 0;

	if (dkim_getsiglist(v->dkim, &list, &n) != DKIM_STAT_OK)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *s, *d;

		if ((unsigned)i >= v->lib->max_sigs) {
			dkim_sig_ignore(list[i]);
			continue;
		}
		/* ignored: refused for its d= or s= by prescreen, no key wanted */
		if (dkim_sig_geterror(list[i]) != DKIM_SIGERROR_UNKNOWN ||
		    (dkim_sig_getflags(list[i]) & DKIM_SIGFLAG_IGNORE) != 0)
			continue;
		s = (const char *)dkim_sig_getselector(list[i]);
		d = (const char *)dkim_sig_getdomain(list[i]);
		if (s == NULL || d == NULL)
			continue;
		/* -1 here is not fatal: libopendkim asks again at eom and gets an answer then */
		(void)dkimk_prefetch(v->keys, s, d);
	}
	return 0;
}

/* dkimv_eoh - see dkim.h. */
int dkimv_eoh(struct dkimv *v)
{
	DKIM_STAT st;

	if (v->eoh_done)
		return v->failed ? -1 : 0;
	v->eoh_done = true;
	if (v->failed)
		return -1;
	dkimk_activate(v->keys);
	st = dkim_eoh(v->dkim);
	dkimk_activate(NULL);
	if (v->failed) {
		/* prescreen ran out of memory */
		note_error(v, "end of headers");
		return -1;
	}
	/* NOSIG also when prescreen refused every signature: collect reports them */
	if (st == DKIM_STAT_OK)
		return prefetch_keys(v);
	if (st == DKIM_STAT_NOSIG)
		return 0;
	if (fatal_status(st)) {
		note_error(v, "end of headers");
		v->failed = true;
		return -1;
	}
	/* DKIM_STAT_SYNTAX and the like: the message cannot be verified */
	note_error(v, "cannot verify message");
	v->unusable = true;
	return 0;
}

/* dkimv_body - see dkim.h. */
int dkimv_body(struct dkimv *v, const unsigned char *chunk, size_t len)
{
	DKIM_STAT st;

	if (v->failed)
		return -1;
	if (!v->eoh_done && dkimv_eoh(v) != 0)
		return -1;
	if (v->unusable || v->eom_done || len == 0)
		return 0;
	st = dkim_body(v->dkim, (unsigned char *)chunk, len);
	if (fatal_status(st)) {
		note_error(v, "body");
		v->failed = true;
		return -1;
	}
	/* let key answers that arrived during the body be taken in, and c-ares retry on time */
	if (dkimk_pending(v->keys) > 0)
		resolver_poll(v->res);
	return 0;
}


/* dkimv_eom - see dkim.h. */
int dkimv_eom(struct dkimv *v, struct facts *f)
{
	DKIM_STAT st;

	if (!v->eom_done) {
		if (!v->eoh_done)
			(void)dkimv_eoh(v);
		v->eom_done = true;
		if (!v->failed && !v->unusable) {
			dkimk_activate(v->keys);
			st = dkim_eom(v->dkim, NULL);
			dkimk_activate(NULL);
			if (fatal_status(st)) {
				note_error(v, "end of message");
				v->failed = true;
			} else if (st == DKIM_STAT_SYNTAX) {
				/* e.g. "CRLF at end of body missing": no signature was checked */
				note_error(v, "cannot verify message");
				v->unusable = true;
			}
		}
		if (dkimv_collect(v) != 0)
			v->failed = true;
	}
	dkimv_overall(v, f);
	return v->failed ? -1 : 0;
}

/* dkimv_keys_pending - see dkim.h. */
unsigned dkimv_keys_pending(const struct dkimv *v)
{
	return dkimk_pending(v->keys);
}

/* dkimv_error - see dkim.h. */
const char *dkimv_error(const struct dkimv *v)
{
	return v->error;
}