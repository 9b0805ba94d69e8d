/*
 * fuzz_spf_check.c - libFuzzer harness for a whole SPF check (policy/spf.h)
 * with hostile records, on the unit tests' fake resolver.
 *
 * fuzz_spf_guard.c checks the guard alone; this one runs what the daemon
 * runs for MAIL FROM: spf_check_mailfrom() over the TXT answer reader, the
 * guard, the rewrite, libspf2's compiler and interpreter (include,
 * redirect, a, mx, ptr, exists, macros) and the explanation. Input:
 *   byte 0     client (bit 0: IPv6), status of names nobody registered
 *              (bits 1-2: NXDOMAIN, NODATA, SERVFAIL, timeout), whether
 *              the sender's record is split into 255-byte strings (bit 3)
 *   then three NUL-separated texts: the TXT record of example.org (the
 *   sender's domain), of inc.example (for include:/redirect=) and of
 *   exp.example (for exp=).
 * The outcome must be one of the results a check can give, with every
 * text field terminated and an explanation only on fail. libspf2 fatal
 * errors end the check as temperror in spf.c, which deliberately leaks
 * libspf2's state: LeakSanitizer then reports the input, and that is
 * wanted (a sender who can trigger it can make the daemon leak).
 *
 * Links tests/unit/fake_resolver.c and dns_build.c (from build/fuzz's
 * libcore.a, which holds the unit-test support objects too).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <string.h>

#include "policy/spf.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_resolver.h"

#define TEXT_MAX 4200   /* a bit above SPF_GUARD_MAX_RECORD, so "too long" is reachable */

static struct spf_context *ctx;

/* put_name - a name in wire form; returns bytes written */
static size_t put_name(unsigned char *p, const char *name)
{
	size_t n = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		p[n++] = (unsigned char)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

/* txt_reply - a NOERROR reply to (name, TXT) holding one record with text split into strings */
static int txt_reply(unsigned char *pkt, size_t cap, const char *name, const char *text, size_t split)
{
	size_t len = strlen(text), n = 12, rd;
	unsigned char hdr[12] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };

	if (len + len / split + 600 > cap)
		return -1;
	memcpy(pkt, hdr, 12);
	n += put_name(pkt + n, name);
	pkt[n++] = 0; pkt[n++] = ns_t_txt; pkt[n++] = 0; pkt[n++] = ns_c_in;
	pkt[n++] = 0xc0; pkt[n++] = 12;                      /* owner: the question name */
	pkt[n++] = 0; pkt[n++] = ns_t_txt; pkt[n++] = 0; pkt[n++] = ns_c_in;
	pkt[n++] = 0; pkt[n++] = 0; pkt[n++] = 1; pkt[n++] = 0; /* TTL 256 */
	rd = n;
	n += 2;
	for (size_t off = 0; off < len; off += split) {
		size_t l = len - off < split ? len - off : split;
		pkt[n++] = (unsigned char)l;
		memcpy(pkt + n, text + off, l);
		n += l;
	}
	pkt[rd] = (unsigned char)((n - rd - 2) >> 8);
	pkt[rd + 1] = (unsigned char)(n - rd - 2);
	return (int)n;
}

/* zone - fixed data the fuzzed records can point at */
static void zone(void)
{
	fake_dns_add("example.org", ns_t_a, DNS_OK, "A 192.0.2.10");
	fake_dns_add("example.org", ns_t_mx, DNS_OK, "MX 10 mx.example.org; MX 20 mx2.example.org");
	fake_dns_add("mx.example.org", ns_t_a, DNS_OK, "A 192.0.2.20; A 192.0.2.77");
	fake_dns_add("mx.example.org", ns_t_aaaa, DNS_OK, "AAAA 2001:db8::1");
	fake_dns_add("77.2.0.192.in-addr.arpa", ns_t_ptr, DNS_OK, "PTR mail.example.org");
	fake_dns_add("mail.example.org", ns_t_a, DNS_OK, "A 192.0.2.77");
	fake_dns_add("slow.example", ns_t_a, DNS_SERVFAIL, NULL);
}

/* add_txt - register text as the TXT record of name ("" = no record) */
static void add_txt(const char *name, const char *text, size_t split)
{
	static unsigned char pkt[2 * TEXT_MAX];
	int n;

	if (!*text)
		return;
	n = txt_reply(pkt, sizeof(pkt), name, text, split);
	if (n > 0)
		FUZZ_CHECK(fake_dns_add_raw(name, ns_t_txt, DNS_OK, pkt, n) == 0);
}

/* check_outcome - what spf.h promises about *out */
static void check_outcome(const struct spf_outcome *o, enum spf_result r)
{
	FUZZ_CHECK(o->result == r);
	FUZZ_CHECK(r >= SPFR_PASS && r <= SPFR_PERMERROR);
	FUZZ_CHECK(fuzz_terminated(o->identity, sizeof(o->identity)));
	FUZZ_CHECK(fuzz_terminated(o->domain, sizeof(o->domain)));
	FUZZ_CHECK(fuzz_terminated(o->explanation, sizeof(o->explanation)));
	FUZZ_CHECK(fuzz_terminated(o->reason, sizeof(o->reason)));
	if (r != SPFR_FAIL)
		FUZZ_CHECK(o->explanation[0] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_status defaults[] = { DNS_NXDOMAIN, DNS_NODATA, DNS_SERVFAIL, DNS_TIMEOUT };
	static char rec[3][TEXT_MAX];
	struct fuzz_in in = { data, size };
	struct sockaddr_storage ss;
	struct spf_outcome out;
	struct resolver *res;
	enum spf_result r;
	unsigned flags;
	char err[256];

	if (!ctx) {
		struct spf_options opt = { "DEFAULT %{i} for %{d}", "receiver.example" };
		FUZZ_CHECK((ctx = spf_context_new(&opt, err, sizeof(err))) != NULL);
	}
	flags = fuzz_byte(&in);
	for (int i = 0; i < 3; i++)
		fuzz_str(&in, rec[i], sizeof(rec[i]));

	memset(&ss, 0, sizeof(ss));
	if (flags & 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::1", &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.77", &s4->sin_addr);
	}
	fake_dns_reset();
	fake_dns_default(defaults[(flags >> 1) & 3]);
	zone();
	add_txt("example.org", rec[0], flags & 8 ? 255 : 64);
	add_txt("inc.example", rec[1], 255);
	add_txt("exp.example", rec[2], 255);

	FUZZ_CHECK((res = resolver_new(NULL, err, sizeof(err))) != NULL);
	memset(&out, 0xa5, sizeof(out));
	r = spf_check_mailfrom(ctx, res, (const struct sockaddr *)&ss, "helo.example.net",
			       "user.name@example.org", &out);
	check_outcome(&out, r);
	resolver_free(res);
	fake_dns_reset();
	return 0;
}
