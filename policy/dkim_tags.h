/*
 * dkim_tags.h - the syntax of a DKIM signature's d= and s= tags and of
 * the key name made from them (RFC 6376 §3.5, §3.6.2.1), checked by us
 * because libopendkim does not: it builds "s._domainkey.d" from whatever
 * printable text the tags hold and asks the DNS for it. So
 * d=legitimate.com(.attacker.com would make it fetch a key the attacker
 * publishes under attacker.com and "pass" a signature whose d= readers
 * (an Authentication-Results parser takes "(" as a comment) see as
 * legitimate.com. Such a signature is a permerror before any lookup
 * (RFC 6376 §6.1.1: a malformed signature is ignored, PERMFAIL).
 *
 * What counts (the RFC's grammar, with DNS practice where it is wider):
 *   d=  domain-name: two or more labels;            at most 253 characters
 *   s=  selector:    one or more labels
 *   label: 1..63 characters of letters, digits, '-' and '_' (the RFC's
 *          sub-domain has no '_' and no '-' at the ends; DNS names do, and
 *          neither changes which name is asked). No empty label, so no
 *          leading, trailing or doubled dot.
 *   key name s._domainkey.d: at most 253 characters (a DNS name).
 * Tag values arrive with folding whitespace already removed by
 * libopendkim, exactly as it would query them.
 *
 * Pure functions, no state, no allocation. Prefix dkimt_.
 */
#ifndef MXGUARD_POLICY_DKIM_TAGS_H
#define MXGUARD_POLICY_DKIM_TAGS_H

#include <stdbool.h>

/*
 * dkimt_check - why selector/domain cannot name a key, as a static
 * sentence for the signature's reason ("d= is not a domain name (empty
 * label)"), or NULL when both are usable. NULL tags count as missing
 * (libopendkim reports those itself; this says "missing" too).
 */
const char *dkimt_check(const char *selector, const char *domain);

/*
 * dkimt_key_name_ok - name (as libopendkim asks it: no trailing dot) is
 * labels as above, at most 253 characters, at least two labels. The DNS
 * hook asks this before sending anything.
 */
bool dkimt_key_name_ok(const char *name);

#endif
