/*
 * dkim.h - DKIM verification of one message (RFC 6376) with libopendkim,
 * every key lookup on the connection's own resolver.
 *
 * Prefix dkimv_: libopendkim owns the dkim_ namespace (dkim_init,
 * dkim_header, dkim_eoh, dkim_body, dkim_eom, dkim_free all exist there).
 *
 * Lifetimes:
 *   struct dkimv_lib  - once per process (dkimv_lib_new before threads,
 *                       dkimv_lib_free at exit). Read-only afterwards, so
 *                       all connection threads share it.
 *   struct dkimv      - one per message, created and used by the thread
 *                       that owns the connection's resolver; freed with
 *                       dkimv_free() at end of message or abort.
 *
 * Flow: dkimv_header() for each header as it arrives (nothing but the
 * headers is kept, by libopendkim), dkimv_eoh() which also fires the key
 * queries of every signature, dkimv_body() per chunk (hashed on the fly,
 * never buffered), dkimv_eom() which waits for whatever key answer has
 * not arrived yet (bounded by the resolver's per-message deadline) and
 * writes facts->dkim and facts->dkim_aligned.
 *
 * How the key lookups really go (checked in libopendkim 2.11 source):
 * a verifying dkim_eoh() fetches keys and checks header hashes itself,
 * synchronously, through the query_start/waitreply hooks, unless
 * DKIM_LIBFLAGS_DELAYSIGPROC is set, in which case dkim_eom() does it.
 * We set DELAYSIGPROC, and at end of headers start one TXT query per
 * distinct selector._domainkey.domain ourselves (dkim_getsiglist); when
 * libopendkim asks for that name at end of message, the start hook finds
 * the query already answered (or in flight) and waitreply drives the
 * resolver until it is. So key lookups overlap with the body transfer
 * and the other checks' DNS.
 *
 * Results per signature (struct dkimv_sig.result), decided here:
 *   pass       signature and body hash verify, key long enough
 *   fail       header signature or body hash does not verify, key
 *              revoked (p= empty), l= longer than the body, signature
 *              expired (x=) or dated in the future
 *   temperror  key lookup SERVFAIL/REFUSED/timeout/deadline, or an
 *              internal error (out of memory) - never "no key"
 *   permerror  no key (NXDOMAIN/NODATA), malformed signature or key,
 *              unsupported algorithm, several key records, RSA key
 *              shorter than min_key_bits (RFC 8301: not valid; a
 *              permanent property of the signer, not a forgery, so not
 *              "fail"); a d= that is not a domain name or an s= that is
 *              not a selector (policy/dkim_tags.h), decided at end of
 *              headers before any key lookup - no DNS query is ever sent
 *              for such a signature (libopendkim would ask for
 *              "s._domainkey.legitimate.com(.attacker.com" and pass it)
 * The message's fact is the best over all signatures, in this order:
 *   pass > temperror > fail > permerror > none.
 * temperror ranks above fail because a signature whose key could not be
 * fetched might still pass on retry: while any result is unknown we
 * cannot claim the message fails. No signature at all gives none.
 *
 * dkim_aligned: some passing signature's d= has the same organizational
 * domain as facts->from_domain (relaxed alignment, RFC 7489 §3.1.1).
 *
 * At most max_signatures signatures per message are verified, the first
 * ones in header order (the most recently added); further DKIM-Signature
 * fields are not even parsed, so neither DNS queries nor body hashing
 * grow with a hostile message's signature count. They are not reported.
 */
#ifndef MXGUARD_POLICY_DKIM_H
#define MXGUARD_POLICY_DKIM_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/facts.h"

struct resolver;
struct orgdomain;
struct dkimv_lib;
struct dkimv;

#define DKIMV_DEFAULT_MAX_SIGS 10
#define DKIMV_SELECTOR_MAX     64   /* longer selectors are reported cut */
#define DKIMV_REASON_MAX       128

