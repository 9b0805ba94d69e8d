/*
 * spf_guard.c - RFC 7208 section 12 ABNF, checked strictly (see spf_guard.h).
 *
 *   record    = "v=spf1" *( 1*SP ( directive / modifier ) ) *SP
 *   directive = [ qualifier ] mechanism
 *   modifier  = name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
 *
 * A term is a modifier exactly when its leading name is followed by "=";
 * everything else must be a known mechanism (so "redirect:x" and "1up=x"
 * are errors, as the RFC 7208 test suite expects). Nothing allocates.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "policy/spf_guard.h"

/* guard_fail - write the reason and return -1. */
static int guard_fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int guard_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * libspf2 compiles each macro-string into blocks (a few header bytes per
 * literal run or variable) inside a 511-byte buffer, and its bounds check
 * forgets the block header (the CVE-2021-20314 / CVE-2023-42118 family).
 * Counting SPF_GUARD_BLOCK_COST per block, several times the real header
 * size, and refusing anything over SPF_GUARD_MAX_COMPILED keeps every
 * string far from that buffer's end.
 */
#define SPF_GUARD_BLOCK_COST   16
#define SPF_GUARD_MAX_COMPILED 384

/* guard_macro_literal - visible ASCII except '%' (macro-literal). */
static bool guard_macro_literal(unsigned char c)
{
	return (c >= 0x21 && c <= 0x7e) && c != '%';
}

/*
 * guard_macro_expand - check one "%..." at s[0] (n bytes left); explain
 * allows the c/r/t letters. Returns its length, or 0 when invalid.
 */
static size_t guard_macro_expand(const char *s, size_t n, bool explain)
{
	size_t i = 2, digits = 0;
	unsigned value = 0;
	char letter;

	if (n < 2)
		return 0;
	if (s[1] == '%' || s[1] == '_' || s[1] == '-')
		return 2;
	if (s[1] != '{' || n < 4)
		return 0;
	letter = (char)tolower((unsigned char)s[2]);
	if (letter == '\0')
		return 0;
	if (!strchr("slodipvh", letter) && !(explain && strchr("crt", letter)))
		return 0;
	i = 3;
	while (i < n && isdigit((unsigned char)s[i])) {
		/* Bounded before it can overflow: libspf2's own counter does not. */
		if (++digits > 3)
			return 0;
		value = value * 10 + (unsigned)(s[i] - '0');
		i++;
	}
	if (digits && (value == 0 || value > SPF_GUARD_MAX_DIGITS))
		return 0;
	if (i < n && (s[i] == 'r' || s[i] == 'R'))
		i++;
	/* ',' and '/' are RFC delimiters that libspf2 cannot parse: refused. */
	while (i < n && s[i] != '\0' && strchr(".-+_=", s[i]))
		i++;
	if (i >= n || s[i] != '}')
		return 0;
	return i + 1;
}

/*
 * guard_macro_string - check s[0..n) as a macro-string (explain: an
 * explain-string, which also allows SP and the c/r/t letters). On success
 * *tail is where the trailing run of literal text starts (n when the string
 * ends in a macro-expand).
 */
static int guard_macro_string(const char *s, size_t n, bool explain, size_t *tail,
			      char *why, size_t whylen)
{
	size_t i = 0, len, cost = 0;
	bool in_literal = false;

	*tail = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			len = guard_macro_expand(s + i, n - i, explain);
			if (len == 0)
				return guard_fail(why, whylen, "invalid macro at \"%.*s\"",
						  (int)(n - i > 12 ? 12 : n - i), s + i);
			/* %% %_ %- become literal text; %{..} a variable block */
			cost += len == 2 ? 3 : SPF_GUARD_BLOCK_COST;
			in_literal = len == 2;
			i += len;
			*tail = i;
			continue;
		}
		if (!guard_macro_literal(c) && !(explain && c == ' '))
			return guard_fail(why, whylen, "invalid character 0x%02x", c);
		if (!in_literal)
			cost += SPF_GUARD_BLOCK_COST;
		in_literal = true;
		cost++;
		i++;
	}
	if (cost > SPF_GUARD_MAX_COMPILED)
		return guard_fail(why, whylen, "macro string too complex (%zu > %d)",
				  cost, SPF_GUARD_MAX_COMPILED);
	return 0;
}

