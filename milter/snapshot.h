/*
 * snapshot.h - the daemon's current configuration snapshot.
 *
 * One mutex-protected pointer. Each message takes its own reference at
 * MAIL FROM (snapshot_get) and drops it when the message ends, so a
 * SIGHUP reload (snapshot_swap) never changes the rules under a message
 * already in progress; the old snapshot is freed when its last message
 * is done.
 */
#ifndef MXGUARD_SNAPSHOT_H
#define MXGUARD_SNAPSHOT_H

struct config;

/* snapshot_set - install c as current; takes over the caller's reference; drops the previous one. */
void snapshot_set(struct config *c);

/* snapshot_get - a new reference to the current snapshot (caller: config_unref); NULL before the first set. */
struct config *snapshot_get(void);

/* snapshot_clear - drop the current snapshot (at exit). */
void snapshot_clear(void);

#endif
