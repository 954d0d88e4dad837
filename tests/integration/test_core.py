"""The core client end to end: whoami and api against moto, each protocol,
each answer checked with boto3, and the errors a user meets."""
import json
import urllib.parse

from harness import expect, expect_eq, expect_ok, expect_sanitizer_clean

JSON10 = "application/x-amz-json-1.0"


def out(r):
    return r.stdout.decode()


def err(r):
    return r.stderr.decode()


def test_whoami_text_matches_sts(env):
    r = env.run("whoami")
    expect_ok(r, "whoami")
    ident = env.boto("sts").get_caller_identity()
    fields = dict(line.split(None, 1) for line in out(r).splitlines() if line.strip()
                  and not line.startswith("user id"))
    expect_eq(fields["account"], ident["Account"], "account")
    expect_eq(fields["arn"], ident["Arn"], "arn")
    expect_eq(fields["region"], "us-east-1", "region")
    expect_eq(fields["source"], "environment", "source")
    expect_sanitizer_clean(r)


def test_whoami_json(env):
    r = env.run("whoami", "--output", "json", "--region", "eu-west-2")
    expect_ok(r)
    doc = json.loads(out(r))
    expect_eq(doc["account"], env.boto("sts").get_caller_identity()["Account"])
    expect_eq(doc["region"], "eu-west-2")
    expect_eq(doc["credentials_source"], "environment")


def test_whoami_profile_from_files(env):
    import os
    os.makedirs(env.home + "/.aws")
    with open(env.home + "/.aws/credentials", "w") as f:
        f.write("[dev]\naws_access_key_id = AKIDPROFILE000000000\n"
                "aws_secret_access_key = profile-secret\n")
    with open(env.home + "/.aws/config", "w") as f:
        f.write("[profile dev]\nregion = eu-west-2\n")
    r = env.run("--profile", "dev", "whoami", "-o", "json",
                env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                     "AWS_REGION": None})
    expect_ok(r)
    doc = json.loads(out(r))
    expect_eq(doc["region"], "eu-west-2")
    expect("dev" in doc["credentials_source"], doc["credentials_source"])