/* guard_toplabel - RFC 7208 toplabel: alphanumerics and inner '-', not all digits. */
static bool guard_toplabel(const char *s, size_t n)
{
	bool alpha = false, dash = false;
	size_t i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '-')
			dash = true;
		else if (isalpha(c))
			alpha = true;
		else if (!isdigit(c))
			return false;
	}
	if (dash)
		return s[0] != '-' && s[n - 1] != '-';
	return alpha;
}

/* spf_guard_domain_spec - macro-string domain-end (see header). */
int spf_guard_domain_spec(const char *s, size_t n, char *why, size_t whylen)
{
	size_t tail, end, dot;

	if (n == 0)
		return guard_fail(why, whylen, "empty domain-spec");
	if (guard_macro_string(s, n, false, &tail, why, whylen) < 0)
		return -1;
	if (tail == n || (tail == n - 1 && s[n - 1] == '.'))
		return 0;       /* ends in a macro-expand (a trailing dot is ignored, 7.3) */
	end = n;
	if (s[end - 1] == '.')
		end--;
	for (dot = end; dot > tail && s[dot - 1] != '.'; dot--)
		;
	if (dot == tail || !guard_toplabel(s + dot, end - dot))
		return guard_fail(why, whylen, "invalid domain \"%.*s\"",
				  (int)(n > 64 ? 64 : n), s);
	return 0;
}

/* guard_cidr - parse "/N" digits at s (no leading zeros); -1 if malformed or > max. */
static int guard_cidr(const char *s, size_t n, int max)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/*
 * guard_split_cidr - peel a trailing "/N" (or "//N" for ip6) off arg.
 * Returns the cidr value, -1 when absent (*n unchanged), -2 when malformed.
 */
static int guard_split_cidr(const char *arg, size_t *n, bool ip6, int max)
{
	size_t i = *n, start;
	int v;

	while (i > 0 && isdigit((unsigned char)arg[i - 1]))
		i--;
	if (i == *n || i == 0 || arg[i - 1] != '/')
		return -1;
	start = i - 1;
	if (ip6) {
		if (start == 0 || arg[start - 1] != '/')
			return -1;
		start--;
	}
	v = guard_cidr(arg + i, *n - i, max);
	if (v < 0)
		return -2;
	*n = start;
	return v;
}

/* guard_ip4 - strict dotted quad: four qnums, no leading zeros. */
static bool guard_ip4(const char *s, size_t n)
{
	unsigned parts = 0, v = 0, digits = 0;
	size_t i;

	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (digits == 0 || v > 255 || parts >= 4)
				return false;
			parts++;
			v = 0;
			digits = 0;
			continue;
		}
		if (!isdigit((unsigned char)s[i]) || (digits == 1 && v == 0) || ++digits > 3)
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return parts == 4;
}

