/*
 * orgdomain.h - organizational domains (RFC 7489 §3.2) and domain
 * alignment, using libpsl and Debian's Public Suffix List.
 *
 * The organizational domain of a name is its registrable domain: the
 * public suffix plus one label ("mail.example.co.uk" -> "example.co.uk").
 * A name that is itself a public suffix (or has no registrable part) is
 * its own organizational domain. Names are A-labels (punycode), compared
 * case-insensitively, a trailing dot is ignored.
 *
 * One struct orgdomain is loaded per process (orgdomain_load) and is then
 * only read, so every connection thread may share it without locks.
 * The loader owns it and frees it with orgdomain_free().
 */
#ifndef MXGUARD_ORGDOMAIN_H
#define MXGUARD_ORGDOMAIN_H

#include <stdbool.h>
#include <stddef.h>

struct orgdomain;

/*
 * orgdomain_load - load the list. path NULL: the newest of libpsl's
 * built-in list and the system's (the `publicsuffix` package); otherwise
 * exactly that file (.dat text or .dafsa). Returns NULL with a reason in
 * err on failure.
 */
struct orgdomain *orgdomain_load(const char *path, char *err, size_t errlen);

/* orgdomain_free - NULL is fine. */
void orgdomain_free(struct orgdomain *);

/*
 * orgdomain_get - write the organizational domain of name (lower case, no
 * trailing dot) into out. Returns false when name is empty, not a plausible
 * host name, or does not fit in out.
 */
bool orgdomain_get(const struct orgdomain *, const char *name, char *out, size_t outlen);

/* orgdomain_aligned_relaxed - do a and b share an organizational domain? */
bool orgdomain_aligned_relaxed(const struct orgdomain *, const char *a, const char *b);

/* orgdomain_aligned_strict - are a and b the same name (case-insensitive, trailing dot ignored)? */
bool orgdomain_aligned_strict(const char *a, const char *b);

#endif
