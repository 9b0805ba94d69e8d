/*
 * reply.c - build the SMTP reply for a verdict; validate reply templates.
 *
 * Everything is written into caller buffers; nothing allocates. Values
 * substituted from facts are treated as hostile and sanitised byte by
 * byte (see reply.h).
 */
#include <stdio.h>
#include <string.h>

#include "policy/reply.h"

#define DEFAULT_REJECT     "rejected by policy (%{rule})"
#define DEFAULT_TEMPFAIL   "temporarily deferred by policy (%{rule}), try again later"
#define DEFAULT_QUARANTINE "quarantined by policy (%{rule})"

/* A macro's value: a pointer and the size of the buffer it lives in (facts are fixed buffers). */
struct mval {
	const char *s;
	size_t max;
};

typedef struct mval macro_fn(const struct verdict *, const struct facts *);

/* known - is this fact group known? */
static bool known(const struct facts *f, unsigned bit)
{
	return (f->known & bit) != 0;
}

/* mv - a value, or "" when its fact is not known */
static struct mval mv(const struct facts *f, unsigned bit, const char *s, size_t max)
{
	struct mval r = { "", 1 };

	if (known(f, bit)) {
		r.s = s;
		r.max = max;
	}
	return r;
}

/* mlit - a constant string value */
static struct mval mlit(const char *s)
{
	struct mval r = { s, strlen(s) + 1 };
	return r;
}

/* m_domain - %{domain}; for the null sender the HELO name, which SPF checks then (RFC 7208 2.4) */
static struct mval m_domain(const struct verdict *v, const struct facts *f)
{
	(void)v;
	if (known(f, FACT_SENDER) && f->sender[0] == '\0' && known(f, FACT_HELO))
		return mv(f, FACT_HELO, f->helo, sizeof(f->helo));
	return mv(f, FACT_SENDER, f->sender_domain, sizeof(f->sender_domain));
}

/* m_sender - %{sender}; "<>" for the null sender */
static struct mval m_sender(const struct verdict *v, const struct facts *f)
{
	(void)v;
	if (known(f, FACT_SENDER) && f->sender[0] == '\0')
		return mlit("<>");
	return mv(f, FACT_SENDER, f->sender, sizeof(f->sender));
}

/* m_client_ip - %{client_ip} */
static struct mval m_client_ip(const struct verdict *v, const struct facts *f)
{
	(void)v;
	return mv(f, FACT_CLIENT, f->client_ip, sizeof(f->client_ip));
}

/* m_helo - %{helo} */
static struct mval m_helo(const struct verdict *v, const struct facts *f)
{
	(void)v;
	return mv(f, FACT_HELO, f->helo, sizeof(f->helo));
}

/* m_mx - %{mx} */
static struct mval m_mx(const struct verdict *v, const struct facts *f)
{
	(void)v;
	return mlit(known(f, FACT_MX) ? facts_mx_name(f->mx) : "unknown");
}

/* m_spf - %{spf} */
static struct mval m_spf(const struct verdict *v, const struct facts *f)
{
	(void)v;
	return mlit(known(f, FACT_SPF) ? facts_spf_name(f->spf) : "unknown");
}

/* m_dkim - %{dkim} */
static struct mval m_dkim(const struct verdict *v, const struct facts *f)
{
	(void)v;
	return mlit(known(f, FACT_DKIM) ? facts_dkim_name(f->dkim) : "unknown");
}

/* m_rule - %{rule} */
static struct mval m_rule(const struct verdict *v, const struct facts *f)
{
	(void)f;
	return mlit(v->rule_name ? v->rule_name : "");
}

/* m_from_domain - %{from_domain} */
static struct mval m_from_domain(const struct verdict *v, const struct facts *f)
{
	(void)v;
	return mv(f, FACT_FROM, f->from_domain, sizeof(f->from_domain));
}

/* m_mx_detail - %{mx_detail} */
static struct mval m_mx_detail(const struct verdict *v, const struct facts *f)
{
	(void)v;
	return mv(f, FACT_MX, f->mx_detail, sizeof(f->mx_detail));
}

static const struct {
	const char *name;
	macro_fn *fn;
} macros[] = {
	{ "domain", m_domain }, { "sender", m_sender }, { "client_ip", m_client_ip },
	{ "helo", m_helo }, { "mx", m_mx }, { "spf", m_spf }, { "dkim", m_dkim },
	{ "rule", m_rule }, { "from_domain", m_from_domain }, { "mx_detail", m_mx_detail },
};
#define NMACROS (sizeof(macros) / sizeof(macros[0]))

