/*
 * spf_dns.c - libspf2's DNS layer on the connection's resolver, with the
 * RFC 7208 4.6.4 accounting (see spf_dns.h for the contract).
 *
 * How lookups are classified. libspf2 calls lookup() for each DNS-querying
 * term (a: A/AAAA, mx: MX, ptr: PTR, exists: A) and then, for mx and ptr
 * terms, once per returned name in answer order (the term's "children").
 * The layer remembers the names the last mx/ptr term returned; a lookup
 * that asks for the next of those names is a child, anything else starts a
 * new term. Records themselves (include/redirect) and explanations come
 * through get_spf/get_exp in spf_fetch.c.
 *
 * Ownership: every SPF_dns_rr_t returned belongs to libspf2, which frees it
 * with SPF_dns_rr_free(). Reply buffers are owned by struct spf_reply and
 * freed by spf_reply_free().
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <arpa/nameser.h>

#include "policy/resolver.h"
#include "policy/spf_answer.h"
#include "policy/spf_dns.h"
#include "policy/spf_fetch.h"
#include "policy/spf_guard.h"

static _Thread_local struct spf_eval *spf_dns_current;

/* spf_dns_enter - see header. */
void spf_dns_enter(struct spf_eval *ev)
{
	spf_dns_current = ev;
}

/* spf_dns_leave - see header. */
void spf_dns_leave(void)
{
	spf_dns_current = NULL;
}

/* spf_dns_eval - the evaluation running in this thread, or NULL. */
struct spf_eval *spf_dns_eval(void)
{
	return spf_dns_current;
}

/* spf_dns_note - see header. */
void spf_dns_note(struct spf_eval *ev, const char *fmt, ...)
{
	va_list ap;

	if (!ev || ev->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(ev->why, sizeof(ev->why), fmt, ap);
	va_end(ap);
}

/* spf_dns_force - a limit or failure decides the result; later lookups unwind. */
void spf_dns_force(struct spf_eval *ev, enum spf_result r, const char *why)
{
	if (ev->forced == SPFR_UNKNOWN)
		ev->forced = r;
	spf_dns_note(ev, "%s", why);
}

/* spf_dns_domain_ok - see header. */
bool spf_dns_domain_ok(const char *name)
{
	size_t len = strlen(name), label = 0, labels = 0, i;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || name[0] == '[')
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			labels++;
			label = 0;
			continue;
		}
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			return false;
		label++;
	}
	return labels >= 2;
}

/*
 * spf_dns_name - the name libspf2 asked for, made queryable: the
 * SPF_MARK_ANY suffix removed (reported in *marked), the trailing dot
 * dropped, and (RFC 7208 4.8) labels removed from the left until it fits
 * in 253 octets. -1 when no valid name remains (no DNS query can be made:
 * the caller treats it as nonexistent, RFC 7208 4.3/5).
 */
int spf_dns_name(const char *in, char *out, size_t outlen, bool *marked)
{
	size_t len = strlen(in), i, label = 0;
	const char *p = in;

	*marked = false;
	if (len && in[len - 1] == SPF_MARK_ANY) {
		*marked = true;
		len--;
	}
	if (len && in[len - 1] == '.')
		len--;
	while (len > 253) {
		const char *dot = memchr(p, '.', len);

		if (!dot)
			return -1;
		len -= (size_t)(dot + 1 - p);
		p = dot + 1;
	}
	if (len == 0 || len >= outlen)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (++label > 63) {
			return -1;
		}
	}
	if (label == 0)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/*
 * One query in flight. It lives on the heap, not on the waiter's stack: if
 * the evaluation is abandoned while the query is pending (spf_dns_abandon,
 * after a libspf2 fatal error), the late callback frees it instead of
 * writing into a stack frame that is gone.
 */
struct sd_pending {
	struct spf_reply r;
	bool abandoned;
};

/* sd_reply_cb - resolver callback: keep a copy of the reply for the waiter. */
static void sd_reply_cb(void *arg, enum dns_status status, const unsigned char *answer, int len)
{
	struct sd_pending *p = arg;
	struct spf_reply *r = &p->r;

	if (p->abandoned) {
		free(p);
		return;
	}
	r->status = status;
	r->done = true;
	if (answer && len > 0) {
		r->msg = malloc((size_t)len);
		if (r->msg) {
			memcpy(r->msg, answer, (size_t)len);
			r->len = (size_t)len;
		} else if (status == DNS_OK) {
			r->status = DNS_ERROR;      /* out of memory: temporary */
		}
	}
}

