/*
 * socket.h - open the milter listening socket and drop root privileges.
 *
 * The socket spec is libmilter's: "inet:PORT@HOST", "inet6:PORT@HOST",
 * "unix:/path" (also "local:/path" or a bare "/path"). A stale unix socket
 * is removed before binding; the new one gets the configured mode and
 * group so the MTA's user can connect. The spec is read once at start-up:
 * changing it needs a restart (a reload only logs that).
 */
#ifndef MXGUARD_SOCKET_H
#define MXGUARD_SOCKET_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* sock_unix_path - the file name of a unix socket spec, or NULL for inet specs. Points into spec. */
const char *sock_unix_path(const char *spec);

/*
 * sock_open - bind the socket of c (smfi_register must have run). Returns
 * 0, or -1 with the reason in err.
 */
int sock_open(const struct config *c, char *err, size_t errlen);

/*
 * priv_drop - when running as root and user is set, switch to that user
 * (its primary group and supplementary groups). Returns 0 (also when
 * nothing was to be done), -1 with the reason in err.
 */
int priv_drop(const char *user, char *err, size_t errlen);

#endif
