/*
 * dnsbl_check.c - DNS blocklists: the asynchronous check of one list (see dnsbl.h).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/dns_parse.h"
#include "policy/dnsbl.h"
#include "policy/dnsbl_impl.h"

/* ---- the asynchronous check --------------------------------------------- */

/* finish - the value from the outcomes so far */
static void finish(struct dnsbl_check *c)
{
	c->result = dnsbl_combine(c->spec, c->out, c->ntargets, c->flags, c->detail, sizeof c->detail);
	c->done = true;
}

/* on_answer - one target's answer (lookups_answer_fn) */
static void on_answer(void *owner, int tag, int type, enum dns_status st,
		      const unsigned char *ans, int len)
{
	struct dnsbl_check *c = owner;

	(void)type;
	if (c->done || tag < 0 || (unsigned)tag >= c->ntargets)
		return;
	dnsbl_classify(&c->spec->filter, &c->spec->errors, st, ans, len, &c->out[tag].ans);
	if (c->out[tag].ans.result == DNSBL_LISTED || c->q.outstanding == 0)
		finish(c);
}

/* dnsbl_check_init - see dnsbl.h */
void dnsbl_check_init(struct dnsbl_check *c, struct resolver *res, const struct dnsbl_spec *spec)
{
	memset(c, 0, sizeof *c);
	c->spec = spec;
	c->res = res;
	lookups_init(&c->q, c, on_answer);
}

/* add_target - a target by its text and query name (or why it has none) */
static bool add_target(struct dnsbl_check *c, const char *text, size_t tlen, const char *qname, const char *qerr)
{
	unsigned i;

	if (c->started || !c->spec)
		return false;
	if (tlen >= DNSBL_TARGET_MAX)
		tlen = DNSBL_TARGET_MAX - 1;
	for (i = 0; i < c->ntargets; i++)
		if (strlen(c->out[i].target) == tlen && strncmp(c->out[i].target, text, tlen) == 0)
			return false;
	if (c->ntargets == DNSBL_QUERIES_MAX) {
		c->skipped++;
		c->flags |= DNSBL_TRUNCATED;
		return false;
	}
	i = c->ntargets++;
	memcpy(c->out[i].target, text, tlen);
	c->out[i].target[tlen] = '\0';
	snprintf(c->qname[i], sizeof c->qname[i], "%s", qname);
	c->qerr[i] = qname[0] ? NULL : qerr;
	return true;
}

/* dnsbl_check_add_addr - see dnsbl.h */
bool dnsbl_check_add_addr(struct dnsbl_check *c, int family, const void *addr)
{
	const unsigned char *a = addr;
	char text[INET6_ADDRSTRLEN], qname[DNSBL_QNAME_MAX];

	if (!c->spec || !addr || (family != AF_INET && family != AF_INET6))
		return false;
	if (family == AF_INET6 && memcmp(a, dnsbl_v4mapped, sizeof dnsbl_v4mapped) == 0) {
		family = AF_INET;
		a += 12;
	}
	if (!inet_ntop(family, a, text, sizeof text))
		return false;
	if (dnsbl_query_name(c->spec->zone, family, a, qname, sizeof qname) < 0)
		qname[0] = '\0';
	return add_target(c, text, strlen(text), qname, "too long to query with the list's zone");
}

