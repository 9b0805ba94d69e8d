/*
 * fuzz_dmarc.c - libFuzzer harness for DMARC's parsers of outside data:
 * the record grammar (policy/dmarc_record.h), the From: and List-Id:
 * header readers (checks_parse.c), and a whole DMARC evaluation on a
 * hostile _dmarc TXT answer (policy/dmarc.h over the fake resolver).
 *
 * The first byte chooses: 'R' the rest is a record (NULs allowed), 'F' a
 * From: value, 'L' a List-Id: value, 'D' a DKIM-Signature value (its d=
 * for DMARC's identifier walks), anything else the rest is the raw
 * DNS answer for _dmarc.example.com TXT. Besides not crashing: the
 * status is one of three, a usable record always has a policy, as_none
 * leaves nothing but none, notes and details are terminated, from_domain
 * is "" or a lower-case host name, list_id is printable lower case, and
 * the evaluation ends (never pending when final) with a result in range.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <string.h>

#include "policy/checks_row.h"
#include "policy/dmarc.h"
#include "policy/dmarc_record.h"
#include "policy/resolver.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_resolver.h"

/* record - the grammar's promises */
static void record(const uint8_t *data, size_t size)
{
	struct dmarc_record r;
	enum dmarc_record_status st = dmarc_record_parse((const char *)data, size, &r);

	FUZZ_CHECK(st == DMARC_RECORD_OK || st == DMARC_RECORD_NOT_DMARC || st == DMARC_RECORD_UNUSABLE);
	FUZZ_CHECK(fuzz_terminated(r.note, sizeof r.note));
	FUZZ_CHECK((st != DMARC_RECORD_NOT_DMARC) == dmarc_record_is_dmarc((const char *)data, size));
	if (st == DMARC_RECORD_OK) {
		FUZZ_CHECK(r.p >= DMARC_POLICY_NONE && r.p <= DMARC_POLICY_REJECT);
		FUZZ_CHECK(r.sp <= DMARC_POLICY_REJECT && r.np <= DMARC_POLICY_REJECT);
		if (r.as_none)
			FUZZ_CHECK(r.p == DMARC_POLICY_NONE && r.sp == DMARC_POLICY_NONE && r.np == DMARC_POLICY_NONE);
	}
}

/* from - one author domain or none, never half of one */
static void from(const uint8_t *data, size_t size)
{
	struct facts f;
	char *v = fuzz_cstr(data, size);
	int cls;

	if (!v)
		return;
	memset(&f, 0, sizeof f);
	cls = check_parse_from(&f, v);
	FUZZ_CHECK(cls == FROMH_SINGLE || cls == FROMH_MULTI_DOMAIN || cls == FROMH_INVALID || cls == FROMH_NONE);
	FUZZ_CHECK(cls != FROMH_NONE || !strchr(v, '@'));
	FUZZ_CHECK(fuzz_terminated(f.from_domain, sizeof f.from_domain));
	FUZZ_CHECK((cls == FROMH_SINGLE) == (f.from_domain[0] != '\0'));
	for (const char *p = f.from_domain; *p; p++)
		FUZZ_CHECK(!isupper((unsigned char)*p) && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
	free(v);
}

/* list_id - printable, lower case, terminated */
static void list_id(const uint8_t *data, size_t size)
{
	struct facts f;
	char *v = fuzz_cstr(data, size);

	if (!v)
		return;
	memset(&f, 0, sizeof f);
	check_parse_list_id(&f, v);
	FUZZ_CHECK(fuzz_terminated(f.list_id, sizeof f.list_id));
	FUZZ_CHECK(fuzz_printable(f.list_id));
	for (const char *p = f.list_id; *p; p++)
		FUZZ_CHECK(!isupper((unsigned char)*p) && *p != ' ');
	free(v);
}

/* signature_d - a DKIM-Signature value's d=: a lower-case host name or nothing */
static void signature_d(const uint8_t *data, size_t size)
{
	char *v = fuzz_cstr(data, size), d[FACT_NAME_MAX];

	if (!v)
		return;
	if (dmarc_signature_domain(v, d, sizeof d)) {
		FUZZ_CHECK(fuzz_terminated(d, sizeof d) && d[0] && strlen(d) <= 253);
		for (const char *p = d; *p; p++)
			FUZZ_CHECK(!isupper((unsigned char)*p) && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
	}
	free(v);
}

/* answer - a whole evaluation with the fuzzed packet as the author's _dmarc answer */
static void answer(const uint8_t *data, size_t size)
{
	static struct dmarc_check c;
	struct dmarc_input in;
	struct dmarc_outcome out;
	struct resolver *res;
	char err[64];

	fake_dns_reset();
	fake_dns_default(DNS_NXDOMAIN);
	if (fake_dns_add_raw("_dmarc.mail.example.com", ns_t_txt, DNS_OK, data, (int)size) < 0)
		return;
	res = resolver_new(NULL, err, sizeof err);
	if (!res)
		return;
	memset(&in, 0, sizeof in);
	in.from_header = FROMH_SINGLE;
	in.spf_domain = "example.com";
	in.spf = SPFR_PASS;
	in.dkim = DKIMR_NONE;
	dmarc_check_init(&c, res, &(struct dmarc_options){ DMARC_TREEWALK, NULL });
	dmarc_check_author(&c, "mail.example.com");
	(void)resolver_wait(res, NULL, NULL);
	if (dmarc_check_evaluate(&c, &in, false, &out) != DMARC_EVAL_DONE) {
		(void)resolver_wait(res, NULL, NULL);
		FUZZ_CHECK(dmarc_check_evaluate(&c, &in, true, &out) == DMARC_EVAL_DONE);
	}
	FUZZ_CHECK(out.result >= DMARCR_PASS && out.result <= DMARCR_SKIPPED);
	FUZZ_CHECK(out.policy >= DMARCP_NONE && out.policy <= DMARCP_REJECT);
	FUZZ_CHECK(fuzz_terminated(out.detail, sizeof out.detail));
	FUZZ_CHECK(fuzz_terminated(out.domain, sizeof out.domain));
	dmarc_check_abandon(&c);
	resolver_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0]) {
	case 'R': record(data + 1, size - 1); break;
	case 'F': from(data + 1, size - 1); break;
	case 'L': list_id(data + 1, size - 1); break;
	case 'D': signature_d(data + 1, size - 1); break;
	default: answer(data + 1, size - 1); break;
	}
	return 0;
}
