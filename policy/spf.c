/*
 * spf.c - SPF checks of the MAIL FROM and HELO identities (see spf.h).
 *
 * This file owns the libspf2 SPF_server_t and runs one check_host():
 * RFC 7208 4.3 initial processing (an invalid <domain> is "none", the null
 * sender and a missing local-part become "postmaster"), the evaluation
 * itself through our DNS layer, and the mapping of libspf2's answer and
 * the layer's verdicts onto enum spf_result.
 *
 * libspf2 is driven with SPF_server_get_record + SPF_record_interpret, not
 * SPF_request_query_mailfrom: the latter gives any loopback client a
 * "pass" by fiat, which is not RFC 7208.
 *
 * Hostile input and libspf2's abort(): libspf2 calls SPF_error() on
 * internal inconsistencies and abort()s after the handler returns. Our
 * handler never returns inside a check: it longjmp()s back to the check,
 * which ends as temperror. The request, response and top record (ours)
 * are freed; whatever libspf2 had allocated deeper down (an include's
 * record, a lookup buffer) is lost, a small leak for an event that should
 * never happen, rather than a dead daemon. Records and
 * explanations never reach libspf2's parser unchecked (spf_guard.c), and
 * the texts libspf2 expands into macros (local-part, HELO) are reduced to
 * printable ASCII first, which keeps its URL-encoder's sprintf in bounds.
 *
 * Why in-process and not in a helper process that may die: the check must
 * run on the connection's resolver (so the MX lookups of the same message
 * progress while SPF waits, under one deadline); a helper would need its
 * own DNS or an RPC back to the connection's thread, and fork() from a
 * threaded daemon per message is slow and unsafe. What a helper would
 * catch is covered here by other means: abort() by the longjmp above,
 * hangs by the resolver's deadline, memory corruption by never giving
 * libspf2's parsers input outside the strict grammar and size bounds its
 * known bugs need (spf_guard.h), checked by the hostile-record tier and
 * the libFuzzer harnesses under ASan.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/address.h"
#include "policy/resolver.h"
#include "policy/spf.h"
#include "policy/spf_dns.h"
#include "policy/spf_fetch.h"
#include "policy/spf_guard.h"

#define SPF_DEFAULT_EXPLANATION "%{c} is not permitted to send mail for %{o}"

struct spf_context {
	SPF_server_t *server;
	SPF_dns_server_t *dns;  /* our layer: SPF_server_free() does not free it */
	bool default_url;       /* the default explanation has an upper-case macro */
};

static pthread_once_t spf_once = PTHREAD_ONCE_INIT;
static _Thread_local jmp_buf *spf_jump;
static _Thread_local char spf_fatal_msg[160];

/* spf_on_fatal - libspf2's error handler: leave the check, never the process. */
static void spf_on_fatal(const char *file, int line, const char *msg) __attribute__((noreturn));
static void spf_on_fatal(const char *file, int line, const char *msg)
{
	snprintf(spf_fatal_msg, sizeof(spf_fatal_msg), "%s:%d: %s",
		 file ? file : "?", line, msg ? msg : "?");
	if (spf_jump)
		longjmp(*spf_jump, 1);
	abort();        /* outside a check (start-up): libspf2 would abort anyway */
}

/* spf_install_handlers - once: route libspf2's fatal errors to us, silence its chatter on stdout. */
static void spf_install_handlers(void)
{
	SPF_error_handler = spf_on_fatal;
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;
}

/* spf_context_new - see spf.h. */
struct spf_context *spf_context_new(const struct spf_options *opt, char *err, size_t errlen)
{
	const char *exp = opt && opt->default_explanation ? opt->default_explanation
							   : SPF_DEFAULT_EXPLANATION;
	SPF_response_t *resp = NULL;
	struct spf_context *ctx;
	SPF_dns_server_t *dns;
	char why[FACT_DETAIL_MAX], escaped[4 * SPF_GUARD_MAX_EXP + 1];

