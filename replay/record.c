/*
 * record.c - decision lines read back (see record.h).
 *
 * Keys are found through one small hash table made once from the fact
 * table and the decision keys, so a line's 50-odd keys cost one hash and
 * one comparison each. Values are copied into struct facts with bounded
 * copies (no printf on this path: replay reads hundreds of thousands of
 * lines a second).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/netlist.h"
#include "replay/record.h"

/* The decision keys, after the fact ids in the key table. */
enum {
	K_QUEUE_ID = FACT_COUNT, K_RCPT, K_RULE, K_ACTION, K_REPLY, K_DRY_RUN, K_STAGE, K_ELAPSED,
	K_ERROR, K_TIME, K_TXN, K_RCPTS, K_RCPTS_MORE, K_PARTIAL, K_VERSION, K_COUNT
};
static const char *const decision_keys[K_COUNT - FACT_COUNT] = {
	"queue_id", "rcpt", "rule", "action", "reply", "dry_run", "stage", "elapsed_ms",
	"error", "time", "txn", "rcpts", "rcpts_more", "partial", "log_version",
};
static const char *const stage_names[] = {
	[REC_MAIL] = "mail", [REC_RCPT] = "rcpt", [REC_HEADERS] = "headers", [REC_EOM] = "eom",
	[REC_ABORT] = "abort", [REC_CLOSE] = "close",
};

#define SLOTS 256   /* a power of two, well above K_COUNT */
static struct { const char *name; int key; } slot[SLOTS];
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

/* hash - FNV-1a of a key */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* slot_add - name means key */
static void slot_add(const char *name, int key)
{
	uint32_t i = hash(name) & (SLOTS - 1);

	while (slot[i].name)
		i = (i + 1) & (SLOTS - 1);
	slot[i].name = name;
	slot[i].key = key;
}

/* slots_init - the plain facts (a recipient's are no key of a line: "rcpt" is the refused one), then the decision keys */
static void slots_init(void)
{
	for (unsigned i = 0; i < FACT_COUNT; i++)
		if (fact_table[i].instances == 1 && !(fact_table[i].flags & FACT_PER_RCPT))
			slot_add(fact_table[i].name, (int)i);
	for (int k = FACT_COUNT; k < K_COUNT; k++)
		slot_add(decision_keys[k - FACT_COUNT], k);
}

/* key_of - the key table's entry for name, -1 when none */
static int key_of(const char *name)
{
	uint32_t i = hash(name) & (SLOTS - 1);

	for (; slot[i].name; i = (i + 1) & (SLOTS - 1))
		if (strcmp(slot[i].name, name) == 0)
			return slot[i].key;
	return -1;
}

/* family_of - "dnsbl.zen": the family's first id and the list name; FACT_COUNT when no family */
static enum fact_id family_of(const char *name, const char **list)
{
	const char *dot = strchr(name, '.');

	if (!dot || !dot[1])
		return FACT_COUNT;
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const struct fact_def *d = &fact_table[i];

		if (d->instances > 1 && d->first == (enum fact_id)i && strlen(d->name) == (size_t)(dot - name) &&
		    strncmp(d->name, name, (size_t)(dot - name)) == 0) {
			*list = dot + 1;
			return (enum fact_id)i;
		}
	}
	return FACT_COUNT;
}

/* rec_stage_name - see record.h */
const char *rec_stage_name(enum rec_stage s)
{
	return (unsigned)s < sizeof stage_names / sizeof stage_names[0] ? stage_names[s] : "?";
}

/* bad - a decision key's value is not one mxguard writes */
static enum rec_status bad(struct record *r, const char *why)
{
	r->why = why;
	return REC_BAD;
}

/* text - a string or null field: its text or NULL; false for any other type */
static bool text(const struct jl_field *f, const char **out)
{
	if (f->type == JL_NULL) {
		*out = NULL;
		return true;
	}
	*out = f->str;
	return f->type == JL_STRING;
}

/* count - a non-negative integer number field */
static bool count(const struct jl_field *f, unsigned long max, unsigned long *out)
{
	char *end;

	if (f->type != JL_NUMBER || f->str[0] == '-')
		return false;
	*out = strtoul(f->str, &end, 10);
	return *end == '\0' && *out <= max;
}

