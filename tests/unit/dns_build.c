/*
 * dns_build.c - DNS reply packets from a text description (tests only).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/unit/dns_build.h"

struct out {
	unsigned char *p;
	size_t size, len;
	int bad;
};

/* put - append bytes, remembering overflow */
static void put(struct out *o, const void *d, size_t n)
{
	if (o->len + n > o->size) {
		o->bad = 1;
		return;
	}
	memcpy(o->p + o->len, d, n);
	o->len += n;
}

/* put16 - append a big-endian 16-bit value */
static void put16(struct out *o, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	put(o, b, 2);
}

/* put_name - append a name in uncompressed wire form; "." or "" is the root */
static void put_name(struct out *o, const char *name)
{
	const char *p = name;

	while (*p && strcmp(p, ".") != 0) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		unsigned char l = (unsigned char)n;
		if (n == 0 || n > 63) {
			o->bad = 1;
			return;
		}
		put(o, &l, 1);
		put(o, p, n);
		p += n;
		if (*p == '.')
			p++;
	}
	put(o, "", 1);
}

/* put_txt - append quoted character-strings (or one bare word) as TXT RDATA */
static void put_txt(struct out *o, const char *s)
{
	while (*s == ' ')
		s++;
	if (*s != '"') {
		unsigned char l = (unsigned char)strlen(s);
		put(o, &l, 1);
		put(o, s, l);
		return;
	}
	while (*s == '"') {
		unsigned char str[256];
		size_t n = 0;
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1])
				s++;
			if (n == 255) {
				o->bad = 1;
				return;
			}
			str[n++] = (unsigned char)*s;
		}
		if (*s != '"') {
			o->bad = 1;
			return;
		}
		s++;
		unsigned char l = (unsigned char)n;
		put(o, &l, 1);
		put(o, str, n);
		while (*s == ' ')
			s++;
	}
}

/* put_rr - one record "[@owner] TYPE rdata" */
static void put_rr(struct out *o, const char *qname, char *rec)
{
	char owner[300], type[16], *rest;
	unsigned char addr[16];
	size_t rdlen_at;
	unsigned long ttl = 300;
	int t, n = 0;

	snprintf(owner, sizeof(owner), "%s", qname);
	while (*rec == ' ')
		rec++;
	if (*rec == '@') {
		if (sscanf(rec + 1, "%299s %n", owner, &n) != 1) {
			o->bad = 1;
			return;
		}
		rec += 1 + n;
	}
	if (*rec == '/') {
		if (sscanf(rec + 1, "%lu %n", &ttl, &n) != 1) {
			o->bad = 1;
			return;
		}
		rec += 1 + n;
	}
	if (sscanf(rec, "%15s %n", type, &n) != 1) {
		o->bad = 1;
		return;
	}
	rest = rec + n;
	if (!strcasecmp(type, "A")) t = ns_t_a;
	else if (!strcasecmp(type, "AAAA")) t = ns_t_aaaa;
	else if (!strcasecmp(type, "MX")) t = ns_t_mx;
	else if (!strcasecmp(type, "CNAME")) t = ns_t_cname;
	else if (!strcasecmp(type, "PTR")) t = ns_t_ptr;
	else if (!strcasecmp(type, "NS")) t = ns_t_ns;
	else if (!strcasecmp(type, "TXT")) t = ns_t_txt;
	else if (!strcasecmp(type, "SOA")) t = ns_t_soa;
	else {
		o->bad = 1;
		return;
	}
	put_name(o, owner);
	put16(o, (unsigned)t);
	put16(o, ns_c_in);
	put16(o, (unsigned)(ttl >> 16));
	put16(o, (unsigned)(ttl & 0xffff));
	rdlen_at = o->len;
	put16(o, 0);
	if (t == ns_t_a || t == ns_t_aaaa) {
		char a[64];
		if (sscanf(rest, "%63s", a) != 1 ||
		    inet_pton(t == ns_t_a ? AF_INET : AF_INET6, a, addr) != 1) {
			o->bad = 1;
			return;
		}
		put(o, addr, t == ns_t_a ? 4 : 16);
	} else if (t == ns_t_mx) {
		unsigned pref;
		char host[300];
		if (sscanf(rest, "%u %299s", &pref, host) != 2) {
			o->bad = 1;
			return;
		}
		put16(o, pref);
		put_name(o, host);
	} else if (t == ns_t_txt) {
		put_txt(o, rest);
	} else if (t == ns_t_soa) {
		char mname[300], rname[300];
		unsigned long v[5];
		if (sscanf(rest, "%299s %299s %lu %lu %lu %lu %lu", mname, rname,
			   &v[0], &v[1], &v[2], &v[3], &v[4]) != 7) {
			o->bad = 1;
			return;
		}
		put_name(o, mname);
		put_name(o, rname);
		for (int i = 0; i < 5; i++) {
			put16(o, (unsigned)(v[i] >> 16));
			put16(o, (unsigned)(v[i] & 0xffff));
		}
	} else {
		char host[300];
		if (sscanf(rest, "%299s", host) != 1) {
			o->bad = 1;
			return;
		}
		put_name(o, host);
	}
	if (!o->bad) {
		size_t rdlen = o->len - rdlen_at - 2;
		o->p[rdlen_at] = (unsigned char)(rdlen >> 8);
		o->p[rdlen_at + 1] = (unsigned char)rdlen;
	}
}

/* next_record - end the record at the first ';' outside quotes; the next one, or NULL */
static char *next_record(char *s)
{
	int quoted = 0;

	for (; *s; s++) {
		if (quoted && *s == '\\' && s[1])
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (*s == ';' && !quoted) {
			*s = '\0';
			return s + 1;
		}
	}
	return NULL;
}

/* dns_build - header, question and the spec's records */
int dns_build(unsigned char *buf, size_t size, const char *qname, int qtype,
	      int rcode, const char *spec)
{
	struct out o = { buf, size, 0, 0 };
	char *copy;

	put16(&o, 0x1234);
	put16(&o, 0x8180u | (unsigned)(rcode & 0xf));   /* QR RD RA */
	put16(&o, 1);
	put16(&o, 0);          /* ANCOUNT, patched below */
	put16(&o, 0);
	put16(&o, 0);
	put_name(&o, qname);
	put16(&o, (unsigned)qtype);
	put16(&o, ns_c_in);
	/* answer records first, then the authority ("^") and additional ("&") ones */
	static const char marks[] = { 0, '^', '&' };
	unsigned counts[3] = { 0, 0, 0 };

	for (int sec = 0; sec < 3 && spec && *spec; sec++) {
		copy = strdup(spec);
		if (!copy)
			return -1;
		for (char *rec = copy, *next; rec; rec = next) {
			next = next_record(rec);
			rec += strspn(rec, " ");
			if (!*rec || (sec ? *rec != marks[sec] : (*rec == '^' || *rec == '&')))
				continue;
			put_rr(&o, qname, rec + (sec ? 1 : 0));
			counts[sec]++;
		}
		free(copy);
	}
	if (o.bad)
		return -1;
	for (int sec = 0; sec < 3; sec++) {
		buf[6 + 2 * sec] = (unsigned char)(counts[sec] >> 8);
		buf[7 + 2 * sec] = (unsigned char)counts[sec];
	}
	return (int)o.len;
}
