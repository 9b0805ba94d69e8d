/*
 * rules_namelist.h - sets of names for rule conditions: domain names
 * (exact, or "*.example.com" for every subdomain) and mail addresses
 * (exact). Matching ignores case and a trailing dot.
 *
 * A namelist is filled at config load (namelist_add), sealed once
 * (namelist_seal sorts it for binary search), then only read, so the
 * connection threads share it without locks. The owner frees it with
 * namelist_free().
 */
#ifndef MXGUARD_RULES_NAMELIST_H
#define MXGUARD_RULES_NAMELIST_H

#include <stdbool.h>
#include <stddef.h>

struct namelist;

/* namelist_new - an empty list; NULL when out of memory. */
struct namelist *namelist_new(void);
/* namelist_free - the list and every name it holds. NULL is fine. */
void namelist_free(struct namelist *);

/*
 * namelist_add - add one name. With allow_wild, "*.example.com" matches
 * every name below example.com (not example.com itself). The empty
 * string is a valid entry (it matches an empty fact: the null sender,
 * a message without From:). Returns 0, or -1 with a reason in err.
 */
int namelist_add(struct namelist *, const char *name, bool allow_wild,
		 char *err, size_t errlen);

/* namelist_seal - prepare for matching; call once after the last add. */
void namelist_seal(struct namelist *);

/* namelist_match - is name (or, for wildcard entries, a parent of it) in the sealed list? */
bool namelist_match(const struct namelist *, const char *name);

/* namelist_count - entries, wildcard ones included. */
size_t namelist_count(const struct namelist *);

#endif