/* One signature's outcome, for Authentication-Results and the log. Plain data. */
struct dkimv_sig {
	enum dkim_result result;
	char domain[FACT_NAME_MAX];          /* d=, printable ASCII only; "" when missing */
	char selector[DKIMV_SELECTOR_MAX];   /* s=, same */
	char b[9];                           /* first 8 characters of b= (header.b), "" when missing */
	char algorithm[24];                  /* a=, e.g. "rsa-sha256"; "" when missing */
	unsigned key_bits;                   /* RSA modulus bits; 0 for ed25519 or when no key was loaded */
	bool aligned;                        /* passes and d= aligns (relaxed) with the From: domain */
	char reason[DKIMV_REASON_MAX];       /* why it did not pass; "" on pass */
};

struct dkimv_lib_options {
	bool fixcrlf;             /* accept LF-only lines (DKIM_LIBFLAGS_FIXCRLF); milter input is CRLF already */
	unsigned max_signatures;  /* 0 = DKIMV_DEFAULT_MAX_SIGS */
	const char *psl_file;     /* Public Suffix List; NULL = libpsl's newest (Debian's publicsuffix) */
};

/*
 * dkimv_lib_new - initialise libopendkim with our DNS hooks and load the
 * Public Suffix List. NULL opt means defaults. Returns NULL with a reason
 * in err. The caller owns the result: dkimv_lib_free().
 */
struct dkimv_lib *dkimv_lib_new(const struct dkimv_lib_options *opt, char *err, size_t errlen);
void dkimv_lib_free(struct dkimv_lib *);

/* dkimv_lib_ed25519 - does this libopendkim verify ed25519-sha256 (RFC 8463)? */
bool dkimv_lib_ed25519(const struct dkimv_lib *);

/* dkimv_lib_orgdomain - the loaded Public Suffix List, for other alignment checks. */
const struct orgdomain *dkimv_lib_orgdomain(const struct dkimv_lib *);

/*
 * dkimv_new - a verifier for one message. res is the connection's
 * resolver (must outlive nothing: pending key queries are detached at
 * dkimv_free). min_key_bits: RSA keys shorter than this give permerror
 * (config dkim_min_key_bits; 0 = 1024). id (queue id, may be NULL) is
 * copied. NULL when out of memory.
 */
struct dkimv *dkimv_new(struct dkimv_lib *, struct resolver *res, unsigned min_key_bits, const char *id);

/*
 * dkimv_header - one header field. value is the field body exactly as it
 * followed the colon, leading whitespace included (negotiate
 * SMFIP_HDR_LEADSPC; if the MTA strips it, pass " " + value), folds as
 * "\r\n" or "\n" plus whitespace. Returns 0, or -1 on an internal error
 * (the verifier then reports temperror).
 */
int dkimv_header(struct dkimv *, const char *name, const char *value);

/* dkimv_eoh - end of headers: parse signatures, start their key queries. 0 or -1 (internal error). */
int dkimv_eoh(struct dkimv *);

/* dkimv_body - a chunk of body, CRLF line ends (LF-only too with fixcrlf). 0 or -1 (internal error). */
int dkimv_body(struct dkimv *, const unsigned char *chunk, size_t len);

/*
 * dkimv_eom - finish: wait for outstanding keys, verify every signature,
 * then set f->dkim, f->dkim_aligned, f->dkim_detail (per signature
 * "d/s result (why)", for the log) and the dkim facts in f->known. The From:
 * domain for alignment is f->from_domain (when FACT_FROM is known).
 * Returns 0, or -1 on an internal error (f->dkim is then temperror).
 * Call once.
 */
int dkimv_eom(struct dkimv *, struct facts *f);

/* dkimv_keys_pending - key queries started and not answered yet (0 before dkimv_eoh). */
unsigned dkimv_keys_pending(const struct dkimv *);

/* dkimv_results - per-signature results after dkimv_eom, in header order; *n gets the count. Owned by the verifier. */
const struct dkimv_sig *dkimv_results(const struct dkimv *, size_t *n);

/* dkimv_error - libopendkim's last message-level error text, or "" (for the log). Never NULL. */
const char *dkimv_error(const struct dkimv *);

/* dkimv_free - NULL is fine. Key queries still in flight are detached and cleaned up by their callbacks. */
void dkimv_free(struct dkimv *);

#endif
