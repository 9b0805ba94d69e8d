/*
 * callbacks.h - the libmilter callback table of mxguard.
 *
 * The callbacks copy what the MTA says into the message's checks
 * (policy/checks.h), ask for a decision at the stage the configuration
 * allows (reject_stage), and turn the verdict into a libmilter answer:
 * a reply code and SMFIS_REJECT/TEMPFAIL for a refused recipient,
 * DISCARD, smfi_quarantine or accept at end of message. They decide no
 * policy themselves; every decision is written to the decision log.
 */
#ifndef MXGUARD_CALLBACKS_H
#define MXGUARD_CALLBACKS_H

#include <libmilter/mfapi.h>

/* callbacks_desc - the smfiDesc to pass to smfi_register(). */
struct smfiDesc *callbacks_desc(void);

#endif
