/*
 * mx.c - the MX fact as an asynchronous check (see mx.h for the rules).
 *
 * The lookups in flight are a struct lookups (policy/lookups.h): tagged
 * with the target they are for (MX_TAG_MX for the MX itself), detached by
 * mx_check_abandon() so a late answer never touches the check.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/mx.h"
#include "policy/netlist.h"

#define MX_TAG_MX      (-1)       /* tag of the MX lookup itself; targets are tagged by index */
#define MX_ADDRS_SEEN  64         /* addresses looked at per answer */

/* finish - record the verdict; later answers are ignored (but for their addresses, with all_addresses) */
static void finish(struct mx_check *c, enum mx_result res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finish(struct mx_check *c, enum mx_result res, const char *fmt, ...)
{
	va_list ap;

	c->result = res;
	c->decided = true;
	c->done = !c->opt.all_addresses || c->q.outstanding == 0;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	if (c->null_ignored && res != MX_VALID) {
		size_t n = strlen(c->detail);
		snprintf(c->detail + n, sizeof(c->detail) - n, " (null MX among other MX records ignored)");
	}
}

/* lookup - start one query for the check; false when it could not be started */
static bool lookup(struct mx_check *c, const char *name, int type, int target)
{
	return lookups_start(&c->q, c->res, name, type, target);
}

/* lookup_addrs - A and AAAA of target i; a lookup that cannot start is a temporary failure */
static void lookup_addrs(struct mx_check *c, unsigned i)
{
	struct mx_target *tg = &c->target[i];

	if (!lookup(c, tg->host, ns_t_a, (int)i))
		tg->temp = DNS_ERROR;
	if (!lookup(c, tg->host, ns_t_aaaa, (int)i))
		tg->temp = DNS_ERROR;
}

/* unusable_host - an exchange that needs no lookup to be refused (RFC 5321 §5.1) */
static const char *unusable_host(const char *host)
{
	unsigned char bin[16];
	size_t n = strlen(host);
	char inner[DNS_HOST_BUF];

	if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1)
		return "is an IP address, not a host name";
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(inner, host + 1, n - 2);
		inner[n - 2] = '\0';
		if (inet_pton(AF_INET, inner, bin) == 1 || strncasecmp(inner, "ipv6:", 5) == 0)
			return "is an IP address, not a host name";
	}
	if (strcasecmp(host, "localhost") == 0 ||
	    (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0))
		return "is localhost";
	return NULL;
}

/* alloc_targets - room for n exchanges (n >= 1); false, with a temperror, when out of memory */
static bool alloc_targets(struct mx_check *c, unsigned n)
{
	c->target = calloc(n, sizeof *c->target);
	if (!c->target) {
		finish(c, MX_TEMPERROR, "out of memory judging the MX of %s", c->domain);
		return false;
	}
	c->cap = n;
	return true;
}

/* add_target - append a distinct exchange; false when it was already there or there is no room */
static bool add_target(struct mx_check *c, const struct dns_mx *mx)
{
	for (unsigned i = 0; i < c->ntargets; i++)
		if (strcmp(c->target[i].host, mx->host) == 0)
			return false;
	if (c->ntargets == c->cap)
		return false;
	struct mx_target *tg = &c->target[c->ntargets++];
	memcpy(tg->host, mx->host, sizeof(tg->host));
	tg->pref = mx->pref;
	tg->unusable = unusable_host(mx->host);
	return true;
}

/*
 * appended_origin - is host the domain's name appended to a name that
 * already ends in it ("mail.example.com.example.com": a zone file entry
 * without its trailing dot)? Returns the length of the intended name, 0
 * when not.
 */
static size_t appended_origin(const char *domain, const char *host)
{
	size_t d = strlen(domain), h = strlen(host), rest;

	if (d == 0 || h < 2 * d + 1 || host[h - d - 1] != '.' || strcasecmp(host + h - d, domain) != 0)
		return 0;
	rest = h - d - 1;            /* host without ".domain" */
	if (rest == d || (rest > d && host[rest - d - 1] == '.'))
		return strncasecmp(host + rest - d, domain, d) == 0 ? rest : 0;
	return 0;
}

/* alias_note - append " (a CNAME for X; RFC 2181 10.3: an MX names the host itself)" when tg is an alias */
static void alias_note(const struct mx_target *tg, char *buf, size_t len)
{
	size_t n = strlen(buf);

	if (tg->alias_of[0] && n < len)
		snprintf(buf + n, len - n, " (a CNAME for %.80s; RFC 2181 10.3: an MX names the host itself)",
			 tg->alias_of);
}

