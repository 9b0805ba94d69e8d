/*
 * dnsbl.c - DNS blocklists: one answer judged, a list's answers combined,
 * the self-test and the log rate limit (see dnsbl.h). Filters are in
 * dnsbl_codes.c, query names in dnsbl_names.c, the asynchronous check in
 * dnsbl_check.c; what they share is in dnsbl_impl.h.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/dns_parse.h"
#include "policy/dnsbl.h"
#include "policy/dnsbl_impl.h"


static const char *const result_names[DNSBL_RESULT_COUNT] = {
	"unknown",
#define DNSBL_VALUE_NAME(id, name) name,
	DNSBL_VALUES(DNSBL_VALUE_NAME)
#undef DNSBL_VALUE_NAME
};

/* dnsbl_result_name - the value's name */
const char *dnsbl_result_name(enum dnsbl_result r)
{
	return (unsigned)r < DNSBL_RESULT_COUNT ? result_names[r] : "unknown";
}

/* ---- one answer --------------------------------------------------------- */

/* keep - one code for the detail (bounded) */
static void keep(struct dnsbl_answer *out, uint32_t code)
{
	if (out->ncodes < DNSBL_CODES_KEPT)
		out->code[out->ncodes++] = code;
	else
		out->more++;
}

/* dnsbl_classify - see dnsbl.h */
enum dnsbl_result dnsbl_classify(const struct dnsbl_codes *filter, const struct dnsbl_codes *errors,
				 enum dns_status st, const unsigned char *ans, int len,
				 struct dnsbl_answer *out)
{
	struct dns_addr a[DNSBL_ANSWER_MAX];
	uint32_t code[DNSBL_ANSWER_MAX];
	size_t total = 0;
	unsigned na = 0;
	bool listed = false;
	int n;

	memset(out, 0, sizeof *out);
	switch (st) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return out->result = DNSBL_CLEAN;
	case DNS_BADNAME:
		out->why = "the name cannot be queried";
		return out->result = DNSBL_TEMPERROR;
	default:
		out->why = dns_status_name(st);
		return out->result = DNSBL_TEMPERROR;
	}
	if (!ans || len <= 0) {
		out->why = "empty answer";
		return out->result = DNSBL_TEMPERROR;
	}
	n = dns_parse_addrs(ans, len, a, DNSBL_ANSWER_MAX, &total);
	if (n < 0) {
		out->why = n == -2 ? "out of memory" : "malformed answer";
		return out->result = DNSBL_TEMPERROR;
	}
	if (total > DNSBL_ANSWER_MAX) {
		out->why = "an answer with more than 32 address records is no blocklist answer";
		return out->result = DNSBL_UNUSABLE;
	}
	for (int i = 0; i < n; i++)
		if (a[i].family == AF_INET)
			code[na++] = (uint32_t)a[i].addr[0] << 24 | (uint32_t)a[i].addr[1] << 16 |
				     (uint32_t)a[i].addr[2] << 8 | a[i].addr[3];
	if (na == 0) {
		out->why = "no A record in the answer";
		return out->result = DNSBL_TEMPERROR;
	}
	for (unsigned i = 0; i < na; i++) {
		const char *why = dnsbl_code_error(code[i], errors);

		if (why) {
			if (!out->why)
				out->why = why;
			keep(out, code[i]);
		}
	}
	if (out->why)
		return out->result = DNSBL_UNUSABLE;
	for (unsigned i = 0; i < na; i++)
		if (filter && dnsbl_codes_match(filter, code[i])) {
			listed = true;
			keep(out, code[i]);
		}
	if (listed)
		return out->result = DNSBL_LISTED;
	for (unsigned i = 0; i < na; i++)
		keep(out, code[i]);
	return out->result = DNSBL_CLEAN;
}

/* ---- lists and combination ---------------------------------------------- */

