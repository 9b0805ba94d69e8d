/*
 * checks.c - the per-message check orchestrator (see checks.h).
 *
 * A check is a row in check_table (checks_row.h): the facts it
 * produces, the earliest stage it may start, and adapters around its
 * module; the orchestrator names no check. The
 * orchestrator owns one state pointer per row and the struct facts the
 * rows write into; facts are only written here (harvest), never from
 * inside resolver callbacks, so a rule never sees a half-written fact.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf/config.h"
#include "policy/authres.h"
#include "policy/checks.h"
#include "policy/checks_row.h"
#include "policy/decide.h"
#include "policy/netlist.h"
#include "policy/resolver.h"
#include "policy/rules.h"

/* check_stage_name - for logs and `mxguard check` */
const char *check_stage_name(enum check_stage s)
{
	static const char *const names[] = {
		"none", "connect", "helo", "mail", "rcpt", "headers", "eom",
	};

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "none";
}

/* checks_new - zeroed state; facts all unknown; answers kept for an earlier message dropped */
struct checks *checks_new(const struct config *cfg, struct resolver *res)
{
	struct checks *ck = calloc(1, sizeof *ck);

	if (!ck)
		return NULL;
	ck->cfg = cfg;
	ck->res = res;
	ck->facts.list_name = cfg->list_name;
	resolver_forget(res);
	return ck;
}

/* checks_free - cancel lookups first: their callbacks point into row states */
void checks_free(struct checks *ck)
{
	if (!ck)
		return;
	if (ck->res)
		resolver_cancel_all(ck->res);
	for (size_t i = 0; i < check_table_len; i++)
		if (ck->row[i].state)
			check_table[i]->release(ck->row[i].state);
	free(ck);
}

/* checks_set_explain - see checks.h */
void checks_set_explain(struct checks *ck)
{
	ck->explain = true;
}

/* checks_facts - read-only view */
const struct facts *checks_facts(const struct checks *ck)
{
	return &ck->facts;
}

/* checks_error - "" unless an internal error happened */
const char *checks_error(const struct checks *ck)
{
	return ck->error;
}

/* checks_stage - last stage reached */
enum check_stage checks_stage(const struct checks *ck)
{
	return ck->stage;
}

/* checks_fail - remember the first internal error */
void checks_fail(struct checks *ck, const char *what)
{
	if (!ck->error[0])
		snprintf(ck->error, sizeof ck->error, "%s", what);
}

/* checks_set_client - address, presentation form, trusted */
void checks_set_client(struct checks *ck, const struct sockaddr *sa)
{
	struct facts *f = &ck->facts;
	struct fact_address *c = &f->client_ip;
	const void *raw = NULL;

	memset(c, 0, sizeof *c);
	c->sa.ss_family = AF_UNSPEC;
	f->trusted = false;
	if (sa && sa->sa_family == AF_INET) {
		memcpy(&c->sa, sa, sizeof(struct sockaddr_in));
		raw = &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(&c->sa, sa, sizeof(struct sockaddr_in6));
		raw = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	}
	if (raw) {
		if (!inet_ntop(sa->sa_family, raw, c->text, sizeof c->text))
			c->text[0] = '\0';
		f->trusted = ck->cfg->trusted_networks &&
			     netlist_contains(ck->cfg->trusted_networks, sa);
	}
	f->known |= FACT_CLIENT;
}

/* checks_set_helo - copied as given; too long a name is cut (rules compare it as text) */
void checks_set_helo(struct checks *ck, const char *helo)
{
	snprintf(ck->facts.helo, sizeof ck->facts.helo, "%s", helo ? helo : "");
	ck->facts.known |= FACT_HELO;
}

/* checks_set_rcpt - replaces the previous recipient, which is kept for checks_rcpt_refused */
void checks_set_rcpt(struct checks *ck, const char *rcpt)
{
	ck->kept_rcpt_known = (ck->facts.known & FACT_RCPT) != 0;
	memcpy(ck->kept_rcpt, ck->facts.rcpt, sizeof ck->kept_rcpt);
	memcpy(ck->kept_rcpt_domain, ck->facts.rcpt_domain, sizeof ck->kept_rcpt_domain);
	check_parse_rcpt(&ck->facts, rcpt ? rcpt : "");
	ck->facts.known |= FACT_RCPT;
}

