"""Write the seed corpora tests/fuzz/corpus/<name>/ from real shapes: AWS's
documented answers, botocore's models and examples, the SigV4 test suite,
our templates and state files. Files are named by a hash of their content;
moto's answers (ids, dates) and /tmp's state files differ from run to run,
so rerunning adds seeds rather than rewriting them: run one generator
(`python3 tests/fuzz/seeds.py local`) to add its seeds."""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


CREDS = {"AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
         "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "Token": "IQoJb3JpZ2luX2VjEXAMPLETOKEN", "Expiration": "2024-05-01T12:00:00Z"}


def credentials():
    # botocore ProcessProvider's documented reply.
    p = {"Version": 1, "AccessKeyId": CREDS["AccessKeyId"],
         "SecretAccessKey": CREDS["SecretAccessKey"], "SessionToken": CREDS["Token"],
         "Expiration": CREDS["Expiration"]}
    put("credential_process", json.dumps(p, indent=2))
    put("credential_process", json.dumps({k: v for k, v in p.items()
                                          if k not in ("SessionToken", "Expiration")}))
    put("credential_process", json.dumps(dict(p, Expiration="2024-05-01T12:00:00.123+02:00")))
    put("credential_process", json.dumps(dict(p, Version=2)))
    put("credential_process", json.dumps(dict(p, Expiration=None)))
    put("credential_process", '{"Version": 1.0, "AccessKeyId": "", "SecretAccessKey": 5}')
    # ECS/EKS container endpoint (botocore ContainerMetadataFetcher).
    c = {"RoleArn": "arn:aws:iam::123456789012:role/task", **CREDS}
    put("container", json.dumps(c, indent=2))
    put("container", json.dumps(dict(c, Expiration="2024-05-01T12:00:00.000+00:00")))
    put("container", json.dumps({"code": "Forbidden", "message": "nope"}))
    put("container", "[1, 2]")
    # IMDS: role listing NUL credentials (botocore InstanceMetadataFetcher).
    i = {"Code": "Success", "LastUpdated": "2024-05-01T06:00:00Z", "Type": "AWS-HMAC", **CREDS}
    put("imds", "my-instance-role\0" + json.dumps(i, indent=2))
    put("imds", "role+=,.@_-\n\0" + json.dumps(i))
    put("imds", "r\0" + json.dumps({"Code": "AssumeRoleUnauthorizedAccess",
                                     "Message": "EC2 cannot assume the role",
                                     "LastUpdated": "2024-05-01T06:00:00Z"}))
    put("imds", "r\0" + json.dumps(dict(i, Expiration="tomorrow")))
    # STS answers, as in AWS's API reference.
    for action in ("AssumeRole", "AssumeRoleWithWebIdentity"):
        put("sts", """<%(a)sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <%(a)sResult>
    <SourceIdentity>DevUser123</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/John</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:John</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>%(k)s</AccessKeyId>
      <SecretAccessKey>%(s)s</SecretAccessKey>
      <SessionToken>%(t)s</SessionToken>
      <Expiration>%(e)s</Expiration>
    </Credentials>
    <PackedPolicySize>8</PackedPolicySize>
  </%(a)sResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</%(a)sResponse>
""" % dict(a=action, k=CREDS["AccessKeyId"], s=CREDS["SecretAccessKey"], t=CREDS["Token"],
           e=CREDS["Expiration"]))
    put("sts", "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A"
               "</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>")


def config():
    # One option byte (the profile), then config NUL credentials.
    cfg = """# deployctl fuzz seed: the shapes of the AWS CLI's config file
[default]
region = eu-west-2
output = json
max_attempts = 5
ca_bundle = /etc/ssl/certs/ca-certificates.crt

[profile dev]
region=us-east-1
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = default
credential_process = "/opt/bin/creds helper" --profile 'dev' --flag\\ x
services = dev-services
s3 =
  addressing_style = path
  max_concurrent_requests = 20

[profile prod]
sso_session = my-sso
sso_account_id = 111122223333
sso_role_name = Admin
region: ap-southeast-2
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

[sso-session my-sso]
sso_region = us-east-1
sso_start_url = https://my-sso-portal.awsapps.com/start

[services dev-services]
dynamodb =
  endpoint_url = http://localhost:8000
s3 =
    endpoint_url = https://s3.example.com:9000/base/
endpoint_url = http://127.0.0.1:5000

; a comment
[profile "quoted name"]
region = us-west-2
web_identity_token_file = /var/run/token
"""
    creds = """[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

[dev]
aws_access_key_id=ASIAIOSFODNN7EXAMPLE
aws_secret_access_key=secret
aws_session_token = IQoJb3JpZ2luX2VjEXAMPLE
aws_security_token =
region = eu-central-1
"""
    for b in range(4):
        put("config", bytes([b]) + cfg.encode() + b"\0" + creds.encode())
    put("config", b"\2[profile dev]\nregion = not_a_region!\n\0")
    put("config", b"\0[DEFAULT]\nregion = us-east-2\n[default]\nmax_attempts: 0x10\n"
        b"  continued value\n\t more\n\0[default]\naws_access_key_id =\n")
    put("config", b"\1[default]\n[default]\nkey = 1\nkey = 2\n\0")
    put("config", b"\3\0[prod]\naws_access_key_id = A\n")


def captured():
    """Answers of moto (which mimics AWS's wire formats) to the calls our
    resource types make, captured from botocore's before-parse event: the
    2xx bodies seed xml/json, the errors (status, headers, body) seed error."""
    import boto3
    from moto import mock_aws
    os.environ.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                      AWS_DEFAULT_REGION="us-east-1")
    protocols = {"iam": 0, "sts": 0, "elbv2": 0, "ec2": 1, "dynamodb": 2, "logs": 2,
                 "ssm": 2, "ecs": 2, "lambda": 3, "apigatewayv2": 3, "efs": 3, "s3": 4}
    statuses = [400, 403, 404, 409, 500, 503, 301, 413]

    def hook(name):
        def on_parse(operation_model=None, response_dict=None, **kw):
            body = response_dict["body"]
            status = response_dict["status_code"]
            if 200 <= status < 300:
                if body.lstrip().startswith(b"<"):
                    put("xml", body)
                    if name == "sts":
                        put("sts", body)
                elif body:
                    put("json", body)
                return
            head = "".join("%s: %s\r\n" % kv for kv in response_dict["headers"].items())
            st = statuses.index(status) if status in statuses else 0
            put("error", bytes([protocols[name], st]) + head.encode() + b"\r\n" + body)
        return on_parse

    def client(name):
        c = boto3.client(name, region_name="us-east-1")
        c.meta.events.register("before-parse", hook(name))
        return c

    def attempt(f, *a, **k):
        try:
            f(*a, **k)
        except Exception:
            pass

    with mock_aws():
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]})
        iam = client("iam")
        role = iam.create_role(RoleName="demo-fn", AssumeRolePolicyDocument=trust,
                               Tags=[{"Key": "deployctl:stack", "Value": "demo"}])
        iam.get_role(RoleName="demo-fn")
        iam.list_role_tags(RoleName="demo-fn")
        attempt(iam.put_role_policy, RoleName="demo-fn", PolicyName="p", PolicyDocument=trust)
        iam.list_role_policies(RoleName="demo-fn")
        attempt(iam.get_role, RoleName="missing")
        attempt(iam.create_role, RoleName="demo-fn", AssumeRolePolicyDocument=trust)
        sts = client("sts")
        sts.get_caller_identity()
        sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="session")
        ec2 = client("ec2")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        sg = ec2.create_security_group(GroupName="demo", Description="d", VpcId=vpc)
        ec2.describe_security_groups(GroupIds=[sg["GroupId"]])
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
        res = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "deployctl:stack", "Value": "demo"}]}])
        ec2.describe_instances(InstanceIds=[res["Instances"][0]["InstanceId"]])
        attempt(ec2.describe_instances, InstanceIds=["i-0123456789abcdef0"])
        attempt(ec2.delete_security_group, GroupId="sg-00000000")
        elb = client("elbv2")
        lb = elb.create_load_balancer(Name="demo", Subnets=subnets[:2])
        tg = elb.create_target_group(Name="demo", Protocol="HTTP", Port=80, VpcId=vpc)
        elb.create_listener(LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"],
                            Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward",
                            "TargetGroupArn": tg["TargetGroups"][0]["TargetGroupArn"]}])
        elb.describe_tags(ResourceArns=[lb["LoadBalancers"][0]["LoadBalancerArn"]])
        attempt(elb.describe_load_balancers, Names=["missing"])
        ddb = client("dynamodb")
        ddb.create_table(TableName="demo", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         Tags=[{"Key": "deployctl:stack", "Value": "demo"}])
        ddb.describe_table(TableName="demo")
        ddb.list_tags_of_resource(ResourceArn="arn:aws:dynamodb:us-east-1:123456789012:table/demo")
        attempt(ddb.describe_table, TableName="missing")
        logs = client("logs")
        logs.create_log_group(logGroupName="/demo", tags={"deployctl:stack": "demo"})
        logs.describe_log_groups(logGroupNamePrefix="/demo")
        attempt(logs.create_log_group, logGroupName="/demo")
        ssm = client("ssm")
        ssm.put_parameter(Name="/demo/p", Value="v", Type="String")
        ssm.get_parameter(Name="/demo/p")
        attempt(ssm.get_parameter, Name="/missing")
        ecs = client("ecs")
        ecs.create_cluster(clusterName="demo", tags=[{"key": "deployctl:stack", "value": "demo"}])
        ecs.describe_clusters(clusters=["demo"], include=["TAGS"])
        attempt(ecs.describe_services, cluster="missing", services=["x"])
        lam = client("lambda")
        attempt(lam.get_function, FunctionName="missing")
        attempt(lam.get_policy, FunctionName="missing")
        apigw = client("apigatewayv2")
        api = apigw.create_api(Name="demo", ProtocolType="HTTP", Tags={"deployctl:stack": "demo"})
        apigw.get_api(ApiId=api["ApiId"])
        attempt(apigw.get_api, ApiId="missing")
        efs = client("efs")
        efs.create_file_system(CreationToken="demo", Tags=[{"Key": "deployctl:stack",
                                                              "Value": "demo"}])
        efs.describe_file_systems()
        attempt(efs.describe_file_systems, FileSystemId="fs-missing")
        s3 = client("s3")
        s3.create_bucket(Bucket="demo-bucket")
        s3.put_bucket_versioning(Bucket="demo-bucket",
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_tagging(Bucket="demo-bucket", Tagging={"TagSet": [
            {"Key": "deployctl:stack", "Value": "demo"}]})
        s3.get_bucket_tagging(Bucket="demo-bucket")
        s3.put_object(Bucket="demo-bucket", Key="k", Body=b"x")
        s3.delete_object(Bucket="demo-bucket", Key="k")
        s3.list_object_versions(Bucket="demo-bucket")
        attempt(s3.get_bucket_tagging, Bucket="missing-bucket")
        attempt(s3.create_bucket, Bucket="demo-bucket")
    # Error shapes moto does not make: the X-Amzn-ErrorType header, a proxy's page.
    put("error", b"\x03\x00X-Amzn-ErrorType: ResourceNotFoundException:http://internal\r\n"
        b"x-amzn-RequestId: 1234\r\n\r\n{\"Message\": \"Function not found\"}")
    put("error", b"\x02\x04Content-Type: text/html\r\n\r\n<html><body>502 Bad Gateway"
        b"</body></html>\x01\xff")
    put("error", b"\x01\x00\r\n<Response><Errors><Error><Code>InvalidGroup.NotFound</Code>"
        b"<Message>The security group does not exist</Message></Error></Errors>"
        b"<RequestID>59dbff89-35bd-4eac-99ed-be587EXAMPLE</RequestID></Response>")


def examples():
    """botocore's examples-1.json: documented outputs of JSON services."""
    import botocore
    data = os.path.join(os.path.dirname(botocore.__file__), "data")
    for svc in ("dynamodb", "lambda", "ecs", "logs", "ssm", "apigatewayv2", "efs"):
        for path in glob.glob(os.path.join(data, svc, "*", "examples-1.json")):
            with open(path) as f:
                ex = json.load(f).get("examples", {})
            for op in sorted(ex)[:12]:
                for e in ex[op][:1]:
                    if e.get("output"):
                        put("json", json.dumps(e["output"], indent=1))


def stack():
    """Our templates (arch renamed "fuzz", with --param overrides) and stack
    documents shaped as `up` writes them (name "fuzz"): those state files of
    recent test runs that /tmp still holds, else one made here."""
    for path in sorted(glob.glob(os.path.join(ROOT, "templates", "*", "stack.json"))):
        with open(path) as f:
            t = json.load(f)
        t["arch"] = "fuzz"
        text = json.dumps(t, indent=2)
        put("template", text)
        params = sorted(t.get("params", {}))
        if params:
            put("template", text + "\0" + "\n".join(
                ["%s=%s" % (params[0], v) for v in ("1", '"x"', "{}", "")] +
                ["nope=1", "=", params[-1] + "=[1,2]"]))
    docs = []
    for path in sorted(glob.glob("/tmp/deployctl-it-*/state/stacks/*.json"))[:40]:
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError):
            continue
        if d.get("arch") in ("lambda-python-dynamodb", "lambda-cpp-dynamodb", "fargate-ecs"):
            docs.append(d)
    if not docs:
        docs.append({"version": 1, "arch": "lambda-python-dynamodb", "target": "aws",
                     "region": "eu-west-2", "account": "123456789012", "params": {},
                     "resources": {"table": {"type": "dynamodb.table", "status": "created",
                                             "props": {"hash_key": "id"}, "deps": [],
                                             "attrs": {"arn": "arn:aws:dynamodb:eu-west-2:"
                                                       "123456789012:table/fuzz-table",
                                                       "name": "fuzz-table"}}},
                     "outputs": {}})
    seen = set()
    for d in docs:
        if d.get("arch") in seen:
            continue
        seen.add(d["arch"])
        d["name"] = "fuzz"
        put("state", json.dumps(d, indent=2, sort_keys=True))
        local = dict(d, target="local", region="local", account="000000000000")
        put("state", json.dumps(local, sort_keys=True))
        r = json.loads(json.dumps(d))
        for i, e in enumerate(r["resources"].values()):
            e["status"] = ("creating", "deleting", "created")[i % 3]
            if i % 4 == 1:
                e.pop("attrs", None)
        put("state", json.dumps(r))
    put("state", '{"version": 2, "name": "fuzz", "resources": {}}')
    put("state", '{"version": 1, "name": "fuzz", "resources": {}, "version": 1}')


