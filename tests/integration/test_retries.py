"""Retries end to end: deployctl against moto behind a proxy that throttles,
fails with 503 and resets connections."""
import json

from harness import FaultProxy, expect, expect_eq, expect_ok


def update_item(env, url):
    return env.run("api", "dynamodb", "POST", "/",
                   "-H", "X-Amz-Target: DynamoDB_20120810.UpdateItem",
                   "-H", "Content-Type: application/x-amz-json-1.0",
                   "-d", json.dumps({"TableName": "dc-retry", "Key": {"id": {"S": "n"}},
                                     "UpdateExpression": "ADD c :one",
                                     "ExpressionAttributeValues": {":one": {"N": "1"}}}),
                   env={"AWS_ENDPOINT_URL": url})


def make_table(env):
    env.boto("dynamodb").create_table(
        TableName="dc-retry", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])


def test_calls_succeed_through_30_percent_faults(env):
    make_table(env)
    proxy = FaultProxy(env.moto.url, rate=0.3, seed=11)
    try:
        for i in range(15):
            expect_ok(update_item(env, proxy.url), "call %d" % i)
        r = env.run("whoami", env={"AWS_ENDPOINT_URL": proxy.url})
        expect_ok(r, "whoami")
        counts = proxy.counts()
    finally:
        proxy.stop()
    faults = sum(v for k, v in counts.items() if k != "requests")
    expect(faults >= 3, "too few faults injected to mean anything: %r" % counts)
    item = env.boto("dynamodb").get_item(TableName="dc-retry", Key={"id": {"S": "n"}})
    # Faults here strike before the request reaches moto, so each call counts once.
    expect_eq(item["Item"]["c"]["N"], "15", "counter")


def test_throttling_outlasting_attempts_is_reported(env):
    make_table(env)
    proxy = FaultProxy(env.moto.url, rate=1.0, faults="throttle")
    try:
        r = env.run("api", "dynamodb", "POST", "/",
                    "-H", "X-Amz-Target: DynamoDB_20120810.ListTables",
                    "-H", "Content-Type: application/x-amz-json-1.0", "-d", "{}",
                    env={"AWS_ENDPOINT_URL": proxy.url, "AWS_MAX_ATTEMPTS": "3"})
        counts = proxy.counts()
    finally:
        proxy.stop()
    expect_eq(r.returncode, 1)
    expect("ThrottlingException" in r.stderr.decode(), r.stderr.decode())
    expect_eq(counts["requests"], 3, "attempts")


def test_client_errors_are_not_retried(env):
    proxy = FaultProxy(env.moto.url, rate=0.0)
    try:
        r = env.run("api", "dynamodb", "POST", "/",
                    "-H", "X-Amz-Target: DynamoDB_20120810.DescribeTable",
                    "-H", "Content-Type: application/x-amz-json-1.0",
                    "-d", '{"TableName":"absent"}', env={"AWS_ENDPOINT_URL": proxy.url})
        counts = proxy.counts()
    finally:
        proxy.stop()
    expect_eq(r.returncode, 1)
    expect_eq(counts["requests"], 1, "attempts")
