/*
 * dns_parse.c - bounded readers for raw DNS answers.
 *
 * Everything walks the packet through read_name() and next_rr(), which
 * check every offset against the packet length; compression pointers
 * must point strictly backwards, so a hostile packet cannot make us loop.
 * Nothing here allocates except dns_parse_txt(), whose result the caller
 * frees with dns_txt_free().
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/dns_parse.h"

#define HDR_LEN     12
#define CHAIN_MAX   16          /* CNAME links we follow inside one answer */

struct msg {
	const unsigned char *p;
	int len;
	unsigned ancount;
	int an_start;               /* offset of the first answer RR */
	char qname[DNS_NAME_BUF];
};

struct rr {
	char owner[DNS_NAME_BUF];
	int type, cls;
	unsigned long ttl;
	int rdoff, rdlen;
};

/* The question name and every name its CNAME chain in this answer reaches. */
struct chain {
	char name[CHAIN_MAX + 1][DNS_NAME_BUF];
	int n;
};

/* copy_str - strlen-checked copy (the caller has made sure it fits) */
static void copy_str(char *dst, const char *src)
{
	memcpy(dst, src, strlen(src) + 1);
}

/* get16 - big-endian 16-bit read; the caller has checked the bounds */
static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* put_label_byte - one label octet in presentation form; false when out is full */
static bool put_label_byte(char *out, size_t outlen, size_t *o, unsigned char c)
{
	char tmp[5];
	int n;

	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c - 'A' + 'a');
	if (c == '.' || c == '\\')
		n = snprintf(tmp, sizeof(tmp), "\\%c", c);
	else if (c < 0x21 || c > 0x7e)
		n = snprintf(tmp, sizeof(tmp), "\\%03u", c);
	else
		n = snprintf(tmp, sizeof(tmp), "%c", c);
	if (*o + (size_t)n >= outlen)
		return false;
	memcpy(out + *o, tmp, (size_t)n);
	*o += (size_t)n;
	return true;
}

/*
 * read_name - decode the (possibly compressed) name at off into out; *next
 * gets the offset just past it in the original position. 0 or -1.
 */
static int read_name(const unsigned char *p, int len, int off, char *out,
		     size_t outlen, int *next)
{
	int pos = off, wire = 0;
	size_t o = 0;
	bool jumped = false;

	if (outlen == 0)
		return -1;
	for (;;) {
		if (pos < 0 || pos >= len)
			return -1;
		unsigned c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -1;
			int ptr = (int)((c & 0x3f) << 8 | p[pos + 1]);
			if (ptr >= pos)     /* forwards or to itself: a loop in waiting */
				return -1;
			if (!jumped)
				*next = pos + 2;
			jumped = true;
			pos = ptr;
			continue;
		}
		if (c & 0xc0)           /* extended label types: not in answers we ask for */
			return -1;
		if (c == 0) {
			if (!jumped)
				*next = pos + 1;
			break;
		}
		if (pos + 1 + (int)c > len)
			return -1;
		wire += (int)c + 1;
		if (wire > 254)         /* 255 octets including the root label */
			return -1;
		if (o > 0) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = '.';
		}
		for (unsigned i = 0; i < c; i++)
			if (!put_label_byte(out, outlen, &o, p[pos + 1 + (int)i]))
				return -1;
		pos += 1 + (int)c;
	}
	out[o] = '\0';
	return 0;
}

/* msg_open - check the header, read the question name, find the answer section */
static int msg_open(struct msg *m, const unsigned char *p, int len)
{
	int off = HDR_LEN;
	char skip[DNS_NAME_BUF] = "";

	if (!p || len < HDR_LEN)
		return -1;
	m->p = p;
	m->len = len;
	unsigned qdcount = get16(p + 4);
	m->ancount = get16(p + 6);
	if (qdcount == 0)
		return -1;
	for (unsigned i = 0; i < qdcount; i++) {
		if (read_name(p, len, off, i == 0 ? m->qname : skip,
			      DNS_NAME_BUF, &off) < 0)
			return -1;
		if (off + 4 > len)
			return -1;
		off += 4;
	}
	m->an_start = off;
	return 0;
}

/* next_rr - read the resource record at *off and advance past it */
static int next_rr(const struct msg *m, int *off, struct rr *rr)
{
	int o;

	if (read_name(m->p, m->len, *off, rr->owner, sizeof(rr->owner), &o) < 0)
		return -1;
	if (o + 10 > m->len)
		return -1;
	rr->type = (int)get16(m->p + o);
	rr->cls = (int)get16(m->p + o + 2);
	rr->ttl = (unsigned long)get16(m->p + o + 4) << 16 | get16(m->p + o + 6);
	rr->rdlen = (int)get16(m->p + o + 8);
	rr->rdoff = o + 10;
	if (rr->rdoff + rr->rdlen > m->len)
		return -1;
	*off = rr->rdoff + rr->rdlen;
	return 0;
}

