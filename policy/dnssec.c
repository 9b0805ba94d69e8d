/*
 * dnssec.c - the mx_dnssec fact as an asynchronous check (see dnssec.h).
 *
 * The lookups in flight are a struct lookups (policy/lookups.h), tagged
 * with the target they are for (DNSSEC_TAG_MX for the MX itself) and
 * detached by dnssec_check_abandon(), so a late answer never touches the
 * check.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/dnssec.h"

#define DNSSEC_TAG_MX (-1)        /* tag of the MX lookup itself; targets are tagged by index */

/* finish - record the verdict; later answers are ignored */
static void finish(struct dnssec_check *c, enum mx_dnssec_result res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finish(struct dnssec_check *c, enum mx_dnssec_result res, const char *fmt, ...)
{
	va_list ap;

	c->result = res;
	c->done = true;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof c->detail, fmt, ap);
	va_end(ap);
}

/* loopback_server - is one canonical "ip:port" / "[v6]:port" entry a loopback address? */
static bool loopback_server(const char *s, size_t len, char *host, size_t hostlen)
{
	unsigned char raw[16];
	const char *h = s, *end;
	size_t n;

	if (len > 0 && s[0] == '[') {
		h = s + 1;
		end = memchr(h, ']', len - 1);
	} else {
		end = memchr(s, ':', len);
		if (end && memchr(end + 1, ':', len - (size_t)(end + 1 - s)))
			end = s + len;     /* a bare IPv6 address without a port */
	}
	n = end ? (size_t)(end - h) : len - (size_t)(h - s);
	snprintf(host, hostlen, "%.*s", (int)n, h);
	if (inet_pton(AF_INET, host, raw) == 1)
		return raw[0] == 127;
	if (inet_pton(AF_INET6, host, raw) != 1)
		return false;
	static const unsigned char v6_loop[16] = { [15] = 1 };
	static const unsigned char v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(raw, v6_loop, 16) == 0 || (memcmp(raw, v4_mapped, 12) == 0 && raw[12] == 127);
}

/* dnssec_ad_trusted - AD counts from loopback servers only, unless the configuration says otherwise */
bool dnssec_ad_trusted(const char *servers, bool trust_ad, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *p = servers;

	if (whylen > 0)
		why[0] = '\0';
	if (trust_ad)
		return true;
	if (!servers || !*servers) {
		snprintf(why, whylen, "dns_servers is not set (the system resolver is not checked); "
			 "set dns_servers to a loopback validating resolver, or dns_trust_ad = yes");
		return false;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len > 0 && !loopback_server(p, len, host, sizeof host)) {
			snprintf(why, whylen, "resolver %s is not loopback; set dns_trust_ad = yes "
				 "if it validates and the path to it is trusted", host);
			return false;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}

/* lookup - start one query for the check; false when it could not be started */
static bool lookup(struct dnssec_check *c, const char *name, int type, int target)
{
	return lookups_start(&c->q, c->res, name, type, target);
}

/* note_temp - remember the first temporary failure */
static void note_temp(struct dnssec_check *c, enum dns_status st, const char *what, const char *name)
{
	if (c->temp != DNS_OK)
		return;
	c->temp = st;
	snprintf(c->temp_what, sizeof c->temp_what, "%s %.*s", what, DNS_HOST_BUF - 1, name);
}

/* lookup_addrs - A and AAAA of target i; one that cannot start counts as a failed lookup */
static void lookup_addrs(struct dnssec_check *c, unsigned i)
{
	if (!lookup(c, c->target[i], ns_t_a, (int)i))
		note_temp(c, DNS_ERROR, "A", c->target[i]);
	if (!lookup(c, c->target[i], ns_t_aaaa, (int)i))
		note_temp(c, DNS_ERROR, "AAAA", c->target[i]);
}

/* looked_up - would the MX check look this exchange up? (not an IP address, not localhost) */
static bool looked_up(const char *host)
{
	unsigned char bin[16];
	size_t n = strlen(host);

	if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1 ||
	    (n > 0 && host[0] == '['))
		return false;
	return !(strcasecmp(host, "localhost") == 0 ||
		 (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0));
}

