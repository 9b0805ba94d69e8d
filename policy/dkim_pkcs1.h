/*
 * dkim_pkcs1.h - DKIM key records whose p= is a bare PKCS#1
 * RSAPublicKey, made readable for libopendkim.
 *
 * RFC 6376 §3.6.1 says p= is "an RSAPublicKey (in PKCS#1)"; most signers
 * (and §3.6.1's own example) publish a SubjectPublicKeyInfo wrapping it,
 * and libopendkim only reads that form (d2i_PUBKEY: "unable to apply
 * public key"). Other verifiers (dkimpy) accept both, so a signer that
 * took the RFC at its word fails only with us. The key reply handed to
 * libopendkim (dkim_reply.c) therefore gets such a p= rewritten: the DER
 * RSAPublicKey (a SEQUENCE of two positive INTEGERs and nothing else) is
 * wrapped into SubjectPublicKeyInfo { AlgorithmIdentifier { rsaEncryption
 * 1.2.840.113549.1.1.1, NULL }, BIT STRING { RSAPublicKey } }.
 *
 * Only what is certainly a bare RSAPublicKey is rewritten: an RSA key
 * (k= absent or "rsa"), one p= (strict base64, folding whitespace
 * allowed) that decodes to exactly that DER structure (definite, minimal
 * lengths). Everything else - SubjectPublicKeyInfo keys, ed25519 keys,
 * revoked keys (p= empty), broken or truncated blobs, duplicate tags - is
 * passed on unchanged, and libopendkim judges it as before (a key it
 * cannot decode is permerror).
 *
 * Pure: no state, no allocation; bounded stack (a record of at most
 * DKIMP_RECORD_MAX bytes). Prefix dkimp_.
 */
#ifndef MXGUARD_POLICY_DKIM_PKCS1_H
#define MXGUARD_POLICY_DKIM_PKCS1_H

#include <stddef.h>

/*
 * Longest record examined. libopendkim reads at most 1024 bytes of key
 * record anyway; longer records are passed on unchanged.
 */
#define DKIMP_RECORD_MAX 2048
/* What a rewrite can add: 24 DER bytes are at most 32 base64 characters, plus padding. */
#define DKIMP_GROWTH     40

/*
 * dkimp_rewrite - rec (len bytes: the strings of one TXT record joined,
 * no NUL needed) with a bare PKCS#1 p= wrapped as SubjectPublicKeyInfo,
 * every other byte kept, written to out. Returns the new length, or 0
 * when the record is to be used unchanged (see above) or does not fit
 * outlen (len + DKIMP_GROWTH always fits).
 */
size_t dkimp_rewrite(const char *rec, size_t len, char *out, size_t outlen);

#endif
