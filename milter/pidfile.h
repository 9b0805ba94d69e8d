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

/* pidfile_create - write our pid to path and lock it; 0, or -1 with the reason in err. */
int pidfile_create(const char *path, char *err, size_t errlen);

/* pidfile_remove - unlink and close it (best effort; the directory may not be writable after dropping privileges). */
void pidfile_remove(void);

#endif
