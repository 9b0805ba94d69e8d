/*
 * decision_log.c - render and write decision lines (see decision_log.h).
 *
 * Rendering goes into a caller's buffer through a tiny bounded builder.
 * decision_log() takes that buffer from the heap, and falls back to a
 * short one on the stack when memory is short (which is exactly when an
 * error line matters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/decision_log.h"
#include "milter/log.h"
#include "policy/utf8.h"

struct out {
	char *buf;
	size_t len, cap;   /* cap includes the NUL */
};

/* put - append n bytes, silently truncating */
static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 >= o->cap)
		return;
	if (n > o->cap - 1 - o->len)
		n = o->cap - 1 - o->len;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* puts_ - append a C string */
static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* needs_quotes - text format: must this value be quoted? */
static bool needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '=')
			return true;
	return false;
}

/* text_value - a value, quoted and escaped when needed */
static void text_value(struct out *o, const char *v)
{
	char esc[8];

	if (!needs_quotes(v)) {
		puts_(o, v);
		return;
	}
	put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(o, esc, 2);
		} else if (*p < ' ' || *p >= 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			puts_(o, esc);
		} else {
			put(o, (const char *)p, 1);
		}
	}
	put(o, "\"", 1);
}

/* json_string - a JSON string literal; invalid UTF-8 becomes U+FFFD */
static void json_string(struct out *o, const char *v)
{
	char esc[8];
	const unsigned char *p = (const unsigned char *)v;

	put(o, "\"", 1);
	while (*p) {
		size_t n = utf8_seq_len(p);

		if (n == 0) {
			puts_(o, "\\ufffd");
			p++;
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(o, esc, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			puts_(o, esc);
			p++;
		} else {
			put(o, (const char *)p, n);
			p += n;
		}
	}
	put(o, "\"", 1);
}

/* field - one key and value in either format; v NULL means unknown */
static void field(struct out *o, enum log_format fmt, const char *key, const char *v)
{
	bool first = o->len <= 1 && fmt == LOG_JSON;

	if (fmt == LOG_JSON) {
		if (!first)
			put(o, ",", 1);
		json_string(o, key);
		put(o, ":", 1);
		if (v)
			json_string(o, v);
		else
			puts_(o, "null");
		return;
	}
	if (o->len)
		put(o, " ", 1);
	puts_(o, key);
	put(o, "=", 1);
	if (v)
		text_value(o, v);
	else
		put(o, "-", 1);
}

/* raw_field - a JSON literal (number, boolean) or bare text value */
static void raw_field(struct out *o, enum log_format fmt, const char *key, const char *v)
{
	if (fmt == LOG_JSON) {
		put(o, ",", 1);
		json_string(o, key);
		put(o, ":", 1);
		puts_(o, v);
		return;
	}
	put(o, " ", 1);
	puts_(o, key);
	put(o, "=", 1);
	puts_(o, v);
}

/* set_field - a set fact called name: a JSON array of its members, or text members joined by "," */
static void set_field(struct out *o, enum log_format fmt, const struct facts *f, enum fact_id id,
		      const char *name, char *member, size_t cap)
{
	unsigned n = facts_set_count(f, id);

	if (fmt != LOG_JSON) {
		field(o, fmt, name, facts_render(f, id, -1, member, cap));
		return;
	}
	put(o, ",", 1);
	json_string(o, name);
	put(o, ":[", 2);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			put(o, ",", 1);
		json_string(o, facts_render(f, id, (int)i, member, cap));
	}
	put(o, "]", 1);
}

/*
 * fact_fields - every fact of the table in its order (not the per-recipient
 * ones); unknown as - / null. The render buffer (8 KiB, for a whole set)
 * comes from the heap: on a libmilter worker's stack it would stay
 * resident in every worker thread (1,000 sessions, 1,000 threads).
 */
