/*
 * dnsbl.h - DNS blocklists (RFC 5782): the return-code filter, query
 * names, the judgement of one answer, the combination of a list's answers
 * for several targets, the start-up self-test, and an asynchronous check
 * of one list on a connection's resolver.
 *
 * Pure: no I/O, no logging, no libmilter, no memory of its own to free
 * (every struct is fixed-size; the only heap use is the lookups' tickets,
 * policy/lookups.h, and the answer parser's scratch). The
 * config declares the lists and the orchestrator turns each into a fact;
 * this module knows neither.
 *
 * Values (enum dnsbl_result, the fact's values in this order):
 *   listed     an answer for some target holds a code the filter counts
 *   clean      every target answered NXDOMAIN or NODATA, or only with
 *              codes outside the filter (Postfix semantics: a reply the
 *              filter does not count is "not listed")
 *   unusable   the list answered, but not as a blocklist does: an address
 *              outside 127.0.0.0/8, one in 127.255.255.0/24 (Spamhaus:
 *              query refused - typo in the zone, a public resolver, over
 *              the rate limit), 127.0.1.255 (the DBL's form of it),
 *              127.0.0.1 (RFC 5782 §5 forbids listing it; URIBL and SURBL
 *              use it for "refused"), a code in the list's own error set,
 *              or more A records than DNSBL_ANSWER_MAX. Never "listed":
 *              retrying soon will not help, so it is not temperror
 *              either; the operator has to fix the list (or the path to
 *              it), and rules can keep such a list from tempfailing all
 *              mail by telling the two apart.
 *   temperror  SERVFAIL, timeout, malformed answer, CNAME loop, a target
 *              that cannot be queried, a check abandoned or out of
 *              targets' data: the list could not say. Never "clean".
 *   skipped    not produced here: the orchestrator's value for a trusted
 *              client (HACKING.md, "Skipping").
 * One answer that mixes a counted code with an error code is unusable.
 *
 * Secrets: a zone may carry a key (Spamhaus DQS: KEY.zen.dq.spamhaus.net).
 * No text made here (details, self-test reasons, error messages about
 * targets) contains the zone; they name the list by its operator-given
 * name. Query names contain the zone and are never handed out by the
 * check.
 */
#ifndef MXGUARD_DNSBL_H
#define MXGUARD_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "policy/facts.h"
#include "policy/lookups.h"
#include "policy/resolver.h"

/* The values (DNSBL_VALUES, enum dnsbl_result) are the dnsbl facts' own: policy/facts.h. */

/* dnsbl_result_name - "listed", "clean", ...; "unknown" for 0 and out of range. */
const char *dnsbl_result_name(enum dnsbl_result);

/* ---- return-code filters ------------------------------------------------ */

#define DNSBL_CODES_SPECS 16        /* address patterns per filter */

/*
 * A filter: "any", or patterns separated by commas, semicolons or blanks.
 * A pattern is four dotted octets; each octet is a number 0..255 or a
 * bracketed list of numbers and ranges separated by ';' (Postfix):
 *   127.0.0.2   127.0.0.[2..11]   127.0.1.[2;3;4]   127.0.[0;1].[2..9;11]
 * The first octet must be 127: answers outside 127.0.0.0/8 are list
 * errors whatever the filter says; a pattern that matches nothing but
 * built-in error codes ("127.255.255.254") is refused too. "any" counts every 127/8 answer that is
 * not an error code, and cannot be combined with patterns. The built-in
 * error codes (see "unusable" above) are never counted, whatever the
 * filter says.
 */
struct dnsbl_codes {
	bool any;
	unsigned n;                              /* patterns */
	uint8_t octet[DNSBL_CODES_SPECS][4][32]; /* per pattern and octet: a 256-bit set */
};

/*
 * dnsbl_codes_parse - parse text into c. Returns 0, or -1 with c emptied
 * and a reason in err ("bad octet 256 in 127.0.0.256", "range 11..2 is
 * backwards in 127.0.0.[11..2]", ...).
 */
int dnsbl_codes_parse(struct dnsbl_codes *c, const char *text, char *err, size_t errlen);

/* dnsbl_codes_match - does the IPv4 code (host byte order: 127.0.0.2 = 0x7f000002) match? An empty filter matches nothing. */
bool dnsbl_codes_match(const struct dnsbl_codes *c, uint32_t code);

