/*
 * context.c - connection and message lifetimes (see context.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milter/context.h"
#include "milter/decision_log.h"
#include "milter/log.h"
#include "milter/metrics.h"
#include "milter/snapshot.h"
#include "policy/dnsbl.h"
#include "policy/resolver.h"

static atomic_uint active;
static atomic_bool draining;
static atomic_bool resolver_failing;   /* log resolver trouble once, at the transition */

/* conn_new - zeroed connection, client unknown */
struct conn *conn_new(void)
{
	struct conn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->addr.ss_family = AF_UNSPEC;
	atomic_fetch_add(&active, 1);
	metrics_connection();
	return c;
}

/* conn_set_client - copy what xxfi_connect was given */
void conn_set_client(struct conn *c, const char *hostname, const struct sockaddr *sa)
{
	memset(&c->addr, 0, sizeof c->addr);
	c->addr.ss_family = AF_UNSPEC;
	if (sa && sa->sa_family == AF_INET)
		memcpy(&c->addr, sa, sizeof(struct sockaddr_in));
	else if (sa && sa->sa_family == AF_INET6)
		memcpy(&c->addr, sa, sizeof(struct sockaddr_in6));
	snprintf(c->hostname, sizeof c->hostname, "%s", hostname ? hostname : "");
	c->connected = true;
}

/* conn_free - message first (its lookups use the resolver), then the resolver */
void conn_free(struct conn *c)
{
	if (!c)
		return;
	msg_end(c, "close");
	resolver_free(c->res);
	config_unref(c->res_cfg);
	free(c);
	atomic_fetch_sub(&active, 1);
}

/* conn_active - connections alive */
unsigned conn_active(void)
{
	return atomic_load(&active);
}

/* conn_set_draining - shutdown has begun */
void conn_set_draining(void)
{
	atomic_store(&draining, true);
}

/* conn_draining - has shutdown begun? */
bool conn_draining(void)
{
	return atomic_load(&draining);
}

/* conn_resolver - keep, or (re)make, the connection's resolver for cfg; failure leaves res NULL */
static void conn_resolver(struct conn *c, struct config *cfg)
{
	struct resolver_options opt;
	bool keep = c->res && config_same_resolver(c->res_cfg, cfg);

	/* hold the newest snapshot, also when the resolver stays, so an old one is not kept alive by us */
	config_unref(c->res_cfg);
	c->res_cfg = config_ref(cfg);
	if (keep)
		return;
	resolver_free(c->res);
	config_resolver_options(cfg, &opt);
	c->res_error[0] = '\0';
	c->res = resolver_new(&opt, c->res_error, sizeof c->res_error);
	if (!c->res) {
		if (!c->res_error[0])
			snprintf(c->res_error, sizeof c->res_error, "out of memory");
		if (!atomic_exchange(&resolver_failing, true))
			log_err("cannot create a DNS resolver: %s", c->res_error);
	} else if (atomic_exchange(&resolver_failing, false)) {
		log_info("DNS resolver creation works again");
	}
}

/*
 * Message ids: this process's tag (its start time and PID, so that two
 * daemons or two runs writing to one log do not collide) and a counter.
 */
static pthread_once_t txn_once = PTHREAD_ONCE_INIT;
static unsigned long txn_tag;
static atomic_ullong txn_seq;

/* txn_init - the process's tag, once */
static void txn_init(void)
{
	txn_tag = ((unsigned long)time(NULL) ^ ((unsigned long)getpid() << 20)) & 0xffffffffUL;
}

/* msg_begin - snapshot reference, resolver, checks */
struct msg *msg_begin(struct conn *c)
{
	struct msg *m;
	struct config *cfg;

	msg_end(c, "abort");
	cfg = snapshot_get();
	if (!cfg)
		return NULL;
	m = calloc(1, sizeof *m);
	if (!m) {
		config_unref(cfg);
		return NULL;
	}
	m->cfg = cfg;
	clock_gettime(CLOCK_MONOTONIC, &m->started);
	pthread_once(&txn_once, txn_init);
	snprintf(m->txn, sizeof m->txn, "%08lx.%llx", txn_tag, (unsigned long long)atomic_fetch_add(&txn_seq, 1) + 1);
	conn_resolver(c, cfg);
	m->ck = checks_new(cfg, c->res);
	if (!m->ck) {
		config_unref(cfg);
		free(m);
		return NULL;
	}
	c->msg = m;
	metrics_message();
	return m;
}

