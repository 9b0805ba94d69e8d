/*
 * conf_values.c - validators for the string-valued parameters: milter
 * socket specs, DNS server lists, user/group names, paths, authserv-id.
 * Each returns 0 with a new heap copy in *out (owned by the caller; NULL
 * only when out of memory), or -1 with a reason in why.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf/conf_values.h"

/* conf_parse_uint - all digits, at most 9 of them */
bool conf_parse_uint(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* check_port - decimal 1..65535 */
static bool check_port(const char *s, size_t len)
{
	unsigned v;

	return conf_parse_uint(s, len, &v) && v >= 1 && v <= 65535 && s[0] != '0';
}

/* check_hostname - LDH labels, for the host part of inet: sockets */
static bool check_hostname(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* conf_check_socket - unix:/path, local:/path, inet:PORT[@HOST], inet6:PORT[@HOST] */
int conf_check_socket(const char *in, char **out, char *why, size_t whylen)
{
	const char *form = "expected unix:/path, inet:PORT@HOST or inet6:PORT@HOST";
	const char *colon = strchr(in, ':');

	if (colon && (strncmp(in, "unix:", 5) == 0 || strncmp(in, "local:", 6) == 0)) {
		const char *path = colon + 1;
		if (path[0] != '/') {
			snprintf(why, whylen, "unix socket path must be absolute, got \"%s\"", path);
			return -1;
		}
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(why, whylen, "unix socket path is longer than %zu bytes",
				 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return -1;
		}
		if (strcspn(path, "\t\r\n ") != strlen(path)) {
			snprintf(why, whylen, "unix socket path contains white space");
			return -1;
		}
	} else if (colon && (strncmp(in, "inet:", 5) == 0 || strncmp(in, "inet6:", 6) == 0)) {
		bool v6 = in[4] == '6';
		const char *port = colon + 1, *at = strchr(port, '@');
		size_t plen = at ? (size_t)(at - port) : strlen(port);
		unsigned char raw[16];
		if (!check_port(port, plen)) {
			snprintf(why, whylen, "bad port in \"%s\" (expected 1..65535)", in);
			return -1;
		}
		if (at && !(inet_pton(v6 ? AF_INET6 : AF_INET, at + 1, raw) == 1 || check_hostname(at + 1))) {
			snprintf(why, whylen, "bad host in \"%s\" (expected an %s address or a host name)",
				 in, v6 ? "IPv6" : "IPv4");
			return -1;
		}
	} else {
		snprintf(why, whylen, "%s, got \"%s\"", form, in);
		return -1;
	}
	*out = strdup(in);
	return 0;
}

/* server_one - validate one host[:port] and append its canonical "ip:port" form to buf */
static int server_one(const char *s, size_t len, char *buf, size_t buflen, char *why, size_t whylen)
{
	char item[INET6_ADDRSTRLEN + 16], *host = item, *port = NULL, *c;
	unsigned char raw[16];
	bool v6 = false;

	if (len >= sizeof(item))
		goto bad;
	memcpy(item, s, len);
	item[len] = '\0';
	if (item[0] == '[') {
		char *close = strchr(item, ']');
		if (!close)
			goto bad;
		*close = '\0';
		host = item + 1;
		v6 = true;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			goto bad;
	} else if ((c = strchr(item, ':')) != NULL) {
		if (strchr(c + 1, ':')) {
			v6 = true;                  /* a bare IPv6 address: no port possible */
		} else {
			*c = '\0';
			port = c + 1;
		}
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, raw) != 1)
		goto bad;
	if (port && !check_port(port, strlen(port))) {
		snprintf(why, whylen, "bad port in \"%.*s\" (expected 1..65535)", (int)len, s);
		return -1;
	}
	size_t n = strlen(buf);
	snprintf(buf + n, buflen - n, "%s%s%s%s:%s", n ? "," : "", v6 ? "[" : "", host,
		 v6 ? "]" : "", port ? port : "53");
	return 0;
bad:
	snprintf(why, whylen, "expected an IP address with an optional port "
		 "(192.0.2.1:53, [2001:db8::1]:53), got \"%.*s\"", (int)(len > 80 ? 80 : len), s);
	return -1;
}

/* conf_check_servers - comma-separated host[:port] list, canonicalised to "ip:port,..." for c-ares */
int conf_check_servers(const char *in, char **out, char *why, size_t whylen)
{
	size_t cap = strlen(in) * 2 + 64;
	char *buf = calloc(1, cap);
	const char *p = in;

	if (!buf) {
		*out = NULL;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len && server_one(p, len, buf, cap, why, whylen) != 0) {
			free(buf);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*out = buf;
	return 0;
}

/*
 * conf_check_metrics_listen - loopback only, and no opt-in for anything
 * else: the endpoint answers anyone who can connect, without
 * authentication or TLS, and a listener on a public address is a leak
 * waiting to happen. An operator who wants it scraped from elsewhere puts
 * a proxy with authentication (or an SSH tunnel) in front of it.
 */
int conf_check_metrics_listen(const char *in, char **out, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *h = in, *port;
	unsigned char raw[16];
	size_t hlen;
	bool v6 = in[0] == '[';

	if (v6) {
		const char *close = strchr(in, ']');
		if (!close || close[1] != ':')
			goto bad;
		h = in + 1;
		hlen = (size_t)(close - h);
		port = close + 2;
	} else {
		const char *colon = strchr(in, ':');
		if (!colon || strchr(colon + 1, ':'))
			goto bad;
		hlen = (size_t)(colon - in);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof host)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, raw) != 1)
		goto bad;
	if (!check_port(port, strlen(port))) {
		snprintf(why, whylen, "bad port \"%.20s\" (expected 1..65535)", port);
		return -1;
	}
	if (v6 ? memcmp(raw, &in6addr_loopback, sizeof in6addr_loopback) != 0 : raw[0] != 127) {
		/* (apply_scalar's 200 bytes hold this with the longest IPv6 address) */
		snprintf(why, whylen, "%s is not a loopback address: the endpoint has no authentication, so only "
			 "127.0.0.0/8 and [::1] (a proxy in front of it can serve others)", host);
		return -1;
	}
	*out = strdup(in);
	return 0;
bad:
	snprintf(why, whylen, "expected a loopback address and a port, 127.0.0.1:9894 or [::1]:9894, got \"%.80s\"", in);
	return -1;
}

