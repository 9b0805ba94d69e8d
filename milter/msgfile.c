/*
 * msgfile.c - a message file as milter input (see msgfile.h).
 *
 * Owns only temporaries: the line buffer from getline and the header
 * being assembled, both freed before returning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/msgfile.h"
#include "policy/checks.h"

struct hdr {
	char *buf;
	size_t len, cap;
};

/* hdr_add - append n bytes; -1 when out of memory */
static int hdr_add(struct hdr *h, const char *s, size_t n)
{
	if (h->len + n + 1 > h->cap) {
		size_t cap = (h->len + n + 1) * 2;
		char *nb = realloc(h->buf, cap);

		if (!nb)
			return -1;
		h->buf = nb;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
	return 0;
}

/* hdr_flush - hand the assembled header to the checks */
static void hdr_flush(struct checks *ck, struct hdr *h)
{
	char *colon, *value;

	if (!h->len)
		return;
	colon = strchr(h->buf, ':');
	if (colon) {
		*colon = '\0';
		value = colon + 1;
		(void)checks_header(ck, h->buf, value);
	}
	h->len = 0;
	h->buf[0] = '\0';
}

/* chomp - strip a trailing LF or CRLF; returns the new length */
static size_t chomp(char *line, size_t n)
{
	if (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	return n;
}

/* feed_headers - until the empty line; 0 or -1 (out of memory) */
static int feed_headers(struct checks *ck, FILE *f, char **line, size_t *cap)
{
	struct hdr h = { 0 };
	ssize_t got;
	int rc = 0;

	while ((got = getline(line, cap, f)) >= 0) {
		size_t n = chomp(*line, (size_t)got);

		if (n == 0)
			break;
		if ((**line == ' ' || **line == '\t') && h.len) {
			if (hdr_add(&h, "\r\n", 2) < 0 || hdr_add(&h, *line, n) < 0)
				rc = -1;
			continue;
		}
		hdr_flush(ck, &h);
		if (hdr_add(&h, *line, n) < 0)
			rc = -1;
	}
	hdr_flush(ck, &h);
	free(h.buf);
	return rc;
}

/* msgfile_feed - headers, end of headers, body with CRLF */
int msgfile_feed(struct checks *ck, const char *path, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int rc = 0;

	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (feed_headers(ck, f, &line, &cap) < 0) {
		snprintf(err, errlen, "out of memory reading %s", path);
		rc = -1;
	}
	if (rc == 0 && checks_advance(ck, CHECK_STAGE_HEADERS) < 0) {
		snprintf(err, errlen, "%s", checks_error(ck));
		rc = -1;
	}
	while (rc == 0 && (got = getline(&line, &cap, f)) >= 0) {
		size_t n = chomp(line, (size_t)got);

		checks_body(ck, (const unsigned char *)line, n);
		checks_body(ck, (const unsigned char *)"\r\n", 2);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}
