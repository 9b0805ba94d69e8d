/*
 * check_cmd.c - `mxguard check` (see check_cmd.h).
 *
 * Walks the SMTP stages in order as the milter does: connect, HELO, MAIL
 * FROM, RCPT (an empty recipient when --rcpt is not given), then the
 * message (from --message, or an empty one); at each stage it asks the
 * checks for their answer (checks_envelope_answer, checks_final_answer)
 * and prints where and how it was decided.
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
	int list_facts;
	int help;
};

/* check_usage - what `mxguard check` takes, to stream */
static void check_usage(FILE *out)
{
	fprintf(out,
		"usage: mxguard check --from ADDR --ip IP --helo NAME [--rcpt ADDR]\n"
		"                     [--auth USER] [--message FILE|-] [-c FILE]\n"
		"       mxguard check --facts\n"
		"Evaluate the policy once, as the daemon would for one message, with live DNS\n"
		"(no cache), and print every fact, the lookups and the decision.\n"
		"  --from ADDR     MAIL FROM (<> for the null sender)\n"
		"  --ip IP         the client's address (IPv4 or IPv6)\n"
		"  --helo NAME     the HELO/EHLO name\n"
		"  --rcpt ADDR     a recipient (the decision is then the one at RCPT)\n"
		"  --auth USER     the client authenticated as USER (SMTP AUTH)\n"
		"  --message FILE  a whole message (- for stdin): DKIM, DMARC, From and the end-of-data rules\n"
		"  --facts         list the facts rules can test (kind, stage, values) and exit\n"
		"  -c FILE         configuration (--config)\n"
		"Exit status: 0 accept (a dry-run verdict too), 1 reject, 2 tempfail, 3 discard,\n"
		"4 quarantine; 64 usage, 66 unreadable message, 70 internal error, 78 bad\n"
		"configuration. See mxguard(8).\n");
}

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
		{ "facts", no_argument, NULL, 'L' },
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
		case 'L': a->list_facts = 1; break;
		case 'c': a->conf = optarg; break;
		case 'h': a->help = 1; return 0;
		default: check_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mxguard check: unexpected argument: %s\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!a->list_facts && (!a->from || !a->ip || !a->helo)) {
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

/* list_facts - the fact table for people writing rules: name, kind, stage, values, what it is */
static int list_facts(void)
{
	int w = 14;   /* the name column: as wide as the longest name */
	char label[64];

	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const char *l = facts_label((enum fact_id)i, label, sizeof label);

		if (l && (int)strlen(l) > w)
			w = (int)strlen(l);
	}
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const struct fact_def *d = &fact_table[i];
		const char *l = facts_label((enum fact_id)i, label, sizeof label);

		if (!l)
			continue;   /* a list's facts: once, as dnsbl.LIST */
		printf("%-*s %-18s %-8s %s%s\n", w, l, facts_kind_name(d->kind), check_stage_name(d->stage),
		       d->about, d->flags & FACT_PER_RCPT ? " [per recipient: not on a message's log line]" : "");
		if (d->kind == FACT_KIND_ENUM) {
			printf("%-*s values:", w + 28, "");
			for (unsigned v = 1; v < d->nvalues; v++)
				printf(" %s", d->values[v]);
			printf("\n");
		}
	}
	return 0;
}

/* show_facts - every fact of the table in its order, unknown ones as "-" */
static void show_facts(const struct facts *f)
{
	char buf[FACT_RENDER_MAX];

	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char namebuf[96];
		const char *name = facts_name(f, (enum fact_id)i, namebuf, sizeof namebuf);

		if (name)   /* a list not configured has no facts */
			show(name, facts_render(f, (enum fact_id)i, -1, buf, sizeof buf));
	}
}

/* show_verdict - rule, action, reply; returns the exit status for it */
static int show_verdict(const struct verdict *v, const struct reply *r)
{
	static const int status[] = {
		[ACTION_NONE] = 2, [ACTION_ACCEPT] = 0, [ACTION_REJECT] = 1,
		[ACTION_TEMPFAIL] = 2, [ACTION_DISCARD] = 3, [ACTION_QUARANTINE] = 4,
	};

	show("rule", v->rule_name);
	show("action", action_name(v->action));
	show("reply", r->line[0] ? r->line : NULL);
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

	if (!verdict_delivers(v))
		return;
	n = checks_result_headers(ck, hdrs);
	for (int i = 0; i < n; i++)
		printf("header: %s: %s\n", hdrs[i].name, hdrs[i].value);
	if (n > 0)
		checks_result_headers_free(hdrs, n);
}

/*
 * run_stages - drive ck through the stages as the milter does, stopping
 * where a refusal (or a dry-run one) is decided; returns the answer,
 * fills v, r and *stage
 */
static enum checks_answer run_stages(struct checks *ck, const struct check_args *a,
				     const struct sockaddr *sa, struct verdict *v, struct reply *r,
				     const char **stage, char *err, size_t errlen)
{
	enum checks_answer ans;

	checks_set_client(ck, sa);
	checks_advance(ck, CHECK_STAGE_CONNECT);
	checks_set_helo(ck, a->helo);
	checks_advance(ck, CHECK_STAGE_HELO);
	checks_set_sender(ck, a->from, a->auth && *a->auth);
	*stage = "mail";
	if (checks_advance(ck, CHECK_STAGE_MAIL) < 0)
		return CHECKS_FAILED;
	ans = checks_envelope_answer(ck, CHECK_STAGE_MAIL, v, r);
	if (ans != CHECKS_GO_ON)
		return ans;
	checks_set_rcpt(ck, a->rcpt ? a->rcpt : "");
	*stage = "rcpt";
	if (checks_advance(ck, CHECK_STAGE_RCPT) < 0)
		return CHECKS_FAILED;
	ans = checks_envelope_answer(ck, CHECK_STAGE_RCPT, v, r);
	if (ans != CHECKS_GO_ON)
		return ans;
	*stage = "eom";
	if (a->message) {
		if (msgfile_feed(ck, a->message, err, errlen) < 0)
			return CHECKS_FAILED;
	} else if (checks_advance(ck, CHECK_STAGE_HEADERS) < 0) {
		return CHECKS_FAILED;
	}
	if (checks_advance(ck, CHECK_STAGE_EOM) < 0)
		return CHECKS_FAILED;
	return checks_final_answer(ck, v, r);
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
	struct reply r;
	const char *stage = "mail";
	char err[512] = "";
	enum checks_answer ans;
	int rc;

	if ((rc = parse_args(argc - at, argv + at, &a)) != 0)
		return rc;
	if (a.help) {
		check_usage(stdout);
		return 0;
	}
	if (a.list_facts)
		return list_facts();
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
		char found[4096];

		err[0] = '\0';
		checks_set_explain(ck);
		ans = run_stages(ck, &a, (const struct sockaddr *)&ss, &v, &r, &stage, err, sizeof err);
		show_facts(checks_facts(ck));
		checks_explain(ck, found, sizeof found);
		fputs(found, stdout);
		show("stage", stage);
		if (ans != CHECKS_FAILED) {
			rc = show_verdict(&v, &r);
			show_headers(ck, &v);
		} else {
			show("error", err[0] ? err : checks_error(ck));
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
