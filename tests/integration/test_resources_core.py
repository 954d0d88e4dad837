"""The core resource types (iam.role, logs.log_group, dynamodb.table,
s3.bucket, s3.object) driven one at a time against moto through
tests/tools/resource_driver, each result checked with boto3."""
import hashlib
import json
import os

from harness import expect, expect_eq
from resource_driver import RefuseAfter, drive

TAGS = {"deployctl:stack": "it", "deployctl:arch": "test-arch"}
POLICY_VERSION = "2012-10-17"


def gone(call, code):
    """True when call() fails with the AWS error `code`."""
    try:
        call()
    except Exception as e:  # botocore.exceptions.ClientError
        got = getattr(e, "response", {}).get("Error", {}).get("Code")
        if got == code:
            return True
        raise
    return False


def expect_recorded_first(run, attrs, what):
    """The driver prints each ctx->record call when it happens; the first
    must be the create's, carrying the id create returned."""
    recs = run.records()
    expect(recs, "%s: no record: line on stderr: %s" % (what, run.stderr[:500]))
    expect(run.stderr.startswith("record: "), "%s: something came before the record: %s"
           % (what, run.stderr[:500]))
    expect_eq(recs[0]["id"], attrs["id"], what + " recorded id")


def expect_record_before_next_call(env, rtype, props, is_create, exists, **kw):
    """Let only the create call through: the type must have recorded the
    resource before the (refused) call that follows it, and fail."""
    proxy = RefuseAfter(env.moto.url, is_create)
    try:
        r = drive(env, "create", rtype, props, extra_env={"AWS_ENDPOINT_URL": proxy.url}, **kw)
    finally:
        proxy.stop()
    expect(r.returncode != 0, "%s: create should fail once calls are refused" % rtype)
    expect(proxy.refused() >= 1, "%s: no call came after the create call" % rtype)
    recs = r.records()
    expect_eq(len(recs), 1, rtype + " records before the refused call")
    expect(exists(recs[0]), "%s: recorded %r, but moto has no such resource" % (rtype, recs[0]))
    return recs[0]


def tag_list_to_dict(tags, k="Key", v="Value"):
    return {t[k]: t[v] for t in tags}


# ---- iam.role --------------------------------------------------------------

