/*
 * checks.h - the check orchestrator: runs the checks of one message and
 * asks the rules when a decision can be made.
 *
 * One struct checks per message, used by the milter callbacks and by
 * `mxguard check` alike. The caller feeds what the SMTP stages reveal
 * (client, HELO, MAIL FROM, RCPT, headers, body) and announces each
 * stage with checks_advance(); the orchestrator then starts only the
 * checks whose fact some rule that can still decide refers to
 * (rules_needed_facts), so a policy without MX rules never looks up an
 * MX. All checks share the connection's resolver and overlap.
 *
 * checks_decide() evaluates the rules and, while the first undecided
 * rules wait for a fact whose check is running, drives the resolver
 * until one of those checks finishes, then evaluates again. It never
 * waits past the message's DNS deadline (dns_timeout, set at MAIL FROM):
 * a check cut off by it reports temperror.
 *
 * Trusted clients (trusted_networks) and authenticated senders (when
 * skip_authenticated) skip every check: their facts are "skipped" and
 * the verdict is accept by the pseudo-rule "trusted" / "authenticated".
 *
 * A check whose fact no rule can use any more (a decision was made, or
 * the rules that wanted it turned false) is dropped at end of headers or
 * end of message: its lookups are abandoned and its fact stays unknown.
 * (Not earlier: a later RCPT may change what rules on rcpt need.) At end
 * of message the rcpt facts are those of the last recipient the message
 * kept (a refused one is taken back with checks_rcpt_refused).
 *
 * Ownership: the caller owns cfg and res and keeps both alive until
 * checks_free(); checks_free() cancels the message's pending lookups
 * (resolver_cancel_all) before freeing its own state. Verdicts point
 * into cfg's ruleset (or static storage).
 *
 * Adding a check (SPF, DKIM): write its start/done/finish/skip/release
 * adapters in checks.c and add one row to the table there.
 */
#ifndef MXGUARD_CHECKS_H
#define MXGUARD_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conf/config.h"
#include "policy/decide.h"
#include "policy/facts.h"
#include "policy/reply.h"
#include "policy/rules.h"

struct resolver;

enum checks_status {
	CHECKS_DECIDED = 0,    /* *v holds the verdict */
	CHECKS_UNDECIDED,      /* a rule needs facts of a later stage */
	CHECKS_ERROR,          /* internal error (out of memory, no resolver): see checks_error() */
};

struct checks;

/*
 * checks_library_init - the libraries every message's checks share
 * (libopendkim, the Public Suffix List). Once per process, before any
 * thread; 0, or -1 with the reason in err. checks_library_free() at exit.
 */
int checks_library_init(char *err, size_t errlen);
void checks_library_free(void);

/*
 * checks_new - state for one message under snapshot cfg, looking up
 * through res (NULL when the resolver could not be created: a check
 * that needs DNS then makes checks_decide return CHECKS_ERROR).
 * Answers res kept for an earlier message are dropped (resolver_forget).
 * NULL when out of memory. Caller frees with checks_free().
 */
struct checks *checks_new(const struct config *cfg, struct resolver *res);

/* checks_free - cancel pending lookups and free. NULL is fine. */
void checks_free(struct checks *);

/*
 * checks_set_client - the connecting client. sa may be NULL (unix
 * socket, unknown): then client_ip is "" and the client is not trusted.
 */
void checks_set_client(struct checks *, const struct sockaddr *sa);

/* checks_set_helo - the HELO/EHLO name as given (NULL = none was given). */
void checks_set_helo(struct checks *, const char *helo);

/*
 * checks_set_sender - the MAIL FROM address as the MTA passes it
 * ("<a@b>", "<>", or without brackets) and whether the client
 * authenticated. A malformed address makes mx "invalid" (no DNS).
 */
void checks_set_sender(struct checks *, const char *mail_from, bool authenticated);

/* checks_set_rcpt - the current recipient (replaces the previous one). */
void checks_set_rcpt(struct checks *, const char *rcpt);

/*
 * checks_parse_rcpt - rcpt and rcpt_domain from a RCPT TO argument, as
 * checks_set_rcpt fills them (the known bits are the caller's). For
 * `mxguard replay`, which rebuilds them from a decision line's "<a@b>":
 * parsing what this made gives the same again.
 */
void checks_parse_rcpt(struct facts *f, const char *rcpt);

/*
 * checks_rcpt_refused - the current recipient was refused (4xx/5xx): it
 * is not part of the message, so the rcpt facts go back to the previous
 * recipient (unknown when there was none). Without this, a rule on
 * rcpt_domain that refused the last recipient would refuse the whole
 * message, with its accepted recipients, at end of message.
 */
void checks_rcpt_refused(struct checks *);

/*
 * checks_header - one header; value exactly as it followed the colon,
 * leading white space included (libmilter: negotiate SMFIP_HDR_LEADSPC,
 * else pass " " + value). The first From: gives from_domain. Returns
 * true when the header is an Authentication-Results claiming our
 * authserv_id: a forgery the caller must remove.
 */
