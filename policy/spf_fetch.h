/*
 * spf_fetch.h - the record and explanation fetchers of the SPF DNS layer
 * (SPF_dns_get_spf_t / SPF_dns_get_exp_t), and the helpers spf_dns.c
 * shares with them. Internal to policy/spf*.c.
 */
#ifndef MXGUARD_SPF_FETCH_H
#define MXGUARD_SPF_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <spf2/spf.h>

#include "policy/resolver.h"
#include "policy/spf_dns.h"

/* One finished query. msg (len bytes, may be NULL) is owned: spf_reply_free(). */
struct spf_reply {
	enum dns_status status;
	unsigned char *msg;
	size_t len;
	bool done;
};

/* spf_dns_eval - the evaluation running in this thread, or NULL. */
struct spf_eval *spf_dns_eval(void);

/* spf_dns_force - a limit or failure decides the result (first one wins) and stops evaluation. */
void spf_dns_force(struct spf_eval *ev, enum spf_result r, const char *why);

/* spf_dns_name - the queryable form of a name libspf2 gave (see spf_dns.c). */
int spf_dns_name(const char *in, char *out, size_t outlen, bool *marked);

/* spf_dns_query - run one query on ev's resolver and wait for it (other queries progress). */
void spf_dns_query(struct spf_eval *ev, const char *name, int type, struct spf_reply *r);
void spf_reply_free(struct spf_reply *r);

/*
 * spf_fetch_record - SPF_dns_get_spf_t: the SPF record of
 * spf_request->cur_dom, selected (RFC 7208 4.4, 4.5), checked by
 * spf_guard_parse, rewritten and compiled. On failure sets
 * spf_response->result (none/permerror) or returns SPF_E_DNS_ERROR for a
 * temporary failure, as libspf2's own fetcher does.
 */
SPF_errcode_t spf_fetch_record(SPF_server_t *, SPF_request_t *, SPF_response_t *,
			       SPF_record_t **recordp);

/* The placeholder spf_fetch_explanation gives libspf2: SPF_MARK_ANY can never come from DNS. */
#define SPF_EXP_MARK "\x01" "exp#"

/*
 * spf_fetch_explanation - SPF_dns_get_exp_t: remembers the exp= domain
 * (and <domain> at that moment) and returns a placeholder; no DNS.
 */
SPF_errcode_t spf_fetch_explanation(SPF_server_t *, const char *domain,
				    char **bufp, size_t *buflenp);

/*
 * spf_fetch_final_explanation - the explanation of a final fail, given
 * what libspf2 put in its response (libtext): for the placeholder of the
 * last request, the expanded text of the exp= domain's single TXT record
 * (RFC 7208 6.2), else the server's default explanation; any other text is
 * libspf2's own expansion of the default. Into *bufp (malloc'ed, grown as
 * needed, the caller frees). Runs DNS and libspf2's expander: call it
 * inside the evaluation (spf_dns_enter, the fatal-error guard).
 */
SPF_errcode_t spf_fetch_final_explanation(SPF_server_t *, struct spf_eval *ev,
					  const char *libtext, char **bufp, size_t *buflenp);

#endif
