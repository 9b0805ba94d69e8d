/*
 * fuzz_replay.c - libFuzzer harness for `mxguard replay`: its line reader
 * (replay/jsonline.h), and everything after it (replay/engine.h: the
 * decision keys and facts read back, each message decided again stage by
 * stage under a configuration with rules on recipients, sets and a
 * blocklist, compared and counted).
 *
 * Input: log bytes (anything: replay reads files anyone may have written
 * to). The reader's promises, on the whole input as one line:
 *   - jl_parse never reads or writes outside the line's len + 1 bytes
 *     (an exact heap copy: ASan sees one byte too far);
 *   - JL_OK: every key, string and array item lies inside the buffer,
 *     is NUL-terminated there and is valid UTF-8 without a NUL; the
 *     counts are within the limits;
 *   - JL_OK: the fields written back as canonical JSON read back to the
 *     same fields (same keys, types, strings, items, number text);
 *   - a syslog prefix before the line changes nothing;
 *   - not JL_OK: an error text, and error_at within the line.
 * The engine's, on the input cut into lines (as mxguard replay reads it):
 *   - no crash, no leak (ASan), whatever the lines hold;
 *   - the counts add up: every line is a decision line or skipped for one
 *     reason; lines compared and reproduced, messages, the table of
 *     actions and the changed ones never exceed what they count from.
 */
#include <string.h>

#include "conf/config.h"
#include "replay/engine.h"
#include "replay/jsonline.h"
#include "tests/fuzz/fuzz.h"

static const char fuzz_conf[] =
	"trusted_networks = 198.51.100.0/24\n"
	"dnsbl bl bl.test client_ip\n"
	"rule watch rcpt_domain = watch.test reject dry_run\n"
	"rule closed rcpt_domain = closed.test reject 550 5.1.1 \"%{rcpt} closed\"\n"
	"rule null-mx mx = nullmx reject\n"
	"rule listed dnsbl.bl = listed reject 550 5.7.1 \"%{dnsbl_detail.bl}\"\n"
	"rule drop mx_addr in {203.0.113.0/24} or mx_host in {*.bad.test} reject\n"
	"rule from from_header = multiple reject\n"
	"rule dmarc dmarc = fail and dmarc_policy = reject quarantine\n"
	"rule spf spf = fail and not (dkim = pass and dkim_aligned = yes) reject\n"
	"default accept\n";

/* engine - the input's lines through a fresh engine; the counts must add up */
static void engine(const uint8_t *data, size_t size)
{
	static struct config *cfg;
	char err[256];
	struct replay *R;
	const struct report *rp;
	unsigned long skipped = 0, table = 0, n = 0;
	size_t start = 0;

	if (!cfg && !(cfg = config_load_string("fuzz.conf", fuzz_conf, err, sizeof err))) {
		fprintf(stderr, "fuzz_replay: %s\n", err);
		abort();
	}
	if (!(R = replay_new(&(struct replay_setup){ cfg, size & 1 ? cfg : NULL, 2 })))
		return;
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;
		char *line = fuzz_cstr(data + start, len);

		if (line) {
			FUZZ_CHECK(replay_line(R, line, len, "fuzz", ++n) == 0);
			free(line);
		}
		start += len + 1;
	}
	FUZZ_CHECK(replay_finish(R) == 0);
	rp = replay_report(R);
	for (int k = 0; k < RP_SKIP_KINDS; k++)
		skipped += rp->skipped[k];
	for (int a = 0; a < RP_NLABELS; a++)
		for (int b = 0; b < RP_NLABELS; b++)
			table += rp->table[a][b];
	FUZZ_CHECK(rp->lines == n && rp->lines == skipped + rp->decision_lines);
	FUZZ_CHECK(rp->lines_same + rp->lines_reply_differs <= rp->lines_compared &&
		   rp->lines_compared <= rp->decision_lines);
	FUZZ_CHECK(rp->messages <= rp->decision_lines && rp->compared + rp->errors == rp->messages);
	FUZZ_CHECK(table == rp->compared && rp->changed <= rp->compared && rp->undecided <= rp->compared);
	replay_free(R);
}

/* utf8_ok - valid UTF-8 (RFC 3629), no NUL inside */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
				    c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (n == 0)
			return false;
		for (unsigned i = 1; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
		    (c == 0xf4 && s[1] >= 0x90))
			return false;
		s += n;
	}
	return true;
}

/* inside - s is a NUL-terminated string within buf[0..len] */
static bool inside(const char *s, const char *buf, size_t len)
{
	return s >= buf && s <= buf + len && memchr(s, '\0', (size_t)(buf + len - s) + 1) != NULL;
}

