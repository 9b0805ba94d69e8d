/*
 * address.c - MAIL FROM arguments and host names: parse, normalise, classify.
 *
 * Pure functions over caller buffers; no allocation survives a call (the
 * A-label string libidn2 returns is copied and freed at once).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "policy/address.h"

#define DOMAIN_IN_MAX 1024      /* longer input is rejected before libidn2 sees it */

/* set_reason - printf into an optional reason buffer */
static void set_reason(char *reason, size_t len, const char *msg, const char *arg)
{
	if (reason && len)
		snprintf(reason, len, msg, arg);
}

/* describe_byte - a byte for a reason string: itself if printable, else \xNN */
static const char *describe_byte(unsigned char c, char buf[8])
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "\\x%02x", c);
	return buf;
}

/* to_alabels - UTF-8 name to A-labels, nontransitional first (IDNA2008 + UTS #46) */
static int to_alabels(char *name, size_t size, char *reason, size_t reasonlen)
{
	char *a = NULL;
	int rc = idn2_to_ascii_8z(name, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);

	if (rc != IDN2_OK) {
		int rc2 = idn2_to_ascii_8z(name, &a, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
		if (rc2 != IDN2_OK) {
			set_reason(reason, reasonlen, "IDN conversion failed: %s", idn2_strerror(rc));
			return -1;
		}
	}
	if (strlen(a) >= size) {
		idn2_free(a);
		set_reason(reason, reasonlen, "%s", "name longer than 253 octets");
		return -1;
	}
	strcpy(name, a);
	idn2_free(a);
	return 0;
}

/* check_ldh - lower-case LDH labels, lengths, and a TLD that is not all digits */
static int check_ldh(const char *name, char *reason, size_t reasonlen)
{
	const char *label = name;
	bool digits_only = true;
	char b[8];

	if (strlen(name) > 253) {
		set_reason(reason, reasonlen, "%s", "name longer than 253 octets");
		return -1;
	}
	for (const char *p = name;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t n = (size_t)(p - label);
			if (n == 0) {
				set_reason(reason, reasonlen, "%s", "empty label");
				return -1;
			}
			if (n > 63) {
				set_reason(reason, reasonlen, "%s", "label longer than 63 octets");
				return -1;
			}
			if (label[0] == '-' || p[-1] == '-') {
				set_reason(reason, reasonlen, "%s", "label starts or ends with a hyphen");
				return -1;
			}
			if (*p == '\0')
				break;
			label = p + 1;
			digits_only = true;
			continue;
		}
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			set_reason(reason, reasonlen, "bad character %s in domain", describe_byte(c, b));
			return -1;
		}
		if (c < '0' || c > '9')
			digits_only = false;
	}
	if (digits_only) {
		set_reason(reason, reasonlen, "%s", "top-level label is all digits");
		return -1;
	}
	return 0;
}

/* address_domain - normalise a host name to lower-case A-labels and check it */
int address_domain(const char *in, char *out, size_t outlen, char *reason, size_t reasonlen)
{
	char name[DOMAIN_IN_MAX];
	size_t n;
	bool ascii = true;

	if (reason && reasonlen)
		reason[0] = '\0';
	if (!in || !*in) {
		set_reason(reason, reasonlen, "%s", "empty domain");
		return -1;
	}
	n = strlen(in);
	if (n >= sizeof(name)) {
		set_reason(reason, reasonlen, "%s", "name longer than 253 octets");
		return -1;
	}
	memcpy(name, in, n + 1);
	if (name[n - 1] == '.')
		name[--n] = '\0';
	if (n == 0) {
		set_reason(reason, reasonlen, "%s", "empty domain");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] >= 0x80)
			ascii = false;
	if (!ascii && to_alabels(name, sizeof(name), reason, reasonlen) < 0)
		return -1;
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (check_ldh(name, reason, reasonlen) < 0)
		return -1;
	if (strlen(name) >= outlen) {
		set_reason(reason, reasonlen, "%s", "name too long");
		return -1;
	}
	strcpy(out, name);
	return 0;
}

/* address_literal - an IPv4 or IPv6 address literal in brackets? */
int address_literal(const char *lit, char *reason, size_t reasonlen)
{
	char inner[64];
	unsigned char bin[16];
	size_t n = lit ? strlen(lit) : 0;

	if (n < 3 || lit[0] != '[' || lit[n - 1] != ']' || n - 2 >= sizeof(inner)) {
		set_reason(reason, reasonlen, "%s", "malformed address literal");
		return -1;
	}
	memcpy(inner, lit + 1, n - 2);
	inner[n - 2] = '\0';
	if (strncasecmp(inner, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, inner + 5, bin) == 1)
			return 0;
	} else if (inet_pton(AF_INET, inner, bin) == 1) {
		return 0;
	}
	set_reason(reason, reasonlen, "%s", "malformed address literal");
	return -1;
}

