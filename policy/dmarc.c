/*
 * dmarc.c - DMARC discovery, alignment and result (see dmarc.h).
 *
 * The check keeps one table of _dmarc names and what each said; policy
 * discovery, Organizational Domains and alignment are all read from it
 * by dmarc_check_evaluate, which can be asked again whenever an answer
 * or an input arrives. Walks are asked whole, at once: a sequential walk
 * would cost one round trip per label for the common case of a record
 * only at the Organizational Domain.
 */
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/dmarc.h"
#include "policy/dns_parse.h"
#include "policy/orgdomain.h"
#include "policy/resolver.h"

#define EXISTS_TAG DMARC_NAMES_MAX   /* the lookup tag of the Author Domain's A query */

/* label_count - labels of a name without a trailing dot ("" has none) */
static unsigned label_count(const char *d)
{
	unsigned n = *d ? 1 : 0;

	for (; *d; d++)
		n += *d == '.';
	return n;
}

/* suffix - the last n labels of d (d itself when it has no more) */
static const char *suffix(const char *d, unsigned n)
{
	unsigned have = label_count(d);

	while (have > n) {
		const char *dot = strchr(d, '.');

		if (!dot)
			break;
		d = dot + 1;
		have--;
	}
	return d;
}

/* is_label_suffix - is s d itself or a parent of d? */
static bool is_label_suffix(const char *s, const char *d)
{
	size_t ls = strlen(s), ld = strlen(d);

	if (ls > ld)
		return false;
	if (strcasecmp(d + ld - ls, s) != 0)
		return false;
	return ls == ld || d[ld - ls - 1] == '.';
}

size_t dmarc_walk_names(const char *domain, char out[][FACT_NAME_MAX], size_t max)
{
	unsigned x = label_count(domain);
	size_t n = 0;

	if (!x || max == 0)
		return 0;
	snprintf(out[n++], FACT_NAME_MAX, "%s", domain);
	/* step 4: 8 or more labels jump straight to the last 7 */
	for (unsigned k = x >= 8 ? 7 : x - 1; k >= 1 && n < max; k--)
		snprintf(out[n++], FACT_NAME_MAX, "%s", suffix(domain, k));
	return n;
}

/* find_name - index of domain in the table, or -1 */
static int find_name(const struct dmarc_check *c, const char *domain)
{
	for (unsigned i = 0; i < c->nnames; i++)
		if (strcasecmp(c->name[i].domain, domain) == 0)
			return (int)i;
	return -1;
}

/* mark - a name's state with its reason */
static void mark(struct dmarc_name *n, enum dmarc_name_state st, const char *why)
{
	n->state = st;
	snprintf(n->why, sizeof n->why, "%s", why);
}

/* ask - the name's index, asking _dmarc.NAME TXT first when it is new; -1 when the table is full */
static int ask(struct dmarc_check *c, const char *domain)
{
	char q[FACT_NAME_MAX + 8];
	int i = find_name(c, domain);
	struct dmarc_name *n;

	if (i >= 0)
		return i;
	if (c->nnames >= DMARC_NAMES_MAX) {
		c->overflow = true;
		return -1;
	}
	i = (int)c->nnames++;
	n = &c->name[i];
	memset(n, 0, sizeof *n);
	snprintf(n->domain, sizeof n->domain, "%s", domain);
	n->state = DMARC_NAME_PENDING;
	if (snprintf(q, sizeof q, "_dmarc.%s", domain) >= (int)sizeof q)
		mark(n, DMARC_NAME_NONE, "name too long");
	else if (!c->res || !lookups_start(&c->q, c->res, q, ns_t_txt, i))
		mark(n, DMARC_NAME_TEMPERROR, "cannot ask");
	return i;
}

/* ask_walk - every name of a walk from domain */
static void ask_walk(struct dmarc_check *c, const char *domain)
{
	char names[DMARC_WALK_MAX][FACT_NAME_MAX];
	size_t n = dmarc_walk_names(domain, names, DMARC_WALK_MAX);

	for (size_t i = 0; i < n; i++)
		(void)ask(c, names[i]);
}

