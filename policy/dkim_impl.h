/*
 * dkim_impl.h - inside the DKIM verifier: what its files share (dkim.c,
 * the message's flow through libopendkim; dkim_result.c, what each
 * signature's result is and the message's fact). Nobody else includes
 * it; the contract is policy/dkim.h.
 */
#ifndef MXGUARD_POLICY_DKIM_IMPL_H
#define MXGUARD_POLICY_DKIM_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <dkim.h>

#include "policy/dkim.h"

struct dkimv_lib {
	DKIM_LIB *lib;
	struct orgdomain *od;
	unsigned max_sigs;
	bool ed25519;
};

/* A signature refused for its d= or s= before any key lookup (dkim.c's prescreen). */
struct dkimv_tag_error {
	const DKIM_SIGINFO *sig;
	const char *why;             /* static, from dkimt_check */
};

struct dkimv {
	struct dkimv_lib *lib;
	DKIM *dkim;
	struct dkimk *keys;
	struct resolver *res;
	unsigned min_key_bits;
	unsigned char id[64];        /* libopendkim keeps a pointer to it */
	unsigned sig_headers;        /* DKIM-Signature fields seen */
	bool eoh_done, eom_done;
	bool unusable;               /* libopendkim refused the message; results say why */
	bool failed;                 /* internal error: the answer is temperror */
	struct dkimv_sig *sigs;
	size_t nsigs;
	struct dkimv_tag_error *tag_errors;   /* by prescreen; reported as permerror by dkimv_collect */
	size_t ntag_errors;
	char error[DKIMV_REASON_MAX];
};

/* dkimv_collect - per-signature results from libopendkim's list into v->sigs (dkim_result.c). -1 when out of memory. */
int dkimv_collect(struct dkimv *v);

/* dkimv_overall - the message's facts from v->sigs: f->dkim, dkim_aligned, dkim_detail (dkim_result.c). */
void dkimv_overall(struct dkimv *v, struct facts *f);

#endif
