/*
 * conf_values.h - validators for string-valued parameters (used by the
 * parameter table in conf_params.c). Each returns 0 and a new heap copy
 * of the (possibly canonicalised) value in *out, which the caller owns;
 * *out is NULL only when out of memory. On a bad value: -1 and a reason
 * (without the parameter name) in why.
 */
#ifndef MXGUARD_CONF_VALUES_H
#define MXGUARD_CONF_VALUES_H

#include <stdbool.h>
#include <stddef.h>

/* conf_parse_uint - s[0..len) is 1-9 decimal digits; the value in *out. */
bool conf_parse_uint(const char *s, size_t len, unsigned *out);

/* conf_check_socket - libmilter spec: unix:/abs/path, local:/abs/path, inet:PORT[@HOST], inet6:PORT[@HOST]. */
int conf_check_socket(const char *in, char **out, char *why, size_t whylen);

/*
 * conf_check_servers - "host[:port],..." with IP-address hosts (IPv6 as
 * [addr]:port or bare addr); canonical form "ip:port,[ip6]:port" with
 * port 53 filled in, ready for ares_set_servers_ports_csv().
 */
int conf_check_servers(const char *in, char **out, char *why, size_t whylen);

/*
 * conf_check_metrics_listen - where the metrics endpoint listens: an
 * IPv4 loopback address (127.0.0.0/8) or [::1], and a port:
 * "127.0.0.1:9894", "[::1]:9894". Any other address is refused: the
 * endpoint has no authentication (see milter/metrics_http.h).
 */
int conf_check_metrics_listen(const char *in, char **out, char *why, size_t whylen);

/* conf_check_name - a user or group name (or numeric id); not looked up here. */
int conf_check_name(const char *in, char **out, char *why, size_t whylen);

/* conf_check_header_name - an RFC 5322 field name (printable ASCII but ":", 1..64). */
int conf_check_header_name(const char *in, char **out, char *why, size_t whylen);

/* conf_check_subject_tag - a Subject prefix: printable ASCII, 1..64 characters. */
int conf_check_subject_tag(const char *in, char **out, char *why, size_t whylen);

/* conf_check_path - an absolute path without control characters. */
int conf_check_path(const char *in, char **out, char *why, size_t whylen);

/* conf_check_authserv - RFC 8601 authserv-id, restricted to host-name characters. */
int conf_check_authserv(const char *in, char **out, char *why, size_t whylen);

#endif
