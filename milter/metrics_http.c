/*
 * metrics_http.c - the one-thread HTTP responder for GET /metrics (see
 * metrics_http.h for what it accepts and why it is ours).
 *
 * State: the listening socket, an eventfd that stops the thread, and a
 * fixed array of client slots, all touched only by the responder thread
 * once it runs (open/start/stop run on the main thread before and after
 * it). A slot owns its socket and its answer buffer; close_client frees
 * both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "milter/log.h"
#include "milter/metrics.h"
#include "milter/metrics_http.h"
#include "milter/metrics_req.h"
#include "milter/metrics_text.h"

/* After accept() fails for want of descriptors, the listener rests this long (no busy loop). */
#define ACCEPT_PAUSE_MS 1000

struct client {
	int fd;                                /* -1: the slot is free */
	bool writing;                          /* the request is read; out is being sent */
	char req[METRICS_HTTP_REQUEST_MAX + 1];
	size_t req_len;
	char *out;                             /* the whole answer, owned */
	size_t out_len, out_off;
	long long deadline_ms;                 /* CLOCK_MONOTONIC ms: drop the client then */
};

static int listen_fd = -1, stop_fd = -1;
static pthread_t thread;
static bool running;
static struct client clients[METRICS_HTTP_CLIENTS];

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* parse_spec - "127.0.0.1:9894" or "[::1]:9894" (checked by conf_check_metrics_listen) */
static int parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port, *end;
	bool v6 = spec[0] == '[';
	size_t hlen;
	long p;

	end = v6 ? strchr(spec, ']') : strchr(spec, ':');
	if (!end || (v6 && end[1] != ':'))
		return -1;
	port = v6 ? end + 2 : end + 1;
	hlen = (size_t)(end - spec) - (v6 ? 1 : 0);
	if (hlen >= sizeof host)
		return -1;
	memcpy(host, spec + (v6 ? 1 : 0), hlen);
	host[hlen] = '\0';
	p = strtol(port, NULL, 10);
	if (p < 1 || p > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof *s6;
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)p);
	*len = sizeof *s4;
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

/* metrics_http_open - bind and listen */
int metrics_http_open(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	if (parse_spec(spec, &ss, &len) < 0) {
		snprintf(err, errlen, "metrics_listen: cannot read \"%s\"", spec);
		return -1;
	}
	listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0) {
		snprintf(err, errlen, "metrics_listen %s: socket: %s", spec, strerror(errno));
		return -1;
	}
	/* a restart must not wait for the last scrape's TIME_WAIT */
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(listen_fd, (struct sockaddr *)&ss, len) < 0 || listen(listen_fd, 16) < 0) {
		snprintf(err, errlen, "metrics_listen %s: %s", spec, strerror(errno));
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	for (unsigned i = 0; i < METRICS_HTTP_CLIENTS; i++)
		clients[i].fd = -1;
	return 0;
}

/* close_client - free the slot */
static void close_client(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->writing = false;
	c->req_len = c->out_len = c->out_off = 0;
}

/* set_answer - status line, headers and body as one buffer to send; false when out of memory */
static bool set_answer(struct client *c, const char *status, const char *extra, const char *type,
		       const char *body, size_t body_len)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, type, body_len, extra);

	if (n < 0 || (size_t)n >= sizeof head || !(c->out = malloc((size_t)n + body_len)))
		return false;
	memcpy(c->out, head, (size_t)n);
	memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + body_len;
	c->out_off = 0;
	c->writing = true;
	c->deadline_ms = now_ms() + METRICS_HTTP_WRITE_MS;
	return true;
}

/* answer_error - a short text answer */
static bool answer_error(struct client *c, const char *status, const char *extra)
{
	char body[96];
	int n = snprintf(body, sizeof body, "%s\n", status);

	return set_answer(c, status, extra, "text/plain; charset=utf-8", body, (size_t)n);
}

/* answer_metrics - render the metrics now */
static bool answer_metrics(struct client *c)
{
	struct mtext t = { 0 };
	bool ok;

	metrics_render(&t);
	if (t.failed || !t.buf) {
		mtext_free(&t);
		return answer_error(c, "500 Internal Server Error", "");
	}
	ok = set_answer(c, "200 OK", "", "text/plain; version=0.0.4; charset=utf-8", t.buf, t.len);
	mtext_free(&t);
	return ok;
}

