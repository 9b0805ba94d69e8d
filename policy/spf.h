/*
 * spf.h - SPF (RFC 7208) for the MAIL FROM and HELO identities.
 *
 * libspf2 evaluates; everything it needs from DNS comes through our own
 * SPF_dns_server_t layer (policy/spf_dns.c) on the connection's resolver,
 * so configured servers, the message deadline and parallelism apply to SPF
 * too: while SPF waits for a TXT answer, the MX lookups started earlier on
 * the same resolver keep progressing. The layer also enforces RFC 7208
 * 4.6.4's limits (10 DNS-querying terms, 2 void lookups, 10 MX/PTR names)
 * and checks every record and explanation (policy/spf_guard.c) before
 * libspf2 parses it. A libspf2 internal error ends that one check as
 * temperror instead of calling abort() on the daemon.
 *
 * Threads: one struct spf_context serves the whole process (create it
 * before starting threads); spf_check* may run concurrently in different
 * threads, each with its own resolver. A check runs synchronously in the
 * calling thread and never outlives the resolver's deadline.
 *
 * Ownership: the caller owns the context (spf_context_free), the resolver
 * and the outcome struct; nothing returned points into library memory.
 */
#ifndef MXGUARD_SPF_H
#define MXGUARD_SPF_H

#include <stddef.h>
#include <sys/socket.h>

#include "policy/facts.h"

struct resolver;
struct spf_context;

struct spf_options {
	/* Explanation for fail results when the domain gives none (an RFC 7208
	 * macro-string; %{i} %{s} %{o} %{d} ...). NULL = built-in default. */
	const char *default_explanation;
	/* %{r}, the receiving host. NULL = gethostname(). */
	const char *receiver;
};

/* What a decision, a log line and an Authentication-Results /
 * Received-SPF header need to know about one check. */
struct spf_outcome {
	enum spf_result result;
	char identity[FACT_ADDR_MAX];        /* the checked <sender>: "user@dom" or "postmaster@helo" */
	char domain[FACT_NAME_MAX];          /* the domain whose policy was asked ("" when none applies) */
	char explanation[FACT_DETAIL_MAX];   /* fail only: the domain's exp= text, or the default; else "" */
	char reason[FACT_DETAIL_MAX];        /* human "why", e.g. "more than 10 DNS-querying terms" */
};

/*
 * spf_context_new - the process-wide SPF evaluator. opt may be NULL. On
 * failure returns NULL with the reason in err. Free with spf_context_free.
 */
struct spf_context *spf_context_new(const struct spf_options *opt, char *err, size_t errlen);
void spf_context_free(struct spf_context *);

/*
 * spf_check_mailfrom - check_host() for the MAIL FROM identity. sender is
 * the reverse-path without <>; "" (the null sender) checks
 * "postmaster@<helo>" as RFC 7208 2.4 says. client is the SMTP client's
 * address (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * IPv4). Any other family gives SPFR_SKIPPED. Fills *out (never NULL) and
 * returns out->result.
 */
enum spf_result spf_check_mailfrom(struct spf_context *, struct resolver *,
				   const struct sockaddr *client, const char *helo,
				   const char *sender, struct spf_outcome *out);

/* spf_check_helo - check_host() for the HELO identity (RFC 7208 2.3). */
enum spf_result spf_check_helo(struct spf_context *, struct resolver *,
			       const struct sockaddr *client, const char *helo,
			       struct spf_outcome *out);

/*
 * spf_outcome_detail - the text a fact's detail holds: the explanation
 * for a fail that has one, else the reason. Points into out.
 */
const char *spf_outcome_detail(const struct spf_outcome *out);

/*
 * spf_check - spf_check_mailfrom as a result and a detail: the result in
 * *result, spf_outcome_detail() in detail. Returns *result. (The
 * orchestrator's row, checks_spf.c, keeps the whole outcome instead.)
 */
enum spf_result spf_check(struct spf_context *, struct resolver *,
			  const struct sockaddr *client, const char *helo,
			  const char *sender, enum spf_result *result,
			  char *detail, size_t detaillen);

#endif