def test_api_ec2_describe_vpcs(env):
    r = env.run("api", "ec2", "POST", "/", "-H",
                "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                "-d", "Action=DescribeVpcs&Version=2016-11-15")
    expect_ok(r)
    vpcs = env.boto("ec2").describe_vpcs()["Vpcs"]
    for v in vpcs:
        expect(v["VpcId"] in out(r), "vpc %s missing from %s" % (v["VpcId"], out(r)[:300]))


def test_api_iam_list_roles(env):
    env.boto("iam").create_role(RoleName="dc-it-role", AssumeRolePolicyDocument="{}")
    r = env.run("api", "iam", "POST", "/", "-H",
                "Content-Type: application/x-www-form-urlencoded",
                "-d", "Action=ListRoles&Version=2010-05-08")
    expect_ok(r)
    expect("<RoleName>dc-it-role</RoleName>" in out(r), out(r)[:500])


def test_api_sts_get_caller_identity(env):
    r = env.run("api", "sts", "POST", "/", "-H",
                "Content-Type: application/x-www-form-urlencoded",
                "-d", "Action=GetCallerIdentity&Version=2011-06-15")
    expect_ok(r)
    expect(env.boto("sts").get_caller_identity()["Arn"] in out(r))


def dynamodb(env, op, body):
    return env.run("api", "dynamodb", "POST", "/", "-H",
                   "X-Amz-Target: DynamoDB_20120810." + op,
                   "-H", "Content-Type: " + JSON10, "-d", json.dumps(body))


def test_api_dynamodb_create_table_and_update_item(env):
    r = dynamodb(env, "CreateTable", {
        "TableName": "dc-it", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]})
    expect_ok(r, "CreateTable")
    desc = env.boto("dynamodb").describe_table(TableName="dc-it")["Table"]
    expect_eq(desc["KeySchema"][0]["AttributeName"], "id")
    for _ in range(3):
        r = dynamodb(env, "UpdateItem", {
            "TableName": "dc-it", "Key": {"id": {"S": "hits"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
            "ReturnValues": "UPDATED_NEW"})
        expect_ok(r, "UpdateItem")
    expect_eq(json.loads(out(r))["Attributes"]["n"]["N"], "3")
    item = env.boto("dynamodb").get_item(TableName="dc-it", Key={"id": {"S": "hits"}})
    expect_eq(item["Item"]["n"]["N"], "3")


def test_api_json_error_is_one_line_with_code(env):
    r = dynamodb(env, "DescribeTable", {"TableName": "missing"})
    expect_eq(r.returncode, 1, "exit")
    line = err(r).strip()
    expect(line.startswith("deployctl: ResourceNotFoundException"), line)
    expect("HTTP 400" in line, line)
    expect_eq(len(line.splitlines()), 1, "lines")


def test_api_lambda_list_functions(env):
    r = env.run("api", "lambda", "GET", "/2015-03-31/functions/")
    expect_ok(r)
    expect_eq(json.loads(out(r))["Functions"], [])


def test_api_apigatewayv2_get_apis(env):
    api = env.boto("apigatewayv2").create_api(Name="dc-it-api", ProtocolType="HTTP")
    r = env.run("api", "apigatewayv2", "GET", "/v2/apis")
    expect_ok(r)
    items = json.loads(out(r))["items"]
    expect_eq([i["apiId"] for i in items], [api["ApiId"]])


def test_api_s3_put_get_key_with_space_and_unicode(env):
    s3 = env.boto("s3")
    s3.create_bucket(Bucket="dc-it-bucket")
    key = "dir/hello wörld ✓.txt"
    path = "/dc-it-bucket/" + urllib.parse.quote(key, safe="/~")
    r = env.run("api", "s3", "PUT", path, "-d", "payload one")
    expect_ok(r, "PUT")
    got = s3.get_object(Bucket="dc-it-bucket", Key=key)["Body"].read()
    expect_eq(got, b"payload one")
    s3.put_object(Bucket="dc-it-bucket", Key=key, Body=b"payload two")
    r = env.run("api", "s3", "GET", path)
    expect_ok(r, "GET")
    expect_eq(r.stdout, b"payload two")


def test_api_s3_missing_key_fails_with_code(env):
    env.boto("s3").create_bucket(Bucket="dc-it-b2")
    r = env.run("api", "s3", "GET", "/dc-it-b2/nope", "-i")
    expect_eq(r.returncode, 1)
    expect("NoSuchKey" in err(r), err(r))
    expect(out(r).startswith("HTTP/1.1 404"), out(r)[:100])


def test_api_dry_run_sends_nothing(env):
    r = env.run("api", "s3", "PUT", "/dc-it-dry/x", "--dry-run", "-d", "x",
                env={"AWS_SESSION_TOKEN": "session-token-secret"})
    expect_ok(r)
    text = out(r)
    expect(text.startswith("PUT %s/dc-it-dry/x HTTP/1.1" % env.moto.url), text[:200])
    expect("Authorization: AWS4-HMAC-SHA256 Credential=AKIDTESTINGTESTING00/" in text, text)
    expect("session-token-secret" not in text, "token printed")
    names = [b["Name"] for b in env.boto("s3").list_buckets()["Buckets"]]
    expect("dc-it-dry" not in names, "dry run created a bucket")


def test_debug_log_redacts_secrets(env):
    r = env.run("--debug", "whoami", env={"AWS_SESSION_TOKEN": "session-token-secret"})
    expect_ok(r)
    log = err(r)
    expect("GetCallerIdentity" in log, "debug log shows no request")
    expect("session-token-secret" not in log, "token in debug log")
    expect("testing-secret-key-never-printed" not in log, "secret in debug log")
    sig = [l for l in log.splitlines() if "Signature=" in l]
    expect(not sig or all("Signature=[" in l or "[redacted]" in l for l in sig), sig)


def test_usage_errors_exit_2(env):
    cases = [
        (("frobnicate",), "'frobnicate' is not a deployctl command"),
        (("whoami", "--bogus"), "unknown option '--bogus'"),
        (("--output", "yaml", "whoami"), "--output must be 'text', 'json' or 'csv'"),
        (("api", "s3", "GET"), "api needs SERVICE METHOD PATH"),
        (("api", "nosuchsvc", "GET", "/"), "unknown AWS service 'nosuchsvc'"),
    ]
    for args, msg in cases:
        r = env.run(*args)
        expect_eq(r.returncode, 2, "exit of %s" % (args,))
        expect(err(r).startswith("deployctl: ") and msg in err(r), "%s: %r" % (args, err(r)))
        expect_eq(len(err(r).strip().splitlines()), 1, "one line for %s" % (args,))


def test_no_region_is_one_clear_line(env):
    r = env.run("whoami", env={"AWS_REGION": None})
    expect_eq(r.returncode, 1)
    expect("no AWS region configured" in err(r) and "--region" in err(r), err(r))


def test_no_credentials_is_one_clear_line(env):
    r = env.run("whoami", env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    expect_eq(r.returncode, 1)
    expect("no AWS credentials" in err(r), err(r))
    expect_eq(len(err(r).strip().splitlines()), 1)


def test_malformed_config_names_file_and_line(env):
    import os
    os.makedirs(env.home + "/.aws")
    with open(env.home + "/.aws/config", "w") as f:
        f.write("[default]\nregion = us-east-1\nthis line is wrong\n")
    r = env.run("whoami")
    expect_eq(r.returncode, 1)
    expect("config" in err(r) and "3" in err(r), err(r))


def test_unreachable_endpoint_fails_fast_and_clearly(env):
    from harness import free_port
    url = "http://127.0.0.1:%d" % free_port()
    r = env.run("whoami", env={"AWS_ENDPOINT_URL": url, "AWS_MAX_ATTEMPTS": "2"})
    expect_eq(r.returncode, 1)
    expect("127.0.0.1" in err(r) and "connect" in err(r), err(r))


def test_help_and_version(env):
    r = env.run("--help")
    expect_ok(r)
    for c in ("whoami", "api", "help"):
        expect(c in out(r), c)
    r = env.run("help", "api")
    expect_ok(r)
    expect("--dry-run" in out(r) and "--header" in out(r), out(r))
    r = env.run("api", "--help")
    expect_ok(r)
    r = env.run("--version")
    expect_ok(r)
    expect(out(r).startswith("deployctl "), out(r))
