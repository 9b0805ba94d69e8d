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

/* The macros that are not facts; every fact is a macro too (%{mx}, %{mx_detail}, ...). */
static const char *const extra_macros[] = { "domain", "rule" };
#define NEXTRA (sizeof(extra_macros) / sizeof(extra_macros[0]))

/* reply_macro_at - see reply.h */
const char *reply_macro_at(size_t i, char *buf, size_t len)
{
	const char *l;

	if (i < NEXTRA)
		return extra_macros[i];
	if (i - NEXTRA >= FACT_COUNT)
		return NULL;
	l = facts_label((enum fact_id)(i - NEXTRA), buf, len);
	return l ? l : "";
}

/* reply_macro_names - see reply.h */
const char *reply_macro_names(char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < NEXTRA && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", extra_macros[i]);
	for (unsigned i = 0; i < FACT_COUNT && n < len; i++) {
		char label[64];
		const char *l = facts_label((enum fact_id)i, label, sizeof label);

		if (l)
			n += (size_t)snprintf(buf + n, len - n, ", %s", l);
	}
	return buf;
}

/* A macro: one of extra_macros (index) or a fact (NEXTRA + fact id); -1 when unknown. */
static int macro_find(const char *name, size_t len, const char *const *list_name)
{
	char want[64];

	if (len >= sizeof(want))
		return -1;
	memcpy(want, name, len);
	want[len] = '\0';
	for (size_t i = 0; i < NEXTRA; i++)
		if (strcmp(extra_macros[i], want) == 0)
			return (int)i;
	if (facts_find(want, list_name) != FACT_COUNT)
		return (int)(NEXTRA + facts_find(want, list_name));
	return -1;
}

/* fact_macro - a fact's text for a reply: unknown results read "unknown", other unknowns ""; mailboxes bare, <> for none */
static const char *fact_macro(const struct facts *f, enum fact_id id, char *buf, size_t len)
{
	enum fact_kind k = fact_table[id].kind;

	if (!facts_known(f, id))
		return k == FACT_KIND_ENUM || k == FACT_KIND_BOOL ? "unknown" : "";
	if (k == FACT_KIND_MAILBOX) {
		const char *p = facts_field(f, id);

		if (!p[0])
			return "<>";
		snprintf(buf, len, "%.*s", (int)fact_table[id].size, p);
		return buf;
	}
	return facts_render(f, id, -1, buf, len);
}

/* macro_value - the text of macro m */
static const char *macro_value(int m, const struct verdict *v, const struct facts *f, char *buf, size_t len)
{
	if (m == 0) {
		/* %{domain}: for the null sender the HELO name, which SPF checks then */
		return fact_macro(f, facts_mailfrom_domain(f), buf, len);
	}
	if (m == 1)
		return v->rule_name ? v->rule_name : "";
	return fact_macro(f, (enum fact_id)(m - (int)NEXTRA), buf, len);
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
		    (m = macro_find(p + 2, (size_t)(close - (p + 2)), f->list_name)) >= 0) {
			/* a reply holds REPLY_TEXT_MAX at most: a longer value would be cut anyway */
			char buf[REPLY_TEXT_MAX + 2];   /* one more than fits: a cut value still ends in "..." */
			const char *val = macro_value(m, v, f, buf, sizeof buf);
			for (size_t i = 0; val[i] && !o->cut; i++)
				out_byte(o, (unsigned char)val[i]);
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

/* reply_codes - the verdict's reply code and enhanced code, of the action's class */
static void reply_codes(const struct verdict *v, struct reply *out)
{
	const struct reply_template *t = v->reply;
	char cls;

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

/* reply_format - see reply.h */
void reply_format(const struct verdict *v, const struct facts *f, struct reply *out)
{
	memset(out, 0, sizeof(*out));
	reply_log_text(v, f, out->text, sizeof(out->text));
	reply_escape(out->text, out->smtp_text, sizeof(out->smtp_text));
	if (v->action == ACTION_REJECT || v->action == ACTION_TEMPFAIL)
		reply_codes(v, out);
	snprintf(out->line, sizeof(out->line), "%s%s%s%s%s", out->code, out->code[0] ? " " : "",
		 out->xcode, out->xcode[0] ? " " : "", out->text);
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
static int check_text(const char *text, const char *const *list_name, char *err, size_t errlen)
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
			if (macro_find(p + 2, (size_t)(close - (p + 2)), list_name) < 0) {
				char names[FACT_COUNT * 24 + 32];

				snprintf(err, errlen, "unknown macro %%{%.*s} in reply text (known: %s)",
					 (int)(close - (p + 2)) > 40 ? 40 : (int)(close - (p + 2)), p + 2,
					 reply_macro_names(names, sizeof names));
				return -1;
			}
			p = close;
		}
	}
	return 0;
}

/* reply_check_template - see reply.h */
int reply_check_template(enum action a, const char *code, const char *xcode,
			 const char *text, const char *const *list_name, char *err, size_t errlen)
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
	if (text && check_text(text, list_name, err, errlen) != 0)
		return -1;
	return 0;
}
