/*
 * fact_groups.h - for unit tests: the facts each check writes together,
 * as the check rows declare them (policy/checks_*.c). Tests that fill a
 * struct facts by hand mark a whole group known with these.
 */
#ifndef MXGUARD_TEST_FACT_GROUPS_H
#define MXGUARD_TEST_FACT_GROUPS_H

#include "policy/facts.h"

#define FACT_MX       (FBIT(mx) | FBIT(mx_detail))
#define FACT_NS       (FBIT(ns) | FBIT(ns_detail) | FBIT(ns_host))
#define FACT_NS_ADDR  (FBIT(ns_addr) | FBIT(ns_addr_result))
#define FACT_SPF      (FBIT(spf) | FBIT(spf_detail))
#define FACT_HELO_SPF FBIT(helo_spf)
#define FACT_DKIM     (FBIT(dkim) | FBIT(dkim_aligned) | FBIT(dkim_detail))

#endif
