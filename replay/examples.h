/*
 * examples.h - the example line of a changed decision, for the report:
 * when (the log's time), the queue id, the sender and the client, the
 * facts that matter - those the two deciding rules test and those an
 * undecided one needs - and the candidate's reply, rendered with its
 * templates as the daemon would send it.
 *
 * The example and its strings are malloc'd; rp_example_free frees them.
 */
#ifndef MXGUARD_EXAMPLES_H
#define MXGUARD_EXAMPLES_H

#include "conf/config.h"
#include "replay/record.h"
#include "replay/report.h"
#include "replay/walk.h"

/*
 * example_make - for the message of rec, walked as w under candidate
 * (facts f, rewritten); old_rule is the other side's deciding rule, a
 * rule of old_cfg when that is not NULL (else looked up in candidate).
 * NULL when out of memory.
 */
struct rp_example *example_make(const struct config *candidate, const struct config *old_cfg, const char *old_rule,
				const struct record *rec, const struct walk_in *in, struct walk *w,
				struct facts *f);

/* example_fact_list - "spf, dkim": the names of the facts in mask, into buf; returns buf. */
const char *example_fact_list(fact_mask mask, const struct facts *f, char *buf, size_t len);

#endif
