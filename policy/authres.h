/*
 * authres.h - the Authentication-Results header (RFC 8601), the optional
 * Received-SPF header (RFC 7208 §9.1), and recognising forged
 * Authentication-Results that claim to be ours (RFC 8601 §5).
 *
 * Pure text work: no I/O, no logging. Every string put into a header is
 * made safe first: control characters (CR, LF, ...) never reach the
 * output, values that are not tokens are quoted, comment text is escaped.
 * Lines are folded ("\n\t", the convention of libmilter's header calls)
 * to stay near 78 columns, counting the header name on the first line.
 *
 * What the A-R header says (each check adds its part, in check-table order):
 *   authserv-id [ "(mx=RESULT)" ]       the MX fact as a comment: there is
 *                                       no registered "mx" method, and an
 *                                       unregistered method=result pair
 *                                       would be misread by A-R consumers
 *   spf=R smtp.mailfrom=ADDR            MAIL FROM identity (when checked)
 *   spf=R smtp.helo=HELO                HELO identity (when checked)
 *   dkim=R (why) header.d= header.s= header.a= header.b=   per signature
 *   dkim=none                           signed by nobody
 *   dmarc=R (p=P [sp=S|np=N] [t=y] dis=D) header.from=F policy.dmarc=A
 *                                       the record's p, and the sp or np
 *                                       that applied instead, D what was
 *                                       done (none or quarantine: only
 *                                       delivered mail gets the header),
 *                                       A the policy applied (after t=y)
 *   none                                when nothing at all was checked
 * Results "skipped" and "unknown" are left out.
 */
#ifndef MXGUARD_AUTHRES_H
#define MXGUARD_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/facts.h"
#include "policy/dkim.h"

/*
 * Building an Authentication-Results field body (without the
 * "Authentication-Results:" name), folded. Each check adds its part
 * from its facts (the orchestrator calls them in check-table order):
 *   ar = authres_begin(authserv_id);     NULL: out of memory or no usable id
 *   authres_mx(ar, f); authres_spf(ar, f); ...
 *   authres_finish(ar, &value);          frees ar; 0 with *value malloc'd
 *                                        (the caller frees), -1 when out of
 *                                        memory (or ar was NULL), *value NULL
 * Each part writes nothing when its fact is unknown or skipped.
 */
struct authres_hdr;

struct authres_hdr *authres_begin(const char *authserv_id);
/* authres_mx - "(mx=RESULT)" comment after the authserv-id (no registered method exists). */
void authres_mx(struct authres_hdr *, const struct facts *f);
/* authres_spf - "spf=R (why) smtp.mailfrom=ADDR" (postmaster@HELO for <>). */
void authres_spf(struct authres_hdr *, const struct facts *f);
/* authres_helo_spf - "spf=R smtp.helo=HELO". */
void authres_helo_spf(struct authres_hdr *, const struct facts *f);
/* authres_dkim - one "dkim=R (why) header.d= ..." per signature in sigs[0..n), or "dkim=R" when none. */
void authres_dkim(struct authres_hdr *, const struct facts *f, const struct dkimv_sig *sigs, size_t n);
/*
 * authres_dmarc - "dmarc=R (COMMENT) header.from=F policy.dmarc=A"; the
 * comment ("p=reject sp=none dis=none", made by the dmarc row) and
 * policy.dmarc only when a record applied (policy_comment not NULL/"").
 */
void authres_dmarc(struct authres_hdr *, const struct facts *f, const char *policy_comment);
int authres_finish(struct authres_hdr *, char **value);

/*
 * authres_received_spf - the Received-SPF field body for the MAIL FROM
 * result (or the HELO result when MAIL FROM was not checked), naming
 * authserv_id as the receiver. Returns 0 with *out malloc'd, 0 with *out
 * NULL when there is no SPF result to report, -1 when out of memory.
 */
int authres_received_spf(const char *authserv_id, const struct facts *f, char **out);

/*
 * authres_claims_id - does this Authentication-Results field body name
 * authserv_id as its authserv-id? The first token (or quoted-string)
 * after any comments and whitespace is compared case-insensitively; a
 * version number or anything after it does not matter. Such a header,
 * arriving from outside, is a forgery: remove it.
 */
bool authres_claims_id(const char *value, const char *authserv_id);

#endif
