/*
 * check_cmd.c - `mxguard check` (see check_cmd.h).
 *
 * Walks the SMTP stages in order exactly as the milter does: connect,
 * HELO, MAIL FROM (decide here when reject_stage is mail), RCPT (decide;
 * an empty recipient when --rcpt is not given), then the message (from
 * --message, or an empty one) and the final decision.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "milter/check_cmd.h"
#include "milter/msgfile.h"
#include "policy/checks.h"
#include "policy/reply.h"
#include "policy/resolver.h"

enum {
	EXIT_USAGE = 64,
	EXIT_NOINPUT = 66,
	EXIT_SOFTWARE = 70,
	EXIT_CONFIG = 78,
};

struct check_args {
	const char *conf, *from, *ip, *helo, *rcpt, *auth, *message;
};

/* parse_args - long options after "check"; 0 or EXIT_USAGE */
static int parse_args(int argc, char **argv, struct check_args *a)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "ip", required_argument, NULL, 'I' },
		{ "helo", required_argument, NULL, 'H' },
		{ "rcpt", required_argument, NULL, 'R' },
		{ "auth", required_argument, NULL, 'A' },
		{ "message", required_argument, NULL, 'M' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'F': a->from = optarg; break;
		case 'I': a->ip = optarg; break;
		case 'H': a->helo = optarg; break;
		case 'R': a->rcpt = optarg; break;
		case 'A': a->auth = optarg; break;
		case 'M': a->message = optarg; break;
		case 'c': a->conf = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mxguard check: unexpected argument: %s\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!a->from || !a->ip || !a->helo) {
		fprintf(stderr, "mxguard check: --from, --ip and --helo are required\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* parse_ip - IPv4 or IPv6 text to a sockaddr; -1 when neither */
static int parse_ip(const char *ip, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* show - one "name: value" line; NULL value prints "-" (unknown) */
static void show(const char *name, const char *value)
{
	printf("%s: %s\n", name, value ? value : "-");
}

/* known - v when the fact bit is known, else NULL */
static const char *known(const struct facts *f, unsigned bit, const char *v)
{
	return (f->known & bit) ? v : NULL;
}

/* show_facts - every fact, unknown ones as "-" */
static void show_facts(const struct facts *f)
{
	char buf[FACT_ADDR_MAX + 2];

	show("client_ip", known(f, FACT_CLIENT, f->client_ip));
	show("trusted", known(f, FACT_CLIENT, f->trusted ? "yes" : "no"));
	show("helo", known(f, FACT_HELO, f->helo));
	snprintf(buf, sizeof buf, "<%s>", f->sender);
	show("sender", known(f, FACT_SENDER, buf));
	show("sender_domain", known(f, FACT_SENDER, f->sender_domain));
	show("authenticated", known(f, FACT_SENDER, f->authenticated ? "yes" : "no"));
	snprintf(buf, sizeof buf, "<%s>", f->rcpt);
	show("rcpt", known(f, FACT_RCPT, buf));
	show("from_domain", known(f, FACT_FROM, f->from_domain));
	show("mx", known(f, FACT_MX, facts_mx_name(f->mx)));
	show("mx_detail", known(f, FACT_MX, f->mx_detail));
	show("spf", known(f, FACT_SPF, facts_spf_name(f->spf)));
	show("helo_spf", known(f, FACT_HELO_SPF, facts_spf_name(f->helo_spf)));
	show("spf_detail", known(f, FACT_SPF, f->spf_detail));
	show("dkim", known(f, FACT_DKIM, facts_dkim_name(f->dkim)));
	show("dkim_aligned", known(f, FACT_DKIM, f->dkim_aligned ? "yes" : "no"));
	show("dkim_detail", known(f, FACT_DKIM, f->dkim_detail));
}

/* show_verdict - rule, action, reply; returns the exit status for it */
static int show_verdict(const struct checks *ck, const struct verdict *v)
{
	static const int status[] = {
		[ACTION_NONE] = 2, [ACTION_ACCEPT] = 0, [ACTION_REJECT] = 1,
		[ACTION_TEMPFAIL] = 2, [ACTION_DISCARD] = 3, [ACTION_QUARANTINE] = 4,
	};
	struct reply r;
	char line[sizeof r.text + 32];

	reply_format(v, checks_facts(ck), &r);
	reply_line(&r, line, sizeof line);
	show("rule", v->rule_name);
	show("action", action_name(v->action));
	show("reply", line[0] ? line : NULL);
	show("dry_run", v->dry_run ? "yes" : "no");
	if (v->dry_run)
		return 0;
	return (unsigned)v->action < sizeof status / sizeof status[0] ? status[v->action] : 2;
}

/* show_headers - "header: Name: value" for each header the milter would add */
static void show_headers(const struct checks *ck, const struct verdict *v)
{
	struct checks_hdr hdrs[CHECKS_HDR_MAX];
	int n;

	if (!v->dry_run && v->action != ACTION_ACCEPT && v->action != ACTION_QUARANTINE)
		return;
	n = checks_result_headers(ck, hdrs);
	for (int i = 0; i < n; i++)
		printf("header: %s: %s\n", hdrs[i].name, hdrs[i].value);
	if (n > 0)
		checks_result_headers_free(hdrs, n);
}

/* refusing - would this verdict refuse at an envelope stage? */
static bool refusing(enum checks_status st, const struct verdict *v)
{
	return st == CHECKS_DECIDED &&
	       (v->action == ACTION_REJECT || v->action == ACTION_TEMPFAIL);
}

/* run_stages - drive ck like the milter; returns the status, fills v and *stage */
static enum checks_status run_stages(struct checks *ck, const struct config *cfg,
				     const struct check_args *a, const struct sockaddr *sa,
				     struct verdict *v, const char **stage, char *err, size_t errlen)
{
	enum checks_status st;

	checks_set_client(ck, sa);
	checks_advance(ck, CHECK_STAGE_CONNECT);
	checks_set_helo(ck, a->helo);
	checks_advance(ck, CHECK_STAGE_HELO);
	checks_set_sender(ck, a->from, a->auth && *a->auth);
	*stage = "mail";
	if (checks_advance(ck, CHECK_STAGE_MAIL) < 0)
		return CHECKS_ERROR;
	if (cfg->reject_stage == STAGE_MAIL && refusing(st = checks_decide(ck, v), v))
		return st;
	checks_set_rcpt(ck, a->rcpt ? a->rcpt : "");
	*stage = "rcpt";
	if (checks_advance(ck, CHECK_STAGE_RCPT) < 0)
		return CHECKS_ERROR;
	st = checks_decide(ck, v);
	if (st == CHECKS_ERROR || refusing(st, v))
		return st;
	*stage = "eom";
	if (a->message) {
		if (msgfile_feed(ck, a->message, err, errlen) < 0)
			return CHECKS_ERROR;
	} else if (checks_advance(ck, CHECK_STAGE_HEADERS) < 0) {
		return CHECKS_ERROR;
	}
	if (checks_advance(ck, CHECK_STAGE_EOM) < 0)
		return CHECKS_ERROR;
	return checks_decide(ck, v);
}

/* check_cmd_main - the subcommand */
int check_cmd_main(int argc, char **argv, int at, const char *conf)
{
	struct check_args a = { .conf = conf };
	struct resolver_options ro;
	struct sockaddr_storage ss;
	struct config *cfg;
	struct resolver *res;
	struct checks *ck;
	struct verdict v;
	const char *stage = "mail";
	char err[512] = "";
	enum checks_status st;
	int rc;

	if ((rc = parse_args(argc - at, argv + at, &a)) != 0)
		return rc;
	if (parse_ip(a.ip, &ss) < 0) {
		fprintf(stderr, "mxguard check: --ip %s is not an IPv4 or IPv6 address\n", a.ip);
		return EXIT_USAGE;
	}
	if (a.message && strcmp(a.message, "-") != 0 && access(a.message, R_OK) != 0) {
		fprintf(stderr, "mxguard check: cannot read %s: %s\n", a.message, strerror(errno));
		return EXIT_NOINPUT;
	}
	cfg = config_load(a.conf, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	if (resolver_library_init() != 0 || checks_library_init(err, sizeof err) != 0) {
		fprintf(stderr, "mxguard check: cannot initialise the libraries: %s\n", err);
		config_unref(cfg);
		return EXIT_SOFTWARE;
	}
	config_resolver_options(cfg, &ro);
	res = resolver_new(&ro, err, sizeof err);
	if (!res)
		fprintf(stderr, "mxguard check: no DNS resolver: %s\n", err);
	ck = checks_new(cfg, res);
	if (!ck) {
		fprintf(stderr, "mxguard check: out of memory\n");
		rc = EXIT_SOFTWARE;
	} else {
		err[0] = '\0';
		st = run_stages(ck, cfg, &a, (const struct sockaddr *)&ss, &v, &stage, err, sizeof err);
		show_facts(checks_facts(ck));
		show("stage", stage);
		if (st == CHECKS_DECIDED) {
			rc = show_verdict(ck, &v);
			show_headers(ck, &v);
		} else {
			const char *why = err[0] ? err : st == CHECKS_ERROR ? checks_error(ck)
					  : "no rule could decide";

			show("error", why);
			rc = EXIT_SOFTWARE;
		}
	}
	checks_free(ck);
	resolver_free(res);
	config_unref(cfg);
	checks_library_free();
	resolver_library_cleanup();
	return rc;
}
