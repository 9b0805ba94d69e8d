/*
 * test_metrics.c - the Prometheus text writer (milter/metrics_text.c:
 * label escaping, HELP escaping, cumulative histogram buckets, +Inf,
 * _sum and _count), the histogram and DNS counters it is fed from
 * (policy/histogram.c, policy/dns_stats.c), and the metrics_listen
 * setting (loopback only, FILE:LINE on a bad one).
 *
 * The writer lives in milter/ but uses no libmilter: the Makefile links
 * build/milter/metrics_text.o into this binary alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_values.h"
#include "conf/config.h"
#include "milter/metrics_text.h"
#include "policy/dns_stats.h"
#include "policy/histogram.h"

/* labels_of - render one label pair into a static buffer */
static const char *labels_of(const char *name, const char *value)
{
	static char buf[256];
	const char *const names[] = { name }, *const values[] = { value };

	assert_true(mtext_labels(buf, sizeof buf, names, values, 1) >= 0);
	return buf;
}

static void test_label_escaping(void **state)
{
	(void)state;
	/* \ and " and a newline escaped; everything else as it is */
	assert_string_equal(labels_of("rule", "a\"b\\c\nd"), "rule=\"a\\\"b\\\\c\\nd\"");
	assert_string_equal(labels_of("rule", "null-mx"), "rule=\"null-mx\"");
	assert_string_equal(labels_of("rule", ""), "rule=\"\"");
	/* valid UTF-8 passes; a stray byte becomes U+FFFD; a cut sequence too */
	assert_string_equal(labels_of("v", "caf\xc3\xa9"), "v=\"caf\xc3\xa9\"");
	assert_string_equal(labels_of("v", "a\xff" "b"), "v=\"a\xef\xbf\xbd" "b\"");
	assert_string_equal(labels_of("v", "x\xc3"), "v=\"x\xef\xbf\xbd\"");
	/* an overlong form is not UTF-8 */
	assert_string_equal(labels_of("v", "\xc0\xaf"), "v=\"\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_labels_several_and_too_long(void **state)
{
	const char *const names[] = { "action", "rule", "dry_run" };
	const char *const values[] = { "reject", "spf\"fail", "no" };
	char buf[64], tiny[12];

	(void)state;
	assert_int_equal(mtext_labels(buf, sizeof buf, names, values, 3),
			 (int)strlen("action=\"reject\",rule=\"spf\\\"fail\",dry_run=\"no\""));
	assert_string_equal(buf, "action=\"reject\",rule=\"spf\\\"fail\",dry_run=\"no\"");
	/* does not fit: -1 and an empty buffer, never a cut label set */
	assert_int_equal(mtext_labels(tiny, sizeof tiny, names, values, 3), -1);
	assert_string_equal(tiny, "");
	/* the escape itself must fit too */
	assert_int_equal(mtext_labels(tiny, 10, (const char *const[]){ "a" }, (const char *const[]){ "\"\"\"" }, 1), -1);
}

static void test_seconds(void **state)
{
	char b[40];

	(void)state;
	assert_string_equal(mtext_seconds(0, b, sizeof b), "0");
	assert_string_equal(mtext_seconds(100, b, sizeof b), "0.0001");
	assert_string_equal(mtext_seconds(250, b, sizeof b), "0.00025");
	assert_string_equal(mtext_seconds(2500000, b, sizeof b), "2.5");
	assert_string_equal(mtext_seconds(30000000, b, sizeof b), "30");
	assert_string_equal(mtext_seconds(1234567, b, sizeof b), "1.234567");
	assert_string_equal(mtext_seconds(1796000000123456ULL, b, sizeof b), "1796000000.123456");
}

static void test_family_and_samples(void **state)
{
	struct mtext t = { 0 };

	(void)state;
	mtext_family(&t, "mxguard_x_total", "counter", "a\\b\nc \"quoted\"");
	mtext_sample(&t, "mxguard_x_total", NULL, 0);
	mtext_sample(&t, "mxguard_x_total", "", 18446744073709551615ULL);
	mtext_sample(&t, "mxguard_x_total", "rule=\"r\"", 7);
	mtext_sample_us(&t, "mxguard_t_seconds", NULL, 1500000);
	assert_false(t.failed);
	assert_string_equal(t.buf,
			    "# HELP mxguard_x_total a\\\\b\\nc \"quoted\"\n"
			    "# TYPE mxguard_x_total counter\n"
			    "mxguard_x_total 0\n"
			    "mxguard_x_total 18446744073709551615\n"
			    "mxguard_x_total{rule=\"r\"} 7\n"
			    "mxguard_t_seconds 1.5\n");
	mtext_free(&t);
	assert_null(t.buf);
}

/* a small histogram of its own bounds: 1 ms, 10 ms, 1 s */
static const uint64_t small_bounds[] = { 1000, 10000, 1000000 };

static void test_histogram_text(void **state)
{
	struct histogram_view h = { .bounds_us = small_bounds, .nbounds = 3 };
	struct mtext t = { 0 };

	(void)state;
	/* per bucket: 2 at or below 1 ms, 0 in (1, 10] ms, 3 in (10 ms, 1 s], 1 above */
	h.count[0] = 2;
	h.count[1] = 0;
	h.count[2] = 3;
	h.count[3] = 1;
	h.sum_us = 2 * 500 + 3 * 200000 + 5000000;
	mtext_histogram(&t, "d_seconds", "stage=\"mail\"", &h);
	assert_false(t.failed);
	/* cumulative, +Inf = _count = every observation, _sum in seconds */
	assert_string_equal(t.buf,
			    "d_seconds_bucket{stage=\"mail\",le=\"0.001\"} 2\n"
			    "d_seconds_bucket{stage=\"mail\",le=\"0.01\"} 2\n"
			    "d_seconds_bucket{stage=\"mail\",le=\"1\"} 5\n"
			    "d_seconds_bucket{stage=\"mail\",le=\"+Inf\"} 6\n"
			    "d_seconds_sum{stage=\"mail\"} 5.601\n"
			    "d_seconds_count{stage=\"mail\"} 6\n");
	mtext_free(&t);
	/* no labels: le alone */
	memset(h.count, 0, sizeof h.count);
	h.sum_us = 0;
	mtext_histogram(&t, "e_seconds", NULL, &h);
	assert_string_equal(t.buf,
			    "e_seconds_bucket{le=\"0.001\"} 0\n"
			    "e_seconds_bucket{le=\"0.01\"} 0\n"
			    "e_seconds_bucket{le=\"1\"} 0\n"
			    "e_seconds_bucket{le=\"+Inf\"} 0\n"
			    "e_seconds_sum 0\n"
			    "e_seconds_count 0\n");
	mtext_free(&t);
}

static void test_histogram_observe(void **state)
{
	static struct histogram hist;   /* static: zeroed, as the daemon's are */
	struct histogram_view v;
	struct mtext t = { 0 };

	(void)state;
	histogram_observe(&hist, 0);
	histogram_observe(&hist, 100);          /* le is inclusive: the first bucket */
	histogram_observe(&hist, 101);
	histogram_observe(&hist, 30000000);     /* the last finite bound */
	histogram_observe(&hist, 30000001);     /* above it: only +Inf */
	histogram_read(&hist, &v);
	assert_ptr_equal(v.bounds_us, histogram_bounds_us);
	assert_int_equal(v.nbounds, HISTOGRAM_NBOUNDS);
	assert_int_equal(histogram_bounds_us[0], 100);
	assert_int_equal(v.count[0], 2);
	assert_int_equal(v.count[1], 1);
	assert_int_equal(v.count[HISTOGRAM_NBOUNDS - 1], 1);
	assert_int_equal(v.count[HISTOGRAM_NBOUNDS], 1);
	assert_int_equal(v.sum_us, 100 + 101 + 30000000ULL + 30000001ULL);
	mtext_histogram(&t, "h", NULL, &v);
	assert_non_null(strstr(t.buf, "h_bucket{le=\"0.0001\"} 2\n"));
	assert_non_null(strstr(t.buf, "h_bucket{le=\"0.00025\"} 3\n"));
	assert_non_null(strstr(t.buf, "h_bucket{le=\"10\"} 3\n"));
	assert_non_null(strstr(t.buf, "h_bucket{le=\"30\"} 4\n"));
	assert_non_null(strstr(t.buf, "h_bucket{le=\"+Inf\"} 5\n"));
	assert_non_null(strstr(t.buf, "h_sum 60.000202\n"));
	assert_non_null(strstr(t.buf, "h_count 5\n"));
	mtext_free(&t);
}

/* queries - the counter of one type row and outcome column */
static unsigned long queries(unsigned type_row, unsigned outcome)
{
	struct dns_stats_view *v = malloc(sizeof *v);
	unsigned long n;

	assert_non_null(v);
	dns_stats_read(v);
	n = v->queries[type_row][outcome];
	free(v);
	return n;
}

/* type_row - the row dns_stats gives a type name (the test fails when there is none) */
static unsigned type_row(const char *name)
{
	for (unsigned i = 0; i < DNS_STATS_TYPES; i++)
		if (strcmp(dns_stats_type_name(i), name) == 0)
			return i;
	fail_msg("no row for %s", name);
	return 0;
}

static void test_dns_stats(void **state)
{
	struct dns_stats_view *v = malloc(sizeof *v);
	unsigned mx = type_row("MX"), other = DNS_STATS_TYPES - 1;
	unsigned long before_ok, before_cancel, before_other;

	(void)state;
	assert_non_null(v);
	assert_string_equal(dns_stats_type_name(other), "other");
	assert_string_equal(dns_stats_outcome_name(DNS_TIMEOUT), "timeout");
	assert_string_equal(dns_stats_outcome_name(DNS_STATS_CANCELLED), "cancelled");
	before_ok = queries(mx, DNS_OK);
	before_cancel = queries(mx, DNS_STATS_CANCELLED);
	before_other = queries(other, DNS_SERVFAIL);
	dns_stats_read(v);
	unsigned long answered = v->answer[mx].count[HISTOGRAM_NBOUNDS - 1];

	dns_stats_query_done(ns_t_mx, DNS_OK, false, 20000000);
	dns_stats_query_done(ns_t_mx, DNS_OK, true, 20000000);       /* cancelled: counted, not timed */
	dns_stats_query_done(ns_t_hinfo, DNS_SERVFAIL, false, 10);   /* a type not listed: other */
	dns_stats_expired(3);
	assert_int_equal(queries(mx, DNS_OK), before_ok + 1);
	assert_int_equal(queries(mx, DNS_STATS_CANCELLED), before_cancel + 1);
	assert_int_equal(queries(other, DNS_SERVFAIL), before_other + 1);
	unsigned long expired = v->expired;

	dns_stats_read(v);
	assert_int_equal(v->answer[mx].count[HISTOGRAM_NBOUNDS - 1], answered + 1);
	assert_int_equal(v->expired, expired + 3);
	free(v);
}

/* check_listen - conf_check_metrics_listen's verdict; *why filled on refusal */
static int check_listen(const char *in, char *why, size_t len)
{
	char *out = NULL;
	int rc = conf_check_metrics_listen(in, &out, why, len);

	if (rc == 0) {
		assert_non_null(out);
		assert_string_equal(out, in);
	}
	free(out);
	return rc;
}

static void test_metrics_listen_values(void **state)
{
	static const char *const good[] = { "127.0.0.1:9894", "127.1.2.3:1", "[::1]:65535" };
	static const char *const bad_form[] = {
		"127.0.0.1", "127.0.0.1:", ":9894", "[::1]", "::1:9894", "[::1]9894", "localhost:9894",
		"127.0.0.1:9894:1", "127.0.0.1:0x10", "[127.0.0.1]:9894", "127.0.0.1 :9894",
	};
	static const char *const not_loopback[] = {
		"192.0.2.1:9894", "0.0.0.0:9894", "128.0.0.1:9894", "[::]:9894", "[::2]:9894",
		"[::ffff:127.0.0.1]:9894", "[2001:db8::1]:9894",
	};
	char why[300];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(check_listen(good[i], why, sizeof why), 0);
	for (size_t i = 0; i < sizeof bad_form / sizeof bad_form[0]; i++) {
		int rc = check_listen(bad_form[i], why, sizeof why);

		if (rc != -1)
			fail_msg("accepted \"%s\"", bad_form[i]);
		if (!strstr(why, "expected a loopback address and a port") && !strstr(why, "bad port"))
			fail_msg("\"%s\": %s", bad_form[i], why);
	}
	for (size_t i = 0; i < sizeof not_loopback / sizeof not_loopback[0]; i++) {
		assert_int_equal(check_listen(not_loopback[i], why, sizeof why), -1);
		if (!strstr(why, "is not a loopback address"))
			fail_msg("\"%s\": %s", not_loopback[i], why);
	}
	assert_int_equal(check_listen("127.0.0.1:65536", why, sizeof why), -1);
	assert_non_null(strstr(why, "bad port"));
}

static void test_metrics_listen_config(void **state)
{
	char err[512];
	struct config *c;

	(void)state;
	c = config_load_string("t.conf", "default accept\n", err, sizeof err);
	assert_non_null(c);
	assert_null(c->metrics_listen);      /* off unless set */
	config_unref(c);
	c = config_load_string("t.conf", "metrics_listen = [::1]:9894\ndefault accept\n", err, sizeof err);
	assert_non_null(c);
	assert_string_equal(c->metrics_listen, "[::1]:9894");
	config_unref(c);
	c = config_load_string("t.conf", "# metrics\n\nmetrics_listen = 192.0.2.1:9894\ndefault accept\n",
			       err, sizeof err);
	assert_null(c);
	assert_string_equal(err, "t.conf:3: metrics_listen: 192.0.2.1 is not a loopback address: the endpoint "
			    "has no authentication, so only 127.0.0.0/8 and [::1] (a proxy in front of it can "
			    "serve others)");
	/* the longest address still gets the whole message */
	c = config_load_string("t.conf", "metrics_listen = [ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:9894\n",
			       err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "t.conf:1: metrics_listen: ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 is not"));
	assert_non_null(strstr(err, "(a proxy in front of it can serve others)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_labels_several_and_too_long),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_histogram_text),
		cmocka_unit_test(test_histogram_observe),
		cmocka_unit_test(test_dns_stats),
		cmocka_unit_test(test_metrics_listen_values),
		cmocka_unit_test(test_metrics_listen_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
