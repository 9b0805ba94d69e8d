/*
 * replay_out.h - `mxguard replay`'s report, for people (text) or for
 * scripts (one JSON document), and its warnings on standard error.
 *
 * Reads what the engine counted (replay/engine.h, replay/report.h);
 * owns nothing.
 */
#ifndef MXGUARD_REPLAY_OUT_H
#define MXGUARD_REPLAY_OUT_H

#include <stdio.h>

#include "replay/engine.h"

struct replay_run {
	const char *candidate;       /* the candidate's path */
	const char *baseline;        /* the baseline's path, NULL: the log */
	const char *const *list_name;/* the candidate's lists (names of dnsbl.NAME facts) */
	const char *const *files;    /* the inputs ("-": standard input) */
	int nfiles;
	unsigned limit;              /* example lines per pair of rules */
	const struct replay *engine;
	const struct report *rp;
	unsigned long read_errors;   /* inputs that ended in a read error */
	int status;                  /* the exit status */
};

/* replay_warnings - what was skipped or not understood, one line each, "mxguard replay: warning: ..." */
void replay_warnings(FILE *err, const struct replay_run *run);

/* replay_print_text - the report for people. */
void replay_print_text(FILE *out, const struct replay_run *run);

/* replay_print_json - the same as one JSON document (and a newline). */
void replay_print_json(FILE *out, const struct replay_run *run);

#endif
