/*
 * replay_cmd.h - `mxguard replay`: what a candidate configuration would
 * have decided on the messages of a decision log (log_format = json),
 * through the daemon's own decision code, without any DNS.
 *
 *   mxguard replay [-c CANDIDATE] [--baseline CURRENT] [--json] [--limit N] [LOGFILE...]
 *
 * Reads the files in the order given (plain or .gz; "-" or none: standard
 * input), prints the report (milter/replay_out.h) and exits 0 when no
 * message's decision changes, 1 when some do (an undecided one counts:
 * the log could not show that it stays the same), 64 usage error, 66 an
 * input that cannot be read, 70 internal error (out of memory), 78
 * configuration error.
 */
#ifndef MXGUARD_REPLAY_CMD_H
#define MXGUARD_REPLAY_CMD_H

/* replay_cmd_main - argv[at] is "replay"; conf is the default or a -c given before it. */
int replay_cmd_main(int argc, char **argv, int at, const char *conf);

#endif
