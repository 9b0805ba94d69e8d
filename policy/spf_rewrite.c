/*
 * spf_rewrite.c - turn a record that passed spf_guard_parse into the text
 * libspf2 compiles (see spf_guard_rewrite in spf_guard.h).
 *
 * Why rewrite at all: libspf2 misreads a few valid constructs (CIDR length
 * 0, redirect= before mechanisms, an "all" that must cancel redirect=), and
 * every byte it does not have to parse is attack surface it does not see.
 * The output is built only from pieces the guard already validated.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

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
 * rw_spec - append a domain-spec: without its optional trailing dot (RFC
 * 7208 7.3: it is ignored; libspf2's ptr suffix match and loop check then
 * compare like with like; the guard guarantees the dot is literal text),
 * digit transformers clamped (spf_guard_macro_clamp).
 */
static void rw_spec(struct rw_buf *b, const struct spf_term *t, const struct spf_rewrite_in *in)
{
	char spec[2 * SPF_GUARD_MAX_TERM + 2];
	size_t n = t->arglen;

	if (n > 1 && t->arg[n - 1] == '.')
		n--;
	if (spf_guard_macro_clamp(t->arg, n, in->vals, spec, sizeof(spec)) < 0)
		b->overflow = true;
	else
		rw_add(b, "%s", spec);
}

/* rw_host_mech - a, mx: keep only the CIDR length that applies to the client. */
static void rw_host_mech(struct rw_buf *b, const struct spf_term *t, const char *name,
			 const struct spf_rewrite_in *in)
{
	int cidr = in->af == AF_INET ? t->cidr4 : t->cidr6;

	rw_add(b, " %s%s", rw_qual(t), name);
	if (cidr == 0) {
		/* "a/0": any address of the family matches; see SPF_MARK_ANY. */
		rw_add(b, ":");
		if (t->arg)
			rw_spec(b, t, in);
		else
			rw_add(b, "%%{d}");
		rw_add(b, "%c", SPF_MARK_ANY);
		return;
	}
	if (t->arg) {
		rw_add(b, ":");
		rw_spec(b, t, in);
	}
	if (cidr > 0)
		rw_add(b, in->af == AF_INET ? "/%d" : "//%d", cidr);
}

/* rw_ip_match - does the client address (af, addr) fall in the ip4/ip6 term t? */
static bool rw_ip_match(const struct spf_term *t, int af, const unsigned char *addr)
{
	bool v4 = t->kind == SPF_T_IP4;
	unsigned char net[16];
	char text[INET6_ADDRSTRLEN + 1];
	int bits = v4 ? (t->cidr4 < 0 ? 32 : t->cidr4) : (t->cidr6 < 0 ? 128 : t->cidr6);
	int i;

	if ((v4 && af != AF_INET) || (!v4 && af != AF_INET6) || t->arglen >= sizeof(text))
		return false;
	memcpy(text, t->arg, t->arglen);
	text[t->arglen] = '\0';
	if (inet_pton(v4 ? AF_INET : AF_INET6, text, net) != 1)
		return false;       /* cannot happen: the guard checked it */
	for (i = 0; bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));

		if ((net[i] & mask) != (addr[i] & mask))
			return false;
	}
	return true;
}

/* rw_dns_term - the mechanisms that query DNS (RFC 7208 4.6.4). */
static bool rw_dns_term(enum spf_term_kind k)
{
	return k == SPF_T_INCLUDE || k == SPF_T_A || k == SPF_T_MX || k == SPF_T_PTR ||
	       k == SPF_T_EXISTS;
}

/* rw_mechanism - emit one mechanism; true when no later mechanism can be reached. */
static bool rw_mechanism(struct rw_buf *b, const struct spf_term *t,
			 const struct spf_rewrite_in *in, unsigned *nmech)
{
	switch (t->kind) {
	case SPF_T_ALL:
		rw_add(b, " %sall", rw_qual(t));
		++*nmech;
		return true;
	case SPF_T_IP4:
	case SPF_T_IP6:
		/* Decided here, exactly: a match ends evaluation with its qualifier. */
		if (!rw_ip_match(t, in->af, in->addr))
			return false;
		rw_add(b, " %sall", rw_qual(t));
		++*nmech;
		return true;
	case SPF_T_INCLUDE:
		rw_add(b, " %sinclude:", rw_qual(t));
		rw_spec(b, t, in);
		break;
	case SPF_T_EXISTS:
		rw_add(b, " %sexists:", rw_qual(t));
		rw_spec(b, t, in);
		break;
	case SPF_T_PTR:
		rw_add(b, " %sptr", rw_qual(t));
		if (t->arg) {
			rw_add(b, ":");
			rw_spec(b, t, in);
		}
		break;
	case SPF_T_A:
		rw_host_mech(b, t, "a", in);
		break;
	case SPF_T_MX:
		rw_host_mech(b, t, "mx", in);
		break;
	default:
		return false;
	}
	++*nmech;
	return false;
}