/* check_text - one string of a parsed line */
static void check_text(const char *s, const char *buf, size_t len)
{
	FUZZ_CHECK(s && inside(s, buf, len));
	FUZZ_CHECK(utf8_ok((const unsigned char *)s));
}

struct out {
	char *buf;
	size_t len, cap;
};

/* put - append, growing */
static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *b = realloc(o->buf, cap);

		FUZZ_CHECK(b != NULL);
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* put_string - s as a JSON string, control characters escaped */
static void put_string(struct out *o, const char *s)
{
	char esc[8];

	put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(o, esc, 6);
		} else {
			put(o, s, 1);
		}
	}
	put(o, "\"", 1);
}

/* serialize - the parsed fields as one canonical JSON object */
static void serialize(const struct jl_line *l, struct out *o)
{
	put(o, "{", 1);
	for (unsigned i = 0; i < l->nfields; i++) {
		const struct jl_field *f = &l->field[i];

		if (i)
			put(o, ",", 1);
		put_string(o, f->key);
		put(o, ":", 1);
		switch (f->type) {
		case JL_NULL: put(o, "null", 4); break;
		case JL_FALSE: put(o, "false", 5); break;
		case JL_TRUE: put(o, "true", 4); break;
		case JL_NUMBER: put(o, f->str, strlen(f->str)); break;
		case JL_STRING: put_string(o, f->str); break;
		case JL_OTHER: put(o, "{}", 2); break;
		case JL_ARRAY:
			put(o, "[", 1);
			for (unsigned k = 0; k < f->n; k++) {
				if (k)
					put(o, ",", 1);
				put_string(o, f->items[k]);
			}
			put(o, "]", 1);
			break;
		}
	}
	put(o, "}", 1);
}

/* same_fields - two parsed lines hold the same fields */
static bool same_fields(const struct jl_line *a, const struct jl_line *b)
{
	if (a->nfields != b->nfields)
		return false;
	for (unsigned i = 0; i < a->nfields; i++) {
		const struct jl_field *x = &a->field[i], *y = &b->field[i];

		if (strcmp(x->key, y->key) != 0 || x->type != y->type || x->n != y->n)
			return false;
		if ((x->type == JL_STRING || x->type == JL_NUMBER) && strcmp(x->str, y->str) != 0)
			return false;
		for (unsigned k = 0; x->type == JL_ARRAY && k < x->n; k++)
			if (strcmp(x->items[k], y->items[k]) != 0)
				return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jl_line a, b, c;
	static const char prefix[] = "Dec  3 10:00:00 mx mxguard[123]: ";
	char *buf = fuzz_cstr(data, size), *pre;
	enum jl_status st;
	struct out o = { 0 };

	if (!buf)
		return 0;
	engine(data, size);
	/* the prefixed copy first: parsing rewrites buf in place */
	pre = malloc(sizeof prefix + size);
	if (pre) {
		memcpy(pre, prefix, sizeof prefix - 1);
		memcpy(pre + sizeof prefix - 1, data, size);
		pre[sizeof prefix - 1 + size] = '\0';
	}
	st = jl_parse(&a, buf, size);
	if (st != JL_OK) {
		FUZZ_CHECK(a.error != NULL && a.error_at <= size);
		goto done;
	}
	FUZZ_CHECK(a.nfields <= JL_FIELDS_MAX && a.nitems <= JL_ITEMS_MAX);
	for (unsigned i = 0; i < a.nfields; i++) {
		const struct jl_field *f = &a.field[i];

		check_text(f->key, buf, size);
		if (f->type == JL_STRING || f->type == JL_NUMBER)
			check_text(f->str, buf, size);
		if (f->type == JL_ARRAY) {
			FUZZ_CHECK(f->items >= a.item && f->items + f->n <= a.item + a.nitems);
			for (unsigned k = 0; k < f->n; k++)
				check_text(f->items[k], buf, size);
		}
	}
	serialize(&a, &o);
	FUZZ_CHECK(jl_parse(&b, o.buf, o.len) == JL_OK);
	FUZZ_CHECK(same_fields(&a, &b));
	/* a prefix that holds no `{` changes nothing */
	if (pre && !memchr(data, '\0', size)) {
		FUZZ_CHECK(jl_parse(&c, pre, sizeof prefix - 1 + size) == JL_OK);
		FUZZ_CHECK(same_fields(&a, &c));
	}
done:
	free(o.buf);
	free(pre);
	free(buf);
	return 0;
}
