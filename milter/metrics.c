/*
 * metrics.c - the daemon's counters and their exposition (see metrics.h).
 *
 * Fixed counters are plain atomics. Counters labelled with configuration
 * names (decisions by rule, fact values by fact) are tables of slots:
 * a slot's key is its rendered label set (action="reject",rule="x",...),
 * published once with a compare-and-swap and never changed or freed
 * before exit, so a scrape reads keys and values with plain atomic loads
 * while connection threads keep counting.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/context.h"
#include "milter/daemon.h"
#include "milter/metrics.h"
#include "policy/checks.h"
#include "policy/dns_cache.h"
#include "policy/dns_stats.h"
#include "policy/histogram.h"

struct slot {
	_Atomic(char *) key;           /* NULL while free; then owned, freed at metrics_free */
	atomic_ulong n;
};

struct table {
	struct slot slot[METRICS_LABEL_SETS];
};

/* The stages whose answer time is measured: the callbacks that do work. */
static const enum check_stage stages[] = {
	CHECK_STAGE_MAIL, CHECK_STAGE_RCPT, CHECK_STAGE_HEADERS, CHECK_STAGE_EOM,
};
#define NSTAGES (sizeof stages / sizeof stages[0])

static struct table decisions, fact_values;
static atomic_ulong connections, messages, refused_reject, refused_tempfail, dropped;
static atomic_ulong reloads_ok, reloads_failed;
static atomic_bool last_reload_ok = true;
static atomic_ullong start_us, last_reload_us;   /* CLOCK_REALTIME, microseconds since the epoch */
static struct histogram stage_time[NSTAGES];

/* now_us - wall clock in microseconds */
static unsigned long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

/* metrics_init - start time; the start's configuration counts as the last good load */
void metrics_init(void)
{
	unsigned long long t = now_us();

	atomic_store(&start_us, t);
	atomic_store(&last_reload_us, t);
}

/* metrics_free - the keys; the tables are empty again */
void metrics_free(void)
{
	struct table *tables[] = { &decisions, &fact_values };

	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (unsigned i = 0; i < METRICS_LABEL_SETS; i++) {
			free(atomic_exchange(&tables[t]->slot[i].key, NULL));
			atomic_store(&tables[t]->slot[i].n, 0);
		}
}

/* hash - FNV-1a */
static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/*
 * table_add - one more for the label set key: find its slot, or claim a
 * free one (open addressing; keys are never removed, so a free slot ends
 * the search). A lost race for a free slot means another thread put a
 * key there: it may be ours, so look at it before probing on.
 */
static void table_add(struct table *t, const char *key)
{
	unsigned i = (unsigned)(hash(key) % METRICS_LABEL_SETS);
	char *mine = NULL;

	for (unsigned probes = 0; probes < METRICS_LABEL_SETS; probes++, i = (i + 1) % METRICS_LABEL_SETS) {
		struct slot *s = &t->slot[i];
		char *k = atomic_load_explicit(&s->key, memory_order_acquire);

		if (!k) {
			if (!mine && !(mine = strdup(key)))
				break;
			if (atomic_compare_exchange_strong_explicit(&s->key, &k, mine, memory_order_acq_rel,
								    memory_order_acquire)) {
				atomic_fetch_add_explicit(&s->n, 1, memory_order_relaxed);
				return;
			}
			/* k is now the key that won the slot */
		}
		if (strcmp(k, key) == 0) {
			free(mine);
			atomic_fetch_add_explicit(&s->n, 1, memory_order_relaxed);
			return;
		}
	}
	free(mine);
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
}

/* metrics_connection - count it */
void metrics_connection(void)
{
	atomic_fetch_add_explicit(&connections, 1, memory_order_relaxed);
}

/* metrics_message - count it */
void metrics_message(void)
{
	atomic_fetch_add_explicit(&messages, 1, memory_order_relaxed);
}

/* metrics_decision - by action, rule and dry run; a refused recipient also by action */
void metrics_decision(const char *action, const char *rule, bool dry_run, bool rcpt)
{
	static const char *const names[] = { "action", "rule", "dry_run" };
	const char *values[] = { action, rule ? rule : "-", dry_run ? "yes" : "no" };
	char key[256];

	if (mtext_labels(key, sizeof key, names, values, 3) < 0)
		atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
	else
		table_add(&decisions, key);
	/* a recipient's line that refused it (on_error = accept writes one that does not) */
	if (rcpt && !dry_run && strcmp(action, "reject") == 0)
		atomic_fetch_add_explicit(&refused_reject, 1, memory_order_relaxed);
	else if (rcpt && !dry_run && strcmp(action, "tempfail") == 0)
		atomic_fetch_add_explicit(&refused_tempfail, 1, memory_order_relaxed);
}