/* decision_key - one of the keys after the facts */
static enum rec_status decision_key(struct record *r, int k, const struct jl_field *f, bool *have_action,
				    bool *have_stage)
{
	unsigned long n;

	switch (k) {
	case K_QUEUE_ID: return text(f, &r->queue_id) ? REC_OK : bad(r, "queue_id is not a string");
	case K_RULE: return text(f, &r->rule) ? REC_OK : bad(r, "rule is not a string");
	case K_REPLY: return text(f, &r->reply) ? REC_OK : bad(r, "reply is not a string");
	case K_ERROR: return text(f, &r->error) ? REC_OK : bad(r, "error is not a string");
	case K_TIME: return text(f, &r->time) ? REC_OK : bad(r, "time is not a string");
	case K_TXN: return text(f, &r->txn) ? REC_OK : bad(r, "txn is not a string");
	case K_RCPT: return text(f, &r->rcpt) && r->rcpt ? REC_OK : bad(r, "rcpt is not a string");
	case K_ELAPSED: return f->type == JL_NUMBER ? REC_OK : bad(r, "elapsed_ms is not a number");
	case K_DRY_RUN:
		if (f->type != JL_TRUE && f->type != JL_FALSE)
			return bad(r, "dry_run is not true or false");
		r->dry_run = f->type == JL_TRUE;
		return REC_OK;
	case K_ACTION:
		for (int a = ACTION_NONE; a <= ACTION_QUARANTINE && f->type == JL_STRING; a++)
			if (strcmp(f->str, action_name((enum action)a)) == 0) {
				r->action = (enum action)a;
				*have_action = true;
				return REC_OK;
			}
		return bad(r, "action is not one mxguard writes");
	case K_STAGE:
		for (unsigned s = 0; s < sizeof stage_names / sizeof stage_names[0] && f->type == JL_STRING; s++)
			if (strcmp(f->str, stage_names[s]) == 0) {
				r->stage = (enum rec_stage)s;
				*have_stage = true;
				return REC_OK;
			}
		return bad(r, "stage is not one mxguard writes");
	case K_RCPTS:
		if (f->type != JL_ARRAY)
			return bad(r, "rcpts is not an array of strings");
		r->have_rcpts = true;
		r->rcpts = f->items;
		r->nrcpts = f->n;
		return REC_OK;
	case K_PARTIAL:
		if (f->type != JL_ARRAY)
			return bad(r, "partial is not an array of strings");
		r->partial = f->items;
		r->npartial = f->n;
		return REC_OK;
	case K_RCPTS_MORE:
		if (!count(f, 1000000000UL, &r->rcpts_more))
			return bad(r, "rcpts_more is not a count");
		return REC_OK;
	case K_VERSION:
		if (!count(f, 1000000UL, &n) || n < 1)
			return bad(r, "log_version is not a version");
		r->log_version = (long)n;
		return REC_OK;
	default:
		return REC_OK;
	}
}

/* unknown_key - a key this version does not know: remembered, ignored */
static void unknown_key(struct record *r, const char *key)
{
	if (r->nunknown < REC_UNKNOWN_MAX)
		r->unknown[r->nunknown] = key;
	r->nunknown++;
}

/* record_read - see record.h */
enum rec_status record_read(struct record *r, const struct jl_line *l)
{
	uint64_t seen[(K_COUNT + 63) / 64] = { 0 };
	bool have_action = false, have_stage = false;

