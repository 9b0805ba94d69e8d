/*
 * dmarc.h - DMARC (RFC 9989): policy discovery, organizational domains,
 * identifier alignment and the result, as an asynchronous check on a
 * connection's resolver. The record grammar is policy/dmarc_record.h.
 *
 *   struct dmarc_check *c = calloc(1, sizeof *c);     (about 20 KiB: heap)
 *   dmarc_check_init(c, res, &opts);
 *   dmarc_check_author(c, "example.com");            end of headers
 *   dmarc_check_identifier(c, "mail.example.com");   SPF and d= domains seen
 *   ... resolver_wait(...) while the DKIM keys come ...
 *   st = dmarc_check_evaluate(c, &in, false, &out);  DMARC_EVAL_PENDING: wait more
 *   dmarc_check_abandon(c);                          before freeing c
 *
 * Discovery (opts.discovery):
 *   DMARC_TREEWALK  RFC 9989 §4.10: the names of a walk are the domain,
 *                   then (8+ labels) its last 7 labels, then one label
 *                   fewer each time down to the top-level label: at most
 *                   8 TXT queries. They are all asked at once (one round
 *                   trip; answers past the point where the walk would
 *                   have stopped are simply not read). The policy record
 *                   is the Author Domain's, else its Organizational
 *                   Domain's, else its Public Suffix Domain's (§4.10.1);
 *                   the Organizational Domain is chosen as §4.10.2 says
 *                   (psd=n; one label below psd=y; else the record with
 *                   the fewest labels; else the domain itself).
 *   DMARC_PSL       RFC 7489: the Organizational Domain is the registrable
 *                   domain by the Public Suffix List (opts.psl); the
 *                   record is the Author Domain's, else its
 *                   Organizational Domain's. psd= is not read.
 * Identifier walks (dmarc_check_identifier) are only asked for a domain
 * that differs from the Author Domain and shares its top-level label:
 * others align trivially (same name) or never (different last label).
 * At most DMARC_NAMES_MAX distinct names are ever asked for one message;
 * an identifier whose walk would not fit cannot be shown to align.
 *
 * Policy (dmarc_outcome.policy): p for a record at the Author Domain;
 * for a record of a parent, sp - or np when the Author Domain does not
 * exist (NXDOMAIN for an A query of it, asked only when the record has
 * np) - falling back to p; then t=y lowers reject to quarantine and
 * quarantine to none.
 *
 * Result (enum dmarc_result, the dmarc fact):
 *   pass       an aligned identifier passed: SPF pass for the MAIL FROM
 *              domain (the HELO name for the null sender: RFC 7208 §2.4's
 *              MAIL FROM identity), or a passing DKIM signature's d=;
 *              adkim/aspf say relaxed (same Organizational Domain) or
 *              strict (identical)
 *   fail       a record applies and no passing identifier aligns
 *   none       no record applies
 *   temperror  a _dmarc lookup (or the existence lookup) failed, or no
 *              identifier passed aligned while one that might align has
 *              a temporary result (SPF or DKIM temperror, or its
 *              Organizational Domain could not be found)
 *   permerror  the message has no single Author Domain (from_header is
 *              not "single"), or the record that applies is unusable
 *              (bad p/sp/np and no rua, §4.10.1)
 * DNS failures are never "none": a gateway that fails open on a timeout
 * lets anyone bypass p=reject by slowing its DNS.
 */
#ifndef MXGUARD_DMARC_H
#define MXGUARD_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/dmarc_record.h"
#include "policy/facts.h"
#include "policy/lookups.h"

struct resolver;
struct orgdomain;

enum dmarc_discovery { DMARC_TREEWALK = 0, DMARC_PSL };

struct dmarc_options {
	enum dmarc_discovery discovery;
	const struct orgdomain *psl;     /* required for DMARC_PSL; not used otherwise */
};

#define DMARC_WALK_MAX   8            /* TXT queries of one walk (RFC 9989 §4.10) */
#define DMARC_NAMES_MAX  24           /* distinct _dmarc names asked for one message */
#define DMARC_HEADER_DOMAINS 10       /* d= domains of DKIM-Signature fields kept */

/* What one _dmarc name said. */
enum dmarc_name_state {
	DMARC_NAME_PENDING = 0,
	DMARC_NAME_RECORD,           /* exactly one DMARC record, usable */
	DMARC_NAME_NONE,             /* no DMARC record (NXDOMAIN, NODATA, none or several) */
	DMARC_NAME_UNUSABLE,         /* exactly one DMARC record, unusable */
	DMARC_NAME_TEMPERROR,        /* SERVFAIL, timeout, malformed answer, not askable */
};