/* target_why - why target tg is unusable, with the misconfiguration named when it is one */
static void target_why(const struct mx_check *c, const struct mx_target *tg, char *why, size_t len)
{
	size_t intended = appended_origin(c->domain, tg->host), n;

	if (tg->unusable)
		snprintf(why, len, "%s", tg->unusable);
	else if (tg->bogus_addr[0])
		snprintf(why, len, "resolves only to bogus address %s", tg->bogus_addr);
	else
		snprintf(why, len, "has no address records");
	n = strlen(why);
	if (intended && n < len)
		snprintf(why + n, len - n, " (the zone's name appended to %.*s: a missing trailing dot?)",
			 intended > 100 ? 100 : (int)intended, tg->host);
	alias_note(tg, why, len);
}

/* known_bad - target i's lookups are all back (or it needed none) and it has no usable address */
static bool known_bad(const struct mx_check *c, unsigned i)
{
	const struct mx_target *tg = &c->target[i];

	return tg->unusable || (tg->answered == 2 && tg->temp == DNS_OK);
}

/* finalize - every lookup is back and nothing usable was found */
static void finalize(struct mx_check *c)
{
	const struct mx_target *first = NULL;

	for (unsigned i = 0; i < c->ntargets; i++)
		if (c->target[i].temp != DNS_OK) {
			finish(c, MX_TEMPERROR, "address lookup for %s failed: %s",
			       c->target[i].host, dns_status_name(c->target[i].temp));
			return;
		}
	if (c->implicit) {
		if (c->target[0].bogus_addr[0])
			finish(c, MX_BOGUS, "no MX; %s resolves only to bogus address %s",
			       c->domain, c->target[0].bogus_addr);
		else
			finish(c, MX_NONE, "%s has no MX and no address records", c->domain);
		return;
	}
	if (c->ntargets == 0) {
		finish(c, MX_BOGUS, "no usable MX host names for %s", c->domain);
		return;
	}
	first = &c->target[0];
	char why[FACT_DETAIL_MAX];
	target_why(c, first, why, sizeof why);
	if (c->ntargets == 1)
		finish(c, MX_BOGUS, "%.120s %s", first->host, why);
	else
		finish(c, MX_BOGUS, "%.120s %s (and %u more unusable MX%s)", first->host, why,
		       c->ntargets - 1,
		       c->mx_total > c->ntargets ? ", not all checked" : "");
}

/* keep_addr - add a to the check's address set once; a set that is full becomes partial */
static void keep_addr(struct mx_check *c, const struct dns_addr *a)
{
	facts_set_add_addr(&c->addrs, a->family, a->addr);
}

/* on_addrs - an A or AAAA answer for target i: keep its addresses; the first usable one decides */
static void on_addrs(struct mx_check *c, unsigned i, int type, enum dns_status st,
		     const unsigned char *ans, int len)
{
	struct mx_target *tg = &c->target[i];
	struct dns_addr a[MX_ADDRS_SEEN];
	size_t total = 0;
	char buf[48], canon[DNS_HOST_BUF];
	int n;

	tg->answered++;
	if (st != DNS_OK) {
		/* NXDOMAIN, NODATA, BADNAME: this lookup found no address, permanently */
		if (dns_status_temporary(st)) {
			tg->temp = st;
			c->addrs.partial = true;
		}
		return;
	}
	n = dns_parse_addrs(ans, len, a, MX_ADDRS_SEEN, &total);
	if (n < 0) {
		tg->temp = DNS_ERROR;
		c->addrs.partial = true;
		return;
	}
	/* answered under another name: the exchange is an alias (here, or followed by the resolver) */
	if (!c->implicit && !tg->alias_of[0] &&
	    dns_parse_canonical(ans, len, type, canon, sizeof(canon)) == 0 && strcasecmp(canon, tg->host) != 0)
		memcpy(tg->alias_of, canon, sizeof(tg->alias_of));
	if (total > (size_t)n)
		c->addrs.partial = true;
	for (int k = 0; k < n; k++) {
		keep_addr(c, &a[k]);
		dns_addr_format(&a[k], buf, sizeof(buf));
		if (tg->naddr < MX_TARGET_ADDRS)
			memcpy(tg->addr[tg->naddr++], buf, sizeof(tg->addr[0]));
		else
			tg->more++;
		if (c->decided)
			continue;
		if (!c->opt.bogus || !netlist_contains_raw(c->opt.bogus, a[k].family, a[k].addr)) {
			char why[FACT_DETAIL_MAX];

			if (c->implicit) {
				finish(c, MX_IMPLICIT, "no MX; %s has address %s", c->domain, buf);
			} else if (i > 0 && known_bad(c, 0)) {
				target_why(c, &c->target[0], why, sizeof why);
				finish(c, MX_VALID, "%.80s has address %s; the preferred %.80s %s", tg->host, buf,
				       c->target[0].host, why);
			} else {
				finish(c, MX_VALID, "%.120s has address %s", tg->host, buf);
				alias_note(tg, c->detail, sizeof(c->detail));
			}
		} else if (!tg->bogus_addr[0]) {
			memcpy(tg->bogus_addr, buf, sizeof(tg->bogus_addr));
		}
	}
}

