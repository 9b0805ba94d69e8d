/*
 * spf_fetch.c - fetch SPF records and explanations for libspf2 (see
 * spf_fetch.h), so that no text from DNS reaches libspf2's compiler
 * without passing spf_guard first.
 *
 * Record lookup is TXT only (RFC 7208 4.4; type SPF is never asked). Of the
 * TXT records, those starting with "v=spf1" + SP/end are SPF records (4.5):
 * none gives "none", more than one "permerror". include/redirect targets
 * count as DNS-querying terms (4.6.4); the record of <domain> itself does
 * not.
 *
 * Ownership: the compiled record goes to libspf2 (*recordp, freed by it);
 * text buffers here are malloc'ed and freed before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include "policy/spf_answer.h"
#include "policy/spf_fetch.h"
#include "policy/spf_guard.h"

#define FETCH_REWRITE_MAX (3 * SPF_GUARD_MAX_RECORD)

struct fetch_txt {
	bool spf_only;      /* count only SPF records (else: every TXT record) */
	char *buf;          /* the first counted record, bufcap bytes */
	size_t bufcap;
	size_t len;         /* its full length (may exceed bufcap) */
	unsigned count;
	bool bad;           /* a malformed TXT rdata */
};

/* fetch_txt_one - spf_answer_fn: look at one TXT record. */
static int fetch_txt_one(void *arg, const unsigned char *msg, size_t msglen,
			 const unsigned char *rdata, size_t rdlen)
{
	struct fetch_txt *f = arg;
	char head[8];
	long n;

	(void)msg;
	(void)msglen;
	n = spf_answer_txt(rdata, rdlen, head, sizeof(head));
	if (n < 0) {
		f->bad = true;
		return 0;
	}
	if (f->spf_only && !spf_guard_is_spf(head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head)))
		return 0;
	if (++f->count == 1) {
		f->len = (size_t)n;
		spf_answer_txt(rdata, rdlen, f->buf, f->bufcap);
	}
	return 0;
}

/* A client address written out as the i and c macros expand it. */
struct fetch_ipbuf {
	char i[64 + 8];
	char c[INET6_ADDRSTRLEN];
};

/* fetch_vals - the macro values of the current request, for spf_guard_macro_clamp. */
static void fetch_vals(SPF_server_t *server, const struct spf_eval *ev, const SPF_request_t *req,
		       struct fetch_ipbuf *ip, const char *vals[26])
{
	int k;

	memset(vals, 0, 26 * sizeof(*vals));
	if (ev->af == AF_INET) {
		inet_ntop(AF_INET, &ev->ip4, ip->i, sizeof(ip->i));
		inet_ntop(AF_INET, &ev->ip4, ip->c, sizeof(ip->c));
	} else {
		for (k = 0; k < 16; k++)
			snprintf(ip->i + 4 * k, sizeof(ip->i) - 4 * (size_t)k, "%x.%x.",
				 ev->ip6.s6_addr[k] >> 4, ev->ip6.s6_addr[k] & 15);
		ip->i[63] = '\0';
		inet_ntop(AF_INET6, &ev->ip6, ip->c, sizeof(ip->c));
	}
	vals['l' - 'a'] = req->env_from_lp;
	vals['s' - 'a'] = req->env_from;
	vals['o' - 'a'] = req->env_from_dp;
	vals['d' - 'a'] = req->cur_dom;
	vals['h' - 'a'] = req->helo_dom;
	vals['i' - 'a'] = ip->i;
	vals['c' - 'a'] = ip->c;
	vals['v' - 'a'] = ev->af == AF_INET ? "in-addr" : "ip6";
	vals['r' - 'a'] = server->rec_dom;
	vals['t' - 'a'] = "0";      /* seconds since the epoch: one part, whatever the time */
	/* p needs DNS to know: left to libspf2 */
}

/* fetch_permerror - the record of the current domain is broken. */
static SPF_errcode_t fetch_permerror(struct spf_eval *ev, bool top, SPF_response_t *resp,
				     SPF_errcode_t code, const char *domain, const char *why)
{
	spf_dns_note(ev, "%s: %s", domain, why);
	if (top)
		ev->top = SPFR_PERMERROR;
	resp->result = SPF_RESULT_PERMERROR;
	resp->reason = SPF_REASON_FAILURE;
	resp->err = code;
	return code;
}