/* checks_rcpt_refused - back to the last recipient the message kept */
void checks_rcpt_refused(struct checks *ck)
{
	memcpy(ck->facts.rcpt, ck->kept_rcpt, sizeof ck->facts.rcpt);
	memcpy(ck->facts.rcpt_domain, ck->kept_rcpt_domain, sizeof ck->facts.rcpt_domain);
	if (ck->kept_rcpt_known)
		ck->facts.known |= FACT_RCPT;
	else
		ck->facts.known &= ~(fact_mask)FACT_RCPT;
}

/* checks_set_sender - parse once; the mx row reads ck->sender */
void checks_set_sender(struct checks *ck, const char *mail_from, bool authenticated)
{
	check_parse_sender(&ck->facts, &ck->sender, mail_from ? mail_from : "");
	ck->facts.authenticated = authenticated;
	ck->facts.known |= FACT_SENDER;
}

/* checks_header - the first From: names the author domain (and how many there are); rows may read every header */
bool checks_header(struct checks *ck, const char *name, const char *value)
{
	if (!value)
		value = "";
	if (strcasecmp(name, "From") == 0 && ck->from_fields++ == 0)
		ck->from_parse = check_parse_from(&ck->facts, value);
	if (!ck->seen_list_id && strcasecmp(name, "List-Id") == 0) {
		ck->seen_list_id = true;
		check_parse_list_id(&ck->facts, value);
	}
	for (size_t i = 0; i < check_table_len; i++)
		if (ck->row[i].state && !ck->row[i].harvested && check_table[i]->header)
			check_table[i]->header(ck->row[i].state, name, value);
	return strcasecmp(name, "Authentication-Results") == 0 && ck->cfg->authserv_id &&
	       authres_claims_id(value, ck->cfg->authserv_id);
}

/* checks_body - hand the chunk to rows that read the body */
void checks_body(struct checks *ck, const unsigned char *data, size_t len)
{
	/* answers to queries fired at end of headers are read as the body streams */
	if (ck->res)
		resolver_poll(ck->res);
	for (size_t i = 0; i < check_table_len; i++)
		if (ck->row[i].state && !ck->row[i].harvested && check_table[i]->body)
			check_table[i]->body(ck->row[i].state, data, len);
}

/* with_inputs - needed, the inputs its rows need to start and what they use while they run */
static fact_mask with_inputs(const struct checks *ck, fact_mask needed)
{
	fact_mask more = 0;

	for (size_t i = 0; i < check_table_len; i++) {
		const struct check_row *r = check_table[i];

		if (!(needed & r->facts))
			continue;
		if (r->inputs && !ck->row[i].started)
			more |= r->inputs(ck->cfg);
		if (r->uses && !ck->row[i].harvested)
			more |= r->uses;
	}
	return needed | (more & ~ck->facts.known);
}

/* rule_facts - what the rules can still use, with the inputs of the rows that make it */
static fact_mask rule_facts(const struct checks *ck)
{
	return with_inputs(ck, rules_needed_facts(ck->cfg->rules, &ck->facts));
}

/*
 * needed_facts - rule_facts, plus the facts of checks that run for every
 * message (dkim_verify = always: the Authentication-Results header
 * reports them even when no rule does).
 */
static fact_mask needed_facts(const struct checks *ck)
{
	fact_mask needed = rules_needed_facts(ck->cfg->rules, &ck->facts);

	for (size_t i = 0; i < check_table_len; i++)
		if (check_table[i]->always && check_table[i]->always(ck->cfg))
			needed |= check_table[i]->facts;
	return with_inputs(ck, needed);
}

/* checks_wants_body - a body reader is running, or may still start */
bool checks_wants_body(const struct checks *ck)
{
	fact_mask needed = needed_facts(ck);

	for (size_t i = 0; i < check_table_len; i++) {
		const struct check_slot *s = &ck->row[i];

		if (!check_table[i]->body)
			continue;
		if (s->started ? !s->harvested : (needed & check_table[i]->facts) != 0)
			return true;
	}
	return false;
}

