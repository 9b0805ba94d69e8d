/*
 * resolver_share.c - identical queries of a message go out once.
 *
 * Identical queries (same name, ignoring case and a trailing dot, same
 * type) go out once: one asked while the first is on the wire joins it
 * (its "joined" list) and is queued with a copy of the first one's outcome
 * when that is delivered; one asked after a definitive answer (records,
 * NXDOMAIN, NODATA) since the last resolver_forget() is queued at once
 * with a copy of the kept answer. The MX check and SPF's mx/a terms ask
 * the same names: without this a sender whose SPF record says "mx" cost
 * two more lookups and one more round trip.
 *
 * Ownership: a joined query stays owned by resolver.c's queue once
 * resolver_share_done() hands it back; the answer copy set on it is freed
 * with it. Kept answers (key and packet) belong to the resolver and are
 * freed by resolver_forget() (also from resolver_free()).
 */
#include <stdlib.h>
#include <string.h>

#include "policy/resolver_impl.h"

/* resolver_share_key_dup - see resolver_impl.h (a query holds two keys while it waits: keep them small) */
char *resolver_share_key_dup(const char *name)
{
	size_t n = strlen(name) + 1;
	char *key = malloc(n < DNS_NAME_BUF ? n : DNS_NAME_BUF);

	if (key)
		resolver_share_key(name, key, n < DNS_NAME_BUF ? n : DNS_NAME_BUF);
	return key;
}

/* resolver_share_key - name as a sharing key: lower case, no trailing dot; "" when it does not fit */
void resolver_share_key(const char *name, char *key, size_t cap)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= cap) {
		key[0] = '\0';
		return;
	}
	for (size_t i = 0; i < n; i++)
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	key[n] = '\0';
}

/* set_outcome - q gets status and its own copy of answer; an answer it cannot copy is an error */
static void set_outcome(struct rquery *q, enum dns_status status,
			const unsigned char *answer, int answer_len)
{
	q->status = status;
	q->answer = NULL;
	q->answer_len = 0;
	if (!answer || answer_len <= 0)
		return;
	q->answer = malloc((size_t)answer_len);
	if (!q->answer) {
		q->status = DNS_ERROR;
		return;
	}
	memcpy(q->answer, answer, (size_t)answer_len);
	q->answer_len = answer_len;
}

/* kept_find - the kept answer for (key, type), or NULL */
static const struct kept *kept_find(const struct resolver *r, const char *key, int type)
{
	for (unsigned i = 0; i < r->nkept; i++)
		if (r->kept[i].type == type && strcmp(r->kept[i].key, key) == 0)
			return &r->kept[i];
	return NULL;
}

/* keep - remember a definitive outcome for identical queries; silently not when full */
static void keep(struct resolver *r, const struct rquery *q)
{
	struct kept *k;

	if (!q->key[0] || r->mode == MODE_CANCELLING || r->nkept >= RESOLVER_KEEP_MAX ||
	    r->kept_bytes + (size_t)q->answer_len > RESOLVER_KEEP_BYTES ||
	    (q->status != DNS_OK && q->status != DNS_NXDOMAIN && q->status != DNS_NODATA) ||
	    kept_find(r, q->key, q->type))
		return;
	k = &r->kept[r->nkept];
	k->key = strdup(q->key);
	k->answer = q->answer_len > 0 ? malloc((size_t)q->answer_len) : NULL;
	if (!k->key || (q->answer_len > 0 && !k->answer)) {
		free(k->key);
		free(k->answer);
		return;
	}
	if (k->answer)
		memcpy(k->answer, q->answer, (size_t)q->answer_len);
	k->answer_len = q->answer_len;
	k->type = q->type;
	k->status = q->status;
	r->kept_bytes += (size_t)q->answer_len;
	r->nkept++;
}

/* wire_find - the query out on the wire for (key, type), or NULL */
static struct rquery *wire_find(const struct resolver *r, const char *key, int type)
{
	for (struct rquery *q = r->wire; q; q = q->next)
		if (q->type == type && strcmp(q->key, key) == 0)
			return q;
	return NULL;
}

/* resolver_share_lookup - q answered from a kept answer (queued) or joined to an identical query out */
bool resolver_share_lookup(struct resolver *r, struct rquery *q)
{
	const struct kept *k;
	struct rquery *first;

	if (!q->key[0])
		return false;
	if ((k = kept_find(r, q->key, q->type)) != NULL) {
		set_outcome(q, k->status, k->answer, k->answer_len);
		resolver_enqueue(r, q);
		return true;
	}
	if ((first = wire_find(r, q->key, q->type)) != NULL) {
		q->next = first->joined;
		first->joined = q;
		return true;
	}
	return false;
}

/* resolver_share_wire_add - q goes out: joinable until resolver_share_wire_remove */
void resolver_share_wire_add(struct resolver *r, struct rquery *q)
{
	q->next = r->wire;
	r->wire = q;
	q->on_wire = true;
}

/* resolver_share_wire_remove - q is no longer joinable */
void resolver_share_wire_remove(struct resolver *r, struct rquery *q)
{
	struct rquery **pp;

	if (!q->on_wire)
		return;
	for (pp = &r->wire; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	q->on_wire = false;
	q->next = NULL;
}

/* resolver_share_done - q is final: keep its answer, queue the queries that joined it with copies of it */
void resolver_share_done(struct resolver *r, struct rquery *q)
{
	struct rquery *j;

	keep(r, q);
	while ((j = q->joined) != NULL) {
		q->joined = j->next;
		set_outcome(j, q->status, q->answer, q->answer_len);
		resolver_enqueue(r, j);
	}
}

/* resolver_forget - drop the kept answers */
void resolver_forget(struct resolver *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->nkept; i++) {
		free(r->kept[i].key);
		free(r->kept[i].answer);
	}
	r->nkept = 0;
	r->kept_bytes = 0;
}
