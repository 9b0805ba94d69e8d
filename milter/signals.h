/*
 * signals.h - signal handling without async handlers.
 *
 * libmilter runs its own sigwait thread that treats SIGHUP as "stop".
 * To get SIGHUP as "reload", the main thread blocks the signals before
 * any thread exists (every thread inherits the mask), runs smfi_main on
 * a thread of its own, and itself sits in sigwait: Linux hands a
 * process-directed signal to the thread-group leader first when that
 * thread is waiting for it, so the main thread sees SIGHUP, not
 * libmilter. The reload itself runs on a worker thread, so the main
 * thread is back in sigwait at once and a second SIGHUP during a slow
 * reload is not stolen by libmilter's thread.
 */
#ifndef MXGUARD_SIGNALS_H
#define MXGUARD_SIGNALS_H

/* signals_block - block SIGHUP, SIGTERM, SIGINT in the calling (main) thread; call before creating threads. 0 or -1. */
int signals_block(void);

/* signals_reload_fn - run on the reload worker for each SIGHUP (never two at once). */
typedef void signals_reload_fn(void *arg);

/*
 * signals_run - in the main thread: wait for signals until SIGTERM or
 * SIGINT (or signals_wake); each SIGHUP calls reload(arg) on the worker.
 * Returns the signal that stopped it.
 */
int signals_run(signals_reload_fn *reload, void *arg);

/* signals_wake - make signals_run return (from another thread, e.g. when smfi_main ended by itself). */
void signals_wake(void);

#endif
