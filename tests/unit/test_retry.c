#include "harness.h"
#include "aws/retry.h"

/* The facts come from botocore itself (unit/botocore_retry.py), so these
 * tests follow the SDKs, not our reading of them. */

static struct dc_http_response response(long status, const char *retry_after)
{
	struct dc_http_response res;
	dc_http_response_init(&res);
	res.status = status;
	if (retry_after)
		dc_headers_add(&res.headers, "x-amz-retry-after", retry_after);
	return res;
}

static enum dc_retry_kind classify(long status, const char *code)
{
	struct dc_http_response res = response(status, NULL);
	enum dc_retry_kind kind = dc_retry_classify(0, &res, code);
	dc_http_response_dispose(&res);
	return kind;
}

/* Run the oracle; each line it prints goes to fn. Returns the line count. */
static int each_fact(void (*fn)(const char *line, int *seen), int *seen)
{
	FILE *p = popen("python3 unit/botocore_retry.py", "r");
	char line[512];
	int n = 0;
	if (!p) {
		dc_test_fail(__FILE__, __LINE__, "cannot run python3");
		return 0;
	}
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		fn(line, seen);
		n++;
	}
	check_int(pclose(p), 0);
	return n;
}

static void check_classification(const char *line, int *seen)
{
	char code[128];
	int status, retryable;
	if (sscanf(line, "throttle %127s", code) == 1) {
		if (classify(400, code) != DC_RETRY_THROTTLE)
			dc_test_fail(__FILE__, __LINE__, "'%s' should be throttling", code);
		(*seen)++;
	} else if (sscanf(line, "transient %127s", code) == 1) {
		/* PriorRequestNotComplete is on both of botocore's lists. */
		enum dc_retry_kind want = strcmp(code, "PriorRequestNotComplete") == 0
						  ? DC_RETRY_THROTTLE
						  : DC_RETRY_TRANSIENT;
		if (classify(400, code) != want)
			dc_test_fail(__FILE__, __LINE__, "'%s' classified %d", code,
				     (int)classify(400, code));
		(*seen)++;
	} else if (sscanf(line, "status %d %d", &status, &retryable) == 2) {
		/* Our one difference: 429 without a code is throttling, as in
		 * botocore's legacy table and the Java SDK. */
		int want = status == 429 ? 1 : retryable;
		if ((classify(status, NULL) != DC_RETRY_NONE) != want)
			dc_test_fail(__FILE__, __LINE__, "status %d: want retryable=%d", status,
				     want);
		(*seen)++;
	} else if (sscanf(line, "code400 %127s %d", code, &retryable) == 2) {
		check_int(classify(400, code) != DC_RETRY_NONE, retryable);
		(*seen)++;
	}
}

void test_retry__classification_follows_botocore(void)
{
	int seen = 0;
	each_fact(check_classification, &seen);
	check_int(seen, 14 + 4 + 17 + 4);
}

void test_retry__classification_table(void)
{
	check_int(classify(200, NULL), DC_RETRY_NONE);
	check_int(classify(404, "NoSuchEntity"), DC_RETRY_NONE);
	check_int(classify(400, "ValidationError"), DC_RETRY_NONE);
	check_int(classify(403, "AccessDenied"), DC_RETRY_NONE);
	check_int(classify(503, "SlowDown"), DC_RETRY_THROTTLE);
	check_int(classify(429, NULL), DC_RETRY_THROTTLE);
	check_int(classify(400, "ThrottlingException"), DC_RETRY_THROTTLE);
	check_int(classify(500, NULL), DC_RETRY_TRANSIENT);
	check_int(classify(503, "ServiceUnavailable"), DC_RETRY_TRANSIENT);
	/* S3 may answer 200 and put the error in the body. */
	check_int(classify(200, "InternalError"), DC_RETRY_TRANSIENT);
	check_int(classify(400, "RequestTimeout"), DC_RETRY_TRANSIENT);
	check_int(classify(400, "IDPCommunicationError"), DC_RETRY_TRANSIENT);
	check_int(classify(501, NULL), DC_RETRY_NONE);

	struct dc_http_response res = response(0, NULL);
	check_int(dc_retry_classify(DC_ENETWORK, &res, NULL), DC_RETRY_NETWORK);
	res.timed_out = 1;
	check_int(dc_retry_classify(DC_ENETWORK, &res, NULL), DC_RETRY_TIMEOUT);
	check_int(dc_retry_classify(DC_ENETWORK, NULL, NULL), DC_RETRY_NETWORK);
	/* Bad URL, TLS verification, response over the cap: final. */
	check_int(dc_retry_classify(-1, &res, NULL), DC_RETRY_NONE);
	dc_http_response_dispose(&res);
}

