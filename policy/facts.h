/*
 * facts.h - what mxguard knows about one message, as plain data, and the
 * table that describes every fact (policy/facts.def).
 *
 * A fact is either unknown (its stage has not arrived, or its check has
 * not finished: its bit in facts.known is clear) or has exactly one
 * value. The rule engine reads facts; the checks and the orchestrator
 * write them. Nothing here allocates: every value lives in a fixed
 * buffer inside the struct, so a struct facts is freed with the message
 * that owns it.
 *
 * struct facts has one field per row of facts.def, named as the fact;
 * fact_table[] describes the same rows for code that works on any fact
 * (rules, reply macros, the decision log, `mxguard check`).
 */
#ifndef MXGUARD_FACTS_H
#define MXGUARD_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* SMTP stages in order; a fact is known no earlier than its stage. */
enum check_stage {
	CHECK_STAGE_NONE = 0,
	CHECK_STAGE_CONNECT,
	CHECK_STAGE_HELO,
	CHECK_STAGE_MAIL,
	CHECK_STAGE_RCPT,
	CHECK_STAGE_HEADERS,   /* end of headers */
	CHECK_STAGE_EOM,       /* end of message */
};

/*
 * The values of the enumerated facts, each list once: V(ID, "name").
 * Value 0 is always "unknown" (a zeroed struct facts knows nothing).
 */
#define MX_VALUES(V) \
	V(MX_VALID, "valid") V(MX_IMPLICIT, "implicit") V(MX_NULLMX, "nullmx") \
	V(MX_NXDOMAIN, "nxdomain") V(MX_NONE, "none") V(MX_BOGUS, "bogus") \
	V(MX_LITERAL, "literal") V(MX_INVALID, "invalid") V(MX_TEMPERROR, "temperror") \
	V(MX_SKIPPED, "skipped")
#define NS_VALUES(V) \
	V(NSR_FOUND, "found") V(NSR_NONE, "none") V(NSR_NXDOMAIN, "nxdomain") \
	V(NSR_TEMPERROR, "temperror") V(NSR_SKIPPED, "skipped")
/*
 * mx_dnssec: did the sender domain's MX answer (and the exchanges' address
 * answers) come authenticated (AD) from a validating resolver we trust?
 * The third value is "unverified", not "unknown": 0 already means "not
 * known yet", while unverified is a finished check that could not tell
 * (AD not trusted, or a lookup failed) - the detail says which.
 */
#define MX_DNSSEC_VALUES(V) \
	V(MXD_SECURE, "secure") V(MXD_INSECURE, "insecure") V(MXD_UNVERIFIED, "unverified") \
	V(MXD_SKIPPED, "skipped")
#define SPF_VALUES(V) \
	V(SPFR_PASS, "pass") V(SPFR_FAIL, "fail") V(SPFR_SOFTFAIL, "softfail") \
	V(SPFR_NEUTRAL, "neutral") V(SPFR_NONE, "none") V(SPFR_TEMPERROR, "temperror") \
	V(SPFR_PERMERROR, "permerror") V(SPFR_SKIPPED, "skipped")
#define DKIM_VALUES(V) \
	V(DKIMR_PASS, "pass") V(DKIMR_FAIL, "fail") V(DKIMR_NONE, "none") \
	V(DKIMR_TEMPERROR, "temperror") V(DKIMR_PERMERROR, "permerror") V(DKIMR_SKIPPED, "skipped")

/* dmarc (RFC 9989 §9.2 result names) and the policy that applies (policy/dmarc.h) */
#define DMARC_VALUES(V) \
	V(DMARCR_PASS, "pass") V(DMARCR_FAIL, "fail") V(DMARCR_NONE, "none") \
	V(DMARCR_TEMPERROR, "temperror") V(DMARCR_PERMERROR, "permerror") V(DMARCR_SKIPPED, "skipped")
#define DMARC_POLICY_VALUES(V) \
	V(DMARCP_NONE, "none") V(DMARCP_QUARANTINE, "quarantine") V(DMARCP_REJECT, "reject")
/*
 * from_header: does the message have exactly one author domain (RFC 5322
 * §3.6: one From field; RFC 9989 §5.3.1: one domain in it)?
 *   single        one From field, its mailboxes all in one domain
 *   none          no From field, or one without any address ("<>",
 *                 "MAILER-DAEMON": no "@" at all, so no domain to show)
 *   multiple      two or more From fields (the first one's domain is from_domain)
 *   multi_domain  one From field with mailboxes in different domains
 *   invalid       one From field with an "@" but no address we can read
 *                 a domain from ("x@bank.example <>": a mail client may
 *                 still show that domain)
 */