/* msg_end - log if nothing was logged, then free */
void msg_end(struct conn *c, const char *stage)
{
	struct msg *m = c->msg;

	if (!m)
		return;
	if (!m->logged && m->rcpt_lines == 0)
		msg_log(m, NULL, NULL, NULL, stage, NULL);
	metrics_facts(checks_facts(m->ck));
	checks_free(m->ck);
	config_unref(m->cfg);
	free(m->subject);
	free(m->rcpts);
	free(m);
	c->msg = NULL;
}

/* msg_add_rcpt - append to the packed list, within the log's bounds */
void msg_add_rcpt(struct msg *m, const char *rcpt)
{
	size_t n = strlen(rcpt) + 1;
	char *grown;

	if (m->nrcpts == DECISION_RCPTS_MAX || n > DECISION_RCPTS_TEXT - m->rcpts_len) {
		m->rcpts_more++;
		return;
	}
	/* most messages have one recipient: grow by what is needed, at least 64 octets */
	grown = realloc(m->rcpts, m->rcpts_len + (n > 64 ? n : 64));
	if (!grown) {
		m->rcpts_more++;
		return;
	}
	m->rcpts = grown;
	memcpy(m->rcpts + m->rcpts_len, rcpt, n);
	m->rcpts_len += n;
	m->nrcpts++;
}

/* msg_elapsed_ms - since MAIL FROM */
long msg_elapsed_ms(const struct msg *m)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - m->started.tv_sec) * 1000 +
	       (now.tv_nsec - m->started.tv_nsec) / 1000000;
}

/* utc_now - the time as ISO 8601 UTC with milliseconds, into buf; NULL when the clock says nothing */
static const char *utc_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm) ||
	    (n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
		return NULL;
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return buf;
}

/*
 * warn_unusable - a DNS blocklist that answers "we refuse you" (or is
 * misconfigured: a wrong zone, a public resolver, a rate limit) is said
 * in the log, once per list per UNUSABLE_EVERY seconds, whichever thread
 * sees it: every decision line also shows it as dnsbl.LIST=unusable.
 */
#define UNUSABLE_EVERY 600
static void warn_unusable(const struct msg *m)
{
	static struct dnsbl_ratelimit limit[FACT_LISTS_MAX];
	const struct facts *f = checks_facts(m->ck);

	for (unsigned i = 0; i < m->cfg->ndnsbl; i++)
		if (facts_known(f, (enum fact_id)(FID_dnsbl + i)) && f->dnsbl[i] == DNSBL_UNUSABLE &&
		    dnsbl_ratelimit_due(&limit[i], time(NULL), UNUSABLE_EVERY))
			log_warn("dnsbl %s: the list refuses our queries or is misconfigured (%s): check its zone, "
				 "and that dns_servers is a resolver the list accepts (said once per %d s)",
				 m->cfg->list_name[i], f->dnsbl_detail[i], UNUSABLE_EVERY);
}

/* msg_log - one decision line */
void msg_log(struct msg *m, const struct verdict *v, const char *reply, const char *rcpt,
	     const char *stage, const char *error)
{
	struct decision d = { 0 };
	bool decided = v && v->action != ACTION_NONE;
	char when[40];

	d.queue_id = m->queue_id;
	d.facts = checks_facts(m->ck);
	d.rcpt = rcpt;
	d.stage = stage;
	d.rule = decided ? v->rule_name : NULL;
	d.action = decided ? action_name(v->action) : "none";
	d.reply = reply;
	d.dry_run = decided && v->dry_run;
	d.elapsed_ms = msg_elapsed_ms(m);
	d.error = error;
	d.time = utc_now(when, sizeof when);
	d.txn = m->txn;
	d.rcpts = m->rcpts;
	d.nrcpts = m->nrcpts;
	d.rcpts_more = m->rcpts_more;
	decision_log(m->cfg->log_format, &d);
	metrics_decision(d.action, d.rule, d.dry_run, rcpt != NULL);
	warn_unusable(m);
	if (rcpt)
		m->rcpt_lines++;
	else
		m->logged = true;
}
