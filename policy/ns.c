/*
 * ns.c - the name servers of the sender domain's zone as an asynchronous
 * check (see ns.h for what it asks and what each result means).
 *
 * The lookups in flight are a struct lookups (policy/lookups.h), tagged
 * with the name server they are for (NS_TAG_WALK for the walk's NS query)
 * and detached by ns_check_abandon(), so a late answer never touches the
 * check.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ns.h"
#include "policy/orgdomain.h"

#define NS_TAG_WALK    (-1)       /* tag of the walk's NS lookup; name servers are tagged by index */
#define NS_NAMES_SEEN  64         /* NS records read per answer (more are only counted) */
#define NS_ADDRS_SEEN  64         /* addresses read per A/AAAA answer */

/* say - printf into a detail buffer */
static void say(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, FACT_DETAIL_MAX, fmt, ap);
	va_end(ap);
}

/* walk_end - the walk decided the NS set; without an address phase the check is done */
static void walk_end(struct ns_check *c, enum ns_result r)
{
	c->result = r;
	c->walk_done = true;
	if (r != NSR_FOUND || !c->opt.addrs) {
		c->addr_result = r == NSR_FOUND ? NSR_SKIPPED : r;
		if (r == NSR_FOUND)
			say(c->addr_detail, "addresses not looked up");
		else
			memcpy(c->addr_detail, c->detail, sizeof c->addr_detail);
		c->done = true;
	}
}

/* fail_walk - a temporary failure on the walk decides both results */
static void fail_walk(struct ns_check *c, enum dns_status st, const char *name)
{
	say(c->detail, "NS lookup for %.200s failed: %s", name, dns_status_name(st));
	walk_end(c, NSR_TEMPERROR);
}

/* lookup - start one query for the check; false when it could not be started */
static bool lookup(struct ns_check *c, const char *name, int type, int host)
{
	return lookups_start(&c->q, c->res, name, type, host);
}

/* ask_step - the NS query of walk step c->step */
static void ask_step(struct ns_check *c)
{
	if (!lookup(c, c->walk[c->step], ns_t_ns, NS_TAG_WALK)) {
		say(c->detail, "cannot start NS lookup for %.200s", c->walk[c->step]);
		walk_end(c, NSR_TEMPERROR);
	}
}

/* label_count - labels of a plain host name (no escapes: address_domain() checked it) */
static unsigned label_count(const char *name)
{
	unsigned n = *name ? 1 : 0;

	for (; *name; name++)
		n += *name == '.';
	return n;
}

/*
 * plan_walk - the names to ask: the domain, then each parent down to the
 * registrable domain (or the last two labels without a PSL); at most
 * NS_WALK_MAX, the last of them the registrable domain.
 */
static void plan_walk(struct ns_check *c)
{
	char org[FACT_NAME_MAX];
	const char *name[128];
	unsigned n = 0, stop;
	size_t dl = strlen(c->domain), ol;
	const char *p;

	if (!c->opt.od || !orgdomain_get(c->opt.od, c->domain, org, sizeof org)) {
		/* the last two labels, or the name itself when it has fewer */
		const char *last = strrchr(c->domain, '.'), *from = c->domain;

		for (p = c->domain; last && p < last; p++)
			if (*p == '.')
				from = p + 1;
		snprintf(org, sizeof org, "%s", from);
	}
	ol = strlen(org);
	/* org must be the domain or a suffix of it on a label boundary */
	if (ol > dl || strcmp(c->domain + dl - ol, org) != 0 ||
	    (ol < dl && c->domain[dl - ol - 1] != '.'))
		snprintf(org, sizeof org, "%s", c->domain);
	stop = label_count(org);
	p = c->domain;
	name[n++] = p;
	while (n < sizeof name / sizeof name[0] && label_count(p) > stop && strchr(p, '.')) {
		p = strchr(p, '.') + 1;
		name[n++] = p;
	}
	if (n > NS_WALK_MAX) {
		name[NS_WALK_MAX - 1] = name[n - 1];
		n = NS_WALK_MAX;
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(c->walk[i], sizeof c->walk[i], "%s", name[i]);
	c->nwalk = n;
}

/* unusable_name - an NS target that is no host name: the root, an IP literal */
static bool unusable_name(const char *host)
{
	unsigned char bin[16];
	size_t n = strlen(host);

	if (n == 0)
		return true;
	if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1)
		return true;
	return host[0] == '[' || strchr(host, ':') != NULL;
}

