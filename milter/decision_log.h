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
 *          dry_run is a boolean and elapsed_ms a number. Then what
 *          `mxguard replay` needs to decide the message again: time (UTC),
 *          txn (the message's id, the same on each of its lines), rcpts
 *          (its recipients so far, refused ones too, at most
 *          DECISION_RCPTS_MAX and DECISION_RCPTS_TEXT octets; rcpts_more
 *          counts the others when there are), partial (the set facts a DNS
 *          error left incomplete) and log_version (DECISION_LOG_VERSION).
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
	/* json only, for replay (NULL / 0: the key says none) */
	const char *time;              /* when the line was written, "2026-12-03T10:00:00.123Z" */
	const char *txn;               /* the message's id */
	const char *rcpts;             /* nrcpts recipients, each NUL-terminated, one after another */
	unsigned nrcpts;
	unsigned rcpts_more;           /* recipients given but not in rcpts */
};

/* Version of the JSON line's keys: 2 added time, txn, rcpts, rcpts_more, partial (1: none of them). */
#define DECISION_LOG_VERSION 2

/* How many recipients a message's lines list, and the octets they take at most (NULs included). */
#define DECISION_RCPTS_MAX  64
#define DECISION_RCPTS_TEXT 4096

/*
 * The longest line decision_log() writes: every byte of every fact at its
 * worst (6 bytes, \ufffd in JSON, for invalid UTF-8; a set's members are
 * shorter as text than as stored), plus the keys, rcpt, reply and error.
 * A line cut short would lose the decision fields at its end. The
 * recipients: each octet 6 bytes at worst, and quotes, brackets and
 * commas; the partial sets' names.
 */
#define DECISION_LINE_MAX (6 * sizeof(struct facts) + 8192 + 6 * DECISION_RCPTS_TEXT + \
			   8 * DECISION_RCPTS_MAX + 32 * FACT_COUNT)

/* decision_format - render d into buf (always NUL-terminated, truncated if needed); returns strlen(buf). */
size_t decision_format(enum log_format fmt, const struct decision *d, char *buf, size_t len);

/* decision_log - format and write one line through log_decision(). */
void decision_log(enum log_format fmt, const struct decision *d);

#endif
