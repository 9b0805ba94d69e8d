/*
 * check_cmd.h - `mxguard check`: evaluate the configured policy once
 * from the command line, through the same checks and rules as the
 * milter, with a real resolver using the configuration's dns_servers.
 *
 * `mxguard check --facts` lists the facts rules can use (the fact table:
 * name, kind, earliest stage, values, what it is) and exits 0.
 *
 * Output: one "name: value" line per fact, what the checks found as dig
 * would show it ("mx_record: 10 mx1.example.org 192.0.2.1 ..."; every
 * check waits for all of its answers for that), then stage, rule, action,
 * reply and dry_run. Exit status: 0 accept, 1 reject, 2 tempfail,
 * 3 discard, 4 quarantine (a dry-run verdict exits 0: the daemon would
 * accept), 64 usage error, 66 message file unreadable, 70 internal
 * error, 78 configuration error.
 */
#ifndef MXGUARD_CHECK_CMD_H
#define MXGUARD_CHECK_CMD_H

/* check_cmd_main - argv[at] is "check"; conf is the default or a -c given before it. */
int check_cmd_main(int argc, char **argv, int at, const char *conf);

#endif