/* add_host - a usable, distinct NS name; false when the set is already full */
static bool add_host(struct ns_check *c, const char *host)
{
	for (unsigned i = 0; i < c->nhosts; i++)
		if (strcmp(c->host[i], host) == 0)
			return true;
	if (c->nhosts == FACT_SET_NAMES)
		return false;
	snprintf(c->host[c->nhosts++], DNS_HOST_BUF, "%s", host);
	return true;
}

/* addr_end - every address lookup is back: judge the set */
static void addr_end(struct ns_check *c, unsigned total_names)
{
	c->done = true;
	if (c->addr_temp != DNS_OK) {
		c->addr_result = NSR_TEMPERROR;
		say(c->addr_detail, "address lookup for %.120s failed: %s", c->addr_temp_host,
		    dns_status_name(c->addr_temp));
	} else if (total_names > NS_HOSTS_MAX) {
		c->addr_result = NSR_TEMPERROR;
		say(c->addr_detail, "%u name servers, only the first %d resolved: ns_addr is incomplete",
		    total_names, NS_HOSTS_MAX);
	} else if (c->addrs_dropped) {
		c->addr_result = NSR_TEMPERROR;
		say(c->addr_detail, "more than %d name server addresses: ns_addr is incomplete",
		    FACT_SET_ADDRS);
	} else if (c->addrs.count == 0) {
		c->addr_result = NSR_NONE;
		say(c->addr_detail, "no name server of %.120s has an address", c->walk[c->step]);
	} else {
		c->addr_result = NSR_FOUND;
		say(c->addr_detail, "%u addresses of %u name servers of %.120s", c->addrs.count, c->nhosts,
		    c->walk[c->step]);
	}
}

/* start_addrs - A and AAAA of the first NS_HOSTS_MAX names, all at once */
static void start_addrs(struct ns_check *c)
{
	unsigned n = c->nhosts < NS_HOSTS_MAX ? c->nhosts : NS_HOSTS_MAX;

	for (unsigned i = 0; i < n; i++) {
		if (!lookup(c, c->host[i], ns_t_a, (int)i) || !lookup(c, c->host[i], ns_t_aaaa, (int)i)) {
			if (c->addr_temp == DNS_OK) {
				c->addr_temp = DNS_ERROR;
				snprintf(c->addr_temp_host, sizeof c->addr_temp_host, "%s", c->host[i]);
			}
		}
	}
	if (c->q.outstanding == 0)
		addr_end(c, c->nhosts);
}

/* on_nodata - no NS at this step: ask the parent, or end the walk with none */
static void on_nodata(struct ns_check *c)
{
	if (c->step + 1 < c->nwalk) {
		c->step++;
		ask_step(c);
		return;
	}
	say(c->detail, "no NS records for %.100s or its parents up to %.100s", c->domain, c->walk[c->step]);
	walk_end(c, NSR_NONE);
}