/* on_mx_records - an MX answer with records: null MX, or resolve the exchanges */
static void on_mx_records(struct mx_check *c, const unsigned char *ans, int len)
{
	unsigned max = c->opt.max_targets;
	struct dns_mx *mx;
	size_t total = 0;
	int n, nnull = 0;

	/* One extra slot so that a stray "." does not cost a real exchange its place. */
	mx = calloc(max + 1, sizeof(*mx));
	if (!mx) {
		finish(c, MX_TEMPERROR, "out of memory reading MX of %s", c->domain);
		return;
	}
	n = dns_parse_mx(ans, len, mx, max + 1, &total);
	if (n < 0) {
		free(mx);
		finish(c, MX_TEMPERROR, "malformed MX answer for %s", c->domain);
		return;
	}
	for (int i = 0; i < n; i++)
		if (mx[i].host[0] == '\0')
			nnull++;
	c->mx_total = (unsigned)total;
	if (nnull > 0 && (size_t)nnull == total) {
		free(mx);
		c->mx_answered = true;
		finish(c, MX_NULLMX, "%s has a null MX (RFC 7505)", c->domain);
		return;
	}
	c->null_ignored = nnull > 0;
	/* at least 1: every exchange may have been a name too long to keep */
	unsigned want = (unsigned)(n - nnull) < max ? (unsigned)(n - nnull) : max;
	if (!alloc_targets(c, want ? want : 1)) {
		free(mx);
		return;
	}
	for (int i = 0; i < n && c->ntargets < max; i++)
		if (mx[i].host[0] != '\0')
			add_target(c, &mx[i]);
	free(mx);
	c->mx_answered = true;
	if (c->opt.hosts_only) {
		c->decided = c->done = true;    /* the exchanges are what was asked for */
		return;
	}
	for (unsigned i = 0; i < c->ntargets; i++)
		if (!c->target[i].unusable)
			lookup_addrs(c, i);
	if (c->q.outstanding == 0)
		finalize(c);
}

/* on_mx - the answer to the MX lookup */
static void on_mx(struct mx_check *c, enum dns_status st, const unsigned char *ans, int len)
{
	switch (st) {
	case DNS_OK:
		on_mx_records(c, ans, len);
		break;
	case DNS_NXDOMAIN:
		c->mx_answered = true;
		finish(c, MX_NXDOMAIN, "%s does not exist (NXDOMAIN)", c->domain);
		break;
	case DNS_NODATA:
		c->mx_answered = true;
		c->implicit = true;
		if (!alloc_targets(c, 1))
			break;
		c->ntargets = 1;
		memcpy(c->target[0].host, c->domain, sizeof(c->domain));
		if (c->opt.hosts_only) {
			c->decided = c->done = true;
			break;
		}
		lookup_addrs(c, 0);
		if (c->q.outstanding == 0)
			finalize(c);
		break;
	case DNS_BADNAME:
		c->mx_answered = true;
		finish(c, MX_INVALID, "%s cannot be looked up", c->domain);
		break;
	default:
		finish(c, MX_TEMPERROR, "MX lookup for %s failed: %s", c->domain, dns_status_name(st));
		break;
	}
}

/* mx_answer - every answer of a check comes here (lookups_answer_fn) */
static void mx_answer(void *owner, int target, int type, enum dns_status st,
		      const unsigned char *ans, int len)
{
	struct mx_check *c = owner;

	if (c->done)
		return;
	if (target == MX_TAG_MX) {
		on_mx(c, st, ans, len);
		return;
	}
	on_addrs(c, (unsigned)target, type, st, ans, len);
	if (c->q.outstanding > 0)
		return;
	if (!c->decided)
		finalize(c);
	c->done = true;
}

/* mx_check_start - validate the domain, then ask for its MX */
void mx_check_start(struct mx_check *c, struct resolver *res, const char *domain,
		    const struct mx_options *opt)
{
	char reason[ADDR_REASON_MAX];

	memset(c, 0, sizeof(*c));
	c->res = res;
	lookups_init(&c->q, c, mx_answer);
	if (opt)
		c->opt = *opt;
	if (c->opt.max_targets == 0)
		c->opt.max_targets = MX_TARGETS_DEFAULT;
	if (c->opt.max_targets > MX_TARGETS_MAX)
		c->opt.max_targets = MX_TARGETS_MAX;
	if (address_domain(domain, c->domain, sizeof(c->domain), reason, sizeof(reason)) < 0) {
		finish(c, MX_INVALID, "invalid domain: %s", reason);
		return;
	}
	if (!lookup(c, c->domain, ns_t_mx, MX_TAG_MX))
		finish(c, MX_TEMPERROR, "cannot start MX lookup for %s", c->domain);
}

