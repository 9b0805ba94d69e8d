/*
 * metrics_text.h - Prometheus's text exposition format (version 0.0.4),
 * written by hand: Debian 12 has no C client library, and the format is
 * a few lines of rules.
 *
 *   # HELP name text          (text: \ and newline escaped)
 *   # TYPE name counter|gauge|histogram
 *   name{label="value",...} 123
 *   name_bucket{...,le="0.005"} 7     cumulative, ending with le="+Inf"
 *   name_sum{...} 0.0123              seconds
 *   name_count{...} 7                 = the +Inf bucket
 *
 * Label values escape \ as \\, " as \" and a newline as \n; a byte that
 * is not part of valid UTF-8 becomes U+FFFD (the format is UTF-8).
 *
 * struct mtext is a growing buffer the caller owns (mtext_free). Any
 * allocation failure, or growth past MTEXT_MAX, sets failed and stops
 * output: the caller answers an error rather than a cut-off scrape.
 * Nothing here is shared or locked; no libmilter.
 */
#ifndef MXGUARD_METRICS_TEXT_H
#define MXGUARD_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/histogram.h"

#define MTEXT_MAX (8u << 20)   /* no scrape of ours comes near this; a bug must not eat memory */

struct mtext {
	char *buf;                 /* NUL-terminated when len > 0; owned */
	size_t len, cap;
	bool failed;
};

/* mtext_free - release the buffer; the struct may be used again (empty). */
void mtext_free(struct mtext *);

/* mtext_put - append n bytes. */
void mtext_put(struct mtext *, const char *s, size_t n);

/* mtext_family - the HELP and TYPE lines of a metric family. */
void mtext_family(struct mtext *, const char *name, const char *type, const char *help);

/*
 * mtext_labels - render n label pairs (names[i], values[i]) as
 * name="value",... with values escaped, into buf. Returns the length, or
 * -1 (buf "") when it does not fit in cap.
 */
int mtext_labels(char *buf, size_t cap, const char *const *names, const char *const *values, unsigned n);

/* mtext_sample - one line: name, {labels} unless labels is NULL or "", the value. */
void mtext_sample(struct mtext *, const char *name, const char *labels, unsigned long long value);

/* mtext_sample_us - the same with a value in microseconds, written as seconds ("1.5"). */
void mtext_sample_us(struct mtext *, const char *name, const char *labels, unsigned long long us);

/*
 * mtext_histogram - the _bucket (cumulative, then +Inf), _sum (seconds)
 * and _count lines of one histogram copy, each with labels (NULL or ""
 * for none) before le.
 */
void mtext_histogram(struct mtext *, const char *name, const char *labels, const struct histogram_view *h);

/* mtext_seconds - microseconds as exact decimal seconds without trailing zeros ("0.00025", "30"); returns buf. */
const char *mtext_seconds(unsigned long long us, char *buf, size_t cap);

#endif