/* checks_skipped_client - trusted or (authenticated and skip_authenticated): policy/decide.h says */
const char *checks_skipped_client(const struct checks *ck)
{
	return decide_skipped(ck->cfg, &ck->facts);
}

/* set_deadline - now + dns_timeout; only ever moves the deadline later */
static void set_deadline(struct checks *ck)
{
	struct timespec now, d;
	unsigned ms = ck->cfg->dns_timeout_ms ? ck->cfg->dns_timeout_ms : 8000;

	if (!ck->res)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	d.tv_sec = now.tv_sec + ms / 1000;
	d.tv_nsec = now.tv_nsec + (long)(ms % 1000) * 1000000L;
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000L;
	}
	if (ck->have_deadline && (d.tv_sec < ck->deadline.tv_sec ||
	    (d.tv_sec == ck->deadline.tv_sec && d.tv_nsec < ck->deadline.tv_nsec)))
		return;
	ck->deadline = d;
	ck->have_deadline = true;
	resolver_set_deadline(ck->res, &d);
}

/* finish_row - row i's result goes into the facts; the row is done with */
static void finish_row(struct checks *ck, size_t i)
{
	check_table[i]->finish(ck->row[i].state, &ck->facts);
	ck->facts.known |= check_table[i]->facts;
	ck->row[i].harvested = true;
}

/* harvest - copy every finished check's result into the facts, once; rows that read them go on */
static bool harvest(struct checks *ck)
{
	bool any = false, progress;

	if (ck->res)
		resolver_poll(ck->res);
	do {
		progress = false;
		for (size_t i = 0; i < check_table_len; i++) {
			struct check_slot *s = &ck->row[i];

			if (!s->started || s->harvested || !check_table[i]->done(s->state))
				continue;
			finish_row(ck, i);
			progress = true;
		}
		/* a row that reads other rows' facts as they finish may be done now too */
		for (size_t i = 0; progress && i < check_table_len; i++)
			if (ck->row[i].started && !ck->row[i].harvested && check_table[i]->progress)
				check_table[i]->progress(ck->row[i].state);
		any = any || progress;
	} while (progress);
	return any;
}

/* start_needed - start the rows allowed by now whose fact is needed; how many, or -1 */
static int start_needed(struct checks *ck)
{
	int started = 0;
	fact_mask needed = needed_facts(ck);
	char err[320];

	for (size_t i = 0; i < check_table_len; i++) {
		const struct check_row *r = check_table[i];
		struct check_slot *s = &ck->row[i];

		if (s->started || r->stage > ck->stage || !(needed & r->facts) ||
		    (ck->facts.known & r->facts) == r->facts)
			continue;
		/* its inputs first: it starts at a later call, once the rows making them are done */
		if (r->inputs && (ck->facts.known & r->inputs(ck->cfg)) != r->inputs(ck->cfg))
			continue;
		/* the daemon set the libraries up at start; a test or tool may not have */
		if (checks_library_init(err, sizeof err) < 0) {
			checks_fail(ck, err);
			return -1;
		}
		s->started = true;
		if (r->start(ck, &s->state) < 0) {
			s->harvested = true;   /* never finish a check that did not start */
			return -1;
		}
		started++;
	}
	harvest(ck);
	return started;
}

/* drop_unneeded - abandon running checks no rule can use any more; their facts stay unknown */
static void drop_unneeded(struct checks *ck)
{
	fact_mask needed = needed_facts(ck);

	for (size_t i = 0; i < check_table_len; i++) {
		struct check_slot *s = &ck->row[i];

		if (!s->started || s->harvested || (needed & check_table[i]->facts))
			continue;
		check_table[i]->release(s->state);
		s->state = NULL;
		s->harvested = true;
	}
}

