/*
 * histogram.c - lock-free latency histograms (see histogram.h).
 */
#include "policy/histogram.h"

const uint64_t histogram_bounds_us[HISTOGRAM_NBOUNDS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000,
};

/* histogram_observe - the first bucket whose bound is >= us (le is inclusive) */
void histogram_observe(struct histogram *h, uint64_t us)
{
	unsigned i = 0;

	while (i < HISTOGRAM_NBOUNDS && us > histogram_bounds_us[i])
		i++;
	atomic_fetch_add_explicit(&h->count[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

/* histogram_read - one load per bucket */
void histogram_read(const struct histogram *h, struct histogram_view *out)
{
	out->bounds_us = histogram_bounds_us;
	out->nbounds = HISTOGRAM_NBOUNDS;
	for (unsigned i = 0; i <= HISTOGRAM_NBOUNDS; i++)
		out->count[i] = atomic_load_explicit(&h->count[i], memory_order_relaxed);
	out->sum_us = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
}

/* histogram_elapsed_us - since start, never negative */
uint64_t histogram_elapsed_us(const struct timespec *start)
{
	struct timespec now;
	long long us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (long long)(now.tv_sec - start->tv_sec) * 1000000LL + (now.tv_nsec - start->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}
