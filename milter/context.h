/*
 * context.h - per-connection and per-message state of the milter.
 *
 * Lifetimes, each freed in one place:
 *   struct conn  connect .. close     conn_free(): ends the message, frees the resolver
 *   struct msg   MAIL FROM .. end     msg_end(): used by end-of-message, abort and close
 * A message holds its own reference to the configuration snapshot taken
 * at MAIL FROM, so a reload never changes the rules mid-message. The
 * connection's resolver is made from the first message's snapshot and
 * made again only when a later snapshot changes the DNS settings.
 *
 * Only the connection's libmilter thread touches these structs.
 */
#ifndef MXGUARD_CONTEXT_H
#define MXGUARD_CONTEXT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#include "conf/config.h"
#include "policy/checks.h"
#include "policy/facts.h"
#include "policy/rules.h"

struct resolver;

struct msg {
	struct config *cfg;            /* reference taken at MAIL FROM */
	struct checks *ck;             /* owned */
	struct timespec started;       /* MAIL FROM, CLOCK_MONOTONIC */
	char queue_id[64];             /* {i}, "" until the MTA tells */
	bool logged;                   /* the message's decision line was written */
	bool oom;                      /* a callback ran out of memory: answer on_error at the end */
	unsigned ar_seen;              /* Authentication-Results headers so far */
	unsigned nforged;              /* entries used in forged[] */
	unsigned forged[16];           /* 1-based indexes of A-R headers claiming our authserv_id */
	unsigned rcpt_lines;           /* lines written for refused recipients */
	char *subject;                 /* owned: the first Subject value, NULL when none (quarantine_action = subject) */
	/* for the JSON line, so that `mxguard replay` can decide the message again */
	char txn[32];                  /* the message's id, on each of its lines */
	char *rcpts;                   /* owned: the recipients given so far, each NUL-terminated, packed */
	size_t rcpts_len;              /* octets used in rcpts */
	unsigned nrcpts;               /* recipients in rcpts */
	unsigned rcpts_more;           /* given but not kept: past DECISION_RCPTS_MAX/_TEXT, or out of memory */
};

struct conn {
	bool can_skip;                 /* the MTA accepts SMFIS_SKIP for body chunks */
	bool leadspc;                  /* header values arrive with their leading space */
	bool nr_helo, nr_hdr;          /* negotiated: HELO and headers get no reply (SMFIS_NOREPLY) */
	bool connected;                /* xxfi_connect has filled in the client */
	struct sockaddr_storage addr;  /* client; ss_family AF_UNSPEC when not IP */
	char hostname[FACT_NAME_MAX];  /* as the MTA resolved it, for logs */
	char helo[FACT_NAME_MAX];
	bool have_helo;
	struct resolver *res;          /* owned; NULL until a message needs it or when it failed */
	struct config *res_cfg;        /* reference to the newest snapshot with the DNS settings res was made with */
	char res_error[160];           /* why res is NULL, "" when it is not */
	struct msg *msg;               /* the message in progress, or NULL */
};

/* conn_new - an empty connection (client unknown); NULL when out of memory. */
struct conn *conn_new(void);

/* conn_set_client - the client's host name and address (sa may be NULL). */
void conn_set_client(struct conn *, const char *hostname, const struct sockaddr *sa);

/* conn_free - end the message (if any), free the resolver. NULL is fine. */
void conn_free(struct conn *);

/* conn_active - number of connections not yet freed (for draining at shutdown). */
unsigned conn_active(void);

/*
 * conn_set_draining / conn_draining - shutdown has begun: connections
 * already open may finish, new ones are answered tempfail (and are not
 * counted by conn_active).
 */
void conn_set_draining(void);
bool conn_draining(void);

/*
 * msg_begin - start a message under the current snapshot (ending any
 * previous one). Returns the message, or NULL when out of memory or
 * no snapshot is loaded.
 */
struct msg *msg_begin(struct conn *);

/*
 * msg_end - the one cleanup of a message: if no line at all was
 * written for it (neither the message's nor a refused recipient's),
 * write one for stage (e.g. "abort"), then cancel its lookups and free
 * it. Nothing happens when no message is in progress.
 */
void msg_end(struct conn *, const char *stage);

/*
 * msg_add_rcpt - a recipient was given (as the checks parsed it), refused
 * or not: its message's lines list it. Beyond the decision log's bounds
 * it is only counted.
 */
void msg_add_rcpt(struct msg *, const char *rcpt);

/* msg_elapsed_ms - milliseconds since MAIL FROM. */
long msg_elapsed_ms(const struct msg *);

/*
 * msg_log - write the decision line for the message: v is the verdict
 * (NULL or undecided: action none), reply the text as sent (NULL when
 * none), rcpt the refused recipient (NULL for the message), error an
 * internal error (NULL when none). A line without rcpt marks the
 * message logged; one with rcpt counts in rcpt_lines.
 */
void msg_log(struct msg *, const struct verdict *v, const char *reply, const char *rcpt,
	     const char *stage, const char *error);

#endif
