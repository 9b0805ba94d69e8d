/*
 * decision_log.h - the one line logged per message decision (and per
 * rejected recipient).
 *
 * The caller fills a struct decision with pointers it owns; nothing is
 * kept after the call. Two formats (log_format in the config):
 *
 *   text:  queue_id=4BcD12 client_ip=192.0.2.1 helo=mail.example.org
 *          sender=<a@example.org> ... action=reject reply="550 5.7.27 ..."
 *          key=value pairs in a fixed order; a value is quoted ("...",
 *          with \" \\ and \xNN escapes) when it is empty or holds a space,
 *          a quote, a backslash, '=' or a control character. Unknown facts
 *          are "-".
 *   json:  one object per line with the same keys; unknown facts are null,
 *          dry_run is a boolean and elapsed_ms a number.
 */
#ifndef MXGUARD_DECISION_LOG_H
#define MXGUARD_DECISION_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "policy/facts.h"

struct decision {
	const char *queue_id;          /* NULL or "" when the MTA gave none */
	const struct facts *facts;     /* required */
	const char *rcpt;              /* the rejected recipient, NULL for a message line */
	const char *stage;             /* where it was decided: "mail", "rcpt", "eom", "abort" */
	const char *rule;              /* deciding rule, NULL when undecided */
	const char *action;            /* "accept", "reject", ..., "none" */
	const char *reply;             /* "550 5.7.27 text" as sent, NULL when none */
	bool dry_run;                  /* the action was only logged, the message accepted */
	long elapsed_ms;               /* from MAIL FROM to the decision */
	const char *error;             /* internal error text, NULL when none */
};

/*
 * The longest line decision_log() writes: every byte of every fact at its
 * worst (6 bytes, \ufffd in JSON, for invalid UTF-8; a set's members are
 * shorter as text than as stored), plus the keys, rcpt, reply and error.
 * A line cut short would lose the decision fields at its end.
 */
#define DECISION_LINE_MAX (6 * sizeof(struct facts) + 8192)

/* decision_format - render d into buf (always NUL-terminated, truncated if needed); returns strlen(buf). */
size_t decision_format(enum log_format fmt, const struct decision *d, char *buf, size_t len);

/* decision_log - format and write one line through log_decision(). */
void decision_log(enum log_format fmt, const struct decision *d);

#endif
