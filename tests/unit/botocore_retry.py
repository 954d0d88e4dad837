"""The retry oracle for test_retry.c: prints botocore's standard-mode retry
decisions, delays and quota arithmetic, one fact a line, for the C test to
compare with dc_retry_*. botocore is the reference the SDKs agree on."""
import sys

from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.retries import quota, standard


class Service:
    service_name = "sts"  # so that IDPCommunicationError is in play


class Operation:
    error_shapes = []
    service_model = Service()
    name = "AssumeRole"


class Response:
    def __init__(self, status, headers=None):
        self.status_code = status
        self.headers = headers or {}


def context(status=None, code=None, exc=None, headers=None, attempt=1):
    return standard.RetryContext(
        attempt_number=attempt,
        operation_model=Operation(),
        parsed_response={"Error": {"Code": code}} if code else {},
        http_response=Response(status, headers) if status else None,
        caught_exception=exc,
        request_context={},
    )


def main():
    for code in standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES:
        print("throttle", code)
    for code in standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES:
        print("transient", code)
    print("transient IDPCommunicationError")
    cond = standard.StandardRetryConditions(max_attempts=10)
    for status in (200, 201, 204, 301, 304, 400, 403, 404, 409, 429, 500, 501, 502,
                   503, 504, 505, 509):
        print("status", status, int(cond.is_retryable(context(status=status))))
    for code in ("AccessDenied", "ValidationError", "NoSuchEntity", "Throttling"):
        print("code400", code, int(cond.is_retryable(context(status=400, code=code))))

    # Backoff as botocore ships it today (base 1 s for every kind).
    standard.NEW_RETRIES_ENABLED = False
    for attempt in range(1, 12):
        for r in (0.0, 0.25, 0.5, 0.999):
            b = standard.ExponentialBackoff(random=lambda r=r: r)
            print("delay", attempt, r, b.delay_amount(context(status=500, attempt=attempt)))

    # x-amz-retry-after as botocore's 2026 behaviour reads it; a throttling
    # error keeps the 1 s base that dc_retry uses for everything.
    standard.NEW_RETRIES_ENABLED = True
    throttling = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    for attempt, r, value in ((1, 0.5, "1500"), (1, 0.5, "100"), (1, 0.5, "60000"),
                              (3, 0.25, "3000"), (5, 0.9, "0"), (2, 0.5, "-5"),
                              (2, 0.5, "abc"), (2, 0.5, "1.5"), (2, 0.5, " 2500 "),
                              (1, 0.0, "99999999999999999999999")):
        b = standard.ExponentialBackoff(random=lambda r=r: r,
                                        throttling_detector=throttling)
        ctx = context(status=400, code="Throttling", attempt=attempt,
                      headers={"x-amz-retry-after": value})
        print("retryafter", attempt, r, repr(value), b.delay_amount(ctx))

    # The retry quota, as shipped today: 5 a retry, 10 after a timeout.
    standard.NEW_RETRIES_ENABLED = False
    for kind, exc in (("network", EndpointConnectionError(endpoint_url="x")),
                      ("timeout", ReadTimeoutError(endpoint_url="x"))):
        q = quota.RetryQuota()
        checker = standard.RetryQuotaChecker(q)
        granted = 0
        while checker.acquire_retry_quota(context(exc=exc)):
            granted += 1
        print("quota", kind, granted, q.available_capacity)
    q = quota.RetryQuota()
    checker = standard.RetryQuotaChecker(q)
    checker.acquire_retry_quota(context(status=500))
    checker.acquire_retry_quota(context(status=500))
    after_two = q.available_capacity
    ctx = {"retry_quota_capacity": 5}
    checker.release_retry_quota(ctx, Response(200))
    after_success = q.available_capacity
    checker.release_retry_quota({}, Response(200))
    print("release", after_two, after_success, q.available_capacity)
    full = quota.RetryQuota()
    standard.RetryQuotaChecker(full).release_retry_quota({}, Response(200))
    print("full", full.available_capacity)


if __name__ == "__main__":
    sys.exit(main())
