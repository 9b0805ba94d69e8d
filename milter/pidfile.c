/*
 * pidfile.c - create, lock and remove the pid file (see pidfile.h).
 *
 * Owns one static fd and a copy of the path; both released by
 * pidfile_remove().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "milter/pidfile.h"

static int pid_fd = -1;
static char *pid_path;

/* pidfile_lock - open and take the exclusive lock */
int pidfile_lock(const char *path, char *err, size_t errlen)
{
	char buf[32];
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t got = read(fd, buf, sizeof buf - 1);

		buf[got > 0 ? got : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(err, errlen, "pid file %s is locked: mxguard already running (pid %s)",
			 path, buf[0] ? buf : "?");
		close(fd);
		return -1;
	}
	pid_path = strdup(path);
	pid_fd = fd;
	return 0;
}

/* pidfile_write - truncate, write our pid */
int pidfile_write(char *err, size_t errlen)
{
	char buf[32];
	int n;

	if (pid_fd < 0)
		return 0;
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(pid_fd, 0) < 0 || pwrite(pid_fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "cannot write pid file %s: %s", pid_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* pidfile_remove - best effort unlink, then release the lock */
void pidfile_remove(void)
{
	if (pid_fd < 0)
		return;
	if (pid_path)
		(void)unlink(pid_path);
	free(pid_path);
	pid_path = NULL;
	close(pid_fd);
	pid_fd = -1;
}