#define FROM_HEADER_VALUES(V) \
	V(FROMH_SINGLE, "single") V(FROMH_NONE, "none") V(FROMH_MULTIPLE, "multiple") \
	V(FROMH_MULTI_DOMAIN, "multi_domain") V(FROMH_INVALID, "invalid")

/* dnsbl.NAME: a DNS blocklist's answer (policy/dnsbl.h) */
#define DNSBL_VALUES(V) \
	V(DNSBL_LISTED, "listed") V(DNSBL_CLEAN, "clean") V(DNSBL_UNUSABLE, "unusable") \
	V(DNSBL_TEMPERROR, "temperror") V(DNSBL_SKIPPED, "skipped")

#define FACT_VALUE_ID(id, name) id,
enum mx_result { MX_UNKNOWN = 0, MX_VALUES(FACT_VALUE_ID) MX_RESULT_COUNT };
enum ns_result { NSR_UNKNOWN = 0, NS_VALUES(FACT_VALUE_ID) NSR_RESULT_COUNT };
enum mx_dnssec_result { MXD_UNKNOWN = 0, MX_DNSSEC_VALUES(FACT_VALUE_ID) MXD_RESULT_COUNT };
enum spf_result { SPFR_UNKNOWN = 0, SPF_VALUES(FACT_VALUE_ID) SPFR_RESULT_COUNT };
enum dkim_result { DKIMR_UNKNOWN = 0, DKIM_VALUES(FACT_VALUE_ID) DKIMR_RESULT_COUNT };
enum dnsbl_result { DNSBL_UNKNOWN = 0, DNSBL_VALUES(FACT_VALUE_ID) DNSBL_RESULT_COUNT };
enum dmarc_result { DMARCR_UNKNOWN = 0, DMARC_VALUES(FACT_VALUE_ID) DMARCR_RESULT_COUNT };
enum dmarc_policy_value { DMARCP_UNKNOWN = 0, DMARC_POLICY_VALUES(FACT_VALUE_ID) DMARCP_RESULT_COUNT };
enum from_header_result { FROMH_UNKNOWN = 0, FROM_HEADER_VALUES(FACT_VALUE_ID) FROMH_RESULT_COUNT };

/*
 * Fact families: one row of facts.def (FACTS) that the configuration
 * gives several instances, each with its own name (dnsbl.zen, dnsbl.dbl):
 * at most FACT_LISTS_MAX of them, each its own fact id.
 */
#define FACT_LISTS_MAX 8

#define FACT_NAME_MAX   256   /* a domain in presentation form, NUL included */
#define FACT_ADDR_MAX   520   /* a reverse-path: 256 octets per RFC 5321, with room to see overlong ones */
#define FACT_DETAIL_MAX 256   /* human "why", e.g. "mx1.example.org resolves only to 10.0.0.1" */
#define FACT_SET_NAMES  32    /* members of a set of names: as many as MX targets (MX_TARGETS_MAX) */
#define FACT_SET_ADDRS  64    /* members of a set of addresses */

/* The C types of the kinds (struct facts fields). */
typedef char fact_domain_t[FACT_NAME_MAX];   /* A-label form, lower case, no trailing dot; "" if none */
typedef char fact_mailbox_t[FACT_ADDR_MAX];  /* as given, without <>; "" for the null sender */
typedef char fact_text_t[FACT_DETAIL_MAX];
struct fact_address {
	struct sockaddr_storage sa;  /* ss_family AF_UNSPEC when there is none (unix socket) */
	char text[64];               /* presentation form, "" when none */
};
/*
 * A set is partial when members may be missing (a lookup failed, or more
 * were found than it holds): "x in {...}" is then true only when a member
 * it has matches, and otherwise unknown rather than false, so a DNS error
 * never turns into "not listed".
 *
 * Sets are kept small because every message waiting on DNS holds one
 * struct facts (1,000 such sessions must fit in well under 50 MB): names
 * are packed one after another in text (at least 8 of the longest, 253
 * octets, fit; 32 short ones), addresses take 28 bytes, not a 128-byte
 * sockaddr_storage. Write them with facts_set_add_name/_add_addr, which
 * keep members distinct and make a set that is full partial.
 */
