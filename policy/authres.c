/*
 * authres.c - Authentication-Results / Received-SPF text and forged A-R
 * detection. See authres.h for what goes into the headers.
 *
 * Everything is built in a growing heap buffer (struct hbuf,
 * policy/authres_text.h) word by word, so folding is decided in one
 * place. Each string from outside (sender, helo, signature tags,
 * details) passes through one of the quoting helpers before it becomes
 * a word; none copies a control byte.
 */

/* system */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* project */
#include "policy/authres.h"
#include "policy/authres_text.h"

#define AR_NAME   "Authentication-Results: "
#define RSPF_NAME "Received-SPF: "

/* spf_reportable - a result worth a header line. */
static bool spf_reportable(const struct facts *f, enum fact_id id, enum spf_result r)
{
	return facts_known(f, id) && r != SPFR_UNKNOWN && r != SPFR_SKIPPED;
}

/* mailfrom_identity - the MAIL FROM identity SPF checked: the sender, or postmaster@helo for <>. */
static void mailfrom_identity(const struct facts *f, char *out, size_t outlen)
{
	if (f->sender[0] != '\0')
		snprintf(out, outlen, "%s", f->sender);
	else if (hb_is_domain(f->helo))
		snprintf(out, outlen, "postmaster@%s", f->helo);
	else
		out[0] = '\0';
}

/* The Authentication-Results header being built: what each check adds (authres.h). */
struct authres_hdr {
	struct hbuf hb;
	int results;       /* resinfos added; none means "; none" */
};

/* authres_spf - see authres.h. */
void authres_spf(struct authres_hdr *ar, const struct facts *f)
{
	char ident[FACT_ADDR_MAX + FACT_NAME_MAX];

	if (!spf_reportable(f, FID_spf, f->spf))
		return;
	hb_glue(&ar->hb, ";");
	hb_fold(&ar->hb);
	hb_add_word(&ar->hb, "spf=", facts_spf_name(f->spf));
	if (f->spf_detail[0] != '\0')
		hb_add_comment(&ar->hb, f->spf_detail);
	mailfrom_identity(f, ident, sizeof ident);
	hb_add_address(&ar->hb, "smtp.mailfrom=", ident);
	ar->results++;
}

/* authres_helo_spf - see authres.h. */
void authres_helo_spf(struct authres_hdr *ar, const struct facts *f)
{
	if (!spf_reportable(f, FID_helo_spf, f->helo_spf))
		return;
	hb_glue(&ar->hb, ";");
	hb_fold(&ar->hb);
	hb_add_word(&ar->hb, "spf=", facts_spf_name(f->helo_spf));
	if (f->helo[0] != '\0')
		hb_add_word(&ar->hb, "smtp.helo=", f->helo);
	ar->results++;
}

/* add_sig - one DKIM signature's resinfo. */
static void add_sig(struct hbuf *hb, const struct dkimv_sig *s)
{
	char why[DKIMV_REASON_MAX + 32];

	hb_glue(hb, ";");
	hb_fold(hb);
	hb_add_word(hb, "dkim=", facts_dkim_name(s->result));
	if (s->result == DKIMR_PASS && s->key_bits > 0)
		snprintf(why, sizeof why, "%u-bit key", s->key_bits);
	else if (s->result == DKIMR_PASS && strncmp(s->algorithm, "ed25519", 7) == 0)
		snprintf(why, sizeof why, "ed25519 key");
	else
		snprintf(why, sizeof why, "%s", s->reason);
	if (why[0] != '\0')
		hb_add_comment(hb, why);
	if (hb_is_domain(s->domain))
		hb_add_word(hb, "header.d=", s->domain);
	if (s->selector[0] != '\0')
		hb_add_word(hb, "header.s=", s->selector);
	if (s->algorithm[0] != '\0')
		hb_add_word(hb, "header.a=", s->algorithm);
	if (s->b[0] != '\0')
		hb_add_word(hb, "header.b=", s->b);
}