/* read_txt - what the TXT records at one name say */
static void read_txt(struct dmarc_name *n, const unsigned char *ans, int len)
{
	struct dns_txt_list txt;
	int rc = dns_parse_txt(ans, len, &txt);
	size_t found = 0, which = 0;
	char why[48];

	if (rc < 0) {
		mark(n, DMARC_NAME_TEMPERROR, rc == -2 ? "out of memory" : "malformed answer");
		return;
	}
	for (size_t i = 0; i < txt.count; i++)
		if (dmarc_record_is_dmarc(txt.rec[i].text, txt.rec[i].len)) {
			found++;
			which = i;
		}
	if (found == 0) {
		mark(n, DMARC_NAME_NONE, "no DMARC record");
	} else if (found > 1) {
		snprintf(why, sizeof why, "%zu DMARC records", found);
		mark(n, DMARC_NAME_NONE, why);
	} else if (dmarc_record_parse(txt.rec[which].text, txt.rec[which].len, &n->rec) == DMARC_RECORD_OK) {
		mark(n, DMARC_NAME_RECORD, "");
	} else {
		mark(n, DMARC_NAME_UNUSABLE, "bad p/sp/np and no rua");
	}
	dns_txt_free(&txt);
}

/* on_answer - one _dmarc TXT answer (tag: its name's index) or the existence answer */
static void on_answer(void *owner, int tag, int type, enum dns_status st, const unsigned char *ans, int len)
{
	struct dmarc_check *c = owner;
	struct dmarc_name *n;

	(void)type;
	if (tag == EXISTS_TAG) {
		c->exists = st == DNS_NXDOMAIN ? DMARC_EXISTS_NO :
			    dns_status_temporary(st) ? DMARC_EXISTS_TEMPERROR : DMARC_EXISTS_YES;
	} else if (tag >= 0 && (unsigned)tag < c->nnames) {
		n = &c->name[tag];
		if (st == DNS_OK)
			read_txt(n, ans, len);
		else if (st == DNS_NXDOMAIN || st == DNS_NODATA || st == DNS_BADNAME)
			mark(n, DMARC_NAME_NONE, dns_status_name(st));
		else
			mark(n, DMARC_NAME_TEMPERROR, dns_status_name(st));
	}
	if (c->notify)
		c->notify(c->notify_arg);
}

void dmarc_check_init(struct dmarc_check *c, struct resolver *res, const struct dmarc_options *opt)
{
	memset(c, 0, sizeof *c);
	c->res = res;
	if (opt)
		c->opt = *opt;
	lookups_init(&c->q, c, on_answer);
}

void dmarc_check_author(struct dmarc_check *c, const char *author)
{
	char od[FACT_NAME_MAX];

	snprintf(c->author, sizeof c->author, "%s", author ? author : "");
	if (!c->author[0])
		return;
	if (c->opt.discovery == DMARC_PSL) {
		(void)ask(c, c->author);
		if (c->opt.psl && orgdomain_get(c->opt.psl, c->author, od, sizeof od))
			(void)ask(c, od);
		return;
	}
	ask_walk(c, c->author);
}

/* shares_two_labels - might a and b have one Organizational Domain? (cheap guess for asking early) */
static bool shares_two_labels(const char *a, const char *b)
{
	return label_count(a) >= 2 && label_count(b) >= 2 && strcasecmp(suffix(a, 2), suffix(b, 2)) == 0;
}

void dmarc_check_identifier(struct dmarc_check *c, const char *domain)
{
	if (!c->author[0] || !domain || !*domain || c->opt.discovery == DMARC_PSL ||
	    strcasecmp(domain, c->author) == 0 || !shares_two_labels(domain, c->author))
		return;
	ask_walk(c, domain);
}

unsigned dmarc_check_pending(const struct dmarc_check *c)
{
	return c->q.outstanding;
}

void dmarc_check_explain(const struct dmarc_check *c, char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < c->nnames && n < len; i++) {
		const struct dmarc_name *nm = &c->name[i];
		const struct dmarc_record *r = &nm->rec;

		if (nm->state == DMARC_NAME_RECORD)
			n += (size_t)snprintf(buf + n, len - n,
					      "dmarc_record: _dmarc.%s p=%s sp=%s np=%s adkim=%c aspf=%c t=%c psd=%c%s%s\n",
					      nm->domain, dmarc_req_name(r->p), dmarc_req_name(r->sp),
					      dmarc_req_name(r->np), r->strict_dkim ? 's' : 'r', r->strict_spf ? 's' : 'r',
					      r->testing ? 'y' : 'n',
					      r->psd == DMARC_PSD_Y ? 'y' : r->psd == DMARC_PSD_N ? 'n' : 'u',
					      r->note[0] ? " -- " : "", r->note);
		else
			n += (size_t)snprintf(buf + n, len - n, "dmarc_record: _dmarc.%s %s (%s)\n", nm->domain,
					      nm->state == DMARC_NAME_UNUSABLE ? "unusable" :
					      nm->state == DMARC_NAME_PENDING ? "no answer yet" :
					      nm->state == DMARC_NAME_TEMPERROR ? "lookup failed" : "none",
					      nm->state == DMARC_NAME_UNUSABLE ? r->note : nm->why);
	}
	if (n >= len && len > 4)
		memcpy(buf + len - 5, "...\n", 5);
}