#define FACT_SET_TEXT   2048  /* octets of packed names, NULs included */
struct fact_domain_set {
	unsigned count;
	bool partial;
	uint16_t end[FACT_SET_NAMES];   /* member i: text + (i ? end[i - 1] : 0), NUL-terminated */
	char text[FACT_SET_TEXT];
};
/* An IPv4 or IPv6 address (family AF_INET or AF_INET6), nothing bigger. */
union fact_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};
struct fact_address_set {
	unsigned count;
	bool partial;
	union fact_sockaddr addr[FACT_SET_ADDRS];
};

/* Fact ids: FID_mx, ...; FACT_COUNT of them, in table order. */
enum fact_id {
#define FACT(name, ctype, kind, stage, values, flags, about) FID_##name,
#define FACTS(name, ctype, kind, stage, values, n, flags, about) FID_##name, FID_##name##_last = FID_##name + (n) - 1,
#include "policy/facts.def"
#undef FACTS
#undef FACT
	FACT_COUNT
};

/* A set of facts, one bit per fact id (facts.known, what rules need, what a check writes). */
typedef uint64_t fact_mask;
#define FBIT(name) ((fact_mask)1 << FID_##name)
#define FACT_MASK_ALL (((fact_mask)1 << FACT_COUNT) - 1)
_Static_assert(FACT_COUNT <= 64, "fact_mask holds one bit per fact");

/* The facts the orchestrator fills from what the MTA says (not from a check). */
#define FACT_CLIENT (FBIT(client_ip) | FBIT(trusted))
#define FACT_HELO   FBIT(helo)
#define FACT_SENDER (FBIT(sender) | FBIT(sender_domain) | FBIT(authenticated))
#define FACT_RCPT   (FBIT(rcpt) | FBIT(rcpt_domain))
#define FACT_FROM   FBIT(from_domain)
/* ... and everything the orchestrator reads from the headers, known at end of headers */
#define FACT_HEADERS (FBIT(from_domain) | FBIT(from_header) | FBIT(list_id))

struct facts {
	fact_mask known;   /* FBIT(x) set: x has its value */
	/*
	 * The configured lists' names, by index (NULL: not in use): the
	 * instances of every family are per list (dnsbl.zen, dnsbl_detail.zen).
	 * Points into the configuration snapshot the message holds.
	 */
	const char *const *list_name;
#define FACT(name, ctype, kind, stage, values, flags, about) ctype name;
#define FACTS(name, ctype, kind, stage, values, n, flags, about) ctype name[n];
#include "policy/facts.def"
#undef FACTS
#undef FACT
};

/* FBIT_OF - the bit of fact id (FBIT takes a name) */
#define FBIT_OF(id) ((fact_mask)1 << (id))

/* How a fact is tested by rules and printed. */
enum fact_kind {
	FACT_KIND_ENUM,          /* one of its values; rules: = != in */
	FACT_KIND_BOOL,          /* yes/no; rules: = != or bare */
	FACT_KIND_ADDRESS,       /* an IP address; rules: CIDR lists */
	FACT_KIND_DOMAIN,        /* a domain; rules: name, *.suffix, file: lists */
	FACT_KIND_MAILBOX,       /* a mail address; rules: exact addresses, <> */
	FACT_KIND_TEXT,          /* words for people; rules cannot test it */
	FACT_KIND_DOMAIN_SET,    /* set of domains; rules: in / not in, any member matches */
	FACT_KIND_ADDRESS_SET,   /* set of addresses; likewise */
};

#define FACT_PER_RCPT 1u     /* about the current recipient (see facts.def) */

struct fact_def {
	const char *name;            /* a family's instances add ".NAME" */
	enum fact_id first;          /* the family's first id (its own id for a plain fact) */
	unsigned instances;          /* 1 for a plain fact */
	enum fact_kind kind;
	enum check_stage stage;
	const char *const *values;   /* FACT_KIND_ENUM: values[0] = "unknown" .. values[nvalues-1] */
	unsigned nvalues;
	size_t offset, size;         /* the field in struct facts (of the first instance) */
	unsigned flags;
	const char *about;
};

extern const struct fact_def fact_table[FACT_COUNT];

/*
 * facts_find - the id of the fact called name ("mx", or "dnsbl.zen" for an
 * instance of a family, its list looked up in list_name, which may be NULL);
 * FACT_COUNT when there is none.
 */