/* authres_dkim - see authres.h. */
void authres_dkim(struct authres_hdr *ar, const struct facts *f, const struct dkimv_sig *sigs, size_t n)
{
	if (!facts_known(f, FID_dkim) || f->dkim == DKIMR_UNKNOWN || f->dkim == DKIMR_SKIPPED)
		return;
	if (sigs == NULL || n == 0) {
		hb_glue(&ar->hb, ";");
		hb_fold(&ar->hb);
		hb_add_word(&ar->hb, "dkim=", facts_dkim_name(f->dkim));
		ar->results++;
		return;
	}
	for (size_t i = 0; i < n; i++)
		add_sig(&ar->hb, &sigs[i]);
	ar->results += (int)n;
}

/* authres_dmarc - see authres.h. */
void authres_dmarc(struct authres_hdr *ar, const struct facts *f, const char *policy_comment)
{
	if (!facts_known(f, FID_dmarc) || f->dmarc == DMARCR_UNKNOWN || f->dmarc == DMARCR_SKIPPED)
		return;
	hb_glue(&ar->hb, ";");
	hb_fold(&ar->hb);
	hb_add_word(&ar->hb, "dmarc=", facts_value_name(FID_dmarc, f->dmarc));
	if (policy_comment && policy_comment[0])
		hb_add_comment(&ar->hb, policy_comment);
	if (f->from_header == FROMH_SINGLE && hb_is_domain(f->from_domain))
		hb_add_word(&ar->hb, "header.from=", f->from_domain);
	if (policy_comment && policy_comment[0])
		hb_add_word(&ar->hb, "policy.dmarc=", facts_value_name(FID_dmarc_policy, f->dmarc_policy));
	ar->results++;
}

/* authres_mx - see authres.h. */
void authres_mx(struct authres_hdr *ar, const struct facts *f)
{
	char mx[32];

	if (facts_known(f, FID_mx) && f->mx != MX_UNKNOWN && f->mx != MX_SKIPPED) {
		snprintf(mx, sizeof mx, "(mx=%s)", facts_mx_name(f->mx));
		hb_word(&ar->hb, mx);
	}
}

/* authres_begin - see authres.h. */
struct authres_hdr *authres_begin(const char *authserv_id)
{
	struct authres_hdr *ar;

	if (authserv_id == NULL || authserv_id[0] == '\0' || (ar = calloc(1, sizeof *ar)) == NULL)
		return NULL;
	hb_init(&ar->hb, strlen(AR_NAME));
	hb_add_word(&ar->hb, "", authserv_id);
	return ar;
}

/* authres_finish - see authres.h. */
int authres_finish(struct authres_hdr *ar, char **out)
{
	int rc;

	*out = NULL;
	if (ar == NULL)
		return -1;
	if (ar->results == 0) {
		hb_glue(&ar->hb, ";");
		hb_word(&ar->hb, "none");
	}
	rc = hb_finish(&ar->hb, out);
	free(ar);
	return rc;
}

/* rspf_phrase - RFC 7208 §9.1 style explanation when SPF gave none. */
static void rspf_phrase(enum spf_result r, const char *who, const char *ip, char *out, size_t outlen)
{
	switch (r) {
	case SPFR_PASS:
		snprintf(out, outlen, "domain of %s designates %s as permitted sender", who, ip);
		break;
	case SPFR_FAIL:
		snprintf(out, outlen, "domain of %s does not designate %s as permitted sender", who, ip);
		break;
	case SPFR_SOFTFAIL:
		snprintf(out, outlen, "domain of transitioning %s does not designate %s as permitted sender", who, ip);
		break;
	case SPFR_NEUTRAL:
		snprintf(out, outlen, "%s is neither permitted nor denied by domain of %s", ip, who);
		break;
	case SPFR_NONE:
		snprintf(out, outlen, "domain of %s does not designate permitted sender hosts", who);
		break;
	case SPFR_TEMPERROR:
		snprintf(out, outlen, "error in processing during lookup of %s", who);
		break;
	default:
		snprintf(out, outlen, "domain of %s has an invalid SPF record", who);
		break;
	}
}

