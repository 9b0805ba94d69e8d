/*
 * fuzz_dnsbl.c - libFuzzer harness for policy/dnsbl.h.
 *
 * The input is one control byte (status; bit 7: the list has an error
 * set), a filter text, a domain (each ended by a
 * NUL), then a raw DNS reply: the operator's filter, a target a client
 * chooses, and a blocklist's answer as hostile as the path to it cares to
 * make it. Besides not crashing, dnsbl.h's promises hold:
 *   - a filter parses or is refused with a reason and left empty; a parsed
 *     one never counts an answer outside 127.0.0.0/8;
 *   - an answer is never "listed" when the status is not OK, nor when any
 *     A record in it is an error code; listed codes are counted ones;
 *     kept codes are bounded;
 *   - the combined value follows listed > unusable > temperror > clean;
 *     the detail is terminated printable ASCII, starts with the list's
 *     name and never contains the zone;
 *   - a domain query name is at most 253 octets, ends in the zone and has
 *     no empty label;
 *   - the self-test's reason never contains the zone either.
 */
#include <arpa/nameser.h>
#include <strings.h>
#include <sys/socket.h>

#include "policy/dns_parse.h"
#include "policy/dnsbl.h"
#include "tests/fuzz/fuzz.h"

#define ZONE "k3y0123456789abcdefsecret.zen.dq.example"

static const enum dns_status statuses[] = {
	DNS_OK, DNS_NXDOMAIN, DNS_NODATA, DNS_SERVFAIL, DNS_TIMEOUT, DNS_BADNAME, DNS_ERROR,
};

#define KEY  "k3y0123456789abcdefsecret"

static bool input_has_key;           /* the client wrote the key itself: it may come back */

/* check_text - a reason or detail fit for a log line and an SMTP reply, without the zone */
static void check_text(const char *s, size_t cap)
{
	FUZZ_CHECK(fuzz_terminated(s, cap));
	FUZZ_CHECK(fuzz_printable(s));
	FUZZ_CHECK(strcasestr(s, ZONE) == NULL);
	if (!input_has_key)
		FUZZ_CHECK(strcasestr(s, KEY) == NULL);
}

/* check_filter - parse text; a parsed filter keeps to 127/8 */
static bool check_filter(const char *text, struct dnsbl_codes *c, uint32_t probe)
{
	char err[256];
	int rc;

	memset(err, 0xa5, sizeof err);
	rc = dnsbl_codes_parse(c, text, err, sizeof err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0]);
		FUZZ_CHECK(!c->any && c->n == 0);
		FUZZ_CHECK(!dnsbl_codes_match(c, probe));
		return false;
	}
	FUZZ_CHECK(c->any != (c->n > 0));
	FUZZ_CHECK(c->n <= DNSBL_CODES_SPECS);
	if ((probe >> 24) != 127)
		FUZZ_CHECK(!dnsbl_codes_match(c, probe));
	FUZZ_CHECK(!dnsbl_codes_match(c, (probe & 0x00ffffffu) | 0x80000000u));
	return true;
}

/* has_error_code - does the packet hold an A record (of the question's chain) that is an error code? */
static bool has_error_code(const struct dnsbl_spec *s, const uint8_t *pkt, int len)
{
	struct dns_addr a[DNSBL_ANSWER_MAX];
	size_t total = 0;
	int n = dns_parse_addrs(pkt, len, a, DNSBL_ANSWER_MAX, &total);

	for (int i = 0; i < n; i++)
		if (a[i].family == AF_INET &&
		    dnsbl_code_error((uint32_t)a[i].addr[0] << 24 | (uint32_t)a[i].addr[1] << 16 |
				     (uint32_t)a[i].addr[2] << 8 | a[i].addr[3], &s->errors))
			return true;
	return false;
}

/* check_answer - classify, and the promises of one answer */
static void check_answer(const struct dnsbl_spec *s, enum dns_status st, const uint8_t *pkt, int len,
			 struct dnsbl_answer *a)
{
	enum dnsbl_result r = dnsbl_classify(&s->filter, &s->errors, st, len ? pkt : NULL, len, a);

	FUZZ_CHECK(r == a->result);
	FUZZ_CHECK(r == DNSBL_LISTED || r == DNSBL_CLEAN || r == DNSBL_UNUSABLE || r == DNSBL_TEMPERROR);
	FUZZ_CHECK(a->ncodes <= DNSBL_CODES_KEPT);
	FUZZ_CHECK((a->why != NULL) == (r == DNSBL_UNUSABLE || r == DNSBL_TEMPERROR));
	if (a->why)
		FUZZ_CHECK(fuzz_printable(a->why));
	if (st != DNS_OK)
		FUZZ_CHECK(r == DNSBL_CLEAN || r == DNSBL_TEMPERROR);
	if (r == DNSBL_LISTED) {
		FUZZ_CHECK(a->ncodes > 0);
		FUZZ_CHECK(!has_error_code(s, pkt, len));
		for (unsigned i = 0; i < a->ncodes; i++) {
			FUZZ_CHECK(dnsbl_codes_match(&s->filter, a->code[i]));
			FUZZ_CHECK(dnsbl_code_error(a->code[i], &s->errors) == NULL);
		}
	}
	if (r == DNSBL_TEMPERROR)
		FUZZ_CHECK(a->ncodes == 0);
}