/*
 * dnsbl_code_error - is code a list error: outside 127/8, 127.255.255.0/24,
 * 127.0.1.255, 127.0.0.1, or in extra (NULL: none)? Returns a static
 * phrase saying what such an answer means, or NULL for an ordinary code.
 */
const char *dnsbl_code_error(uint32_t code, const struct dnsbl_codes *extra);

/* dnsbl_code_format - "127.0.0.2" into buf (at least 16 bytes); returns buf. */
char *dnsbl_code_format(uint32_t code, char *buf, size_t len);

/* ---- query names -------------------------------------------------------- */

#define DNSBL_QNAME_MAX 254         /* a query name: 253 octets in presentation form, NUL */
#define DNSBL_ZONE_MAX  190         /* 189 octets: an IPv6 query adds 64 (32 nibbles, their dots) */
#define DNSBL_NAME_MAX  33          /* a list's name ("zen"): 32 characters */

/*
 * dnsbl_zone_check - is zone usable (LDH or '_' labels of 1..63 octets,
 * at most 189 octets, a trailing dot allowed)? Writes the normalised zone
 * (lower case, no trailing dot) to out (DNSBL_ZONE_MAX bytes). Returns 0,
 * or -1 with a reason in err. The reason never quotes the zone (it may
 * hold a key).
 */
int dnsbl_zone_check(const char *zone, char *out, size_t outlen, char *err, size_t errlen);

/*
 * dnsbl_query_name - the query for an address (RFC 5782 §2.1, §2.4):
 * family AF_INET (addr: 4 bytes) gives "4.3.2.1.ZONE", AF_INET6 (16
 * bytes) 32 reversed lower-case nibbles and ZONE; an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is queried as IPv4. zone as dnsbl_zone_check
 * makes it. Returns the length, or -1 (buf "") for another family or a
 * name that does not fit buf or 253 octets.
 */
int dnsbl_query_name(const char *zone, int family, const void *addr, char *buf, size_t len);

/*
 * dnsbl_query_domain - the query for a domain (RFC 5782 §2.3):
 * "DOMAIN.ZONE", DOMAIN in lower case without its trailing dot. Refused
 * (-1, buf "", reason in err when err is not NULL): an empty domain, empty
 * labels, a label over 63 octets, characters other than letters, digits,
 * '-' and '_', and a query name over 253 octets. Returns the length.
 */
int dnsbl_query_domain(const char *zone, const char *domain, char *buf, size_t len,
		       char *err, size_t errlen);

/* ---- one answer --------------------------------------------------------- */

#define DNSBL_ANSWER_MAX 32         /* A records judged per answer; more is "unusable" */
#define DNSBL_CODES_KEPT 4          /* codes kept per answer for the detail */

struct dnsbl_answer {
	enum dnsbl_result result;
	/*
	 * Codes for the detail, answer order: the counted ones (listed), the
	 * error ones (unusable), those outside the filter (clean); none for
	 * temperror. ncodes <= DNSBL_CODES_KEPT; more says how many did not fit.
	 */
	uint32_t code[DNSBL_CODES_KEPT];
	unsigned ncodes, more;
	const char *why;            /* static: why unusable or temperror ("timeout", ...); NULL otherwise */
};

/*
 * dnsbl_classify - judge the answer to one A query (status and raw reply
 * as the resolver gave them; ans may be NULL) against filter and the
 * list's extra error codes (NULL: none). Fills out; returns out->result.
 */
enum dnsbl_result dnsbl_classify(const struct dnsbl_codes *filter, const struct dnsbl_codes *errors,
				 enum dns_status st, const unsigned char *ans, int len,
				 struct dnsbl_answer *out);

/* ---- a list and its answers for several targets ------------------------- */

struct dnsbl_spec {
	char name[DNSBL_NAME_MAX];  /* the operator's name: details, logs, facts (dnsbl.NAME) */
	char zone[DNSBL_ZONE_MAX];  /* normalised; may hold a key: never in any text */
	struct dnsbl_codes filter;  /* what counts as listed */
	struct dnsbl_codes errors;  /* extra error codes (n == 0: none) */
};

/*
 * dnsbl_spec_init - a list from its config words: name (letters, digits,
 * '-', '_'; 1..32), zone, filter (NULL or "": "127.0.0.2", RFC 5782's
 * minimum), errors (NULL or "": none; "any" refused). Returns 0, or -1
 * with a reason in err that never contains the zone.
 */
