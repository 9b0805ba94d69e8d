/*
 * engine.h - `mxguard replay` without its input and output: lines in,
 * a report out.
 *
 * Each line is read (replay/jsonline.h, replay/record.h) and its message
 * decided again under the candidate configuration, and under the baseline
 * when there is one (replay/walk.h). The result is kept per message - the
 * lines of one message share its txn and each repeats everything known
 * so far, so the last one decides - until the message's last line is
 * known: its end (end of message, abort, a refusal at MAIL FROM), the end
 * of the input, or no line of it for an hour of log time (a message never
 * lasts that long; this bounds the memory a long log of refused
 * recipients needs). Then it is counted (replay/report.h).
 *
 * Every line is also compared with what the reference configuration (the
 * baseline, else the candidate) would have written at the same point:
 * replaying the configuration that wrote a log must reproduce every line.
 *
 * Lines that are not decision lines are counted by why, and the first of
 * each kind is kept (file, line, column, reason) for a warning. The
 * caller owns the configurations and keeps them for the engine's life.
 */
#ifndef MXGUARD_ENGINE_H
#define MXGUARD_ENGINE_H

#include <stddef.h>

#include "conf/config.h"
#include "replay/report.h"

struct replay_setup {
	const struct config *candidate;
	const struct config *baseline;   /* NULL: the log is the other side */
	unsigned limit;                  /* examples kept per changed pair of rules */
};

/* The first skipped line of one kind (enum rp_skip). */
struct replay_first {
	const char *file;                /* as given to replay_line */
	unsigned long line;              /* 0: none of this kind */
	size_t column;                   /* 1-based; 0 when it does not apply */
	const char *why;                 /* static text */
};

struct replay;

/* replay_new - NULL when out of memory. */
struct replay *replay_new(const struct replay_setup *s);

/*
 * replay_line - one line (line[len] == '\0'; the buffer is rewritten) of
 * file, its number lineno. 0, or -1 when out of memory.
 */
int replay_line(struct replay *, char *line, size_t len, const char *file, unsigned long lineno);

/* replay_too_long - a line longer than the reader takes was skipped. */
void replay_too_long(struct replay *, const char *file, unsigned long lineno);

/* replay_finish - the input ended: every message still open is counted. 0, or -1 out of memory. */
int replay_finish(struct replay *);

/* replay_report - the counts (after replay_finish); valid until replay_free. */
const struct report *replay_report(const struct replay *);

/* replay_first - the first skipped line of a kind. */
const struct replay_first *replay_first(const struct replay *, enum rp_skip kind);

/* replay_free - everything. NULL is fine. */
void replay_free(struct replay *);

#endif
