/*
 * dkim.c - the per-message DKIM verifier on libopendkim. See dkim.h for
 * the flow, the result table and who owns what; dkim_keys.c does the
 * key lookups.
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
#include "policy/dkim_keys.h"
#include "policy/orgdomain.h"
#include "policy/resolver.h"

#define DEFAULT_MIN_KEY_BITS 1024

struct dkimv_lib {
	DKIM_LIB *lib;
	struct orgdomain *od;
	unsigned max_sigs;
	bool ed25519;
};

struct dkimv {
	struct dkimv_lib *lib;
	DKIM *dkim;
	struct dkimk *keys;
	struct resolver *res;
	unsigned min_key_bits;
	unsigned char id[64];        /* libopendkim keeps a pointer to it */
	unsigned sig_headers;        /* DKIM-Signature fields seen */
	bool eoh_done, eom_done;
	bool unusable;               /* libopendkim refused the message; results say why */
	bool failed;                 /* internal error: the answer is temperror */
	struct dkimv_sig *sigs;
	size_t nsigs;
	char error[DKIMV_REASON_MAX];
};

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
		if (dkim_sig_geterror(list[i]) != DKIM_SIGERROR_UNKNOWN)
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

/* copy_clean - copy printable ASCII, anything else becomes '?'; NULL gives "". */
static void copy_clean(char *dst, size_t dstlen, const unsigned char *src)
{
	size_t i = 0;

	if (src != NULL)
		for (; src[i] != '\0' && i + 1 < dstlen; i++)
			dst[i] = src[i] > 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[i] = '\0';
}

