/*
 * dkim_result.c - what each signature's result is (the table in dkim.h)
 * from what libopendkim made of it and how its key lookup ended, and the
 * message's facts from those results (best of, alignment, the log's
 * detail). The verifier's state is dkim_impl.h's; this file only reads
 * libopendkim's list and fills v->sigs.
 */

/* system */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libraries */
#include <dkim.h>

/* project */
#include "policy/dkim.h"
#include "policy/dkim_impl.h"
#include "policy/dkim_keys.h"
#include "policy/orgdomain.h"
#include "policy/resolver.h"

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

/* tag_error_of - why prescreen refused sig (its d= or s=), or NULL. */
static const char *tag_error_of(const struct dkimv *v, const DKIM_SIGINFO *sig)
{
	for (size_t i = 0; i < v->ntag_errors; i++)
		if (v->tag_errors[i].sig == sig)
			return v->tag_errors[i].why;
	return NULL;
}

/* classify - one signature's result, including our own key-length rule. */
static void classify(const struct dkimv *v, DKIM_SIGINFO *sig, struct dkimv_sig *s)
{
	int err = dkim_sig_geterror(sig), bh = dkim_sig_getbh(sig);
	unsigned flags = dkim_sig_getflags(sig);
	unsigned int bits = 0;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	enum dns_status st;
	const char *tag_why = tag_error_of(v, sig);

	copy_clean(s->domain, sizeof s->domain, dkim_sig_getdomain(sig));
	copy_clean(s->selector, sizeof s->selector, dkim_sig_getselector(sig));
	copy_clean(s->algorithm, sizeof s->algorithm, dkim_sig_gettagvalue(sig, false, (unsigned char *)"a"));
	copy_b(s->b, sizeof s->b, dkim_sig_gettagvalue(sig, false, (unsigned char *)"b"));
	(void)dkim_sig_getsignalg(sig, &alg);
	if ((flags & DKIM_SIGFLAG_PROCESSED) != 0 && alg != DKIM_SIGN_ED25519SHA256 &&
	    dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		s->key_bits = bits;

	/* refused for its d= or s= before anything was asked */
	if (tag_why != NULL) {
		set_result(s, DKIMR_PERMERROR, tag_why);
		return;
	}
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

/* dkimv_collect - see dkim_impl.h. */
int dkimv_collect(struct dkimv *v)
{
	DKIM_SIGINFO **list = NULL;
	int n = 0;

	if (dkim_getsiglist(v->dkim, &list, &n) != DKIM_STAT_OK || n <= 0)
		return 0;
	v->sigs = calloc((size_t)n, sizeof *v->sigs);
	if (v->sigs == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		bool refused = tag_error_of(v, list[i]) != NULL;

		/* ignored: beyond max_signatures (not reported), or refused for d=/s= (reported) */
		if ((dkim_sig_getflags(list[i]) & DKIM_SIGFLAG_IGNORE) != 0 && !refused)
			continue;
		classify(v, list[i], &v->sigs[v->nsigs]);
		if (v->unusable && !refused)
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

/* dkimv_overall - see dkim_impl.h: the message's fact from its signatures, and alignment with From:. */
void dkimv_overall(struct dkimv *v, struct facts *f)
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

/* dkimv_results - see dkim.h. */
const struct dkimv_sig *dkimv_results(const struct dkimv *v, size_t *n)
{
	*n = v->nsigs;
	return v->sigs;
}