/* rdata_name - a name that must start inside the RR's data and end within it */
static int rdata_name(const struct msg *m, const struct rr *rr, int at,
		      char *out, size_t outlen)
{
	int end;

	if (at >= rr->rdoff + rr->rdlen)
		return -1;
	if (read_name(m->p, m->len, at, out, outlen, &end) < 0)
		return -1;
	return end <= rr->rdoff + rr->rdlen ? 0 : -1;
}

/* find_cname - the target of a CNAME owned by name; 1 found, 0 none, -1 malformed */
static int find_cname(const struct msg *m, const char *name, char *target)
{
	struct rr rr;
	int off = m->an_start;

	for (unsigned i = 0; i < m->ancount; i++) {
		if (next_rr(m, &off, &rr) < 0)
			return -1;
		if (rr.type != ns_t_cname || rr.cls != ns_c_in || strcmp(rr.owner, name))
			continue;
		return rdata_name(m, &rr, rr.rdoff, target, DNS_NAME_BUF) < 0 ? -1 : 1;
	}
	return 0;
}

/* chain_build - follow CNAMEs from the question name inside the answer */
static int chain_build(const struct msg *m, int qtype, struct chain *c)
{
	char next[DNS_NAME_BUF];

	copy_str(c->name[0], m->qname);
	c->n = 1;
	if (qtype == ns_t_cname)
		return 0;
	for (;;) {
		int rc = find_cname(m, c->name[c->n - 1], next);
		if (rc <= 0)
			return rc;
		if (c->n == CHAIN_MAX + 1)
			return -1;      /* too long, or a loop */
		memcpy(c->name[c->n++], next, sizeof(next));
	}
}

/* in_chain - does a record owned by owner answer the question? */
static bool in_chain(const struct chain *c, const char *owner)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->name[i], owner) == 0)
			return true;
	return false;
}

/*
 * walk_chain - call fn for each IN record of type (or of A/AAAA when type
 * is 0) owned by a name of the chain. fn returns <0 to stop with that value.
 */
typedef int walk_fn(const struct msg *, const struct rr *, void *);

static int walk_chain(const struct msg *m, const struct chain *c, int type,
		      walk_fn *fn, void *arg)
{
	struct rr rr;
	int off = m->an_start, rc = 0;

	for (unsigned i = 0; i < m->ancount && rc >= 0; i++) {
		if (next_rr(m, &off, &rr) < 0)
			return -1;
		if (rr.cls != ns_c_in || !in_chain(c, rr.owner))
			continue;
		if (type ? rr.type == type : (rr.type == ns_t_a || rr.type == ns_t_aaaa))
			rc = fn(m, &rr, arg);
	}
	return rc < 0 ? rc : 0;
}

/* walk - open the answer, build its CNAME chain, walk it */
static int walk(const unsigned char *ans, int len, int type, walk_fn *fn, void *arg)
{
	struct msg m;
	struct chain *c;
	int rc;

	if (msg_open(&m, ans, len) < 0)
		return -1;
	c = malloc(sizeof(*c));     /* ~17 KiB: keep it off small thread stacks */
	if (!c)
		return -2;
	rc = chain_build(&m, type ? type : ns_t_a, c);
	if (rc == 0)
		rc = walk_chain(&m, c, type, fn, arg);
	free(c);
	return rc;
}

/* dns_parse_rcode - RCODE from the header */
int dns_parse_rcode(const unsigned char *ans, int len)
{
	if (!ans || len < HDR_LEN)
		return -1;
	return ans[3] & 0x0f;
}

/* ttl_of - RFC 2181 §8: a TTL with the top bit set counts as 0 */
static unsigned long ttl_of(unsigned long ttl)
{
	return ttl & 0x80000000UL ? 0 : ttl;
}

