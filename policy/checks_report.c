/*
 * checks_report.c - what a message's checks report besides their facts:
 * the headers added to accepted mail (each row's part of
 * Authentication-Results, and headers of the rows' own) and, for
 * `mxguard check`, what they found (see checks.h).
 */
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "policy/authres.h"
#include "policy/checks.h"
#include "policy/checks_row.h"

/* checks_explain - each started row's lines, in table order */
void checks_explain(const struct checks *ck, char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < check_table_len && n + 1 < len; i++) {
		if (!check_table[i]->explain || !ck->row[i].state)
			continue;
		check_table[i]->explain(ck->row[i].state, buf + n, len - n);
		n += strlen(buf + n);
	}
}

/* finished_state - a row's state for reporting: NULL unless it finished */
static const void *finished_state(const struct checks *ck, size_t i)
{
	return ck->row[i].started && ck->row[i].harvested ? ck->row[i].state : NULL;
}

/* checks_result_headers - Authentication-Results from every row's part, then the rows' own headers */
int checks_result_headers(const struct checks *ck, struct checks_hdr out[CHECKS_HDR_MAX])
{
	struct authres_hdr *ar;
	int n = 0, rc;

	if (checks_skipped_client(ck) || !ck->cfg->authserv_id)
		return 0;
	ar = authres_begin(ck->cfg->authserv_id);
	for (size_t i = 0; ar && i < check_table_len; i++)
		if (check_table[i]->authres)
			check_table[i]->authres(finished_state(ck, i), &ck->facts, ar);
	out[0].name = "Authentication-Results";
	if (authres_finish(ar, &out[0].value) < 0)
		return -1;
	n = 1;
	for (size_t i = 0; i < check_table_len && n < CHECKS_HDR_MAX; i++) {
		if (!check_table[i]->result_header)
			continue;
		rc = check_table[i]->result_header(finished_state(ck, i), ck->cfg, &ck->facts, &out[n]);
		if (rc < 0) {
			checks_result_headers_free(out, n);
			return -1;
		}
		n += rc;
	}
	return n;
}

/* checks_result_headers_free - the values are ours */
void checks_result_headers_free(struct checks_hdr *hdrs, int n)
{
	for (int i = 0; i < n; i++) {
		free(hdrs[i].value);
		hdrs[i].value = NULL;
	}
}
