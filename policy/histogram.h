/*
 * histogram.h - a latency histogram that any thread may add to without a
 * lock, and a reader (a metrics scrape) may copy at any time.
 *
 * Counting only: nothing here logs, allocates or knows how the numbers
 * are shown (milter/metrics_text.h writes them in Prometheus's text
 * format). Durations are whole microseconds; every histogram has the same
 * buckets, histogram_bounds_us (100 us to 30 s: an answer from the cache
 * or a loopback resolver takes well under a millisecond, a remote name
 * server tens of ms, a message's DNS deadline at most 25 s).
 *
 * Each observation is one relaxed atomic add on its bucket and one on the
 * sum, so connection threads never wait for one another or for a reader.
 * A reader copies every bucket once (histogram_read); the count is the
 * sum of the copied buckets, so the cumulative buckets, +Inf and _count
 * derived from one copy always agree. The sum may include an observation
 * whose bucket the copy just missed (or the reverse): off by at most the
 * observations racing with the copy, as with any Prometheus client that
 * does not stop the world to read.
 *
 * A struct histogram is plain storage: static or zeroed memory is an empty
 * histogram; nothing to free.
 */
#ifndef MXGUARD_HISTOGRAM_H
#define MXGUARD_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* The finite upper bounds (Prometheus "le", inclusive); one more bucket holds what is above (+Inf). */
#define HISTOGRAM_NBOUNDS 17
extern const uint64_t histogram_bounds_us[HISTOGRAM_NBOUNDS];

struct histogram {
	atomic_ulong count[HISTOGRAM_NBOUNDS + 1];   /* per bucket, not cumulative */
	atomic_ullong sum_us;
};

/* A copy of a histogram, for writing out (bounds_us: histogram_bounds_us, or a test's own). */
struct histogram_view {
	const uint64_t *bounds_us;
	unsigned nbounds;
	unsigned long count[HISTOGRAM_NBOUNDS + 1];  /* per bucket, not cumulative; [nbounds] = above all */
	unsigned long long sum_us;
};

/* histogram_observe - count one duration of us microseconds (any thread). */
void histogram_observe(struct histogram *, uint64_t us);

/* histogram_read - copy h into out (any thread; see above for consistency). */
void histogram_read(const struct histogram *h, struct histogram_view *out);

/* histogram_elapsed_us - microseconds from start (CLOCK_MONOTONIC) to now; 0 if the clock went back. */
uint64_t histogram_elapsed_us(const struct timespec *start);

#endif
