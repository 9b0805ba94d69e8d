/*
 * daemon.c - the milter's life: start-up, serving, reload, stop.
 *
 * Threads: the main thread waits for signals (signals.c explains why it
 * must be the main one); smfi_main runs on its own thread; libmilter
 * starts one thread per MTA connection; SIGHUP reloads run on the
 * signals worker; the metrics endpoint, when metrics_listen is set, has
 * a thread of its own (metrics_http.c). The only shared state is the
 * snapshot pointer (snapshot.c), the connection count (context.c) and
 * the metrics' atomic counters (metrics.c).
 */
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf/config.h"
#include "milter/callbacks.h"
#include "milter/context.h"
#include "milter/daemon.h"
#include "milter/log.h"
#include "milter/metrics.h"
#include "milter/metrics_http.h"
#include "milter/pidfile.h"
#include "milter/signals.h"
#include "milter/snapshot.h"
#include "milter/socket.h"
#include "policy/checks.h"
#include "policy/dns_cache.h"
#include "policy/dnsbl.h"
#include "policy/resolver.h"

/* How long SIGTERM waits for open MTA connections to finish (new ones get 421). */
#define DRAIN_SECONDS 15

struct daemon_state {
	const char *path;          /* configuration file */
	bool foreground;
	char *socket;              /* the spec we listen on (fixed until restart) */
	char *metrics_listen;      /* where the metrics endpoint listens, NULL when off (likewise) */
	unsigned milter_timeout_s; /* what smfi_settimeout was given (likewise) */
	int milter_status;         /* smfi_main's result */
	atomic_bool milter_ended;  /* smfi_main returned (asked to, or by itself) */
};

/* same_str - NULL-safe equality */
static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* daemon_settings_ok - what only the daemon checks: do user and group exist? 0 or -1 with err */
static int daemon_settings_ok(const struct config *c, char *err, size_t errlen)
{
	if (c->user && !getpwnam(c->user)) {
		snprintf(err, errlen, "%s: user %s does not exist", c->path, c->user);
		return -1;
	}
	if (c->socket_group && !getgrnam(c->socket_group)) {
		snprintf(err, errlen, "%s: socket_group %s does not exist", c->path, c->socket_group);
		return -1;
	}
	return 0;
}

/* daemon_check_config - `mxguard -n` */
int daemon_check_config(const char *conf_path)
{
	char err[512];
	struct config *c = config_load(conf_path, err, sizeof err);
	int rc;

	if (!c) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = daemon_settings_ok(c, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "%s\n", err);
	else
		printf("configuration OK\n");
	config_unref(c);
	return rc < 0 ? 1 : 0;
}

/* cache_apply - the shared DNS cache as cfg says; 0 or -1 (out of memory: it stays off) */
static int cache_apply(const struct config *cfg)
{
	struct dns_cache_options o = {
		.enabled = cfg->dns_cache,
		.max_bytes = (size_t)cfg->dns_cache_size << 20,
		.max_ttl_s = cfg->dns_cache_max_ttl_ms / 1000,
	};

	return dns_cache_configure(&o);
}

/* cache_log - the cache's counters so far */
static void cache_log(void (*say)(const char *, ...) __attribute__((format(printf, 1, 2))), const char *when)
{
	struct dns_cache_stats st;

	dns_cache_get_stats(&st);
	say("dns cache %s: %lu hits, %lu negative hits, %lu misses, %lu joined lookups, %lu evictions, "
	    "%lu entries, %lu bytes", when, st.hits, st.negative_hits, st.misses, st.joins, st.evictions,
	    st.entries, st.bytes);
}