int dnsbl_spec_init(struct dnsbl_spec *s, const char *name, const char *zone,
		    const char *filter, const char *errors, char *err, size_t errlen);

#define DNSBL_TARGET_MAX FACT_NAME_MAX  /* a target as people read it: an address or a domain */

/* What one target got. result DNSBL_UNKNOWN: no answer (yet). */
struct dnsbl_outcome {
	char target[DNSBL_TARGET_MAX];   /* "192.0.2.1", "2001:db8::1", "mx1.example.org" */
	struct dnsbl_answer ans;
};

/* Flags for dnsbl_combine. */
#define DNSBL_INCOMPLETE 1u         /* targets may be missing (a lookup behind a set failed): never clean */
#define DNSBL_TRUNCATED  2u         /* more targets than DNSBL_QUERIES_MAX: the rest were not asked (said in the detail) */

/*
 * dnsbl_combine - the list's value over the outcomes of all its targets:
 * listed when any is listed; else unusable when any is; else temperror
 * when any failed, has no answer, or flags has DNSBL_INCOMPLETE; else
 * clean (also for no targets at all). detail (always terminated, printable
 * ASCII) starts with the list's name and names the first target in array
 * order with the deciding result and its codes:
 *   "zen: 192.0.2.1 listed 127.0.0.2,127.0.0.4"
 *   "dbl: mx1.example.org listed 127.0.1.2 (and 1 more listed)"
 *   "zen: answer 127.255.255.254 for 192.0.2.1 is a list error (...)"
 *   "zen: lookup of 192.0.2.1 failed: timeout"
 *   "zen: 192.0.2.1 not listed (answered 127.0.0.20, not counted)"
 * It never contains s->zone: a target that does is not named.
 */
enum dnsbl_result dnsbl_combine(const struct dnsbl_spec *s, const struct dnsbl_outcome *o,
				unsigned n, unsigned flags, char *detail, size_t len);

/* ---- start-up self-test (RFC 5782 §5) ----------------------------------- */

enum dnsbl_selftest {
	DNSBL_SELFTEST_OK = 0,      /* the test entry is listed and counted, the other is not listed */
	DNSBL_SELFTEST_FAILED,      /* the list does not answer as a blocklist should: log it */
	DNSBL_SELFTEST_UNTESTED,    /* a lookup failed (timeout, SERVFAIL): nothing learnt */
};

/*
 * dnsbl_selftest_name - the probe queries: for an address list listed ?
 * "2.0.0.127.ZONE" : "1.0.0.127.ZONE"; for a domain list (RFC 5782 §5)
 * "test.ZONE" : "invalid.ZONE". Returns the length or -1. These contain
 * the zone: hand them to the resolver only.
 */
int dnsbl_selftest_name(const struct dnsbl_spec *s, bool domain_list, bool listed,
			char *buf, size_t len);

/*
 * dnsbl_selftest_judge - the answers to the listed probe (st1/ans1) and
 * to the unlisted one (st2/ans2): OK, FAILED or UNTESTED with the reason
 * in why (naming the list, never its zone), e.g. "zen: test entry not
 * listed (nxdomain): wrong zone, or the list refuses this resolver".
 */
enum dnsbl_selftest dnsbl_selftest_judge(const struct dnsbl_spec *s,
					 enum dns_status st1, const unsigned char *ans1, int len1,
					 enum dns_status st2, const unsigned char *ans2, int len2,
					 char *why, size_t whylen);

/*
 * dnsbl_selftest_run - ask list s its two test entries on res (whose
 * deadline the caller sets) and judge the answers as above. Cancels what
 * res still has out before it returns.
 */
enum dnsbl_selftest dnsbl_selftest_run(const struct dnsbl_spec *s, bool domain_list, struct resolver *res,
				       char *why, size_t whylen);

/* ---- "log once per interval", shared by threads ------------------------- */

struct dnsbl_ratelimit {
	_Atomic long long next;     /* the time before which nothing is due; zero-initialise */
};

/*
 * dnsbl_ratelimit_due - true for exactly one caller per interval seconds
 * (the first at or after the previous due time + interval), whichever
 * thread asks. For "list zen is unusable" lines in the log.
 */
bool dnsbl_ratelimit_due(struct dnsbl_ratelimit *r, time_t now, unsigned interval);

/* ---- the asynchronous check of one list --------------------------------- */

