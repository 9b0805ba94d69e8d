/*
 * reply.h - SMTP reply text for a verdict: defaults, %{macro}
 * substitution, sanitising and escaping.
 *
 * Pure and allocation-free: everything is written into caller-owned
 * fixed buffers (struct reply). The text comes from the rule's template
 * (validated at config load by reply_check_template) or, when the rule
 * gave none, from the action's default:
 *     reject      550 5.7.1 "rejected by policy (%{rule})"
 *     tempfail    451 4.7.1 "temporarily deferred by policy (%{rule}), try again later"
 *     quarantine  "quarantined by policy (%{rule})"   (the quarantine reason)
 *     accept, discard: no code, no text.
 * A code without an enhanced code gets X.7.1 of the same class.
 *
 * Macros: every fact of policy/facts.def by its name (%{sender},
 * %{mx}, %{mx_detail}, ...), plus %{domain} (the sender domain, or the
 * HELO name for the null sender) and %{rule}; "%%" is a literal "%". A
 * fact not known yet expands to "unknown" for results and yes/no facts
 * and to "" for the others; %{sender} is the bare address, "<>" for the
 * null sender; a set's members are joined by ",".
 *
 * Sanitising: what a client sent (helo, sender, ...) is hostile. Every
 * byte outside printable ASCII becomes '?', so no CR/LF can end the SMTP
 * line early. The text is cut at REPLY_TEXT_MAX bytes (ending in "...")
 * so "550 5.7.27 " + text stays well under SMTP's 512-octet line.
 */
#ifndef MXGUARD_REPLY_H
#define MXGUARD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/facts.h"
#include "policy/rules.h"

#define REPLY_TEXT_MAX 400

struct reply {
	char code[4];                            /* "550"; "" for accept/discard/quarantine */
	char xcode[16];                          /* "5.7.27"; "" likewise */
	char text[REPLY_TEXT_MAX + 1];           /* final text, NOT escaped: for the log and the quarantine reason */
	char smtp_text[2 * REPLY_TEXT_MAX + 1];  /* the same with every '%' doubled: for libmilter's setreply */
	char line[REPLY_TEXT_MAX + 32];          /* "550 5.7.27 text" (the parts that are not empty): for logs and `check` */
};

/*
 * reply_format - fill out for a decided verdict (v->action != ACTION_NONE).
 * Never fails: a bad template cannot get here (checked at load time) and
 * over-long text is cut.
 */
void reply_format(const struct verdict *v, const struct facts *f, struct reply *out);

/*
 * reply_log_text - only the final, unescaped text (as reply_format's
 * out->text) into buf; returns buf. For log lines that need no struct.
 */
const char *reply_log_text(const struct verdict *v, const struct facts *f,
			   char *buf, size_t buflen);

/*
 * reply_escape - copy text into buf doubling every '%' (libmilter's setreply
 * reads its text as a format). Truncates at a character
 * boundary (never half a "%%"). Returns buf.
 */
const char *reply_escape(const char *text, char *buf, size_t buflen);

/*
 * reply_check_template - validate an operator's reply at load time:
 * code "4xx"/"5xx" matching the action (reject 5, tempfail 4), enhanced
 * code "C.S.D" (RFC 3463: C the same class digit, S and D 1-3 digits),
 * text printable ASCII with only known %{macros} (a list's facts by the
 * configured list_name, which may be NULL). code/xcode/text may be
 * NULL (not given). Returns 0, or -1 with a reason in err.
 */
int reply_check_template(enum action a, const char *code, const char *xcode,
			 const char *text, const char *const *list_name, char *err, size_t errlen);

/*
 * reply_macro_at - the name of macro i (domain, rule, then every fact;
 * a family once, as "dnsbl.LIST", into buf), "" for a family's other
 * ids, NULL past the last.
 */
const char *reply_macro_at(size_t i, char *buf, size_t len);

/* reply_macro_names - "domain, rule, client_ip, ..." into buf, for help messages; returns buf. */
const char *reply_macro_names(char *buf, size_t len);

#endif
