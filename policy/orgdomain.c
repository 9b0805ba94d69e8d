/*
 * orgdomain.c - organizational domains and alignment on top of libpsl.
 *
 * The psl_ctx_t is read-only after loading (libpsl keeps no per-query
 * state in it), which is what lets all threads share one.
 */

/* system */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libraries */
#include <libpsl.h>

/* project */
#include "policy/orgdomain.h"

#define NAME_MAX_LEN 253

struct orgdomain {
	psl_ctx_t *psl;
};

/* orgdomain_load - load the Public Suffix List once per process. */
struct orgdomain *orgdomain_load(const char *path, char *err, size_t errlen)
{
	struct orgdomain *od = calloc(1, sizeof *od);

	if (od == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	od->psl = path != NULL ? psl_load_file(path) : psl_latest(NULL);
	if (od->psl == NULL) {
		snprintf(err, errlen, "cannot load the public suffix list%s%s",
			 path != NULL ? " from " : "", path != NULL ? path : "");
		free(od);
		return NULL;
	}
	return od;
}

/* orgdomain_free - release the list. */
void orgdomain_free(struct orgdomain *od)
{
	if (od == NULL)
		return;
	psl_free(od->psl);
	free(od);
}

/*
 * normalize - lower-case copy without a trailing dot. Rejects what cannot
 * be a host name in A-label form, so libpsl never sees control bytes.
 */
static bool normalize(const char *name, char *out, size_t outlen)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN || n >= outlen || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
			return false;
		if (c == '.' && name[i + 1] == '.')
			return false;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return true;
}

/* orgdomain_get - the registrable domain, or the name itself when it has none. */
bool orgdomain_get(const struct orgdomain *od, const char *name, char *out, size_t outlen)
{
	char norm[NAME_MAX_LEN + 1];
	const char *reg;

	if (od == NULL || !normalize(name, norm, sizeof norm))
		return false;
	reg = psl_registrable_domain(od->psl, norm);
	if (reg == NULL)
		reg = norm;
	if (strlen(reg) >= outlen)
		return false;
	strcpy(out, reg);
	return true;
}

/* orgdomain_aligned_relaxed - equal organizational domains. */
bool orgdomain_aligned_relaxed(const struct orgdomain *od, const char *a, const char *b)
{
	char oa[NAME_MAX_LEN + 1], ob[NAME_MAX_LEN + 1];

	if (!orgdomain_get(od, a, oa, sizeof oa) || !orgdomain_get(od, b, ob, sizeof ob))
		return false;
	return strcmp(oa, ob) == 0;
}

/* orgdomain_aligned_strict - identical names. */
bool orgdomain_aligned_strict(const char *a, const char *b)
{
	char na[NAME_MAX_LEN + 1], nb[NAME_MAX_LEN + 1];

	if (!normalize(a, na, sizeof na) || !normalize(b, nb, sizeof nb))
		return false;
	return strcmp(na, nb) == 0;
}