	pthread_once(&slots_once, slots_init);
	memset(r, 0, offsetof(struct record, fact));
	memset(r->fact, 0, sizeof r->fact);
	r->nfam = r->nunknown = 0;
	r->why = NULL;
	r->log_version = 1;
	for (unsigned i = 0; i < l->nfields; i++) {
		const struct jl_field *f = &l->field[i];
		int k = key_of(f->key);
		const char *list;
		enum fact_id fam;

		if (k < 0) {
			if ((fam = family_of(f->key, &list)) == FACT_COUNT) {
				unknown_key(r, f->key);
			} else if (r->nfam < REC_FAMILY_MAX) {
				for (unsigned j = 0; j < r->nfam; j++)
					if (r->fam[j].first == fam && strcmp(r->fam[j].list, list) == 0)
						return bad(r, "a key twice");
				r->fam[r->nfam++] = (struct rec_family){ fam, list, f };
			} else {
				unknown_key(r, f->key);
			}
			continue;
		}
		if (seen[k / 64] & ((uint64_t)1 << (k % 64)))
			return bad(r, "a key twice");
		seen[k / 64] |= (uint64_t)1 << (k % 64);
		if (k < FACT_COUNT)
			r->fact[k] = f;
		else if (decision_key(r, k, f, &have_action, &have_stage) != REC_OK)
			return REC_BAD;
	}
	if (!have_action || !have_stage)
		return REC_NOT_OURS;
	return REC_OK;
}

/* copy - src into a buffer of size octets, cut to fit (a whole UTF-8 character at most is lost) */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	/* do not leave half a character at the cut */
	if (src[n] != '\0')
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* parse_ip - text to an IPv4 or IPv6 socket address; false when neither */
static bool parse_ip(const char *text, union fact_sockaddr *a)
{
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, text, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		return true;
	}
	return false;
}

enum set_result { SET_VALUE, SET_NULL, SET_BAD };

/* set_fact - the value of fact id from a line's field, as the checks would have written it */
static enum set_result set_fact(struct facts *f, enum fact_id id, const struct jl_field *v)
{
	const struct fact_def *d = &fact_table[id];
	char *p = (char *)facts_field(f, id);
	union fact_sockaddr a;
	unsigned x;

	if (v->type == JL_NULL)
		return SET_NULL;
	switch (d->kind) {
	case FACT_KIND_ENUM: {
		int iv;

		if (v->type != JL_STRING || (x = facts_value_parse(id, v->str)) == 0)
			return SET_BAD;
		iv = (int)x;
		memcpy(p, &iv, sizeof iv);
		return SET_VALUE;
	}
	case FACT_KIND_BOOL:
		if (v->type == JL_STRING && (strcmp(v->str, "yes") == 0 || strcmp(v->str, "no") == 0))
			*(bool *)p = v->str[0] == 'y';
		else if (v->type == JL_TRUE || v->type == JL_FALSE)
			*(bool *)p = v->type == JL_TRUE;
		else
			return SET_BAD;
		return SET_VALUE;
	case FACT_KIND_ADDRESS: {
		struct fact_address *fa = (struct fact_address *)p;

		if (v->type != JL_STRING)
			return SET_BAD;
		memset(&fa->sa, 0, sizeof fa->sa);
		fa->sa.ss_family = AF_UNSPEC;
		/* "" is a client on a unix socket: no address */
		if (v->str[0] && !parse_ip(v->str, &a))
			return SET_BAD;
		if (v->str[0])
			memcpy(&fa->sa, &a, sizeof a);
		copy(fa->text, sizeof fa->text, v->str);
		return SET_VALUE;
	}
	case FACT_KIND_MAILBOX: {
		size_t n;

		if (v->type != JL_STRING)
			return SET_BAD;
		/* logged as "<a@b>" ("<>" the null sender) */
		n = strlen(v->str);
		if (n >= 2 && v->str[0] == '<' && v->str[n - 1] == '>') {
			n = n - 2 < d->size - 1 ? n - 2 : d->size - 1;
			memcpy(p, v->str + 1, n);
			p[n] = '\0';
		} else {
			copy(p, d->size, v->str);
		}
		return SET_VALUE;
	}
	case FACT_KIND_DOMAIN:
	case FACT_KIND_TEXT:
		if (v->type != JL_STRING)
			return SET_BAD;
		copy(p, d->size, v->str);
		return SET_VALUE;
	case FACT_KIND_DOMAIN_SET: {
		struct fact_domain_set *s = (struct fact_domain_set *)p;

		if (v->type != JL_ARRAY)
			return SET_BAD;
		s->count = 0;
		s->partial = false;
		for (unsigned i = 0; i < v->n; i++) {
			char name[FACT_NAME_MAX];

			copy(name, sizeof name, v->items[i]);
			facts_set_add_name(s, name);
		}
		return SET_VALUE;
	}
	case FACT_KIND_ADDRESS_SET: {
		struct fact_address_set *s = (struct fact_address_set *)p;

		if (v->type != JL_ARRAY)
			return SET_BAD;
		s->count = 0;
		s->partial = false;
		for (unsigned i = 0; i < v->n; i++) {
			if (!parse_ip(v->items[i], &a))
				return SET_BAD;
			facts_set_add_addr(s, a.sa.sa_family,
					   a.sa.sa_family == AF_INET ? (const void *)&a.in.sin_addr
								     : (const void *)&a.in6.sin6_addr);
		}
		return SET_VALUE;
	}
	}
	return SET_BAD;
}