/* metrics_facts - every enumerated fact f knows (a dnsbl list by its configured name) */
void metrics_facts(const struct facts *f)
{
	static const char *const names[] = { "fact", "value" };

	for (unsigned i = 0; i < FACT_COUNT; i++) {
		enum fact_id id = (enum fact_id)i;
		char namebuf[96], key[256];
		const char *values[2];

		if (fact_table[i].kind != FACT_KIND_ENUM || !facts_known(f, id))
			continue;
		/* NULL: an instance of a family no configured list uses */
		if (!(values[0] = facts_name(f, id, namebuf, sizeof namebuf)))
			continue;
		values[1] = facts_value_name(id, facts_enum(f, id));
		if (mtext_labels(key, sizeof key, names, values, 2) < 0)
			atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
		else
			table_add(&fact_values, key);
	}
}

/* metrics_stage - the callback's time so far */
void metrics_stage(enum check_stage stage, const struct timespec *started)
{
	for (size_t i = 0; i < NSTAGES; i++)
		if (stages[i] == stage) {
			histogram_observe(&stage_time[i], histogram_elapsed_us(started));
			return;
		}
}

/* metrics_reload - count it; a good one is the new last good load */
void metrics_reload(bool ok)
{
	if (ok) {
		atomic_fetch_add_explicit(&reloads_ok, 1, memory_order_relaxed);
		atomic_store(&last_reload_us, now_us());
	} else {
		atomic_fetch_add_explicit(&reloads_failed, 1, memory_order_relaxed);
	}
	atomic_store(&last_reload_ok, ok);
}