ALLOW = [
    {"action": "dynamodb:UpdateItem",
     "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/it-table"},
    {"action": ["logs:CreateLogStream", "logs:PutLogEvents"],
     "resource": ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/it-fn:*"]},
]


def role_props(allow=ALLOW, service="lambda.amazonaws.com", managed=None):
    p = {"service": service, "allow": allow}
    if managed is not None:
        p["managed_policies"] = managed
    return p


def expect_role(env, name, service, allow, managed):
    iam = env.boto("iam")
    role = iam.get_role(RoleName=name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    expect_eq(trust["Version"], POLICY_VERSION, "trust version")
    expect_eq(trust["Statement"], [{"Effect": "Allow", "Principal": {"Service": service},
                                    "Action": "sts:AssumeRole"}], "trust statements")
    names = iam.list_role_policies(RoleName=name)["PolicyNames"]
    expect_eq(names, ["deployctl"] if allow else [], "inline policy names")
    if allow:
        doc = iam.get_role_policy(RoleName=name, PolicyName="deployctl")["PolicyDocument"]
        if isinstance(doc, str):
            doc = json.loads(doc)
        want = [{"Effect": "Allow", "Action": a["action"], "Resource": a["resource"]}
                for a in allow]
        expect_eq(doc, {"Version": POLICY_VERSION, "Statement": want}, "inline policy")
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    expect_eq(sorted(p["PolicyArn"] for p in attached), sorted(managed), "managed policies")
    expect_eq(tag_list_to_dict(iam.list_role_tags(RoleName=name)["Tags"]), TAGS, "role tags")
    return role


def make_managed_policy(env, name):
    doc = {"Version": POLICY_VERSION,
           "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    return env.boto("iam").create_policy(PolicyName=name,
                                         PolicyDocument=json.dumps(doc))["Policy"]["Arn"]


def test_resources_core_iam_role_lifecycle(env):
    iam = env.boto("iam")
    p1 = make_managed_policy(env, "it-extra-1")
    p2 = make_managed_policy(env, "it-extra-2")
    r = drive(env, "create", "iam.role", role_props(managed=[p1]), logical="role").ok("create")
    attrs = r.value()
    expect_eq(attrs["id"], "it-role", "role id")
    expect_eq(attrs["name"], "it-role", "role name")
    role = expect_role(env, "it-role", "lambda.amazonaws.com", ALLOW, [p1])
    expect_eq(attrs["arn"], role["Arn"], "role arn")
    expect_recorded_first(r, attrs, "role create")

    again = drive(env, "create", "iam.role", role_props(managed=[p1]), logical="role")
    expect_eq(again.ok("create again").value(), attrs, "adopted role attrs")
    expect_eq(len(iam.list_roles()["Roles"]), 1, "roles after a second create")

    allow2 = [{"action": "s3:GetObject", "resource": "arn:aws:s3:::it-bucket/*"}]
    new = role_props(allow2, "edgelambda.amazonaws.com", [p2])
    u = drive(env, "update", "iam.role", new, old_props=role_props(managed=[p1]), attrs=attrs,
              logical="role").ok("update")
    expect_eq(u.value(), attrs, "attrs after update")
    expect_role(env, "it-role", "edgelambda.amazonaws.com", allow2, [p2])

    u = drive(env, "update", "iam.role", role_props([], managed=[]), old_props=new, attrs=attrs,
              logical="role").ok("update to no policy")
    expect_role(env, "it-role", "lambda.amazonaws.com", [], [])

    drive(env, "update", "iam.role", role_props(managed=[p1, p2]), old_props=new, attrs=attrs,
          logical="role").ok("update back")
    drive(env, "delete", "iam.role", attrs=attrs, logical="role").ok("delete")
    expect(gone(lambda: iam.get_role(RoleName="it-role"), "NoSuchEntity"), "role still there")
    for arn in (p1, p2):
        expect_eq(iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 0,
                  "attachments of a detached policy")
    drive(env, "delete", "iam.role", attrs=attrs, logical="role").ok("delete again")


def test_resources_core_iam_role_adopts_and_converges(env):
    iam = env.boto("iam")
    ec2_trust = {"Version": POLICY_VERSION, "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    made = iam.create_role(RoleName="it-role", AssumeRolePolicyDocument=json.dumps(ec2_trust))
    r = drive(env, "create", "iam.role", role_props(), logical="role").ok("adopting create")
    expect_eq(r.value()["arn"], made["Role"]["Arn"], "adopted arn")
    expect_role(env, "it-role", "lambda.amazonaws.com", ALLOW, [])


def test_resources_core_iam_role_records_before_next_call(env):
    iam = env.boto("iam")
    rec = expect_record_before_next_call(
        env, "iam.role", role_props(), lambda m, p, h, b: b"Action=CreateRole" in b,
        lambda rec: iam.get_role(RoleName=rec["id"])["Role"]["Arn"] == rec["arn"],
        logical="role")
    expect_eq(rec["id"], "it-role", "recorded role")


def test_resources_core_iam_role_rejects_bad_allow(env):
    r = drive(env, "create", "iam.role",
              {"service": "lambda.amazonaws.com", "allow": [{"action": "s3:GetObject"}]},
              logical="role")
    expect(r.returncode != 0, "an allow entry without a resource must be refused")
    expect("allow[0]" in r.stderr, r.stderr)
    expect_eq(env.boto("iam").list_roles()["Roles"], [], "roles made despite bad props")


# ---- logs.log_group ----------------------------------------------------------

def log_group(env, name):
    groups = env.boto("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g for g in groups if g["logGroupName"] == name), None)


def log_tags(env, arn):
    return env.boto("logs").list_tags_for_resource(resourceArn=arn)["tags"]


def test_resources_core_log_group_lifecycle(env):
    name = "/aws/lambda/it-fn"
    r = drive(env, "create", "logs.log_group", {"name": name}, logical="logs").ok("create")
    attrs = r.value()
    g = log_group(env, name)
    expect(g is not None, "log group missing")
    expect_eq(attrs, {"id": name, "name": name, "arn": g["arn"][:-2]}, "attrs")
    expect(g["arn"].endswith(":*"), g["arn"])
    expect_eq(g.get("retentionInDays"), 7, "default retention")
    expect_eq(log_tags(env, attrs["arn"]), TAGS, "tags")
    expect_recorded_first(r, attrs, "log group create")

    again = drive(env, "create", "logs.log_group", {"name": name}, logical="logs")
    expect_eq(again.ok("create again").value(), attrs, "adopted attrs")

    drive(env, "update", "logs.log_group", {"name": name, "retention_days": 30},
          old_props={"name": name}, attrs=attrs, logical="logs").ok("update")
    expect_eq(log_group(env, name).get("retentionInDays"), 30, "retention after update")
    drive(env, "update", "logs.log_group", {"name": name, "retention_days": 0},
          old_props={"name": name, "retention_days": 30}, attrs=attrs,
          logical="logs").ok("update to forever")
    expect_eq(log_group(env, name).get("retentionInDays"), None, "retention: never expire")
    r = drive(env, "update", "logs.log_group", {"name": name + "-2"},
              old_props={"name": name}, attrs=attrs, logical="logs").ok("rename")
    expect_eq(r.stdout.strip(), '"replace"', "a new name replaces the group")

    drive(env, "delete", "logs.log_group", attrs=attrs, logical="logs").ok("delete")
    expect(log_group(env, name) is None, "log group still there")
    drive(env, "delete", "logs.log_group", attrs=attrs, logical="logs").ok("delete again")


def test_resources_core_log_group_adopts_and_converges(env):
    name = "/aws/lambda/it-adopt"
    env.boto("logs").create_log_group(logGroupName=name)
    r = drive(env, "create", "logs.log_group", {"name": name, "retention_days": 14},
              logical="logs").ok("adopting create")
    expect_eq(r.records(), [], "an adopted group was created by someone else")
    expect_eq(log_group(env, name).get("retentionInDays"), 14, "retention")
    expect_eq(log_tags(env, r.value()["arn"]), TAGS, "tags")


def test_resources_core_log_group_records_before_next_call(env):
    name = "/aws/lambda/it-rec"
    expect_record_before_next_call(
        env, "logs.log_group", {"name": name},
        lambda m, p, h, b: h.get("X-Amz-Target", "").endswith(".CreateLogGroup"),
        lambda rec: rec["id"] == name and log_group(env, name)["arn"] == rec["arn"] + ":*",
        logical="logs")


# ---- dynamodb.table -----------------------------------------------------------

def test_resources_core_table_lifecycle(env):
    ddb = env.boto("dynamodb")
    props = {"hash_key": "pk", "hash_type": "N"}
    r = drive(env, "create", "dynamodb.table", props, logical="table").ok("create")
    attrs = r.value()
    t = ddb.describe_table(TableName="it-table")["Table"]
    expect_eq(attrs, {"id": "it-table", "name": "it-table", "arn": t["TableArn"]}, "attrs")
    expect_eq(t["TableStatus"], "ACTIVE", "status")
    expect_eq(t["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}], "key schema")
    expect_eq(t["AttributeDefinitions"], [{"AttributeName": "pk", "AttributeType": "N"}],
              "attribute definitions")
    expect_eq(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST", "billing")
    tags = ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"]
    expect_eq(tag_list_to_dict(tags), TAGS, "tags")
    expect_recorded_first(r, attrs, "table create")

    again = drive(env, "create", "dynamodb.table", props, logical="table")
    expect_eq(again.ok("create again").value(), attrs, "adopted attrs")
    other = drive(env, "create", "dynamodb.table", {"hash_key": "id"}, logical="table")
    expect(other.returncode != 0 and "another key" in other.stderr,
           "adopting a table with another key must fail: " + other.stderr)

    r = drive(env, "update", "dynamodb.table", {"hash_key": "id"}, old_props=props,
              attrs=attrs, logical="table").ok("update key")
    expect_eq(r.stdout.strip(), '"replace"', "a new key replaces the table")
    r = drive(env, "update", "dynamodb.table", {"hash_key": "pk", "hash_type": "S"},
              old_props=props, attrs=attrs, logical="table").ok("update key type")
    expect_eq(r.stdout.strip(), '"replace"', "a new key type replaces the table")
    r = drive(env, "update", "dynamodb.table", {"hash_key": "pk", "hash_type": "N"},
              old_props={"hash_key": "pk", "hash_type": "N", "x": 1}, attrs=attrs,
              arch="other-arch", logical="table").ok("update tags")
    expect_eq(r.value(), attrs, "attrs after an in-place update")
    tags = tag_list_to_dict(ddb.list_tags_of_resource(ResourceArn=attrs["arn"])["Tags"])
    expect_eq(tags["deployctl:arch"], "other-arch", "tags after update")

    drive(env, "delete", "dynamodb.table", attrs=attrs, logical="table").ok("delete")
    expect(gone(lambda: ddb.describe_table(TableName="it-table"), "ResourceNotFoundException"),
           "table still there")
    drive(env, "delete", "dynamodb.table", attrs=attrs, logical="table").ok("delete again")


def test_resources_core_table_default_key_type_and_record(env):
    ddb = env.boto("dynamodb")
    rec = expect_record_before_next_call(
        env, "dynamodb.table", {"hash_key": "id"},
        lambda m, p, h, b: h.get("X-Amz-Target", "").endswith(".CreateTable"),
        lambda rec: ddb.describe_table(TableName=rec["id"])["Table"]["TableArn"] == rec["arn"],
        logical="table")
    t = ddb.describe_table(TableName=rec["id"])["Table"]
    expect_eq(t["AttributeDefinitions"], [{"AttributeName": "id", "AttributeType": "S"}],
              "default hash type")


# ---- s3.bucket -----------------------------------------------------------------

def bucket_name(env, logical, region="us-east-1"):
    account = env.boto("sts").get_caller_identity()["Account"]
    h = hashlib.sha256(("%s:%s" % (account, region)).encode()).hexdigest()
    return "it-%s-%s" % (logical, h[:10])


def expect_private_bucket(env, name):
    s3 = env.boto("s3")
    bpa = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    expect_eq(bpa, {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True, "RestrictPublicBuckets": True}, "block public access")
    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    expect_eq([r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules],
              ["AES256"], "default encryption")
    tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
    expect_eq(tag_list_to_dict(tags), TAGS, "bucket tags")


def test_resources_core_bucket_lifecycle(env):
    s3 = env.boto("s3")
    name = bucket_name(env, "site")
    r = drive(env, "create", "s3.bucket", {}, logical="site").ok("create")
    attrs = r.value()
    expect_eq(attrs, {"id": name, "name": name, "arn": "arn:aws:s3:::" + name,
                      "domain": name + ".s3.us-east-1.amazonaws.com"}, "attrs")
    expect_private_bucket(env, name)
    expect_recorded_first(r, attrs, "bucket create")

    again = drive(env, "create", "s3.bucket", {}, logical="site")
    expect_eq(again.ok("create again").value(), attrs, "adopted attrs")
    expect_eq([b["Name"] for b in s3.list_buckets()["Buckets"]], [name], "buckets")

    s3.delete_public_access_block(Bucket=name)
    s3.delete_bucket_tagging(Bucket=name)
    drive(env, "update", "s3.bucket", {}, old_props={}, attrs=attrs,
          logical="site").ok("update")
    expect_private_bucket(env, name)

    drive(env, "delete", "s3.bucket", attrs=attrs, logical="site").ok("delete")
    expect(gone(lambda: s3.head_bucket(Bucket=name), "404"), "bucket still there")
    drive(env, "delete", "s3.bucket", attrs=attrs, logical="site").ok("delete again")


def test_resources_core_bucket_adopts_in_another_region(env):
    s3 = env.boto("s3")
    name = bucket_name(env, "site", "eu-west-2")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    r = drive(env, "create", "s3.bucket", {}, logical="site",
              extra_env={"AWS_REGION": "eu-west-2"}).ok("adopting create")
    expect_eq(r.records(), [], "an adopted bucket was created by someone else")
    expect_eq(r.value()["domain"], name + ".s3.eu-west-2.amazonaws.com", "domain")
    expect_private_bucket(env, name)
    fresh = drive(env, "create", "s3.bucket", {}, logical="other",
                  extra_env={"AWS_REGION": "eu-west-2"}).ok("create in eu-west-2")
    loc = s3.get_bucket_location(Bucket=fresh.value()["id"])["LocationConstraint"]
    expect_eq(loc, "eu-west-2", "location of a new bucket")


def test_resources_core_bucket_records_before_next_call(env):
    name = bucket_name(env, "site")
    s3 = env.boto("s3")
    expect_record_before_next_call(
        env, "s3.bucket", {}, lambda m, p, h, b: m == "PUT" and p == "/" + name,
        lambda rec: rec["id"] == name and s3.head_bucket(Bucket=name) is not None,
        logical="site")


def test_resources_core_bucket_emptied_before_delete(env):
    s3 = env.boto("s3")
    attrs = drive(env, "create", "s3.bucket", {}, logical="data").ok("create").value()
    name = attrs["id"]
    for i in range(1100):  # more than one page of ListObjectVersions
        s3.put_object(Bucket=name, Key="plain/%04d" % i, Body=b"x")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2", b"v3"):
        s3.put_object(Bucket=name, Key="dir/many versions & <xml>.txt", Body=body)
    s3.delete_object(Bucket=name, Key="dir/many versions & <xml>.txt")  # a delete marker
    v = s3.list_object_versions(Bucket=name, Prefix="dir/")
    expect_eq((len(v.get("Versions", [])), len(v.get("DeleteMarkers", []))), (3, 1),
              "versions and markers made")
    drive(env, "delete", "s3.bucket", attrs=attrs, logical="data").ok("delete a full bucket")
    expect(gone(lambda: s3.head_bucket(Bucket=name), "404"), "bucket still there")


# ---- s3.object ----------------------------------------------------------------

def make_templates(env):
    root = os.path.join(env.home, "templates")
    arch = os.path.join(root, "arch")
    os.makedirs(os.path.join(arch, "site"))
    os.makedirs(os.path.join(root, "common"))
    with open(os.path.join(arch, "site", "index.html"), "w") as f:
        f.write("<h1>one</h1>\n")
    with open(os.path.join(root, "common", "style.css"), "w") as f:
        f.write("body { color: red }\n")
    outside = os.path.join(env.home, "outside-secret.txt")
    with open(outside, "w") as f:
        f.write("secret\n")
    os.symlink(outside, os.path.join(arch, "link.txt"))
    return root, arch


def get_object(env, bucket, key):
    o = env.boto("s3").get_object(Bucket=bucket, Key=key)
    return o["Body"].read(), o["ContentType"], o["ETag"].strip('"')


def test_resources_core_object_lifecycle(env):
    root, arch = make_templates(env)
    bucket = drive(env, "create", "s3.bucket", {}, logical="site").ok("bucket").value()["id"]
    props = {"bucket": bucket, "key": "index.html", "source": "site/index.html"}
    r = drive(env, "create", "s3.object", props, logical="page", template_dir=arch).ok("create")
    attrs = r.value()
    body, ctype, etag = get_object(env, bucket, "index.html")
    expect_eq(body, b"<h1>one</h1>\n", "body")
    expect(ctype.startswith("text/html"), "content type " + ctype)
    expect_eq(attrs, {"id": bucket + "/index.html", "etag": etag,
                      "sha256": hashlib.sha256(body).hexdigest()}, "attrs")
    expect_recorded_first(r, attrs, "object create")
    again = drive(env, "create", "s3.object", props, logical="page", template_dir=arch)
    expect_eq(again.ok("create again").value(), attrs, "attrs of a second create")

    with open(os.path.join(arch, "site", "index.html"), "w") as f:
        f.write("<h1>two</h1>\n")
    u = drive(env, "update", "s3.object", props, old_props=props, attrs=attrs, logical="page",
              template_dir=arch).ok("update content").value()
    body, ctype, etag = get_object(env, bucket, "index.html")
    expect_eq(body, b"<h1>two</h1>\n", "body after update")
    expect_eq(u, {"id": attrs["id"], "etag": etag,
                  "sha256": hashlib.sha256(body).hexdigest()}, "attrs after update")
    expect(u["etag"] != attrs["etag"], "etag unchanged")

    typed = dict(props, content_type="text/plain")
    drive(env, "update", "s3.object", typed, old_props=props, attrs=u, logical="page",
          template_dir=arch).ok("update content type")
    expect_eq(get_object(env, bucket, "index.html")[1], "text/plain", "type after update")
    r = drive(env, "update", "s3.object", dict(props, key="other.html"), old_props=props,
              attrs=u, logical="page", template_dir=arch).ok("new key")
    expect_eq(r.stdout.strip(), '"replace"', "a new key replaces the object")

    drive(env, "delete", "s3.object", attrs=u, logical="page").ok("delete")
    expect(gone(lambda: env.boto("s3").head_object(Bucket=bucket, Key="index.html"), "404"),
           "object still there")
    drive(env, "delete", "s3.object", attrs=u, logical="page").ok("delete again")
    drive(env, "delete", "s3.object", attrs={"id": "no-such-bucket-x/k"},
          logical="page").ok("delete from a bucket that is gone")


def test_resources_core_object_content_types_and_sources(env):
    root, arch = make_templates(env)
    bucket = drive(env, "create", "s3.bucket", {}, logical="site").ok("bucket").value()["id"]
    cases = [
        ({"key": "app.js", "content": "let x = 1;"}, b"let x = 1;", "text/javascript"),
        ({"key": "data.json", "content": "{}"}, b"{}", "application/json"),
        ({"key": "readme.txt", "content": "hi"}, b"hi", "text/plain"),
        ({"key": "css/main", "source": "../common/style.css"}, b"body { color: red }\n",
         "text/css"),
        ({"key": "blob.bin", "content": "\u00e9"}, "\u00e9".encode(), "application/octet-stream"),
    ]
    for props, want_body, want_type in cases:
        drive(env, "create", "s3.object", dict(props, bucket=bucket), logical="o",
              template_dir=arch).ok("create %s" % props["key"])
        body, ctype, _ = get_object(env, bucket, props["key"])
        expect_eq(body, want_body, props["key"])
        expect(ctype.startswith(want_type), "%s: content type %s" % (props["key"], ctype))
    for source in ("/etc/hostname", "../../outside-secret.txt", "link.txt", "missing.html",
                   ""):
        r = drive(env, "create", "s3.object", {"bucket": bucket, "key": "bad", "source": source},
                  logical="o", template_dir=arch)
        expect(r.returncode != 0, "source %r must be refused" % source)
        expect("secret" not in r.stdout, r.stdout)
    keys = [o["Key"] for o in env.boto("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    expect("bad" not in keys, "an object came from a refused source")


# ---- find ----------------------------------------------------------------------

def test_resources_core_find_what_state_does_not_know(env):
    iam, ddb, logs, s3 = (env.boto(s) for s in ("iam", "dynamodb", "logs", "s3"))
    trust = json.dumps({"Version": POLICY_VERSION, "Statement": []})
    tag_list = [{"Key": k, "Value": v} for k, v in TAGS.items()]
    role = iam.create_role(RoleName="it-role", AssumeRolePolicyDocument=trust, Tags=tag_list)
    iam.create_role(RoleName="it-untagged", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="it-theirs", AssumeRolePolicyDocument=trust,
                    Tags=[{"Key": "deployctl:stack", "Value": "other"}])
    table = ddb.create_table(TableName="it-table", BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                             Tags=tag_list)["TableDescription"]
    logs.create_log_group(logGroupName="/it/logs", tags=TAGS)
    logs.create_log_group(logGroupName="/it/logs-untagged")
    bucket = bucket_name(env, "site")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"x")

    def find(rtype, logical, props=None, stack="it"):
        return drive(env, "find", rtype, props or {}, logical=logical,
                     stack=stack).ok("find " + rtype).value()

    expect_eq(find("iam.role", "role"), [{"id": "it-role", "name": "it-role",
                                          "arn": role["Role"]["Arn"]}], "found role")
    expect_eq(find("iam.role", "untagged"), [], "an untagged role is not ours")
    expect_eq(find("iam.role", "theirs"), [], "a role tagged for another stack")
    expect_eq(find("iam.role", "nothing"), [], "no role")
    expect_eq(find("dynamodb.table", "table"), [{"id": "it-table", "name": "it-table",
                                                 "arn": table["TableArn"]}], "found table")
    expect_eq(find("dynamodb.table", "nothing"), [], "no table")
    found = find("logs.log_group", "logs", {"name": "/it/logs"})
    expect_eq([g["id"] for g in found], ["/it/logs"], "found log group")
    expect_eq(find("logs.log_group", "logs", {"name": "/it/logs-untagged"}), [],
              "an untagged log group is not ours")
    expect_eq(find("logs.log_group", "logs", {"name": "/it/none"}), [], "no log group")
    expect_eq([b["id"] for b in find("s3.bucket", "site")], [bucket], "found bucket")
    expect_eq(find("s3.bucket", "site", stack="other"), [], "no bucket of that stack")
    found = find("s3.object", "page", {"bucket": bucket, "key": "index.html"})
    expect_eq([o["id"] for o in found], [bucket + "/index.html"], "found object")
    expect_eq(find("s3.object", "page", {"bucket": bucket, "key": "none"}), [], "no object")