/* put - one fact from its field into f and the masks */
static void put(struct facts *f, enum fact_id id, const struct jl_field *v, struct rec_facts *out)
{
	switch (set_fact(f, id, v)) {
	case SET_VALUE:
		f->known |= FBIT_OF(id);
		break;
	case SET_BAD:
		out->bad |= FBIT_OF(id);
		break;
	case SET_NULL:
		break;
	}
}

/* The facts the check rows write (everything but what the MTA says and the headers give). */
#define ROW_FACTS (FACT_MASK_ALL & ~(fact_mask)(FACT_CLIENT | FACT_HELO | FACT_SENDER | FACT_RCPT | FACT_HEADERS))

/*
 * skipped - did the logging daemon skip this client's checks? Its verdict
 * says so, or its trusted fact; an authenticated client's (skip_authenticated
 * is the logging configuration's) when every check fact it logged is "skipped".
 */
static bool skipped(const struct record *r, const struct facts *f)
{
	bool any = false;

	if (r->rule && (strcmp(r->rule, "trusted") == 0 || strcmp(r->rule, "authenticated") == 0))
		return true;
	if (facts_known(f, FID_trusted) && f->trusted)
		return true;
	if (!facts_known(f, FID_authenticated) || !f->authenticated)
		return false;
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		if (!(ROW_FACTS & f->known & FBIT_OF(i)) || fact_table[i].kind != FACT_KIND_ENUM)
			continue;
		if (strcmp(facts_value_name((enum fact_id)i, facts_enum(f, (enum fact_id)i)), "skipped") != 0)
			return false;
		any = true;
	}
	return any;
}

/* record_facts - see record.h */
void record_facts(const struct record *r, const struct config *cfg, struct facts *f, struct rec_facts *out)
{
	out->logged = out->bad = 0;
	out->skipped = false;
	f->known = 0;
	f->list_name = cfg->list_name;
	for (unsigned i = 0; i < FACT_COUNT; i++)
		if (r->fact[i])
			put(f, (enum fact_id)i, r->fact[i], out);
	/* a list's facts by this configuration's name for it */
	for (unsigned j = 0; j < r->nfam; j++) {
		unsigned n = fact_table[r->fam[j].first].instances;

		for (unsigned k = 0; k < n; k++)
			if (cfg->list_name[k] && strcmp(cfg->list_name[k], r->fam[j].list) == 0)
				put(f, (enum fact_id)(r->fam[j].first + k), r->fam[j].field, out);
	}
	for (unsigned j = 0; j < r->npartial; j++) {
		enum fact_id id = facts_find(r->partial[j], cfg->list_name);

		if (id == FACT_COUNT || !facts_known(f, id))
			continue;
		if (fact_table[id].kind == FACT_KIND_DOMAIN_SET)
			((struct fact_domain_set *)facts_field(f, id))->partial = true;
		else if (fact_table[id].kind == FACT_KIND_ADDRESS_SET)
			((struct fact_address_set *)facts_field(f, id))->partial = true;
	}
	if (skipped(r, f)) {
		/* placeholders: a configuration that checks this client has no values for them */
		out->skipped = true;
		f->known &= ~ROW_FACTS;
	}
	/* trusted is this configuration's judgement of the client address */
	if (facts_known(f, FID_client_ip) && f->client_ip.sa.ss_family != AF_UNSPEC) {
		f->trusted = cfg->trusted_networks &&
			     netlist_contains(cfg->trusted_networks, (const struct sockaddr *)&f->client_ip.sa);
		f->known |= FBIT(trusted);
	}
	out->logged = f->known;
}
