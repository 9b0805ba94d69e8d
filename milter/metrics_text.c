/*
 * metrics_text.c - the Prometheus text format writer (see metrics_text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/metrics_text.h"
#include "policy/utf8.h"

/* mtext_free - back to empty */
void mtext_free(struct mtext *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
	t->failed = false;
}

/* mtext_put - grow by doubling, up to MTEXT_MAX */
void mtext_put(struct mtext *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 16384;
		char *nb;

		while (cap < t->len + n + 1 && cap <= MTEXT_MAX)
			cap *= 2;
		if (cap < t->len + n + 1 || cap > MTEXT_MAX || !(nb = realloc(t->buf, cap))) {
			t->failed = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

/* puts_ - a C string */
static void puts_(struct mtext *t, const char *s)
{
	mtext_put(t, s, strlen(s));
}

/* mtext_family - HELP (\ and newline escaped) and TYPE */
void mtext_family(struct mtext *t, const char *name, const char *type, const char *help)
{
	puts_(t, "# HELP ");
	puts_(t, name);
	mtext_put(t, " ", 1);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			mtext_put(t, "\\\\", 2);
		else if (*p == '\n')
			mtext_put(t, "\\n", 2);
		else
			mtext_put(t, p, 1);
	}
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	mtext_put(t, " ", 1);
	puts_(t, type);
	mtext_put(t, "\n", 1);
}

/* escape_value - one label value, escaped, appended at buf[*len]; false when cap is too small */
static bool escape_value(char *buf, size_t cap, size_t *len, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;

	while (*p) {
		char tmp[4];
		const char *out = tmp;
		size_t n = utf8_seq_len(p), adv = n ? n : 1;

		if (n == 0) {
			out = "\xef\xbf\xbd";   /* U+FFFD */
			n = 3;
		} else if (*p == '\\' || *p == '"') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			n = 2;
		} else if (*p == '\n') {
			out = "\\n";
			n = 2;
		} else {
			out = (const char *)p;
		}
		if (*len + n + 1 > cap)
			return false;
		memcpy(buf + *len, out, n);
		*len += n;
		p += adv;
	}
	buf[*len] = '\0';
	return true;
}

/* mtext_labels - name="escaped value",... */
int mtext_labels(char *buf, size_t cap, const char *const *names, const char *const *values, unsigned n)
{
	size_t len = 0;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);

		if (len + nl + (i ? 1 : 0) + 3 > cap)
			goto too_long;
		if (i)
			buf[len++] = ',';
		memcpy(buf + len, names[i], nl);
		len += nl;
		buf[len++] = '=';
		buf[len++] = '"';
		if (!escape_value(buf, cap, &len, values[i]) || len + 2 > cap)
			goto too_long;
		buf[len++] = '"';
		buf[len] = '\0';
	}
	return (int)len;
too_long:
	buf[0] = '\0';
	return -1;
}

/* mtext_seconds - "%llu.%06llu" less its trailing zeros */
const char *mtext_seconds(unsigned long long us, char *buf, size_t cap)
{
	size_t n;

	snprintf(buf, cap, "%llu.%06llu", us / 1000000ULL, us % 1000000ULL);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

/* sample_text - name{labels} value\n with value already text */
static void sample_text(struct mtext *t, const char *name, const char *labels, const char *value)
{
	puts_(t, name);
	if (labels && *labels) {
		mtext_put(t, "{", 1);
		puts_(t, labels);
		mtext_put(t, "}", 1);
	}
	mtext_put(t, " ", 1);
	puts_(t, value);
	mtext_put(t, "\n", 1);
}

/* mtext_sample - an integer value */
void mtext_sample(struct mtext *t, const char *name, const char *labels, unsigned long long value)
{
	char num[32];

	snprintf(num, sizeof num, "%llu", value);
	sample_text(t, name, labels, num);
}

/* mtext_sample_us - microseconds as seconds */
void mtext_sample_us(struct mtext *t, const char *name, const char *labels, unsigned long long us)
{
	char num[40];

	sample_text(t, name, labels, mtext_seconds(us, num, sizeof num));
}

/* bucket_line - name_bucket{labels,le="bound"} cumulative */
static void bucket_line(struct mtext *t, const char *name, const char *labels, const char *le,
			unsigned long long cumulative)
{
	char num[32];

	puts_(t, name);
	puts_(t, "_bucket{");
	if (labels && *labels) {
		puts_(t, labels);
		mtext_put(t, ",", 1);
	}
	puts_(t, "le=\"");
	puts_(t, le);
	snprintf(num, sizeof num, "\"} %llu\n", cumulative);
	puts_(t, num);
}

/* mtext_histogram - cumulative buckets from the per-bucket copy; +Inf = _count */
void mtext_histogram(struct mtext *t, const char *name, const char *labels, const struct histogram_view *h)
{
	unsigned long long cum = 0;
	char le[40], series[128];

	for (unsigned i = 0; i < h->nbounds; i++) {
		cum += h->count[i];
		bucket_line(t, name, labels, mtext_seconds(h->bounds_us[i], le, sizeof le), cum);
	}
	cum += h->count[h->nbounds];
	bucket_line(t, name, labels, "+Inf", cum);
	snprintf(series, sizeof series, "%s_sum", name);
	mtext_sample_us(t, series, labels, h->sum_us);
	snprintf(series, sizeof series, "%s_count", name);
	mtext_sample(t, series, labels, cum);
}
