/*
 * utf8.h - is this UTF-8? One answer for every writer and reader of text
 * that leaves the process (the JSON decision log, the metrics text, the
 * replay's JSON reader), so they agree on what they escape and refuse.
 */
#ifndef MXGUARD_UTF8_H
#define MXGUARD_UTF8_H

#include <stddef.h>

/*
 * utf8_seq_len - length of the valid UTF-8 sequence (RFC 3629) at p: 1 for
 * ASCII, 2 to 4 otherwise; 0 when invalid (a stray continuation byte, an
 * overlong form, a surrogate, a value past U+10FFFF, or a sequence cut by
 * a NUL). Reads at most 4 bytes, never past a NUL.
 */
size_t utf8_seq_len(const unsigned char *p);

#endif