/* dns_parse_ttl - see dns_parse.h */
int dns_parse_ttl(const unsigned char *ans, int len, unsigned long *ttl)
{
	struct msg m;
	struct rr rr;
	int off;
	unsigned nscount;
	bool any = false;

	if (msg_open(&m, ans, len) < 0)
		return -1;
	nscount = get16(ans + 8);
	off = m.an_start;
	*ttl = 0;
	for (unsigned i = 0; i < m.ancount; i++) {
		if (next_rr(&m, &off, &rr) < 0)
			return -1;
		if (!any || ttl_of(rr.ttl) < *ttl)
			*ttl = ttl_of(rr.ttl);
		any = true;
	}
	if (any)
		return 0;
	/* RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM) */
	for (unsigned i = 0; i < nscount; i++) {
		if (next_rr(&m, &off, &rr) < 0)
			return -1;
		if (rr.type == ns_t_soa && rr.rdlen >= 22) {
			const unsigned char *mn = ans + rr.rdoff + rr.rdlen - 4;
			unsigned long minimum = ttl_of((unsigned long)get16(mn) << 16 | get16(mn + 2));

			*ttl = ttl_of(rr.ttl) < minimum ? ttl_of(rr.ttl) : minimum;
			return 0;
		}
	}
	return 1;
}

/* dns_parse_ad - the AD bit from the header */
int dns_parse_ad(const unsigned char *ans, int len)
{
	if (!ans || len < HDR_LEN)
		return -1;
	return (ans[3] & DNS_FLAG_AD_BYTE3) != 0;
}

/* follow_seen - walk callback: a record of the asked type exists */
static int follow_seen(const struct msg *m, const struct rr *rr, void *arg)
{
	(void)m;
	(void)rr;
	*(bool *)arg = true;
	return 0;
}

/* dns_parse_canonical - see dns_parse.h */
int dns_parse_canonical(const unsigned char *ans, int len, int qtype, char *out, size_t outlen)
{
	struct msg m;
	struct chain *c;
	int rc;

	if (msg_open(&m, ans, len) < 0)
		return -1;
	c = malloc(sizeof(*c));
	if (!c)
		return -1;
	rc = chain_build(&m, qtype, c);
	if (rc == 0 && strlen(c->name[c->n - 1]) < outlen)
		copy_str(out, c->name[c->n - 1]);
	else
		rc = -1;
	free(c);
	return rc;
}

/* dns_parse_follow - records of qtype, a CNAME chain to follow, or neither */
int dns_parse_follow(const unsigned char *ans, int len, int qtype,
		     char *target, size_t targetlen)
{
	struct msg m;
	struct chain *c;
	bool seen = false;
	int rc;

	if (msg_open(&m, ans, len) < 0)
		return -1;
	c = malloc(sizeof(*c));
	if (!c)
		return -2;
	rc = chain_build(&m, qtype, c);
	if (rc == 0)
		rc = walk_chain(&m, c, qtype, follow_seen, &seen);
	if (rc == 0) {
		if (seen)
			rc = DNS_FOLLOW_HAS_TYPE;
		else if (c->n == 1)
			rc = DNS_FOLLOW_EMPTY;
		else if (strlen(c->name[c->n - 1]) >= targetlen)
			rc = -1;
		else {
			copy_str(target, c->name[c->n - 1]);
			rc = DNS_FOLLOW_CNAME;
		}
	}
	free(c);
	return rc;
}

struct mx_acc {
	struct dns_mx *out;
	size_t max, count, total;
};

/* mx_one - keep the max most preferred exchanges, sorted, stable on ties */
static int mx_one(const struct msg *m, const struct rr *rr, void *arg)
{
	struct mx_acc *a = arg;
	char host[DNS_NAME_BUF];
	size_t pos;

	if (rr->rdlen < 3 || rdata_name(m, rr, rr->rdoff + 2, host, sizeof(host)) < 0)
		return -1;
	a->total++;
	if (strlen(host) >= DNS_HOST_BUF)
		return 0;
	unsigned pref = get16(m->p + rr->rdoff);
	for (pos = a->count; pos > 0 && a->out[pos - 1].pref > pref; pos--)
		;
	if (pos >= a->max)
		return 0;
	size_t keep = a->count < a->max ? a->count : a->max - 1;
	memmove(&a->out[pos + 1], &a->out[pos], (keep - pos) * sizeof(a->out[0]));
	a->out[pos].pref = pref;
	copy_str(a->out[pos].host, host);   /* length checked above */
	if (a->count < a->max)
		a->count++;
	return 0;
}

/* dns_parse_mx - the most preferred MX records, sorted */
int dns_parse_mx(const unsigned char *ans, int len, struct dns_mx *out,
		 size_t max, size_t *total)
{
	struct mx_acc a = { out, max, 0, 0 };
	int rc = walk(ans, len, ns_t_mx, mx_one, &a);

	if (total)
		*total = rc < 0 ? 0 : a.total;
	return rc < 0 ? rc : (int)a.count;
}

struct addr_acc {
	struct dns_addr *out;
	size_t max, count, total;
};