/* copy_b - the first 8 base64 characters of b= (folding whitespace skipped). */
static void copy_b(char *dst, size_t dstlen, const unsigned char *b)
{
	size_t n = 0;

	for (; b != NULL && *b != '\0' && n + 1 < dstlen && n < 8; b++) {
		if (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
			continue;
		dst[n++] = *b > 0x20 && *b < 0x7f ? (char)*b : '?';
	}
	dst[n] = '\0';
}

/* set_result - result and reason in one go. */
static void set_result(struct dkimv_sig *s, enum dkim_result r, const char *reason)
{
	s->result = r;
	snprintf(s->reason, sizeof s->reason, "%s", reason);
}

/* classify_error - map a libopendkim signature error to our result (table in dkim.h). */
static void classify_error(struct dkimv_sig *s, int err, int bh)
{
	switch (err) {
	case DKIM_SIGERROR_KEYFAIL:
		set_result(s, DKIMR_TEMPERROR, "key lookup failed");
		break;
	case DKIM_SIGERROR_NOKEY:
		set_result(s, DKIMR_PERMERROR, "no key for signature");
		break;
	case DKIM_SIGERROR_KEYREVOKED:
		set_result(s, DKIMR_FAIL, "key revoked");
		break;
	case DKIM_SIGERROR_BADSIG:
		set_result(s, DKIMR_FAIL, bh == DKIM_SIGBH_MISMATCH ? "body hash mismatch"
								    : "signature verification failed");
		break;
	case DKIM_SIGERROR_TOOLARGE_L:
		set_result(s, DKIMR_FAIL, "l= exceeds body length");
		break;
	case DKIM_SIGERROR_EXPIRED:
		set_result(s, DKIMR_FAIL, "signature expired");
		break;
	case DKIM_SIGERROR_FUTURE:
		set_result(s, DKIMR_FAIL, "signature in the future");
		break;
	case DKIM_SIGERROR_KEYTOOSMALL:
		set_result(s, DKIMR_PERMERROR, "key too short");
		break;
	case DKIM_SIGERROR_UNKNOWN:
		/* never processed: we stopped early (internal error) */
		set_result(s, DKIMR_TEMPERROR, "not verified");
		break;
	default: {
		const char *e = dkim_sig_geterrorstr(err);

		set_result(s, DKIMR_PERMERROR, e != NULL ? e : "invalid signature");
		break;
	}
	}
}

/* classify - one signature's result, including our own key-length rule. */
static void classify(const struct dkimv *v, DKIM_SIGINFO *sig, struct dkimv_sig *s)
{
	int err = dkim_sig_geterror(sig), bh = dkim_sig_getbh(sig);
	unsigned flags = dkim_sig_getflags(sig);
	unsigned int bits = 0;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	enum dns_status st;

	copy_clean(s->domain, sizeof s->domain, dkim_sig_getdomain(sig));
	copy_clean(s->selector, sizeof s->selector, dkim_sig_getselector(sig));
	copy_clean(s->algorithm, sizeof s->algorithm, dkim_sig_gettagvalue(sig, false, (unsigned char *)"a"));
	copy_b(s->b, sizeof s->b, dkim_sig_gettagvalue(sig, false, (unsigned char *)"b"));
	(void)dkim_sig_getsignalg(sig, &alg);
	if ((flags & DKIM_SIGFLAG_PROCESSED) != 0 && alg != DKIM_SIGN_ED25519SHA256 &&
	    dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		s->key_bits = bits;

	/* a key lookup that failed for a passing reason is temperror, whatever libopendkim made of it */
	if (dkimk_status(v->keys, (const char *)dkim_sig_getselector(sig),
			 (const char *)dkim_sig_getdomain(sig), &st) && dns_status_temporary(st)) {
		char why[64];

		snprintf(why, sizeof why, "key lookup %s", dns_status_name(st));
		set_result(s, DKIMR_TEMPERROR, why);
		return;
	}
	if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH &&
	    (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN)) {
		if (alg != DKIM_SIGN_ED25519SHA256 && s->key_bits < v->min_key_bits) {
			char why[DKIMV_REASON_MAX];

			snprintf(why, sizeof why, "key too short (%u bits, %u required)",
				 s->key_bits, v->min_key_bits);
			set_result(s, DKIMR_PERMERROR, why);
			return;
		}
		set_result(s, DKIMR_PASS, "");
		return;
	}
	classify_error(s, err, bh);
}

/* rank - the order of dkim.h: pass > temperror > fail > permerror > none. */
static int rank(enum dkim_result r)
{
	switch (r) {
	case DKIMR_PASS:      return 5;
	case DKIMR_TEMPERROR: return 4;
	case DKIMR_FAIL:      return 3;
	case DKIMR_PERMERROR: return 2;
	default:              return 1;
	}
}

/* collect - per-signature results from libopendkim's list. -1 when out of memory. */
static int collect(struct dkimv *v)
{
	DKIM_SIGINFO **list = NULL;
	int n = 0;

	if (dkim_getsiglist(v->dkim, &list, &n) != DKIM_STAT_OK || n <= 0)
		return 0;
	v->sigs = calloc((size_t)n, sizeof *v->sigs);
	if (v->sigs == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		if ((dkim_sig_getflags(list[i]) & DKIM_SIGFLAG_IGNORE) != 0)
			continue;
		classify(v, list[i], &v->sigs[v->nsigs]);
		if (v->unusable)
			set_result(&v->sigs[v->nsigs], DKIMR_PERMERROR, v->error);
		v->nsigs++;
	}
	return 0;
}

/*
 * detail - "d/s result (why)" per signature into f->dkim_detail, for the
 * decision log; cut with "..." when it does not fit.
 */
static void detail(const struct dkimv *v, struct facts *f)
{
	size_t len = 0, cap = sizeof f->dkim_detail;

	f->dkim_detail[0] = '\0';
	if (v->nsigs == 0 && (v->failed || v->unusable || v->sig_headers > 0))
		snprintf(f->dkim_detail, cap, "%s", v->error[0] ? v->error : "signature not usable");
	for (size_t i = 0; i < v->nsigs && len < cap; i++) {
		const struct dkimv_sig *s = &v->sigs[i];
		int n = snprintf(f->dkim_detail + len, cap - len, "%s%s/%s %s%s%s%s", i ? "; " : "",
				 s->domain[0] ? s->domain : "?", s->selector[0] ? s->selector : "?",
				 facts_dkim_name(s->result), s->reason[0] ? " (" : "", s->reason,
				 s->reason[0] ? ")" : "");

		if (n < 0 || (size_t)n >= cap - len) {
			strcpy(f->dkim_detail + cap - 4, "...");
			break;
		}
		len += (size_t)n;
	}
}

/* overall - the message's fact from its signatures, and alignment with From:. */
static void overall(struct dkimv *v, struct facts *f)
{
	const char *from = (f->known & FACT_FROM) ? f->from_domain : "";
	enum dkim_result best = DKIMR_NONE;

	f->dkim_aligned = false;
	for (size_t i = 0; i < v->nsigs; i++) {
		struct dkimv_sig *s = &v->sigs[i];

		if (rank(s->result) > rank(best))
			best = s->result;
		s->aligned = s->result == DKIMR_PASS && from[0] != '\0' &&
			     orgdomain_aligned_relaxed(v->lib->od, s->domain, from);
		if (s->aligned)
			f->dkim_aligned = true;
	}
	/* signature fields libopendkim could not even list */
	if (v->nsigs == 0 && v->sig_headers > 0 && !v->failed)
		best = DKIMR_PERMERROR;
	if (v->failed && best != DKIMR_PASS)
		best = DKIMR_TEMPERROR;
	f->dkim = best;
	detail(v, f);
	f->known |= FBIT(dkim) | FBIT(dkim_aligned) | FBIT(dkim_detail);
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
		if (collect(v) != 0)
			v->failed = true;
	}
	overall(v, f);
	return v->failed ? -1 : 0;
}

/* dkimv_keys_pending - see dkim.h. */
unsigned dkimv_keys_pending(const struct dkimv *v)
{
	return dkimk_pending(v->keys);
}

/* dkimv_results - see dkim.h. */
const struct dkimv_sig *dkimv_results(const struct dkimv *v, size_t *n)
{
	*n = v->nsigs;
	return v->sigs;
}

/* dkimv_error - see dkim.h. */
const char *dkimv_error(const struct dkimv *v)
{
	return v->error;
}
