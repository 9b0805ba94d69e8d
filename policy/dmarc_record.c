/*
 * dmarc_record.c - the DMARC record grammar (see dmarc_record.h).
 *
 * The record is walked once, piece by piece (";"-separated), on the
 * caller's bytes; nothing is copied but short tag values, and a value
 * longer than any valid one is simply not valid. Bytes outside printable
 * ASCII make the piece they are in invalid (dmarc-value is %x20-3A /
 * %x3C-7E), never the parser's problem.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/address.h"
#include "policy/dmarc_record.h"

#define TAG_NAME_MAX 16

/* is_wsp - WSP of RFC 5234 (and the CR/LF a folded TXT should not have, but may) */
static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* skip_wsp - first index at or after i that is not WSP (at most end) */
static size_t skip_wsp(const char *s, size_t i, size_t end)
{
	while (i < end && is_wsp(s[i]))
		i++;
	return i;
}

bool dmarc_record_is_dmarc(const char *text, size_t len)
{
	size_t i;

	if (!text || len < 1 || (text[0] != 'v' && text[0] != 'V'))
		return false;
	i = skip_wsp(text, 1, len);
	if (i >= len || text[i] != '=')
		return false;
	i = skip_wsp(text, i + 1, len);
	if (len - i < 6 || memcmp(text + i, "DMARC1", 6) != 0)
		return false;
	i = skip_wsp(text, i + 6, len);
	return i == len || text[i] == ';';
}

/* value_eq - a trimmed value equals word, case-insensitively */
static bool value_eq(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(v, word, n) == 0;
}