/* fetch_none - the current domain publishes no SPF record. */
static SPF_errcode_t fetch_none(struct spf_eval *ev, bool top, SPF_response_t *resp,
				const char *domain)
{
	if (top)
		ev->top = SPFR_NONE;
	else
		spf_dns_note(ev, "%s: no SPF record (include/redirect target)", domain);
	resp->result = SPF_RESULT_NONE;
	resp->reason = SPF_REASON_FAILURE;
	return SPF_E_NOT_SPF;
}

/* fetch_temperror - the record could not be fetched now. */
static SPF_errcode_t fetch_temperror(struct spf_eval *ev, bool top, const char *domain,
				     enum dns_status st)
{
	spf_dns_note(ev, "%s: TXT lookup failed (%s)", domain, dns_status_name(st));
	if (top)
		ev->top = SPFR_TEMPERROR;
	return SPF_E_DNS_ERROR;
}

/* fetch_compile - guard, rewrite and compile the selected record text. */
static SPF_errcode_t fetch_compile(SPF_server_t *server, struct spf_eval *ev, bool top,
				   SPF_response_t *resp, SPF_record_t **recordp,
				   const char *domain, const char *txt, size_t len)
{
	struct spf_parsed *parsed = malloc(sizeof(*parsed));
	char *text = malloc(FETCH_REWRITE_MAX);
	char why[FACT_DETAIL_MAX];
	struct spf_rewrite_in rin;
	struct fetch_ipbuf ip;
	SPF_errcode_t err;
	unsigned nmech;

	if (!parsed || !text) {
		free(parsed);
		free(text);
		spf_dns_force(ev, SPFR_TEMPERROR, "out of memory");
		return SPF_E_NO_MEMORY;
	}
	rin.af = ev->af;
	rin.addr = ev->af == AF_INET ? (const void *)&ev->ip4 : (const void *)&ev->ip6;
	fetch_vals(server, ev, ev->req, &ip, rin.vals);
	if (spf_guard_parse(txt, len, parsed, why, sizeof(why)) < 0) {
		err = fetch_permerror(ev, top, resp, SPF_E_SYNTAX, domain, why);
	} else if (spf_guard_rewrite(parsed, &rin, text, FETCH_REWRITE_MAX, &nmech) < 0) {
		err = fetch_permerror(ev, top, resp, SPF_E_BIG_MECH, domain, "record too large");
	} else {
		err = SPF_record_compile(server, resp, recordp, text);
		/* libspf2 drops mechanisms past its buffer without saying so: count them. */
		if (err == SPF_E_SUCCESS && (*recordp)->num_mech != nmech)
			err = SPF_E_BIG_MECH;
		if (err != SPF_E_SUCCESS) {
			if (*recordp)
				SPF_record_free(*recordp);
			*recordp = NULL;
			fetch_permerror(ev, top, resp, err, domain,
					err == SPF_E_BIG_MECH ? "record too large for the SPF evaluator"
							      : SPF_strerror(err));
		}
	}
	free(parsed);
	free(text);
	return err;
}

