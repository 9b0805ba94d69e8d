/*
 * dkim_pkcs1.c - bare PKCS#1 RSAPublicKey p= values wrapped into
 * SubjectPublicKeyInfo for libopendkim; what and why in dkim_pkcs1.h.
 * Base64 and the little DER needed are done here by hand, every length
 * checked against what is left: the input is a key server's text.
 */

/* system */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* project */
#include "policy/dkim_pkcs1.h"

#define DER_MAX  (DKIMP_RECORD_MAX / 4 * 3)   /* the most a record's p= can decode to */
#define SPKI_MAX (DER_MAX + 24)               /* plus the wrapping: 4 + 15 + 4 + 1 */

/* A tag's value in the record: [start, end), whitespace around it excluded. */
struct span {
	size_t start, end;
	bool found;
};

/* AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL } */
static const unsigned char rsa_alg_id[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
};

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* is_ws - folding whitespace inside a tag list (RFC 6376 §3.2: WSP and FWS). */
static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* trim - narrow [*a, *b) of rec past whitespace at both ends. */
static void trim(const char *rec, size_t *a, size_t *b)
{
	while (*a < *b && is_ws(rec[*a]))
		(*a)++;
	while (*b > *a && is_ws(rec[*b - 1]))
		(*b)--;
}

/* is_name - [a, b) is "name" exactly (tag names are case-sensitive, RFC 6376 §3.2). */
static bool is_name(const char *rec, size_t a, size_t b, const char *name)
{
	size_t n = strlen(name);

	return b - a == n && memcmp(rec + a, name, n) == 0;
}

/*
 * find_tags - the values of p= and k= in the tag list. false when the
 * list is not one we dare touch: a tag-spec without '=', or p= or k=
 * given twice (RFC 6376 §3.2: invalid; libopendkim decides then).
 */
static bool find_tags(const char *rec, size_t len, struct span *p, struct span *k)
{
	size_t pos = 0;

	p->found = k->found = false;
	while (pos <= len) {
		const char *semi = memchr(rec + pos, ';', len - pos);
		size_t end = semi != NULL ? (size_t)(semi - rec) : len, a = pos, b = end, eq;
		struct span *want = NULL;

		trim(rec, &a, &b);
		if (a < b) {
			const char *e = memchr(rec + a, '=', b - a);
			size_t na = a, nb;

			if (e == NULL)
				return false;
			eq = (size_t)(e - rec);
			nb = eq;
			trim(rec, &na, &nb);
			if (is_name(rec, na, nb, "p"))
				want = p;
			else if (is_name(rec, na, nb, "k"))
				want = k;
			if (want != NULL) {
				if (want->found)
					return false;
				want->found = true;
				want->start = eq + 1;
				want->end = b;
				trim(rec, &want->start, &want->end);
			}
		}
		pos = end + 1;
	}
	return true;
}

/* b64_value - the 6 bits of a base64 character, or -1. */
static int b64_value(char c)
{
	const char *at = c != '\0' ? strchr(b64_chars, c) : NULL;

	return at != NULL ? (int)(at - b64_chars) : -1;
}

/*
 * b64_decode - strict base64 of [a, b) (whitespace skipped, '=' padding
 * only at the end, the length a multiple of 4) into out. The byte count,
 * or -1 when it is not base64 or does not fit outlen.
 */
