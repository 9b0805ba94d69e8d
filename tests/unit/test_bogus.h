/*
 * test_bogus.h - the bogus_networks of the unit tests: the built-in
 * default (netlist_bogus_default) less the documentation ranges (RFC 5737
 * TEST-NETs, RFC 3849's 2001:db8::/32) and the benchmarking range, which
 * the canned DNS answers use for the public Internet. The default itself
 * is tested on its own (test_config, test_mx).
 */
#ifndef MXGUARD_TEST_BOGUS_H
#define MXGUARD_TEST_BOGUS_H

#include <string.h>

#include "policy/netlist.h"

#define TEST_BOGUS_NETWORKS \
	"0.0.0.0/8, 127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, " \
	"100.64.0.0/10, 224.0.0.0/4, 240.0.0.0/4, 192.0.0.0/24, ::/128, ::1/128, fc00::/7, " \
	"fe80::/10, ff00::/8, 100::/64"

/* test_bogus_netlist - TEST_BOGUS_NETWORKS as a netlist; NULL when it cannot be made */
static inline struct netlist *test_bogus_netlist(void)
{
	char list[] = TEST_BOGUS_NETWORKS, err[128];
	struct netlist *nl = netlist_new();

	for (char *save = NULL, *n = strtok_r(list, ", ", &save); nl && n; n = strtok_r(NULL, ", ", &save))
		if (netlist_add(nl, n, err, sizeof err) != 0) {
			netlist_free(nl);
			return NULL;
		}
	return nl;
}

#endif