/* conclude - every lookup is back and none lacked AD */
static void conclude(struct dnssec_check *c)
{
	if (c->temp != DNS_OK) {
		finish(c, MXD_UNVERIFIED, "%.200s lookup failed: %s", c->temp_what, dns_status_name(c->temp));
		return;
	}
	if (c->implicit)
		finish(c, MXD_SECURE, "no MX; the MX denial and the address answers of %.120s were authenticated",
		       c->domain);
	else if (c->ntargets == 0)
		finish(c, MXD_SECURE, "the MX answer for %.120s was authenticated (no exchange to look up)",
		       c->domain);
	else
		finish(c, MXD_SECURE, "the MX answer for %.120s and the address answers of %u exchange%s "
		       "were authenticated", c->domain, c->ntargets, c->ntargets == 1 ? "" : "s");
}

/* unauthenticated - an answer without AD decides insecure at once */
static void unauthenticated(struct dnssec_check *c, const char *what, const char *name)
{
	finish(c, MXD_INSECURE, "the %s answer for %.120s was not authenticated (no AD)", what, name);
}

/* on_mx_records - an authenticated MX answer with records: null MX, or the exchanges' addresses */
static void on_mx_records(struct dnssec_check *c, const unsigned char *ans, int len)
{
	struct dns_mx *mx;
	size_t total = 0;
	int n, nnull = 0;

	mx = calloc(c->max_targets + 1, sizeof *mx);   /* +1: a stray "." does not cost an exchange */
	if (!mx) {
		finish(c, MXD_UNVERIFIED, "out of memory reading MX of %.120s", c->domain);
		return;
	}
	n = dns_parse_mx(ans, len, mx, c->max_targets + 1, &total);
	if (n < 0) {
		free(mx);
		finish(c, MXD_UNVERIFIED, "malformed MX answer for %.120s", c->domain);
		return;
	}
	for (int i = 0; i < n; i++)
		if (mx[i].host[0] == '\0')
			nnull++;
	if (nnull > 0 && (size_t)nnull == total) {
		free(mx);
		finish(c, MXD_SECURE, "the null MX of %.120s was authenticated", c->domain);
		return;
	}
	for (int i = 0; i < n && c->ntargets < c->max_targets; i++) {
		bool seen = false;
		if (mx[i].host[0] == '\0' || !looked_up(mx[i].host))
			continue;
		for (unsigned k = 0; k < c->ntargets; k++)
			seen = seen || strcmp(c->target[k], mx[i].host) == 0;
		if (!seen)
			memcpy(c->target[c->ntargets++], mx[i].host, DNS_HOST_BUF);
	}
	free(mx);
	for (unsigned i = 0; i < c->ntargets; i++)
		lookup_addrs(c, i);
	if (c->q.outstanding == 0)
		conclude(c);
}

/* on_mx - the answer to the MX lookup */
static void on_mx(struct dnssec_check *c, enum dns_status st, const unsigned char *ans, int len)
{
	if (dns_status_temporary(st)) {
		finish(c, MXD_UNVERIFIED, "MX lookup for %.120s failed: %s", c->domain, dns_status_name(st));
		return;
	}
	if (st == DNS_BADNAME) {
		finish(c, MXD_SKIPPED, "%.120s cannot be looked up", c->domain);
		return;
	}
	if (dns_parse_ad(ans, len) != 1) {
		unauthenticated(c, "MX", c->domain);
		return;
	}
	c->authenticated++;
	switch (st) {
	case DNS_OK:
		on_mx_records(c, ans, len);
		break;
	case DNS_NXDOMAIN:
		finish(c, MXD_SECURE, "%.120s does not exist, and the denial was authenticated", c->domain);
		break;
	default:   /* DNS_NODATA: the implicit MX, the domain's own addresses */
		c->implicit = true;
		c->ntargets = 1;
		snprintf(c->target[0], sizeof c->target[0], "%s", c->domain);
		lookup_addrs(c, 0);
		if (c->q.outstanding == 0)
			conclude(c);
		break;
	}
}