/* sd_reply_done - resolver_wait predicate. */
static bool sd_reply_done(void *arg)
{
	return ((struct sd_pending *)arg)->r.done;
}

/* spf_dns_query - see spf_fetch.h. */
void spf_dns_query(struct spf_eval *ev, const char *name, int type, struct spf_reply *r)
{
	struct sd_pending *p;

	memset(r, 0, sizeof(*r));
	r->status = DNS_ERROR;
	if (++ev->queries > SPF_MAX_QUERIES) {
		spf_dns_force(ev, SPFR_PERMERROR, "too many DNS queries for one SPF check");
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		spf_dns_force(ev, SPFR_TEMPERROR, "out of memory");
		return;
	}
	if (resolver_query(ev->res, name, type, sd_reply_cb, p) < 0) {
		free(p);
		return;
	}
	ev->inflight = p;
	resolver_wait(ev->res, sd_reply_done, p);
	ev->inflight = NULL;
	if (!p->r.done) {
		/* resolver.h promises this cannot happen; if it does, let the late callback free p */
		p->abandoned = true;
		r->status = DNS_TIMEOUT;
		return;
	}
	*r = p->r;
	free(p);
}

/* spf_dns_abandon - see spf_dns.h. */
void spf_dns_abandon(struct spf_eval *ev)
{
	struct sd_pending *p = ev->inflight;

	if (p)
		p->abandoned = true;
	ev->inflight = NULL;
}

/* spf_reply_free - see spf_fetch.h. */
void spf_reply_free(struct spf_reply *r)
{
	free(r->msg);
	r->msg = NULL;
	r->len = 0;
}

/* sd_rr - an empty answer with the given h_errno-style status. */
static SPF_dns_rr_t *sd_rr(SPF_dns_server_t *srv, const char *domain, ns_type type, int herrno)
{
	return SPF_dns_rr_new_init(srv, domain, type, 0, herrno);
}

struct sd_fill {
	SPF_dns_rr_t *rr;
	int type;
	int max;
	bool oom;
	bool marked;     /* mx: children carry SPF_MARK_ANY */
};

/* sd_fill_one - append one record of the reply to the rr being built. */
static int sd_fill_one(void *arg, const unsigned char *msg, size_t msglen,
		       const unsigned char *rdata, size_t rdlen)
{
	struct sd_fill *f = arg;
	char name[SPF_NAME_BUF];
	int i = f->rr->num_rr;
	size_t len;

	if (f->max && i >= f->max)
		return 1;
	switch (f->type) {
	case ns_t_a:
		if (rdlen != 4)
			return 0;
		if (SPF_dns_rr_buf_realloc(f->rr, i, sizeof(struct in_addr)) != SPF_E_SUCCESS)
			goto oom;
		memcpy(&f->rr->rr[i]->a, rdata, 4);
		break;
	case ns_t_aaaa:
		if (rdlen != 16)
			return 0;
		if (SPF_dns_rr_buf_realloc(f->rr, i, sizeof(struct in6_addr)) != SPF_E_SUCCESS)
			goto oom;
		memcpy(&f->rr->rr[i]->aaaa, rdata, 16);
		break;
	case ns_t_mx:
	case ns_t_ptr:
		if (f->type == ns_t_mx && rdlen < 3)
			return 0;
		/* Unusable or hostile names are dropped; a null MX ("." ) has none. */
		if (spf_answer_name(msg, msglen, f->type == ns_t_mx ? rdata + 2 : rdata,
				    name, sizeof(name) - 1) < 0 || name[0] == '\0')
			return 0;
		len = strlen(name);
		if (f->marked)
			name[len++] = SPF_MARK_ANY;
		name[len] = '\0';
		if (SPF_dns_rr_buf_realloc(f->rr, i, len + 1) != SPF_E_SUCCESS)
			goto oom;
		memcpy(f->rr->rr[i]->mx, name, len + 1);
		break;
	default:
		return 1;
	}
	f->rr->num_rr = i + 1;
	return 0;
oom:
	f->oom = true;
	return 1;
}

