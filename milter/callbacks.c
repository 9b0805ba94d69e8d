/*
 * callbacks.c - libmilter callbacks (see callbacks.h).
 *
 * Each callback runs on its connection's thread and touches only that
 * connection's struct conn (smfi_getpriv). The message state is freed in
 * one place, msg_end(), from end-of-message, abort, a new MAIL FROM and
 * close alike. An internal error (out of memory, no resolver) becomes
 * the configured on_error outcome with a logged line, never a crash.
 * The callbacks that do work (MAIL, RCPT, end of headers, end of message)
 * report how long their answer took to metrics_stage().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "milter/callbacks.h"
#include "milter/context.h"
#include "milter/log.h"
#include "milter/metrics.h"
#include "milter/quarantine.h"
#include "milter/snapshot.h"
#include "policy/checks.h"
#include "policy/reply.h"
#include "policy/rules.h"

#define ERROR_CODE  "451"
#define ERROR_XCODE "4.3.0"
#define ERROR_TEXT  "temporary internal error, try again later"

/* get_conn - this connection's state, NULL when it could not be allocated */
static struct conn *get_conn(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* note_queue_id - remember {i} as soon as the MTA tells it */
static void note_queue_id(SMFICTX *ctx, struct msg *m)
{
	const char *qid;

	if (m->queue_id[0])
		return;
	qid = smfi_getsymval(ctx, "{i}");
	if (qid && *qid)
		snprintf(m->queue_id, sizeof m->queue_id, "%s", qid);
}

/* set_reply - hand a reply to the MTA; a failure is logged, the action still applies */
static void set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *smtp_text)
{
	if (!code[0])
		return;
	if (smfi_setreply(ctx, (char *)code, xcode[0] ? (char *)xcode : NULL,
			  (char *)smtp_text) != MI_SUCCESS)
		log_warn("smfi_setreply %s %s failed", code, xcode);
}

/*
 * internal_error - on_error: tempfail 451 4.3.0 (default) or accept.
 * m may be NULL (nothing to log per message then); cfg may be NULL.
 */
static sfsistat internal_error(SMFICTX *ctx, struct msg *m, const char *rcpt,
			       const char *stage, const char *what)
{
	struct config *own = m ? NULL : snapshot_get();
	const struct config *cfg = m ? m->cfg : own;
	bool accept = cfg && cfg->on_error == ACTION_ACCEPT;
	struct verdict v = { 0 };
	static const struct reply_template none;

	config_unref(own);
	v.action = accept ? ACTION_ACCEPT : ACTION_TEMPFAIL;
	v.rule_name = "on_error";
	v.reply = &none;
	if (m)
		msg_log(m, &v, accept ? NULL : ERROR_CODE " " ERROR_XCODE " " ERROR_TEXT,
			rcpt, stage, what);
	else
		log_err("%s: %s; answering %s", stage, what, accept ? "accept" : "tempfail");
	if (accept)
		return SMFIS_CONTINUE;
	set_reply(ctx, ERROR_CODE, ERROR_XCODE, ERROR_TEXT);
	return SMFIS_TEMPFAIL;
}

