/*
 * quarantine.h - what the quarantine action does to a message at end of
 * data, as the configuration says (quarantine_action):
 *   hold     the MTA's quarantine: Postfix's hold queue, Sendmail's
 *            quarantine queue (smfi_quarantine, the reply text as reason)
 *   header   deliver, with "quarantine_header: TEXT" added at the top
 *   subject  deliver, with that header and the Subject prefixed with
 *            quarantine_subject_tag (a Subject already tagged is left
 *            alone; a message without one gets one)
 * TEXT is the deciding rule's reply text. Nothing is owned across calls.
 */
#ifndef MXGUARD_QUARANTINE_H
#define MXGUARD_QUARANTINE_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

#include "conf/config.h"

/*
 * quarantine_apply - subject is the message's first Subject value (NULL:
 * none), leadspc whether the MTA expects our values to bring their own
 * leading space. 0, or -1 with a reason in *why (a libmilter call failed
 * or out of memory: the caller answers as for an internal error).
 */
int quarantine_apply(SMFICTX *ctx, const struct config *cfg, const char *subject, const char *text,
		     bool leadspc, const char **why);

#endif