void dmarc_check_abandon(struct dmarc_check *c)
{
	lookups_abandon(&c->q);
}

/* ------------------------------------------------------------------ evaluation */

/* How far a question could be answered from the table. */
enum known { K_OK = 0, K_PENDING, K_TEMPERROR };

struct eval {
	struct dmarc_check *c;
	bool final;                     /* a missing answer is a failure now */
	const char *failed;             /* K_TEMPERROR: the name (or "") whose lookup failed */
	const char *failed_why;
};

/* name_state - the state of an asked name; a pending one counts as failed when final */
static enum known name_state(struct eval *e, const char *domain, int *idx)
{
	int i = ask(e->c, domain);

	*idx = i;
	if (i < 0) {
		e->failed = domain;
		e->failed_why = "too many names for one message";
		return K_TEMPERROR;
	}
	switch (e->c->name[i].state) {
	case DMARC_NAME_PENDING:
		if (!e->final)
			return K_PENDING;
		e->failed = e->c->name[i].domain;
		e->failed_why = "no answer in time";
		return K_TEMPERROR;
	case DMARC_NAME_TEMPERROR:
		e->failed = e->c->name[i].domain;
		e->failed_why = e->c->name[i].why;
		return K_TEMPERROR;
	default:
		return K_OK;
	}
}

static bool has_record(const struct dmarc_name *n)
{
	return n->state == DMARC_NAME_RECORD || n->state == DMARC_NAME_UNUSABLE;
}

/*
 * org_domain - the Organizational Domain of start into od (RFC 9989
 * §4.10.2, or the PSL); *psd gets the index of a psd=y record that
 * decided it (-1 otherwise)
 */
static enum known org_domain(struct eval *e, const char *start, char *od, int *psd)
{
	char names[DMARC_WALK_MAX][FACT_NAME_MAX];
	size_t n;
	int last = -1;

	*psd = -1;
	if (e->c->opt.discovery == DMARC_PSL) {
		if (!e->c->opt.psl || !orgdomain_get(e->c->opt.psl, start, od, FACT_NAME_MAX))
			snprintf(od, FACT_NAME_MAX, "%s", start);
		return K_OK;
	}
	n = dmarc_walk_names(start, names, DMARC_WALK_MAX);
	for (size_t i = 0; i < n; i++) {
		int idx;
		enum known k = name_state(e, names[i], &idx);
		const struct dmarc_name *nm;

		if (k != K_OK)
			return k;
		nm = &e->c->name[idx];
		if (!has_record(nm))
			continue;
		last = idx;
		if (nm->rec.psd == DMARC_PSD_N) {
			snprintf(od, FACT_NAME_MAX, "%s", names[i]);
			return K_OK;
		}
		if (nm->rec.psd == DMARC_PSD_Y) {
			/* at the start it is the only record, so the fewest-labels rule picks the start */
			if (i == 0) {
				snprintf(od, FACT_NAME_MAX, "%s", start);
			} else {
				snprintf(od, FACT_NAME_MAX, "%s", suffix(start, label_count(names[i]) + 1));
				*psd = idx;
			}
			return K_OK;
		}
	}
	snprintf(od, FACT_NAME_MAX, "%s", last >= 0 ? e->c->name[last].domain : start);
	return K_OK;
}

/* The policy record that applies, once discovery is done. */
struct found {
	int idx;            /* -1: no record applies */
	bool parent;        /* the record is the Organizational or Public Suffix Domain's */
	char od[FACT_NAME_MAX];   /* the Author Domain's Organizational Domain */
	bool od_known;
};

/* discover - RFC 9989 §4.10.1 (or RFC 7489's two lookups) */
static enum known discover(struct eval *e, struct found *fd)
{
	const char *a = e->c->author;
	int idx, psd;
	enum known k;

	fd->idx = -1;
	fd->parent = false;
	fd->od_known = false;
	if ((k = name_state(e, a, &idx)) != K_OK)
		return k;
	if (has_record(&e->c->name[idx])) {
		fd->idx = idx;
		return K_OK;
	}
	if ((k = org_domain(e, a, fd->od, &psd)) != K_OK)
		return k;
	fd->od_known = true;
	if (strcasecmp(fd->od, a) != 0) {
		if ((k = name_state(e, fd->od, &idx)) != K_OK)
			return k;
		if (has_record(&e->c->name[idx])) {
			fd->idx = idx;
			fd->parent = true;
			return K_OK;
		}
	}
	if (psd >= 0) {
		fd->idx = psd;
		fd->parent = true;
	}
	return K_OK;
}

