/*
 * checks_row.h - inside the check orchestrator: the per-message state
 * and the row type of the check table. Only policy/checks*.c include it.
 *
 * A row adapts one check module (mx, spf, dkim, ...) to the
 * orchestrator, which names no check: everything it needs is here.
 *   facts              the facts it writes (FBIT of facts.def rows); it
 *                      can finish no earlier than the latest stage of
 *                      those facts (before that, checks_decide neither
 *                      waits for it nor cuts it off: DKIM needs the whole
 *                      message)
 *   stage              the earliest stage it may start
 *   lib_init/lib_free  optional: once per process, before any thread /
 *                      at exit (checks_library_init runs every row's)
 *   inputs(cfg)        optional: facts it reads, made by other rows (a
 *                      DNS blocklist's targets): when its facts are needed
 *                      they are needed too, and it starts once they are
 *                      all known
 *   uses               optional: facts it reads when it finishes, made by
 *                      other rows (DMARC reads spf and dkim): needed
 *                      with it while it runs, but it starts without them
 *                      and its done() waits for them itself
 *   always(cfg)        optional: run even when no rule needs its facts
 *                      (dkim_verify = always: the header reports it)
 *   start(ck, &state)  begin; may finish at once (e.g. mx of "<>" is
 *                      skipped). Owns *state from then on. 0, or -1 on an
 *                      internal error (after checks_fail()).
 *   done(state)        has it finished?
 *   finish(state, f)   write its facts into f; when called before done()
 *                      (no more progress possible) it must write
 *                      temperror.
 *   skip(f)            optional: write "skipped" without starting (a
 *                      trusted client); default facts_skip(f, facts).
 *   release(state)     free; lookups are already cancelled.
 *   header/body/stage_event  optional: message data for checks that read
 *                      it (DKIM), and stage changes after start.
 *   progress(state)    optional: another row finished and its facts were
 *                      written: a row with .uses may go on (start lookups,
 *                      evaluate)
 *   run(state)         optional: for a check that evaluates synchronously
 *                      (libspf2 drives the resolver itself): do it now.
 *                      Called when a decision waits for the facts; done()
 *                      is true afterwards.
 *   authres(state, f, ar)    optional: its part of Authentication-Results
 *                      (state is NULL unless it finished)
 *   explain(state, buf, len) optional: "key: text" lines for `mxguard
 *                      check` showing what it found, as dig would (the
 *                      MX records and their addresses); ck->explain asks
 *                      the check to wait for all of its answers for it
 *   result_header(state, cfg, f, out)  optional: another header it adds
 *                      to accepted mail (Received-SPF): 1 when written to
 *                      *out (value malloc'd), 0 none, -1 out of memory
 * check_table lists the rows in the order they start and report.
 * The decision log and `mxguard check` print a check's facts through the
 * fact table; a row adds nothing there.
 */
#ifndef MXGUARD_CHECKS_ROW_H
#define MXGUARD_CHECKS_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf/config.h"
#include "policy/address.h"
#include "policy/authres.h"
#include "policy/checks.h"
#include "policy/decide.h"
#include "policy/facts.h"

struct check_row {
	const char *name;
	fact_mask facts;
	enum check_stage stage;
	int (*lib_init)(char *err, size_t errlen);
	void (*lib_free)(void);
	fact_mask (*inputs)(const struct config *cfg);
	fact_mask uses;
	bool (*always)(const struct config *cfg);
	int (*start)(struct checks *ck, void **state);
	bool (*done)(const void *state);
	void (*finish)(void *state, struct facts *f);
	void (*skip)(struct facts *f);
	void (*release)(void *state);
	void (*header)(void *state, const char *name, const char *value);
	void (*body)(void *state, const unsigned char *data, size_t len);
	void (*stage_event)(void *state, enum check_stage stage);
	void (*progress)(void *state);
	void (*run)(void *state);
	void (*authres)(const void *state, const struct facts *f, struct authres_hdr *ar);
	int (*result_header)(const void *state, const struct config *cfg, const struct facts *f,
			     struct checks_hdr *out);
	void (*explain)(const void *state, char *buf, size_t len);
};

#define CHECKS_MAX_ROWS 24

struct check_slot {
	void *state;
	bool started;                   /* start ran (or the fact was skipped) */
	bool harvested;                 /* its fact has been written */
};

struct checks {
	const struct config *cfg;       /* caller's snapshot */
	struct resolver *res;           /* caller's; NULL when it could not be created */
	struct facts facts;
	enum check_stage stage;
	struct address sender;          /* MAIL FROM as address_parse() saw it */
	unsigned from_fields;           /* From: header fields seen */
	int from_parse;                 /* check_parse_from() of the first one */
	bool seen_list_id;
	bool final_known;               /* checks_final_answer decided: */
	enum action final_action;       /*   the verdict's action */
	bool final_dry_run;             /*   and whether it was a dry run */
	bool explain;                   /* checks_set_explain: wait for every answer, for explain() */
	bool have_deadline;
	bool data_deadline;             /* the end-of-headers budget was given */
	struct timespec deadline;
	fact_mask waiting_for;          /* facts checks_decide waits for */
	/* the last recipient the message kept: checks_rcpt_refused goes back to it */
	bool kept_rcpt_known;
	char kept_rcpt[FACT_ADDR_MAX];
	char kept_rcpt_domain[FACT_NAME_MAX];
	struct check_slot row[CHECKS_MAX_ROWS];
	char error[320];
	char pseudo_rule[DECIDE_NAME_MAX]; /* the name of a verdict no rule of the config made */
};

/* The rows, in start order (checks_table.c); check_table_len of them. */
extern const struct check_row *const check_table[];
extern const size_t check_table_len;

/* checks_skipped_client - "trusted" or "authenticated" when the client skips every check, else NULL. */
const char *checks_skipped_client(const struct checks *ck);

/* checks_fail - record an internal error (the first one wins). */
void checks_fail(struct checks *ck, const char *what);

/* check_parse_sender - parse MAIL FROM into *a and fill sender/sender_domain from it. */
void check_parse_sender(struct facts *f, struct address *a, const char *mail_from);
/* check_parse_rcpt - fill rcpt/rcpt_domain from RCPT TO. */
void check_parse_rcpt(struct facts *f, const char *rcpt);
/*
 * check_parse_from - fill from_domain from a From: header value ("" when
 * unusable). Returns FROMH_SINGLE (one domain), FROMH_MULTI_DOMAIN,
 * FROMH_NONE (no "@" at all: no address) or FROMH_INVALID, for the
 * from_header fact.
 */
int check_parse_from(struct facts *f, const char *value);
/* check_parse_list_id - fill list_id from a List-Id: header value (RFC 2919). */
void check_parse_list_id(struct facts *f, const char *value);

/* checks_disposition - what was done with a delivered message, for A-R: "none" or "quarantine". */
const char *checks_disposition(const struct checks *ck);

/* checks_orgdomain - the process's Public Suffix List (loaded by the dkim row's lib_init); NULL before. */
const struct orgdomain *checks_orgdomain(void);

#endif
