/*
 * dns_stats.c - the process's DNS query counters (see dns_stats.h).
 */
#include <arpa/nameser.h>
#include <stdatomic.h>

#include "policy/dns_stats.h"

static const struct {
	int type;
	const char *name;
} types[DNS_STATS_TYPES] = {
	{ ns_t_a, "A" }, { ns_t_mx, "MX" }, { ns_t_ns, "NS" }, { ns_t_txt, "TXT" }, { ns_t_ptr, "PTR" },
	{ ns_t_aaaa, "AAAA" }, { ns_t_cname, "CNAME" }, { ns_t_soa, "SOA" }, { -1, "other" },
};

static atomic_ulong queries[DNS_STATS_TYPES][DNS_STATS_OUTCOMES];
static struct histogram answer[DNS_STATS_TYPES];
static atomic_ulong expired;

/* type_index - the row of a query type; the last one for any type not listed */
static unsigned type_index(int type)
{
	for (unsigned i = 0; i + 1 < DNS_STATS_TYPES; i++)
		if (types[i].type == type)
			return i;
	return DNS_STATS_TYPES - 1;
}

/* dns_stats_query_done - one more query of its type and outcome, and its time */
void dns_stats_query_done(int type, enum dns_status status, bool cancelled, uint64_t us)
{
	unsigned t = type_index(type);
	unsigned o = cancelled ? DNS_STATS_CANCELLED : (unsigned)status;

	if (o >= DNS_STATS_OUTCOMES)
		o = DNS_ERROR;
	atomic_fetch_add_explicit(&queries[t][o], 1, memory_order_relaxed);
	/* a cancelled query's time says nothing about the name server */
	if (!cancelled)
		histogram_observe(&answer[t], us);
}

/* dns_stats_expired - lookups cut short by a deadline */
void dns_stats_expired(unsigned n)
{
	if (n)
		atomic_fetch_add_explicit(&expired, n, memory_order_relaxed);
}

/* dns_stats_read - one load per counter */
void dns_stats_read(struct dns_stats_view *out)
{
	for (unsigned t = 0; t < DNS_STATS_TYPES; t++) {
		for (unsigned o = 0; o < DNS_STATS_OUTCOMES; o++)
			out->queries[t][o] = atomic_load_explicit(&queries[t][o], memory_order_relaxed);
		histogram_read(&answer[t], &out->answer[t]);
	}
	out->expired = atomic_load_explicit(&expired, memory_order_relaxed);
}

/* dns_stats_type_name - the label of a type row */
const char *dns_stats_type_name(unsigned i)
{
	return i < DNS_STATS_TYPES ? types[i].name : "other";
}

/* dns_stats_outcome_name - the label of an outcome column */
const char *dns_stats_outcome_name(unsigned i)
{
	return i == DNS_STATS_CANCELLED ? "cancelled" : dns_status_name((enum dns_status)i);
}
