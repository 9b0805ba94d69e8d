/*
 * spf_answer.h - read the records of one type out of a raw DNS reply, for
 * the SPF DNS layer. Hostile replies are expected: every length is checked
 * against the buffer, compression pointers may only point backwards, and a
 * name that does not fit or holds bytes that are not plain hostname text
 * is reported as unusable rather than passed on.
 *
 * Nothing here allocates; callers own every buffer.
 */
#ifndef MXGUARD_SPF_ANSWER_H
#define MXGUARD_SPF_ANSWER_H

#include <stddef.h>

/*
 * spf_answer_fn - one answer record of the asked type; rdata points into
 * the reply (rdlen bytes). Return 0 to go on, non-zero to stop the walk.
 */
typedef int spf_answer_fn(void *arg, const unsigned char *msg, size_t msglen,
			  const unsigned char *rdata, size_t rdlen);

/*
 * spf_answer_walk - call fn for each record of type in the answer section.
 * Returns the number of such records seen, or -1 when the reply is
 * malformed (fn may have been called for records before the damage).
 */
int spf_answer_walk(const unsigned char *msg, size_t msglen, int type,
		    spf_answer_fn *fn, void *arg);

/*
 * spf_answer_name - decode the (possibly compressed) name at p into out as
 * dotted text without a trailing dot. Returns 0, or -1 when the name is
 * malformed, too long for out, or holds a byte outside 0x21..0x7e or a
 * literal '.' inside a label.
 */
int spf_answer_name(const unsigned char *msg, size_t msglen, const unsigned char *p,
		    char *out, size_t outlen);

/*
 * spf_answer_txt - join the character-strings of one TXT rdata into out
 * (outlen bytes, no NUL added: the text may hold NULs). Returns the joined
 * length, which may exceed outlen (then only outlen bytes were copied), or
 * -1 when the rdata is malformed.
 */
long spf_answer_txt(const unsigned char *rdata, size_t rdlen, char *out, size_t outlen);

#endif
