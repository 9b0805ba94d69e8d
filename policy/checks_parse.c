/*
 * checks_parse.c - from what the MTA passes (MAIL FROM, RCPT TO, the
 * From: header) to facts, for the orchestrator (see checks_row.h).
 *
 * Envelope addresses go through address_parse(); the From: header is a
 * RFC 5322 mailbox-list, handled here just far enough to find its
 * domain: comments dropped, display names and group syntax skipped, and
 * several mailboxes accepted only when they share one domain (otherwise
 * the author domain is ambiguous and from_domain stays ""); a value
 * without any "@" has no address at all. Nothing is
 * allocated; work happens in fixed buffers.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy/address.h"
#include "policy/checks_row.h"

/* Longest From: value looked at; an author list longer than this is not plausible. */
#define FROM_MAX 2048

/* strip_brackets_copy - the argument without one pair of <>, cut to fit */
static void strip_brackets_copy(const char *arg, char *out, size_t len)
{
	size_t n = strlen(arg);

	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>')
		snprintf(out, len, "%.*s", (int)(n - 2), arg + 1);
	else
		snprintf(out, len, "%s", arg);
}

/* check_parse_sender - classify; the mx row reads *a, rules read the strings */
void check_parse_sender(struct facts *f, struct address *a, const char *mail_from)
{
	f->sender_domain[0] = '\0';
	switch (address_parse(mail_from, a)) {
	case ADDR_NULL:
		f->sender[0] = '\0';
		break;
	case ADDR_NORMAL:
	case ADDR_LITERAL:
		snprintf(f->sender, sizeof f->sender, "%s", a->addr);
		snprintf(f->sender_domain, sizeof f->sender_domain, "%s", a->domain);
		break;
	case ADDR_INVALID:
	default:
		strip_brackets_copy(mail_from, f->sender, sizeof f->sender);
		break;
	}
}

/* check_parse_rcpt - the recipient and, when it has one, its domain */
void check_parse_rcpt(struct facts *f, const char *rcpt)
{
	struct address a;
	enum addr_class cls = address_parse(rcpt, &a);

	f->rcpt_domain[0] = '\0';
	if (cls == ADDR_NORMAL || cls == ADDR_LITERAL) {
		snprintf(f->rcpt, sizeof f->rcpt, "%s", a.addr);
		snprintf(f->rcpt_domain, sizeof f->rcpt_domain, "%s", a.domain);
	} else {
		strip_brackets_copy(rcpt, f->rcpt, sizeof f->rcpt);
	}
}

/* checks_parse_rcpt - see checks.h */
void checks_parse_rcpt(struct facts *f, const char *rcpt)
{
	check_parse_rcpt(f, rcpt);
}

/* drop_comments - RFC 5322 comments (nested, escaped) become spaces; quoted strings are kept */
static void drop_comments(char *s)
{
	int depth = 0;
	bool quoted = false;

	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1] && (quoted || depth)) {
			if (depth)
				*p = p[1] = ' ';
			p++;
			continue;
		}
		if (!depth && *p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '(')
			depth++;
		else if (!quoted && *p == ')' && depth)
			*p = ' ', depth--;
		if (depth)
			*p = ' ';
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	}
}

/* trim - leading and trailing spaces */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}

/* mailbox_domain - the domain of one mailbox ("Name <a@b>" or "a@b"); 0 or -1 */
static int mailbox_domain(char *box, char *out, size_t outlen)
{
	char *lt = NULL, *at;
	bool quoted = false;

	for (char *p = box; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			lt = p;
	}
	if (lt) {
		char *gt = strchr(lt, '>');

		if (!gt)
			return -1;
		*gt = '\0';
		box = lt + 1;
		/* a route "@a,@b:" before the address is obsolete syntax: skip it */
		if (*box == '@' && strchr(box, ':'))
			box = strchr(box, ':') + 1;
	}
	box = trim(box);
	at = strrchr(box, '@');
	if (!at || at == box)
		return -1;
	return address_domain(trim(at + 1), out, outlen, NULL, 0);
}

/* check_parse_from - the one author domain of a From: value, or "" */
int check_parse_from(struct facts *f, const char *value)
{
	char buf[FROM_MAX], dom[FACT_NAME_MAX];
	char *start;
	bool quoted = false, angle = false, any = false;

	f->from_domain[0] = '\0';
	/* no "@" anywhere ("<>", "MAILER-DAEMON"): no address, and no domain a reader could take for one */
	if (!strchr(value, '@'))
		return FROMH_NONE;
	if (strlen(value) >= sizeof buf)
		return FROMH_INVALID;
	strcpy(buf, value);
	drop_comments(buf);
	start = buf;
	for (char *p = buf;; p++) {
		bool end = *p == '\0';

		if (!end && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (!end && *p == '"')
			quoted = !quoted;
		else if (!end && !quoted && *p == '<')
			angle = true;
		else if (!end && !quoted && *p == '>')
			angle = false;
		else if (!end && !quoted && !angle && *p == ':')
			start = p + 1;            /* group "name:" */
		if (end || (!quoted && !angle && (*p == ',' || *p == ';'))) {
			*p = '\0';
			if (*trim(start)) {
				if (mailbox_domain(start, dom, sizeof dom) < 0) {
					f->from_domain[0] = '\0';
					return FROMH_INVALID;
				}
				if (any && strcmp(dom, f->from_domain) != 0) {
					f->from_domain[0] = '\0';
					return FROMH_MULTI_DOMAIN;
				}
				snprintf(f->from_domain, sizeof f->from_domain, "%s", dom);
				any = true;
			}
			if (end)
				return any ? FROMH_SINGLE : FROMH_INVALID;
			start = p + 1;
		}
	}
}

/*
 * check_parse_list_id - RFC 2919: the list-id is between < and >
 * (anything before is a phrase); a value without brackets gives its
 * last word. Kept lower case, printable ASCII only; "" when nothing
 * usable is left.
 */
void check_parse_list_id(struct facts *f, const char *value)
{
	const char *lt = strrchr(value, '<'), *b, *e;
	size_t n = 0;

	if (lt) {
		b = lt + 1;
		e = strchr(b, '>');
		if (!e)
			e = b + strlen(b);
	} else {
		e = value + strlen(value);
		while (e > value && (unsigned char)e[-1] <= 0x20)
			e--;
		b = e;
		while (b > value && (unsigned char)b[-1] > 0x20)
			b--;
	}
	for (; b < e && n + 1 < sizeof f->list_id; b++) {
		unsigned char c = (unsigned char)*b;

		if (c > 0x20 && c < 0x7f)
			f->list_id[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	f->list_id[n] = '\0';
}