static void check_delay(const char *line, int *seen)
{
	int attempt;
	double r, secs;
	char value[128];
	if (sscanf(line, "delay %d %lf %lf", &attempt, &r, &secs) == 3) {
		long want = (long)(secs * 1000 + 0.5);
		long got = dc_retry_delay_ms(attempt, r, NULL);
		if (got != want)
			dc_test_fail(__FILE__, __LINE__, "attempt %d rand %g: got %ld ms, want %ld",
				     attempt, r, got, want);
		(*seen)++;
	} else if (sscanf(line, "retryafter %d %lf '%127[^']' %lf", &attempt, &r, value,
			  &secs) == 4) {
		struct dc_http_response res = response(429, value);
		long want = (long)(secs * 1000 + 0.5);
		long got = dc_retry_delay_ms(attempt, r, &res);
		if (got != want)
			dc_test_fail(__FILE__, __LINE__, "retry-after '%s': got %ld ms, want %ld",
				     value, got, want);
		dc_http_response_dispose(&res);
		(*seen)++;
	}
}

void test_retry__delays_follow_botocore(void)
{
	int seen = 0;
	each_fact(check_delay, &seen);
	check_int(seen, 11 * 4 + 10);
}

void test_retry__delay_bounds(void)
{
	/* Never more than 20 s, however many attempts; never negative. */
	for (int attempt = 1; attempt < 100; attempt++) {
		long hi = dc_retry_delay_ms(attempt, 0.999999, NULL);
		check(hi <= DC_RETRY_MAX_BACKOFF_MS);
		check(dc_retry_delay_ms(attempt, 0.0, NULL) == 0);
	}
	check_int(dc_retry_delay_ms(1, 0.5, NULL), 500);
	check_int(dc_retry_delay_ms(3, 0.5, NULL), 2000);
	check_int(dc_retry_delay_ms(30, 0.5, NULL), 10000);
	check_int(dc_retry_delay_ms(0, 0.5, NULL), 500);
	check_int(dc_retry_delay_ms(-3, 0.5, NULL), 500);
	check_int(dc_retry_delay_ms(2147483647, 1.0, NULL), 20000);
}

static void check_quota(const char *line, int *seen)
{
	char kind[32];
	int granted, left, a, b, c;
	if (sscanf(line, "quota %31s %d %d", kind, &granted, &left) == 3) {
		struct dc_retry_quota q = DC_RETRY_QUOTA_INIT;
		enum dc_retry_kind k = strcmp(kind, "timeout") ? DC_RETRY_NETWORK : DC_RETRY_TIMEOUT;
		int n = 0;
		while (dc_retry_quota_acquire(&q, k) == 0)
			n++;
		check_int(n, granted);
		check_int(q.tokens, left);
		(*seen)++;
	} else if (sscanf(line, "release %d %d %d", &a, &b, &c) == 3) {
		struct dc_retry_quota q = DC_RETRY_QUOTA_INIT;
		check_int(dc_retry_quota_acquire(&q, DC_RETRY_TRANSIENT), 0);
		check_int(dc_retry_quota_acquire(&q, DC_RETRY_TRANSIENT), 0);
		check_int(q.tokens, a);
		dc_retry_quota_release(&q, dc_retry_cost(DC_RETRY_TRANSIENT));
		check_int(q.tokens, b);
		dc_retry_quota_release(&q, 0);
		check_int(q.tokens, c);
		(*seen)++;
	} else if (sscanf(line, "full %d", &a) == 1) {
		struct dc_retry_quota q = DC_RETRY_QUOTA_INIT;
		dc_retry_quota_release(&q, 0);
		check_int(q.tokens, a);
		(*seen)++;
	}
}

void test_retry__quota_follows_botocore(void)
{
	int seen = 0;
	each_fact(check_quota, &seen);
	check_int(seen, 4);
}

void test_retry__quota_exhaustion_and_refund(void)
{
	struct dc_retry_quota q = DC_RETRY_QUOTA_INIT;
	check_int(dc_retry_cost(DC_RETRY_THROTTLE), 5);
	check_int(dc_retry_cost(DC_RETRY_TIMEOUT), 10);
	check_int(dc_retry_cost(DC_RETRY_NONE), 0);
	q.tokens = 7;
	check_int(dc_retry_quota_acquire(&q, DC_RETRY_TIMEOUT), -1);
	check_int(q.tokens, 7);
	check_int(dc_retry_quota_acquire(&q, DC_RETRY_THROTTLE), 0);
	check_int(q.tokens, 2);
	check_int(dc_retry_quota_acquire(&q, DC_RETRY_THROTTLE), -1);
	check_int(q.tokens, 2);
	dc_retry_quota_release(&q, 5);
	check_int(q.tokens, 7);
	q.tokens = 498;
	dc_retry_quota_release(&q, 10);
	check_int(q.tokens, 500);
}
