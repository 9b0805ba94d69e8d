/*
 * dkim_keys.c - per-message DKIM key queries and libopendkim's DNS hooks.
 * See dkim_keys.h for the contract and who owns what.
 */

/* system */
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libraries */
#include <dkim.h>

/* project */
#include "policy/dkim_keys.h"
#include "policy/dkim_reply.h"
#include "policy/dkim_tags.h"

#define QNAME_MAX 300      /* selector + "._domainkey." + domain, room to spare */

/* One TXT lookup. Owned by its table, or by the resolver callback once detached. */
struct keyq {
	struct keyq *next;
	struct dkimk *owner;        /* NULL: detached, the callback frees this record */
	char name[QNAME_MAX];
	bool done;
	enum dns_status status;
	unsigned char *answer;      /* raw reply copy, may be NULL */
	int answer_len;
};

/* The one libopendkim request in progress (start -> waitreply -> cancel). */
struct keyreq {
	struct keyq *q;
	unsigned char *buf;
	size_t buflen;
	bool busy;
};

struct dkimk {
	struct resolver *res;
	struct keyq *queries;
	unsigned pending;
	struct keyreq req;
};

static _Thread_local struct dkimk *tl_active;

/* keyq_free - a finished or detached record. */
static void keyq_free(struct keyq *q)
{
	free(q->answer);
	free(q);
}

/* same_name - DNS names equal, case-insensitive, trailing dot ignored. */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* find - the table's query for name, or NULL. */
static struct keyq *find(const struct dkimk *k, const char *name)
{
	for (struct keyq *q = k->queries; q != NULL; q = q->next)
		if (same_name(q->name, name))
			return q;
	return NULL;
}

/* key_name - "selector._domainkey.domain" into out; false when it does not fit. */
static bool key_name(const char *selector, const char *domain, char *out, size_t outlen)
{
	size_t ls = strlen(selector), ld = strlen(domain);

	if (ls == 0 || ld == 0 || ls + ld + 13 > outlen)
		return false;
	memcpy(out, selector, ls);
	memcpy(out + ls, "._domainkey.", 12);
	memcpy(out + ls + 12, domain, ld + 1);
	return true;
}

/* query_cb - a key answer arrived (or failed): keep a copy for waitreply. */
static void query_cb(void *arg, enum dns_status status, const unsigned char *answer, int answer_len)
{
	struct keyq *q = arg;

	if (q->owner == NULL) {
		keyq_free(q);
		return;
	}
	q->owner->pending--;
	q->done = true;
	q->status = status;
	if (answer != NULL && answer_len > 0) {
		q->answer = malloc((size_t)answer_len);
		if (q->answer == NULL) {
			/* out of memory: temporary, never "no key" */
			q->status = DNS_ERROR;
			return;
		}
		memcpy(q->answer, answer, (size_t)answer_len);
		q->answer_len = answer_len;
	}
}

/*
 * start - add a query record for name and send it. A name that is not a
 * DNS name (dkimt_key_name_ok) is never sent: the record is answered
 * here as a bad name, which libopendkim reads as "no key". NULL when out
 * of memory.
 */
static struct keyq *start(struct dkimk *k, const char *name)
{
	struct keyq *q = calloc(1, sizeof *q);

	if (q == NULL)
		return NULL;
	strcpy(q->name, name);
	q->owner = k;
	q->next = k->queries;
	k->queries = q;
	if (!dkimt_key_name_ok(name)) {
		q->done = true;
		q->status = DNS_BADNAME;
	} else if (resolver_query(k->res, name, ns_t_txt, query_cb, q) == 0) {
		k->pending++;
	} else {
		q->done = true;
		q->status = DNS_ERROR;
	}
	return q;
}

/* dkimk_new - see dkim_keys.h. */
struct dkimk *dkimk_new(struct resolver *res)
{
	struct dkimk *k = calloc(1, sizeof *k);

	if (k != NULL)
		k->res = res;
	return k;
}

/* dkimk_free - see dkim_keys.h. */
void dkimk_free(struct dkimk *k)
{
	struct keyq *q, *next;

	if (k == NULL)
		return;
	if (tl_active == k)
		tl_active = NULL;
	for (q = k->queries; q != NULL; q = next) {
		next = q->next;
		if (q->done)
			keyq_free(q);
		else
			q->owner = NULL;
	}
	free(k);
}

