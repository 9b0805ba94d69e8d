/*
 * rules_namelist.c - exact and "*.suffix" name sets for rule conditions.
 *
 * Names are stored normalised (ASCII lower case, no trailing dot) in two
 * sorted arrays: exact names, and the suffixes of wildcard entries
 * ("*.example.com" is stored as "example.com"). A lookup is one binary
 * search for the name, then one per parent domain in the suffix array,
 * so long include files cost O(labels * log n) per message.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

#include "policy/facts.h"
#include "policy/rules_namelist.h"

struct strvec {
	char **v;
	size_t count, cap;
};

struct namelist {
	struct strvec exact;
	struct strvec wild;
	bool sealed;
};

/* namelist_new - see rules_namelist.h */
struct namelist *namelist_new(void)
{
	return calloc(1, sizeof(struct namelist));
}

/* strvec_free - every string and the array */
static void strvec_free(struct strvec *sv)
{
	for (size_t i = 0; i < sv->count; i++)
		free(sv->v[i]);
	free(sv->v);
}

/* namelist_free - see rules_namelist.h */
void namelist_free(struct namelist *nl)
{
	if (!nl)
		return;
	strvec_free(&nl->exact);
	strvec_free(&nl->wild);
	free(nl);
}

/* namelist_count - see rules_namelist.h */
size_t namelist_count(const struct namelist *nl)
{
	return nl ? nl->exact.count + nl->wild.count : 0;
}

/* normalise - lower-case copy without a trailing dot into out; false when it does not fit */
static bool normalise(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);

	if (n > 1 && in[n - 1] == '.')
		n--;
	if (n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[n] = '\0';
	return true;
}

/* strvec_push - append a copy of s; -1 when out of memory */
static int strvec_push(struct strvec *sv, const char *s)
{
	char *copy;

	if (sv->count == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **n = realloc(sv->v, cap * sizeof(*n));
		if (!n)
			return -1;
		sv->v = n;
		sv->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -1;
	sv->v[sv->count++] = copy;
	return 0;
}

/* namelist_add - see rules_namelist.h */
int namelist_add(struct namelist *nl, const char *name, bool allow_wild,
		 char *err, size_t errlen)
{
	char norm[FACT_ADDR_MAX];
	bool wild = false;
	const char *p = name;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		if (*c <= ' ' || *c == 0x7f) {
			snprintf(err, errlen, "\"%.80s\" contains a space or control character", name);
			return -1;
		}
		if (*c > 0x7f) {
			/* the facts hold domains as A-labels, so a U-label here could never match */
			snprintf(err, errlen, "\"%.80s\" is not ASCII; write internationalised domains as xn-- A-labels", name);
			return -1;
		}
	}
	if (allow_wild && strncmp(name, "*.", 2) == 0) {
		wild = true;
		p = name + 2;
		if (*p == '\0' || *p == '.') {
			snprintf(err, errlen, "\"%.80s\": expected *.domain", name);
			return -1;
		}
	}
	if (strchr(p, '*')) {
		snprintf(err, errlen, allow_wild
			 ? "\"%.80s\": '*' is only allowed as a leading \"*.\""
			 : "\"%.80s\": wildcards are not allowed here", name);
		return -1;
	}
	if (!normalise(p, norm, sizeof(norm))) {
		snprintf(err, errlen, "\"%.60s...\" is too long", name);
		return -1;
	}
	if (strvec_push(wild ? &nl->wild : &nl->exact, norm) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nl->sealed = false;
	return 0;
}

/* cmp_str - qsort/bsearch comparator over char * elements */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* namelist_seal - see rules_namelist.h */
void namelist_seal(struct namelist *nl)
{
	if (!nl)
		return;
	if (nl->exact.count)
		qsort(nl->exact.v, nl->exact.count, sizeof(char *), cmp_str);
	if (nl->wild.count)
		qsort(nl->wild.v, nl->wild.count, sizeof(char *), cmp_str);
	nl->sealed = true;
}

/* strvec_has - binary search in a sorted vector */
static bool strvec_has(const struct strvec *sv, const char *s)
{
	if (!sv->count)
		return false;
	return bsearch(&s, sv->v, sv->count, sizeof(char *), cmp_str) != NULL;
}

/* namelist_match - see rules_namelist.h */
bool namelist_match(const struct namelist *nl, const char *name)
{
	char norm[FACT_ADDR_MAX];

	if (!nl || !nl->sealed || !normalise(name, norm, sizeof(norm)))
		return false;
	if (strvec_has(&nl->exact, norm))
		return true;
	/* "*.example.com" matches strict subdomains: try each parent of norm. */
	for (const char *dot = strchr(norm, '.'); dot; dot = strchr(dot + 1, '.'))
		if (dot[1] && strvec_has(&nl->wild, dot + 1))
			return true;
	return false;
}
