/*
 * fuzz_spf_guard.c - libFuzzer harness for policy/spf_guard.h.
 *
 * The input is a TXT record from the sender's DNS. The guard exists so
 * that libspf2 1.2.10 (which abort()s on internal errors and has an
 * unpatched macro underflow) only ever compiles text that parsed here
 * first. So besides not crashing, this checks the guard's whole contract:
 *   - spf_guard_parse: a refusal says why; an accepted record's terms lie
 *     inside the input, with qualifiers, CIDR lengths, the redirect/exp
 *     indexes and has_all consistent;
 *   - spf_guard_rewrite, for an IPv4 and an IPv6 client: a terminated
 *     "v=spf1" text that libspf2 then compiles without a fatal error
 *     (SPF_error_handler aborts here, where the daemon would longjmp);
 *   - spf_guard_explanation + spf_guard_explain_text: the same for exp=
 *     text through libspf2's macro compiler;
 *   - the small text helpers (domain_spec, upper_hex, upper_nibbles,
 *     url_macro) on the same bytes.
 * libspf2 itself is not instrumented, but its memcpy/strcpy/sprintf go
 * through ASan's interceptors, which check the bounds of our buffers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <spf2/spf.h>

#include "policy/spf_guard.h"
#include "tests/fuzz/fuzz.h"

static SPF_server_t *server;

/* on_fatal - libspf2 gave up on text the guard let through: a finding */
static void on_fatal(const char *file, int line, const char *msg) __attribute__((noreturn));
static void on_fatal(const char *file, int line, const char *msg)
{
	fprintf(stderr, "libspf2 fatal error at %s:%d: %s\n", file ? file : "?", line, msg ? msg : "?");
	abort();
}

/* spf_server - one libspf2 server without network (zone DNS layer, empty) */
static SPF_server_t *spf_server(void)
{
	if (!server) {
		SPF_error_handler = on_fatal;
		SPF_warning_handler = NULL;
		SPF_info_handler = NULL;
		SPF_debug_handler = NULL;
		server = SPF_server_new(SPF_DNS_ZONE, 0);
		FUZZ_CHECK(server != NULL);
	}
	return server;
}

/* check_parsed - the parse result points into the input and agrees with itself */
static void check_parsed(const struct spf_parsed *p, const char *txt, size_t len)
{
	bool all = false;

	FUZZ_CHECK(p->n <= SPF_GUARD_MAX_TERMS);
	for (unsigned i = 0; i < p->n; i++) {
		const struct spf_term *t = &p->terms[i];
		bool mech = t->kind >= SPF_T_ALL && t->kind <= SPF_T_EXISTS;

		FUZZ_CHECK(t->kind >= SPF_T_ALL && t->kind <= SPF_T_UNKNOWN_MOD);
		if (mech)
			FUZZ_CHECK(t->qualifier && strchr("+-~?", t->qualifier));
		else
			FUZZ_CHECK(t->qualifier == 0);
		if (t->arg)
			FUZZ_CHECK(t->arg >= txt && t->arglen <= len && t->arg + t->arglen <= txt + len);
		FUZZ_CHECK(t->cidr4 >= -1 && t->cidr4 <= 32);
		FUZZ_CHECK(t->cidr6 >= -1 && t->cidr6 <= 128);
		all |= t->kind == SPF_T_ALL;
	}
	FUZZ_CHECK(p->has_all == all);
	FUZZ_CHECK(p->redirect == -1 || (p->redirect >= 0 && (unsigned)p->redirect < p->n &&
					  p->terms[p->redirect].kind == SPF_T_REDIRECT));
	FUZZ_CHECK(p->exp == -1 || (p->exp >= 0 && (unsigned)p->exp < p->n &&
				     p->terms[p->exp].kind == SPF_T_EXP));
}

/* macro_vals - the values a request would know, as spf_fetch.c fills them */
static void macro_vals(const char *vals[26], int af)
{
	memset(vals, 0, 26 * sizeof(*vals));
	vals['l' - 'a'] = "user.name";
	vals['s' - 'a'] = "user.name@mail.example.org";
	vals['o' - 'a'] = "mail.example.org";
	vals['d' - 'a'] = "mail.example.org";
	vals['h' - 'a'] = "helo.example.net";
	vals['i' - 'a'] = af == AF_INET ? "192.0.2.77"
		: "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1";
	vals['c' - 'a'] = af == AF_INET ? "192.0.2.77" : "2001:db8::1";
	vals['v' - 'a'] = af == AF_INET ? "in-addr" : "ip6";
	vals['r' - 'a'] = "receiver.example";
	vals['t' - 'a'] = "0";
}

