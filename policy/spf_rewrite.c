/*
 * spf_rewrite.c - turn a record that passed spf_guard_parse into the text
 * libspf2 compiles (see spf_guard_rewrite in spf_guard.h).
 *
 * Why rewrite at all: libspf2 misreads a few valid constructs (CIDR length
 * 0, redirect= before mechanisms, an "all" that must cancel redirect=), and
 * every byte it does not have to parse is attack surface it does not see.
 * The output is built only from pieces the guard already validated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/spf_guard.h"

struct rw_buf {
	char *p;
	size_t len, cap;
	bool overflow;
};

/* rw_add - append formatted text, noting overflow instead of truncating silently. */
static void rw_add(struct rw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rw_add(struct rw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}

/* rw_qual - the qualifier as text ("" for the default '+'). */
static const char *rw_qual(const struct spf_term *t)
{
	switch (t->qualifier) {
	case '-': return "-";
	case '~': return "~";
	case '?': return "?";
	default:  return "";
	}
}

/*
 * rw_spec - a domain-spec without its optional trailing dot (RFC 7208 7.3:
 * it is ignored), so libspf2's ptr suffix match and loop check compare
 * like with like. The guard guarantees the dot is literal text.
 */
static int rw_spec(const struct spf_term *t)
{
	size_t n = t->arglen;

	if (n > 1 && t->arg[n - 1] == '.')
		n--;
	return (int)n;
}

/* rw_host_mech - a, mx: keep only the CIDR length that applies to af. */
static void rw_host_mech(struct rw_buf *b, const struct spf_term *t, const char *name, int af)
{
	int cidr = af == AF_INET ? t->cidr4 : t->cidr6;

	if (cidr == 0) {
		/* "a/0": any address of the family matches; see SPF_MARK_ANY. */
		if (t->arg)
			rw_add(b, " %s%s:%.*s%c", rw_qual(t), name, rw_spec(t), t->arg, SPF_MARK_ANY);
		else
			rw_add(b, " %s%s:%%{d}%c", rw_qual(t), name, SPF_MARK_ANY);
		return;
	}
	rw_add(b, " %s%s", rw_qual(t), name);
	if (t->arg)
		rw_add(b, ":%.*s", rw_spec(t), t->arg);
	if (cidr > 0)
		rw_add(b, af == AF_INET ? "/%d" : "//%d", cidr);
}

/* rw_ip_mech - ip4/ip6 of the client's family; /0 becomes two /1 halves. */
static void rw_ip_mech(struct rw_buf *b, const struct spf_term *t, int af)
{
	bool v4 = t->kind == SPF_T_IP4;
	int cidr = v4 ? t->cidr4 : t->cidr6;

	if ((v4 && af != AF_INET) || (!v4 && af != AF_INET6))
		return;
	if (cidr == 0) {
		if (v4)
			rw_add(b, " %sip4:0.0.0.0/1 %sip4:128.0.0.0/1", rw_qual(t), rw_qual(t));
		else
			rw_add(b, " %sip6:::/1 %sip6:8000::/1", rw_qual(t), rw_qual(t));
		return;
	}
	rw_add(b, " %s%s:%.*s", rw_qual(t), v4 ? "ip4" : "ip6", (int)t->arglen, t->arg);
	if (cidr > 0)
		rw_add(b, "/%d", cidr);
}

/* spf_guard_rewrite - see spf_guard.h. */
int spf_guard_rewrite(const struct spf_parsed *p, int af, char *out, size_t outlen)
{
	struct rw_buf b = { out, 0, outlen, false };
	const struct spf_term *t;
	unsigned i;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	rw_add(&b, "v=spf1");
	for (i = 0; i < p->n; i++) {
		t = &p->terms[i];
		switch (t->kind) {
		case SPF_T_ALL:
			rw_add(&b, " %sall", rw_qual(t));
			break;
		case SPF_T_INCLUDE:
			rw_add(&b, " %sinclude:%.*s", rw_qual(t), rw_spec(t), t->arg);
			break;
		case SPF_T_EXISTS:
			rw_add(&b, " %sexists:%.*s", rw_qual(t), rw_spec(t), t->arg);
			break;
		case SPF_T_PTR:
			rw_add(&b, " %sptr", rw_qual(t));
			if (t->arg)
				rw_add(&b, ":%.*s", rw_spec(t), t->arg);
			break;
		case SPF_T_A:
			rw_host_mech(&b, t, "a", af);
			break;
		case SPF_T_MX:
			rw_host_mech(&b, t, "mx", af);
			break;
		case SPF_T_IP4:
		case SPF_T_IP6:
			rw_ip_mech(&b, t, af);
			break;
		case SPF_T_EXP:
			rw_add(&b, " exp=%.*s", rw_spec(t), t->arg);
			break;
		case SPF_T_REDIRECT:
		case SPF_T_UNKNOWN_MOD:
			break;
		}
	}
	if (p->redirect >= 0 && !p->has_all) {
		t = &p->terms[p->redirect];
		rw_add(&b, " redirect=%.*s", rw_spec(t), t->arg);
	}
	return b.overflow ? -1 : 0;
}
