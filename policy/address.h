/*
 * address.h - envelope addresses and domain names, as the checks need them.
 *
 * address_parse() takes the MAIL FROM argument as libmilter hands it
 * ("<user@example.org>", with or without the brackets; ESMTP parameters
 * arrive separately) and says what kind of sender it is:
 *
 *   ADDR_NULL     "<>" (or an empty argument): bounces; no domain
 *   ADDR_NORMAL   user@domain with a valid host name
 *   ADDR_LITERAL  user@[192.0.2.1] or user@[IPv6:2001:db8::1]
 *   ADDR_INVALID  anything else, with a reason
 *
 * Source routes ("<@a,@b:user@dom>") are dropped (RFC 5321 §4.1.2 says
 * to ignore them). Quoted local parts ("a b"@x, "a@b"@x) are kept as
 * given, quotes included. The local part is checked loosely on purpose:
 * the MTA has already accepted it, and the sender's domain, not the
 * spelling of its mailbox, is what mxguard judges. Only an empty local
 * part, unbalanced quotes, controls and unquoted spaces make it invalid.
 *
 * Domains are normalised: trailing dot dropped, lower case, IDN (UTF-8,
 * SMTPUTF8) converted to A-labels by libidn2 (UTS #46 nontransitional,
 * then transitional as a fallback). A valid host name has LDH labels of
 * 1..63 octets, no hyphen at either end of a label, at most 253 octets
 * in all, and a top-level label that is not all digits (so "1.2.3.4"
 * without brackets is invalid, not a name to look up).
 *
 * Nothing here allocates; results live in the caller's struct.
 */
#ifndef MXGUARD_ADDRESS_H
#define MXGUARD_ADDRESS_H

#include <stddef.h>

#include "policy/facts.h"

enum addr_class {
	ADDR_NULL = 1,
	ADDR_NORMAL,
	ADDR_LITERAL,
	ADDR_INVALID,
};

#define ADDR_REASON_MAX 128

struct address {
	enum addr_class cls;
	char local[FACT_ADDR_MAX];       /* as given (quotes kept); "" for null/invalid */
	char domain[FACT_NAME_MAX];      /* NORMAL: A-label, lower case, no trailing dot;
					    LITERAL: the literal with its brackets, e.g. "[192.0.2.1]";
					    "" otherwise */
	char addr[FACT_ADDR_MAX];        /* NORMAL/LITERAL: local@domain, normalised; "" otherwise */
	char reason[ADDR_REASON_MAX];    /* INVALID: why, e.g. "label longer than 63 octets"; "" otherwise */
};

/*
 * address_parse - classify a MAIL FROM argument. Always fills out (never
 * fails: bad input is ADDR_INVALID) and returns out->cls. arg may be NULL
 * (treated as ADDR_INVALID).
 */
enum addr_class address_parse(const char *arg, struct address *out);

/*
 * address_domain - normalise and check a bare host name (sender domain,
 * HELO name, From: domain). On success writes the A-label form to out
 * and returns 0; otherwise returns -1 with a reason in reason (which may
 * be NULL). out must hold FACT_NAME_MAX bytes to fit any valid name.
 */
int address_domain(const char *in, char *out, size_t outlen,
		   char *reason, size_t reasonlen);

/*
 * address_literal - check an address literal "[...]" (brackets included):
 * IPv4 dotted quad or "IPv6:" followed by an IPv6 address. 0 or -1 with a
 * reason. A general literal ("[tag:content]", RFC 5321 §4.1.3) is
 * rejected: no MTA we talk to uses one.
 */
int address_literal(const char *lit, char *reason, size_t reasonlen);

#endif