/* answer_request - the answer to what c->req holds so far; true when there is none yet or it is set */
static bool answer_request(struct client *c)
{
	switch (metrics_req_judge(c->req, c->req_len, METRICS_HTTP_REQUEST_MAX)) {
	case METRICS_REQ_MORE:
		return true;
	case METRICS_REQ_METRICS:
		return answer_metrics(c);
	case METRICS_REQ_NOT_FOUND:
		return answer_error(c, "404 Not Found", "");
	case METRICS_REQ_METHOD:
		return answer_error(c, "405 Method Not Allowed", "Allow: GET\r\n");
	case METRICS_REQ_TOO_LARGE:
		return answer_error(c, "431 Request Header Fields Too Large", "");
	case METRICS_REQ_BAD:
		break;
	}
	return answer_error(c, "400 Bad Request", "");
}

/* on_readable - read what came; answer once the request is whole */
static void on_readable(struct client *c)
{
	ssize_t n = recv(c->fd, c->req + c->req_len, METRICS_HTTP_REQUEST_MAX - c->req_len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_client(c);           /* gone before asking anything whole */
		return;
	}
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	if (!answer_request(c))
		close_client(c);
}

/* on_writable - send more; close when all is sent */
static void on_writable(struct client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_client(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off == c->out_len) {
		shutdown(c->fd, SHUT_WR);
		close_client(c);
	}
}

/* accept_clients - take waiting connections into free slots; false when accept failed for want of resources */
static bool accept_clients(void)
{
	for (unsigned i = 0; i < METRICS_HTTP_CLIENTS; i++) {
		struct client *c = &clients[i];
		int fd;

		if (c->fd >= 0)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED;
		c->fd = fd;
		c->req_len = 0;
		c->req[0] = '\0';
		c->deadline_ms = now_ms() + METRICS_HTTP_READ_MS;
	}
	return true;
}

/* run - the responder thread */
static void *run(void *unused)
{
	long long pause_until = 0;

	(void)unused;
	for (;;) {
		struct pollfd pfd[METRICS_HTTP_CLIENTS + 2];
		struct client *who[METRICS_HTTP_CLIENTS + 2];
		long long now = now_ms(), next = -1;
		unsigned n = 0;
		bool has_free = false;
		int rc, timeout;

		pfd[n] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		who[n++] = NULL;
		for (unsigned i = 0; i < METRICS_HTTP_CLIENTS; i++) {
			struct client *c = &clients[i];

			if (c->fd < 0) {
				has_free = true;
				continue;
			}
			if (now >= c->deadline_ms) {
				close_client(c);   /* too slow: the slot is worth more than its request */
				has_free = true;
				continue;
			}
			if (next < 0 || c->deadline_ms < next)
				next = c->deadline_ms;
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = c->writing ? POLLOUT : POLLIN };
			who[n++] = c;
		}
		if (has_free && now >= pause_until) {
			pfd[n] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
			who[n++] = NULL;
		} else if (has_free && (next < 0 || pause_until < next)) {
			next = pause_until;
		}
		timeout = next < 0 ? -1 : (int)(next - now + 1);
		rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR) {
			log_err("metrics endpoint: poll: %s; it stops", strerror(errno));
			return NULL;
		}
		if (rc <= 0)
			continue;
		if (pfd[0].revents)
			return NULL;           /* metrics_http_stop */
		for (unsigned i = 1; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (!who[i]) {
				if (!accept_clients()) {
					log_warn("metrics endpoint: accept: %s; pausing for %d ms", strerror(errno),
						 ACCEPT_PAUSE_MS);
					pause_until = now_ms() + ACCEPT_PAUSE_MS;
				}
			} else if (who[i]->writing) {
				on_writable(who[i]);
			} else {
				on_readable(who[i]);
			}
		}
	}
}

/* metrics_http_start - the stop eventfd and the thread */
int metrics_http_start(char *err, size_t errlen)
{
	if (listen_fd < 0)
		return 0;
	stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (stop_fd < 0 || pthread_create(&thread, NULL, run, NULL) != 0) {
		snprintf(err, errlen, "cannot start the metrics thread");
		if (stop_fd >= 0)
			close(stop_fd);
		stop_fd = -1;
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	running = true;
	return 0;
}

/* metrics_http_stop - wake the thread, join it, close everything */
void metrics_http_stop(void)
{
	uint64_t one = 1;

	if (running) {
		if (write(stop_fd, &one, sizeof one) < 0)
			log_warn("metrics endpoint: cannot wake its thread: %s", strerror(errno));
		else
			pthread_join(thread, NULL);
		running = false;
	}
	for (unsigned i = 0; i < METRICS_HTTP_CLIENTS && listen_fd >= 0; i++)
		close_client(&clients[i]);
	if (stop_fd >= 0)
		close(stop_fd);
	if (listen_fd >= 0)
		close(listen_fd);
	stop_fd = listen_fd = -1;
}
