/*
 * dkim_test_util.c - helpers shared by the DKIM unit tests (test_dkim*.c):
 * one library for a test binary, keys served by the fake resolver, and a
 * message fed to a verifier the way the milter feeds it. Linked into
 * every unit test binary (Makefile); only the DKIM tests call it.
 */

/* system */
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "tests/unit/fact_groups.h"
#include "policy/dkim.h"
#include "policy/resolver.h"
#include "tests/unit/dkim_test_util.h"
#include "tests/unit/fake_resolver.h"

struct dkimv_lib *dkt_lib;
bool dkt_bare_lf_folds;   /* dkt_feed_headers hands values over with LF folds */

/* dkt_setup - one library for the whole binary, as in the daemon. */
int dkt_setup(void **state)
{
	char err[256];

	(void)state;
	dkt_lib = dkimv_lib_new(NULL, err, sizeof err);
	if (dkt_lib == NULL)
		fprintf(stderr, "dkimv_lib_new: %s\n", err);
	return dkt_lib == NULL ? -1 : 0;
}

/* dkt_teardown - free the library. */
int dkt_teardown(void **state)
{
	(void)state;
	dkimv_lib_free(dkt_lib);
	return 0;
}

/* dkt_reset - before each test: no canned answers, folds as CRLF. */
int dkt_reset(void **state)
{
	(void)state;
	dkt_bare_lf_folds = false;
	fake_dns_reset();
	return 0;
}

/* dkt_add_key - serve a TXT key record, split into 255-byte strings as DNS needs. */
void dkt_add_key(const char *name, const char *record)
{
	char spec[4096];
	size_t n = strlen(record), o = 0;

	o += (size_t)snprintf(spec + o, sizeof spec - o, "TXT");
	for (size_t i = 0; i < n; i += 255)
		o += (size_t)snprintf(spec + o, sizeof spec - o, " \"%.*s\"", (int)(n - i > 255 ? 255 : n - i), record + i);
	assert_int_equal(fake_dns_add(name, ns_t_txt, DNS_OK, spec), 0);
}

/* dkt_replace - a copy of msg with the first "from" replaced by "to". Caller frees. */
char *dkt_replace(const char *msg, const char *from, const char *to)
{
	const char *at = strstr(msg, from);
	char *out;

	assert_non_null(at);
	out = malloc(strlen(msg) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, msg, (size_t)(at - msg));
	strcpy(out + (at - msg), to);
	strcat(out, at + strlen(from));
	return out;
}

/* dkt_lf_folds - turn every CRLF in s into a bare LF, in place (how MTAs store folds). */
void dkt_lf_folds(char *s)
{
	char *d = s;

	for (const char *p = s; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*d++ = *p;
	*d = '\0';
}


/* dkt_feed_headers - every header field of msg to the verifier; returns the body. */
const char *dkt_feed_headers(struct dkimv *v, const char *msg)
{
	const char *p = msg;

	while (!(p[0] == '\r' && p[1] == '\n')) {
		const char *colon = strchr(p, ':'), *e = p;
		char name[128], *value;

		assert_non_null(colon);
		for (;;) {
			e = strstr(e, "\r\n");
			assert_non_null(e);
			if (e[2] != ' ' && e[2] != '\t')
				break;
			e += 2;
		}
		assert_true((size_t)(colon - p) < sizeof name);
		memcpy(name, p, (size_t)(colon - p));
		name[colon - p] = '\0';
		value = strndup(colon + 1, (size_t)(e - colon - 1));
		assert_non_null(value);
		if (dkt_bare_lf_folds)
			dkt_lf_folds(value);
		assert_int_equal(dkimv_header(v, name, value), 0);
		free(value);
		p = e + 2;
	}
	return p + 2;
}

/* dkt_feed_body - the body in two chunks, to show it streams. */
void dkt_feed_body(struct dkimv *v, const char *body)
{
	size_t n = strlen(body), half = n / 2;

	assert_int_equal(dkimv_body(v, (const unsigned char *)body, half), 0);
	assert_int_equal(dkimv_body(v, (const unsigned char *)body + half, n - half), 0);
}

/* dkt_verify - run a whole message; f gets the facts. Caller frees the verifier and resolver. */
struct dkimv *dkt_verify(struct resolver **res, const char *msg, unsigned min_bits,
			    const char *from_domain, struct facts *f, int want_rc)
{
	char err[128];
	struct dkimv *v;

	*res = resolver_new(NULL, err, sizeof err);
	assert_non_null(*res);
	v = dkimv_new(dkt_lib, *res, min_bits, "TESTQ1");
	assert_non_null(v);
	memset(f, 0, sizeof *f);
	if (from_domain != NULL) {
		f->known |= FACT_FROM;
		snprintf(f->from_domain, sizeof f->from_domain, "%s", from_domain);
	}
	dkt_feed_body(v, dkt_feed_headers(v, msg));
	assert_int_equal(dkimv_eom(v, f), want_rc);
	assert_true(f->known & FACT_DKIM);
	return v;
}

/* dkt_done - free what dkt_verify made. */
void dkt_done(struct dkimv *v, struct resolver *res)
{
	dkimv_free(v);
	resolver_free(res);
}

/* dkt_one_sig - the single result of a verifier. */
const struct dkimv_sig *dkt_one_sig(const struct dkimv *v)
{
	size_t n;
	const struct dkimv_sig *s = dkimv_results(v, &n);

	assert_int_equal(n, 1);
	return s;
}
