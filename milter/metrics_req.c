/*
 * metrics_req.c - see metrics_req.h.
 */
#include <stdbool.h>
#include <string.h>

#include "milter/metrics_req.h"

/* headers_ended - a blank line (CRLF CRLF, or LF LF from a sloppy client) */
static bool headers_ended(const char *req)
{
	return strstr(req, "\r\n\r\n") || strstr(req, "\n\n");
}

/* metrics_req_judge - see metrics_req.h */
enum metrics_req metrics_req_judge(char *req, size_t len, size_t cap)
{
	char *line_end, *sp1, *sp2, *query;

	/* a NUL byte ends the text early: such a request is no HTTP we answer */
	if (strlen(req) != len)
		return METRICS_REQ_BAD;
	if (!headers_ended(req))
		return len >= cap ? METRICS_REQ_TOO_LARGE : METRICS_REQ_MORE;
	line_end = strpbrk(req, "\r\n");   /* found: the headers ended */
	*line_end = '\0';
	sp1 = strchr(req, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == req || sp2 == sp1 + 1 || strchr(sp2 + 1, ' ') ||
	    (strcmp(sp2 + 1, "HTTP/1.0") != 0 && strcmp(sp2 + 1, "HTTP/1.1") != 0))
		return METRICS_REQ_BAD;
	*sp1 = *sp2 = '\0';
	/* a query string changes nothing (Prometheus sends none) */
	if ((query = strchr(sp1 + 1, '?')) != NULL)
		*query = '\0';
	if (strcmp(sp1 + 1, "/metrics") != 0)
		return METRICS_REQ_NOT_FOUND;
	if (strcmp(req, "GET") != 0)
		return METRICS_REQ_METHOD;
	return METRICS_REQ_METRICS;
}
