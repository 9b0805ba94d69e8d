/*
 * facts.c - names of fact values, for the rule parser and the decision log.
 */
#include <string.h>

#include "policy/facts.h"

static const char *const mx_names[MX_RESULT_COUNT] = {
	"unknown", "valid", "implicit", "nullmx", "nxdomain", "none", "bogus",
	"literal", "invalid", "temperror", "skipped",
};
static const char *const spf_names[SPFR_RESULT_COUNT] = {
	"unknown", "pass", "fail", "softfail", "neutral", "none",
	"temperror", "permerror", "skipped",
};
static const char *const dkim_names[DKIMR_RESULT_COUNT] = {
	"unknown", "pass", "fail", "none", "temperror", "permerror", "skipped",
};

/* name_of - bounds-checked table lookup */
static const char *name_of(const char *const *table, unsigned count, unsigned v)
{
	return v < count ? table[v] : "unknown";
}

/* value_of - reverse lookup; 0 (unknown) when absent */
static unsigned value_of(const char *const *table, unsigned count, const char *name)
{
	for (unsigned i = 1; i < count; i++)
		if (strcmp(table[i], name) == 0)
			return i;
	return 0;
}

const char *facts_mx_name(enum mx_result v) { return name_of(mx_names, MX_RESULT_COUNT, v); }
const char *facts_spf_name(enum spf_result v) { return name_of(spf_names, SPFR_RESULT_COUNT, v); }
const char *facts_dkim_name(enum dkim_result v) { return name_of(dkim_names, DKIMR_RESULT_COUNT, v); }
enum mx_result facts_mx_parse(const char *n) { return value_of(mx_names, MX_RESULT_COUNT, n); }
enum spf_result facts_spf_parse(const char *n) { return value_of(spf_names, SPFR_RESULT_COUNT, n); }
enum dkim_result facts_dkim_parse(const char *n) { return value_of(dkim_names, DKIMR_RESULT_COUNT, n); }
