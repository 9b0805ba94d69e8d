/*
 * dkim_reply.c - the DNS reply libopendkim gets for a key query, rebuilt
 * from the resolver's raw answer (see dkim_reply.h), a bare PKCS#1 key
 * wrapped on the way (dkim_pkcs1.h). Pure: no I/O, no state; the only
 * allocation is c-ares's parse result, freed here.
 */

/* system */
#include <arpa/nameser.h>
#include <stdbool.h>
#include <string.h>

/* libraries */
#include <ares.h>

/* project */
#include "policy/dkim_pkcs1.h"
#include "policy/dkim_reply.h"

/* put16 - big-endian 16 bits. */
static unsigned char *put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

/* encode_name - wire form of a presentation name; 0 when it cannot be encoded. */
static size_t encode_name(const char *name, unsigned char *out, size_t outlen)
{
	size_t n = 0;
	const char *p = name;

	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (len == 0 || len > 63 || n + len + 2 > outlen || n + len + 2 > 255)
			return 0;
		out[n++] = (unsigned char)len;
		memcpy(out + n, p, len);
		n += len;
		p += len;
		if (*p == '.')
			p++;
	}
	if (n == 0 || n + 1 > outlen)
		return 0;
	out[n++] = 0;
	return n;
}

/* rdata_len - bytes of the TXT record starting at t (its strings up to the next record). */
static size_t rdata_len(const struct ares_txt_ext *t)
{
	size_t n = 0;

	do {
		n += 1 + t->length;
		t = t->next;
	} while (t != NULL && !t->record_start);
	return n;
}

/*
 * joined - the strings of the TXT record starting at t, one after the
 * other, into buf (the record's text as libopendkim reads it); the
 * length, or 0 when it is empty or longer than buflen.
 */
static size_t joined(const struct ares_txt_ext *t, char *buf, size_t buflen)
{
	size_t n = 0;

	do {
		if (t->length > buflen - n)
			return 0;
		memcpy(buf + n, t->txt, t->length);
		n += t->length;
		t = t->next;
	} while (t != NULL && !t->record_start);
	return n;
}

/* put_record - one TXT answer whose text is rec[0..len), in strings of at most 255 bytes; NULL when it does not fit. */
static unsigned char *put_record(unsigned char *p, const unsigned char *end, const char *rec, size_t len)
{
	size_t rdlen = len + (len + 254) / 255;

	if ((size_t)(end - p) < 12 + rdlen)
		return NULL;
	p = put16(p, 0xc00c);
	p = put16(p, ns_t_txt);
	p = put16(p, ns_c_in);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, (unsigned)rdlen);
	for (size_t i = 0; i < len; i += 255) {
		size_t chunk = len - i > 255 ? 255 : len - i;

		*p++ = (unsigned char)chunk;
		memcpy(p, rec + i, chunk);
		p += chunk;
	}
	return p;
}

/* dkimr_build - see dkim_reply.h. */
int dkimr_build(const char *qname, enum dns_status st, const unsigned char *answer,
		      int answer_len, unsigned char *buf, size_t buflen)
{
	struct ares_txt_ext *txt = NULL;
	unsigned char *p = buf, *end = buf + buflen;
	unsigned ancount = 0;
	size_t qlen;
	bool nx = st == DNS_NXDOMAIN || st == DNS_BADNAME;

	if (st == DNS_OK && answer != NULL) {
		int rc = ares_parse_txt_reply_ext(answer, answer_len, &txt);

		if (rc != ARES_SUCCESS && rc != ARES_ENODATA)
			return -1;
	}
	for (struct ares_txt_ext *t = txt; t != NULL; t = t->next)
		if (t->record_start || t == txt)
			ancount++;
	if (buflen < 12 + 4)
		goto toosmall;
	p = put16(p, 0);                        /* id */
	p = put16(p, 0x8180 | (nx ? 3u : 0u));  /* QR RD RA, rcode */
	p = put16(p, 1);
	p = put16(p, ancount);
	p = put16(p, 0);
	p = put16(p, 0);
	/* libopendkim does not compare the question; "invalid" stands in for a name that cannot be encoded */
	qlen = encode_name(qname, p, (size_t)(end - p) - 4);
	if (qlen == 0)
		qlen = encode_name("invalid", p, (size_t)(end - p) - 4);
	if (qlen == 0)
		goto toosmall;
	p += qlen;
	p = put16(p, ns_t_txt);
	p = put16(p, ns_c_in);
	for (struct ares_txt_ext *t = txt; t != NULL;) {
		size_t rdlen = rdata_len(t), reclen, wlen;
		char rec[DKIMP_RECORD_MAX], wrapped[DKIMP_RECORD_MAX + DKIMP_GROWTH];

		/* a bare PKCS#1 key: the whole record again, p= wrapped, in new strings */
		reclen = joined(t, rec, sizeof rec);
		wlen = reclen > 0 ? dkimp_rewrite(rec, reclen, wrapped, sizeof wrapped) : 0;
		if (wlen > 0) {
			p = put_record(p, end, wrapped, wlen);
			if (p == NULL)
				goto toosmall;
			do
				t = t->next;
			while (t != NULL && !t->record_start);
			continue;
		}
		if (rdlen > 65535 || (size_t)(end - p) < 12 + rdlen)
			goto toosmall;
		p = put16(p, 0xc00c);   /* pointer to the question name */
		p = put16(p, ns_t_txt);
		p = put16(p, ns_c_in);
		p = put16(p, 0);
		p = put16(p, 0);        /* TTL 0 */
		p = put16(p, (unsigned)rdlen);
		do {
			*p++ = (unsigned char)t->length;
			memcpy(p, t->txt, t->length);
			p += t->length;
			t = t->next;
		} while (t != NULL && !t->record_start);
	}
	if (txt != NULL)
		ares_free_data(txt);
	return (int)(p - buf);
toosmall:
	if (txt != NULL)
		ares_free_data(txt);
	return -1;
}
