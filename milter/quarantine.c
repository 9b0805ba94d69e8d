/*
 * quarantine.c - the quarantine action's three forms (see quarantine.h).
 *
 * Operators asked OpenDMARC for years for a quarantine that does not
 * mean the hold queue (its issues #77, #105, #237): mail held there waits
 * for an administrator, while a tagged message reaches the user's junk
 * folder through their own filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/quarantine.h"

/* header_value - text as one header line: controls become spaces; " " first when the MTA wants it */
static char *header_value(const char *prefix, const char *text, bool leadspc)
{
	size_t n = strlen(prefix) + strlen(text) + 3;
	char *v = malloc(n), *d;

	if (!v)
		return NULL;
	snprintf(v, n, "%s%s%s", leadspc ? " " : "", prefix, text);
	for (d = v; *d; d++)
		if ((unsigned char)*d < 0x20 || (unsigned char)*d == 0x7f)
			*d = ' ';
	return v;
}

/* tag_subject - "TAG old subject", unless it is tagged already */
static int tag_subject(SMFICTX *ctx, const struct config *cfg, const char *subject, bool leadspc)
{
	const char *tag = cfg->quarantine_subject_tag ? cfg->quarantine_subject_tag : "[SPAM]";
	size_t n;
	char *text, *v;
	int rc;

	if (subject) {
		while (*subject == ' ' || *subject == '\t')
			subject++;
		if (strncmp(subject, tag, strlen(tag)) == 0)
			return 0;
	}
	n = strlen(tag) + (subject ? strlen(subject) : 0) + 2;
	text = malloc(n);
	if (!text)
		return -1;
	snprintf(text, n, "%s%s%s", tag, subject ? " " : "", subject ? subject : "");
	v = header_value("", text, leadspc);
	free(text);
	if (!v)
		return -1;
	rc = subject ? smfi_chgheader(ctx, "Subject", 1, v) : smfi_addheader(ctx, "Subject", v);
	free(v);
	return rc == MI_SUCCESS ? 0 : -1;
}

int quarantine_apply(SMFICTX *ctx, const struct config *cfg, const char *subject, const char *text,
		     bool leadspc, const char **why)
{
	const char *name = cfg->quarantine_header ? cfg->quarantine_header : "X-Spam";
	char *v;
	int rc;

	if (!text)
		text = "";
	if (cfg->quarantine_action == QUARANTINE_HOLD || cfg->quarantine_action == 0) {
		if (smfi_quarantine(ctx, (char *)text) == MI_SUCCESS)
			return 0;
		*why = "smfi_quarantine failed";
		return -1;
	}
	v = header_value("", text, leadspc);
	if (!v) {
		*why = "out of memory adding the quarantine header";
		return -1;
	}
	rc = smfi_insheader(ctx, 0, (char *)name, v);
	free(v);
	if (rc != MI_SUCCESS) {
		*why = "cannot add the quarantine header";
		return -1;
	}
	if (cfg->quarantine_action == QUARANTINE_SUBJECT && tag_subject(ctx, cfg, subject, leadspc) < 0) {
		*why = "cannot tag the Subject";
		return -1;
	}
	return 0;
}