bool checks_header(struct checks *, const char *name, const char *value);

/* checks_body - one body chunk (for checks that read the body). */
void checks_body(struct checks *, const unsigned char *data, size_t len);

/*
 * checks_advance - the message reached stage (call in order; stages may
 * be skipped). Marks the facts of the stage known and starts every
 * check allowed by now that a rule may still need. At CHECK_STAGE_MAIL
 * it sets the DNS deadline (now + dns_timeout); at
 * CHECK_STAGE_HEADERS it extends it to now + dns_timeout so checks of
 * the message data get their own budget. Returns 0, or -1 on an
 * internal error (then checks_decide reports CHECKS_ERROR).
 */
int checks_advance(struct checks *, enum check_stage stage);

/*
 * checks_settle - drive the lookups already in flight until none is
 * left or the deadline passes, starting the checks that only waited for
 * their answers (a blocklist on mx_host); decide nothing. For a
 * caller that will only ask for a decision at a later stage: answers
 * are not read while nobody drives the resolver, so a pause between two
 * stages longer than dns_timeout would otherwise cost every lookup that
 * depends on an earlier answer (MX, then the exchanges' addresses).
 * Started checks that evaluate synchronously (SPF) run here too, so
 * their lookups overlap with those in flight instead of following them;
 * not when answers already in mean no rule needs their fact any more.
 */
void checks_settle(struct checks *);

/* checks_decide - see above. On CHECKS_DECIDED fills *v (dry_run includes the global setting). */
enum checks_status checks_decide(struct checks *, struct verdict *v);

/*
 * The answer at each stage, for the milter and `mxguard check` alike: enum
 * checks_answer (policy/decide.h, which says when a verdict acts). They
 * only map it to their output.
 */

/*
 * checks_envelope_answer - at MAIL FROM or RCPT, after checks_advance to
 * that stage. At MAIL FROM a decision is made only with reject_stage =
 * mail; otherwise the lookups in flight are driven to their end
 * (checks_settle) and the answer waits for RCPT. Only a refusal acts
 * before the end of the message: accept, discard and quarantine wait for
 * it. Fills *v and *r for CHECKS_WOULD and CHECKS_REFUSE.
 */
enum checks_answer checks_envelope_answer(struct checks *, enum check_stage stage,
					  struct verdict *v, struct reply *r);

/*
 * checks_final_answer - at end of message, after checks_advance to
 * CHECK_STAGE_EOM: CHECKS_FINAL with *v and its reply *r, or
 * CHECKS_FAILED (internal error, or no rule could decide). When no rule
 * could decide only because a set a rule tests is partial (DNS errors),
 * the answer is a DNS tempfail: the pseudo-rule "dns-incomplete:mx_addr"
 * with 451 4.4.3 - never an accept.
 */
enum checks_answer checks_final_answer(struct checks *, struct verdict *v, struct reply *r);

/*
 * checks_wants_body - may a check still read body chunks? When false the
 * caller may stop feeding the body (libmilter's SMFIS_SKIP).
 */
bool checks_wants_body(const struct checks *);

/* A header to add at end of message; value is owned (checks_result_headers_free). */
struct checks_hdr {
	const char *name;
	char *value;
};
#define CHECKS_HDR_MAX 2

/*
 * checks_result_headers - the headers to add to an accepted message:
 * Authentication-Results (RFC 8601, our authserv_id) unless the client
 * skipped the checks, and Received-SPF when add_received_spf is set and
 * there is an SPF result. Returns how many were written to out (0..2),
 * or -1 when out of memory (nothing to free then).
 */
int checks_result_headers(const struct checks *, struct checks_hdr out[CHECKS_HDR_MAX]);
/* checks_result_headers_free - free the values of n headers. */
void checks_result_headers_free(struct checks_hdr *hdrs, int n);

/*
 * checks_set_explain - for `mxguard check`: every check that runs waits
 * for all of its answers (the decision is the same), so checks_explain
 * can show everything it found. Call before checks_advance.
 */
void checks_set_explain(struct checks *);

/*
 * checks_explain - what the checks that ran found, as "key: text" lines
 * (e.g. "mx_record: 10 mx1.example.org 192.0.2.1"), into buf; "" when
 * none has anything to show. Always terminated.
 */
void checks_explain(const struct checks *, char *buf, size_t len);

/* checks_facts - what is known so far; valid until checks_free(). */
const struct facts *checks_facts(const struct checks *);

/* checks_error - the internal error behind CHECKS_ERROR, "" when none. */
const char *checks_error(const struct checks *);

/* checks_stage - the last stage passed to checks_advance. */
enum check_stage checks_stage(const struct checks *);

/* check_stage_name - "connect", "helo", "mail", "rcpt", "headers", "eom"; "none". */
const char *check_stage_name(enum check_stage);

#endif
