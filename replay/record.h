/*
 * record.h - one decision log line as `mxguard replay` reads it.
 *
 * record_read() keeps, from the fields jl_parse found, what a decision
 * line holds: the decision (rule, action, reply, dry_run, stage), what
 * replay needs to decide the message again (txn, rcpts, partial, time)
 * and each fact's field, found by its name in the fact table (so a fact
 * added to policy/facts.def is read with no change here). Keys this
 * version does not know - a newer version's facts - are ignored and
 * named to the caller.
 *
 * record_facts() rebuilds a struct facts from it for one configuration.
 * A family's instances (dnsbl.NAME) are matched by that configuration's
 * list names, so a candidate whose lists differ from the logging daemon's
 * gets the lists both have and nothing else. A value this version cannot
 * read leaves its fact unknown, as does null. Two facts are judged again,
 * not copied: trusted (the client address against the configuration's
 * trusted_networks), and the facts of a client the logging daemon did not
 * check (trusted or authenticated): those are placeholders ("skipped"),
 * so they are left unknown.
 *
 * Everything in a record points into the jl_line and its line buffer:
 * valid until the buffer is reused. Nothing is allocated.
 */
#ifndef MXGUARD_RECORD_H
#define MXGUARD_RECORD_H

#include <stdbool.h>

#include "conf/config.h"
#include "policy/facts.h"
#include "policy/rules.h"
#include "replay/jsonline.h"

/* Where a line was written: the stage key. */
enum rec_stage { REC_MAIL, REC_RCPT, REC_HEADERS, REC_EOM, REC_ABORT, REC_CLOSE };

enum rec_status {
	REC_OK,
	REC_NOT_OURS,   /* valid JSON without "action" and "stage": another program's line */
	REC_BAD,        /* a decision key with a value mxguard never writes, or a key twice (why) */
};

#define REC_FAMILY_MAX  32   /* family keys (dnsbl.NAME, dnsbl_detail.NAME) kept per line */
#define REC_UNKNOWN_MAX 8    /* unknown keys named per line (more are only counted) */

struct rec_family {
	enum fact_id first;          /* the family's first id (FID_dnsbl, ...) */
	const char *list;            /* NAME, after the dot */
	const struct jl_field *field;
};

struct record {
	const char *queue_id, *rule, *reply, *error, *time, *txn;
	const char *rcpt;            /* a refused recipient's line: "<a@b>"; NULL for a message's line */
	enum action action;
	bool dry_run;
	enum rec_stage stage;
	long log_version;            /* 1 when the line says none */
	bool have_rcpts;             /* the line lists the message's recipients (version 2) */
	const char *const *rcpts;    /* "<a@b>", in the order given, refused ones too */
	unsigned nrcpts;
	unsigned long rcpts_more;    /* given but not listed */
	const char *const *partial;  /* names of set facts the logging daemon had incomplete */
	unsigned npartial;
	const struct jl_field *fact[FACT_COUNT];  /* a plain fact's field; NULL when not on the line */
	struct rec_family fam[REC_FAMILY_MAX];
	unsigned nfam;
	const char *unknown[REC_UNKNOWN_MAX];     /* keys this version does not know */
	unsigned nunknown;                        /* how many there were (more than named) */
	const char *why;             /* REC_BAD: what was wrong */
};

/* record_read - the decision line in l into *r. */
enum rec_status record_read(struct record *r, const struct jl_line *l);

/* rec_stage_name - "mail", "rcpt", "headers", "eom", "abort", "close". */
const char *rec_stage_name(enum rec_stage s);

/* What record_facts made of a line's facts for one configuration. */
struct rec_facts {
	fact_mask logged;    /* facts with a value from the line (known in f) */
	fact_mask bad;       /* facts whose value this version could not read (unknown in f) */
	bool skipped;        /* the logging daemon did not check this client (its check facts are not logged) */
};

/*
 * record_facts - r's facts for configuration cfg into f (all of f is
 * written that matters: known is only what the line gave; the rcpt facts
 * are left unknown for the caller, who sets them recipient by recipient).
 */
void record_facts(const struct record *r, const struct config *cfg, struct facts *f, struct rec_facts *out);

#endif