/* load - an atomic counter's value */
static unsigned long long load(atomic_ulong *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

/* one - a family with one unlabelled sample */
static void one(struct mtext *t, const char *name, const char *type, const char *help, unsigned long long v)
{
	mtext_family(t, name, type, help);
	mtext_sample(t, name, NULL, v);
}

/* table_out - every label set a table has */
static void table_out(struct mtext *t, const char *name, struct table *tb)
{
	for (unsigned i = 0; i < METRICS_LABEL_SETS; i++) {
		const char *k = atomic_load_explicit(&tb->slot[i].key, memory_order_acquire);

		if (k)
			mtext_sample(t, name, k, load(&tb->slot[i].n));
	}
}

/* render_messages - build, process, connections, decisions, facts, stage times */
static void render_messages(struct mtext *t)
{
	char labels[64];
	struct histogram_view h;

	mtext_family(t, "mxguard_build_info", "gauge", "mxguard's version, as a label; always 1.");
	mtext_sample(t, "mxguard_build_info", "version=\"" MXGUARD_VERSION "\"", 1);
	mtext_family(t, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
	mtext_sample_us(t, "process_start_time_seconds", NULL, atomic_load(&start_us));
	one(t, "mxguard_connections_open", "gauge", "MTA connections open now.", conn_active());
	one(t, "mxguard_connections_total", "counter", "MTA connections opened.", load(&connections));
	one(t, "mxguard_messages_total", "counter", "Messages begun (MAIL FROM).", load(&messages));
	mtext_family(t, "mxguard_decisions_total", "counter",
		     "Decision lines logged: one per refused recipient, one per message that got past its "
		     "recipients; by action, deciding rule (- when none) and dry run.");
	table_out(t, "mxguard_decisions_total", &decisions);
	mtext_family(t, "mxguard_refused_recipients_total", "counter", "Recipients refused, by action.");
	mtext_sample(t, "mxguard_refused_recipients_total", "action=\"reject\"", load(&refused_reject));
	mtext_sample(t, "mxguard_refused_recipients_total", "action=\"tempfail\"", load(&refused_tempfail));
	mtext_family(t, "mxguard_fact_values_total", "counter",
		     "Messages by the value each enumerated fact had when the message ended (dnsbl.LIST by its "
		     "configured name); facts not known by then are not counted.");
	table_out(t, "mxguard_fact_values_total", &fact_values);
	mtext_family(t, "mxguard_stage_duration_seconds", "histogram",
		     "Time mxguard took to answer the MTA at each stage (its checks and decision).");
	for (size_t i = 0; i < NSTAGES; i++) {
		snprintf(labels, sizeof labels, "stage=\"%s\"", check_stage_name(stages[i]));
		histogram_read(&stage_time[i], &h);
		mtext_histogram(t, "mxguard_stage_duration_seconds", labels, &h);
	}
}

/* render_dns - the engine's queries and the shared cache */
static void render_dns(struct mtext *t)
{
	struct dns_stats_view *v = malloc(sizeof *v);
	struct dns_cache_stats cs;
	char labels[96];

	if (!v) {
		t->failed = true;
		return;
	}
	dns_stats_read(v);
	mtext_family(t, "mxguard_dns_queries_total", "counter",
		     "DNS queries sent (not answered from the cache), by type and outcome.");
	for (unsigned ty = 0; ty < DNS_STATS_TYPES; ty++)
		for (unsigned o = 0; o < DNS_STATS_OUTCOMES; o++) {
			snprintf(labels, sizeof labels, "type=\"%s\",outcome=\"%s\"", dns_stats_type_name(ty),
				 dns_stats_outcome_name(o));
			mtext_sample(t, "mxguard_dns_queries_total", labels, v->queries[ty][o]);
		}
	mtext_family(t, "mxguard_dns_answer_duration_seconds", "histogram",
		     "Time from sending a DNS query to its outcome (the name server's answer, or the last "
		     "try's timeout), by type.");
	for (unsigned ty = 0; ty < DNS_STATS_TYPES; ty++) {
		snprintf(labels, sizeof labels, "type=\"%s\"", dns_stats_type_name(ty));
		mtext_histogram(t, "mxguard_dns_answer_duration_seconds", labels, &v->answer[ty]);
	}
	one(t, "mxguard_dns_lookups_expired_total", "counter",
	    "DNS lookups still unanswered when their message's DNS deadline (dns_timeout) passed.", v->expired);
	free(v);
	dns_cache_get_stats(&cs);
	one(t, "mxguard_dns_cache_hits_total", "counter", "Lookups answered from the DNS cache with records.", cs.hits);
	one(t, "mxguard_dns_cache_negative_hits_total", "counter",
	    "Lookups answered from the DNS cache with a kept NXDOMAIN, NODATA or failure.", cs.negative_hits);
	one(t, "mxguard_dns_cache_misses_total", "counter", "Lookups the DNS cache could not answer.", cs.misses);
	one(t, "mxguard_dns_cache_joins_total", "counter",
	    "Lookups that waited for the same query another connection had in flight.", cs.joins);
	one(t, "mxguard_dns_cache_evictions_total", "counter",
	    "Answers dropped from the DNS cache to stay within dns_cache_size.", cs.evictions);
	one(t, "mxguard_dns_cache_entries", "gauge", "Answers in the DNS cache now.", cs.entries);
	one(t, "mxguard_dns_cache_bytes", "gauge", "Bytes the DNS cache holds now.", cs.bytes);
}

/* metrics_render - all of it */
void metrics_render(struct mtext *t)
{
	render_messages(t);
	render_dns(t);
	mtext_family(t, "mxguard_reloads_total", "counter", "SIGHUP reloads, by result (failure: the file was refused).");
	mtext_sample(t, "mxguard_reloads_total", "result=\"success\"", load(&reloads_ok));
	mtext_sample(t, "mxguard_reloads_total", "result=\"failure\"", load(&reloads_failed));
	one(t, "mxguard_config_last_reload_successful", "gauge",
	    "1 when the last reload (or the start) loaded the configuration, 0 when it was refused.",
	    atomic_load(&last_reload_ok) ? 1 : 0);
	mtext_family(t, "mxguard_config_last_reload_success_timestamp_seconds", "gauge",
		     "When the configuration in force was loaded (start or reload), since the Unix epoch.");
	mtext_sample_us(t, "mxguard_config_last_reload_success_timestamp_seconds", NULL,
			atomic_load(&last_reload_us));
	one(t, "mxguard_metrics_label_sets_dropped_total", "counter",
	    "Counts not kept because a label table was full (more than 1024 rule or fact label sets).",
	    load(&dropped));
}
