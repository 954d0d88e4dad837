/* Retries as the AWS SDKs' "standard" mode defines them, with a deploy
 * tool's patience: a half-created stack costs more than a slow one, so the
 * default is 10 attempts. The loop itself lives in client.c; this file
 * decides whether and when to try again. */
#ifndef DC_RETRY_H
#define DC_RETRY_H

#include "aws/http.h"

#define DC_RETRY_DEFAULT_ATTEMPTS 10
#define DC_RETRY_MAX_BACKOFF_MS 20000
#define DC_RETRY_BASE_MS 1000

enum dc_retry_kind {
	DC_RETRY_NONE,      /* success, or a failure that will not change */
	DC_RETRY_THROTTLE,  /* Throttling, SlowDown, 429, ... */
	DC_RETRY_TRANSIENT, /* 500/502/503/504, RequestTimeout, IDPCommunicationError, ... */
	DC_RETRY_NETWORK,   /* connection refused/reset, truncated body, ... */
	DC_RETRY_TIMEOUT    /* a network failure by timeout: retried like
			     * DC_RETRY_NETWORK, but costs more quota */
};

/* The SDKs' retry quota: a token bucket that stops retry storms when a
 * service is down. */
struct dc_retry_quota {
	int tokens;
};

#define DC_RETRY_QUOTA_INIT { 500 }

/* Classify one attempt: send_rc is dc_http_send's return; res its response
 * (only res->timed_out is read when send_rc != 0; may be NULL); code the AWS
 * error code parsed from the body, or NULL. Throttling and transient codes
 * are botocore's standard-mode lists; 429 counts as throttling (botocore's
 * legacy table and the Java SDK); InternalError, InternalFailure and
 * ServiceUnavailable count as transient whatever the status (S3 can send
 * them with 200). */
enum dc_retry_kind dc_retry_classify(int send_rc, const struct dc_http_response *res,
				     const char *code);

/* Delay before attempt number `attempt` + 1 (attempt counts from 1):
 * t = rand01 * min(base * 2^(attempt-1), 20 s), as botocore's standard
 * ExponentialBackoff. When res (may be NULL) carries x-amz-retry-after, a
 * whole number of milliseconds >= 0, the delay is that value kept within
 * [t, t + 5 s], as botocore's 2026 retry behaviour does; any other value is
 * ignored. rand01 in [0, 1) is passed in so tests can pin it. */
long dc_retry_delay_ms(int attempt, double rand01, const struct dc_http_response *res);

/* Take the tokens a retry of that kind costs (5; 10 for DC_RETRY_TIMEOUT).
 * 0 when granted, -1 when fewer tokens are left (the quota is unchanged). */
int dc_retry_quota_acquire(struct dc_retry_quota *q, enum dc_retry_kind kind);
/* A success gives back what its last retry took (or 1 when it took none,
 * cost_taken == 0), never beyond the initial 500. */
void dc_retry_quota_release(struct dc_retry_quota *q, int cost_taken);

/* Cost of a retry of that kind, so the caller can give it back; 0 for
 * DC_RETRY_NONE. */
int dc_retry_cost(enum dc_retry_kind kind);

#endif
