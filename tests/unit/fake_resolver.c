/*
 * fake_resolver.c - policy/resolver.h from canned answers (unit tests only).
 *
 * Answers live in a global list (fake_dns_add); each struct resolver has a
 * FIFO of pending queries. Every query and every answer copy is heap
 * allocated and freed right after its callback, so sanitizers and
 * valgrind see callers that keep an answer pointer too long.
 */
#include <arpa/nameser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policy/dns_parse.h"
#include "policy/resolver.h"
#include "tests/unit/dns_build.h"
#include "tests/unit/fake_resolver.h"

#define FAKE_CNAME_MAX 8
#define FAKE_LOG_MAX   4096

struct entry {
	char name[DNS_NAME_BUF];
	int type;
	enum dns_status status;
	bool hang;
	bool raw;              /* delivered as registered, no CNAME/NODATA analysis */
	unsigned char *pkt;
	int len;
	struct entry *next;
};

struct fq {
	char name[DNS_NAME_BUF];
	int type, hops;
	bool not_ad;           /* an answer of its CNAME chain lacked AD */
	resolver_callback *cb;
	void *arg;
	struct fq *next;
};

struct resolver {
	struct fq *head, **tail;
	unsigned pending;
	bool has_deadline;
	struct timespec deadline;
};

static struct entry *entries;
static enum dns_status default_status = DNS_TIMEOUT;
static struct { char name[DNS_NAME_BUF]; int type; } qlog[FAKE_LOG_MAX];
static unsigned nlog, ntotal;