/* mx_check_for_sender - null, literal and invalid senders decide without DNS */
void mx_check_for_sender(struct mx_check *c, struct resolver *res,
			 const struct address *sender, const struct mx_options *opt)
{
	switch (sender->cls) {
	case ADDR_NORMAL:
		mx_check_start(c, res, sender->domain, opt);
		return;
	case ADDR_NULL:
		memset(c, 0, sizeof(*c));
		finish(c, MX_SKIPPED, "null sender");
		return;
	case ADDR_LITERAL:
		memset(c, 0, sizeof(*c));
		finish(c, MX_LITERAL, "address literal %s", sender->domain);
		return;
	default:
		memset(c, 0, sizeof(*c));
		finish(c, MX_INVALID, "invalid sender address: %s",
		       sender->reason[0] ? sender->reason : "unparsable");
		return;
	}
}

/* mx_check_done - resolver_wait predicate */
bool mx_check_done(void *arg)
{
	return ((const struct mx_check *)arg)->done;
}

/* mx_check_facts - copy the verdict into the message facts */
void mx_check_facts(const struct mx_check *c, struct facts *f)
{
	if (!c->done)
		return;
	f->mx = c->result;
	memcpy(f->mx_detail, c->detail, sizeof(f->mx_detail));
	f->known |= FBIT(mx) | FBIT(mx_detail);
}

/* mx_check_hosts - the exchanges judged so far (the domain itself for an implicit MX) */
void mx_check_hosts(const struct mx_check *c, struct fact_domain_set *hosts)
{
	memset(hosts, 0, sizeof *hosts);
	for (unsigned i = 0; i < c->ntargets; i++)
		facts_set_add_name(hosts, c->target[i].host);
	/* no MX answer (a failure, the deadline): exchanges may be missing; a check that needed no DNS has none */
	hosts->partial = !c->mx_answered && c->result != MX_SKIPPED && c->result != MX_LITERAL &&
			 c->result != MX_INVALID;
}

/* mx_check_explain - see mx.h */
void mx_check_explain(const struct mx_check *c, char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (c->result == MX_NULLMX)
		n += (size_t)snprintf(buf, len, "mx_record: 0 .\n");
	for (unsigned i = 0; i < c->ntargets && n < len; i++) {
		const struct mx_target *tg = &c->target[i];

		if (c->implicit)
			n += (size_t)snprintf(buf + n, len - n, "mx_record: implicit %s", tg->host);
		else
			n += (size_t)snprintf(buf + n, len - n, "mx_record: %u %s", tg->pref, tg->host);
		for (unsigned k = 0; k < tg->naddr && n < len; k++)
			n += (size_t)snprintf(buf + n, len - n, " %s", tg->addr[k]);
		if (n >= len)
			break;
		if (tg->more)
			n += (size_t)snprintf(buf + n, len - n, " (and %u more)", tg->more);
		else if (tg->unusable)
			n += (size_t)snprintf(buf + n, len - n, " (%s)", tg->unusable);
		else if (tg->temp != DNS_OK)
			n += (size_t)snprintf(buf + n, len - n, " (lookup failed: %s)", dns_status_name(tg->temp));
		else if (tg->answered < 2)
			n += (size_t)snprintf(buf + n, len - n, " (no answer yet)");
		else if (tg->naddr == 0)
			n += (size_t)snprintf(buf + n, len - n, " (no address records)");
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "\n");
	}
}

/* mx_check_addrs - the addresses seen; partial until every lookup is back (and for good without all_addresses) */
void mx_check_addrs(const struct mx_check *c, struct fact_address_set *addrs)
{
	*addrs = c->addrs;
	facts_addrs_sort(addrs);
	if (c->q.outstanding > 0 || !c->decided || !c->opt.all_addresses)
		addrs->partial = true;
}

/* mx_check_release - see mx.h */
void mx_check_release(struct mx_check *c)
{
	mx_check_abandon(c);
	free(c->target);
	c->target = NULL;
	c->ntargets = c->cap = 0;
}

/* mx_check_abandon - detach lookups in flight so the check can be freed */
void mx_check_abandon(struct mx_check *c)
{
	if (c->q.outstanding > 0)
		c->addrs.partial = true;
	lookups_abandon(&c->q);
	if (!c->decided)
		finish(c, MX_TEMPERROR, "MX check for %s abandoned before an answer", c->domain);
	c->done = true;
}