struct dmarc_name {
	char domain[FACT_NAME_MAX];  /* the name without "_dmarc." */
	enum dmarc_name_state state;
	struct dmarc_record rec;     /* DMARC_NAME_RECORD (and UNUSABLE: its note) */
	char why[48];                /* NONE/TEMPERROR: "nxdomain", "2 DMARC records", ... */
};

enum dmarc_exists { DMARC_EXISTS_UNASKED = 0, DMARC_EXISTS_PENDING, DMARC_EXISTS_YES,
		    DMARC_EXISTS_NO, DMARC_EXISTS_TEMPERROR };

struct dmarc_check {
	struct resolver *res;
	struct dmarc_options opt;
	struct lookups q;
	char author[FACT_NAME_MAX];      /* "" until dmarc_check_author */
	struct dmarc_name name[DMARC_NAMES_MAX];
	unsigned nnames;
	bool overflow;                   /* a walk did not fit in name[] */
	enum dmarc_exists exists;        /* does the Author Domain exist (np) */
	/* optional: called after each answer (from the resolver), e.g. to evaluate again */
	void (*notify)(void *arg);
	void *notify_arg;
};

/* The message's side of the evaluation: the facts DMARC reads. */
struct dmarc_input {
	unsigned from_header;            /* enum from_header_result */
	const char *spf_domain;          /* MAIL FROM domain, or HELO name for <>; "" when none */
	enum spf_result spf;
	enum dkim_result dkim;           /* best result over all signatures */
	const struct fact_domain_set *dkim_pass;   /* d= of every passing signature */
	/* d= of every DKIM-Signature field (for a temperror that might align); NULL: not seen */
	const char (*header_d)[FACT_NAME_MAX];
	size_t n_header_d;
};

struct dmarc_outcome {
	enum dmarc_result result;
	enum dmarc_policy_value policy;      /* applied (after t=y), DMARCP_NONE when no record */
	enum dmarc_req published;            /* p, sp or np as published, before t=y */
	enum dmarc_req record_p;             /* the record's own p (for reports), ABSENT when no record */
	const char *policy_tag;              /* "p", "sp", "np"; "" when no record */
	bool testing;                        /* t=y lowered it */
	char domain[FACT_NAME_MAX];          /* where the record was found, "" when none */
	char detail[FACT_DETAIL_MAX];
};

enum dmarc_eval { DMARC_EVAL_DONE = 0, DMARC_EVAL_PENDING };

/* dmarc_check_init - nothing asked yet. res may be NULL (every lookup then fails: temperror). */
void dmarc_check_init(struct dmarc_check *, struct resolver *res, const struct dmarc_options *opt);

/* dmarc_check_author - start policy discovery for the Author Domain (A-label, lower case). */
void dmarc_check_author(struct dmarc_check *, const char *author);

/* dmarc_check_identifier - start what relaxed alignment of this domain will need (after _author). */
void dmarc_check_identifier(struct dmarc_check *, const char *domain);

/*
 * dmarc_check_evaluate - the result from the answers in so far. With
 * final false it returns DMARC_EVAL_PENDING when an answer it needs is
 * still out (and may start lookups it finds it needs: an identifier not
 * walked yet); with final true (deadline passed) a missing answer counts
 * as a DNS failure. *out is filled on DMARC_EVAL_DONE.
 */
enum dmarc_eval dmarc_check_evaluate(struct dmarc_check *, const struct dmarc_input *in, bool final,
				     struct dmarc_outcome *out);

/* dmarc_check_pending - lookups still out. */
unsigned dmarc_check_pending(const struct dmarc_check *);

/*
 * dmarc_check_explain - one "dmarc_record: _dmarc.NAME ..." line per name
 * asked, what it said (its tags, or none/why), for `mxguard check`.
 */
void dmarc_check_explain(const struct dmarc_check *, char *buf, size_t len);

/* dmarc_check_abandon - detach lookups in flight (before c is freed or reused). */
void dmarc_check_abandon(struct dmarc_check *);

/*
 * dmarc_walk_names - the names of a tree walk from domain (RFC 9989
 * §4.10 steps 3-4), into out (at most DMARC_WALK_MAX); how many.
 */
size_t dmarc_walk_names(const char *domain, char out[][FACT_NAME_MAX], size_t max);

#endif
