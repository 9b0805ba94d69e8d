/*
 * facts.h - what mxguard knows about one message, as plain data.
 *
 * A fact is either unknown (its stage has not arrived, or its check has
 * not finished) or has exactly one value. The rule engine reads facts;
 * the checks (mx, spf, dkim) and the milter glue write them. Nothing
 * here allocates: every string lives in a fixed buffer inside the
 * struct, so a struct facts is freed with the message that owns it.
 */
#ifndef MXGUARD_FACTS_H
#define MXGUARD_FACTS_H

#include <stdbool.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* Bits of facts.known; one per group of facts that arrive together. */
enum fact_bit {
	FACT_CLIENT   = 1u << 0,  /* client_ip, client_addr, trusted */
	FACT_HELO     = 1u << 1,  /* helo */
	FACT_SENDER   = 1u << 2,  /* sender, sender_domain, authenticated */
	FACT_MX       = 1u << 3,  /* mx, mx_detail */
	FACT_SPF      = 1u << 4,  /* spf, spf_detail */
	FACT_HELO_SPF = 1u << 5,  /* helo_spf */
	FACT_FROM     = 1u << 6,  /* from_domain (end of headers) */
	FACT_DKIM     = 1u << 7,  /* dkim, dkim_aligned (end of message) */
	FACT_RCPT     = 1u << 8,  /* rcpt, rcpt_domain (current recipient) */
};
#define FACT_ALL 0x1ffu

/* Values start at 1 so that a zeroed struct facts says "unknown". */
enum mx_result {
	MX_UNKNOWN = 0,
	MX_VALID, MX_IMPLICIT, MX_NULLMX, MX_NXDOMAIN, MX_NONE, MX_BOGUS,
	MX_LITERAL, MX_INVALID, MX_TEMPERROR, MX_SKIPPED,
	MX_RESULT_COUNT
};

enum spf_result {
	SPFR_UNKNOWN = 0,
	SPFR_PASS, SPFR_FAIL, SPFR_SOFTFAIL, SPFR_NEUTRAL, SPFR_NONE,
	SPFR_TEMPERROR, SPFR_PERMERROR, SPFR_SKIPPED,
	SPFR_RESULT_COUNT
};

enum dkim_result {
	DKIMR_UNKNOWN = 0,
	DKIMR_PASS, DKIMR_FAIL, DKIMR_NONE, DKIMR_TEMPERROR, DKIMR_PERMERROR,
	DKIMR_SKIPPED,
	DKIMR_RESULT_COUNT
};

#define FACT_NAME_MAX   256   /* a domain in presentation form, NUL included */
#define FACT_ADDR_MAX   520   /* a reverse-path: 256 octets per RFC 5321, with room to see overlong ones */
#define FACT_DETAIL_MAX 256   /* human "why", e.g. "mx1.example.org resolves only to 10.0.0.1" */

struct facts {
	unsigned known;                       /* enum fact_bit set */

	/* FACT_CLIENT */
	char client_ip[64];                   /* presentation form, "" when unknown (e.g. unix socket) */
	struct sockaddr_storage client_addr;  /* ss_family AF_UNSPEC when not IP */
	bool trusted;                         /* client_addr in trusted_networks */

	/* FACT_HELO */
	char helo[FACT_NAME_MAX];

	/* FACT_SENDER */
	char sender[FACT_ADDR_MAX];           /* as given, without <>; "" for the null sender */
	char sender_domain[FACT_NAME_MAX];    /* A-label form, lower case, no trailing dot; "" if none */
	bool authenticated;                   /* {auth_authen} was set */

	/* FACT_MX */
	enum mx_result mx;
	char mx_detail[FACT_DETAIL_MAX];

	/* FACT_SPF / FACT_HELO_SPF */
	enum spf_result spf;
	enum spf_result helo_spf;
	char spf_detail[FACT_DETAIL_MAX];

	/* FACT_FROM */
	char from_domain[FACT_NAME_MAX];

	/* FACT_DKIM */
	enum dkim_result dkim;
	bool dkim_aligned;
	char dkim_detail[FACT_DETAIL_MAX];    /* per signature "d/s result (why)", "; "-separated; "" when unsigned */

	/* FACT_RCPT */
	char rcpt[FACT_ADDR_MAX];
	char rcpt_domain[FACT_NAME_MAX];
};

/* facts_mx_name - "valid", "nullmx", ...; "unknown" for MX_UNKNOWN. Never NULL. */
const char *facts_mx_name(enum mx_result);
const char *facts_spf_name(enum spf_result);
const char *facts_dkim_name(enum dkim_result);

/* facts_mx_parse - name to value; returns MX_UNKNOWN when the name is not a value. */
enum mx_result facts_mx_parse(const char *name);
enum spf_result facts_spf_parse(const char *name);
enum dkim_result facts_dkim_parse(const char *name);

#endif