/* invalid - classify as ADDR_INVALID with a reason */
static enum addr_class invalid(struct address *out, const char *why)
{
	out->cls = ADDR_INVALID;
	out->local[0] = out->domain[0] = out->addr[0] = '\0';
	snprintf(out->reason, sizeof(out->reason), "%s", why);
	return ADDR_INVALID;
}

/* strip_brackets - "<...>" to its inside; NULL (and *why) when unbalanced */
static char *strip_brackets(char *s, const char **why)
{
	bool quoted = false;
	char *p;

	if (*s != '<')
		return s;
	for (p = s + 1; *p; p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '>' && !quoted)
			break;
	}
	if (*p != '>') {
		*why = "missing '>'";
		return NULL;
	}
	/* Whatever follows a space would be ESMTP parameters: not ours to judge. */
	if (p[1] != '\0' && p[1] != ' ' && p[1] != '\t') {
		*why = "text after '>'";
		return NULL;
	}
	*p = '\0';
	return s + 1;
}

/* strip_route - drop "@a,@b:" (RFC 5321 §4.1.2 A-d-l); NULL when malformed */
static char *strip_route(char *s)
{
	char *colon;

	if (*s != '@')
		return s;
	colon = strchr(s, ':');
	if (!colon)
		return NULL;
	for (char *p = s; p < colon;) {
		char *start;
		if (*p++ != '@')
			return NULL;
		for (start = p; p < colon && *p != ','; p++)
			if (*p == '@' || *p == '"')
				return NULL;
		if (p == start)
			return NULL;            /* "@," or "@:" */
		if (p < colon && ++p == colon)
			return NULL;            /* trailing comma */
	}
	return colon + 1;
}

/* split_local - find the '@' ending the local part; NULL (and *why) when malformed */
static char *split_local(char *s, const char **why)
{
	char *p = s;

	if (*s == '"') {
		for (p = s + 1; *p && *p != '"'; p++) {
			unsigned char c = (unsigned char)*p;
			if (c == '\\' && p[1])
				c = (unsigned char)*++p;
			if (c < 0x20 || c == 0x7f) {
				*why = "control character in local part";
				return NULL;
			}
		}
		if (*p != '"') {
			*why = "unbalanced quote in local part";
			return NULL;
		}
		p++;
		if (*p != '@') {
			*why = *p ? "text after quoted local part" : "no domain";
			return NULL;
		}
		return p;
	}
	for (; *p && *p != '@'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c == 0x7f) {
			*why = c == ' ' ? "space in local part" : "control character in local part";
			return NULL;
		}
		if (strchr("\"()<>[]:;,\\", c)) {
			*why = "special character in local part";
			return NULL;
		}
	}
	if (*p != '@') {
		*why = "no domain";
		return NULL;
	}
	if (p == s) {
		*why = "empty local part";
		return NULL;
	}
	return p;
}

/* address_parse - classify a MAIL FROM argument */
enum addr_class address_parse(const char *arg, struct address *out)
{
	char buf[FACT_ADDR_MAX];
	const char *why = NULL;
	char *s, *at, *domain;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!arg)
		return invalid(out, "no address");
	while (*arg == ' ' || *arg == '\t')
		arg++;
	n = strlen(arg);
	while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t'))
		n--;
	if (n >= sizeof(buf))
		return invalid(out, "address too long");
	memcpy(buf, arg, n);
	buf[n] = '\0';

	if (!(s = strip_brackets(buf, &why)))
		return invalid(out, why);
	if (*s == '\0') {
		out->cls = ADDR_NULL;
		return ADDR_NULL;
	}
	if (!(s = strip_route(s)))
		return invalid(out, "malformed source route");
	if (!(at = split_local(s, &why)))
		return invalid(out, why);
	*at = '\0';
	domain = at + 1;
	if (strchr(domain, '@'))
		return invalid(out, "more than one '@'");

	if (*domain == '[') {
		char reason[ADDR_REASON_MAX];
		if (address_literal(domain, reason, sizeof(reason)) < 0)
			return invalid(out, reason);
		snprintf(out->domain, sizeof(out->domain), "%s", domain);
		out->cls = ADDR_LITERAL;
	} else {
		char reason[ADDR_REASON_MAX];
		if (address_domain(domain, out->domain, sizeof(out->domain),
				   reason, sizeof(reason)) < 0)
			return invalid(out, reason);
		out->cls = ADDR_NORMAL;
	}
	snprintf(out->local, sizeof(out->local), "%s", s);
	if ((size_t)snprintf(out->addr, sizeof(out->addr), "%s@%s", s, out->domain)
	    >= sizeof(out->addr))
		return invalid(out, "address too long");
	return out->cls;
}
