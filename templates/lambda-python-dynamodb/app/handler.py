"""Hit counter behind API Gateway (HTTP API, payload 2.0), counter in DynamoDB.

GET /hits increments and returns the count, GET /healthz says ok, GET / serves
the page stored in S3; anything else is 404.
"""
import os
import sys
import traceback

import boto3
from botocore.config import Config

TABLE = os.environ["TABLE"]
PAGE_BUCKET = os.environ["PAGE_BUCKET"]
PAGE_KEY = os.environ.get("PAGE_KEY", "index.html")
COUNTER_ID = "hits"


def _s3_config():
    # A custom endpoint (moto, a local target) is usually a bare host or IP
    # where bucket subdomains do not resolve.
    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"):
        return Config(s3={"addressing_style": "path"})
    return None


# Module scope: created once per execution environment, reused across calls.
# boto3 >= 1.28 reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself.
ddb = boto3.client("dynamodb")
s3 = boto3.client("s3", config=_s3_config())
_page = None


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


def hits():
    out = ddb.update_item(
        TableName=TABLE,
        Key={"id": {"S": COUNTER_ID}},
        UpdateExpression="ADD #n :one",
        ExpressionAttributeNames={"#n": "count"},
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW")
    return out["Attributes"]["count"]["N"]


def page():
    global _page
    if _page is None:
        _page = s3.get_object(Bucket=PAGE_BUCKET, Key=PAGE_KEY)["Body"].read().decode("utf-8")
    return _page


def handler(event, context):
    route = _route(event)
    try:
        if route == "GET /hits":
            return _response(200, hits())
        if route == "GET /healthz":
            return _response(200, "ok")
        if route == "GET /":
            return _response(200, page(), "text/html; charset=utf-8")
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return _response(500, "internal error")
    return _response(404, "not found")