/* on_addrs - an A or AAAA answer for target i */
static void on_addrs(struct dnssec_check *c, unsigned i, int type, enum dns_status st,
		     const unsigned char *ans, int len)
{
	const char *what = type == ns_t_a ? "A" : "AAAA";

	if (dns_status_temporary(st)) {
		note_temp(c, st, what, c->target[i]);
		return;
	}
	if (st == DNS_BADNAME)
		return;                /* never on the wire: no answer to judge */
	if (dns_parse_ad(ans, len) != 1) {
		unauthenticated(c, what, c->target[i]);
		return;
	}
	c->authenticated++;
}

/* dnssec_answer - every answer of a check comes here (lookups_answer_fn) */
static void dnssec_answer(void *owner, int target, int type, enum dns_status st,
			  const unsigned char *ans, int len)
{
	struct dnssec_check *c = owner;

	if (c->done)
		return;
	if (target == DNSSEC_TAG_MX) {
		on_mx(c, st, ans, len);
		return;
	}
	on_addrs(c, (unsigned)target, type, st, ans, len);
	if (!c->done && c->q.outstanding == 0)
		conclude(c);
}

/* dnssec_check_start - validate the domain; untrusted AD decides at once; else ask for the MX */
void dnssec_check_start(struct dnssec_check *c, struct resolver *res, const char *domain,
			const struct dnssec_options *opt)
{
	char reason[ADDR_REASON_MAX];

	memset(c, 0, sizeof *c);
	c->res = res;
	lookups_init(&c->q, c, dnssec_answer);
	c->max_targets = opt && opt->max_targets ? opt->max_targets : MX_TARGETS_DEFAULT;
	if (c->max_targets > MX_TARGETS_MAX)
		c->max_targets = MX_TARGETS_MAX;
	if (address_domain(domain, c->domain, sizeof c->domain, reason, sizeof reason) < 0) {
		finish(c, MXD_SKIPPED, "invalid domain: %s", reason);
		return;
	}
	if (opt && opt->untrusted) {
		finish(c, MXD_UNVERIFIED, "AD not trusted: %s", opt->untrusted);
		return;
	}
	if (!lookup(c, c->domain, ns_t_mx, DNSSEC_TAG_MX))
		finish(c, MXD_UNVERIFIED, "cannot start MX lookup for %.120s", c->domain);
}

/* dnssec_check_for_sender - null, literal and invalid senders are skipped without DNS */
void dnssec_check_for_sender(struct dnssec_check *c, struct resolver *res,
			     const struct address *sender, const struct dnssec_options *opt)
{
	switch (sender->cls) {
	case ADDR_NORMAL:
		dnssec_check_start(c, res, sender->domain, opt);
		return;
	case ADDR_NULL:
		memset(c, 0, sizeof *c);
		finish(c, MXD_SKIPPED, "null sender");
		return;
	case ADDR_LITERAL:
		memset(c, 0, sizeof *c);
		finish(c, MXD_SKIPPED, "address literal %.200s", sender->domain);
		return;
	default:
		memset(c, 0, sizeof *c);
		finish(c, MXD_SKIPPED, "invalid sender address: %s",
		       sender->reason[0] ? sender->reason : "unparsable");
		return;
	}
}

/* dnssec_check_done - resolver_wait predicate */
bool dnssec_check_done(void *arg)
{
	return ((const struct dnssec_check *)arg)->done;
}

/* dnssec_check_facts - copy the verdict into the message facts */
void dnssec_check_facts(const struct dnssec_check *c, struct facts *f)
{
	if (!c->done)
		return;
	f->mx_dnssec = c->result;
	memcpy(f->mx_dnssec_detail, c->detail, sizeof f->mx_dnssec_detail);
	f->known |= FBIT(mx_dnssec) | FBIT(mx_dnssec_detail);
}

/* dnssec_check_abandon - detach lookups in flight so the check can be freed */
void dnssec_check_abandon(struct dnssec_check *c)
{
	lookups_abandon(&c->q);
	if (!c->done)
		finish(c, MXD_UNVERIFIED, "DNSSEC check of %.120s abandoned before every answer came",
		       c->domain);
}
