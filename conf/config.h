/*
 * config.h - one immutable, reference-counted configuration snapshot.
 *
 * config_load() parses a file into a new snapshot with refcount 1. The
 * daemon keeps a "current" pointer; every connection takes a reference
 * (config_ref) at connect and drops it (config_unref) at close, so SIGHUP
 * can swap in a new snapshot while old connections finish on the old one.
 * A snapshot is never modified after config_load() returns.
 *
 * Errors are reported as "FILE:LINE: message" in err.
 */
#ifndef MXGUARD_CONFIG_H
#define MXGUARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy/dnsbl.h"
#include "policy/facts.h"
#include "policy/rules.h"

struct netlist;

enum reject_stage { STAGE_MAIL = 1, STAGE_RCPT };
enum log_format { LOG_TEXT = 1, LOG_JSON };
enum log_target { LOG_TARGET_SYSLOG = 1, LOG_TARGET_STDERR };
/* when DKIM is verified: only when a rule needs it, or for every message's headers too */
enum dkim_verify { DKIM_VERIFY_RULES = 1, DKIM_VERIFY_ALWAYS };
/* how DMARC finds policy records and Organizational Domains: RFC 9989's DNS tree walk or RFC 7489's PSL */
enum dmarc_discovery_mode { DMARC_DISCOVERY_TREEWALK = 1, DMARC_DISCOVERY_PSL };
/* what the quarantine action does: Postfix's hold queue, or deliver with a header (and a Subject tag) */
enum quarantine_mode { QUARANTINE_HOLD = 1, QUARANTINE_HEADER, QUARANTINE_SUBJECT };

struct config {
	/* identity */
	char *path;                    /* the file it was loaded from */
	int refcount;                  /* touch only through config_ref/config_unref */

	/* daemon */
	char *socket;                  /* libmilter spec; default "inet:8894@127.0.0.1" */
	unsigned socket_mode;          /* unix socket mode, default 0660 */
	char *socket_group;            /* unix socket group, NULL = primary group of user */
	char *user;                    /* drop to this user after binding when root; NULL = stay */
	char *pidfile;                 /* NULL = none */
	unsigned milter_timeout_ms;    /* how long a session may wait for the MTA's next packet; default 10 min */
	enum log_format log_format;    /* default LOG_TEXT */
	char *syslog_facility;         /* default "mail" */
	int syslog_facility_code;      /* the same as <syslog.h> LOG_MAIL, LOG_LOCAL0, ... for openlog() */
	bool dry_run;                  /* global: log what would happen, accept everything */
	enum action on_error;          /* internal error outcome: ACTION_TEMPFAIL (default) or ACTION_ACCEPT */
	char *metrics_listen;          /* Prometheus endpoint "127.0.0.1:PORT" / "[::1]:PORT"; NULL = off (restart to change) */

	/* DNS */
	char *dns_servers;             /* "host[:port],..." for c-ares; NULL = system resolver */
	unsigned dns_timeout_ms;       /* per-message deadline, default 8000 (< Postfix's 30 s milter_command_timeout) */
	unsigned dns_try_timeout_ms;   /* first per-try timeout, default 1000 */
	unsigned max_mx_targets;       /* default 10 */
	struct netlist *bogus_networks;/* default netlist_bogus_default() */
	bool dns_trust_ad;             /* believe AD from non-loopback dns_servers too; default false */
	bool dns_cache;                /* keep answers across messages (policy/dns_cache.h); default true */
	unsigned dns_cache_size;       /* MiB, default 64 */
	unsigned dns_cache_max_ttl_ms; /* cap on any TTL, default 1 h */

	/* who is not checked */
	struct netlist *trusted_networks; /* default 127.0.0.0/8, ::1 */
	bool skip_authenticated;       /* default true */

	/* when to answer */
	enum reject_stage reject_stage;/* default STAGE_RCPT */

	/* SPF / DKIM / headers (issue 3) */
	char *authserv_id;             /* default: the host name */
	bool add_received_spf;         /* default false */
	unsigned dkim_min_key_bits;    /* default 1024 */
	enum dkim_verify dkim_verify;  /* default DKIM_VERIFY_RULES */
	enum dmarc_discovery_mode dmarc_discovery; /* default DMARC_DISCOVERY_TREEWALK */

	/* the quarantine action */
	enum quarantine_mode quarantine_action; /* default QUARANTINE_HOLD */
	char *quarantine_header;       /* header name for header/subject, default "X-Spam" */
	char *quarantine_subject_tag;  /* Subject prefix for subject, default "[SPAM]" */

	/* DNS blocklists: "dnsbl NAME ZONE [FILTER] TARGET[, TARGET...]" lines */
	struct config_dnsbl *dnsbl;    /* ndnsbl of them (at most FACT_LISTS_MAX); NULL when none */
	unsigned ndnsbl;
	const char *list_name[FACT_LISTS_MAX]; /* dnsbl[i].spec.name, NULL past ndnsbl (struct facts.list_name) */
	bool dnsbl_selftest;           /* at start-up, ask each list its RFC 5782 test entries; default false */

	/* rules */
	struct ruleset *rules;
};

/* One DNS blocklist: what to ask (policy/dnsbl.h) and about which facts. */
struct config_dnsbl {
	struct dnsbl_spec spec;        /* name, zone, return-code filter */
	fact_mask targets;             /* FBIT of the facts it looks up: client_ip, helo, sender_domain,
					* from_domain, mx_host, mx_addr, ns_host, ns_addr */
	int line;
};

/*
 * config_load - parse path into a new snapshot (refcount 1). On error
 * returns NULL with "path:line: message" in err.
 */
struct config *config_load(const char *path, char *err, size_t errlen);

/* config_load_string - the same from memory; name is used in messages. For tests and `check`. */
struct config *config_load_string(const char *name, const char *text, char *err, size_t errlen);

/* config_ref - take a reference (thread-safe); returns c. */
struct config *config_ref(struct config *c);
/* config_unref - drop a reference; frees on the last one (thread-safe). NULL is fine. */
void config_unref(struct config *c);

struct resolver_options;
/*
 * config_resolver_options - the resolver settings a snapshot asks for. The
 * strings point into c: keep c alive while the options are used.
 */
void config_resolver_options(const struct config *c, struct resolver_options *out);
/* config_same_resolver - would a resolver made for a serve b just as well? */
bool config_same_resolver(const struct config *a, const struct config *b);

#endif