/* guard_ip6 - RFC 4291 text form, as inet_pton accepts it (no zone ids). */
static bool guard_ip6(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[16];
	size_t i;

	if (n == 0 || n >= sizeof(buf))
		return false;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

struct guard_mech {
	const char *name;
	enum spf_term_kind kind;
	char arg;       /* 'n' none, 'o' optional domain-spec, 'r' required domain-spec, 'i' ip */
	bool cidr;      /* dual-cidr-length allowed */
};

static const struct guard_mech guard_mechs[] = {
	{ "all",     SPF_T_ALL,     'n', false },
	{ "include", SPF_T_INCLUDE, 'r', false },
	{ "a",       SPF_T_A,       'o', true },
	{ "mx",      SPF_T_MX,      'o', true },
	{ "ptr",     SPF_T_PTR,     'o', false },
	{ "ip4",     SPF_T_IP4,     'i', false },
	{ "ip6",     SPF_T_IP6,     'i', false },
	{ "exists",  SPF_T_EXISTS,  'r', false },
};

/* guard_mechanism - parse a directive s[0..n) into t. */
static int guard_mechanism(const char *s, size_t n, struct spf_term *t,
			   char *why, size_t whylen)
{
	const struct guard_mech *m = NULL;
	size_t namelen, arglen, i;
	const char *arg;
	int c4 = -1, c6 = -1;

	t->qualifier = '+';
	if (n && strchr("+-~?", s[0])) {
		t->qualifier = s[0];
		s++;
		n--;
	}
	namelen = 0;
	while (namelen < n && s[namelen] != ':' && s[namelen] != '/')
		namelen++;
	for (i = 0; i < sizeof(guard_mechs) / sizeof(guard_mechs[0]); i++)
		if (strlen(guard_mechs[i].name) == namelen &&
		    strncasecmp(guard_mechs[i].name, s, namelen) == 0)
			m = &guard_mechs[i];
	if (!m)
		return guard_fail(why, whylen, "unknown mechanism \"%.*s\"",
				  (int)(namelen > 32 ? 32 : namelen), s);
	t->kind = m->kind;
	arg = s + namelen;
	arglen = n - namelen;
	if (m->cidr) {
		c6 = guard_split_cidr(arg, &arglen, true, 128);
		if (c6 == -2)
			return guard_fail(why, whylen, "invalid ip6-cidr-length in %s", m->name);
		c4 = guard_split_cidr(arg, &arglen, false, 32);
		if (c4 == -2)
			return guard_fail(why, whylen, "invalid ip4-cidr-length in %s", m->name);
	}
	t->cidr4 = c4;
	t->cidr6 = c6;
	if (arglen == 0) {
		if (m->arg == 'r' || m->arg == 'i')
			return guard_fail(why, whylen, "%s needs a value", m->name);
		return 0;
	}
	if (arg[0] != ':' || m->arg == 'n')
		return guard_fail(why, whylen, "unexpected \"%.*s\" after %s",
				  (int)(arglen > 16 ? 16 : arglen), arg, m->name);
	t->arg = arg + 1;
	t->arglen = arglen - 1;
	if (m->arg != 'i')
		return spf_guard_domain_spec(t->arg, t->arglen, why, whylen);
	if (m->kind == SPF_T_IP4) {
		size_t netlen = t->arglen;
		int c = guard_split_cidr(t->arg, &netlen, false, 32);

		if (c == -2 || !guard_ip4(t->arg, netlen))
			return guard_fail(why, whylen, "invalid ip4 \"%.*s\"", (int)t->arglen, t->arg);
		t->arglen = netlen;
		t->cidr4 = c;
	} else {
		size_t netlen = t->arglen;
		int c = guard_split_cidr(t->arg, &netlen, false, 128);

		if (c == -2 || !guard_ip6(t->arg, netlen))
			return guard_fail(why, whylen, "invalid ip6 \"%.*s\"",
					  (int)(t->arglen > 48 ? 48 : t->arglen), t->arg);
		t->arglen = netlen;
		t->cidr6 = c;
	}
	return 0;
}

/* guard_modifier_name - length of a leading modifier name followed by '=', 0 if none. */
static size_t guard_modifier_name(const char *s, size_t n)
{
	size_t i = 1;

	if (n == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	while (i < n && (isalnum((unsigned char)s[i]) || strchr("-_.", s[i])))
		i++;
	return (i < n && s[i] == '=') ? i : 0;
}

/* guard_modifier - parse name=value s[0..n) (namelen from guard_modifier_name). */
static int guard_modifier(const char *s, size_t n, size_t namelen, struct spf_term *t,
			  char *why, size_t whylen)
{
	size_t tail;

	t->qualifier = 0;
	t->cidr4 = t->cidr6 = -1;
	t->arg = s + namelen + 1;
	t->arglen = n - namelen - 1;
	if (namelen == 8 && strncasecmp(s, "redirect", 8) == 0)
		t->kind = SPF_T_REDIRECT;
	else if (namelen == 3 && strncasecmp(s, "exp", 3) == 0)
		t->kind = SPF_T_EXP;
	else
		t->kind = SPF_T_UNKNOWN_MOD;
	if (t->kind != SPF_T_UNKNOWN_MOD)
		return spf_guard_domain_spec(t->arg, t->arglen, why, whylen);
	return guard_macro_string(t->arg, t->arglen, false, &tail, why, whylen);
}

/* spf_guard_is_spf - "v=spf1" followed by SP or the end (RFC 7208 4.5). */
bool spf_guard_is_spf(const char *txt, size_t len)
{
	if (len < 6 || strncasecmp(txt, "v=spf1", 6) != 0)
		return false;
	return len == 6 || txt[6] == ' ';
}

/* guard_term - classify and check one term s[0..n) into t. */
static int guard_term(const char *s, size_t n, struct spf_term *t, char *why, size_t whylen)
{
	size_t namelen;

	if (n > SPF_GUARD_MAX_TERM)
		return guard_fail(why, whylen, "term longer than %d characters", SPF_GUARD_MAX_TERM);
	memset(t, 0, sizeof(*t));
	namelen = guard_modifier_name(s, n);
	if (namelen)
		return guard_modifier(s, n, namelen, t, why, whylen);
	return guard_mechanism(s, n, t, why, whylen);
}

/* spf_guard_parse - see header. */
int spf_guard_parse(const char *txt, size_t len, struct spf_parsed *out,
		    char *why, size_t whylen)
{
	size_t i, start;

	memset(out, 0, sizeof(*out));
	out->redirect = out->exp = -1;
	if (!spf_guard_is_spf(txt, len))
		return guard_fail(why, whylen, "not an SPF record");
	if (len > SPF_GUARD_MAX_RECORD)
		return guard_fail(why, whylen, "record longer than %d characters", SPF_GUARD_MAX_RECORD);
	for (i = 6; i < len; i++)
		if (txt[i] != ' ' && !((unsigned char)txt[i] >= 0x21 && (unsigned char)txt[i] <= 0x7e))
			return guard_fail(why, whylen, "invalid character 0x%02x in record",
					  (unsigned char)txt[i]);
	i = 6;
	while (i < len) {
		struct spf_term *t;

		while (i < len && txt[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && txt[i] != ' ')
			i++;
		if (out->n == SPF_GUARD_MAX_TERMS)
			return guard_fail(why, whylen, "more than %d terms", SPF_GUARD_MAX_TERMS);
		t = &out->terms[out->n];
		if (guard_term(txt + start, i - start, t, why, whylen) < 0)
			return -1;
		if (t->kind == SPF_T_REDIRECT || t->kind == SPF_T_EXP) {
			int *slot = t->kind == SPF_T_REDIRECT ? &out->redirect : &out->exp;

			if (*slot >= 0)
				return guard_fail(why, whylen, "%s= appears twice",
						  t->kind == SPF_T_REDIRECT ? "redirect" : "exp");
			*slot = (int)out->n;
		}
		if (t->kind == SPF_T_ALL)
			out->has_all = true;
		out->n++;
	}
	return 0;
}

/* spf_guard_explanation - see header. */
int spf_guard_explanation(const char *txt, size_t len, char *why, size_t whylen)
{
	size_t tail;

	if (len > SPF_GUARD_MAX_EXP)
		return guard_fail(why, whylen, "explanation longer than %d characters", SPF_GUARD_MAX_EXP);
	return guard_macro_string(txt, len, true, &tail, why, whylen);
}
