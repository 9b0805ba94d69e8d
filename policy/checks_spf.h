/*
 * checks_spf.h - the spf and helo_spf rows of the check orchestrator,
 * and the process-wide SPF evaluator they use.
 *
 * The evaluator (struct spf_context) is made once: checks_spf_init() at
 * start-up reports a failure early; if nobody called it, the first SPF
 * check makes it. It lives until checks_spf_cleanup() at exit.
 *
 * Both rows start at MAIL FROM when a rule refers to their fact, but do
 * no DNS until a decision waits for them; then libspf2 runs in the
 * connection's thread on its resolver, while other lookups progress.
 */
#ifndef MXGUARD_CHECKS_SPF_H
#define MXGUARD_CHECKS_SPF_H

#include <stddef.h>

/* checks_spf_init - make the SPF evaluator now (idempotent, thread-safe). 0, or -1 with err. */
int checks_spf_init(char *err, size_t errlen);

/* checks_spf_cleanup - free it at exit, after the last message. */
void checks_spf_cleanup(void);

#endif