/* refuse - reject or tempfail now with r, logging the refused recipient (or message) */
static sfsistat refuse(SMFICTX *ctx, struct msg *m, const struct verdict *v, const struct reply *r,
		       const char *rcpt, const char *stage)
{
	set_reply(ctx, r->code, r->xcode, r->smtp_text);
	msg_log(m, v, r->line, rcpt, stage, NULL);
	return v->action == ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* log_would - what a dry-run rule would have done, once per message */
static void log_would(struct msg *m, const struct verdict *v, const struct reply *r, const char *stage)
{
	if (!m->logged)
		msg_log(m, v, r->line, NULL, stage, NULL);
}

/* envelope_decision - at MAIL or RCPT: map the checks' answer */
static sfsistat envelope_decision(SMFICTX *ctx, struct msg *m, enum check_stage at, const char *rcpt)
{
	const char *stage = check_stage_name(at);
	struct verdict v;
	struct reply r;

	switch (checks_envelope_answer(m->ck, at, &v, &r)) {
	case CHECKS_REFUSE:
		return refuse(ctx, m, &v, &r, rcpt, stage);
	case CHECKS_WOULD:
		log_would(m, &v, &r, stage);
		return SMFIS_CONTINUE;
	case CHECKS_FAILED:
		return internal_error(ctx, m, rcpt, stage, checks_error(m->ck));
	case CHECKS_GO_ON:
	case CHECKS_FINAL:
		break;
	}
	return SMFIS_CONTINUE;
}

/* cb_negotiate - ask for what we use, drop what we never need */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = get_conn(ctx);

	(void)f2;
	(void)f3;
	if (!c && !conn_draining()) {
		c = conn_new();
		smfi_setpriv(ctx, c);
	}
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
	/*
	 * DATA is not skipped although we do nothing there: the MTA sends
	 * the DATA macros either way, and without a reply to them our delayed
	 * ACK held back its next write (the first header) by ~40 ms (Nagle).
	 */
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_SKIP | SMFIP_HDR_LEADSPC);
	*pf2 = 0;
	*pf3 = 0;
	if (c) {
		c->can_skip = (f1 & SMFIP_SKIP) != 0;
		c->leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
		/*
		 * HELO and header callbacks never refuse, so they need not
		 * answer: one round trip per header (and per HELO) less, and the
		 * MTA sends the headers in one write with end-of-headers (Postfix
		 * buffers until it waits for a reply, so no Nagle stall either).
		 * libmilter answers for us if the MTA cannot do without.
		 */
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

/* cb_connect - remember the client; nothing is decided before MAIL FROM */
static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct conn *c = get_conn(ctx);

	if (!c && conn_draining()) {
		/* shutting down: the client comes back to a fresh daemon */
		smfi_setreply(ctx, "421", "4.3.2", "mail filter shutting down, try again later");
		return SMFIS_TEMPFAIL;
	}
	if (!c) {
		c = conn_new();
		smfi_setpriv(ctx, c);
	}
	if (!c) {
		log_err("connect: out of memory");
		return SMFIS_CONTINUE;   /* MAIL FROM answers on_error */
	}
	conn_set_client(c, hostname, sa);
	if (log_debug_enabled()) {
		const char *daemon_name = smfi_getsymval(ctx, "{daemon_name}");

		log_debug("connect from %s%s via %s", c->hostname, sa ? "" : " (no address)",
			  daemon_name ? daemon_name : "-");
	}
	return SMFIS_CONTINUE;
}

/* cb_helo - the last HELO/EHLO counts */
static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = get_conn(ctx);

	if (!c)
		return SMFIS_CONTINUE;
	snprintf(c->helo, sizeof c->helo, "%s", helo ? helo : "");
	c->have_helo = true;
	return c->nr_helo ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_envfrom - a new message: fill the envelope facts, start the needed checks */
static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = get_conn(ctx);
	const char *auth;
	sfsistat rc;
	struct msg *m;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!c || !c->connected)
		return internal_error(ctx, NULL, NULL, "mail", "no connection state (out of memory)");
	m = msg_begin(c);
	if (!m)
		return internal_error(ctx, NULL, NULL, "mail", "cannot start a message (out of memory)");
	note_queue_id(ctx, m);
	auth = smfi_getsymval(ctx, "{auth_authen}");
	checks_set_client(m->ck, c->addr.ss_family == AF_UNSPEC ? NULL
						     : (const struct sockaddr *)&c->addr);
	checks_set_helo(m->ck, c->have_helo ? c->helo : NULL);
	checks_set_sender(m->ck, argv && argv[0] ? argv[0] : "", auth && *auth);
	log_debug("MAIL FROM %s helo=%s auth=%s", argv && argv[0] ? argv[0] : "",
		  c->have_helo ? c->helo : "-", auth && *auth ? auth : "-");
	if (checks_advance(m->ck, CHECK_STAGE_MAIL) < 0)
		rc = internal_error(ctx, m, NULL, "mail", checks_error(m->ck));
	else
		rc = envelope_decision(ctx, m, CHECK_STAGE_MAIL, NULL);
	metrics_stage(CHECK_STAGE_MAIL, &t0);
	/* when each stage is answered: a slow message's time is ours, or between the callbacks */
	log_debug("MAIL FROM answered at %ld ms", msg_elapsed_ms(m));
	return rc;
}