/* norm - lower case, no trailing dot */
static void norm(char *out, const char *in)
{
	size_t n;

	snprintf(out, DNS_NAME_BUF, "%s", in);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	n = strlen(out);
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* find - the registered answer for (name, type), or NULL */
static struct entry *find(const char *name, int type)
{
	for (struct entry *e = entries; e; e = e->next)
		if (e->type == type && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/* fake_dns_reset - forget answers and counts */
void fake_dns_reset(void)
{
	while (entries) {
		struct entry *e = entries;
		entries = e->next;
		free(e->pkt);
		free(e);
	}
	default_status = DNS_TIMEOUT;
	nlog = ntotal = 0;
}

/* fake_dns_default - status for unregistered names */
void fake_dns_default(enum dns_status s)
{
	default_status = s;
}

/* add - (re)register an entry, taking ownership of pkt */
static int add(const char *name, int type, enum dns_status st, bool hang,
	       bool raw, unsigned char *pkt, int len)
{
	char n[DNS_NAME_BUF];
	struct entry *e;

	norm(n, name);
	e = find(n, type);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			free(pkt);
			return -1;
		}
		snprintf(e->name, sizeof(e->name), "%s", n);
		e->type = type;
		e->next = entries;
		entries = e;
	}
	free(e->pkt);
	e->status = st;
	e->hang = hang;
	e->raw = raw;
	e->pkt = pkt;
	e->len = len;
	return 0;
}

/* fake_dns_add - register an answer built from a spec */
int fake_dns_add(const char *name, int type, enum dns_status st, const char *spec)
{
	unsigned char *pkt = NULL;
	int len = 0;

	if (st == DNS_OK || st == DNS_NXDOMAIN || st == DNS_NODATA) {
		pkt = malloc(65535);
		if (!pkt)
			return -1;
		len = dns_build(pkt, 65535, name, type, st == DNS_NXDOMAIN ? ns_r_nxdomain : 0, spec);
		if (len < 0) {
			fprintf(stderr, "fake_dns_add: bad spec for %s: %s\n", name, spec ? spec : "");
			free(pkt);
			return -1;
		}
	}
	return add(name, type, st, false, false, pkt, len);
}

/* fake_dns_add_raw - register a hand-made packet, delivered as is */
int fake_dns_add_raw(const char *name, int type, enum dns_status st,
		     const unsigned char *pkt, int len)
{
	unsigned char *copy = malloc(len > 0 ? (size_t)len : 1);

	if (!copy)
		return -1;
	if (len > 0)
		memcpy(copy, pkt, (size_t)len);
	return add(name, type, st, false, true, copy, len);
}

/* fake_dns_ad - set or clear AD in the registered answer for (name, type) */
int fake_dns_ad(const char *name, int type, bool ad)
{
	char n[DNS_NAME_BUF];
	struct entry *e;

	norm(n, name);
	e = find(n, type);
	if (!e || !e->pkt || e->len < 4)
		return -1;
	if (ad)
		e->pkt[3] |= DNS_FLAG_AD_BYTE3;
	else
		e->pkt[3] &= (unsigned char)~DNS_FLAG_AD_BYTE3;
	return 0;
}

/* fake_dns_ad_all - AD on every registered answer that has a packet */
void fake_dns_ad_all(bool ad)
{
	for (struct entry *e = entries; e; e = e->next)
		if (e->pkt && e->len >= 4)
			fake_dns_ad(e->name, e->type, ad);
}

/* fake_dns_hang - a query that never answers */
int fake_dns_hang(const char *name, int type)
{
	return add(name, type, DNS_TIMEOUT, true, false, NULL, 0);
}

/* fake_dns_count - queries made for a name and type */
unsigned fake_dns_count(const char *name, int type)
{
	char n[DNS_NAME_BUF] = "";
	unsigned c = 0;

	if (name)
		norm(n, name);
	for (unsigned i = 0; i < nlog; i++)
		if ((!name || strcmp(qlog[i].name, n) == 0) && (!type || qlog[i].type == type))
			c++;
	return c;
}

/* fake_dns_total - all queries made */
unsigned fake_dns_total(void)
{
	return ntotal;
}

/* log_query - count a query (the log keeps the first FAKE_LOG_MAX) */
static void log_query(const char *name, int type)
{
	ntotal++;
	if (nlog < FAKE_LOG_MAX) {
		snprintf(qlog[nlog].name, DNS_NAME_BUF, "%s", name);
		qlog[nlog++].type = type;
	}
}

/* resolver_library_init - nothing to set up */
int resolver_library_init(void) { return 0; }
/* resolver_library_cleanup - nothing to undo */
void resolver_library_cleanup(void) {}

/* resolver_new - an empty FIFO of pending queries */
struct resolver *resolver_new(const struct resolver_options *opt, char *err, size_t errlen)
{
	struct resolver *r = calloc(1, sizeof(*r));

	(void)opt;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->tail = &r->head;
	return r;
}

/* resolver_set_deadline - remember the deadline */
void resolver_set_deadline(struct resolver *r, const struct timespec *d)
{
	r->has_deadline = d != NULL;
	if (d)
		r->deadline = *d;
}

/* deadline_passed - is there a deadline and is it behind us? */
static bool deadline_passed(const struct resolver *r)
{
	struct timespec now;

	if (!r->has_deadline)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > r->deadline.tv_sec ||
	       (now.tv_sec == r->deadline.tv_sec && now.tv_nsec >= r->deadline.tv_nsec);
}

/* push - append to the resolver's FIFO */
static void push(struct resolver *r, struct fq *q)
{
	q->next = NULL;
	*r->tail = q;
	r->tail = &q->next;
}

/* unlink_q - remove q (whose predecessor link is at prev) from the FIFO */
static void unlink_q(struct resolver *r, struct fq **prev, struct fq *q)
{
	*prev = q->next;
	if (r->tail == &q->next)
		r->tail = prev;
}

/* resolver_query - count and queue; nothing runs until wait/poll */
int resolver_query(struct resolver *r, const char *name, int type,
		   resolver_callback *cb, void *arg)
{
	struct fq *q;

	if (!r || !name || !cb)
		return -1;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -1;
	norm(q->name, name);
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	log_query(q->name, type);
	r->pending++;
	push(r, q);
	return 0;
}

/* complete - run the callback with a private copy of pkt, free the query */
static void complete(struct resolver *r, struct fq *q, enum dns_status st,
		     const unsigned char *pkt, int len)
{
	unsigned char *copy = NULL;

	if (pkt && len > 0 && (copy = malloc((size_t)len)) != NULL) {
		memcpy(copy, pkt, (size_t)len);
		if (q->not_ad && len >= 4)   /* as resolver.c: AD survives a chain only if every answer had it */
			copy[3] &= (unsigned char)~DNS_FLAG_AD_BYTE3;
	}
	r->pending--;
	q->cb(q->arg, st, copy, copy ? len : 0);
	free(copy);
	free(q);
}

/*
 * answer - resolve q as resolver.c would; returns false when it must wait
 * (hanging). A CNAME-only answer re-queues q for the chain's end.
 */
static bool answer(struct resolver *r, struct fq *q)
{
	struct entry *e = find(q->name, q->type);
	char target[DNS_NAME_BUF];

	if (!e) {
		complete(r, q, default_status, NULL, 0);
		return true;
	}
	if (e->hang)
		return false;
	if (e->status != DNS_OK || e->raw) {
		complete(r, q, e->status, e->pkt, e->len);
		return true;
	}
	switch (dns_parse_follow(e->pkt, e->len, q->type, target, sizeof(target))) {
	case DNS_FOLLOW_HAS_TYPE:
		complete(r, q, DNS_OK, e->pkt, e->len);
		break;
	case DNS_FOLLOW_CNAME:
		if (q->hops >= FAKE_CNAME_MAX) {
			complete(r, q, DNS_ERROR, e->pkt, e->len);
			break;
		}
		q->hops++;
		if (dns_parse_ad(e->pkt, e->len) != 1)
			q->not_ad = true;
		norm(q->name, target);
		log_query(q->name, q->type);
		push(r, q);
		break;
	case DNS_FOLLOW_EMPTY:
		complete(r, q, DNS_NODATA, e->pkt, e->len);
		break;
	default:
		complete(r, q, DNS_ERROR, e->pkt, e->len);
		break;
	}
	return true;
}

/* fail_all - every pending query completes with st (deadline or cancel) */
static void fail_all(struct resolver *r, enum dns_status st)
{
	struct fq *q;

	while ((q = r->head) != NULL) {
		unlink_q(r, &r->head, q);
		complete(r, q, st, NULL, 0);
	}
}

/* step - answer the first query that can be answered; false when none can */
static bool step(struct resolver *r)
{
	for (struct fq **prev = &r->head, *q; (q = *prev) != NULL; prev = &q->next) {
		if (!find(q->name, q->type) || !find(q->name, q->type)->hang) {
			unlink_q(r, prev, q);
			answer(r, q);
			return true;
		}
	}
	return false;
}

/* resolver_wait - answer one query per step until done */
bool resolver_wait(struct resolver *r, resolver_done_fn *done, void *arg)
{
	for (;;) {
		if (done ? done(arg) : r->pending == 0)
			return true;
		if (r->pending == 0)
			return false;
		if (deadline_passed(r)) {
			fail_all(r, DNS_TIMEOUT);
			continue;
		}
		if (!step(r)) {
			/* only hanging queries: time jumps to the deadline, if there is one */
			if (!r->has_deadline)
				return done ? done(arg) : false;
			fail_all(r, DNS_TIMEOUT);
		}
	}
}

/* resolver_poll - answer what was pending on entry */
void resolver_poll(struct resolver *r)
{
	unsigned n = r->pending;

	if (deadline_passed(r)) {
		fail_all(r, DNS_TIMEOUT);
		return;
	}
	while (n-- > 0 && step(r))
		;
}

/* resolver_cancel_all - everything fails with DNS_ERROR */
void resolver_cancel_all(struct resolver *r)
{
	if (r)
		fail_all(r, DNS_ERROR);
}

/* resolver_free - cancel, then free */
void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	resolver_cancel_all(r);
	free(r);
}

/* resolver_forget - the fake keeps no answers: every query is asked (and counted) */
void resolver_forget(struct resolver *r)
{
	(void)r;
}

/* resolver_pending - callbacks still owed */
unsigned resolver_pending(const struct resolver *r)
{
	return r ? r->pending : 0;
}