/* dkimk_prefetch - see dkim_keys.h. */
int dkimk_prefetch(struct dkimk *k, const char *selector, const char *domain)
{
	char name[QNAME_MAX];

	if (!key_name(selector, domain, name, sizeof name) || !dkimt_key_name_ok(name))
		return -1;
	if (find(k, name) != NULL)
		return 0;
	return start(k, name) != NULL ? 0 : -1;
}

/* dkimk_status - see dkim_keys.h. */
bool dkimk_status(const struct dkimk *k, const char *selector, const char *domain, enum dns_status *st)
{
	char name[QNAME_MAX];
	const struct keyq *q;

	if (selector == NULL || domain == NULL || !key_name(selector, domain, name, sizeof name))
		return false;
	q = find(k, name);
	if (q == NULL || !q->done)
		return false;
	*st = q->status;
	return true;
}

/* dkimk_pending - see dkim_keys.h. */
unsigned dkimk_pending(const struct dkimk *k)
{
	return k->pending;
}

/* dkimk_activate - see dkim_keys.h. */
void dkimk_activate(struct dkimk *k)
{
	tl_active = k;
}

/* hook_start - libopendkim wants a key: use the prefetched query or start one. */
static int hook_start(void *srv, int type, unsigned char *query, unsigned char *buf,
		      size_t buflen, void **qh)
{
	struct dkimk *k = tl_active;
	struct keyq *q;

	(void)srv;
	if (k == NULL || k->req.busy || type != ns_t_txt || strlen((char *)query) >= QNAME_MAX)
		return DKIM_DNS_ERROR;
	q = find(k, (char *)query);
	if (q == NULL)
		q = start(k, (char *)query);
	if (q == NULL)
		return DKIM_DNS_ERROR;
	k->req.q = q;
	k->req.buf = buf;
	k->req.buflen = buflen;
	k->req.busy = true;
	*qh = &k->req;
	return DKIM_DNS_SUCCESS;
}

/* keyq_is_done - resolver_wait predicate. */
static bool keyq_is_done(void *arg)
{
	return ((struct keyq *)arg)->done;
}

/* hook_waitreply - drive the resolver until the key query completes, then hand over the reply. */
static int hook_waitreply(void *srv, void *qh, struct timeval *timeout, size_t *bytes,
			  int *error, int *dnssec)
{
	struct dkimk *k = tl_active;
	struct keyreq *req = qh;
	struct keyq *q;
	int n;

	(void)srv;
	(void)timeout;   /* the resolver's per-message deadline bounds the wait */
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	if (error != NULL)
		*error = 0;
	if (k == NULL || req != &k->req || !req->busy)
		return DKIM_DNS_ERROR;
	q = req->q;
	if (!q->done)
		(void)resolver_wait(k->res, keyq_is_done, q);
	if (!q->done)
		return DKIM_DNS_EXPIRED;
	switch (q->status) {
	case DNS_OK:
	case DNS_NXDOMAIN:
	case DNS_NODATA:
	case DNS_BADNAME:
		n = dkimr_build(q->name, q->status, q->answer, q->answer_len, req->buf, req->buflen);
		if (n < 0)
			return DKIM_DNS_ERROR;
		if (bytes != NULL)
			*bytes = (size_t)n;
		return DKIM_DNS_SUCCESS;
	case DNS_TIMEOUT:
		return DKIM_DNS_EXPIRED;
	default:
		return DKIM_DNS_ERROR;
	}
}

/* hook_cancel - libopendkim is done with the request; the query record stays for dkimk_status. */
static int hook_cancel(void *srv, void *qh)
{
	struct dkimk *k = tl_active;

	(void)srv;
	if (k != NULL && qh == &k->req)
		k->req.busy = false;
	return DKIM_DNS_SUCCESS;
}

/* hook_close - nothing to close: the resolver belongs to the connection. */
static void hook_close(void *srv)
{
	(void)srv;
}

/* dkimk_install_hooks - see dkim_keys.h. */
void dkimk_install_hooks(DKIM_LIB *lib)
{
	static int service;   /* any non-NULL handle: stops libopendkim from initialising its own resolver */

	(void)dkim_dns_set_query_service(lib, &service);
	dkim_dns_set_query_start(lib, hook_start);
	dkim_dns_set_query_waitreply(lib, hook_waitreply);
	dkim_dns_set_query_cancel(lib, hook_cancel);
	dkim_dns_set_close(lib, hook_close);
}
