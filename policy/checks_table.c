/*
 * checks_table.c - the rows of the check table, in start order.
 *
 * Each row lives next to its adapters (checks_mx.c, ...). Adding a check
 * means one extern and one line here. The order is the order in which
 * checks start and report in Authentication-Results.
 *
 * It also owns the rows' once-per-process library set-up
 * (checks_library_init/free): each row's lib_init runs once, before the
 * first milter thread, because that is a property of the table, not of
 * any one message's run in checks.c.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "policy/checks_row.h"

extern const struct check_row check_row_mx, check_row_mx_host, check_row_mx_addr, check_row_dnssec, check_row_ns,
	check_row_ns_addr, check_row_spf, check_row_helo_spf, check_row_dkim, check_row_dmarc,
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
	/* reads spf and dkim as they finish (.uses) */
	&check_row_dmarc,
};
const size_t check_table_len = sizeof check_table / sizeof check_table[0];

_Static_assert(sizeof check_table / sizeof check_table[0] <= CHECKS_MAX_ROWS,
	       "raise CHECKS_MAX_ROWS in checks_row.h");

/* Process-wide set-up of the rows: checks_library_init (checks.h) runs every row's lib_init once. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static char library_error[300];   /* "" when every row's library is up */

/* library_init_rows - every row's process-wide set-up, once; the first failure is kept */
static void library_init_rows(void)
{
	for (size_t i = 0; i < check_table_len && !library_error[0]; i++)
		if (check_table[i]->lib_init &&
		    check_table[i]->lib_init(library_error, sizeof library_error) < 0 && !library_error[0])
			snprintf(library_error, sizeof library_error, "cannot set up the %s check",
				 check_table[i]->name);
}

/* checks_library_init - set up what the rows share, once per process (idempotent, thread-safe) */
int checks_library_init(char *err, size_t errlen)
{
	pthread_once(&library_once, library_init_rows);
	if (!library_error[0])
		return 0;
	snprintf(err, errlen, "%s", library_error);
	return -1;
}

/* checks_library_free - at exit, after the last message */
void checks_library_free(void)
{
	for (size_t i = check_table_len; i-- > 0;)
		if (check_table[i]->lib_free)
			check_table[i]->lib_free();
}