/* conf_check_name - a user or group name, or a numeric id */
int conf_check_name(const char *in, char **out, char *why, size_t whylen)
{
	size_t n = strlen(in);

	if (n == 0 || n > 32 || in[0] == '-' || strspn(in, "abcdefghijklmnopqrstuvwxyz"
						      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-$") != n) {
		snprintf(why, whylen, "\"%.40s\" is not a valid user or group name", in);
		return -1;
	}
	*out = strdup(in);
	return 0;
}

/* short_printable - 1..64 printable ASCII characters, none of them in refused */
static bool short_printable(const char *in, const char *refused)
{
	size_t n = strlen(in);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)in[i] < 0x20 || (unsigned char)in[i] >= 0x7f || strchr(refused, in[i]))
			return false;
	return n > 0 && n <= 64;
}

/* conf_check_header_name - see conf_values.h; the field the quarantine action adds */
int conf_check_header_name(const char *in, char **out, char *why, size_t whylen)
{
	if (!short_printable(in, " :")) {
		snprintf(why, whylen, "\"%.40s\" is not a header field name", in);
		return -1;
	}
	*out = strdup(in);
	return 0;
}

/* conf_check_subject_tag - see conf_values.h; spaces allowed, controls and 8-bit not */
int conf_check_subject_tag(const char *in, char **out, char *why, size_t whylen)
{
	if (!short_printable(in, "")) {
		snprintf(why, whylen, "a Subject tag must be 1 to 64 printable ASCII characters");
		return -1;
	}
	*out = strdup(in);
	return 0;
}

/* conf_check_path - an absolute path without control characters */
int conf_check_path(const char *in, char **out, char *why, size_t whylen)
{
	if (in[0] != '/') {
		snprintf(why, whylen, "expected an absolute path, got \"%.80s\"", in);
		return -1;
	}
	for (const unsigned char *c = (const unsigned char *)in; *c; c++)
		if (*c < 0x20 || *c == 0x7f) {
			snprintf(why, whylen, "path contains a control character");
			return -1;
		}
	*out = strdup(in);
	return 0;
}

/* conf_check_authserv - RFC 8601 authserv-id; we take a host-name-like token */
int conf_check_authserv(const char *in, char **out, char *why, size_t whylen)
{
	size_t n = strlen(in);

	if (n == 0 || n > 253 || strspn(in, "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != n) {
		snprintf(why, whylen, "expected a host name like mx.example.com (letters, digits, '.', '-', '_'), got \"%.80s\"", in);
		return -1;
	}
	*out = strdup(in);
	return 0;
}
