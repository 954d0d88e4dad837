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
	DC_RETRY_NETWORK    /* connection refused/reset, timeout, truncated body */
};

/* The SDKs' retry quota: a token bucket that stops retry storms when a
 * service is down. */
struct dc_retry_quota {
	int tokens;
};

#define DC_RETRY_QUOTA_INIT { 500 }

/* Classify one attempt: send_rc is dc_http_send's return; res its response
 * (ignored unless send_rc == 0); code the AWS error code parsed from the
 * body, or NULL. */
enum dc_retry_kind dc_retry_classify(int send_rc, const struct dc_http_response *res,
				     const char *code);

/* Delay before attempt number `attempt` + 1 (attempt counts from 1):
 * rand01 * min(base * 2^(attempt-1), 20 s), or the server's
 * x-amz-retry-after (milliseconds) when res carries a sane one. rand01 is
 * passed in so tests can pin it. */
long dc_retry_delay_ms(int attempt, double rand01, const struct dc_http_response *res);

/* Take the tokens a retry of that kind costs (5; 10 for network timeouts).
 * 0 when granted, -1 when the quota is empty. */
int dc_retry_quota_acquire(struct dc_retry_quota *q, enum dc_retry_kind kind);
/* A success gives back what its retries took (or 1 when it took none). */
void dc_retry_quota_release(struct dc_retry_quota *q, int cost_taken);

/* Cost of a retry of that kind, so the caller can give it back. */
int dc_retry_cost(enum dc_retry_kind kind);

#endif