static long b64_decode(const char *rec, size_t a, size_t b, unsigned char *out, size_t outlen)
{
	unsigned long acc = 0;
	size_t n = 0, chars = 0, pad = 0;

	for (size_t i = a; i < b; i++) {
		int v;

		if (is_ws(rec[i]))
			continue;
		if (rec[i] == '=') {
			if (++pad > 2)
				return -1;
			chars++;
			continue;
		}
		v = b64_value(rec[i]);
		if (v < 0 || pad > 0)
			return -1;
		acc = acc << 6 | (unsigned long)v;
		if (++chars % 4 == 0) {
			if (n + 3 > outlen)
				return -1;
			out[n++] = (unsigned char)(acc >> 16);
			out[n++] = (unsigned char)(acc >> 8);
			out[n++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (chars % 4 != 0)
		return -1;
	if (pad > 0) {
		/* the last quantum: 4 - pad characters carry 3 - pad bytes */
		size_t keep = 3 - pad;

		acc <<= 6 * pad;
		if (n + keep > outlen)
			return -1;
		out[n++] = (unsigned char)(acc >> 16);
		if (keep == 2)
			out[n++] = (unsigned char)(acc >> 8);
	}
	return (long)n;
}

/* b64_encode - in[0..n) as base64 with padding into out; the length, or 0 when it does not fit. */
static size_t b64_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	if ((n + 2) / 3 * 4 > outlen)
		return 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned long acc = (unsigned long)in[i] << 16;

		if (i + 1 < n)
			acc |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < n)
			acc |= in[i + 2];
		out[o++] = b64_chars[acc >> 18 & 63];
		out[o++] = b64_chars[acc >> 12 & 63];
		out[o++] = i + 1 < n ? b64_chars[acc >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64_chars[acc & 63] : '=';
	}
	return o;
}

/*
 * der_length - a definite DER length at p (avail bytes): the content
 * length in *n, the octets it took returned; 0 when it is not a minimal
 * length of at most two octets (no key needs more).
 */
static size_t der_length(const unsigned char *p, size_t avail, size_t *n)
{
	if (avail >= 1 && p[0] < 0x80) {
		*n = p[0];
		return 1;
	}
	if (avail >= 2 && p[0] == 0x81 && p[1] >= 0x80) {
		*n = p[1];
		return 2;
	}
	if (avail >= 3 && p[0] == 0x82 && p[1] != 0) {
		*n = (size_t)p[1] << 8 | p[2];
		return 3;
	}
	return 0;
}

/* der_positive_integer - the size of the positive, minimally encoded INTEGER at p, or 0. */
static size_t der_positive_integer(const unsigned char *p, size_t avail)
{
	size_t h, n;
	const unsigned char *c;

	if (avail < 2 || p[0] != 0x02)
		return 0;
	h = der_length(p + 1, avail - 1, &n);
	if (h == 0 || n == 0 || n > avail - 1 - h)
		return 0;
	c = p + 1 + h;
	if ((c[0] & 0x80) != 0 || (n > 1 && c[0] == 0 && (c[1] & 0x80) == 0))
		return 0;
	return 1 + h + n;
}

/* is_rsa_public_key - d[0..n) is exactly SEQUENCE { INTEGER modulus, INTEGER exponent }. */
static bool is_rsa_public_key(const unsigned char *d, size_t n)
{
	size_t h, len, a, b;

	if (n < 2 || d[0] != 0x30)
		return false;
	h = der_length(d + 1, n - 1, &len);
	if (h == 0 || len != n - 1 - h)
		return false;
	a = der_positive_integer(d + 1 + h, len);
	if (a == 0)
		return false;
	b = der_positive_integer(d + 1 + h + a, len - a);
	return b != 0 && a + b == len;
}

/* put_tl - a tag and a DER length (n < 65536) at p; the bytes written. */
static size_t put_tl(unsigned char *p, unsigned char tag, size_t n)
{
	p[0] = tag;
	if (n < 0x80) {
		p[1] = (unsigned char)n;
		return 2;
	}
	if (n < 0x100) {
		p[1] = 0x81;
		p[2] = (unsigned char)n;
		return 3;
	}
	p[1] = 0x82;
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	return 4;
}

/* tl_size - what put_tl writes for n. */
static size_t tl_size(size_t n)
{
	return n < 0x80 ? 2 : n < 0x100 ? 3 : 4;
}

/* wrap_spki - SubjectPublicKeyInfo around the RSAPublicKey key[0..n) into out (SPKI_MAX); its length. */
static size_t wrap_spki(const unsigned char *key, size_t n, unsigned char *out)
{
	size_t bits = n + 1;                                  /* unused-bits octet + key */
	size_t body = sizeof rsa_alg_id + tl_size(bits) + bits;
	size_t o = put_tl(out, 0x30, body);

	memcpy(out + o, rsa_alg_id, sizeof rsa_alg_id);
	o += sizeof rsa_alg_id;
	o += put_tl(out + o, 0x03, bits);
	out[o++] = 0;
	memcpy(out + o, key, n);
	return o + n;
}

/* dkimp_rewrite - see dkim_pkcs1.h. */
size_t dkimp_rewrite(const char *rec, size_t len, char *out, size_t outlen)
{
	unsigned char der[DER_MAX], spki[SPKI_MAX];
	struct span p, k;
	long n;
	size_t slen, b64len, tail;

	if (len > DKIMP_RECORD_MAX || !find_tags(rec, len, &p, &k) || !p.found)
		return 0;
	/* k= defaults to rsa; an ed25519 key is 32 raw bytes that could look like anything */
	if (k.found && !(k.end - k.start == 3 && strncasecmp(rec + k.start, "rsa", 3) == 0))
		return 0;
	n = b64_decode(rec, p.start, p.end, der, sizeof der);
	if (n <= 0 || !is_rsa_public_key(der, (size_t)n))
		return 0;
	slen = wrap_spki(der, (size_t)n, spki);
	tail = len - p.end;
	if (p.start > outlen)
		return 0;
	memcpy(out, rec, p.start);
	b64len = b64_encode(spki, slen, out + p.start, outlen - p.start);
	if (b64len == 0 || tail > outlen - p.start - b64len)
		return 0;
	memcpy(out + p.start + b64len, rec + p.end, tail);
	return p.start + b64len + tail;
}