static void fact_fields(struct out *o, enum log_format fmt, const struct facts *f)
{
	char small[512];
	char *buf = malloc(FACT_RENDER_MAX);
	size_t cap = buf ? FACT_RENDER_MAX : sizeof small;

	if (!buf)
		buf = small;   /* out of memory: long sets are cut, the line is still written */

	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char namebuf[96];
		const char *name = facts_name(f, (enum fact_id)i, namebuf, sizeof namebuf);

		/* the recipient's facts are the refused recipient's line's; a list not configured has none */
		if ((fact_table[i].flags & FACT_PER_RCPT) || !name)
			continue;
		if (facts_is_set((enum fact_id)i) && facts_known(f, (enum fact_id)i))
			set_field(o, fmt, f, (enum fact_id)i, name, buf, cap);
		else
			field(o, fmt, name, facts_render(f, (enum fact_id)i, -1, buf, cap));
	}
	if (buf != small)
		free(buf);
}

/*
 * replay_fields - JSON only: what `mxguard replay` needs besides the facts
 * to decide the message again (see decision_log.h)
 */
static void replay_fields(struct out *o, const struct decision *d)
{
	const char *r = d->rcpts;
	const char *sep = "";
	char num[32];

	field(o, LOG_JSON, "time", d->time);
	field(o, LOG_JSON, "txn", d->txn);
	puts_(o, ",\"rcpts\":[");
	for (unsigned i = 0; r && i < d->nrcpts; i++, r += strlen(r) + 1) {
		char box[FACT_ADDR_MAX + 2];

		snprintf(box, sizeof box, "<%s>", r);
		puts_(o, sep);
		json_string(o, box);
		sep = ",";
	}
	put(o, "]", 1);
	if (d->rcpts_more) {
		snprintf(num, sizeof num, "%u", d->rcpts_more);
		raw_field(o, LOG_JSON, "rcpts_more", num);
	}
	/* a set a DNS error left incomplete: "not listed" there is unknown, not false */
	puts_(o, ",\"partial\":[");
	sep = "";
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char namebuf[96];
		const char *name = facts_name(d->facts, (enum fact_id)i, namebuf, sizeof namebuf);

		if (!name || !facts_known(d->facts, (enum fact_id)i) || !facts_set_partial(d->facts, (enum fact_id)i))
			continue;
		puts_(o, sep);
		json_string(o, name);
		sep = ",";
	}
	put(o, "]", 1);
	snprintf(num, sizeof num, "%d", DECISION_LOG_VERSION);
	raw_field(o, LOG_JSON, "log_version", num);
}

/* decision_format - render one decision line */
size_t decision_format(enum log_format fmt, const struct decision *d, char *buf, size_t len)
{
	struct out o = { buf, 0, len };
	char num[32];
	char rcpt[FACT_ADDR_MAX + 2];

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (fmt == LOG_JSON)
		put(&o, "{", 1);
	field(&o, fmt, "queue_id", d->queue_id && *d->queue_id ? d->queue_id : NULL);
	fact_fields(&o, fmt, d->facts);
	if (d->rcpt) {
		snprintf(rcpt, sizeof rcpt, "<%s>", d->rcpt);
		field(&o, fmt, "rcpt", rcpt);
	}
	field(&o, fmt, "rule", d->rule);
	field(&o, fmt, "action", d->action ? d->action : "none");
	field(&o, fmt, "reply", d->reply && *d->reply ? d->reply : NULL);
	if (fmt == LOG_JSON)
		raw_field(&o, fmt, "dry_run", d->dry_run ? "true" : "false");
	else
		raw_field(&o, fmt, "dry_run", d->dry_run ? "yes" : "no");
	field(&o, fmt, "stage", d->stage ? d->stage : "-");
	snprintf(num, sizeof num, "%ld", d->elapsed_ms);
	raw_field(&o, fmt, "elapsed_ms", num);
	if (fmt == LOG_JSON)
		replay_fields(&o, d);
	if (d->error)
		field(&o, fmt, "error", d->error);
	if (fmt == LOG_JSON)
		put(&o, "}", 1);
	return o.len;
}

/* decision_log - format and write */
void decision_log(enum log_format fmt, const struct decision *d)
{
	/*
	 * Room for every field escaped at its worst (DECISION_LINE_MAX, some
	 * 200 KiB with the set facts) is too much for a connection thread's
	 * stack: it comes from the heap, and when memory is short the line is
	 * still written, cut at a size the stack can hold.
	 */
	char small[1024];
	char *line = malloc(DECISION_LINE_MAX);

	decision_format(fmt, d, line ? line : small, line ? DECISION_LINE_MAX : sizeof small);
	log_decision(line ? line : small);
	free(line);
}