/* addr_one - one A or AAAA record */
static int addr_one(const struct msg *m, const struct rr *rr, void *arg)
{
	struct addr_acc *a = arg;
	int fam = rr->type == ns_t_a ? AF_INET : AF_INET6;
	int want = fam == AF_INET ? 4 : 16;

	if (rr->rdlen != want)
		return -1;
	a->total++;
	if (a->count < a->max) {
		a->out[a->count].family = fam;
		memset(a->out[a->count].addr, 0, sizeof(a->out[a->count].addr));
		memcpy(a->out[a->count].addr, m->p + rr->rdoff, (size_t)want);
		a->count++;
	}
	return 0;
}

/* dns_parse_addrs - A and AAAA records of the question name */
int dns_parse_addrs(const unsigned char *ans, int len, struct dns_addr *out,
		    size_t max, size_t *total)
{
	struct addr_acc a = { out, max, 0, 0 };
	int rc = walk(ans, len, 0, addr_one, &a);

	if (total)
		*total = rc < 0 ? 0 : a.total;
	return rc < 0 ? rc : (int)a.count;
}

/* PTR and NS: records whose RDATA is one name */
struct ptr_acc {
	char (*out)[DNS_HOST_BUF];
	size_t max, count, total;
};

/* ptr_one - one PTR or NS record */
static int ptr_one(const struct msg *m, const struct rr *rr, void *arg)
{
	struct ptr_acc *a = arg;
	char name[DNS_NAME_BUF];

	if (rdata_name(m, rr, rr->rdoff, name, sizeof(name)) < 0)
		return -1;
	a->total++;
	if (a->count < a->max && strlen(name) < DNS_HOST_BUF)
		copy_str(a->out[a->count++], name);
	return 0;
}

/* parse_names - target names of records of type (PTR, NS) */
static int parse_names(const unsigned char *ans, int len, int type, char (*out)[DNS_HOST_BUF],
		       size_t max, size_t *total)
{
	struct ptr_acc a = { out, max, 0, 0 };
	int rc = walk(ans, len, type, ptr_one, &a);

	if (total)
		*total = rc < 0 ? 0 : a.total;
	return rc < 0 ? rc : (int)a.count;
}

/* dns_parse_ptr - PTR target names */
int dns_parse_ptr(const unsigned char *ans, int len, char (*out)[DNS_HOST_BUF],
		  size_t max, size_t *total)
{
	return parse_names(ans, len, ns_t_ptr, out, max, total);
}

/* dns_parse_ns - NS target names of the answer section (authority and additional ignored) */
int dns_parse_ns(const unsigned char *ans, int len, char (*out)[DNS_HOST_BUF],
		 size_t max, size_t *total)
{
	return parse_names(ans, len, ns_t_ns, out, max, total);
}

/* txt_one - join one record's character-strings; they must fill RDATA exactly */
static int txt_one(const struct msg *m, const struct rr *rr, void *arg)
{
	struct dns_txt_list *l = arg;
	const unsigned char *d = m->p + rr->rdoff;
	size_t n = 0;
	int i;
	char *text;

	for (i = 0; i < rr->rdlen; i += 1 + d[i])
		if (i + 1 + d[i] > rr->rdlen)
			return -1;
	if (l->count >= DNS_TXT_MAX)
		return 0;
	text = malloc((size_t)rr->rdlen + 1);
	if (!text)
		return -2;
	for (i = 0; i < rr->rdlen; i += 1 + d[i]) {
		memcpy(text + n, d + i + 1, d[i]);
		n += d[i];
	}
	text[n] = '\0';
	l->rec[l->count].text = text;
	l->rec[l->count].len = n;
	l->count++;
	return 0;
}

/* dns_parse_txt - TXT records, strings joined, into an owned list */
int dns_parse_txt(const unsigned char *ans, int len, struct dns_txt_list *out)
{
	int rc;

	out->count = 0;
	out->rec = calloc(DNS_TXT_MAX, sizeof(*out->rec));
	if (!out->rec)
		return -2;
	rc = walk(ans, len, ns_t_txt, txt_one, out);
	if (rc < 0) {
		dns_txt_free(out);
		return rc;
	}
	return (int)out->count;
}

/* dns_txt_free - release a dns_parse_txt result; the list is left empty */
void dns_txt_free(struct dns_txt_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; l->rec && i < l->count; i++)
		free(l->rec[i].text);
	free(l->rec);
	l->rec = NULL;
	l->count = 0;
}

/* dns_addr_format - an address in presentation form */
char *dns_addr_format(const struct dns_addr *a, char *buf, size_t buflen)
{
	if (!inet_ntop(a->family, a->addr, buf, (socklen_t)buflen))
		snprintf(buf, buflen, "?");
	return buf;
}
