#include "aws/retry.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>

#define QUOTA_MAX 500
#define RETRY_COST 5
#define TIMEOUT_RETRY_COST 10
#define NO_RETRY_INCREMENT 1
/* botocore's _RETRY_AFTER_MAX_ADDITIONAL: a server may stretch the delay by
 * at most this much, so a bad header cannot park a deploy for an hour. */
#define RETRY_AFTER_MAX_EXTRA_MS 5000

/* botocore/retries/standard.py, ThrottledRetryableChecker. */
static const char *const throttle_codes[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"LimitExceededException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
};

/* TransientRetryableChecker's codes and botocore's special-cased STS
 * IDPCommunicationError, plus the server-fault codes the Ruby and Java SDKs
 * list, for the services that send them with a 200. */
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
	"InternalError",  "InternalFailure",         "ServiceUnavailable",
};

static int in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

#define IN_LIST(code, list) in_list(code, list, sizeof(list) / sizeof(*(list)))

enum dc_retry_kind dc_retry_classify(int send_rc, const struct dc_http_response *res,
				     const char *code)
{
	if (send_rc == DC_ENETWORK)
		return res && res->timed_out ? DC_RETRY_TIMEOUT : DC_RETRY_NETWORK;
	if (send_rc != 0 || !res)
		return DC_RETRY_NONE;
	if (code && IN_LIST(code, throttle_codes))
		return DC_RETRY_THROTTLE;
	if (code && IN_LIST(code, transient_codes))
		return DC_RETRY_TRANSIENT;
	switch (res->status) {
	case 429:
		return DC_RETRY_THROTTLE;
	case 500:
	case 502:
	case 503:
	case 504:
		return DC_RETRY_TRANSIENT;
	default:
		return DC_RETRY_NONE;
	}
}

/* x-amz-retry-after in milliseconds, or -1 when absent or not a whole
 * number >= 0. Python's int() takes surrounding blanks; so do we. */
static long long retry_after_ms(const struct dc_http_response *res)
{
	const char *v = res ? dc_headers_get(&res->headers, "x-amz-retry-after") : NULL;
	if (!v)
		return -1;
	while (isspace((unsigned char)*v))
		v++;
	if (!isdigit((unsigned char)*v))
		return -1;
	char *end;
	errno = 0;
	long long ms = strtoll(v, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -1;
	return errno == ERANGE ? LLONG_MAX : ms;
}

long dc_retry_delay_ms(int attempt, double rand01, const struct dc_http_response *res)
{
	if (attempt < 1)
		attempt = 1;
	if (rand01 < 0)
		rand01 = 0;
	if (rand01 > 1)
		rand01 = 1;
	long cap = DC_RETRY_MAX_BACKOFF_MS;
	/* 2^(attempt-1) passes the cap long before it could overflow. */
	if (attempt <= 16 && ((long)DC_RETRY_BASE_MS << (attempt - 1)) < cap)
		cap = (long)DC_RETRY_BASE_MS << (attempt - 1);
	long t = (long)(rand01 * (double)cap + 0.5); /* nearest millisecond */
	long long ra = retry_after_ms(res);
	if (ra < 0)
		return t;
	if (ra > t + RETRY_AFTER_MAX_EXTRA_MS)
		return t + RETRY_AFTER_MAX_EXTRA_MS;
	return ra > t ? (long)ra : t;
}

int dc_retry_cost(enum dc_retry_kind kind)
{
	switch (kind) {
	case DC_RETRY_NONE:
		return 0;
	case DC_RETRY_TIMEOUT:
		return TIMEOUT_RETRY_COST;
	default:
		return RETRY_COST;
	}
}

int dc_retry_quota_acquire(struct dc_retry_quota *q, enum dc_retry_kind kind)
{
	int cost = dc_retry_cost(kind);
	if (cost > q->tokens)
		return -1;
	q->tokens -= cost;
	return 0;
}

void dc_retry_quota_release(struct dc_retry_quota *q, int cost_taken)
{
	int amount = cost_taken > 0 ? cost_taken : NO_RETRY_INCREMENT;
	if (amount > QUOTA_MAX - q->tokens)
		amount = QUOTA_MAX - q->tokens;
	q->tokens += amount;
}
