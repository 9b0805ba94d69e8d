/*
 * checks_table.c - the rows of the check table, in start order.
 *
 * Each row lives next to its adapters (checks_mx.c, ...). Adding a check
 * means one extern and one line here. The order is the order in which
 * checks start and report in Authentication-Results.
 */
#include <stddef.h>

#include "policy/checks_row.h"

extern const struct check_row check_row_mx, check_row_mx_host, check_row_mx_addr, check_row_dnssec, check_row_ns,
	check_row_ns_addr, check_row_spf, check_row_helo_spf, check_row_dkim,
	check_row_dnsbl_0, check_row_dnsbl_1, check_row_dnsbl_2, check_row_dnsbl_3,
	check_row_dnsbl_4, check_row_dnsbl_5, check_row_dnsbl_6, check_row_dnsbl_7;

const struct check_row *const check_table[] = {
	&check_row_mx,
	&check_row_mx_host,
	&check_row_mx_addr,
	&check_row_dnssec,
	&check_row_ns,
	&check_row_ns_addr,
	/* the DNS blocklists: after the rows that make their targets */
	&check_row_dnsbl_0, &check_row_dnsbl_1, &check_row_dnsbl_2, &check_row_dnsbl_3,
	&check_row_dnsbl_4, &check_row_dnsbl_5, &check_row_dnsbl_6, &check_row_dnsbl_7,
	&check_row_spf,
	&check_row_helo_spf,
	&check_row_dkim,
};
const size_t check_table_len = sizeof check_table / sizeof check_table[0];

_Static_assert(sizeof check_table / sizeof check_table[0] <= CHECKS_MAX_ROWS,
	       "raise CHECKS_MAX_ROWS in checks_row.h");
