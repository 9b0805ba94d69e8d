/*
 * metrics.h - the daemon's counters for Prometheus, and the one function
 * that writes them all out (metrics_render, called by the responder in
 * metrics_http.c for each scrape).
 *
 * Who counts what:
 *   context.c     connections, messages, decision lines (by action, rule,
 *                 dry run), refused recipients, and at a message's end the
 *                 value of every enumerated fact it got (mx, spf, dkim,
 *                 dmarc, dnsbl.LIST, ...)
 *   callbacks.c   how long mxguard took to answer each stage
 *   daemon.c      start time, reloads
 *   policy/       DNS queries and answer times (dns_stats.h) and the
 *                 shared cache's counters (dns_cache.h), read at a scrape
 *
 * Every counter is an atomic: connection threads add to them without a
 * lock and never wait for a scrape, which reads each value once. Labels
 * never carry a domain, address or sender (one series per sender would
 * grow without bound): only values from fixed lists and from the
 * operator's configuration (rule and dnsbl list names).
 *
 * Label sets made of configuration names live in fixed tables of
 * METRICS_LABEL_SETS entries, filled on first use with a compare-and-swap
 * (no lock) and kept until exit; a reload that renames rules adds
 * entries. When a table is full, the increment is counted in
 * mxguard_metrics_label_sets_dropped_total instead. Nothing to free but
 * at metrics_free (exit).
 */
#ifndef MXGUARD_METRICS_H
#define MXGUARD_METRICS_H

#include <stdbool.h>
#include <time.h>

#include "milter/metrics_text.h"
#include "policy/facts.h"

#define METRICS_LABEL_SETS 1024

/* metrics_init - the process's start time (before serving). */
void metrics_init(void);

/* metrics_free - the label tables' keys (at exit, after the last thread that counts). */
void metrics_free(void);

/* metrics_connection - a connection opened. */
void metrics_connection(void);

/* metrics_message - a message began (MAIL FROM). */
void metrics_message(void);

/*
 * metrics_decision - one decision line: action ("reject", ..., "none"),
 * rule (NULL when undecided), dry_run, and whether it refused a recipient
 * (a recipient's line: rcpt is true).
 */
void metrics_decision(const char *action, const char *rule, bool dry_run, bool rcpt);

/* metrics_facts - the values of every enumerated fact f knows, once per message. */
void metrics_facts(const struct facts *f);

/* metrics_stage - stage (CHECK_STAGE_MAIL .. EOM) was answered; started is when its callback began. */
void metrics_stage(enum check_stage stage, const struct timespec *started);

/* metrics_reload - a SIGHUP reload succeeded (ok) or was refused. */
void metrics_reload(bool ok);

/* metrics_render - every metric, now, in the text format (t->failed when out of memory). */
void metrics_render(struct mtext *t);

#endif
