/*
 * checks_table.c - the rows of the check table, in start order.
 *
 * Each row lives next to its adapters (checks_mx.c, ...). Adding a check
 * means one line here and one entry in CHECKS_MAX_ROWS' budget.
 */
#include <stddef.h>

#include "policy/checks_row.h"

const struct check_row *const check_table[] = {
	NULL,   /* the mx row (checks_mx.c) joins when policy/mx.h lands */
};
const size_t check_table_len = 0;