def local():
    """The local target: HTTP requests as clients send them (the SigV4
    suite's requests, the gateway's and Runtime API's own), Runtime API
    scripts as the runtimes in tests/tools/runtime_*.py|js speak it."""
    suite = os.path.join("/work/shared", "sigv4-testsuite", "v4")
    for path in sorted(glob.glob(os.path.join(suite, "*", "request.txt")))[:30]:
        with open(path, "rb") as f:
            text = f.read()
        head, _, body = text.partition(b"\n\n")
        lines = head.split(b"\n")
        if body:
            lines.append(b"Content-Length: %d" % len(body))
        put("server", b"\r\n".join(lines) + b"\r\n\r\n" + body)
    ev = json.dumps({"version": "2.0", "routeKey": "GET /hits", "rawPath": "/hits"})
    rt = "/2018-06-01/runtime"
    put("server", "GET %s/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"
        "User-Agent: python-urllib3\r\n\r\n" % rt)
    put("server", "POST %s/invocation/abc/response HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        "GET /hits?a=1&b=%%20 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        "HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n" % (rt, len(ev), ev))
    put("server", "PUT /functions/fn HTTP/1.1\r\nX-Deployctl-Token: 0123abcd\r\n"
        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    put("server", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
    put("server", "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
    put("server", "GET  HTTP/1.1\r\n: x\r\n\r\n")
    R = "\x1e"
    put("runtime_api", R.join(["INVOKE\n" + ev, "GET %s/invocation/next\n" % rt,
                                "POST %s/invocation/{id}/response\n{\"statusCode\": 200}" % rt]))
    put("runtime_api", R.join(["INVOKE\n{}", "INVOKE\n[]", "GET %s/invocation/next\n" % rt,
                                "POST %s/invocation/{id}/error\n" % rt +
                                json.dumps({"errorType": "Runtime.HandlerNotFound",
                                            "errorMessage": "no handler", "stackTrace": []}),
                                "GET %s/invocation/next?x\n" % rt,
                                "POST %s/invocation/{id}/response\n\"done\"" % rt,
                                "POST %s/invocation/{id}/response\nagain" % rt]))
    put("runtime_api", R.join(["POST %s/init/error\n" % rt +
                                json.dumps({"errorType": "Runtime.ImportModuleError",
                                            "errorMessage": "No module named 'x'"}),
                                "POST %s/init/error\nnot json" % rt,
                                "GET %s/invocation/next\n" % rt,
                                "POST %s/invocation/nope/response\n" % rt,
                                "DELETE /2018-06-01/runtime/invocation/x/error\n",
                                "GET /other\n"]))


def gateway():
    """Gateway inputs: routes as the control channel stores them, a client's
    request, the function's answer (the shapes of API Gateway's payload
    format 2.0 documentation)."""
    R = b"\x1e"
    api = json.dumps({"integrations": {"i1": {"uri": "arn:aws:lambda:local:000000000000:"
                                              "function:fn"}},
                      "routes": {"r1": {"route_key": "GET /hits", "target": "integrations/i1"},
                                 "r2": {"route_key": "ANY /{proxy+}",
                                        "target": "integrations/i1"},
                                 "r3": {"route_key": "$default", "target": "integrations/i1"}}})
    requests = [
        b"GET /hits?a=1&a=2&b=%41+c HTTP/1.1\r\nHost: abc.execute-api.local:8080\r\n"
        b"User-Agent: curl/8\r\nCookie: s=1; t=2\r\nX-Multi: a\r\nx-multi: b\r\n\r\n",
        b"POST /items/42 HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: 4\r\n\r\n\x00\xff\x01\x02",
        b"POST /files/a/b/c HTTP/1.1\r\nContent-Type: application/vnd.api+json\r\n"
        b"Content-Length: 2\r\n\r\n{}GET /gone HTTP/1.1\r\n\r\nGET /nothing HTTP/1.0\r\n\r\n",
    ]
    answers = [
        json.dumps({"statusCode": 200, "headers": {"Content-Type": "text/html", "X-N": 5,
                                                   "X-B": True},
                    "cookies": ["a=1; Path=/", "b=2"], "body": "<h1>hits: 3</h1>"}),
        json.dumps({"statusCode": "201", "isBase64Encoded": True, "body": "aGVsbG8="}),
        json.dumps({"hits": 3}),
        json.dumps({"statusCode": 99}),
        "\"just a string\"",
        "not json",
        "!" + json.dumps({"errorType": "Error", "errorMessage": "boom"}),
    ]
    for i, a in enumerate(answers):
        put("gateway", (api if i % 2 == 0 else "").encode() + R + requests[i % 3] + R +
            a.encode())


def redact():
    """What the wire log shows: answers' bodies (the seeds of sts, json and
    xml), headers, and the SigV4 suite's presigned URLs."""
    for name in ("sts", "json", "xml"):
        for path in sorted(glob.glob(os.path.join(CORPUS, name, "*")))[:8]:
            with open(path, "rb") as f:
                put("redact", b"\0" + f.read())
    put("redact", b"\0Action=AssumeRole&Password=hunter2&RoleArn=x&Token=abc")
    put("redact", b"\x01Authorization\0AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
        b"us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef")
    put("redact", b"\x01X-Amz-Security-Token\0IQoJb3JpZ2luX2Vj")
    put("redact", b"\x01Set-Cookie\0session=1; Path=/")
    put("redact", b"\x01x-amz-request-id\0ABC123")
    suite = os.path.join("/work/shared", "sigv4-testsuite", "v4")
    for path in sorted(glob.glob(os.path.join(suite, "*", "query-signed-request.txt")))[:10]:
        with open(path, "rb") as f:
            line = f.readline().split(b" ")
        if len(line) > 1:
            put("redact", b"\x02https://example.amazonaws.com" + line[1])
    put("redact", b"\x02https://user:pa%20ss@host:8080/p?X-Amz-Signature=abc&NextToken=keep#f")


def bench():
    """CloudWatch Logs REPORT lines as Lambda writes them, and GetProducts
    answers (PriceList: products as JSON strings) as the Price List API
    reference shows them."""
    put("bench", b"\0START RequestId: 8f5b1c2e-1111-2222-3333-444455556666 Version: $LATEST\n"
        b"END RequestId: 8f5b1c2e-1111-2222-3333-444455556666\n"
        b"REPORT RequestId: 8f5b1c2e-1111-2222-3333-444455556666\tDuration: 12.34 ms\t"
        b"Billed Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\t\n"
        b"REPORT RequestId: x\tDuration: 1.10 ms\tBilled Duration: 152 ms\tMemory Size: "
        b"128 MB\tMax Memory Used: 71 MB\tInit Duration: 150.10 ms\t\n")

    def product(sku, unit, begin, price):
        return json.dumps({"product": {"productFamily": "Serverless", "sku": sku,
                                       "attributes": {"group": "AWS-Lambda-Requests",
                                                      "location": "EU (London)"}},
                           "serviceCode": "AWSLambda",
                           "terms": {"OnDemand": {sku + ".JRTCKXETXF": {
                               "offerTermCode": "JRTCKXETXF", "sku": sku,
                               "effectiveDate": "2024-05-01T00:00:00Z",
                               "priceDimensions": {sku + ".JRTCKXETXF.6YS6EN2CT7": {
                                   "unit": unit, "beginRange": begin, "endRange": "Inf",
                                   "pricePerUnit": {"USD": price},
                                   "description": "$0.20 per 1M requests"}}}}},
                           "version": "20240501", "publicationDate": "2024-05-01T00:00:00Z"})
    ans = {"FormatVersion": "aws_v1", "NextToken": "abc",
           "PriceList": [product("SKU1", "Requests", "0", "0.0000002000"),
                         product("SKU2", "Lambda-GB-Second", "0", "0.0000166667"),
                         product("SKU3", "Lambda-GB-Second", "6000000000", "0.0000150000"),
                         product("SKU4", "Hrs", "0", "0.0416000000")]}
    put("bench", b"\1" + json.dumps(ans).encode())
    put("bench", b"\1" + json.dumps({"PriceList": ["{}", "not json", 5,
                                                    product("S", "Requests", "x", "-1")]}).encode())


def main():
    which = sys.argv[1:]
    for name, fn in GENERATORS:
        if not which or name in which:
            fn()


GENERATORS = [("credentials", credentials), ("config", config), ("captured", captured),
              ("examples", examples), ("stack", stack),
              ("local", local), ("gateway", gateway),
              ("redact", redact),
              ("bench", bench)]

if __name__ == "__main__":
    main()
