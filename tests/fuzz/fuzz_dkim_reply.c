/*
 * fuzz_dkim_reply.c - libFuzzer harness for policy/dkim_reply.h.
 *
 * The input is a DNS answer as hostile as a key server can send it
 * (first byte: the resolver status, the rest: the raw reply; a leading
 * line of the rest, when it has one and no NUL, is the key name asked).
 * Promises checked: the rebuilt reply fits the buffer, is well formed
 * (c-ares parses it, no EBADRESP), carries NXDOMAIN exactly for the
 * nxdomain/badname statuses, and for an answer c-ares itself could read
 * it holds the same TXT strings, byte for byte.
 */
#include <arpa/nameser.h>
#include <string.h>

#include <ares.h>

#include "policy/dkim_reply.h"
#include "tests/fuzz/fuzz.h"

#define BUF 8192

/* total - bytes and strings in a parsed TXT list */
static void total(const struct ares_txt_ext *t, size_t *bytes, size_t *strings)
{
	*bytes = *strings = 0;
	for (; t; t = t->next) {
		*bytes += t->length;
		(*strings)++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[BUF];
	char qname[300] = "sel._domainkey.example.com";
	struct ares_txt_ext *in_txt = NULL, *out_txt = NULL;
	enum dns_status st;
	const unsigned char *raw;
	size_t rawlen, ib, is, ob, os;
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
	n = dkimr_build(qname, st, rawlen ? raw : NULL, (int)rawlen, out, sizeof out);
	if (n < 0)
		return 0;
	FUZZ_CHECK((size_t)n <= sizeof out && n >= 12);
	FUZZ_CHECK(((out[3] & 0x0f) == 3) == (st == DNS_NXDOMAIN || st == DNS_BADNAME));
	FUZZ_CHECK(out[4] == 0 && out[5] == 1);
	in_rc = ares_parse_txt_reply_ext(out, n, &out_txt);
	FUZZ_CHECK(in_rc == ARES_SUCCESS || in_rc == ARES_ENODATA);
	if (st == DNS_OK && rawlen && ares_parse_txt_reply_ext(raw, (int)rawlen, &in_txt) == ARES_SUCCESS) {
		total(in_txt, &ib, &is);
		total(out_txt, &ob, &os);
		FUZZ_CHECK(ib == ob && is == os);
	}
	if (in_txt)
		ares_free_data(in_txt);
	if (out_txt)
		ares_free_data(out_txt);
	return 0;
}