/* dnsbl_check_add_sockaddr - see dnsbl.h */
bool dnsbl_check_add_sockaddr(struct dnsbl_check *c, const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return dnsbl_check_add_addr(c, AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return dnsbl_check_add_addr(c, AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return false;
}

/* dnsbl_check_add_domain - see dnsbl.h */
bool dnsbl_check_add_domain(struct dnsbl_check *c, const char *domain)
{
	char text[DNSBL_TARGET_MAX], qname[DNSBL_QNAME_MAX];
	const char *why;
	size_t n;

	if (!c->spec || !domain || !domain[0])
		return false;
	n = dnsbl_trim_dot(domain);
	if (n >= sizeof text)
		n = sizeof text - 1;
	for (size_t i = 0; i < n; i++)
		text[i] = (char)tolower((unsigned char)domain[i]);
	text[n] = '\0';
	why = dnsbl_domain_query(c->spec->zone, domain, qname, sizeof qname);
	return add_target(c, text, n, why ? "" : qname, why);
}

/* dnsbl_check_add_addrs - see dnsbl.h */
void dnsbl_check_add_addrs(struct dnsbl_check *c, const struct fact_address_set *set)
{
	if (set->partial)
		c->flags |= DNSBL_INCOMPLETE;
	for (unsigned i = 0; i < set->count && i < FACT_SET_ADDRS; i++)
		dnsbl_check_add_sockaddr(c, &set->addr[i].sa);
}

/* dnsbl_check_add_domains - see dnsbl.h */
void dnsbl_check_add_domains(struct dnsbl_check *c, const struct fact_domain_set *set)
{
	if (set->partial)
		c->flags |= DNSBL_INCOMPLETE;
	for (unsigned i = 0; i < set->count && i < FACT_SET_NAMES; i++)
		dnsbl_check_add_domain(c, facts_set_name(set, i));
}

/* dnsbl_check_incomplete - see dnsbl.h */
void dnsbl_check_incomplete(struct dnsbl_check *c)
{
	c->flags |= DNSBL_INCOMPLETE;
}

/* dnsbl_check_start - see dnsbl.h */
void dnsbl_check_start(struct dnsbl_check *c)
{
	if (c->started || !c->spec)
		return;
	c->started = true;
	for (unsigned i = 0; i < c->ntargets; i++) {
		struct dnsbl_answer *a = &c->out[i].ans;

		if (!c->qname[i][0]) {
			a->result = DNSBL_TEMPERROR;
			a->why = c->qerr[i] ? c->qerr[i] : "cannot be queried";
		} else if (!lookups_start(&c->q, c->res, c->qname[i], ns_t_a, (int)i)) {
			a->result = DNSBL_TEMPERROR;
			a->why = "the lookup could not be started";
		}
	}
	if (c->q.outstanding == 0)
		finish(c);
}

/* dnsbl_check_done - resolver_wait predicate */
bool dnsbl_check_done(void *arg)
{
	return ((const struct dnsbl_check *)arg)->done;
}

/* dnsbl_check_result - the value once done */
enum dnsbl_result dnsbl_check_result(const struct dnsbl_check *c)
{
	return c->done ? c->result : DNSBL_UNKNOWN;
}

/* dnsbl_check_abandon - see dnsbl.h */
void dnsbl_check_abandon(struct dnsbl_check *c)
{
	lookups_abandon(&c->q);
	if (c->done)
		return;
	if (!c->spec) {
		c->done = true;
		return;
	}
	for (unsigned i = 0; i < c->ntargets; i++)
		if (c->out[i].ans.result == DNSBL_UNKNOWN) {
			c->out[i].ans.result = DNSBL_TEMPERROR;
			c->out[i].ans.why = c->started ? "abandoned before an answer" : "never asked";
		}
	finish(c);
}

/* ---- the start-up self-test, on a resolver ------------------------------- */

/* One probe's answer, kept until both are in. */
struct probe {
	bool done;
	enum dns_status st;
	unsigned char ans[512];
	int len;
};

/* probe_cb - keep the answer (cut at 512 octets: an A answer of a test entry is small) */
static void probe_cb(void *arg, enum dns_status st, const unsigned char *ans, int len)
{
	struct probe *p = arg;

	p->done = true;
	p->st = st;
	p->len = ans && len > 0 ? (len > (int)sizeof p->ans ? (int)sizeof p->ans : len) : 0;
	if (p->len)
		memcpy(p->ans, ans, (size_t)p->len);
}

/* dnsbl_selftest_run - see dnsbl.h */
enum dnsbl_selftest dnsbl_selftest_run(const struct dnsbl_spec *s, bool domain_list, struct resolver *res,
				       char *why, size_t whylen)
{
	struct probe p[2] = { { 0 }, { 0 } };
	char name[DNSBL_QNAME_MAX];

	for (int i = 0; i < 2; i++) {
		if (dnsbl_selftest_name(s, domain_list, i == 0, name, sizeof name) < 0 ||
		    resolver_query(res, name, ns_t_a, probe_cb, &p[i]) < 0) {
			p[i].done = true;
			p[i].st = DNS_ERROR;
		}
	}
	resolver_wait(res, NULL, NULL);   /* every answer, or the caller's deadline */
	resolver_cancel_all(res);         /* what is still out ends here, while p lives */
	return dnsbl_selftest_judge(s, p[0].st, p[0].len ? p[0].ans : NULL, p[0].len,
				    p[1].st, p[1].len ? p[1].ans : NULL, p[1].len, why, whylen);
}