/* spf_fetch_record - see spf_fetch.h. */
SPF_errcode_t spf_fetch_record(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
			       SPF_record_t **recordp)
{
	struct spf_eval *ev = spf_dns_eval();
	struct fetch_txt f = { true, NULL, SPF_GUARD_MAX_RECORD + 1, 0, 0, false };
	char name[SPF_NAME_BUF];
	struct spf_reply r;
	SPF_errcode_t err;
	bool top, marked;

	*recordp = NULL;
	if (!ev || ev->forced || !req->cur_dom)
		return SPF_E_DNS_ERROR;
	top = !ev->started;
	ev->started = true;
	if (!top) {
		/* include or redirect: a DNS-querying term */
		ev->nchild = ev->next_child = 0;
		if (++ev->terms > SPF_MAX_TERMS) {
			spf_dns_force(ev, SPFR_PERMERROR, "more than 10 DNS-querying terms");
			return SPF_E_DNS_ERROR;
		}
	}
	if (spf_dns_name(req->cur_dom, name, sizeof(name), &marked) < 0 || marked)
		return fetch_none(ev, top, resp, req->cur_dom);
	spf_dns_query(ev, name, ns_t_txt, &r);
	if (ev->forced) {
		spf_reply_free(&r);
		return SPF_E_DNS_ERROR;
	}
	if (r.status == DNS_NXDOMAIN || r.status == DNS_NODATA || r.status == DNS_BADNAME) {
		spf_reply_free(&r);
		return fetch_none(ev, top, resp, name);
	}
	if (r.status != DNS_OK) {
		spf_reply_free(&r);
		return fetch_temperror(ev, top, name, r.status);
	}
	f.buf = malloc(f.bufcap);
	if (!f.buf) {
		spf_reply_free(&r);
		spf_dns_force(ev, SPFR_TEMPERROR, "out of memory");
		return SPF_E_NO_MEMORY;
	}
	if (spf_answer_walk(r.msg, r.len, ns_t_txt, fetch_txt_one, &f) < 0 && f.count == 0)
		err = fetch_temperror(ev, top, name, DNS_ERROR);
	else if (f.count == 0)
		err = fetch_none(ev, top, resp, name);
	else if (f.count > 1)
		err = fetch_permerror(ev, top, resp, SPF_E_MULTIPLE_RECORDS, name,
				      "more than one SPF record");
	else if (f.len > SPF_GUARD_MAX_RECORD)
		err = fetch_permerror(ev, top, resp, SPF_E_BIG_STRING, name, "SPF record too long");
	else
		err = fetch_compile(server, ev, top, resp, recordp, name, f.buf, f.len);
	free(f.buf);
	spf_reply_free(&r);
	return err;
}

/* fetch_expand - expand compiled macro data for the current request into *bufp. */
static SPF_errcode_t fetch_expand(SPF_server_t *server, struct spf_eval *ev, SPF_macro_t *macro,
				  char **bufp, size_t *buflenp)
{
	SPF_response_t *scratch;
	SPF_errcode_t err;

	if (!macro)
		return SPF_E_NOT_CONFIG;
	scratch = SPF_response_new(ev->req);
	if (!scratch)
		return SPF_E_NO_MEMORY;
	/* The data follows the SPF_macro_t header (libspf2's SPF_macro_data()). */
	err = SPF_record_expand_data(server, ev->req, scratch,
				     (SPF_data_t *)((char *)macro + sizeof(SPF_macro_t)),
				     macro->macro_len, bufp, buflenp);
	SPF_response_free(scratch);
	return err;
}

/* fetch_exp_text - the single TXT record of name, checked; NULL when unusable (caller frees). */
static char *fetch_exp_text(struct spf_eval *ev, const char *name)
{
	struct fetch_txt f = { false, NULL, SPF_GUARD_MAX_EXP + 1, 0, 0, false };
	struct spf_reply r;

	spf_dns_query(ev, name, ns_t_txt, &r);
	if (r.status != DNS_OK || ev->forced) {
		spf_reply_free(&r);
		return NULL;
	}
	f.buf = malloc(f.bufcap);
	if (f.buf && spf_answer_walk(r.msg, r.len, ns_t_txt, fetch_txt_one, &f) >= 0 &&
	    !f.bad && f.count == 1 && f.len <= SPF_GUARD_MAX_EXP &&
	    spf_guard_explanation(f.buf, f.len, NULL, 0) == 0) {
		f.buf[f.len] = '\0';
		spf_reply_free(&r);
		return f.buf;
	}
	free(f.buf);
	spf_reply_free(&r);
	return NULL;
}

/* fetch_put - copy text into libspf2's growable buffer *bufp. */
static SPF_errcode_t fetch_put(const char *text, char **bufp, size_t *buflenp)
{
	size_t len = strlen(text) + 1;

	if (!*bufp || *buflenp < len) {
		char *p = realloc(*bufp, len);

		if (!p)
			return SPF_E_NO_MEMORY;
		*bufp = p;
		*buflenp = len;
	}
	memcpy(*bufp, text, len);
	return SPF_E_SUCCESS;
}