/* sd_set_children - remember the names an mx/ptr term will look up next. */
static void sd_set_children(struct spf_eval *ev, const SPF_dns_rr_t *rr, bool lenient)
{
	int i;
	bool marked;

	ev->nchild = ev->next_child = 0;
	ev->child_lenient = lenient;
	for (i = 0; i < rr->num_rr && ev->nchild < SPF_MAX_NAMES; i++)
		if (spf_dns_name(rr->rr[i]->mx, ev->child[ev->nchild], SPF_NAME_BUF, &marked) == 0)
			ev->nchild++;
}

/* sd_is_child - is (name, type) the next lookup the last mx/ptr term promised? */
static bool sd_is_child(struct spf_eval *ev, const char *name, ns_type type)
{
	if ((type != ns_t_a && type != ns_t_aaaa) || ev->next_child >= ev->nchild)
		return false;
	if (strcasecmp(name, ev->child[ev->next_child]) != 0)
		return false;
	ev->next_child++;
	return true;
}

/* sd_void - count a void lookup of a term; false once over the limit. */
static bool sd_void(struct spf_eval *ev)
{
	if (++ev->voids <= SPF_MAX_VOIDS)
		return true;
	spf_dns_force(ev, SPFR_PERMERROR, "more than 2 void DNS lookups");
	return false;
}

/* sd_client_rr - replace an address answer with the client's own address (SPF_MARK_ANY). */
static SPF_dns_rr_t *sd_client_rr(SPF_dns_server_t *srv, struct spf_eval *ev,
				  SPF_dns_rr_t *rr, const char *domain, ns_type type)
{
	SPF_dns_rr_t *own = sd_rr(srv, domain, type, NETDB_SUCCESS);
	size_t len = type == ns_t_a ? sizeof(struct in_addr) : sizeof(struct in6_addr);

	SPF_dns_rr_free(rr);
	if (!own || SPF_dns_rr_buf_realloc(own, 0, len) != SPF_E_SUCCESS) {
		if (own)
			SPF_dns_rr_free(own);
		spf_dns_force(ev, SPFR_TEMPERROR, "out of memory");
		return sd_rr(srv, domain, type, TRY_AGAIN);
	}
	if (type == ns_t_a)
		own->rr[0]->a = ev->ip4;
	else
		own->rr[0]->aaaa = ev->ip6;
	own->num_rr = 1;
	return own;
}

/* sd_answer - turn a finished reply into libspf2's rr for a term or child lookup. */
static SPF_dns_rr_t *sd_answer(SPF_dns_server_t *srv, struct spf_eval *ev, const char *domain,
			       ns_type type, struct spf_reply *r, bool term, bool child, bool marked)
{
	struct sd_fill f = { NULL, type, 0, false, marked && type == ns_t_mx };
	int herrno;

	switch (r->status) {
	case DNS_OK:       herrno = NETDB_SUCCESS; break;
	case DNS_NXDOMAIN: herrno = HOST_NOT_FOUND; break;
	case DNS_BADNAME:  herrno = HOST_NOT_FOUND; break;
	case DNS_NODATA:   herrno = NO_DATA; break;
	default:
		/* RFC 7208 5.5: a failed lookup while validating a PTR name skips it. */
		herrno = (child && ev->child_lenient) ? NO_DATA : TRY_AGAIN;
		break;
	}
	f.rr = sd_rr(srv, domain, type, herrno);
	if (!f.rr)
		return NULL;
	if (herrno == NETDB_SUCCESS) {
		/* Only the first SPF_MAX_NAMES PTR names count (RFC 7208 4.6.4). */
		f.max = type == ns_t_ptr ? SPF_MAX_NAMES : 0;
		if (spf_answer_walk(r->msg, r->len, type, sd_fill_one, &f) < 0 && f.rr->num_rr == 0)
			f.rr->herrno = (child && ev->child_lenient) ? NO_DATA : TRY_AGAIN;
		else if (f.rr->num_rr == 0)
			f.rr->herrno = NO_DATA;
		if (f.oom) {
			spf_dns_force(ev, SPFR_TEMPERROR, "out of memory");
			f.rr->herrno = TRY_AGAIN;
		}
	}
	if (term && (f.rr->herrno == HOST_NOT_FOUND || f.rr->herrno == NO_DATA) && !sd_void(ev))
		f.rr->herrno = TRY_AGAIN;
	if (f.rr->herrno != NETDB_SUCCESS)
		return f.rr;
	if (term && type == ns_t_mx) {
		if (f.rr->num_rr > SPF_MAX_NAMES) {
			spf_dns_force(ev, SPFR_PERMERROR, "more than 10 MX records");
			f.rr->herrno = TRY_AGAIN;
			return f.rr;
		}
		sd_set_children(ev, f.rr, false);
	}
	if (type == ns_t_ptr && (term || child))
		sd_set_children(ev, f.rr, true);
	if (marked && (type == ns_t_a || type == ns_t_aaaa))
		return sd_client_rr(srv, ev, f.rr, domain, type);
	return f.rr;
}