/* cb_envrcpt - decide at the first RCPT (or each, when rules look at the recipient) */
static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = get_conn(ctx);
	const char *rcpt = argv && argv[0] ? argv[0] : "";
	struct msg *m = c ? c->msg : NULL;
	sfsistat rc;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!m)
		return internal_error(ctx, NULL, rcpt, "rcpt", "recipient without a message");
	note_queue_id(ctx, m);
	log_debug("RCPT TO %s arrived at %ld ms", rcpt, msg_elapsed_ms(m));
	checks_set_rcpt(m->ck, rcpt);
	msg_add_rcpt(m, checks_facts(m->ck)->rcpt);
	if (checks_advance(m->ck, CHECK_STAGE_RCPT) < 0)
		rc = internal_error(ctx, m, checks_facts(m->ck)->rcpt, "rcpt", checks_error(m->ck));
	else
		rc = envelope_decision(ctx, m, CHECK_STAGE_RCPT, checks_facts(m->ck)->rcpt);
	log_debug("RCPT TO %s answered at %ld ms", rcpt, msg_elapsed_ms(m));
	metrics_stage(CHECK_STAGE_RCPT, &t0);
	/* a refused recipient is not part of the message: end of message must not judge it */
	if (rc != SMFIS_CONTINUE)
		checks_rcpt_refused(m->ck);
	return rc;
}

/* note_forged - remember an A-R header claiming our authserv_id, by its index among A-R headers */
static void note_forged(struct msg *m, bool forged)
{
	if (!forged)
		return;
	if (m->nforged < sizeof m->forged / sizeof m->forged[0])
		m->forged[m->nforged++] = m->ar_seen;
	else
		m->oom = true;   /* cannot remove them all: do not pass any on */
}

/* cb_data - nothing to do; answered so the MTA's next write is not held up (see cb_negotiate) */
static sfsistat cb_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* spaced_copy - " " + value, malloc'ed (the caller frees it); NULL when out of memory */
static char *spaced_copy(const char *value)
{
	size_t len = strlen(value);
	char *s = malloc(len + 2);

	if (s) {
		s[0] = ' ';
		memcpy(s + 1, value, len + 1);
	}
	return s;
}

/* cb_header - From: domain, data for checks that read headers, forged A-R */
static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = get_conn(ctx);
	struct msg *m = c ? c->msg : NULL;
	const char *n = name ? name : "";
	char *v = value ? value : "";
	char *spaced = NULL;

	if (!m)
		return c && c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (strcasecmp(n, "Authentication-Results") == 0)
		m->ar_seen++;
	if (!c->leadspc) {
		/* the checks want the value exactly as after the colon */
		spaced = spaced_copy(v);
		if (!spaced) {
			m->oom = true;   /* answered at end of message */
			return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
		}
		v = spaced;
	}
	note_forged(m, checks_header(m->ck, n, v));
	/* kept for a quarantine that tags the Subject */
	if (!m->subject && strcasecmp(n, "Subject") == 0 && !(m->subject = strdup(v)))
		m->oom = true;
	free(spaced);
	return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_eoh - end of headers: header-stage checks may start */
static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);
	sfsistat rc = SMFIS_CONTINUE;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (c && c->msg && checks_advance(c->msg->ck, CHECK_STAGE_HEADERS) < 0)
		rc = internal_error(ctx, c->msg, NULL, "headers", checks_error(c->msg->ck));
	if (c && c->msg)
		metrics_stage(CHECK_STAGE_HEADERS, &t0);
	return rc;
}

/* cb_body - feed the body to checks that read it; skip the rest when none does */
static sfsistat cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct conn *c = get_conn(ctx);

	if (!c || !c->msg)
		return SMFIS_CONTINUE;
	if (!checks_wants_body(c->msg->ck))
		return c->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
	checks_body(c->msg->ck, data, len);
	return SMFIS_CONTINUE;
}

/*
 * insert_header - at the top. With SMFIP_HDR_LEADSPC the MTA puts no
 * space after the colon itself (Postfix: MILTER8_HDR_SPACE), so we do.
 */
static int insert_header(SMFICTX *ctx, const char *name, const char *value, bool leadspc)
{
	char *spaced = NULL;
	int rc;

	if (leadspc && !(spaced = spaced_copy(value)))
		return -1;
	rc = smfi_insheader(ctx, 0, (char *)name, spaced ? spaced : (char *)value);
	free(spaced);
	if (rc != MI_SUCCESS)
		log_warn("cannot add the %s header", name);
	return 0;
}