/* on_ns_records - an NS answer: the set is here (found, none or too many) */
static void on_ns_records(struct ns_check *c, const unsigned char *ans, int len)
{
	const char *zone = c->walk[c->step];
	char (*names)[DNS_HOST_BUF];
	size_t total = 0;
	bool full = false;
	int n;

	names = calloc(NS_NAMES_SEEN, sizeof *names);
	if (!names) {
		say(c->detail, "out of memory reading NS of %.200s", zone);
		walk_end(c, NSR_TEMPERROR);
		return;
	}
	n = dns_parse_ns(ans, len, names, NS_NAMES_SEEN, &total);
	if (n < 0) {
		free(names);
		say(c->detail, "malformed NS answer for %.200s", zone);
		walk_end(c, NSR_TEMPERROR);
		return;
	}
	if (total == 0) {              /* no NS in the answer section: as NODATA */
		free(names);
		on_nodata(c);
		return;
	}
	c->unusable = (unsigned)(total - (size_t)n);    /* too long to keep */
	for (int i = 0; i < n && !full; i++) {
		if (unusable_name(names[i]))
			c->unusable++;
		else
			full = !add_host(c, names[i]);
	}
	free(names);
	if (full || total > NS_NAMES_SEEN) {
		say(c->detail, "%.200s has %zu NS records, more than %d can be judged", zone, total,
		    FACT_SET_NAMES);
		c->nhosts = 0;
		walk_end(c, NSR_TEMPERROR);
		return;
	}
	if (c->nhosts == 0) {
		say(c->detail, "%.200s has %zu NS records, none a usable host name", zone, total);
		walk_end(c, NSR_NONE);
		return;
	}
	if (c->unusable)
		say(c->detail, "%u name server%s at %.150s (%u unusable NS names ignored)", c->nhosts,
		    c->nhosts == 1 ? "" : "s", zone, c->unusable);
	else
		say(c->detail, "%u name server%s at %.200s", c->nhosts, c->nhosts == 1 ? "" : "s", zone);
	walk_end(c, NSR_FOUND);
	if (!c->done)
		start_addrs(c);
}

/* on_walk - the answer to the NS query of the current step */
static void on_walk(struct ns_check *c, enum dns_status st, const unsigned char *ans, int len)
{
	const char *name = c->walk[c->step];

	switch (st) {
	case DNS_OK:
		on_ns_records(c, ans, len);
		break;
	case DNS_NODATA:
		on_nodata(c);
		break;
	case DNS_NXDOMAIN:
		if (c->step == 0) {
			say(c->detail, "%.200s does not exist (NXDOMAIN)", name);
			walk_end(c, NSR_NXDOMAIN);
		} else {
			/* a name exists under a parent that does not: not an answer to trust */
			say(c->detail, "inconsistent DNS: %.100s exists but its parent %.100s does not",
			    c->domain, name);
			walk_end(c, NSR_TEMPERROR);
		}
		break;
	case DNS_BADNAME:
		say(c->detail, "%.200s cannot be looked up", name);
		walk_end(c, NSR_NONE);
		break;
	default:
		fail_walk(c, st, name);
		break;
	}
}

/* add_addr - a distinct address into the set; remembers when one did not fit */
static void add_addr(struct ns_check *c, const struct dns_addr *a)
{
	if (!facts_set_add_addr(&c->addrs, a->family, a->addr))
		c->addrs_dropped = true;
}

/* on_addrs - an A or AAAA answer for name server i */
static void on_addrs(struct ns_check *c, unsigned i, enum dns_status st, const unsigned char *ans, int len)
{
	struct dns_addr a[NS_ADDRS_SEEN];
	size_t total = 0;
	int n;

	if (st == DNS_OK) {
		n = dns_parse_addrs(ans, len, a, NS_ADDRS_SEEN, &total);
		if (n < 0) {
			st = DNS_ERROR;         /* malformed: a hostile answer earns nothing */
		} else {
			for (int k = 0; k < n; k++)
				add_addr(c, &a[k]);
			if (total > (size_t)n)
				c->addrs_dropped = true;
		}
	}
	if (dns_status_temporary(st) && c->addr_temp == DNS_OK) {
		c->addr_temp = st;
		snprintf(c->addr_temp_host, sizeof c->addr_temp_host, "%s", c->host[i]);
	}
	/* NXDOMAIN, NODATA, BADNAME: this name server has no such address, permanently */
}

/* ns_answer - every answer of a check comes here (lookups_answer_fn) */
static void ns_answer(void *owner, int host, int type, enum dns_status st,
		      const unsigned char *ans, int len)
{
	struct ns_check *c = owner;

	(void)type;
	if (c->done)
		return;
	if (host == NS_TAG_WALK) {
		on_walk(c, st, ans, len);
		return;
	}
	on_addrs(c, (unsigned)host, st, ans, len);
	if (c->q.outstanding == 0)
		addr_end(c, c->nhosts);
}

