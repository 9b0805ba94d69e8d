/*
 * dkim_reply.h - the key reply handed to libopendkim's query hooks.
 *
 * libopendkim parses DNS wire data itself (and Debian's 2.11 beta trusts
 * TXT string lengths in it). So it never sees a reply from the network:
 * the TXT records of the resolver's answer are extracted with c-ares and
 * re-encoded into a minimal, well-formed reply (question + the records,
 * each name a pointer to the question). A malformed answer is refused
 * (the caller reports a temporary key failure), never passed on. A key
 * record whose p= is a bare PKCS#1 RSAPublicKey, which libopendkim cannot
 * read, is handed over with p= wrapped as SubjectPublicKeyInfo
 * (dkim_pkcs1.h).
 */
#ifndef MXGUARD_POLICY_DKIM_REPLY_H
#define MXGUARD_POLICY_DKIM_REPLY_H

#include <stddef.h>

#include "policy/resolver.h"

/*
 * dkimr_build - a DNS message into buf: header (id 0, QR RD RA; rcode
 * NXDOMAIN for st DNS_NXDOMAIN or DNS_BADNAME, else NOERROR), question
 * qname/TXT/IN ("invalid" when qname cannot be encoded) and, for DNS_OK,
 * one TXT answer per TXT record of answer/answer_len (a raw reply, may be
 * NULL), strings kept as they were - except a record dkimp_rewrite
 * rewrites, whose new text goes out in strings of 255 bytes (the last
 * shorter). Returns the length, or -1 when the answer is malformed or
 * buf is too small.
 */
int dkimr_build(const char *qname, enum dns_status st, const unsigned char *answer,
		int answer_len, unsigned char *buf, size_t buflen);

#endif