/* fetch_domain_exp - the exp= domain's text expanded for the request, or an error. */
static SPF_errcode_t fetch_domain_exp(SPF_server_t *server, struct spf_eval *ev, const char *domain,
				      char **bufp, size_t *buflenp)
{
	char name[SPF_NAME_BUF], escaped[4 * SPF_GUARD_MAX_EXP + 1];
	SPF_macro_t *macro = NULL;
	SPF_response_t *scratch;
	struct fetch_ipbuf ip;
	const char *vals[26];
	SPF_errcode_t err;
	char *text;
	bool marked;

	/* Explanation lookups are neither terms nor void lookups (RFC 7208 4.6.4). */
	if (spf_dns_name(domain, name, sizeof(name), &marked) < 0 || marked)
		return SPF_E_NOT_CONFIG;
	text = fetch_exp_text(ev, name);
	if (!text)
		return SPF_E_NOT_CONFIG;
	fetch_vals(server, ev, ev->req, &ip, vals);
	scratch = SPF_response_new(ev->req);
	err = !scratch ? SPF_E_NO_MEMORY
	    : spf_guard_explain_text(text, vals, escaped, sizeof(escaped)) < 0 ? SPF_E_BIG_STRING
	    : SPF_record_compile_macro(server, scratch, &macro, escaped);
	if (scratch)
		SPF_response_free(scratch);
	if (err == SPF_E_SUCCESS)
		err = fetch_expand(server, ev, macro, bufp, buflenp);
	if (macro)
		SPF_macro_free(macro);
	if (err == SPF_E_SUCCESS && spf_guard_url_macro(text))
		spf_guard_upper_hex(*bufp);
	free(text);
	return err;
}

/*
 * spf_fetch_explanation - see spf_fetch.h. libspf2 asks for an explanation
 * at every fail, softfail, neutral and none, includes' inner results too;
 * RFC 7208 6.2 only wants one for the final fail. So nothing is looked up
 * here: the request is remembered and a placeholder returned, which
 * spf_fetch_final_explanation() resolves if the result is a fail.
 */
SPF_errcode_t spf_fetch_explanation(SPF_server_t *server, const char *domain,
				    char **bufp, size_t *buflenp)
{
	struct spf_eval *ev = spf_dns_eval();
	char mark[32];
	int n1, n2;

	(void)server;
	if (!ev || !ev->req)
		return SPF_E_NOT_CONFIG;
	ev->exp_seq++;
	n1 = snprintf(ev->exp_domain, sizeof(ev->exp_domain), "%s", domain);
	n2 = snprintf(ev->exp_curdom, sizeof(ev->exp_curdom), "%s",
		      ev->req->cur_dom ? ev->req->cur_dom : "");
	if (n1 < 0 || (size_t)n1 >= sizeof(ev->exp_domain) ||
	    n2 < 0 || (size_t)n2 >= sizeof(ev->exp_curdom))
		ev->exp_domain[0] = '\0';      /* unusable: the default will be used */
	snprintf(mark, sizeof(mark), "%s%u", SPF_EXP_MARK, ev->exp_seq);
	return fetch_put(mark, bufp, buflenp);
}

/* spf_fetch_final_explanation - see spf_fetch.h. */
SPF_errcode_t spf_fetch_final_explanation(SPF_server_t *server, struct spf_eval *ev,
					  const char *libtext, char **bufp, size_t *buflenp)
{
	char mark[32];
	SPF_errcode_t err;

	snprintf(mark, sizeof(mark), "%s%u", SPF_EXP_MARK, ev->exp_seq);
	if (strncmp(libtext, SPF_EXP_MARK, strlen(SPF_EXP_MARK)) != 0) {
		/* libspf2 expanded the default itself (the record had no exp=) */
		err = fetch_put(libtext, bufp, buflenp);
		if (err == SPF_E_SUCCESS && ev->default_url)
			spf_guard_upper_hex(*bufp);
	} else {
		const char *saved = ev->req->cur_dom;

		/* expand as libspf2 would have: with <domain> as it was then */
		ev->req->cur_dom = ev->exp_curdom;
		err = SPF_E_NOT_CONFIG;
		if (strcmp(libtext, mark) == 0 && ev->exp_domain[0] && !ev->forced)
			err = fetch_domain_exp(server, ev, ev->exp_domain, bufp, buflenp);
		if (err != SPF_E_SUCCESS) {
			err = fetch_expand(server, ev, server->explanation, bufp, buflenp);
			if (err == SPF_E_SUCCESS && ev->default_url)
				spf_guard_upper_hex(*bufp);
		}
		ev->req->cur_dom = saved;
	}
	if (err == SPF_E_SUCCESS && ev->af == AF_INET6)
		spf_guard_upper_nibbles(*bufp, ev->ip6.s6_addr);
	return err;
}
