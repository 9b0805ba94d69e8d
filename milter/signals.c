/*
 * signals.c - the main thread's sigwait loop and the reload worker (see
 * signals.h for why it is built this way).
 *
 * State: the main thread's id (for signals_wake) and the worker's
 * request flags, guarded by one mutex.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "milter/log.h"
#include "milter/signals.h"

static pthread_t main_thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool reload_pending, worker_stop;
static signals_reload_fn *reload_fn;
static void *reload_arg;

/* wait_set - the signals the main thread waits for */
static void wait_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* signals_block - inherited by every thread created afterwards */
int signals_block(void)
{
	sigset_t set;

	wait_set(&set);
	main_thread = pthread_self();
	return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* reload_worker - runs one reload per request, coalescing bursts */
static void *reload_worker(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!reload_pending && !worker_stop)
			pthread_cond_wait(&cond, &lock);
		if (worker_stop)
			break;
		reload_pending = false;
		pthread_mutex_unlock(&lock);
		reload_fn(reload_arg);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* signals_run - sigwait until told to stop */
int signals_run(signals_reload_fn *reload, void *arg)
{
	pthread_t worker;
	bool have_worker;
	sigset_t set;
	int sig = SIGTERM;

	reload_fn = reload;
	reload_arg = arg;
	have_worker = pthread_create(&worker, NULL, reload_worker, NULL) == 0;
	if (!have_worker)
		log_err("cannot start the reload thread: SIGHUP will reload synchronously");
	wait_set(&set);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		if (!have_worker) {
			reload(arg);
			continue;
		}
		pthread_mutex_lock(&lock);
		reload_pending = true;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&lock);
	}
	if (have_worker) {
		pthread_mutex_lock(&lock);
		worker_stop = true;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&lock);
		pthread_join(worker, NULL);
	}
	return sig;
}

/* signals_wake - a thread-directed SIGTERM reaches only the main thread */
void signals_wake(void)
{
	pthread_kill(main_thread, SIGTERM);
}
