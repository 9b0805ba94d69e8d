/*
 * pidfile.h - the daemon's pid file, locked while the daemon runs.
 *
 * The file stays open with an exclusive flock(2) for the life of the
 * process, so a second mxguard on the same pid file fails to start
 * instead of overwriting it, and a stale file left by a crash is reused.
 */
#ifndef MXGUARD_PIDFILE_H
#define MXGUARD_PIDFILE_H

#include <stddef.h>

/*
 * pidfile_lock - open and lock path; 0, or -1 with the reason in err
 * (e.g. another mxguard holds it). Call before opening the socket, so a
 * second instance never removes the first one's unix socket. The lock
 * survives fork (daemon()).
 */
int pidfile_lock(const char *path, char *err, size_t errlen);

/* pidfile_write - write our (current) pid into the locked file; 0 or -1 with err. */
int pidfile_write(char *err, size_t errlen);

/* pidfile_remove - unlink and close it (best effort; the directory may not be writable after dropping privileges). */
void pidfile_remove(void);

#endif
