/*
 * passmilter.c - the trivial pass-through milter of make bench: the ceiling
 * for any milter behind Postfix.
 *
 *   passmilter inet:PORT@127.0.0.1
 *
 * It accepts everything and adds nothing, but costs the MTA what mxguard
 * costs it at the protocol level: the same negotiation (the same actions
 * asked for, the same protocol steps skipped or left without a reply, the
 * same macro lists), so it receives every callback mxguard receives -
 * connect, HELO, MAIL FROM, RCPT TO, DATA, each header, end of headers,
 * the body, end of message - and answers each the way mxguard does. One
 * libmilter thread per connection, as in mxguard. What is left between it
 * and mxguard is mxguard's own work. Built by tests/bench/run.sh with
 * cc -lmilter; runs in the foreground until SIGTERM.
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* per-connection state: only what the reply flags need */
struct pm_conn {
	int nr_helo;
	int nr_hdr;
};

static struct pm_conn *pm_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* pm_negotiate - what mxguard's cb_negotiate asks for, word for word */
static sfsistat pm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct pm_conn *c = pm_get(ctx);

	(void)f2;
	(void)f3;
	if (!c) {
		c = calloc(1, sizeof *c);
		smfi_setpriv(ctx, c);
	}
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_SKIP | SMFIP_HDR_LEADSPC);
	*pf2 = 0;
	*pf3 = 0;
	if (c) {
		c->nr_helo = (f1 & SMFIP_NR_HELO) != 0;
		c->nr_hdr = (f1 & SMFIP_NR_HDR) != 0;
		*pf1 |= f1 & (SMFIP_NR_HELO | SMFIP_NR_HDR);
	}
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen} {i}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "{i}");
		smfi_setsymlist(ctx, SMFIM_EOM, "{i}");
	}
	return SMFIS_CONTINUE;
}

static sfsistat pm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	if (!pm_get(ctx))
		smfi_setpriv(ctx, calloc(1, sizeof(struct pm_conn)));
	return SMFIS_CONTINUE;
}

static sfsistat pm_helo(SMFICTX *ctx, char *helo)
{
	struct pm_conn *c = pm_get(ctx);

	(void)helo;
	return c && c->nr_helo ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat pm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat pm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat pm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat pm_header(SMFICTX *ctx, char *name, char *value)
{
	struct pm_conn *c = pm_get(ctx);

	(void)name;
	(void)value;
	return c && c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat pm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat pm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return SMFIS_CONTINUE;
}

static sfsistat pm_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat pm_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat pm_close(SMFICTX *ctx)
{
	free(pm_get(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc pm_desc = {
	.xxfi_name = "passmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	.xxfi_connect = pm_connect,
	.xxfi_helo = pm_helo,
	.xxfi_envfrom = pm_envfrom,
	.xxfi_envrcpt = pm_envrcpt,
	.xxfi_header = pm_header,
	.xxfi_eoh = pm_eoh,
	.xxfi_body = pm_body,
	.xxfi_eom = pm_eom,
	.xxfi_abort = pm_abort,
	.xxfi_close = pm_close,
	.xxfi_unknown = NULL,
	.xxfi_data = pm_data,
	.xxfi_negotiate = pm_negotiate,
};

int main(int argc, char **argv)
{
	if (argc != 2 || strncmp(argv[1], "inet:", 5) != 0) {
		fprintf(stderr, "usage: passmilter inet:PORT@127.0.0.1\n");
		return 64;
	}
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(pm_desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "passmilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
