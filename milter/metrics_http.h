/*
 * metrics_http.h - the Prometheus endpoint: GET /metrics on a loopback
 * listener (metrics_listen), answered by one thread of its own.
 *
 * Why a responder of our own and not libmicrohttpd (Debian has it): this
 * endpoint answers one request, GET /metrics, on loopback, a few times a
 * minute. libmicrohttpd would add a library (and GnuTLS's development
 * packages to `make deps`), its own threads and an HTTP/1.1 parser with
 * far more surface than that one request needs. The responder here is one
 * thread and one poll() loop:
 *   - the request (line and headers) must arrive within
 *     METRICS_HTTP_READ_MS of the connection and fit in
 *     METRICS_HTTP_REQUEST_MAX bytes (else 408-less close / 431), and the
 *     answer must be taken within METRICS_HTTP_WRITE_MS: a slow or silent
 *     client is dropped, never waited for;
 *   - at most METRICS_HTTP_CLIENTS connections at once; more wait in the
 *     listen backlog until one ends;
 *   - GET /metrics (a query string is ignored) answers 200 with
 *     Content-Type: text/plain; version=0.0.4; another path 404, another
 *     method 405, anything unreadable 400; always Connection: close.
 * The scrape renders metrics_render()'s snapshot on this thread:
 * connection threads never wait for it.
 *
 * Life: metrics_http_open binds (as root, before the privilege drop and
 * before detaching), metrics_http_start starts the thread (after
 * signals_block, so it never takes SIGHUP/SIGTERM), metrics_http_stop
 * stops it and closes every socket. One endpoint per process.
 */
#ifndef MXGUARD_METRICS_HTTP_H
#define MXGUARD_METRICS_HTTP_H

#include <stddef.h>

#define METRICS_HTTP_CLIENTS 8
#define METRICS_HTTP_REQUEST_MAX 4096
#define METRICS_HTTP_READ_MS 2000
#define METRICS_HTTP_WRITE_MS 10000

/* metrics_http_open - listen on spec ("127.0.0.1:9894", "[::1]:9894"); 0, or -1 with err. */
int metrics_http_open(const char *spec, char *err, size_t errlen);

/* metrics_http_start - the responder thread; 0, or -1 with err (the socket is closed then). */
int metrics_http_start(char *err, size_t errlen);

/* metrics_http_stop - stop the thread and close the sockets; nothing happens when not open. */
void metrics_http_stop(void);

#endif
