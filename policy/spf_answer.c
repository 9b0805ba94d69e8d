/*
 * spf_answer.c - a bounds-checked reader for raw DNS replies (see spf_answer.h).
 *
 * Written here rather than borrowed from c-ares' ares_parse_*_reply because
 * the SPF layer needs exactly the records of one type, names without
 * escaping games, and TXT strings with their true lengths (NULs included),
 * all without an allocation per record.
 */
#include <string.h>

#include "policy/spf_answer.h"

#define DNS_HEADER 12
#define DNS_MAX_POINTERS 32

/* ans_u16 - big-endian 16 bits at p. */
static unsigned ans_u16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

/* ans_skip_name - offset just past the name at off, or 0 when malformed. */
static size_t ans_skip_name(const unsigned char *msg, size_t msglen, size_t off)
{
	while (off < msglen) {
		unsigned len = msg[off];

		if (len == 0)
			return off + 1;
		if ((len & 0xc0) == 0xc0)
			return off + 2 <= msglen ? off + 2 : 0;
		if (len & 0xc0)
			return 0;
		off += 1 + len;
	}
	return 0;
}

/* spf_answer_name - see header. */
int spf_answer_name(const unsigned char *msg, size_t msglen, const unsigned char *p,
		    char *out, size_t outlen)
{
	size_t off, n = 0, limit;
	unsigned jumps = 0, i;

	if (p < msg || p >= msg + msglen || outlen == 0)
		return -1;
	off = (size_t)(p - msg);
	limit = off;    /* pointers must go strictly backwards: no loops */
	for (;;) {
		unsigned len;

		if (off >= msglen)
			return -1;
		len = msg[off];
		if (len == 0)
			break;
		if ((len & 0xc0) == 0xc0) {
			size_t to;

			if (off + 1 >= msglen || ++jumps > DNS_MAX_POINTERS)
				return -1;
			to = ((len & 0x3f) << 8) | msg[off + 1];
			if (to >= limit)
				return -1;
			off = limit = to;
			continue;
		}
		if ((len & 0xc0) || off + 1 + len > msglen)
			return -1;
		if (n && n + 1 >= outlen)
			return -1;
		if (n)
			out[n++] = '.';
		for (i = 0; i < len; i++) {
			unsigned char c = msg[off + 1 + i];

			if (c < 0x21 || c > 0x7e || c == '.' || n + 1 >= outlen)
				return -1;
			out[n++] = (char)c;
		}
		off += 1 + len;
	}
	out[n] = '\0';
	return 0;
}

/* spf_answer_walk - see header. */
int spf_answer_walk(const unsigned char *msg, size_t msglen, int type,
		    spf_answer_fn *fn, void *arg)
{
	unsigned qd, an, i;
	size_t off = DNS_HEADER;
	int seen = 0;

	if (!msg || msglen < DNS_HEADER)
		return -1;
	qd = ans_u16(msg + 4);
	an = ans_u16(msg + 6);
	for (i = 0; i < qd; i++) {
		off = ans_skip_name(msg, msglen, off);
		if (off == 0 || off + 4 > msglen)
			return -1;
		off += 4;
	}
	for (i = 0; i < an; i++) {
		unsigned rtype, rclass;
		size_t rdlen;

		off = ans_skip_name(msg, msglen, off);
		if (off == 0 || off + 10 > msglen)
			return -1;
		rtype = ans_u16(msg + off);
		rclass = ans_u16(msg + off + 2);
		rdlen = ans_u16(msg + off + 8);
		off += 10;
		if (off + rdlen > msglen)
			return -1;
		if ((int)rtype == type && rclass == 1) {
			seen++;
			if (fn && fn(arg, msg, msglen, msg + off, rdlen))
				break;
		}
		off += rdlen;
	}
	return seen;
}

/* spf_answer_txt - see header. */
long spf_answer_txt(const unsigned char *rdata, size_t rdlen, char *out, size_t outlen)
{
	size_t off = 0, total = 0;

	while (off < rdlen) {
		size_t len = rdata[off];

		if (off + 1 + len > rdlen)
			return -1;
		if (total < outlen) {
			size_t room = outlen - total;

			memcpy(out + total, rdata + off + 1, len < room ? len : room);
		}
		total += len;
		off += 1 + len;
	}
	return (long)total;
}