/* parse_req - none/quarantine/reject; DMARC_POLICY_ABSENT when it is none of them */
static enum dmarc_req parse_req(const char *v, size_t n)
{
	if (value_eq(v, n, "none"))
		return DMARC_POLICY_NONE;
	if (value_eq(v, n, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (value_eq(v, n, "reject"))
		return DMARC_POLICY_REJECT;
	return DMARC_POLICY_ABSENT;
}

/* uri_valid - scheme ":" something, no blanks or commas, an optional obsolete "!size" suffix ignored */
static bool uri_valid(const char *u, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alpha(u[0]))
		return false;
	while (i < n && (is_alpha(u[i]) || (u[i] >= '0' && u[i] <= '9') ||
			 u[i] == '+' || u[i] == '-' || u[i] == '.'))
		i++;
	if (i >= n || u[i] != ':' || i + 1 >= n || u[i + 1] == '!')
		return false;
	for (i++; i < n; i++)
		if (is_wsp(u[i]) || u[i] == ',' || (unsigned char)u[i] < 0x21 || (unsigned char)u[i] > 0x7e)
			return false;
	return true;
}

/* urilist_has_valid - at least one comma-separated element is a URI */
static bool urilist_has_valid(const char *v, size_t n)
{
	size_t i = 0;

	while (i <= n) {
		size_t j = i, a, b;

		while (j < n && v[j] != ',')
			j++;
		a = skip_wsp(v, i, j);
		b = j;
		while (b > a && is_wsp(v[b - 1]))
			b--;
		if (uri_valid(v + a, b - a))
			return true;
		i = j + 1;
	}
	return false;
}

/* note - remember the first thing that was wrong */
static void note(struct dmarc_record *rec, const char *what, const char *v, size_t n)
{
	if (!rec->note[0])
		snprintf(rec->note, sizeof rec->note, "%s \"%.*s\"", what, (int)(n > 24 ? 24 : n), v);
}

/* printable - dmarc-value bytes only (no controls, no 8-bit) */
static bool printable(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

/* Which tags have been seen (the first value of a repeated tag counts). */
enum { SEEN_P = 1, SEEN_SP = 2, SEEN_NP = 4, SEEN_ADKIM = 8, SEEN_ASPF = 16, SEEN_T = 32,
       SEEN_PSD = 64, SEEN_RUA = 128 };

struct tag_state {
	unsigned seen;
	bool bad_policy;    /* p, sp or np present with a bad value */
};

/* apply_tag - one name=value piece */
static void apply_tag(struct dmarc_record *rec, struct tag_state *ts, const char *name, size_t nl,
		      const char *v, size_t n)
{
	unsigned bit = 0;

	if (value_eq(name, nl, "p"))
		bit = SEEN_P;
	else if (value_eq(name, nl, "sp"))
		bit = SEEN_SP;
	else if (value_eq(name, nl, "np"))
		bit = SEEN_NP;
	else if (value_eq(name, nl, "adkim"))
		bit = SEEN_ADKIM;
	else if (value_eq(name, nl, "aspf"))
		bit = SEEN_ASPF;
	else if (value_eq(name, nl, "t"))
		bit = SEEN_T;
	else if (value_eq(name, nl, "psd"))
		bit = SEEN_PSD;
	else if (value_eq(name, nl, "rua"))
		bit = SEEN_RUA;
	if (!bit)
		return;                         /* unknown tags (and fo, ruf, pct, ri, rf) are ignored */
	if (ts->seen & bit) {
		note(rec, "repeated tag", name, nl);
		return;
	}
	ts->seen |= bit;
	if (bit & (SEEN_P | SEEN_SP | SEEN_NP)) {
		enum dmarc_req r = parse_req(v, n);

		if (r == DMARC_POLICY_ABSENT) {
			ts->bad_policy = true;
			note(rec, "bad policy", v, n);
		}
		*(bit == SEEN_P ? &rec->p : bit == SEEN_SP ? &rec->sp : &rec->np) = r;
	} else if (bit & (SEEN_ADKIM | SEEN_ASPF)) {
		bool *strict = bit == SEEN_ADKIM ? &rec->strict_dkim : &rec->strict_spf;

		if (value_eq(v, n, "s"))
			*strict = true;
		else if (!value_eq(v, n, "r"))
			note(rec, bit == SEEN_ADKIM ? "bad adkim" : "bad aspf", v, n);
	} else if (bit == SEEN_T) {
		if (value_eq(v, n, "y"))
			rec->testing = true;
		else if (!value_eq(v, n, "n"))
			note(rec, "bad t", v, n);
	} else if (bit == SEEN_PSD) {
		if (value_eq(v, n, "y"))
			rec->psd = DMARC_PSD_Y;
		else if (value_eq(v, n, "n"))
			rec->psd = DMARC_PSD_N;
		else if (!value_eq(v, n, "u"))
			note(rec, "bad psd", v, n);
	} else if (bit == SEEN_RUA) {
		rec->has_rua = urilist_has_valid(v, n);
	}
}

enum dmarc_record_status dmarc_record_parse(const char *text, size_t len, struct dmarc_record *rec)
{
	struct tag_state ts = { 0, false };
	size_t i;

	memset(rec, 0, sizeof *rec);
	rec->p = DMARC_POLICY_NONE;
	if (!dmarc_record_is_dmarc(text, len))
		return DMARC_RECORD_NOT_DMARC;
	/* past the version tag: dmarc_record_is_dmarc said it ends at ";" or the end */
	i = 0;
	while (i < len && text[i] != ';')
		i++;
	while (i < len) {
		size_t start = i + 1, end = start, eq, a, b, va, vb;

		while (end < len && text[end] != ';')
			end++;
		i = end;
		a = skip_wsp(text, start, end);
		b = end;
		while (b > a && is_wsp(text[b - 1]))
			b--;
		if (a == b)
			continue;                   /* empty piece: "p=none;;" or a trailing ";" */
		for (eq = a; eq < b && text[eq] != '='; eq++)
			;
		if (eq == b || !printable(text + a, b - a)) {
			note(rec, "not a tag", text + a, b - a);
			continue;
		}
		vb = eq;
		while (vb > a && is_wsp(text[vb - 1]))
			vb--;
		va = skip_wsp(text, eq + 1, b);
		if (vb - a > TAG_NAME_MAX || vb == a || va == b) {
			note(rec, "not a tag", text + a, b - a);
			continue;
		}
		for (size_t k = a; k < vb; k++)
			if (!is_alpha(text[k])) {
				vb = a;
				break;
			}
		if (vb == a) {
			note(rec, "not a tag", text + a, b - a);
			continue;
		}
		apply_tag(rec, &ts, text + a, vb - a, text + va, b - va);
	}
	if (!(ts.seen & SEEN_P))
		rec->p = DMARC_POLICY_NONE;
	if (ts.bad_policy) {
		if (!rec->has_rua)
			return DMARC_RECORD_UNUSABLE;
		rec->p = DMARC_POLICY_NONE;
		rec->sp = rec->np = DMARC_POLICY_NONE;
		rec->as_none = true;
	}
	return DMARC_RECORD_OK;
}

const char *dmarc_req_name(enum dmarc_req r)
{
	switch (r) {
	case DMARC_POLICY_NONE: return "none";
	case DMARC_POLICY_QUARANTINE: return "quarantine";
	case DMARC_POLICY_REJECT: return "reject";
	case DMARC_POLICY_ABSENT: break;
	}
	return "absent";
}

/* dmarc_signature_domain - see dmarc_record.h */
bool dmarc_signature_domain(const char *value, char *out, size_t len)
{
	char raw[FACT_NAME_MAX];
	const char *p = value;

	while (p && *p) {
		size_t n = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ';')
			p++;
		if (*p == 'd' || *p == 'D') {
			const char *q = p + 1;

			while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
				q++;
			if (*q == '=') {
				for (q++; *q && *q != ';' && n + 1 < sizeof raw; q++)
					if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
						raw[n++] = *q;
				raw[n] = '\0';
				return address_domain(raw, out, len, NULL, 0) == 0;
			}
		}
		p = strchr(p, ';');
	}
	return false;
}