/* author_exists - for np: K_OK with *exists, after asking once */
static enum known author_exists(struct eval *e, bool *exists)
{
	struct dmarc_check *c = e->c;

	if (c->exists == DMARC_EXISTS_UNASKED) {
		c->exists = DMARC_EXISTS_PENDING;
		if (!c->res || !lookups_start(&c->q, c->res, c->author, ns_t_a, EXISTS_TAG))
			c->exists = DMARC_EXISTS_TEMPERROR;
	}
	if (c->exists == DMARC_EXISTS_PENDING && !e->final)
		return K_PENDING;
	if (c->exists == DMARC_EXISTS_PENDING || c->exists == DMARC_EXISTS_TEMPERROR) {
		e->failed = c->author;
		e->failed_why = "cannot tell whether it exists";
		return K_TEMPERROR;
	}
	*exists = c->exists == DMARC_EXISTS_YES;
	return K_OK;
}

/* Does an identifier align? */
enum align { AL_NO = 0, AL_YES, AL_PENDING, AL_UNKNOWN };

static enum align aligned(struct eval *e, struct found *fd, const char *x, bool strict)
{
	char odx[FACT_NAME_MAX];
	int psd;
	enum known k;

	if (!x || !*x)
		return AL_NO;
	if (strcasecmp(x, e->c->author) == 0)
		return AL_YES;
	if (strict)
		return AL_NO;
	/* Organizational Domains end in their names' last label: without a shared one, no DNS can align them */
	if (strcasecmp(suffix(x, 1), suffix(e->c->author, 1)) != 0)
		return AL_NO;
	if (!fd->od_known) {
		if ((k = org_domain(e, e->c->author, fd->od, &psd)) != K_OK)
			return k == K_PENDING ? AL_PENDING : AL_UNKNOWN;
		fd->od_known = true;
	}
	/* an Organizational Domain is a parent of its name: no walk can make them equal otherwise */
	if (!is_label_suffix(fd->od, x))
		return AL_NO;
	if ((k = org_domain(e, x, odx, &psd)) != K_OK)
		return k == K_PENDING ? AL_PENDING : AL_UNKNOWN;
	return strcasecmp(odx, fd->od) == 0 ? AL_YES : AL_NO;
}

/* Where evaluation got to, for the detail text. */
struct tally {
	enum align best;            /* AL_YES beats AL_PENDING beats AL_UNKNOWN beats AL_NO */
	char yes[80];               /* the identifier that aligned */
	char unknown[80];           /* one that might have */
};

static void consider(struct tally *t, enum align a, const char *what, const char *x)
{
	static const int rank[] = { [AL_NO] = 0, [AL_UNKNOWN] = 1, [AL_PENDING] = 2, [AL_YES] = 3 };

	if (a == AL_YES && !t->yes[0])
		snprintf(t->yes, sizeof t->yes, "%s %s", what, x);
	if (a == AL_UNKNOWN && !t->unknown[0])
		snprintf(t->unknown, sizeof t->unknown, "%s %s", what, x);
	if (rank[a] > rank[t->best])
		t->best = a;
}

/* apply_policy - p, sp or np, then t=y */
static enum known apply_policy(struct eval *e, const struct found *fd, struct dmarc_outcome *out)
{
	const struct dmarc_record *r = &e->c->name[fd->idx].rec;
	enum dmarc_req req = r->p;
	const char *tag = "p";

	if (fd->parent) {
		bool exists = true;

		if (r->np != DMARC_POLICY_ABSENT) {
			enum known k = author_exists(e, &exists);

			if (k != K_OK)
				return k;
		}
		if (!exists && r->np != DMARC_POLICY_ABSENT)
			req = r->np, tag = "np";
		else if (r->sp != DMARC_POLICY_ABSENT)
			req = r->sp, tag = "sp";
	}
	out->published = req;
	out->record_p = r->p;
	out->policy_tag = tag;
	out->testing = r->testing && req != DMARC_POLICY_NONE;
	if (out->testing)
		req = req == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
	out->policy = req == DMARC_POLICY_REJECT ? DMARCP_REJECT :
		      req == DMARC_POLICY_QUARANTINE ? DMARCP_QUARANTINE : DMARCP_NONE;
	return K_OK;
}