/* check_domain - the domain's query name */
static void check_domain(const struct dnsbl_spec *s, const char *domain)
{
	char q[DNSBL_QNAME_MAX], err[128];
	int n = dnsbl_query_domain(s->zone, domain, q, sizeof q, err, sizeof err);
	size_t zl = strlen(s->zone);

	FUZZ_CHECK(fuzz_terminated(q, sizeof q));
	if (n < 0) {
		FUZZ_CHECK(q[0] == '\0');
		FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0]);
		return;
	}
	FUZZ_CHECK((size_t)n == strlen(q) && n <= 253);
	FUZZ_CHECK((size_t)n > zl + 1 && strcmp(q + n - zl, s->zone) == 0 && q[n - zl - 1] == '.');
	FUZZ_CHECK(q[0] != '.' && strstr(q, "..") == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct dnsbl_spec spec;
	struct dnsbl_codes c;
	struct dnsbl_outcome o[3];
	char filter[256], domain[300], err[256], detail[FACT_DETAIL_MAX];
	enum dns_status st;
	enum dnsbl_result r, want;
	uint32_t probe;
	unsigned ctl;
	int len;

	ctl = fuzz_byte(&in);
	st = statuses[(ctl & 0x7f) % (sizeof statuses / sizeof statuses[0])];
	fuzz_str(&in, filter, sizeof filter);
	fuzz_str(&in, domain, sizeof domain);
	input_has_key = strcasestr(domain, KEY) != NULL;
	if (in.left > 65535)
		return 0;
	len = (int)in.left;
	probe = size >= 4 ? (uint32_t)data[size - 4] << 24 | (uint32_t)data[size - 3] << 16 |
			    (uint32_t)data[size - 2] << 8 | data[size - 1] : 0;

	/* the filter, alone and as a list's filter and error set */
	if (!check_filter(filter, &c, probe))
		snprintf(filter, sizeof filter, "127.0.0.[2..11]");
	FUZZ_CHECK(dnsbl_spec_init(&spec, "zen", ZONE, filter, ctl & 0x80 ? "127.0.0.[12..20]" : NULL,
				   err, sizeof err) == 0);

	/* the answer, then combined with a listing and a failure around it */
	memset(o, 0, sizeof o);
	snprintf(o[0].target, sizeof o[0].target, "%s", domain);
	check_answer(&spec, st, in.p, len, &o[0].ans);
	r = dnsbl_combine(&spec, o, 1, 0, detail, sizeof detail);
	check_text(detail, sizeof detail);
	FUZZ_CHECK(strncmp(detail, "zen: ", 5) == 0);
	FUZZ_CHECK(r == o[0].ans.result);

	snprintf(o[1].target, sizeof o[1].target, "mx.%s", ZONE);
	o[1].ans.result = DNSBL_TEMPERROR;
	o[1].ans.why = "timeout";
	snprintf(o[2].target, sizeof o[2].target, "192.0.2.1");
	o[2].ans.result = DNSBL_CLEAN;
	want = o[0].ans.result == DNSBL_LISTED ? DNSBL_LISTED
	     : o[0].ans.result == DNSBL_UNUSABLE ? DNSBL_UNUSABLE : DNSBL_TEMPERROR;
	for (unsigned flags = 0; flags < 4; flags++) {
		r = dnsbl_combine(&spec, o, 3, flags, detail, sizeof detail);
		FUZZ_CHECK(r == want);
		check_text(detail, sizeof detail);
		r = dnsbl_combine(&spec, o, 1, flags, detail, 24);
		check_text(detail, 24);
		if (flags & DNSBL_INCOMPLETE)
			FUZZ_CHECK(r != DNSBL_CLEAN);
	}

	/* the domain as a target */
	check_domain(&spec, domain);

	/* the same answer as both self-test probes */
	enum dnsbl_selftest t = dnsbl_selftest_judge(&spec, st, len ? in.p : NULL, len, st, len ? in.p : NULL, len,
						     err, sizeof err);
	FUZZ_CHECK(t == DNSBL_SELFTEST_OK || t == DNSBL_SELFTEST_FAILED || t == DNSBL_SELFTEST_UNTESTED);
	FUZZ_CHECK(t != DNSBL_SELFTEST_OK);     /* one answer cannot be both listed and not */
	check_text(err, sizeof err);
	return 0;
}
