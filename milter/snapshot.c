/*
 * snapshot.c - the current configuration pointer (see snapshot.h).
 *
 * The mutex only guards the pointer swap and the reference taken under
 * it; config_ref/config_unref are themselves thread-safe, and freeing
 * the previous snapshot happens outside the lock.
 */
#include <pthread.h>
#include <stddef.h>

#include "conf/config.h"
#include "milter/snapshot.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;

/* snapshot_set - swap in c, drop the old reference outside the lock */
void snapshot_set(struct config *c)
{
	struct config *old;

	pthread_mutex_lock(&lock);
	old = current;
	current = c;
	pthread_mutex_unlock(&lock);
	config_unref(old);
}

/* snapshot_get - a counted reference to the current snapshot */
struct config *snapshot_get(void)
{
	struct config *c;

	pthread_mutex_lock(&lock);
	c = current ? config_ref(current) : NULL;
	pthread_mutex_unlock(&lock);
	return c;
}

/* snapshot_clear - drop the current snapshot */
void snapshot_clear(void)
{
	snapshot_set(NULL);
}