/* reply_macro_names - see reply.h */
const char *reply_macro_names(void)
{
	return "domain, sender, client_ip, helo, mx, spf, dkim, rule, from_domain, mx_detail";
}

/* macro_find - index of the macro named by name[0..len), or -1 */
static int macro_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NMACROS; i++)
		if (strlen(macros[i].name) == len && memcmp(macros[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* An output buffer that cuts at REPLY_TEXT_MAX and remembers that it did. */
struct out {
	char *buf;
	size_t len;
	bool cut;
};

/* out_byte - append one byte, sanitised: anything not printable ASCII becomes '?' */
static void out_byte(struct out *o, unsigned char c)
{
	if (o->len >= REPLY_TEXT_MAX) {
		o->cut = true;
		return;
	}
	o->buf[o->len++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
}

/* expand - template into o->buf, macros substituted */
static void expand(const char *tmpl, const struct verdict *v, const struct facts *f, struct out *o)
{
	for (const char *p = tmpl; *p && !o->cut; p++) {
		const char *close;
		int m;

		if (p[0] == '%' && p[1] == '%') {
			out_byte(o, '%');
			p++;
			continue;
		}
		if (p[0] == '%' && p[1] == '{' && (close = strchr(p + 2, '}')) != NULL &&
		    (m = macro_find(p + 2, (size_t)(close - (p + 2)))) >= 0) {
			struct mval val = macros[m].fn(v, f);
			for (size_t i = 0; i < val.max && val.s[i]; i++)
				out_byte(o, (unsigned char)val.s[i]);
			p = close;
			continue;
		}
		out_byte(o, (unsigned char)*p);
	}
	if (o->cut) {
		o->len = REPLY_TEXT_MAX - 3;
		memcpy(o->buf + o->len, "...", 3);
		o->len += 3;
	}
	o->buf[o->len] = '\0';
}

/* default_text - the text an action uses when its rule gave none; NULL for none */
static const char *default_text(enum action a)
{
	switch (a) {
	case ACTION_REJECT:     return DEFAULT_REJECT;
	case ACTION_TEMPFAIL:   return DEFAULT_TEMPFAIL;
	case ACTION_QUARANTINE: return DEFAULT_QUARANTINE;
	default:                return NULL;
	}
}

/* template_text - the template this verdict expands */
static const char *template_text(const struct verdict *v)
{
	if (v->reply && v->reply->text)
		return v->reply->text;
	return default_text(v->action);
}

/* reply_log_text - see reply.h */
const char *reply_log_text(const struct verdict *v, const struct facts *f,
			   char *buf, size_t buflen)
{
	char tmp[REPLY_TEXT_MAX + 1];
	struct out o = { tmp, 0, false };
	const char *t = template_text(v);

	if (buflen == 0)
		return buf;
	tmp[0] = '\0';
	if (t)
		expand(t, v, f, &o);
	snprintf(buf, buflen, "%s", tmp);
	return buf;
}

/* reply_escape - see reply.h */
const char *reply_escape(const char *text, char *buf, size_t buflen)
{
	size_t n = 0;

	if (buflen == 0)
		return buf;
	for (const char *p = text; *p; p++) {
		size_t need = *p == '%' ? 2 : 1;
		if (n + need >= buflen)
			break;
		buf[n++] = *p;
		if (*p == '%')
			buf[n++] = '%';
	}
	buf[n] = '\0';
	return buf;
}

/* reply_format - see reply.h */
void reply_format(const struct verdict *v, const struct facts *f, struct reply *out)
{
	const struct reply_template *t = v->reply;
	char cls;

	memset(out, 0, sizeof(*out));
	reply_log_text(v, f, out->text, sizeof(out->text));
	reply_escape(out->text, out->smtp_text, sizeof(out->smtp_text));
	if (v->action != ACTION_REJECT && v->action != ACTION_TEMPFAIL)
		return;
	cls = v->action == ACTION_REJECT ? '5' : '4';
	if (t && t->code[0] == cls)
		snprintf(out->code, sizeof(out->code), "%s", t->code);
	else
		snprintf(out->code, sizeof(out->code), "%s", cls == '5' ? "550" : "451");
	/* An enhanced code of the wrong class never leaves here, even if a template slipped past the checks. */
	if (t && t->xcode[0] == cls && t->code[0] == cls)
		snprintf(out->xcode, sizeof(out->xcode), "%s", t->xcode);
	else
		snprintf(out->xcode, sizeof(out->xcode), "%c.7.1", cls);
}

/* check_code - "4xx"/"5xx" of the action's class */
static int check_code(char cls, const char *code, char *err, size_t errlen)
{
	if (strlen(code) != 3 || code[0] < '2' || code[0] > '5' || code[1] < '0' || code[1] > '5' ||
	    code[2] < '0' || code[2] > '9') {
		snprintf(err, errlen, "\"%.20s\" is not an SMTP reply code (like 550 or 451)", code);
		return -1;
	}
	if (code[0] != cls) {
		snprintf(err, errlen, "%s needs a %cxx reply code, got %s",
			 cls == '5' ? "reject" : "tempfail", cls, code);
		return -1;
	}
	return 0;
}

/* check_number - RFC 3463 subject/detail: 1-3 digits, no leading zero; advances *pp */
static bool check_number(const char **pp)
{
	const char *p = *pp;
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9')
		n++;
	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return false;
	*pp = p + n;
	return true;
}

/* check_xcode - "C.S.D" of the action's class */
static int check_xcode(char cls, const char *x, char *err, size_t errlen)
{
	const char *p = x + 2;

	if (!((x[0] == '2' || x[0] == '4' || x[0] == '5') && x[1] == '.' &&
	      check_number(&p) && *p++ == '.' && check_number(&p) && *p == '\0')) {
		snprintf(err, errlen, "\"%.20s\" is not an enhanced status code (like 5.7.1 or 4.4.3)", x);
		return -1;
	}
	if (x[0] != cls) {
		snprintf(err, errlen, "enhanced status %s does not match reply class %cxx", x, cls);
		return -1;
	}
	return 0;
}

/* check_text - printable ASCII, only known macros */
static int check_text(const char *text, char *err, size_t errlen)
{
	if (!*text) {
		snprintf(err, errlen, "reply text is empty");
		return -1;
	}
	if (strlen(text) > REPLY_TEXT_MAX) {
		snprintf(err, errlen, "reply text is longer than %d characters", REPLY_TEXT_MAX);
		return -1;
	}
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f) {
			snprintf(err, errlen, "reply text may only hold printable ASCII (found byte 0x%02x)", c);
			return -1;
		}
		if (p[0] == '%' && p[1] == '%') {
			p++;
		} else if (p[0] == '%' && p[1] == '{') {
			const char *close = strchr(p + 2, '}');
			if (!close) {
				snprintf(err, errlen, "unterminated %%{ in reply text");
				return -1;
			}
			if (macro_find(p + 2, (size_t)(close - (p + 2))) < 0) {
				snprintf(err, errlen, "unknown macro %%{%.*s} in reply text (known: %s)",
					 (int)(close - (p + 2)) > 40 ? 40 : (int)(close - (p + 2)), p + 2,
					 reply_macro_names());
				return -1;
			}
			p = close;
		}
	}
	return 0;
}

/* reply_line - see reply.h */
const char *reply_line(const struct reply *r, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s%s%s%s%s", r->code, r->code[0] ? " " : "", r->xcode,
		 r->xcode[0] ? " " : "", r->text);
	return buf;
}

/* reply_check_template - see reply.h */
int reply_check_template(enum action a, const char *code, const char *xcode,
			 const char *text, char *err, size_t errlen)
{
	char cls = a == ACTION_REJECT ? '5' : a == ACTION_TEMPFAIL ? '4' : 0;

	if (!cls && (code || xcode)) {
		snprintf(err, errlen, "%s takes no reply code", action_name(a));
		return -1;
	}
	if (text && (a == ACTION_ACCEPT || a == ACTION_DISCARD)) {
		snprintf(err, errlen, "%s takes no reply text", action_name(a));
		return -1;
	}
	if (xcode && !code) {
		snprintf(err, errlen, "an enhanced status code needs a reply code before it");
		return -1;
	}
	if (code && check_code(cls, code, err, errlen) != 0)
		return -1;
	if (xcode && check_xcode(cls, xcode, err, errlen) != 0)
		return -1;
	if (text && check_text(text, err, errlen) != 0)
		return -1;
	return 0;
}
