/*
 * input.h - the lines of a log file, plain or gzip-compressed, or of
 * standard input ("-").
 *
 * zlib reads both kinds through one call (gzread passes a file that is
 * not gzip through as it is), so rotated logs (mxguard.log.2.gz) and the
 * live one are read alike, and a concatenation of gzip members too. Lines
 * end at "\n"; a last line without one is a line. A line longer than
 * INPUT_LINE_MAX is skipped whole (its number still counts) and reported
 * as such, so a hostile file costs bounded memory.
 *
 * struct input owns its buffer and its zlib stream; input_close frees
 * both (it closes the file too, standard input excepted).
 */
#ifndef MXGUARD_INPUT_H
#define MXGUARD_INPUT_H

#include <stddef.h>

#define INPUT_LINE_MAX (4u << 20)   /* 4 MiB; a decision line is some KiB, DECISION_LINE_MAX at most */

enum input_status {
	INPUT_LINE = 1,       /* *line holds a line */
	INPUT_END = 0,        /* no more */
	INPUT_ERROR = -1,     /* a read error (input_error says which); what came before was read */
	INPUT_TOO_LONG = -2,  /* a line longer than INPUT_LINE_MAX was skipped */
};

struct input;

/* input_open - path, or "-" for standard input; NULL with the reason in err. */
struct input *input_open(const char *path, char *err, size_t errlen);

/*
 * input_next - the next line, without its "\n": *line is NUL-terminated
 * at *len and may be rewritten by the caller until the next call; *lineno
 * is its number (1-based, skipped lines counted).
 */
enum input_status input_next(struct input *, char **line, size_t *len, unsigned long *lineno);

/* input_error - why INPUT_ERROR. */
const char *input_error(const struct input *);

/* input_close - NULL is fine. */
void input_close(struct input *);

#endif