/* skip_all - every check's fact becomes "skipped" */
static void skip_all(struct checks *ck)
{
	for (size_t i = 0; i < check_table_len; i++) {
		const struct check_row *r = check_table[i];

		if (ck->row[i].started || (ck->facts.known & r->facts) == r->facts)
			continue;
		if (r->skip)
			r->skip(&ck->facts);
		else
			facts_skip(&ck->facts, r->facts);
		ck->facts.known |= r->facts;
		ck->row[i].started = ck->row[i].harvested = true;
	}
}

/* checks_advance - mark the stage's facts known, then start what is needed */
int checks_advance(struct checks *ck, enum check_stage stage)
{
	if (stage <= ck->stage)
		return ck->error[0] ? -1 : 0;
	ck->stage = stage;
	if (stage >= CHECK_STAGE_MAIL) {
		/* no HELO by now means none will come: the fact is "" */
		if (!(ck->facts.known & FACT_HELO))
			checks_set_helo(ck, "");
		if (!(ck->facts.known & FACT_CLIENT))
			checks_set_client(ck, NULL);
	}
	if (stage >= CHECK_STAGE_HEADERS && !(ck->facts.known & FACT_HEADERS)) {
		/* no From: header: from_domain "" */
		ck->facts.from_header = ck->from_fields == 0 ? FROMH_NONE :
					ck->from_fields > 1 ? FROMH_MULTIPLE : (enum from_header_result)ck->from_parse;
		ck->facts.known |= FACT_HEADERS;
	}
	/* the envelope's budget from MAIL FROM; the message data gets its own */
	if ((stage >= CHECK_STAGE_MAIL && !ck->have_deadline) ||
	    (stage >= CHECK_STAGE_HEADERS && !ck->data_deadline)) {
		set_deadline(ck);
		ck->data_deadline = stage >= CHECK_STAGE_HEADERS;
	}
	harvest(ck);
	/* before the message data the recipient can still change what is needed */
	if (stage >= CHECK_STAGE_HEADERS)
		drop_unneeded(ck);
	for (size_t i = 0; i < check_table_len; i++)
		if (ck->row[i].state && !ck->row[i].harvested && check_table[i]->stage_event)
			check_table[i]->stage_event(ck->row[i].state, stage);
	if (stage >= CHECK_STAGE_MAIL && checks_skipped_client(ck)) {
		skip_all(ck);
		return 0;
	}
	if (start_needed(ck) < 0)
		return -1;
	return ck->error[0] ? -1 : 0;
}

/* any_needed_done - resolver_wait predicate: a running needed check has finished */
static bool any_needed_done(void *arg)
{
	struct checks *ck = arg;

	for (size_t i = 0; i < check_table_len; i++) {
		const struct check_slot *s = &ck->row[i];

		if ((ck->waiting_for & check_table[i]->facts) && s->started && !s->harvested &&
		    check_table[i]->done(s->state))
			return true;
	}
	return false;
}

/* running_needed - facts of started, unfinished checks a rule waits for that can finish now */
static fact_mask running_needed(const struct checks *ck, fact_mask needed)
{
	fact_mask bits = 0;

	for (size_t i = 0; i < check_table_len; i++)
		if (ck->row[i].started && !ck->row[i].harvested && (needed & check_table[i]->facts) &&
		    facts_stage(check_table[i]->facts) <= ck->stage)
			bits |= check_table[i]->facts;
	return bits;
}

static void force_finish(struct checks *ck, fact_mask bits);

/* run_synchronous - run one waited-for check that evaluates synchronously; true if one ran */
static bool run_synchronous(struct checks *ck, fact_mask bits)
{
	for (size_t i = 0; i < check_table_len; i++) {
		struct check_slot *s = &ck->row[i];

		if (!(bits & check_table[i]->facts) || !check_table[i]->run || !s->started ||
		    s->harvested || check_table[i]->done(s->state))
			continue;
		check_table[i]->run(s->state);
		harvest(ck);
		if (!s->harvested)
			force_finish(ck, check_table[i]->facts);
		return true;
	}
	return false;
}