/* skip - no DNS for this sender */
static void skip(struct ns_check *c, const char *fmt, const char *what)
{
	c->result = c->addr_result = NSR_SKIPPED;
	say(c->detail, fmt, what);
	memcpy(c->addr_detail, c->detail, sizeof c->addr_detail);
	c->walk_done = c->done = true;
}

/* ns_check_start - validate the domain, plan the walk, ask its first name */
void ns_check_start(struct ns_check *c, struct resolver *res, const char *domain,
		    const struct ns_options *opt)
{
	char reason[ADDR_REASON_MAX];

	memset(c, 0, sizeof(*c));
	c->res = res;
	lookups_init(&c->q, c, ns_answer);
	if (opt)
		c->opt = *opt;
	if (address_domain(domain, c->domain, sizeof(c->domain), reason, sizeof(reason)) < 0) {
		skip(c, "invalid domain: %.200s", reason);
		return;
	}
	plan_walk(c);
	ask_step(c);
}

/* ns_check_for_sender - null, literal and invalid senders are skipped without DNS */
void ns_check_for_sender(struct ns_check *c, struct resolver *res,
			 const struct address *sender, const struct ns_options *opt)
{
	switch (sender->cls) {
	case ADDR_NORMAL:
		ns_check_start(c, res, sender->domain, opt);
		return;
	case ADDR_NULL:
		memset(c, 0, sizeof(*c));
		skip(c, "%s", "null sender");
		return;
	case ADDR_LITERAL:
		memset(c, 0, sizeof(*c));
		skip(c, "address literal %.200s: no name servers to look up", sender->domain);
		return;
	default:
		memset(c, 0, sizeof(*c));
		skip(c, "invalid sender address: %.200s", sender->reason[0] ? sender->reason : "unparsable");
		return;
	}
}

/* ns_check_done - resolver_wait predicate */
bool ns_check_done(void *arg)
{
	return ((const struct ns_check *)arg)->done;
}

/* ns_check_hosts - the usable NS names found so far */
void ns_check_hosts(const struct ns_check *c, struct fact_domain_set *hosts)
{
	memset(hosts, 0, sizeof *hosts);
	for (unsigned i = 0; i < c->nhosts; i++)
		facts_set_add_name(hosts, c->host[i]);
}

/* ns_check_addrs - the distinct addresses found so far */
void ns_check_addrs(const struct ns_check *c, struct fact_address_set *addrs)
{
	*addrs = c->addrs;
	addrs->partial = false;
	facts_addrs_sort(addrs);
}

/* ns_check_facts - ns, ns_detail, ns_host */
void ns_check_facts(const struct ns_check *c, struct facts *f)
{
	if (!c->walk_done)
		return;
	f->ns = c->result;
	memcpy(f->ns_detail, c->detail, sizeof f->ns_detail);
	ns_check_hosts(c, &f->ns_host);
	f->known |= FBIT(ns) | FBIT(ns_detail) | FBIT(ns_host);
}

/* ns_check_addr_facts - ns_addr, ns_addr_result */
void ns_check_addr_facts(const struct ns_check *c, struct facts *f)
{
	if (!c->done)
		return;
	f->ns_addr_result = c->addr_result;
	ns_check_addrs(c, &f->ns_addr);
	f->known |= FBIT(ns_addr) | FBIT(ns_addr_result);
}

/* ns_check_abandon - detach lookups in flight so the check can be freed */
void ns_check_abandon(struct ns_check *c)
{
	lookups_abandon(&c->q);
	if (!c->walk_done) {
		say(c->detail, "NS check for %.200s abandoned before an answer", c->domain);
		c->result = NSR_TEMPERROR;
		c->walk_done = true;
	}
	if (!c->done) {
		c->addr_result = NSR_TEMPERROR;
		say(c->addr_detail, "address lookups for the name servers of %.150s abandoned", c->domain);
		c->done = true;
	}
}