	pthread_once(&spf_once, spf_install_handlers);
	if (spf_guard_explanation(exp, strlen(exp), why, sizeof(why)) < 0) {
		snprintf(err, errlen, "bad default SPF explanation: %s", why);
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	dns = spf_dns_new();
	if (!ctx || !dns) {
		free(ctx);
		free(dns);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctx->dns = dns;
	ctx->server = SPF_server_new_dns(dns, 0);
	if (!ctx->server) {
		free(dns);
		free(ctx);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctx->default_url = spf_guard_url_macro(exp);
	if (spf_guard_explain_text(exp, NULL, escaped, sizeof(escaped)) < 0 ||
	    SPF_server_set_explanation(ctx->server, escaped, &resp) != SPF_E_SUCCESS ||
	    SPF_server_set_rec_dom(ctx->server, opt ? opt->receiver : NULL) != SPF_E_SUCCESS) {
		snprintf(err, errlen, "libspf2 refused the SPF settings");
		if (resp)
			SPF_response_free(resp);
		spf_context_free(ctx);
		return NULL;
	}
	if (resp)
		SPF_response_free(resp);
	return ctx;
}

/* spf_context_free - see spf.h. */
void spf_context_free(struct spf_context *ctx)
{
	if (!ctx)
		return;
	if (ctx->server)
		SPF_server_free(ctx->server);
	free(ctx->dns);
	free(ctx);
}

/* spf_printable - copy with every byte outside printable ASCII replaced by '?'. */
static void spf_printable(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i;

	if (srclen >= dstlen)
		srclen = dstlen - 1;
	for (i = 0; i < srclen; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	dst[srclen] = '\0';
}

/* spf_result_of - libspf2's result as ours; "(invalid)" split by its error code. */
static enum spf_result spf_result_of(const SPF_response_t *resp)
{
	switch (resp->result) {
	case SPF_RESULT_PASS:      return SPFR_PASS;
	case SPF_RESULT_FAIL:      return SPFR_FAIL;
	case SPF_RESULT_SOFTFAIL:  return SPFR_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:   return SPFR_NEUTRAL;
	case SPF_RESULT_NONE:      return SPFR_NONE;
	case SPF_RESULT_TEMPERROR: return SPFR_TEMPERROR;
	case SPF_RESULT_PERMERROR: return SPFR_PERMERROR;
	default:
		/* SPF_RESULT_INVALID: a DNS failure is temporary, the rest is the record's fault */
		return resp->err == SPF_E_DNS_ERROR ? SPFR_TEMPERROR : SPFR_PERMERROR;
	}
}

/* spf_default_reason - a plain-words reason when nothing more specific was noted. */
static void spf_default_reason(struct spf_outcome *out, const SPF_response_t *resp)
{
	switch (out->result) {
	case SPFR_PASS:     snprintf(out->reason, sizeof(out->reason), "%.200s permits the client", out->domain); break;
	case SPFR_FAIL:     snprintf(out->reason, sizeof(out->reason), "%.200s does not permit the client", out->domain); break;
	case SPFR_SOFTFAIL: snprintf(out->reason, sizeof(out->reason), "%.200s discourages the client (softfail)", out->domain); break;
	case SPFR_NEUTRAL:  snprintf(out->reason, sizeof(out->reason), "%.200s neither permits nor denies the client", out->domain); break;
	case SPFR_NONE:     snprintf(out->reason, sizeof(out->reason), "%.200s publishes no SPF record", out->domain); break;
	default:
		snprintf(out->reason, sizeof(out->reason), "%.160s: %.80s", out->domain,
			 resp ? SPF_strerror(resp->err) : "error");
		break;
	}
}

struct spf_input {
	int af;
	struct in_addr ip4;
	struct in6_addr ip6;
	const char *helo;           /* printable */
	const char *sender;         /* printable "local@domain" */
	bool use_helo;
};

/* spf_request - a libspf2 request for in; NULL on out of memory. */
static SPF_request_t *spf_request(struct spf_context *ctx, const struct spf_input *in)
	__attribute__((noinline));
/* (kept out of line: its locals must not share spf_run's setjmp frame) */
static SPF_request_t *spf_request(struct spf_context *ctx, const struct spf_input *in)
{
	SPF_request_t *req = SPF_request_new(ctx->server);

	if (!req)
		return NULL;
	if ((in->af == AF_INET ? SPF_request_set_ipv4(req, in->ip4)
			       : SPF_request_set_ipv6(req, in->ip6)) != SPF_E_SUCCESS ||
	    SPF_request_set_helo_dom(req, in->helo) != SPF_E_SUCCESS ||
	    SPF_request_set_env_from(req, in->sender) != 0) {
		SPF_request_free(req);
		return NULL;
	}
	req->use_helo = in->use_helo;
	req->cur_dom = in->use_helo ? req->helo_dom : req->env_from_dp;
	return req;
}

/* spf_explain - the explanation of a fail into out (printable ASCII only). */
static void spf_explain(struct spf_context *ctx, struct spf_eval *ev, const char *libtext,
			struct spf_outcome *out)
{
	char *buf = NULL;
	size_t len = 0;

	if (spf_fetch_final_explanation(ctx->server, ev, libtext, &buf, &len) == SPF_E_SUCCESS && buf)
		spf_printable(out->explanation, sizeof(out->explanation), buf, strlen(buf));
	free(buf);
}

/* spf_run - libspf2's check_host() with our layer; fills out->result/explanation/reason. */
static void spf_run(struct spf_context *ctx, struct resolver *res, const struct spf_input *in,
		    struct spf_outcome *out)
{
	/* On the heap and never reassigned after setjmp: all of these keep
	 * determinate values when libspf2 longjmps back (C11 7.13.2.1). */
	struct spf_eval *const ev = calloc(1, sizeof(*ev));
	SPF_request_t *const req = ev ? spf_request(ctx, in) : NULL;
	SPF_response_t *const resp = req ? SPF_response_new(req) : NULL;
	SPF_errcode_t err;
	jmp_buf jb;

	if (!ev || !req || !resp) {
		out->result = SPFR_TEMPERROR;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		goto done;
	}
	ev->res = res;
	ev->af = in->af;
	ev->ip4 = in->ip4;
	ev->ip6 = in->ip6;
	ev->default_url = ctx->default_url;
	ev->req = req;
	spf_dns_enter(ev);
	spf_jump = &jb;
	if (setjmp(jb) != 0) {
		spf_jump = NULL;
		spf_dns_abandon(ev);
		spf_dns_leave();
		out->result = SPFR_TEMPERROR;
		snprintf(out->reason, sizeof(out->reason), "libspf2 internal error (%s)", spf_fatal_msg);
		goto done;      /* what libspf2 allocated deeper down is lost: see the file comment */
	}
	err = SPF_server_get_record(ctx->server, req, resp, &ev->record);
	if (err == SPF_E_SUCCESS && ev->record) {
		resp->spf_record_exp = ev->record;
		SPF_record_interpret(ev->record, req, resp, 0);
		out->result = spf_result_of(resp);
	} else {
		out->result = ev->top != SPFR_UNKNOWN ? ev->top
			    : err == SPF_E_DNS_ERROR ? SPFR_TEMPERROR : SPFR_PERMERROR;
	}
	if (ev->forced != SPFR_UNKNOWN)
		out->result = ev->forced;
	if (out->result == SPFR_FAIL && resp->explanation)
		spf_explain(ctx, ev, resp->explanation, out);
	spf_jump = NULL;
	spf_dns_leave();
	if (ev->why[0] && out->result != SPFR_PASS)
		snprintf(out->reason, sizeof(out->reason), "%s", ev->why);
	else
		spf_default_reason(out, resp);
done:
	if (ev && ev->record)
		SPF_record_free(ev->record);
	if (resp)
		SPF_response_free(resp);
	if (req)
		SPF_request_free(req);
	free(ev);
}

/* spf_client - the client address as libspf2 wants it; false if not IP. */
static bool spf_client(const struct sockaddr *sa, struct spf_input *in)
{
	if (sa && sa->sa_family == AF_INET) {
		in->af = AF_INET;
		in->ip4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		/* RFC 7208 5: an IPv4-mapped IPv6 client is an IPv4 client */
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			in->af = AF_INET;
			memcpy(&in->ip4, &a->s6_addr[12], 4);
		} else {
			in->af = AF_INET6;
			in->ip6 = *a;
		}
		return true;
	}
	return false;
}

/* spf_alabel - an internationalised domain (8-bit bytes) in A-labels (RFC 8616 4); others unchanged */
static const char *spf_alabel(const char *domain, char *buf, size_t buflen)
{
	const char *p;

	for (p = domain; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return address_domain(domain, buf, buflen, NULL, 0) == 0 ? buf : domain;
	return domain;
}

/* spf_identity - split and clean <sender> into out->identity/domain; false if the domain is unusable. */
static bool spf_identity(const char *sender, const char *helo, struct spf_outcome *out, char *lib, size_t liblen)
{
	const char *at = strrchr(sender, '@');
	const char *domain = at ? at + 1 : sender;
	size_t locallen = at ? (size_t)(at - sender) : 0;
	char local[FACT_ADDR_MAX], alabel[FACT_NAME_MAX];
	bool clean;

	if (sender[0] == '\0')
		domain = helo;      /* RFC 7208 2.4: the null sender */
	domain = spf_alabel(domain, alabel, sizeof(alabel));
	if (locallen == 0)
		snprintf(local, sizeof(local), "postmaster");
	else
		spf_printable(local, sizeof(local), sender, locallen);
	spf_printable(out->domain, sizeof(out->domain), domain, strlen(domain));
	/* a domain that had to be cleaned up is no domain at all */
	clean = strlen(domain) < FACT_NAME_MAX && strcmp(domain, out->domain) == 0;
	if (strlen(out->domain) && out->domain[strlen(out->domain) - 1] == '.')
		out->domain[strlen(out->domain) - 1] = '\0';
	snprintf(out->identity, sizeof(out->identity), "%.255s@%.255s", local, out->domain);
	snprintf(lib, liblen, "%s", out->identity);
	return clean && spf_dns_domain_ok(out->domain);
}

/* spf_check_identity - shared body of the MAIL FROM and HELO checks. */
static enum spf_result spf_check_identity(struct spf_context *ctx, struct resolver *res,
					  const struct sockaddr *client, const char *helo,
					  const char *sender, bool use_helo, struct spf_outcome *out)
{
	char lib[FACT_ADDR_MAX + 16], heloclean[FACT_NAME_MAX];
	struct spf_input in;

	memset(out, 0, sizeof(*out));
	memset(&in, 0, sizeof(in));
	if (!helo)
		helo = "";
	if (!sender)
		sender = "";
	if (!ctx || !res || !spf_client(client, &in)) {
		out->result = SPFR_SKIPPED;
		snprintf(out->reason, sizeof(out->reason), "no IP client address");
		return out->result;
	}
	spf_printable(heloclean, sizeof(heloclean), helo, strlen(helo));
	if (!spf_identity(use_helo ? "" : sender, helo, out, lib, sizeof(lib))) {
		out->result = SPFR_NONE;    /* RFC 7208 4.3: not a usable domain */
		snprintf(out->reason, sizeof(out->reason), "\"%.200s\" is not a valid domain", out->domain);
		return out->result;
	}
	in.helo = heloclean;
	in.sender = lib;
	in.use_helo = use_helo;
	spf_run(ctx, res, &in, out);
	return out->result;
}

/* spf_check_mailfrom - see spf.h. */
enum spf_result spf_check_mailfrom(struct spf_context *ctx, struct resolver *res,
				   const struct sockaddr *client, const char *helo,
				   const char *sender, struct spf_outcome *out)
{
	return spf_check_identity(ctx, res, client, helo, sender, false, out);
}

/* spf_check_helo - see spf.h. */
enum spf_result spf_check_helo(struct spf_context *ctx, struct resolver *res,
			       const struct sockaddr *client, const char *helo,
			       struct spf_outcome *out)
{
	return spf_check_identity(ctx, res, client, helo, "", true, out);
}

/* spf_outcome_detail - see spf.h. */
const char *spf_outcome_detail(const struct spf_outcome *out)
{
	return out->result == SPFR_FAIL && out->explanation[0] ? out->explanation : out->reason;
}

/* spf_check - see spf.h. */
enum spf_result spf_check(struct spf_context *ctx, struct resolver *res,
			  const struct sockaddr *client, const char *helo,
			  const char *sender, enum spf_result *result,
			  char *detail, size_t detaillen)
{
	struct spf_outcome out;

	spf_check_mailfrom(ctx, res, client, helo, sender, &out);
	if (result)
		*result = out.result;
	if (detail && detaillen)
		snprintf(detail, detaillen, "%s", spf_outcome_detail(&out));
	return out.result;
}