/* reload - SIGHUP: load the file again; keep the old snapshot on any error */
static void reload(void *arg)
{
	struct daemon_state *d = arg;
	struct config *old, *nc;
	char err[512];

	nc = config_load(d->path, err, sizeof err);
	if (nc && daemon_settings_ok(nc, err, sizeof err) < 0) {
		config_unref(nc);
		nc = NULL;
	}
	if (!nc) {
		log_err("reload failed: %s; keeping previous configuration", err);
		metrics_reload(false);
		return;
	}
	old = snapshot_get();
	if (!same_str(d->socket, nc->socket))
		log_warn("socket changed to %s: needs a restart; still listening on %s",
			 nc->socket ? nc->socket : "(none)", d->socket);
	if (!same_str(d->metrics_listen, nc->metrics_listen))
		log_warn("metrics_listen changed to %s: needs a restart; metrics still %s%s",
			 nc->metrics_listen ? nc->metrics_listen : "(none)",
			 d->metrics_listen ? "on " : "off", d->metrics_listen ? d->metrics_listen : "");
	if (old && (!same_str(old->user, nc->user) || !same_str(old->pidfile, nc->pidfile)))
		log_warn("user and pidfile changes need a restart");
	if (d->milter_timeout_s != nc->milter_timeout_ms / 1000)
		log_warn("milter_timeout changed: needs a restart; sessions still time out after %u s",
			 d->milter_timeout_s);
	if (!d->foreground && old && old->syslog_facility_code != nc->syslog_facility_code) {
		log_close();
		log_open("mxguard", nc->syslog_facility_code, false);
	}
	/* answers of other name servers are not the new ones' */
	if (old && !config_same_resolver(old, nc))
		dns_cache_flush();
	if (cache_apply(nc) < 0)
		log_warn("out of memory setting up the DNS cache: it is off");
	if (log_debug_enabled())
		cache_log(log_debug, "at reload");
	config_unref(old);
	snapshot_set(nc);
	metrics_reload(true);
	log_info("reloaded configuration from %s", d->path);
}

/* milter_thread - smfi_main until stopped; then wake the main thread */
static void *milter_thread(void *arg)
{
	struct daemon_state *d = arg;

	d->milter_status = smfi_main();
	atomic_store(&d->milter_ended, true);
	signals_wake();
	return NULL;
}

/*
 * drain - give open connections a bounded time to finish. A second
 * SIGTERM now reaches libmilter's own signal thread, which stops
 * smfi_main: then there is nothing left to wait for.
 */
static void drain(const struct daemon_state *d)
{
	struct timespec tick = { 0, 100 * 1000000L };
	unsigned n;

	for (int i = 0; i < DRAIN_SECONDS * 10 && (n = conn_active()) > 0 &&
	     !atomic_load(&d->milter_ended); i++) {
		if (i == 0)
			log_info("waiting for %u open connection(s) to finish", n);
		nanosleep(&tick, NULL);
	}
	if ((n = conn_active()) > 0)
		log_warn("exiting with %u connection(s) still open", n);
}

/*
 * selftest_lists - dnsbl_selftest: ask every list its RFC 5782 test
 * entries (2.0.0.127 listed, 1.0.0.127 not; "test"/"invalid" for a list
 * of domains) and log one that does not answer as a blocklist should
 * (wrong zone, a resolver the list refuses). It only logs: mail goes on
 * either way, and the list's answers say "unusable" in every decision.
 */
static void selftest_lists(const struct config *cfg)
{
	struct resolver_options ro;
	struct resolver *res;
	struct timespec deadline;
	char why[256];

	config_resolver_options(cfg, &ro);
	res = resolver_new(&ro, why, sizeof why);
	if (!res) {
		log_warn("dnsbl self-test: no resolver: %s", why);
		return;
	}
	for (unsigned i = 0; i < cfg->ndnsbl; i++) {
		const struct config_dnsbl *b = &cfg->dnsbl[i];
		bool domains = !(b->targets & (FBIT(client_ip) | FBIT(mx_addr) | FBIT(ns_addr)));

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += cfg->dns_timeout_ms / 1000 + 1;
		resolver_set_deadline(res, &deadline);
		switch (dnsbl_selftest_run(&b->spec, domains, res, why, sizeof why)) {
		case DNSBL_SELFTEST_OK:
			log_info("dnsbl %s: self-test passed", b->spec.name);
			break;
		case DNSBL_SELFTEST_FAILED:
			log_warn("dnsbl %s: self-test failed: %s", b->spec.name, why);
			break;
		case DNSBL_SELFTEST_UNTESTED:
			log_warn("dnsbl %s: self-test could not run: %s", b->spec.name, why);
			break;
		}
	}
	resolver_free(res);
}

