/*
 * replay_cmd.c - `mxguard replay` (see replay_cmd.h): the command line,
 * the configurations, every input read line by line into the engine
 * (replay/engine.h), then the warnings, the report and the exit status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "milter/replay_cmd.h"
#include "milter/replay_out.h"
#include "replay/engine.h"
#include "replay/input.h"

enum {
	EXIT_CHANGED = 1,
	EXIT_USAGE = 64,
	EXIT_NOINPUT = 66,
	EXIT_SOFTWARE = 70,
	EXIT_CONFIG = 78,
};

#define LIMIT_DEFAULT 10

struct replay_args {
	const char *candidate, *baseline;
	int json, help;
	unsigned limit;
	char **files;
	int nfiles;
};

/* replay_usage - what `mxguard replay` takes, to stream */
static void replay_usage(FILE *out)
{
	fprintf(out,
		"usage: mxguard replay [-c CANDIDATE] [--baseline CURRENT] [--json] [--limit N] [LOGFILE...]\n"
		"What a candidate configuration would have decided on the messages of a decision\n"
		"log (log_format = json), through the daemon's own decision code, without DNS.\n"
		"  -c FILE          the candidate configuration (--config; default: the installed one)\n"
		"  --baseline FILE  replay this configuration too and compare the candidate with it\n"
		"                   instead of with the log (a log written in dry run, or by an older\n"
		"                   configuration, compared fairly)\n"
		"  --json           the report as one JSON document\n"
		"  --limit N        example lines per changed pair of rules (default %d)\n"
		"  LOGFILE          plain or .gz, read in the order given (oldest first); none or -:\n"
		"                   standard input. Other programs' lines, text-format lines and\n"
		"                   broken JSON are counted and skipped with a warning.\n"
		"Exit status: 0 no decision changes, 1 decisions change (or cannot be told: a rule\n"
		"needs a fact the log does not have), 64 usage, 66 unreadable input, 70 internal\n"
		"error, 78 bad configuration. See mxguard(8).\n",
		LIMIT_DEFAULT);
}

/* parse_args - options after "replay"; 0 or EXIT_USAGE */
static int parse_args(int argc, char **argv, struct replay_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "baseline", required_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'J' },
		{ "limit", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	char *end;
	unsigned long n;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': a->candidate = optarg; break;
		case 'B': a->baseline = optarg; break;
		case 'J': a->json = 1; break;
		case 'L':
			n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || n > 100000 || optarg[0] == '-') {
				fprintf(stderr, "mxguard replay: --limit %s is not a number from 0 to 100000\n", optarg);
				return EXIT_USAGE;
			}
			a->limit = (unsigned)n;
			break;
		case 'h': a->help = 1; return 0;
		default: replay_usage(stderr); return EXIT_USAGE;
		}
	}
	a->files = argv + optind;
	a->nfiles = argc - optind;
	return 0;
}

/* load - one configuration; NULL after saying why */
static struct config *load(const char *path, const char *what)
{
	char err[512];
	struct config *c = config_load(path, err, sizeof err);

	if (!c)
		fprintf(stderr, "mxguard replay: the %s: %s\n", what, err);
	return c;
}

/* read_all - every input through the engine; EXIT_SOFTWARE when out of memory, else 0 */
static int read_all(struct replay *R, struct input **in, char **files, int n, unsigned long *read_errors)
{
	for (int i = 0; i < n; i++) {
		enum input_status st;
		char *line;
		size_t len;
		unsigned long lineno;

		while ((st = input_next(in[i], &line, &len, &lineno)) != INPUT_END) {
			if (st == INPUT_ERROR) {
				fprintf(stderr, "mxguard replay: %s: read error after line %lu: %s\n", files[i], lineno,
					input_error(in[i]));
				(*read_errors)++;
				break;
			}
			if (st == INPUT_TOO_LONG)
				replay_too_long(R, files[i], lineno);
			else if (replay_line(R, line, len, files[i], lineno) < 0)
				return EXIT_SOFTWARE;
		}
	}
	return replay_finish(R) < 0 ? EXIT_SOFTWARE : 0;
}

/* replay_cmd_main - the subcommand */
int replay_cmd_main(int argc, char **argv, int at, const char *conf)
{
	static char *stdin_only[] = { (char *)"-" };
	struct replay_args a = { .candidate = conf, .limit = LIMIT_DEFAULT };
	struct config *cand = NULL, *base = NULL;
	struct input **in = NULL;
	struct replay *R = NULL;
	struct replay_run run = { 0 };
	int rc, opened = 0;

	if ((rc = parse_args(argc - at, argv + at, &a)) != 0)
		return rc;
	if (a.help) {
		replay_usage(stdout);
		return 0;
	}
	if (a.nfiles == 0) {
		a.files = stdin_only;
		a.nfiles = 1;
	}
	if (!(cand = load(a.candidate, "candidate")) || (a.baseline && !(base = load(a.baseline, "baseline")))) {
		rc = EXIT_CONFIG;
		goto out;
	}
	/* every input opens before anything is read: a typo costs no half report */
	if (!(in = calloc((size_t)a.nfiles, sizeof *in))) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	for (; opened < a.nfiles; opened++) {
		char err[512];

		if (!(in[opened] = input_open(a.files[opened], err, sizeof err))) {
			fprintf(stderr, "mxguard replay: cannot read %s\n", err);
			rc = EXIT_NOINPUT;
			goto out;
		}
	}
	R = replay_new(&(struct replay_setup){ cand, base, a.limit });
	if (!R || (rc = read_all(R, in, a.files, a.nfiles, &run.read_errors)) != 0) {
		fprintf(stderr, "mxguard replay: out of memory\n");
		rc = EXIT_SOFTWARE;
		goto out;
	}
	run.candidate = a.candidate;
	run.baseline = a.baseline;
	run.list_name = cand->list_name;
	run.files = (const char *const *)a.files;
	run.nfiles = a.nfiles;
	run.limit = a.limit;
	run.engine = R;
	run.rp = replay_report(R);
	rc = run.read_errors ? EXIT_NOINPUT : run.rp->changed ? EXIT_CHANGED : 0;
	run.status = rc;
	replay_warnings(stderr, &run);
	if (a.json)
		replay_print_json(stdout, &run);
	else
		replay_print_text(stdout, &run);
	if (fflush(stdout) != 0) {
		perror("mxguard replay: standard output");
		rc = EXIT_SOFTWARE;
	}
out:
	replay_free(R);
	for (int i = 0; i < opened; i++)
		input_close(in[i]);
	free(in);
	config_unref(base);
	config_unref(cand);
	return rc;
}
