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
 * What the A-R header says, in this order:
 *   authserv-id [ "(mx=RESULT)" ]       the MX fact as a comment: there is
 *                                       no registered "mx" method, and an
 *                                       unregistered method=result pair
 *                                       would be misread by A-R consumers
 *   spf=R smtp.mailfrom=ADDR            MAIL FROM identity (when checked)
 *   spf=R smtp.helo=HELO                HELO identity (when checked)
 *   dkim=R (why) header.d= header.s= header.a= header.b=   per signature
 *   dkim=none                           signed by nobody
 *   none                                when nothing at all was checked
 * Results "skipped" and "unknown" are left out.
 */
#ifndef MXGUARD_AUTHRES_H
#define MXGUARD_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/facts.h"
#include "policy/dkim.h"

struct authres_input {
	const char *authserv_id;          /* required, e.g. the host name */
	const struct facts *facts;        /* mx, spf, helo_spf, dkim, sender, helo, client_ip; FACT_* bits in known */
	const struct dkimv_sig *sigs;     /* per-signature DKIM results (dkimv_results), may be NULL */
	size_t n_sigs;
};

/*
 * authres_build - the Authentication-Results field body (without the
 * "Authentication-Results:" name), folded. On success *out is a malloc'd
 * string the caller frees; returns 0. Returns -1 (out of memory, or no
 * usable authserv_id) with *out NULL.
 */
int authres_build(const struct authres_input *in, char **out);

/*
 * authres_received_spf - the Received-SPF field body for the MAIL FROM
 * result (or the HELO result when MAIL FROM was not checked). Returns 0
 * with *out malloc'd, 0 with *out NULL when there is no SPF result to
 * report, -1 when out of memory.
 */
int authres_received_spf(const struct authres_input *in, char **out);

/*
 * authres_claims_id - does this Authentication-Results field body name
 * authserv_id as its authserv-id? The first token (or quoted-string)
 * after any comments and whitespace is compared case-insensitively; a
 * version number or anything after it does not matter. Such a header,
 * arriving from outside, is a forgery: remove it.
 */
bool authres_claims_id(const char *value, const char *authserv_id);

#endif