/* start_up - everything that may fail before serving; 0 or -1 (already reported) */
static int start_up(struct daemon_state *d, struct config *cfg)
{
	char err[512];

	if (daemon_settings_ok(cfg, err, sizeof err) < 0) {
		fprintf(stderr, "mxguard: %s\n", err);
		return -1;
	}
	if (resolver_library_init() != 0) {
		fprintf(stderr, "mxguard: cannot initialise the DNS library\n");
		return -1;
	}
	if (cache_apply(cfg) < 0) {
		fprintf(stderr, "mxguard: out of memory setting up the DNS cache\n");
		return -1;
	}
	if (checks_library_init(err, sizeof err) != 0) {
		fprintf(stderr, "mxguard: %s\n", err);
		return -1;
	}
	if (smfi_register(*callbacks_desc()) == MI_FAILURE) {
		fprintf(stderr, "mxguard: smfi_register failed\n");
		return -1;
	}
	/* a silent MTA must not keep a session (and, mid-packet, a worker thread) for libmilter's 7,210 s */
	d->milter_timeout_s = cfg->milter_timeout_ms / 1000;
	if (smfi_settimeout((int)d->milter_timeout_s) == MI_FAILURE) {
		fprintf(stderr, "mxguard: smfi_settimeout failed\n");
		return -1;
	}
	if (cfg->pidfile && pidfile_lock(cfg->pidfile, err, sizeof err) < 0) {
		fprintf(stderr, "mxguard: %s\n", err);
		return -1;
	}
	if (sock_open(cfg, err, sizeof err) < 0) {
		fprintf(stderr, "mxguard: %s\n", err);
		return -1;
	}
	/* bound now, as root and before detaching; its thread starts once signals are blocked */
	if (cfg->metrics_listen && metrics_http_open(cfg->metrics_listen, err, sizeof err) < 0) {
		fprintf(stderr, "mxguard: %s\n", err);
		return -1;
	}
	if (!d->foreground && daemon(0, 0) < 0) {
		perror("mxguard: daemon");
		return -1;
	}
	log_open("mxguard", cfg->syslog_facility_code, d->foreground);
	if (pidfile_write(err, sizeof err) < 0) {
		log_err("%s", err);
		return -1;
	}
	if (cfg->user && geteuid() != 0) {
		const struct passwd *me = getpwuid(geteuid());

		log_info("not started as root: staying %s, not switching to user %s",
			 me ? me->pw_name : "?", cfg->user);
	}
	if (priv_drop(cfg->user, err, sizeof err) < 0) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

/* daemon_run - serve until SIGTERM/SIGINT */
int daemon_run(const char *conf_path, bool foreground, bool debug)
{
	struct daemon_state d = { .path = conf_path, .foreground = foreground };
	struct config *cfg;
	pthread_t tid;
	char err[512];
	int sig;
	bool stopped_by_itself;

	cfg = config_load(conf_path, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	log_set_debug(debug);
	metrics_init();
	if (start_up(&d, cfg) < 0) {
		metrics_http_stop();
		config_unref(cfg);
		pidfile_remove();
		return 1;
	}
	d.socket = strdup(cfg->socket);
	d.metrics_listen = cfg->metrics_listen ? strdup(cfg->metrics_listen) : NULL;
	snapshot_set(cfg);
	if (!d.socket || (cfg->metrics_listen && !d.metrics_listen) || signals_block() < 0 ||
	    metrics_http_start(err, sizeof err) < 0 || pthread_create(&tid, NULL, milter_thread, &d) != 0) {
		log_err("cannot start the milter or metrics thread");
		metrics_http_stop();
		snapshot_clear();
		pidfile_remove();
		free(d.socket);
		free(d.metrics_listen);
		return 1;
	}
	log_info("mxguard %s started: listening on %s, configuration %s", MXGUARD_VERSION,
		 d.socket, conf_path);
	if (d.metrics_listen)
		log_info("metrics on http://%s/metrics", d.metrics_listen);
	if (cfg->dnsbl_selftest)
		selftest_lists(cfg);
	sig = signals_run(reload, &d);
	stopped_by_itself = atomic_load(&d.milter_ended);
	if (stopped_by_itself) {
		log_err("the milter library stopped by itself (status %d); exiting", d.milter_status);
	} else {
		log_info("stopping (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
		/* libmilter stops answering open connections at smfi_stop: let them finish first */
		conn_set_draining();
		drain(&d);
	}
	smfi_stop();
	pthread_join(tid, NULL);
	metrics_http_stop();
	cache_log(log_info, "at stop");
	log_info("stopped");
	snapshot_clear();
	pidfile_remove();
	checks_library_free();
	/* the DNS engine tells the cache what it finishes: it stops first */
	resolver_library_cleanup();
	dns_cache_shutdown();
	metrics_free();
	free(d.socket);
	free(d.metrics_listen);
	log_close();
	/* an unasked-for stop is a failure, so a supervisor (Restart=on-failure) restarts us */
	return d.milter_status == MI_SUCCESS && !stopped_by_itself ? 0 : 1;
}
