/*
 * facts.c - fact_table[] made from policy/facts.def, and the generic
 * reading, printing and skipping of any fact by its row.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/facts.h"

/*
 * Each row's value names, from its value list in facts.h (NONE: none):
 * values_of_mx[] = { "unknown", "valid", ... }, and a check that an
 * enumerated fact's C type is read correctly as an int (facts_enum).
 */
#define FACT_VALUE_NAME(id, name) name,
#define NONE_VALUES(V)
#define FACT(name, ctype, kind, stage, values, flags, about) \
	static const char *const values_of_##name[] = { "unknown", values##_VALUES(FACT_VALUE_NAME) }; \
	_Static_assert(kind != FACT_KIND_ENUM || sizeof(ctype) == sizeof(int), #name " is read as an int");
#define FACTS(name, ctype, kind, stage, values, n, flags, about) FACT(name, ctype, kind, stage, values, flags, about)
#include "policy/facts.def"
#undef FACTS
#undef FACT

#define NVALUES(a) (sizeof(a) / sizeof((a)[0]))
#define FACT_ROW(name, ctype, kind, stage, values, n, flags, about) \
	{ #name, FID_##name, n, kind, CHECK_STAGE_##stage, \
	  kind == FACT_KIND_ENUM ? values_of_##name : NULL, \
	  kind == FACT_KIND_ENUM ? NVALUES(values_of_##name) : 0, \
	  offsetof(struct facts, name), sizeof(ctype), flags, about }
const struct fact_def fact_table[FACT_COUNT] = {
#define FACT(name, ctype, kind, stage, values, flags, about) \
	[FID_##name] = FACT_ROW(name, ctype, kind, stage, values, 1, flags, about),
/* every instance of a family has the family's row (a GNU range designator) */
#define FACTS(name, ctype, kind, stage, values, n, flags, about) \
	[FID_##name ... FID_##name##_last] = FACT_ROW(name, ctype, kind, stage, values, n, flags, about),
#include "policy/facts.def"
#undef FACTS
#undef FACT
};

/* facts_field - see facts.h */
const void *facts_field(const struct facts *f, enum fact_id id)
{
	const struct fact_def *d = &fact_table[id];

	return (const char *)f + d->offset + (size_t)(id - d->first) * d->size;
}

/* facts_find - see facts.h */
enum fact_id facts_find(const char *name, const char *const *list_name)
{
	const char *dot = strchr(name, '.');

	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const struct fact_def *d = &fact_table[i];

		if (d->instances == 1) {
			if (strcmp(d->name, name) == 0)
				return (enum fact_id)i;
			continue;
		}
		/* a family instance: "family.LIST", the list one of the configured ones */
		if (!dot || (size_t)(dot - name) != strlen(d->name) || strncmp(d->name, name, (size_t)(dot - name)) ||
		    !list_name || !list_name[i - d->first] || strcmp(list_name[i - d->first], dot + 1) != 0)
			continue;
		return (enum fact_id)i;
	}
	return FACT_COUNT;
}

/* facts_label - see facts.h */
const char *facts_label(enum fact_id id, char *buf, size_t len)
{
	const struct fact_def *d = &fact_table[id];

	if (d->instances == 1)
		return d->name;
	if (id != d->first)
		return NULL;
	snprintf(buf, len, "%s.LIST", d->name);
	return buf;
}

/* facts_name - see facts.h */
const char *facts_name(const struct facts *f, enum fact_id id, char *buf, size_t len)
{
	const struct fact_def *d = &fact_table[id];
	const char *list;

	if (d->instances == 1)
		return d->name;
	list = f->list_name ? f->list_name[id - d->first] : NULL;
	if (!list)
		return NULL;
	snprintf(buf, len, "%s.%s", d->name, list);
	return buf;
}

/* facts_kind_name - see facts.h */
const char *facts_kind_name(enum fact_kind k)
{
	switch (k) {
	case FACT_KIND_ENUM:        return "a result";
	case FACT_KIND_BOOL:        return "yes or no";
	case FACT_KIND_ADDRESS:     return "an address";
	case FACT_KIND_DOMAIN:      return "a domain";
	case FACT_KIND_MAILBOX:     return "a mail address";
	case FACT_KIND_TEXT:        return "text for people";
	case FACT_KIND_DOMAIN_SET:  return "a set of domains";
	case FACT_KIND_ADDRESS_SET: return "a set of addresses";
	}
	return "?";
}

/* facts_is_set - see facts.h */
bool facts_is_set(enum fact_id id)
{
	return fact_table[id].kind == FACT_KIND_DOMAIN_SET || fact_table[id].kind == FACT_KIND_ADDRESS_SET;
}

/* facts_known - see facts.h */
bool facts_known(const struct facts *f, enum fact_id id)
{
	return (f->known & ((fact_mask)1 << id)) != 0;
}

/* facts_enum - an enum field read through its row (every enum here is int-sized) */
unsigned facts_enum(const struct facts *f, enum fact_id id)
{
	int v;

	if (fact_table[id].kind != FACT_KIND_ENUM)
		return 0;
	memcpy(&v, facts_field(f, id), sizeof v);
	return v < 0 ? 0 : (unsigned)v;
}

/* facts_value_name - see facts.h */
const char *facts_value_name(enum fact_id id, unsigned v)
{
	return v < fact_table[id].nvalues ? fact_table[id].values[v] : "unknown";
}

/* facts_value_parse - see facts.h */
unsigned facts_value_parse(enum fact_id id, const char *name)
{
	for (unsigned v = 1; v < fact_table[id].nvalues; v++)
		if (strcasecmp(fact_table[id].values[v], name) == 0)
			return v;
	return 0;
}

/* facts_set_count - see facts.h */
unsigned facts_set_count(const struct facts *f, enum fact_id id)
{
	unsigned n;

	if (!facts_is_set(id))
		return 1;
	memcpy(&n, facts_field(f, id), sizeof n);   /* count is the first member of both set types */
	return n;
}

/* facts_set_partial - see facts.h */
bool facts_set_partial(const struct facts *f, enum fact_id id)
{
	if (fact_table[id].kind == FACT_KIND_DOMAIN_SET)
		return ((const struct fact_domain_set *)facts_field(f, id))->partial;
	if (fact_table[id].kind == FACT_KIND_ADDRESS_SET)
		return ((const struct fact_address_set *)facts_field(f, id))->partial;
	return false;
}

/* facts_set_name - see facts.h */
const char *facts_set_name(const struct fact_domain_set *s, unsigned i)
{
	return s->text + (i ? s->end[i - 1] : 0);
}

/* facts_set_add_name - see facts.h */
bool facts_set_add_name(struct fact_domain_set *s, const char *name)
{
	size_t used = s->count ? s->end[s->count - 1] : 0, n = strlen(name) + 1;

	for (unsigned i = 0; i < s->count; i++)
		if (strcmp(facts_set_name(s, i), name) == 0)
			return true;
	if (s->count == FACT_SET_NAMES || n > sizeof s->text - used) {
		s->partial = true;
		return false;
	}
	memcpy(s->text + used, name, n);
	s->end[s->count++] = (uint16_t)(used + n);
	return true;
}

/* facts_set_add_addr - see facts.h */
bool facts_set_add_addr(struct fact_address_set *s, int family, const void *raw)
{
	union fact_sockaddr a;

	memset(&a, 0, sizeof a);
	if (family == AF_INET) {
		a.in.sin_family = AF_INET;
		memcpy(&a.in.sin_addr, raw, 4);
	} else {
		a.in6.sin6_family = AF_INET6;
		memcpy(&a.in6.sin6_addr, raw, 16);
	}
	for (unsigned k = 0; k < s->count; k++)
		if (memcmp(&s->addr[k], &a, sizeof a) == 0)
			return true;
	if (s->count == FACT_SET_ADDRS) {
		s->partial = true;
		return false;
	}
	s->addr[s->count++] = a;
	return true;
}

/* addr_key - the bytes an address sorts by: 4 for IPv4, 16 for IPv6, with its family first */
static size_t addr_key(const union fact_sockaddr *a, unsigned char key[17])
{
	if (a->sa.sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &a->in.sin_addr, 4);
		return 5;
	}
	key[0] = a->sa.sa_family == AF_INET6 ? 6 : 9;
	memcpy(key + 1, &a->in6.sin6_addr, 16);
	return 17;
}

/* addr_cmp - qsort order of two set members */
static int addr_cmp(const void *a, const void *b)
{
	unsigned char ka[17], kb[17];
	size_t na = addr_key(a, ka), nb = addr_key(b, kb);
	int c = memcmp(ka, kb, na < nb ? na : nb);

	return c ? c : (int)na - (int)nb;
}

/* facts_addrs_sort - see facts.h */
void facts_addrs_sort(struct fact_address_set *set)
{
	if (set->count > 1)
		qsort(set->addr, set->count, sizeof set->addr[0], addr_cmp);
}

/* sockaddr_text - presentation form of an IPv4 or IPv6 address, "" otherwise */
static void sockaddr_text(const union fact_sockaddr *a, char *buf, size_t len)
{
	const void *raw = a->sa.sa_family == AF_INET ? (const void *)&a->in.sin_addr
			: a->sa.sa_family == AF_INET6 ? (const void *)&a->in6.sin6_addr
			: NULL;

	if (!raw || !inet_ntop(a->sa.sa_family, raw, buf, (socklen_t)len))
		buf[0] = '\0';
}

/* member_text - one member (or the value) of fact id as text */
static void member_text(const struct facts *f, enum fact_id id, unsigned i, char *buf, size_t len)
{
	const struct fact_def *d = &fact_table[id];
	const void *p = facts_field(f, id);

	switch (d->kind) {
	case FACT_KIND_ENUM:
		snprintf(buf, len, "%s", facts_value_name(id, facts_enum(f, id)));
		break;
	case FACT_KIND_BOOL:
		snprintf(buf, len, "%s", *(const bool *)p ? "yes" : "no");
		break;
	/* a buffer is read no further than its size, NUL or not */
	case FACT_KIND_ADDRESS:
		snprintf(buf, len, "%.*s", (int)sizeof(((const struct fact_address *)p)->text),
			 ((const struct fact_address *)p)->text);
		break;
	case FACT_KIND_MAILBOX:
		snprintf(buf, len, "<%.*s>", (int)d->size, (const char *)p);
		break;
	case FACT_KIND_DOMAIN:
	case FACT_KIND_TEXT:
		snprintf(buf, len, "%.*s", (int)d->size, (const char *)p);
		break;
	case FACT_KIND_DOMAIN_SET:
		snprintf(buf, len, "%.*s", FACT_NAME_MAX, facts_set_name(p, i));
		break;
	case FACT_KIND_ADDRESS_SET:
		sockaddr_text(&((const struct fact_address_set *)p)->addr[i], buf, len);
		break;
	}
}

/* facts_render - see facts.h */
const char *facts_render(const struct facts *f, enum fact_id id, int member, char *buf, size_t len)
{
	unsigned n = facts_set_count(f, id);
	size_t used = 0;

	if (len == 0)
		return NULL;
	buf[0] = '\0';
	if (!facts_known(f, id))
		return NULL;
	if (member >= 0) {
		if ((unsigned)member < n)
			member_text(f, id, (unsigned)member, buf, len);
		return buf;
	}
	for (unsigned i = 0; i < n && used + 1 < len; i++) {
		if (i > 0)
			buf[used++] = ',';
		member_text(f, id, i, buf + used, len - used);
		used += strlen(buf + used);
	}
	buf[used < len ? used : len - 1] = '\0';
	return buf;
}

_Static_assert(FACT_RENDER_MAX >= FACT_SET_ADDRS * INET6_ADDRSTRLEN + 1 &&
	       FACT_RENDER_MAX >= FACT_ADDR_MAX + 2, "FACT_RENDER_MAX holds every fact");

/* facts_skip - see facts.h */
void facts_skip(struct facts *f, fact_mask mask)
{
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const struct fact_def *d = &fact_table[i];
		int skipped;

		if (!(mask & ((fact_mask)1 << i)))
			continue;
		memset((char *)facts_field(f, (enum fact_id)i), 0, d->size);
		if (d->kind == FACT_KIND_ENUM) {
			skipped = (int)facts_value_parse((enum fact_id)i, "skipped");
			memcpy((char *)facts_field(f, (enum fact_id)i), &skipped, sizeof skipped);
		}
		f->known |= (fact_mask)1 << i;
	}
}

/* facts_stage - see facts.h */
enum check_stage facts_stage(fact_mask mask)
{
	enum check_stage s = CHECK_STAGE_NONE;

	for (unsigned i = 0; i < FACT_COUNT; i++)
		if ((mask & ((fact_mask)1 << i)) && fact_table[i].stage > s)
			s = fact_table[i].stage;
	return s;
}

/* facts_mailfrom_domain - see facts.h */
enum fact_id facts_mailfrom_domain(const struct facts *f)
{
	return facts_known(f, FID_sender) && f->sender[0] == '\0' ? FID_helo : FID_sender_domain;
}

const char *facts_mx_name(enum mx_result v) { return facts_value_name(FID_mx, v); }
const char *facts_ns_name(enum ns_result v) { return facts_value_name(FID_ns, v); }
const char *facts_mx_dnssec_name(enum mx_dnssec_result v) { return facts_value_name(FID_mx_dnssec, v); }
const char *facts_spf_name(enum spf_result v) { return facts_value_name(FID_spf, v); }
const char *facts_dkim_name(enum dkim_result v) { return facts_value_name(FID_dkim, v); }