/* sd_query_type - the types a DNS-querying term asks for. */
static bool sd_query_type(ns_type type)
{
	return type == ns_t_a || type == ns_t_aaaa || type == ns_t_mx || type == ns_t_ptr;
}

/* sd_term_start - a lookup that starts a new term: count it. -1 over the limit. */
static int sd_term_start(struct spf_eval *ev, ns_type type)
{
	if (!sd_query_type(type))
		return 0;
	ev->nchild = ev->next_child = 0;
	if (++ev->terms <= SPF_MAX_TERMS)
		return 0;
	spf_dns_force(ev, SPFR_PERMERROR, "more than 10 DNS-querying terms");
	return -1;
}

/* sd_lookup - SPF_dns_lookup_t: one synchronous lookup for libspf2. */
static SPF_dns_rr_t *sd_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
			       int should_cache)
{
	struct spf_eval *ev = spf_dns_current;
	char name[SPF_NAME_BUF];
	struct spf_reply r;
	SPF_dns_rr_t *rr;
	bool marked, term, child, pmacro;

	if (!ev || ev->forced)
		return sd_rr(srv, domain, type, TRY_AGAIN);
	if (type == ns_t_spf)
		return sd_rr(srv, domain, type, NO_DATA);   /* RFC 7208 3.1: type SPF is not used */
	if (spf_dns_name(domain, name, sizeof(name), &marked) < 0) {
		/* Not a name DNS can carry: the term simply finds nothing (RFC 7208 4.3). */
		if (sd_term_start(ev, type) < 0 || (sd_query_type(type) && !sd_void(ev)))
			return sd_rr(srv, domain, type, TRY_AGAIN);
		return sd_rr(srv, domain, type, HOST_NOT_FOUND);
	}
	child = sd_is_child(ev, name, type);
	/* The %{p} macro's PTR lookup (libspf2 asks it uncached; the ptr
	 * mechanism's is cached) is not a term, but its names are validated. */
	pmacro = !child && type == ns_t_ptr && !should_cache;
	term = !child && !pmacro && sd_query_type(type);
	if (term && sd_term_start(ev, type) < 0)
		return sd_rr(srv, domain, type, TRY_AGAIN);
	if (pmacro) {
		/* no validated name is "unknown", not an error (RFC 7208 7.3) */
		ev->nchild = ev->next_child = 0;
		ev->child_lenient = true;
	}
	spf_dns_query(ev, name, type, &r);
	if (ev->forced) {
		spf_reply_free(&r);
		return sd_rr(srv, domain, type, TRY_AGAIN);
	}
	rr = sd_answer(srv, ev, domain, type, &r, term, child || pmacro, marked);
	spf_reply_free(&r);
	if (!rr)
		spf_dns_force(ev, SPFR_TEMPERROR, "out of memory");
	return rr;
}

/* sd_destroy - SPF_dns_destroy_t. */
static void sd_destroy(SPF_dns_server_t *srv)
{
	free(srv);
}

/* spf_dns_new - see header. */
SPF_dns_server_t *spf_dns_new(void)
{
	SPF_dns_server_t *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->destroy = sd_destroy;
	srv->lookup = sd_lookup;
	srv->get_spf = spf_fetch_record;
	srv->get_exp = spf_fetch_explanation;
	srv->add_cache = NULL;
	srv->layer_below = NULL;
	srv->name = "mxguard";
	return srv;
}