/* rewrite_compile - rewrite for one client family and have libspf2 compile it */
static void rewrite_compile(const struct spf_parsed *p, int af)
{
	static const unsigned char v4[4] = { 192, 0, 2, 77 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct spf_rewrite_in in = { .af = af, .addr = af == AF_INET ? (const void *)v4 : (const void *)v6 };
	size_t outlen = 3 * SPF_GUARD_MAX_RECORD;   /* what spf_fetch.c gives it */
	char *out = malloc(outlen);
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	unsigned nmech = 0;

	if (!out)
		return;
	macro_vals(in.vals, af);
	if (spf_guard_rewrite(p, &in, out, outlen, &nmech) == 0) {
		FUZZ_CHECK(fuzz_terminated(out, outlen));
		FUZZ_CHECK(strncmp(out, "v=spf1", 6) == 0);
		resp = SPF_response_new(NULL);
		if (resp) {
			(void)SPF_record_compile(spf_server(), resp, &rec, out);
			if (rec)
				SPF_record_free(rec);
			SPF_response_free(resp);
		}
	}
	free(out);
}

/* check_explanation - an exp= text the guard accepts reaches libspf2's macro compiler */
static void check_explanation(const char *txt, size_t len)
{
	char why[128];
	char *nul, *escaped;
	const char *vals[26];
	size_t esclen = 4 * SPF_GUARD_MAX_EXP + 1;   /* as spf_fetch.c */

	memset(why, 0xa5, sizeof(why));
	if (spf_guard_explanation(txt, len, why, sizeof(why)) != 0) {
		FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0]);
		return;
	}
	FUZZ_CHECK(len <= SPF_GUARD_MAX_EXP);
	if (!(nul = fuzz_cstr((const uint8_t *)txt, len)) || !(escaped = malloc(esclen))) {
		free(nul);
		return;
	}
	FUZZ_CHECK(strlen(nul) == len);   /* an accepted text has no NUL byte */
	macro_vals(vals, AF_INET);
	if (spf_guard_explain_text(nul, vals, escaped, esclen) == 0) {
		SPF_response_t *resp = SPF_response_new(NULL);
		SPF_macro_t *macro = NULL;

		FUZZ_CHECK(fuzz_terminated(escaped, esclen));
		if (resp) {
			(void)SPF_record_compile_macro(spf_server(), resp, &macro, escaped);
			if (macro)
				SPF_macro_free(macro);
			SPF_response_free(resp);
		}
	}
	free(escaped);
	free(nul);
}

/* check_helpers - the in-place text helpers on a terminated copy */
static void check_helpers(const uint8_t *data, size_t size)
{
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	char *s = fuzz_cstr(data, size);
	char why[128];
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	memset(why, 0xa5, sizeof(why));
	if (spf_guard_domain_spec(s, n, why, sizeof(why)) != 0)
		FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0]);
	(void)spf_guard_url_macro(s);
	spf_guard_upper_nibbles(s, v6);
	FUZZ_CHECK(strlen(s) == n);
	spf_guard_upper_hex(s);
	FUZZ_CHECK(strlen(s) == n);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *txt = (const char *)data;
	struct spf_parsed *p;
	char why[128];

	if (size > 2 * SPF_GUARD_MAX_RECORD)
		return 0;
	(void)spf_guard_is_spf(txt, size);
	if ((p = malloc(sizeof(*p))) != NULL) {
		memset(why, 0xa5, sizeof(why));
		if (spf_guard_parse(txt, size, p, why, sizeof(why)) == 0) {
			FUZZ_CHECK(size <= SPF_GUARD_MAX_RECORD);
			check_parsed(p, txt, size);
			rewrite_compile(p, AF_INET);
			rewrite_compile(p, AF_INET6);
		} else {
			FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0]);
		}
		free(p);
	}
	check_explanation(txt, size);
	check_helpers(data, size);
	return 0;
}
