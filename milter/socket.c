/*
 * socket.c - milter socket set-up and privilege drop (see socket.h).
 *
 * Runs once, in the main thread, before any connection thread exists.
 * Nothing here allocates beyond libmilter's own copy of the spec.
 */
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf/config.h"
#include "milter/socket.h"

/* sock_unix_path - the path of a unix-domain spec */
const char *sock_unix_path(const char *spec)
{
	if (!spec)
		return NULL;
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* socket_owner - uid/gid the unix socket should get; -1 means "leave" */
static int socket_owner(const struct config *c, uid_t *uid, gid_t *gid,
			char *err, size_t errlen)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (c->user && geteuid() == 0) {
		const struct passwd *pw = getpwnam(c->user);

		if (!pw) {
			snprintf(err, errlen, "unknown user %s", c->user);
			return -1;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (c->socket_group) {
		const struct group *gr = getgrnam(c->socket_group);

		if (!gr) {
			snprintf(err, errlen, "unknown socket_group %s", c->socket_group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/*
 * tcp_nodelay_listeners - TCP_NODELAY on our listening TCP socket(s).
 *
 * Why: at end of message libmilter sends each header change and then the
 * final reply as separate small writes. With Nagle on, the final reply
 * waits for the MTA to acknowledge the header, and the MTA, expecting
 * more, delays that ACK (Linux: 40 ms): every accepted message stalled
 * ~40 ms. Linux hands TCP_NODELAY down to accepted sockets, and libmilter
 * keeps its listening descriptor to itself, so we find it: at start-up it
 * is the only listening socket this process has.
 */
static void tcp_nodelay_listeners(void)
{
	long maxfd = sysconf(_SC_OPEN_MAX);
	int on = 1;

	if (maxfd < 0 || maxfd > 4096)
		maxfd = 4096;
	for (int fd = 0; fd < maxfd; fd++) {
		int listening = 0, type = 0, family = 0;
		socklen_t len = sizeof listening;

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
			continue;
		len = sizeof type;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
			continue;
		len = sizeof family;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0 ||
		    (family != AF_INET && family != AF_INET6))
			continue;
		/* best effort: without it mail still flows, only slower */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	}
}

/* sock_open - bind, then set mode and owner of a unix socket */
int sock_open(const struct config *c, char *err, size_t errlen)
{
	const char *path = sock_unix_path(c->socket);
	uid_t uid;
	gid_t gid;

	if (!c->socket || !*c->socket) {
		snprintf(err, errlen, "no socket configured");
		return -1;
	}
	if (socket_owner(c, &uid, &gid, err, errlen) < 0)
		return -1;
	/* libmilter's API is not const-correct; it copies the string */
	if (smfi_setconn(c->socket) == MI_FAILURE) {
		snprintf(err, errlen, "bad socket specification %s", c->socket);
		return -1;
	}
	if (smfi_opensocket(true) == MI_FAILURE) {
		snprintf(err, errlen, "cannot listen on %s (in use, bad address or no permission?)",
			 c->socket);
		return -1;
	}
	if (!path) {
		tcp_nodelay_listeners();
		return 0;
	}
	if (chmod(path, c->socket_mode) < 0) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* priv_drop - become user when root */
int priv_drop(const char *user, char *err, size_t errlen)
{
	const struct passwd *pw;

	if (!user || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "unknown user %s", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "cannot switch to user %s: %s", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "could regain root after switching to %s", user);
		return -1;
	}
	return 0;
}