/* dnsbl_spec_init - see dnsbl.h */
int dnsbl_spec_init(struct dnsbl_spec *s, const char *name, const char *zone,
		    const char *filter, const char *errors, char *err, size_t errlen)
{
	char why[256];
	size_t n = name ? strlen(name) : 0;

	memset(s, 0, sizeof *s);
	if (n == 0 || n >= DNSBL_NAME_MAX) {
		dnsbl_errf(err, errlen, "a list's name has 1 to %d characters", DNSBL_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!dnsbl_ldh((unsigned char)name[i])) {
			dnsbl_errf(err, errlen, "list name %.32s: only letters, digits, '-' and '_'", name);
			return -1;
		}
	memcpy(s->name, name, n + 1);
	if (dnsbl_zone_check(zone, s->zone, sizeof s->zone, why, sizeof why) < 0) {
		dnsbl_errf(err, errlen, "list %s: %s", s->name, why);
		goto fail;
	}
	if (dnsbl_codes_parse(&s->filter, filter && *filter ? filter : "127.0.0.2", why, sizeof why) < 0) {
		dnsbl_errf(err, errlen, "list %s: %s", s->name, why);
		goto fail;
	}
	if (errors && *errors) {
		if (dnsbl_codes_parse(&s->errors, errors, why, sizeof why) < 0) {
			dnsbl_errf(err, errlen, "list %s: error codes: %s", s->name, why);
			goto fail;
		}
		if (s->errors.any) {
			dnsbl_errf(err, errlen, "list %s: error codes cannot be 'any'", s->name);
			goto fail;
		}
	}
	return 0;
fail:
	memset(s, 0, sizeof *s);
	return -1;
}

/* contains_ci - does hay contain needle (case-insensitive)? */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return false;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* show_target - a target for the detail: printable, at most 120 characters, never the zone */
static const char *show_target(const struct dnsbl_spec *s, const char *t, char *buf, size_t len)
{
	size_t n = 0;

	if (contains_ci(t, s->zone))
		return "(a name inside the list's zone)";
	for (; n < 120 && n + 1 < len && t[n]; n++)
		buf[n] = (unsigned char)t[n] >= 0x20 && (unsigned char)t[n] < 0x7f ? t[n] : '?';
	buf[n] = '\0';
	if (n == 0)
		return "(no name)";
	return buf;
}

/* show_codes - "127.0.0.2,127.0.0.4" (and "+N" for those not kept) */
const char *dnsbl_show_codes(const struct dnsbl_answer *a, char *buf, size_t len)
{
	size_t n = 0;
	char one[16];

	buf[0] = '\0';
	for (unsigned i = 0; i < a->ncodes && i < DNSBL_CODES_KEPT && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "",
				      dnsbl_code_format(a->code[i], one, sizeof one));
	if (a->more && n < len)
		snprintf(buf + n, len - n, "+%u", a->more);
	return buf;
}

/* appendf - add to detail (truncating) */
static void appendf(char *detail, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void appendf(char *detail, size_t len, const char *fmt, ...)
{
	size_t n = strlen(detail);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(detail + n, len - n, fmt, ap);
	va_end(ap);
}

/* first_with - the first outcome with result r (DNSBL_UNKNOWN counts as temperror), n when none; *count all of them */
static unsigned first_with(const struct dnsbl_outcome *o, unsigned n, enum dnsbl_result r, unsigned *count)
{
	unsigned first = n;

	*count = 0;
	for (unsigned i = 0; i < n; i++) {
		enum dnsbl_result v = o[i].ans.result;

		if (v == r || (r == DNSBL_TEMPERROR && (v == DNSBL_UNKNOWN || v >= DNSBL_RESULT_COUNT ||
							  v == DNSBL_SKIPPED))) {
			if (first == n)
				first = i;
			(*count)++;
		}
	}
	return first;
}

/* dnsbl_combine - see dnsbl.h */
enum dnsbl_result dnsbl_combine(const struct dnsbl_spec *s, const struct dnsbl_outcome *o,
				unsigned n, unsigned flags, char *detail, size_t len)
{
	char tbuf[128], cbuf[80], safe[DNSBL_NAME_MAX + 2];
	const char *name = show_target(s, s->name, safe, sizeof safe);
	enum dnsbl_result r;
	unsigned i, count;
	char scratch[FACT_DETAIL_MAX];

	if (!detail || len == 0) {
		detail = scratch;
		len = sizeof scratch;
	}
	detail[0] = '\0';
	if ((i = first_with(o, n, DNSBL_LISTED, &count)) < n) {
		r = DNSBL_LISTED;
		snprintf(detail, len, "%s: %s listed %s", name, show_target(s, o[i].target, tbuf, sizeof tbuf),
			 dnsbl_show_codes(&o[i].ans, cbuf, sizeof cbuf));
		if (count > 1)
			appendf(detail, len, " (and %u more listed)", count - 1);
	} else if ((i = first_with(o, n, DNSBL_UNUSABLE, &count)) < n) {
		r = DNSBL_UNUSABLE;
		if (o[i].ans.ncodes > 0)
			snprintf(detail, len, "%s: answer %s for %s is a list error: %s", name,
				 dnsbl_show_codes(&o[i].ans, cbuf, sizeof cbuf),
				 show_target(s, o[i].target, tbuf, sizeof tbuf),
				 o[i].ans.why ? o[i].ans.why : "unusable");
		else
			snprintf(detail, len, "%s: unusable answer for %s: %s", name,
				 show_target(s, o[i].target, tbuf, sizeof tbuf),
				 o[i].ans.why ? o[i].ans.why : "unusable");
	} else if ((i = first_with(o, n, DNSBL_TEMPERROR, &count)) < n) {
		r = DNSBL_TEMPERROR;
		snprintf(detail, len, "%s: lookup of %s failed: %s", name,
			 show_target(s, o[i].target, tbuf, sizeof tbuf),
			 o[i].ans.result == DNSBL_TEMPERROR && o[i].ans.why ? o[i].ans.why : "no answer");
		if (count > 1)
			appendf(detail, len, " (and %u more failed)", count - 1);
	} else if (flags & DNSBL_INCOMPLETE) {
		r = DNSBL_TEMPERROR;
		snprintf(detail, len, "%s: not every target is known (a lookup behind them failed); "
			 "none of the %u asked is listed", name, n);
	} else {
		r = DNSBL_CLEAN;
		for (i = 0; i < n && o[i].ans.ncodes == 0; i++)
			;
		if (n == 0)
			snprintf(detail, len, "%s: nothing to look up", name);
		else if (n == 1)
			snprintf(detail, len, "%s: %s not listed", name, show_target(s, o[0].target, tbuf, sizeof tbuf));
		else
			snprintf(detail, len, "%s: none of %u targets listed", name, n);
		if (i < n && n == 1)
			appendf(detail, len, " (answered %s, not counted)", dnsbl_show_codes(&o[i].ans, cbuf, sizeof cbuf));
		else if (i < n)
			appendf(detail, len, " (%s answered %s, not counted)",
				show_target(s, o[i].target, tbuf, sizeof tbuf),
				dnsbl_show_codes(&o[i].ans, cbuf, sizeof cbuf));
	}
	if (flags & DNSBL_TRUNCATED)
		appendf(detail, len, " (only the first %d targets were asked)", DNSBL_QUERIES_MAX);
	if (contains_ci(detail, s->zone))        /* cannot happen; the zone must never show */
		snprintf(detail, len, "%s: %s", name, dnsbl_result_name(r));
	return r;
}

/* ---- self-test ---------------------------------------------------------- */

/* dnsbl_selftest_name - see dnsbl.h */
int dnsbl_selftest_name(const struct dnsbl_spec *s, bool domain_list, bool listed, char *buf, size_t len)
{
	const char *probe = domain_list ? (listed ? "test" : "invalid") : (listed ? "2.0.0.127" : "1.0.0.127");

	return dnsbl_join(probe, strlen(probe), s->zone, buf, len);
}

/* dnsbl_selftest_judge - see dnsbl.h */
enum dnsbl_selftest dnsbl_selftest_judge(const struct dnsbl_spec *s,
					 enum dns_status st1, const unsigned char *ans1, int len1,
					 enum dns_status st2, const unsigned char *ans2, int len2,
					 char *why, size_t whylen)
{
	struct dnsbl_answer a1, a2;
	char codes[80];

	dnsbl_classify(&s->filter, &s->errors, st1, ans1, len1, &a1);
	dnsbl_classify(&s->filter, &s->errors, st2, ans2, len2, &a2);
	dnsbl_errf(why, whylen, "%s: answers as a blocklist should", s->name);
	if (a1.result == DNSBL_TEMPERROR || a2.result == DNSBL_TEMPERROR) {
		const struct dnsbl_answer *a = a1.result == DNSBL_TEMPERROR ? &a1 : &a2;

		dnsbl_errf(why, whylen, "%s: not tested: the %s entry's lookup failed: %s", s->name,
		     a == &a1 ? "test" : "never-listed", a->why ? a->why : "error");
		return DNSBL_SELFTEST_UNTESTED;
	}
	if (a1.result == DNSBL_UNUSABLE) {
		dnsbl_errf(why, whylen, "%s: the test entry answered %s: %s", s->name,
		     a1.ncodes ? dnsbl_show_codes(&a1, codes, sizeof codes) : "badly", a1.why);
		return DNSBL_SELFTEST_FAILED;
	}
	if (a1.result == DNSBL_CLEAN && a1.ncodes == 0) {
		dnsbl_errf(why, whylen, "%s: the test entry is not listed (%s): a wrong zone, or the list "
		     "does not answer this resolver", s->name, dns_status_name(st1));
		return DNSBL_SELFTEST_FAILED;
	}
	if (a1.result == DNSBL_CLEAN) {
		dnsbl_errf(why, whylen, "%s: the test entry answered %s, which the filter does not count", s->name,
		     dnsbl_show_codes(&a1, codes, sizeof codes));
		return DNSBL_SELFTEST_FAILED;
	}
	if (a2.result != DNSBL_CLEAN || a2.ncodes > 0) {
		dnsbl_errf(why, whylen, "%s: the never-listed entry is listed (%s): the list, or a resolver on "
		     "the way, answers every query", s->name,
		     a2.ncodes ? dnsbl_show_codes(&a2, codes, sizeof codes) : dnsbl_result_name(a2.result));
		return DNSBL_SELFTEST_FAILED;
	}
	return DNSBL_SELFTEST_OK;
}

/* ---- rate limit --------------------------------------------------------- */

/* dnsbl_ratelimit_due - one winner per interval */
bool dnsbl_ratelimit_due(struct dnsbl_ratelimit *r, time_t now, unsigned interval)
{
	long long next = atomic_load(&r->next);

	if ((long long)now < next)
		return false;
	return atomic_compare_exchange_strong(&r->next, &next, (long long)now + (long long)interval);
}
