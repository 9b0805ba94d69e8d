/*
 * dkim_test_util.h - helpers shared by the DKIM unit tests; see
 * dkim_test_util.c. Everything that returns memory says who frees it.
 */
#ifndef MXGUARD_TEST_DKIM_UTIL_H
#define MXGUARD_TEST_DKIM_UTIL_H

#include <stdbool.h>

#include "policy/dkim.h"

struct resolver;

#define K2048  "sel2048._domainkey.example.com"
#define K1024  "sel1024._domainkey.example.com"
#define KED    "ed._domainkey.example.com"
#define KOTHER "sel1024._domainkey.other.example"

extern struct dkimv_lib *dkt_lib;      /* made by dkt_setup, for the whole binary */
extern bool dkt_bare_lf_folds;         /* dkt_feed_headers sends folds as bare LF */

/* dkt_setup / dkt_teardown - cmocka group setup: the library; dkt_reset - per test: fake DNS. */
int dkt_setup(void **state);
int dkt_teardown(void **state);
int dkt_reset(void **state);

/* dkt_add_key - serve a TXT key record at name, split into 255-byte strings. */
void dkt_add_key(const char *name, const char *record);

/* dkt_replace - a copy of msg with the first "from" replaced by "to". Caller frees. */
char *dkt_replace(const char *msg, const char *from, const char *to);

/* dkt_lf_folds - turn every CRLF in s into a bare LF, in place. */
void dkt_lf_folds(char *s);

/* dkt_feed_headers - every header field of msg to v; returns where the body starts. */
const char *dkt_feed_headers(struct dkimv *v, const char *msg);

/* dkt_feed_body - the body in two chunks. */
void dkt_feed_body(struct dkimv *v, const char *body);

/*
 * dkt_verify - a whole message through a new verifier on a new fake
 * resolver (*res); f gets the facts; dkimv_eom must return want_rc.
 * Free both with dkt_done().
 */
struct dkimv *dkt_verify(struct resolver **res, const char *msg, unsigned min_bits,
			 const char *from_domain, struct facts *f, int want_rc);

/* dkt_done - free what dkt_verify made. */
void dkt_done(struct dkimv *v, struct resolver *res);

/* dkt_one_sig - the single result of a verifier (asserts there is exactly one). */
const struct dkimv_sig *dkt_one_sig(const struct dkimv *v);

#endif