/* identifiers - every authenticated identifier, and those with a temporary result that might align */
static void identifiers(struct eval *e, struct found *fd, const struct dmarc_input *in,
			const struct dmarc_record *r, struct tally *t)
{
	if (in->spf == SPFR_PASS || in->spf == SPFR_TEMPERROR) {
		enum align a = aligned(e, fd, in->spf_domain, r->strict_spf);

		/* a temporary SPF result that would align is not a pass, only maybe one */
		if (in->spf == SPFR_TEMPERROR && a == AL_YES)
			a = AL_UNKNOWN;
		consider(t, a, "spf", in->spf_domain);
	}
	for (unsigned i = 0; in->dkim_pass && i < in->dkim_pass->count; i++)
		consider(t, aligned(e, fd, facts_set_name(in->dkim_pass, i), r->strict_dkim), "dkim",
			 facts_set_name(in->dkim_pass, i));
	if (in->dkim == DKIMR_TEMPERROR) {
		/* which signature failed is not known: any d= that would align keeps it open */
		if (!in->header_d)
			consider(t, AL_UNKNOWN, "dkim", "(signatures not seen)");
		for (size_t i = 0; in->header_d && i < in->n_header_d; i++) {
			enum align a = aligned(e, fd, in->header_d[i], r->strict_dkim);

			consider(t, a == AL_YES ? AL_UNKNOWN : a, "dkim temperror", in->header_d[i]);
		}
	}
}

/* done - fill the outcome's result and detail (cut to fit: it is for people) */
static enum dmarc_eval done(struct dmarc_outcome *out, enum dmarc_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum dmarc_eval done(struct dmarc_outcome *out, enum dmarc_result r, const char *fmt, ...)
{
	va_list ap;

	out->result = r;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof out->detail, fmt, ap);
	va_end(ap);
	return DMARC_EVAL_DONE;
}

/* record_words - "_dmarc.D: p=reject (sp) t=y adkim=s aspf=r" */
static void record_words(const struct dmarc_check *c, int idx, const struct dmarc_outcome *out, char *buf,
			 size_t len)
{
	const struct dmarc_record *r = &c->name[idx].rec;

	snprintf(buf, len, "_dmarc.%s: %s=%s%s%s adkim=%c aspf=%c%s%s", c->name[idx].domain,
		 out->policy_tag, dmarc_req_name(out->published), out->testing ? " t=y" : "",
		 r->psd == DMARC_PSD_Y ? " psd=y" : r->psd == DMARC_PSD_N ? " psd=n" : "",
		 r->strict_dkim ? 's' : 'r', r->strict_spf ? 's' : 'r', r->note[0] ? "; " : "", r->note);
}

enum dmarc_eval dmarc_check_evaluate(struct dmarc_check *c, const struct dmarc_input *in, bool final,
				     struct dmarc_outcome *out)
{
	struct eval e = { c, final, "", "" };
	struct found fd;
	struct tally t;
	char rec[FACT_DETAIL_MAX];
	enum known k;

	memset(out, 0, sizeof *out);
	out->policy = DMARCP_NONE;
	out->policy_tag = "";
	if (in->from_header != FROMH_SINGLE || !c->author[0])
		return done(out, DMARCR_PERMERROR, "no single author domain (from_header %s)",
			    facts_value_name(FID_from_header, in->from_header));
	k = discover(&e, &fd);
	if (k == K_PENDING)
		return DMARC_EVAL_PENDING;
	if (k == K_TEMPERROR)
		return done(out, DMARCR_TEMPERROR, "_dmarc.%s: %s", e.failed, e.failed_why);
	if (fd.idx < 0)
		return done(out, DMARCR_NONE, "no DMARC record for %s", c->author);
	snprintf(out->domain, sizeof out->domain, "%s", c->name[fd.idx].domain);
	if (c->name[fd.idx].state == DMARC_NAME_UNUSABLE)
		return done(out, DMARCR_PERMERROR, "_dmarc.%s: unusable record (%s)", out->domain,
			    c->name[fd.idx].rec.note);
	k = apply_policy(&e, &fd, out);
	if (k == K_PENDING)
		return DMARC_EVAL_PENDING;
	if (k == K_TEMPERROR)
		return done(out, DMARCR_TEMPERROR, "%s: %s", e.failed, e.failed_why);
	memset(&t, 0, sizeof t);
	identifiers(&e, &fd, in, &c->name[fd.idx].rec, &t);
	if (t.best == AL_PENDING)
		return DMARC_EVAL_PENDING;
	record_words(c, fd.idx, out, rec, sizeof rec);
	if (t.best == AL_YES)
		return done(out, DMARCR_PASS, "%s; aligned: %s", rec, t.yes);
	if (t.best == AL_UNKNOWN)
		return done(out, DMARCR_TEMPERROR, "%s; cannot tell: %s", rec, t.unknown);
	return done(out, DMARCR_FAIL, "%s; no aligned identifier passed", rec);
}

