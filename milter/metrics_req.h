/*
 * metrics_req.h - judging the one request the metrics endpoint answers
 * (GET /metrics), from the bytes read so far. Pure: no sockets, no
 * allocation; milter/metrics_http.c maps the outcome to an answer, and
 * tests/fuzz/fuzz_metrics_req.c feeds it whatever a client could send.
 */
#ifndef MXGUARD_METRICS_REQ_H
#define MXGUARD_METRICS_REQ_H

#include <stddef.h>

enum metrics_req {
	METRICS_REQ_MORE = 0,    /* not whole yet: read more */
	METRICS_REQ_METRICS,     /* GET /metrics (any query string): 200 */
	METRICS_REQ_BAD,         /* not an HTTP/1.x request line, or a NUL byte: 400 */
	METRICS_REQ_NOT_FOUND,   /* another path: 404 */
	METRICS_REQ_METHOD,      /* /metrics with another method: 405 */
	METRICS_REQ_TOO_LARGE,   /* cap bytes and the headers have not ended: 431 */
};

/*
 * metrics_req_judge - req holds the len bytes read so far (len <= cap)
 * followed by a NUL (req[len] == '\0'). The request is whole once its
 * headers end (a blank line; a bare LF is tolerated). req may be changed.
 */
enum metrics_req metrics_req_judge(char *req, size_t len, size_t cap);

#endif
