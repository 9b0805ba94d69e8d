/*
 * fuzz.h - helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Each harness defines LLVMFuzzerTestOneInput() for one parser and, besides
 * "does not crash", checks the parser's documented promises (terminated
 * buffers, counts within bounds, safe output). A broken promise calls
 * FUZZ_CHECK's abort(), which libFuzzer records as a crash with the input.
 *
 * Everything is static inline: each harness is one translation unit and
 * links only the core objects it needs (from build/fuzz/libcore.a).
 * Strings made by fuzz_cstr() are owned by the caller (free()).
 */
#ifndef MXGUARD_FUZZ_H
#define MXGUARD_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) \
	do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond); } while (0)

/* fuzz_fail - report a broken promise and crash so libFuzzer keeps the input */
static inline void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", file, line, what);
	abort();
}

/* fuzz_cstr - the input as a NUL-terminated heap string (cut at its first NUL); NULL if out of memory */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* fuzz_terminated - the fixed buffer holds a NUL within its cap bytes */
static inline bool fuzz_terminated(const char *buf, size_t cap)
{
	return memchr(buf, '\0', cap) != NULL;
}

/* fuzz_printable - only printable ASCII (a safe SMTP reply or log text) */
static inline bool fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/*
 * struct fuzz_in - a cursor for harnesses that build structured input
 * (several strings and small numbers) from the fuzzer's bytes.
 */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

/* fuzz_byte - the next byte, 0 when the input is used up */
static inline unsigned fuzz_byte(struct fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* fuzz_str - the next '\0'-terminated piece into buf (cut to cap-1 bytes; "" when used up) */
static inline void fuzz_str(struct fuzz_in *in, char *buf, size_t cap)
{
	size_t n = 0;

	while (in->left > 0) {
		uint8_t c = *in->p++;
		in->left--;
		if (c == '\0')
			break;
		if (n + 1 < cap)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
}

#endif
