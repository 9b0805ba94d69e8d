/*
 * fuzz_dkim_reply.c - libFuzzer harness for policy/dkim_reply.h and the
 * key rewrite it applies (policy/dkim_pkcs1.h).
 *
 * The input is a DNS answer as hostile as a key server can send it
 * (first byte: the resolver status, the rest: the raw reply; a leading
 * line of the rest, when it has one and no NUL, is the key name asked).
 * Promises checked: the rebuilt reply fits the buffer, is well formed
 * (c-ares parses it, no EBADRESP), carries NXDOMAIN exactly for the
 * nxdomain/badname statuses, and for an answer c-ares itself could read
 * it holds the same records, each with the same text - or, for a bare
 * PKCS#1 key, the text dkimp_rewrite makes of it - in strings of at most
 * 255 bytes. The raw bytes are also handed to dkimp_rewrite as a key
 * record: a rewrite stays within DKIMP_GROWTH and is final (rewriting
 * its result changes nothing).
 */
#include <arpa/nameser.h>
#include <string.h>

#include <ares.h>

#include "policy/dkim_pkcs1.h"
#include "policy/dkim_reply.h"
#include "tests/fuzz/fuzz.h"

#define BUF 8192

/* record - the joined text of the TXT record at *t into buf (at most cap bytes kept); *t moves to the next record. */
static size_t record(const struct ares_txt_ext **t, unsigned char *buf, size_t cap, size_t *kept)
{
	size_t n = 0;
	const struct ares_txt_ext *r = *t;

	*kept = 0;
	do {
		for (size_t i = 0; i < r->length; i++, n++)
			if (n < cap)
				buf[(*kept)++] = r->txt[i];
		r = r->next;
	} while (r && !r->record_start);
	*t = r;
	return n;
}

/* same_records - out holds in's records, each as is or as dkimp_rewrite writes it */
static void same_records(const struct ares_txt_ext *in, const struct ares_txt_ext *out)
{
	static unsigned char a[65536], b[65536];
	static char w[DKIMP_RECORD_MAX + DKIMP_GROWTH];

	for (const struct ares_txt_ext *t = out; t; t = t->next)
		FUZZ_CHECK(t->length <= 255);
	while (in) {
		size_t ka, kb, na, nb, nw;

		FUZZ_CHECK(out != NULL);
		na = record(&in, a, sizeof a, &ka);
		nb = record(&out, b, sizeof b, &kb);
		FUZZ_CHECK(na == ka && nb == kb);
		nw = na ? dkimp_rewrite((const char *)a, na, w, sizeof w) : 0;
		if (nw) {
			FUZZ_CHECK(nb == nw && memcmp(b, w, nb) == 0);
		} else {
			FUZZ_CHECK(nb == na && memcmp(b, a, na) == 0);
		}
	}
	FUZZ_CHECK(out == NULL);
}

/* rewrite_promises - the raw bytes as a key record: bounded growth, and a rewrite is final */
static void rewrite_promises(const unsigned char *raw, size_t len)
{
	static char w[DKIMP_RECORD_MAX + DKIMP_GROWTH], again[DKIMP_RECORD_MAX + DKIMP_GROWTH];
	size_t n = dkimp_rewrite((const char *)raw, len, w, sizeof w);

	if (n == 0)
		return;
	FUZZ_CHECK(len <= DKIMP_RECORD_MAX && n <= len + DKIMP_GROWTH);
	FUZZ_CHECK(dkimp_rewrite(w, n, again, sizeof again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[BUF];
	char qname[300] = "sel._domainkey.example.com";
	struct ares_txt_ext *in_txt = NULL, *out_txt = NULL;
	enum dns_status st;
	const unsigned char *raw;
	size_t rawlen;
	int n, in_rc;

	if (size < 1)
		return 0;
	st = (enum dns_status)(data[0] % (DNS_ERROR + 1));
	raw = data + 1;
	rawlen = size - 1;
	if (rawlen > 1 && raw[0] == '@') {
		const unsigned char *nl = memchr(raw, '\n', rawlen);

		if (nl && (size_t)(nl - raw) < sizeof qname && !memchr(raw, '\0', (size_t)(nl - raw))) {
			memcpy(qname, raw + 1, (size_t)(nl - raw) - 1);
			qname[nl - raw - 1] = '\0';
			rawlen -= (size_t)(nl - raw) + 1;
			raw = nl + 1;
		}
	}
	if (rawlen > 65535)
		return 0;
	rewrite_promises(raw, rawlen);
	n = dkimr_build(qname, st, rawlen ? raw : NULL, (int)rawlen, out, sizeof out);
	if (n < 0)
		return 0;
	FUZZ_CHECK((size_t)n <= sizeof out && n >= 12);
	FUZZ_CHECK(((out[3] & 0x0f) == 3) == (st == DNS_NXDOMAIN || st == DNS_BADNAME));
	FUZZ_CHECK(out[4] == 0 && out[5] == 1);
	in_rc = ares_parse_txt_reply_ext(out, n, &out_txt);
	FUZZ_CHECK(in_rc == ARES_SUCCESS || in_rc == ARES_ENODATA);
	if (st == DNS_OK && rawlen && ares_parse_txt_reply_ext(raw, (int)rawlen, &in_txt) == ARES_SUCCESS)
		same_records(in_txt, out_txt);
	if (in_txt)
		ares_free_data(in_txt);
	if (out_txt)
		ares_free_data(out_txt);
	return 0;
}