/* spf_guard_rewrite - see spf_guard.h. */
int spf_guard_rewrite(const struct spf_parsed *p, const struct spf_rewrite_in *in,
		      char *out, size_t outlen, unsigned *nmech)
{
	struct rw_buf b = { out, 0, outlen, false };
	const struct spf_term *t;
	unsigned i, dns = 0;
	bool stopped = false;

	*nmech = 0;
	if (outlen == 0)
		return -1;
	out[0] = '\0';
	rw_add(&b, "v=spf1");
	for (i = 0; i < p->n && !stopped; i++) {
		t = &p->terms[i];
		stopped = rw_mechanism(&b, t, in, nmech);
		/* The 11th DNS-querying term can only end in the limit's permerror. */
		if (rw_dns_term(t->kind) && ++dns > SPF_GUARD_DNS_TERMS)
			stopped = true;
	}
	if (p->exp >= 0) {
		t = &p->terms[p->exp];
		rw_add(&b, " exp=");
		rw_spec(&b, t, in);
	}
	if (p->redirect >= 0 && !p->has_all && !stopped) {
		t = &p->terms[p->redirect];
		rw_add(&b, " redirect=");
		rw_spec(&b, t, in);
		++*nmech;       /* libspf2 compiles redirect= as a mechanism */
	}
	return b.overflow ? -1 : 0;
}

/* spf_guard_explain_text - see spf_guard.h. */
int spf_guard_explain_text(const char *in, const char *const vals[26], char *out, size_t outlen)
{
	static const char *const none[26];
	char clamped[2 * SPF_GUARD_MAX_EXP + 2];
	const char *p;
	size_t n = 0;

	if (spf_guard_macro_clamp(in, strlen(in), vals ? vals : none, clamped, sizeof(clamped)) < 0)
		return -1;
	for (p = clamped; *p; p++) {
		if (n + 3 > outlen)
			return -1;
		if (*p == ' ') {
			out[n++] = '%';
			out[n++] = '_';
		} else {
			out[n++] = *p;
		}
	}
	if (n + 1 > outlen)
		return -1;
	out[n] = '\0';
	return 0;
}

/* spf_guard_upper_hex - see spf_guard.h. */
void spf_guard_upper_hex(char *s)
{
	for (; *s; s++)
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			s[1] = (char)toupper((unsigned char)s[1]);
			s[2] = (char)toupper((unsigned char)s[2]);
			s += 2;
		}
}

/* spf_guard_url_macro - see spf_guard.h. */
bool spf_guard_url_macro(const char *text)
{
	const char *p;

	for (p = strstr(text, "%{"); p; p = strstr(p + 2, "%{"))
		if (p[2] >= 'A' && p[2] <= 'Z')
			return true;
	return false;
}

/* rw_upper_all - upper-case every occurrence of needle (lower-case hex text) in s. */
static void rw_upper_all(char *s, const char *needle)
{
	size_t n = strlen(needle), i;
	char *p;

	for (p = strstr(s, needle); p; p = strstr(p + n, needle))
		for (i = 0; i < n; i++)
			p[i] = (char)toupper((unsigned char)p[i]);
}

/* spf_guard_upper_nibbles - see spf_guard.h. */
void spf_guard_upper_nibbles(char *s, const unsigned char addr[16])
{
	char fwd[64], rev[64];
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		fwd[4 * i] = hex[addr[i] >> 4];
		fwd[4 * i + 1] = '.';
		fwd[4 * i + 2] = hex[addr[i] & 15];
		fwd[4 * i + 3] = '.';
		rev[4 * (15 - i)] = hex[addr[i] & 15];
		rev[4 * (15 - i) + 1] = '.';
		rev[4 * (15 - i) + 2] = hex[addr[i] >> 4];
		rev[4 * (15 - i) + 3] = '.';
	}
	fwd[63] = rev[63] = '\0';
	rw_upper_all(s, fwd);
	rw_upper_all(s, rev);
}
