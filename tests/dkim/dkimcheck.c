/*
 * dkimcheck.c - verify one message file through mxguard's DKIM path
 * (policy/dkim.c on the real c-ares resolver) and print what was found,
 * for the dkim test tier.
 *
 *   dkimcheck --dns HOST:PORT [--min-bits N] [--timeout-ms N]
 *             [--body-delay-ms N] [--authserv-id ID] [--fixcrlf] FILE
 *
 * The message is fed as the milter glue feeds it: header by header (the
 * value as it follows the colon), end of headers, the body in chunks,
 * end of message. --body-delay-ms sleeps between end of headers and the
 * body, standing in for a slow body transfer. Output:
 *
 *   dkim=RESULT aligned=yes|no eom_wait_ms=N
 *   sig N result=R d=D s=S a=A b=B bits=N aligned=yes|no reason=TEXT
 *   ar=Authentication-Results value, unfolded
 *
 * Exit 0 when the message was processed (whatever the result), 1 on an
 * internal error, 2 on bad usage.
 */

/* system */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* project */
#include "policy/authres.h"
#include "policy/dkim.h"
#include "policy/resolver.h"

#define CHUNK 4096

/* now_ms - CLOCK_MONOTONIC in milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* read_file - the whole file, NUL-terminated. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + CHUNK + 1 > cap) {
			char *nb = realloc(buf, cap = 2 * (n + CHUNK + 1));

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, CHUNK, f);
		n += r;
	} while (r > 0);
	fclose(f);
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* line_end - the end of the line at p (at its CR or LF), and the start of the next in *next. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *e = memchr(p, '\n', (size_t)(end - p));

	if (e == NULL) {
		*next = end;
		return end;
	}
	*next = e + 1;
	return e > p && e[-1] == '\r' ? e - 1 : e;
}

/* from_domain - the domain of the first address in a From: value. */
static void from_domain(const char *value, char *out, size_t outlen)
{
	const char *at = strrchr(value, '@');
	size_t n = 0;

	out[0] = '\0';
	if (at == NULL)
		return;
	for (at++; *at != '\0' && n + 1 < outlen; at++) {
		if (!(isalnum((unsigned char)*at) || *at == '.' || *at == '-'))
			break;
		out[n++] = (char)tolower((unsigned char)*at);
	}
	out[n] = '\0';
}

/* feed_headers - every header field to the verifier; returns where the body starts. */
static const char *feed_headers(struct dkimv *v, const char *p, const char *end, struct facts *f)
{
	while (p < end) {
		const char *next, *e = line_end(p, end, &next), *colon, *fend = next;
		char *name, *value;

		if (e == p)
			return next;  /* the empty line */
		/* the field goes on while the next line starts with whitespace */
		while (fend < end && (*fend == ' ' || *fend == '\t'))
			(void)line_end(fend, end, &fend);
		colon = memchr(p, ':', (size_t)(fend - p));
		if (colon == NULL) {
			p = fend;
			continue;
		}
		name = strndup(p, (size_t)(colon - p));
		/* value without the field's final line break */
		e = fend;
		if (e > colon + 1 && e[-1] == '\n')
			e--;
		if (e > colon + 1 && e[-1] == '\r')
			e--;
		value = strndup(colon + 1, (size_t)(e - colon - 1));
		if (name == NULL || value == NULL)
			exit(1);
		if (strcasecmp(name, "From") == 0 && !(f->known & FACT_FROM)) {
			from_domain(value, f->from_domain, sizeof f->from_domain);
			f->known |= FACT_FROM;
		}
		if (dkimv_header(v, name, value) != 0)
			exit(1);
		free(name);
		free(value);
		p = fend;
	}
	return end;
}

