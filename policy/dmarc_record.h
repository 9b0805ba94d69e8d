/*
 * dmarc_record.h - DMARC policy records (RFC 9989 §4.7, §4.8): which TXT
 * record at a _dmarc name counts, and what its tags say.
 *
 * Pure text work on the caller's buffers: no DNS, no allocation. Also
 * the d= of a DKIM-Signature field, which DMARC's identifier walks need.
 *
 * Which record counts (dmarc_record_pick, §4.10 steps 2 and 6): only
 * records that begin with the version tag exactly - "v" (any case),
 * optional blanks, "=", optional blanks, "DMARC1" (case-sensitive), then
 * the end or a ";" - are DMARC records; every other TXT record at the
 * name is ignored (SPF, verification tokens). Several DMARC records at
 * one name are all discarded: the name has no record.
 *
 * Tags (dmarc_record_parse). Unknown tags are ignored; a tag given twice
 * keeps its first value; a piece without "=" is a syntax error that is
 * skipped. Bad values (§4.8 "discarded in favor of default values"):
 *   adkim, aspf   not r/s       -> r (relaxed)
 *   t             not y/n       -> n
 *   psd           not y/n/u     -> u
 *   fo, rua, ruf                   only checked for the p rule below
 *   p absent                    -> p=none (§4.7)
 *   p, sp or np present but not none/quarantine/reject (§4.10.1):
 *                 with at least one syntactically valid URI in rua ->
 *                 the record acts as "p=none" (sp and np none too);
 *                 otherwise the record is unusable (DMARC_RECORD_UNUSABLE:
 *                 no DMARC processing; mxguard reports permerror)
 * Values compare case-insensitively except v's "DMARC1".
 */
#ifndef MXGUARD_DMARC_RECORD_H
#define MXGUARD_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

/* A policy as a record states it; DMARC_POLICY_ABSENT for a missing sp or np. */
enum dmarc_req {
	DMARC_POLICY_ABSENT = 0,
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

enum dmarc_psd { DMARC_PSD_U = 0, DMARC_PSD_Y, DMARC_PSD_N };

struct dmarc_record {
	enum dmarc_req p, sp, np;   /* p is never ABSENT after a successful parse */
	bool strict_dkim;           /* adkim=s */
	bool strict_spf;            /* aspf=s */
	bool testing;               /* t=y */
	enum dmarc_psd psd;
	bool has_rua;               /* rua with at least one valid URI */
	bool as_none;               /* a bad p/sp/np turned it into p=none (rua present) */
	char note[96];              /* what was wrong and replaced by a default, "" when nothing */
};

enum dmarc_record_status {
	DMARC_RECORD_OK = 0,        /* *rec filled */
	DMARC_RECORD_NOT_DMARC,     /* does not begin with v=DMARC1: not a DMARC record at all */
	DMARC_RECORD_UNUSABLE,      /* a DMARC record whose p/sp/np is invalid and no rua: no DMARC processing */
};

/*
 * dmarc_record_is_dmarc - does text (len bytes, may hold NULs: then no)
 * begin with the exact version tag?
 */
bool dmarc_record_is_dmarc(const char *text, size_t len);

/*
 * dmarc_record_parse - the tags of one record that dmarc_record_is_dmarc
 * accepted (checked again here). Always fills *rec (defaults on error).
 */
enum dmarc_record_status dmarc_record_parse(const char *text, size_t len, struct dmarc_record *rec);

/*
 * dmarc_signature_domain - the d= of a DKIM-Signature field value (folding
 * whitespace removed, normalised by address_domain: lower case, A-labels)
 * into out; false when it has none that is a host name.
 */
bool dmarc_signature_domain(const char *value, char *out, size_t len);

/* dmarc_req_name - "none", "quarantine", "reject"; "absent" for DMARC_POLICY_ABSENT. */
const char *dmarc_req_name(enum dmarc_req);

#endif
