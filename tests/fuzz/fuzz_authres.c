/*
 * fuzz_authres.c - libFuzzer harness for policy/authres.h.
 *
 * Two targets share one input:
 *   - the forgery detector: authres_claims_id(value, id) with id = the
 *     input's first line and value = the rest, as an incoming header body
 *     (anything but NUL) against an operator's authserv-id;
 *   - the header builders: struct facts and DKIM signature results filled
 *     from the input (strings split at NUL bytes, result codes from single
 *     bytes), as hostile as a client's HELO, MAIL FROM and DKIM tags are.
 *     The output may hold no control byte except the "\n\t" fold, and
 *     authres_claims_id() must see our own id in the header we built (the
 *     detector and the builder must agree on what "ours" looks like).
 */
#include <ctype.h>
#include <string.h>

#include "policy/authres.h"
#include "tests/fuzz/fuzz.h"

#define MAX_SIGS 3

/* check_header - only "\n\t" folds, no other control byte, no empty continuation */
static void check_header(const char *h)
{
	for (const char *p = h; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n')
			FUZZ_CHECK(p[1] == '\t' && p[2] != '\0' && p[2] != '\n');
		else if (c == '\t')
			FUZZ_CHECK(p > h && p[-1] == '\n');
		else
			FUZZ_CHECK(c >= 0x20 && c != 0x7f);
	}
}

/* plain_id - an authserv-id the operator could write unquoted */
static bool plain_id(const char *id)
{
	if (!*id)
		return false;
	for (; *id; id++)
		if (!isalnum((unsigned char)*id) && *id != '.' && *id != '-')
			return false;
	return true;
}

/* read_facts - facts and signatures from the input */
static size_t read_facts(struct fuzz_in *in, struct facts *f, struct dkimv_sig *sigs, char *id, size_t idlen)
{
	size_t n;

	memset(f, 0, sizeof(*f));
	f->known = (fact_mask)fuzz_byte(in) | (fact_mask)fuzz_byte(in) << 8 | (fact_mask)fuzz_byte(in) << 16;
	f->mx = (enum mx_result)(fuzz_byte(in) % MX_RESULT_COUNT);
	f->spf = (enum spf_result)(fuzz_byte(in) % SPFR_RESULT_COUNT);
	f->helo_spf = (enum spf_result)(fuzz_byte(in) % SPFR_RESULT_COUNT);
	f->dkim = (enum dkim_result)(fuzz_byte(in) % DKIMR_RESULT_COUNT);
	f->dkim_aligned = fuzz_byte(in) & 1;
	n = fuzz_byte(in) % (MAX_SIGS + 1);
	fuzz_str(in, id, idlen);
	fuzz_str(in, f->client_ip.text, sizeof(f->client_ip.text));
	fuzz_str(in, f->helo, sizeof(f->helo));
	fuzz_str(in, f->sender, sizeof(f->sender));
	fuzz_str(in, f->sender_domain, sizeof(f->sender_domain));
	fuzz_str(in, f->mx_detail, sizeof(f->mx_detail));
	fuzz_str(in, f->spf_detail, sizeof(f->spf_detail));
	fuzz_str(in, f->from_domain, sizeof(f->from_domain));
	for (size_t i = 0; i < n; i++) {
		struct dkimv_sig *s = &sigs[i];
		memset(s, 0, sizeof(*s));
		s->result = (enum dkim_result)(fuzz_byte(in) % DKIMR_RESULT_COUNT);
		s->aligned = fuzz_byte(in) & 1;
		s->key_bits = fuzz_byte(in) << 4;
		fuzz_str(in, s->domain, sizeof(s->domain));
		fuzz_str(in, s->selector, sizeof(s->selector));
		fuzz_str(in, s->b, sizeof(s->b));
		fuzz_str(in, s->algorithm, sizeof(s->algorithm));
		fuzz_str(in, s->reason, sizeof(s->reason));
	}
	return n;
}

/* fuzz_builders - every part of Authentication-Results, and Received-SPF, on facts from the input */
static void fuzz_builders(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct facts f;
	struct dkimv_sig sigs[MAX_SIGS];
	const struct dkimv_sig *s = sigs;
	char id[128];
	char *out = NULL;
	struct authres_hdr *ar;
	size_t n;

	n = read_facts(&in, &f, sigs, id, sizeof(id));
	if (n == 0 && (data[0] & 0x80))
		s = NULL;
	ar = authres_begin(id);
	if (ar) {
		authres_mx(ar, &f);
		authres_spf(ar, &f);
		authres_helo_spf(ar, &f);
		authres_dkim(ar, &f, s, n);
	}
	if (authres_finish(ar, &out) == 0) {
		FUZZ_CHECK(out != NULL);
		check_header(out);
		if (plain_id(id))
			FUZZ_CHECK(authres_claims_id(out, id));
		free(out);
	} else {
		FUZZ_CHECK(out == NULL);
		FUZZ_CHECK(id[0] == '\0');   /* only "no usable authserv_id" (or OOM) may fail */
	}
	out = NULL;
	if (authres_received_spf(id, &f, &out) == 0 && out) {
		check_header(out);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *nl;

	if (!text)
		return 0;
	nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		(void)authres_claims_id(nl + 1, text);
		(void)authres_claims_id(text, nl + 1);
	} else {
		(void)authres_claims_id(text, "mx.example.com");
	}
	free(text);
	if (size > 0)
		fuzz_builders(data, size);
	return 0;
}