/* edit_headers - drop forged A-R headers (logged), add ours at the top; 0 or -1 (out of memory) */
static int edit_headers(SMFICTX *ctx, struct msg *m)
{
	const struct conn *c = get_conn(ctx);
	const char *qid = m->queue_id[0] ? m->queue_id : "NOQUEUE";
	struct checks_hdr hdrs[CHECKS_HDR_MAX];
	int n, rc = 0;

	/* highest index first, so earlier indexes still name the same header */
	for (unsigned i = m->nforged; i-- > 0;) {
		if (smfi_chgheader(ctx, "Authentication-Results", (int)m->forged[i], NULL) == MI_SUCCESS)
			log_info("%s: removed forged Authentication-Results header #%u"
				 " (claims authserv-id %s)", qid, m->forged[i], m->cfg->authserv_id);
		else
			log_warn("%s: cannot remove forged Authentication-Results header #%u",
				 qid, m->forged[i]);
	}
	n = checks_result_headers(m->ck, hdrs);
	if (n < 0)
		return -1;
	for (int i = n; i-- > 0 && rc == 0;)
		rc = insert_header(ctx, hdrs[i].name, hdrs[i].value, c && c->leadspc);
	checks_result_headers_free(hdrs, n);
	return rc;
}

/* final_action - apply the verdict at end of message */
static sfsistat final_action(SMFICTX *ctx, struct msg *m, const struct verdict *v, const struct reply *r)
{
	if (verdict_delivers(v) && edit_headers(ctx, m) < 0)
		return internal_error(ctx, m, NULL, "eom", "out of memory building headers");
	if (v->dry_run) {
		log_would(m, v, r, "eom");
		return SMFIS_CONTINUE;
	}
	switch (v->action) {
	case ACTION_REJECT:
	case ACTION_TEMPFAIL:
		return refuse(ctx, m, v, r, NULL, "eom");
	case ACTION_DISCARD:
		msg_log(m, v, NULL, NULL, "eom", NULL);
		return SMFIS_DISCARD;
	case ACTION_QUARANTINE: {
		const char *why = NULL;
		const struct conn *c = get_conn(ctx);

		if (quarantine_apply(ctx, m->cfg, m->subject, r->text, c && c->leadspc, &why) < 0)
			return internal_error(ctx, m, NULL, "eom", why);
		msg_log(m, v, r->line, NULL, "eom", NULL);
		return SMFIS_CONTINUE;
	}
	case ACTION_ACCEPT:
	case ACTION_NONE:
		break;
	}
	if (!m->logged)
		msg_log(m, v, NULL, NULL, "eom", NULL);
	return SMFIS_CONTINUE;
}

/* cb_eom - the final decision, then the one cleanup */
static sfsistat cb_eom(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);
	struct msg *m = c ? c->msg : NULL;
	struct verdict v;
	struct reply r;
	sfsistat rc;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!m)
		return internal_error(ctx, NULL, NULL, "eom", "end of message without a message");
	note_queue_id(ctx, m);
	if (m->oom)
		rc = internal_error(ctx, m, NULL, "eom", "out of memory (or too many forged headers) during the message");
	else if (checks_advance(m->ck, CHECK_STAGE_EOM) < 0 ||
		 checks_final_answer(m->ck, &v, &r) != CHECKS_FINAL)
		rc = internal_error(ctx, m, NULL, "eom", checks_error(m->ck));
	else
		rc = final_action(ctx, m, &v, &r);
	msg_end(c, "eom");
	metrics_stage(CHECK_STAGE_EOM, &t0);
	return rc;
}

/* cb_abort - the message ended early (RSET, a refused DATA, a dropped client) */
static sfsistat cb_abort(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);

	if (c)
		msg_end(c, "abort");
	return SMFIS_CONTINUE;
}

/* cb_close - the connection is gone */
static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);

	smfi_setpriv(ctx, NULL);
	conn_free(c);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "mxguard",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

/* callbacks_desc - for smfi_register */
struct smfiDesc *callbacks_desc(void)
{
	return &desc;
}