enum fact_id facts_find(const char *name, const char *const *list_name);

/*
 * facts_name - the name of fact id in f: its row's name, or "family.NAME"
 * for an instance (into buf); NULL for an instance no configuration uses.
 */
const char *facts_name(const struct facts *f, enum fact_id id, char *buf, size_t len);

/*
 * facts_label - fact id as help texts list it: its name, "dnsbl.LIST"
 * for a family's first id (into buf), NULL for the family's other ids.
 */
const char *facts_label(enum fact_id id, char *buf, size_t len);

/* facts_field - where fact id's value lives in f. */
const void *facts_field(const struct facts *f, enum fact_id id);

/* facts_kind_name - "enumeration", "yes/no", "address", ... for messages. */
const char *facts_kind_name(enum fact_kind);

/* facts_is_set - does the fact hold a set of values? */
bool facts_is_set(enum fact_id);

/* facts_known - is fact id known in f? */
bool facts_known(const struct facts *f, enum fact_id id);

/* facts_enum - the value of an enumerated fact (0 = unknown). */
unsigned facts_enum(const struct facts *f, enum fact_id id);

/* facts_value_name - name of value v of enumerated fact id; "unknown" when out of range. */
const char *facts_value_name(enum fact_id id, unsigned v);

/* facts_value_parse - value of enumerated fact id called name (case-insensitive); 0 when none. */
unsigned facts_value_parse(enum fact_id id, const char *name);

/* facts_set_count - members of a set fact (1 for any other fact). */
unsigned facts_set_count(const struct facts *f, enum fact_id id);

/*
 * facts_addrs_sort - members of an address set in a fixed order (IPv4
 * before IPv6, then by address), so the log, replies and `check` say the
 * same for the same answers whatever order they arrived in.
 */
void facts_addrs_sort(struct fact_address_set *set);

/* facts_set_name - member i (< count) of a set of names */
const char *facts_set_name(const struct fact_domain_set *s, unsigned i);

/*
 * facts_set_add_name - add name (lower case, as the check made it) unless
 * already there. Returns false, and marks the set partial, when it does
 * not fit (FACT_SET_NAMES members or FACT_SET_TEXT octets).
 */
bool facts_set_add_name(struct fact_domain_set *s, const char *name);

/*
 * facts_set_add_addr - add an address of family AF_INET (raw: 4 octets) or
 * AF_INET6 (16) unless already there; false, and partial, when full.
 */
bool facts_set_add_addr(struct fact_address_set *s, int family, const void *raw);

/* facts_set_partial - may members of set fact id be missing? (false for any other fact) */
bool facts_set_partial(const struct facts *f, enum fact_id id);

/*
 * facts_render - fact id of f as text into buf (always NUL-terminated):
 * an enumerated fact by its value name, yes/no, an address in
 * presentation form, a mailbox as "<a@b>" ("<>" for the null sender),
 * a domain or text as it is, a set's members joined by ",". Member
 * `member` only, when member >= 0 (sets; for other facts 0 is the
 * value). Returns buf, or NULL (buf "") when the fact is unknown.
 */
const char *facts_render(const struct facts *f, enum fact_id id, int member, char *buf, size_t len);

/* The longest text facts_render makes for any fact, NUL included. */
#define FACT_RENDER_MAX (FACT_SET_NAMES * FACT_NAME_MAX + 1)

/*
 * facts_skip - the facts in mask become known as "skipped" (enumerated
 * facts with such a value) or empty (every other kind): a trusted
 * client's checks do not run.
 */
void facts_skip(struct facts *f, fact_mask mask);

/* facts_stage - the latest earliest-stage of the facts in mask (CHECK_STAGE_NONE for none). */
enum check_stage facts_stage(fact_mask mask);

/*
 * facts_mailfrom_domain - the fact holding the domain of SPF's MAIL FROM
 * identity (RFC 7208 §2.4): sender_domain, or helo for the null sender
 * (postmaster@HELO). Used by %{domain} and DMARC's SPF identifier.
 */
enum fact_id facts_mailfrom_domain(const struct facts *f);

/* Shorthands for the enumerated facts (value names; parse gives 0 for none). */
const char *facts_mx_name(enum mx_result);
const char *facts_ns_name(enum ns_result);
const char *facts_mx_dnssec_name(enum mx_dnssec_result);
const char *facts_spf_name(enum spf_result);
const char *facts_dkim_name(enum dkim_result);

#endif
