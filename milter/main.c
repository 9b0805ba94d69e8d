/*
 * main.c - command line: the daemon (default), -n, -h, -V, and the
 * `check` subcommand.
 *
 *   mxguard [-f] [-d] [-c FILE]     run the milter (-f: foreground, log to stderr; -d: debug lines)
 *   mxguard -n [-c FILE]            check the configuration and exit
 *   mxguard check --from ADDR --ip IP --helo NAME [...]   see check_cmd.c
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "milter/check_cmd.h"
#include "milter/daemon.h"

/* usage - to stream; returns status */
static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: mxguard [-f] [-d] [-c FILE]      run the milter\n"
		"       mxguard -n [-c FILE]             check the configuration and exit\n"
		"       mxguard check --from ADDR --ip IP --helo NAME [--rcpt ADDR]\n"
		"                     [--auth USER] [--message FILE] [-c FILE]\n"
		"                                        evaluate the policy once (check --help)\n"
		"       mxguard check --facts            list the facts rules can test\n"
		"       mxguard -h | -V\n"
		"  -c FILE  configuration (default %s)\n"
		"  -f       stay in the foreground and log to stderr\n"
		"  -d       also log debug lines\n"
		"  -n       parse the configuration, print \"configuration OK\" or the errors\n"
		"Manual pages: mxguard(8) (the daemon, check, signals, exit codes) and\n"
		"mxguard.conf(5) (every setting, the rules and the facts).\n",
		MXGUARD_CONF_PATH);
	return status;
}

/* main - dispatch on the subcommand and options */
int main(int argc, char **argv)
{
	const char *conf = MXGUARD_CONF_PATH;
	bool foreground = false, test_only = false, debug = false;
	int opt;

	/* "check" may come first or after global options such as -c FILE */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "check") == 0)
			return check_cmd_main(argc, argv, i, conf);
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (argv[i][0] != '-')
			break;
	}
	while ((opt = getopt(argc, argv, "c:fndhV")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			test_only = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'h':
			return usage(stdout, 0);
		case 'V':
			printf("mxguard %s\n", MXGUARD_VERSION);
			return 0;
		default:
			return usage(stderr, 64);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mxguard: unexpected argument: %s\n", argv[optind]);
		return usage(stderr, 64);
	}
	if (test_only)
		return daemon_check_config(conf);
	return daemon_run(conf, foreground, debug);
}
