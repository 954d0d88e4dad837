"""Hit counter behind API Gateway (HTTP API, payload 2.0), counter in S3.

GET /hits increments and returns the count, GET /healthz says ok, GET / serves
the page stored in S3; anything else is 404.

The counter is one object holding a decimal number. S3 has no atomic
increment, so each increment is a compare-and-swap: read the object and its
ETag, then write the new value with If-Match on that ETag (If-None-Match: *
when the object does not exist yet). A concurrent writer makes the write fail
with 412 (or 409 while a conflicting write is in flight); we then re-read and
try again after a short jittered pause. A blind read-modify-write would lose
updates under concurrency.
"""
import os
import random
import sys
import time
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = os.environ["BUCKET"]
COUNTER_KEY = os.environ["COUNTER_KEY"]
PAGE_BUCKET = os.environ["PAGE_BUCKET"]
PAGE_KEY = os.environ.get("PAGE_KEY", "index.html")

# Compare-and-swap retries: full jitter, capped; bounded by attempts and by
# the invocation's remaining time.
MAX_ATTEMPTS = 100
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0
CONFLICT_CODES = ("PreconditionFailed", "ConditionalRequestConflict")


def _s3_config():
    # A custom endpoint (moto, a local target) is usually a bare host or IP
    # where bucket subdomains do not resolve.
    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"):
        return Config(s3={"addressing_style": "path"})
    return None


# Module scope: created once per execution environment, reused across calls.
# boto3 >= 1.28 reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself.
s3 = boto3.client("s3", config=_s3_config())
_page = None


class Busy(Exception):
    pass


def _response(status, body, content_type="text/plain; charset=utf-8"):
    return {"statusCode": status,
            "headers": {"content-type": content_type, "cache-control": "no-store"},
            "body": body}


def _route(event):
    key = event.get("routeKey")
    if key and key != "$default":
        return key
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    return "%s %s" % (method, event.get("rawPath", ""))


def _error_code(err):
    return err.response.get("Error", {}).get("Code", "")


def _read_counter():
    """(value, condition for the write that replaces it)"""
    try:
        obj = s3.get_object(Bucket=BUCKET, Key=COUNTER_KEY)
    except ClientError as err:
        if _error_code(err) != "NoSuchKey":
            raise
        return 0, {"IfNoneMatch": "*"}
    text = obj["Body"].read().decode("ascii").strip()
    return int(text or "0"), {"IfMatch": obj["ETag"]}


def hits(context=None):
    for attempt in range(MAX_ATTEMPTS):
        started = time.monotonic()
        value, condition = _read_counter()
        try:
            s3.put_object(Bucket=BUCKET, Key=COUNTER_KEY, Body=str(value + 1).encode("ascii"),
                          ContentType="text/plain", **condition)
            return str(value + 1)
        except ClientError as err:
            if _error_code(err) not in CONFLICT_CODES:
                raise
        # Scale the pause by how long this attempt took: a slow, busy store
        # gets fewer retries in flight at once.
        unit = max(BACKOFF_BASE_S, time.monotonic() - started)
        pause = random.uniform(0, min(BACKOFF_CAP_S, unit * (2 ** attempt)))
        if context is not None and context.get_remaining_time_in_millis() < pause * 1000 + 1000:
            break
        time.sleep(pause)
    raise Busy()


def page():
    global _page
    if _page is None:
        _page = s3.get_object(Bucket=PAGE_BUCKET, Key=PAGE_KEY)["Body"].read().decode("utf-8")
    return _page


def handler(event, context):
    route = _route(event)
    try:
        if route == "GET /hits":
            return _response(200, hits(context))
        if route == "GET /healthz":
            return _response(200, "ok")
        if route == "GET /":
            return _response(200, page(), "text/html; charset=utf-8")
    except Busy:
        return _response(503, "counter busy, try again")
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return _response(500, "internal error")
    return _response(404, "not found")