/* force_finish - a check that can make no more progress reports what it has (temperror) */
static void force_finish(struct checks *ck, fact_mask bits)
{
	for (size_t i = 0; i < check_table_len; i++) {
		struct check_slot *s = &ck->row[i];

		if (!(bits & check_table[i]->facts) || !s->started || s->harvested)
			continue;
		finish_row(ck, i);
	}
}

/*
 * wait_for_one - let one of the running checks in bits finish: run a
 * synchronous one, else drive the resolver until one is done
 */
static void wait_for_one(struct checks *ck, fact_mask bits)
{
	ck->waiting_for = bits;
	/* a synchronous check drives the resolver itself, so the others progress meanwhile */
	if (run_synchronous(ck, bits))
		return;
	if (ck->res)
		resolver_wait(ck->res, any_needed_done, ck);
	if (!harvest(ck))
		/* deadline passed or nothing pending: what still runs never ends */
		force_finish(ck, bits);
}

/*
 * finish_reported - at end of message, let the checks that run only for
 * the headers (needed_facts beyond the rules) finish, within the deadline
 */
static void finish_reported(struct checks *ck)
{
	fact_mask running;

	while ((running = running_needed(ck, needed_facts(ck))) != 0)
		wait_for_one(ck, running);
}

/* checks_decide - evaluate (policy/decide.h); wait only for running checks a rule needs */
enum checks_status checks_decide(struct checks *ck, struct verdict *v)
{
	memset(v, 0, sizeof *v);
	if (ck->error[0])
		return CHECKS_ERROR;
	/* a client that skips the checks is decided before any of their answers is read */
	if (ck->stage >= CHECK_STAGE_MAIL && checks_skipped_client(ck)) {
		decide_eval(ck->cfg, &ck->facts, ck->stage, v);
		return CHECKS_DECIDED;
	}
	harvest(ck);
	for (;;) {
		fact_mask needed, running, known;

		if (decide_eval(ck->cfg, &ck->facts, ck->stage, v)) {
			/* the message goes on with our headers: they report every check */
			if (ck->stage >= CHECK_STAGE_EOM && verdict_delivers(v))
				finish_reported(ck);
			return ck->error[0] ? CHECKS_ERROR : CHECKS_DECIDED;
		}
		known = ck->facts.known;
		if (start_needed(ck) < 0 || ck->error[0])
			return CHECKS_ERROR;
		/* starting checks harvests what finished meanwhile: the rules may decide now */
		if (ck->facts.known != known)
			continue;
		needed = rule_facts(ck);
		running = running_needed(ck, needed);
		if (!running) {
			memset(v, 0, sizeof *v);
			return CHECKS_UNDECIDED;
		}
		wait_for_one(ck, running);
	}
}

/* any_row_done - resolver_wait predicate: a started check has finished and waits to be harvested */
static bool any_row_done(void *arg)
{
	const struct checks *ck = arg;

	for (size_t i = 0; i < check_table_len; i++)
		if (ck->row[i].started && !ck->row[i].harvested && check_table[i]->done(ck->row[i].state))
			return true;
	return false;
}

/*
 * checks_settle - finish what is in flight, and the checks that were
 * only waiting for its answers; decide nothing.
 *
 * A started synchronous check (SPF) counts as in flight: it runs here,
 * while the other lookups are out on the same resolver, and not at the
 * decision after them. Otherwise a message whose decision waits for RCPT
 * paid the MX chain and then the SPF chain, one after the other.
 * Answers already in are harvested first, so a check that is no longer
 * needed (a null MX decides) does not run.
 */
void checks_settle(struct checks *ck)
{
	if (ck->res && !ck->error[0]) {
		harvest(ck);
		while (!ck->error[0] && run_synchronous(ck, running_needed(ck, needed_facts(ck))))
			;
		/*
		 * Step from one finished check to the next rather than waiting for
		 * all at once: a row waiting for inputs (a blocklist on mx_host)
		 * starts as soon as they are known, alongside what is still out.
		 */
		while (!ck->error[0]) {
			bool progress = resolver_wait(ck->res, any_row_done, ck);

			harvest(ck);
			if (ck->error[0] || (start_needed(ck) <= 0 && !progress))
				break;
		}
	}
	harvest(ck);
}