/* print_results - the lines described at the top. */
static void print_results(const struct dkimv *v, const struct facts *f, long long wait, const char *authserv)
{
	size_t n;
	const struct dkimv_sig *s = dkimv_results(v, &n);
	struct authres_hdr *hdr = authres_begin(authserv);
	char *ar = NULL;

	printf("dkim=%s aligned=%s eom_wait_ms=%lld\n", facts_dkim_name(f->dkim),
	       f->dkim_aligned ? "yes" : "no", wait);
	for (size_t i = 0; i < n; i++)
		printf("sig %zu result=%s d=%s s=%s a=%s b=%s bits=%u aligned=%s reason=%s\n", i + 1,
		       facts_dkim_name(s[i].result), s[i].domain, s[i].selector, s[i].algorithm, s[i].b,
		       s[i].key_bits, s[i].aligned ? "yes" : "no", s[i].reason);
	if (hdr)
		authres_dkim(hdr, f, s, n);
	if (authres_finish(hdr, &ar) == 0) {
		char *d = ar;

		/* unfold: each "\n\t" becomes one space */
		for (const char *p = ar; *p; p++) {
			if (p[0] == '\n' && p[1] == '\t')
				*d++ = ' ', p++;
			else
				*d++ = *p;
		}
		*d = '\0';
		printf("ar=%s\n", ar);
		free(ar);
	}
}

int main(int argc, char **argv)
{
	const char *dns = NULL, *path = NULL, *authserv = "mx.test";
	unsigned min_bits = 0, timeout_ms = 3000, body_delay_ms = 0;
	struct dkimv_lib_options lopt = { false, 0, NULL };
	struct resolver_options ropt = { NULL, 400, 2 };
	char err[256];
	struct facts f;
	const char *body, *end;
	char *msg;
	size_t len;
	long long t0;
	bool bad = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dns") == 0 && i + 1 < argc)
			dns = argv[++i];
		else if (strcmp(argv[i], "--min-bits") == 0 && i + 1 < argc)
			min_bits = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
			timeout_ms = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--body-delay-ms") == 0 && i + 1 < argc)
			body_delay_ms = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--authserv-id") == 0 && i + 1 < argc)
			authserv = argv[++i];
		else if (strcmp(argv[i], "--fixcrlf") == 0)
			lopt.fixcrlf = true;
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else
			bad = true;
	}
	if (bad || dns == NULL || path == NULL) {
		fprintf(stderr, "usage: dkimcheck --dns HOST:PORT [options] FILE\n");
		return 2;
	}
	msg = read_file(path, &len);
	if (msg == NULL) {
		perror(path);
		return 1;
	}
	end = msg + len;
	ropt.servers = dns;

	struct dkimv_lib *lib = dkimv_lib_new(&lopt, err, sizeof err);
	struct resolver *res;
	struct dkimv *v;
	struct timespec dl;

	if (lib == NULL || resolver_library_init() != 0) {
		fprintf(stderr, "dkimcheck: %s\n", lib == NULL ? err : "resolver_library_init failed");
		return 1;
	}
	res = resolver_new(&ropt, err, sizeof err);
	if (res == NULL) {
		fprintf(stderr, "dkimcheck: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	resolver_set_deadline(res, &dl);
	v = dkimv_new(lib, res, min_bits, "DKIMCHECK");
	if (v == NULL)
		return 1;
	memset(&f, 0, sizeof f);
	body = feed_headers(v, msg, end, &f);
	if (dkimv_eoh(v) != 0)
		return 1;
	if (body_delay_ms > 0) {
		struct timespec d = { body_delay_ms / 1000, (long)(body_delay_ms % 1000) * 1000000L };

		nanosleep(&d, NULL);
	}
	for (const char *p = body; p < end; p += CHUNK) {
		size_t n = (size_t)(end - p) < CHUNK ? (size_t)(end - p) : CHUNK;

		if (dkimv_body(v, (const unsigned char *)p, n) != 0)
			return 1;
	}
	t0 = now_ms();
	rc = dkimv_eom(v, &f);
	print_results(v, &f, now_ms() - t0, authserv);
	if (rc != 0)
		fprintf(stderr, "dkimcheck: internal error: %s\n", dkimv_error(v));
	dkimv_free(v);
	resolver_free(res);
	dkimv_lib_free(lib);
	resolver_library_cleanup();
	free(msg);
	return rc != 0 ? 1 : 0;
}
