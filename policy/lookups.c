/*
 * lookups.c - detachable queries in flight for one check (see lookups.h).
 */
#include <stdlib.h>

#include "policy/lookups.h"

struct lookup_ticket {
	struct lookups *lookups;    /* NULL once abandoned */
	int tag, type;
	unsigned slot;              /* index into lookups->ticket */
};

/* lookups_init - see lookups.h */
void lookups_init(struct lookups *l, void *owner, lookups_answer_fn *answer)
{
	for (unsigned i = 0; i < LOOKUPS_MAX; i++)
		l->ticket[i] = NULL;
	l->owner = owner;
	l->answer = answer;
	l->outstanding = 0;
}

/* ticket_cb - free the ticket; hand the answer on unless it was abandoned */
static void ticket_cb(void *arg, enum dns_status st, const unsigned char *ans, int len)
{
	struct lookup_ticket *t = arg;
	struct lookups *l = t->lookups;
	int tag = t->tag, type = t->type;

	if (l) {
		l->ticket[t->slot] = NULL;
		l->outstanding--;
	}
	free(t);
	if (l)
		l->answer(l->owner, tag, type, st, ans, len);
}

/* lookups_start - see lookups.h */
bool lookups_start(struct lookups *l, struct resolver *res, const char *name, int type, int tag)
{
	struct lookup_ticket *t;
	unsigned slot;

	for (slot = 0; slot < LOOKUPS_MAX && l->ticket[slot]; slot++)
		;
	if (slot == LOOKUPS_MAX || !(t = malloc(sizeof(*t))))
		return false;
	t->lookups = l;
	t->tag = tag;
	t->type = type;
	t->slot = slot;
	l->ticket[slot] = t;
	l->outstanding++;
	if (resolver_query(res, name, type, ticket_cb, t) < 0) {
		l->ticket[slot] = NULL;
		l->outstanding--;
		free(t);
		return false;
	}
	return true;
}

/* lookups_abandon - see lookups.h */
void lookups_abandon(struct lookups *l)
{
	for (unsigned i = 0; i < LOOKUPS_MAX; i++) {
		if (l->ticket[i]) {
			l->ticket[i]->lookups = NULL;
			l->ticket[i] = NULL;
		}
	}
	l->outstanding = 0;
}