/*
 * At most DNSBL_QUERIES_MAX queries per list per message: targets beyond
 * that (after removing duplicates) are not asked, and the detail says so
 * (a bound, not a failure: the value stays clean when every query asked
 * was clean). Targets are deduplicated by their normalised form.
 *
 *   struct dnsbl_check c;                          (inside per-message state)
 *   dnsbl_check_init(&c, res, &spec);
 *   dnsbl_check_add_addr(&c, AF_INET, raw);        ... and/or
 *   dnsbl_check_add_addrs(&c, &facts->mx_addr);     dnsbl_check_add_domains(&c, &facts->mx_host)
 *   dnsbl_check_start(&c);                         (every query at once)
 *   resolver_wait(res, dnsbl_check_done, &c);      (also drives other checks)
 *   dnsbl_check_result(&c) / c.detail
 *   dnsbl_check_abandon(&c);                       (before freeing or reusing c)
 *
 * Done when the first listed answer comes (listed is final; later answers
 * are dropped) or when every answer is back. The message deadline
 * (resolver_set_deadline) bounds it: a query still out then completes with
 * DNS_TIMEOUT, so the value is temperror, never a stall. Abandoning an
 * unfinished check makes it temperror ("abandoned") unless it is already
 * listed. spec must outlive the check.
 */
#define DNSBL_QUERIES_MAX 32
_Static_assert(DNSBL_QUERIES_MAX <= LOOKUPS_MAX, "a list's queries fit in struct lookups");

struct dnsbl_check {
	/* The value and its detail: final once dnsbl_check_done(). */
	enum dnsbl_result result;
	char detail[FACT_DETAIL_MAX];

	/* Private. */
	const struct dnsbl_spec *spec;
	struct resolver *res;
	bool started, done;
	unsigned flags;                 /* DNSBL_INCOMPLETE, DNSBL_TRUNCATED */
	unsigned ntargets, skipped;     /* targets kept; dropped beyond the bound */
	struct lookups q;
	struct dnsbl_outcome out[DNSBL_QUERIES_MAX];
	char qname[DNSBL_QUERIES_MAX][DNSBL_QNAME_MAX];  /* "" when the target cannot be queried */
	const char *qerr[DNSBL_QUERIES_MAX];             /* static reason when it cannot */
};

/* dnsbl_check_init - an empty check of list spec on res; c is overwritten (abandon an old one first). */
void dnsbl_check_init(struct dnsbl_check *c, struct resolver *res, const struct dnsbl_spec *spec);

/*
 * dnsbl_check_add_addr - add an address target (AF_INET: 4 bytes,
 * AF_INET6: 16; IPv4-mapped counts as IPv4). dnsbl_check_add_domain - a
 * domain target ("" is ignored: nothing to look up; a domain that cannot
 * be queried is kept and makes the value temperror). Before start only.
 * Return false when the target was not added (a duplicate, "", another
 * family, after start, or over the bound: then the check is truncated).
 */
bool dnsbl_check_add_addr(struct dnsbl_check *c, int family, const void *addr);
bool dnsbl_check_add_domain(struct dnsbl_check *c, const char *domain);

/*
 * dnsbl_check_add_addrs / _domains - every member of a fact set; a
 * partial set makes the check DNSBL_INCOMPLETE (never clean). A
 * sockaddr member of another family than AF_INET/AF_INET6 is ignored.
 */
void dnsbl_check_add_addrs(struct dnsbl_check *c, const struct fact_address_set *set);
void dnsbl_check_add_domains(struct dnsbl_check *c, const struct fact_domain_set *set);

/* dnsbl_check_add_sockaddr - an address given as a sockaddr (client_ip); false as for add_addr. */
bool dnsbl_check_add_sockaddr(struct dnsbl_check *c, const struct sockaddr *sa);

/* dnsbl_check_incomplete - targets are missing for a reason outside the check: never clean. */
void dnsbl_check_incomplete(struct dnsbl_check *c);

/* dnsbl_check_start - ask every query at once; with none to ask the check is done at once. */
void dnsbl_check_start(struct dnsbl_check *c);

/* dnsbl_check_done - resolver_done_fn: is the value final? */
bool dnsbl_check_done(void *arg);

/* dnsbl_check_result - the value (DNSBL_UNKNOWN until done). */
enum dnsbl_result dnsbl_check_result(const struct dnsbl_check *c);

/* dnsbl_check_abandon - detach lookups in flight; the check stays readable (and done) and may be freed. */
void dnsbl_check_abandon(struct dnsbl_check *c);

#endif