/* add_kv - "key=value;" with value a dot-atom or a quoted-string. */
static void add_kv(struct hbuf *hb, const char *key, const char *value)
{
	size_t n = strlen(value);
	char *w = malloc(strlen(key) + 2 * n + 5);

	if (w == NULL) {
		hb->oom = true;
		return;
	}
	sprintf(w, "%s=", key);
	if (hb_is_dot_atom(value, n))
		strcat(w, value);
	else
		hb_cat_quoted(w, value, n);
	strcat(w, ";");
	hb_word(hb, w);
	free(w);
}

/* authres_received_spf - see authres.h. */
int authres_received_spf(const char *authserv_id, const struct facts *f, char **out)
{
	char ident[FACT_ADDR_MAX + FACT_NAME_MAX], text[FACT_DETAIL_MAX + FACT_ADDR_MAX + 300];
	const char *identity, *ip;
	bool mailfrom;
	enum spf_result r;
	struct hbuf hb;

	*out = NULL;
	if (f == NULL || authserv_id == NULL || authserv_id[0] == '\0')
		return 0;
	if (spf_reportable(f, FID_spf, f->spf)) {
		r = f->spf;
		identity = "mailfrom";
		mailfrom = true;
		mailfrom_identity(f, ident, sizeof ident);
	} else if (spf_reportable(f, FID_helo_spf, f->helo_spf)) {
		r = f->helo_spf;
		identity = "helo";
		mailfrom = false;
		snprintf(ident, sizeof ident, "%s", f->helo);
	} else {
		return 0;
	}
	ip = f->client_ip.text[0] != '\0' ? f->client_ip.text : "unknown";

	hb_init(&hb, strlen(RSPF_NAME));
	hb_word(&hb, facts_spf_name(r));
	if (mailfrom && f->spf_detail[0] != '\0') {
		snprintf(text, sizeof text, "%s: %s", authserv_id, f->spf_detail);
	} else {
		char phrase[FACT_ADDR_MAX + FACT_NAME_MAX + 200];

		rspf_phrase(r, ident[0] != '\0' ? ident : "unknown", ip, phrase, sizeof phrase);
		snprintf(text, sizeof text, "%s: %s", authserv_id, phrase);
	}
	hb_add_comment(&hb, text);
	if (f->client_ip.text[0] != '\0')
		add_kv(&hb, "client-ip", f->client_ip.text);
	if (mailfrom && ident[0] != '\0')
		add_kv(&hb, "envelope-from", ident);
	if (f->helo[0] != '\0')
		add_kv(&hb, "helo", f->helo);
	add_kv(&hb, "receiver", authserv_id);
	add_kv(&hb, "identity", identity);
	return hb_finish(&hb, out);
}

/* skip_cfws - past whitespace (folds included) and nested comments. */
static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		for (int depth = 0; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
			} else if (*p == '(') {
				depth++;
			} else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

/* authres_claims_id - see authres.h. */
bool authres_claims_id(const char *value, const char *authserv_id)
{
	char id[512];
	size_t n = 0;
	const char *p;

	if (value == NULL || authserv_id == NULL || authserv_id[0] == '\0')
		return false;
	p = skip_cfws(value);
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p == '\r' || *p == '\n')
				continue;
			if (n + 1 >= sizeof id)
				return false;
			id[n++] = *p;
		}
		if (*p != '"')
			return false;
	} else {
		for (; *p != '\0'; p++) {
			unsigned char c = (unsigned char)*p;

			if (c <= 0x20 || c == 0x7f || hb_is_tspecial(c))
				break;
			if (n + 1 >= sizeof id)
				return false;
			id[n++] = *p;
		}
	}
	id[n] = '\0';
	return n > 0 && strcasecmp(id, authserv_id) == 0;
}
