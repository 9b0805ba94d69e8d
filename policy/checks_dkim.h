/*
 * checks_dkim.h - the DKIM row of the check orchestrator, and the
 * process-wide DKIM library it uses.
 *
 * The library (struct dkimv_lib: libopendkim + the Public Suffix List)
 * is made once: checks_dkim_init() at start-up reports a failure early
 * (the daemon exits with the message); if nobody called it, the first
 * DKIM check makes it. It lives until checks_dkim_cleanup() at exit.
 *
 * The row starts at RCPT (when a rule refers to dkim/dkim_aligned), so
 * it sees every header; fires the key queries at end of headers; hashes
 * the body as it streams; and can only finish at end of message, once
 * every key answer is in (or the DNS deadline passed: temperror).
 */
#ifndef MXGUARD_CHECKS_DKIM_H
#define MXGUARD_CHECKS_DKIM_H

#include <stddef.h>

#include "policy/dkim.h"

struct checks;

/* checks_dkim_init - make the DKIM library now (idempotent, thread-safe). 0, or -1 with err. */
int checks_dkim_init(char *err, size_t errlen);

/* checks_dkim_cleanup - free it at exit, after the last message. */
void checks_dkim_cleanup(void);

/*
 * checks_dkim_results - the per-signature results of the message once
 * dkim is known (for Authentication-Results and the log); NULL with
 * *n = 0 when DKIM was not checked. Owned by ck.
 */
const struct dkimv_sig *checks_dkim_results(const struct checks *ck, size_t *n);

#endif
