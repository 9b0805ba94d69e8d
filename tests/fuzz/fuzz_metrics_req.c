/*
 * fuzz_metrics_req.c - the metrics endpoint's request reader
 * (milter/metrics_req.h) on whatever a local client could send, as the
 * responder sees it: the bytes read so far, judged after every read. The
 * first input byte says how many bytes each read brings.
 *
 * Promises checked: a verdict is one of the enum's; a request whose
 * headers have not ended is "more" below the cap and "too large" at it;
 * "metrics" only for a GET of /metrics; once whole, the verdict no longer
 * depends on how the bytes were split into reads.
 */
#include "tests/fuzz/fuzz.h"

#include "milter/metrics_http.h"
#include "milter/metrics_req.h"

/* judge - a fresh copy of the first len bytes (the judge may write into it) */
static enum metrics_req judge(const uint8_t *data, size_t len)
{
	static char req[METRICS_HTTP_REQUEST_MAX + 1];

	memcpy(req, data, len);
	req[len] = '\0';
	return metrics_req_judge(req, len, METRICS_HTTP_REQUEST_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step, len = 0;
	enum metrics_req r = METRICS_REQ_MORE;

	if (size == 0)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	if (size > METRICS_HTTP_REQUEST_MAX)
		size = METRICS_HTTP_REQUEST_MAX;
	while (r == METRICS_REQ_MORE && len < size) {
		len = len + step < size ? len + step : size;
		r = judge(data, len);
		FUZZ_CHECK(r >= METRICS_REQ_MORE && r <= METRICS_REQ_TOO_LARGE);
	}
	if (r == METRICS_REQ_MORE)
		FUZZ_CHECK(len < METRICS_HTTP_REQUEST_MAX);
	if (r == METRICS_REQ_TOO_LARGE)
		FUZZ_CHECK(len == METRICS_HTTP_REQUEST_MAX);
	if (r == METRICS_REQ_METRICS)
		FUZZ_CHECK(memcmp(data, "GET /metrics", 12) == 0);
	/* the same bytes read at once: the same verdict */
	if (r != METRICS_REQ_MORE && r != METRICS_REQ_BAD)
		FUZZ_CHECK(judge(data, len) == r);
	return 0;
}
