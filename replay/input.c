/*
 * input.c - lines from plain or gzip files (see input.h).
 *
 * Reads in large blocks (gzread with a 256 KiB zlib buffer) and cuts
 * lines out of the block with memchr: no per-line call into zlib, no
 * copy for a line that lies within one block.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "replay/input.h"

#define BLOCK (1u << 20)

struct input {
	gzFile gz;
	char *buf;           /* data from start to end; cap bytes (+1 for a NUL) */
	size_t start, end, cap;
	unsigned long lineno;
	int eof;
	int skipping;        /* inside a line that is too long: drop up to its "\n" */
	char error[256];
};

/* input_open - see input.h */
struct input *input_open(const char *path, char *err, size_t errlen)
{
	struct input *in = calloc(1, sizeof *in);
	int fd;

	if (!in || !(in->buf = malloc(BLOCK + 1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(in);
		return NULL;
	}
	in->cap = BLOCK;
	errno = 0;
	fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : -2;
	in->gz = fd == -2 ? gzopen(path, "rb") : fd >= 0 ? gzdopen(fd, "rb") : NULL;
	if (!in->gz) {
		snprintf(err, errlen, "%s: %s", strcmp(path, "-") == 0 ? "standard input" : path,
			 errno ? strerror(errno) : "cannot open");
		if (fd >= 0)
			close(fd);
		free(in->buf);
		free(in);
		return NULL;
	}
	gzbuffer(in->gz, 256 * 1024);
	return in;
}

/* fill - more data after end; 1 read some, 0 end of file, -1 error */
static int fill(struct input *in)
{
	int n;

	if (in->start > 0 && in->start == in->end)
		in->start = in->end = 0;
	if (in->end == in->cap && in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->end == in->cap) {
		/* one line fills the buffer: grow it (input_next drops a line past INPUT_LINE_MAX first) */
		size_t cap = in->cap * 2;
		char *b;

		if (cap > 2 * (size_t)INPUT_LINE_MAX || !(b = realloc(in->buf, cap + 1)))
			return -2;
		in->buf = b;
		in->cap = cap;
	}
	n = gzread(in->gz, in->buf + in->end, (unsigned)(in->cap - in->end < BLOCK ? in->cap - in->end : BLOCK));
	if (n < 0) {
		int code;
		const char *msg = gzerror(in->gz, &code);

		snprintf(in->error, sizeof in->error, "%s", code == Z_ERRNO ? strerror(errno) : msg);
		return -1;
	}
	in->end += (size_t)n;
	return n > 0;
}

/* input_next - see input.h */
enum input_status input_next(struct input *in, char **line, size_t *len, unsigned long *lineno)
{
	for (;;) {
		char *nl = memchr(in->buf + in->start, '\n', in->end - in->start);
		int rc;

		if (nl || (in->eof && in->end > in->start)) {
			size_t n = nl ? (size_t)(nl - (in->buf + in->start)) : in->end - in->start;
			int skipped = in->skipping || n > INPUT_LINE_MAX;

			*line = in->buf + in->start;
			*len = n;
			(*line)[n] = '\0';
			in->start += n + (nl ? 1 : 0);
			in->skipping = 0;
			*lineno = ++in->lineno;
			return skipped ? INPUT_TOO_LONG : INPUT_LINE;
		}
		if (in->eof)
			return INPUT_END;
		if (in->skipping || in->end - in->start > INPUT_LINE_MAX) {
			/* past the longest line taken: drop what is here, remember to drop the rest */
			in->skipping = 1;
			in->start = in->end = 0;
		}
		rc = fill(in);
		if (rc == -1)
			return INPUT_ERROR;
		if (rc == -2) {
			/* no memory for a long line: drop it as too long */
			in->skipping = 1;
			in->start = in->end = 0;
			continue;
		}
		if (rc == 0)
			in->eof = 1;
	}
}

/* input_error - see input.h */
const char *input_error(const struct input *in)
{
	return in->error[0] ? in->error : "read error";
}

/* input_close - see input.h */
void input_close(struct input *in)
{
	if (!in)
		return;
	gzclose(in->gz);
	free(in->buf);
	free(in);
}
