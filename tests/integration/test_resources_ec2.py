"""The EC2 and SSM resource types (ec2.default_vpc, ssm.parameter,
ec2.security_group, ec2.instance) driven one at a time against moto through
tests/tools/resource_driver, each result checked with boto3, every request
checked against botocore's EC2 model."""
import base64
import os
import tempfile
import threading
import time
import urllib.parse

from harness import expect, expect_eq
from resource_driver import RefuseAfter, drive
from resource_support import Driver, Recorder

AMI_PARAM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
TAGS = {"deployctl:stack": "drv", "deployctl:arch": "test-arch"}


# ---- EC2 query forms against botocore's model --------------------------------

_EC2 = None


def ec2_model():
    global _EC2
    if _EC2 is None:
        import botocore.session
        _EC2 = botocore.session.get_session().get_service_model("ec2")
    return _EC2


def _wire(name, member):
    s = member.serialization
    if s.get("queryName"):
        return s["queryName"]
    if s.get("name"):
        return s["name"][0].upper() + s["name"][1:]
    return name


def _walk(shape, parts, key):
    """Problems with one form key (split on '.') below shape."""
    if shape.type_name == "structure":
        if not parts:
            return ["%s: stops at structure %s" % (key, shape.name)]
        by_wire = {_wire(n, m): m for n, m in shape.members.items()}
        if parts[0] not in by_wire:
            return ["%s: %r is not a member of %s" % (key, parts[0], shape.name)]
        return _walk(by_wire[parts[0]], parts[1:], key)
    if shape.type_name == "list":
        if not parts or not parts[0].isdigit() or int(parts[0]) < 1:
            return ["%s: list %s needs an index from 1" % (key, shape.name)]
        return _walk(shape.member, parts[1:], key)
    if parts:
        return ["%s: %s is a %s, not a structure" % (key, shape.name, shape.type_name)]
    return []


def form_problems(form):
    """What in one EC2 query body (a dict of its fields) does not fit the
    operation's input shape in botocore's EC2 model."""
    op = ec2_model().operation_model(form["Action"])
    shape = op.input_shape
    out = []
    for key, value in form.items():
        if key in ("Action", "Version"):
            continue
        out += _walk(shape, key.split("."), key)
    for req in shape.required_members:
        w = _wire(req, shape.members[req])
        if not any(k == w or k.startswith(w + ".") for k in form):
            out.append("%s: required member %s missing" % (op.name, w))
    return out


def forms(rec, service="ec2"):
    return [dict(urllib.parse.parse_qsl(r["body"].decode(), keep_blank_values=True))
            for r in rec.requests if r["service"] == service]


def expect_forms_fit(rec):
    """Every EC2 request fits botocore's model; returns the action names."""
    problems, names = [], []
    for f in forms(rec):
        names.append(f["Action"])
        problems += form_problems(f)
    expect(not problems, "EC2 requests that do not fit botocore's model:\n" + "\n".join(problems))
    return names


def changing(names):
    return [n for n in names if not n.startswith("Describe")]


def tags_of(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


# ---- ec2.default_vpc, ssm.parameter ------------------------------------------

def test_resources_ec2_default_vpc(env):
    ec2 = env.boto("ec2")
    d = Driver(env)
    try:
        attrs = d.ok("create", "ec2.default_vpc").out
        expect_forms_fit(d.rec)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
        subnets = ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
        expect_eq(attrs, {"id": vpc["VpcId"], "vpc_id": vpc["VpcId"], "cidr": vpc["CidrBlock"],
                          "subnets": sorted(s["SubnetId"] for s in subnets)}, "default vpc attrs")
        expect(len(attrs["subnets"]) >= 2, "moto's default VPC has a subnet per zone")
        d.rec.clear()
        d.ok("delete", "ec2.default_vpc", attrs=attrs)
        expect_eq(d.rec.requests, [], "a lookup's delete makes no call")
        expect_eq(ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["VpcId"], vpc["VpcId"],
                  "default VPC still there")
    finally:
        d.stop()


def test_resources_ec2_default_vpc_missing(env):
    ec2 = env.boto("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id",
                                            "Values": [vpc["VpcId"]]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    r = drive(env, "create", "ec2.default_vpc", {})
    expect(r.returncode != 0, "no default VPC must fail")
    expect("has no default VPC" in r.stderr and "create-default-vpc" in r.stderr,
           "message says what is missing and how to make it: " + r.stderr)


def test_resources_ec2_ssm_parameter(env):
    want = env.boto("ssm").get_parameter(Name=AMI_PARAM)["Parameter"]["Value"]
    d = Driver(env)
    try:
        attrs = d.ok("create", "ssm.parameter", {"name": AMI_PARAM}).out
        expect_eq(attrs, {"id": AMI_PARAM, "value": want}, "parameter attrs")
        expect(want.startswith("ami-"), "moto serves the public AL2023 parameter: " + want)
        expect_eq(len(d.rec.requests), 1, "one GetParameter")
        d.rec.clear()
        d.ok("delete", "ssm.parameter", attrs=attrs)
        expect_eq(d.rec.requests, [], "a lookup's delete makes no call")
        r = d.run("create", "ssm.parameter", {"name": "/no/such/parameter"})
        expect(r.rc != 0 and "'/no/such/parameter'" in r.stderr and "ParameterNotFound" in r.stderr,
               "unknown parameter named with AWS's code: " + r.stderr)
    finally:
        d.stop()


# ---- ec2.security_group ------------------------------------------------------

def default_vpc(env):
    ec2 = env.boto("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    return vpcs[0]["VpcId"]


def rules_of(env, gid):
    """The group's ingress as a set of (proto, from, to, source)."""
    g = env.boto("ec2").describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    out = set()
    for p in g["IpPermissions"]:
        ports = (p.get("FromPort"), p.get("ToPort"))
        for r in p.get("IpRanges", []):
            out.add((p["IpProtocol"],) + ports + (r["CidrIp"],))
        for r in p.get("UserIdGroupPairs", []):
            out.add((p["IpProtocol"],) + ports + (r["GroupId"],))
    return out


def test_resources_ec2_security_group_lifecycle(env):
    ec2 = env.boto("ec2")
    vpc = default_vpc(env)
    other = ec2.create_security_group(GroupName="other", Description="o", VpcId=vpc)["GroupId"]
    props = {"vpc": vpc, "description": "web servers",
             "tags": {"team": "a", "Name": "mine", "deployctl:stack": "other"},
             "ingress": [{"port": 80, "cidr": "0.0.0.0/0"},
                         {"port": 22, "cidr": ""},
                         {"port": 2049, "source_group": other},
                         {"port": 6443, "self": True},
                         {"protocol": "all", "self": True}]}
    d = Driver(env, logical="web")
    try:
        r = d.ok("create", "ec2.security_group", props)
        attrs = r.out
        gid = attrs["id"]
        expect_eq(r.records[0], attrs, "recorded attrs")
        expect_eq(attrs["arn"], "arn:aws:ec2:us-east-1:123456789012:security-group/" + gid, "arn")
        g = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
        expect_eq((g["GroupName"], g["Description"], g["VpcId"]), ("drv-web", "web servers", vpc),
                  "group")
        expect_eq(tags_of(g), dict(TAGS, Name="drv-web", team="a"),
                  "tags: Name and deployctl:* are deployctl's")
        expect_eq(rules_of(env, gid), {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 2049, 2049, other),
                                       ("tcp", 6443, 6443, gid), ("-1", None, None, gid)},
                  "ingress: the empty cidr's rule is left out")
        egress = g["IpPermissionsEgress"]
        expect_eq([(e["IpProtocol"], [x["CidrIp"] for x in e["IpRanges"]]) for e in egress],
                  [("-1", ["0.0.0.0/0"])], "egress stays all")
        names = expect_forms_fit(d.rec)
        expect_eq(changing(names), ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"],
                  "one create, one authorize")

        # Again: adopted, nothing changed.
        d.rec.clear()
        again = d.ok("create", "ec2.security_group", props).out
        expect_eq(again, attrs, "adopted attrs")
        expect_eq(changing(expect_forms_fit(d.rec)), ["CreateSecurityGroup"],
                  "adopting makes no rule change")

        # Update: the ssh rule switched on, the NFS rule gone, tags changed.
        new = dict(props, tags={"team": "b"})
        new["ingress"] = [props["ingress"][0], {"port": 22, "cidr": "10.1.2.0/24"},
                          props["ingress"][3], props["ingress"][4]]
        d.rec.clear()
        d.ok("update", "ec2.security_group", new, old=props, attrs=attrs)
        expect_eq(rules_of(env, gid), {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 22, 22, "10.1.2.0/24"),
                                       ("tcp", 6443, 6443, gid), ("-1", None, None, gid)},
                  "ingress after update")
        g = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
        expect_eq(tags_of(g), dict(TAGS, Name="drv-web", team="b"), "tags after update")
        expect_eq(sorted(changing(expect_forms_fit(d.rec))),
                  ["AuthorizeSecurityGroupIngress", "CreateTags",
                   "RevokeSecurityGroupIngress"], "update calls")

        r = d.run("update", "ec2.security_group", dict(new, description="x"), old=new,
                  attrs=attrs)
        expect_eq(r.out, "replace", "a new description is a replacement")

        found = d.ok("find", "ec2.security_group").out
        expect_eq(found, [attrs], "found by tag")
        d.ok("delete", "ec2.security_group", attrs=attrs)
        left = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["drv-web"]}])["SecurityGroups"]
        expect_eq(left, [], "group deleted")
        d.ok("delete", "ec2.security_group", attrs=attrs)
    finally:
        d.stop()


def test_resources_ec2_security_group_records_before_next_call(env):
    vpc = default_vpc(env)
    proxy = RefuseAfter(env.moto.url,
                        lambda m, p, h, b: b"Action=CreateSecurityGroup" in b)
    try:
        r = drive(env, "create", "ec2.security_group",
                  {"vpc": vpc, "ingress": [{"port": 80, "cidr": "0.0.0.0/0"}]},
                  stack="drv", logical="web", extra_env={"AWS_ENDPOINT_URL": proxy.url})
    finally:
        proxy.stop()
    expect(r.returncode != 0 and proxy.refused() >= 1, "calls after the create are refused")
    recs = r.records()
    expect_eq(len(recs), 1, "one record before the refused call")
    g = env.boto("ec2").describe_security_groups(GroupIds=[recs[0]["id"]])["SecurityGroups"]
    expect_eq(g[0]["GroupName"], "drv-web", "the recorded group exists")


def test_resources_ec2_security_group_rejects_bad_rules(env):
    vpc = default_vpc(env)
    for rule, words in [({"port": 80}, "needs one of"),
                        ({"port": 80, "cidr": "0.0.0.0/0", "self": True}, "needs one of"),
                        ({"port": "80", "cidr": "0.0.0.0/0"}, "must be a whole number"),
                        ({"port": 70000, "cidr": "0.0.0.0/0"}, "not a range"),
                        ({"port": 80, "protocol": "icmp", "cidr": "0.0.0.0/0"}, "protocol")]:
        r = drive(env, "create", "ec2.security_group", {"vpc": vpc, "ingress": [rule]},
                  stack="drv", logical="bad")
        expect(r.returncode != 0 and words in r.stderr and "ingress[0]" in r.stderr,
               "%r: %s" % (rule, r.stderr))
    expect_eq(env.boto("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["drv-bad"]}])["SecurityGroups"], [],
        "nothing made for bad props")


class DependencyViolations(Recorder):
    """AWS's answer to deleting a group an ENI still holds, for the first
    `times` DeleteSecurityGroup calls (moto never refuses)."""

    def __init__(self, upstream, times):
        super().__init__(upstream)
        self.left = times

    def _answer(self, method, raw_path, headers, body):
        if b"Action=DeleteSecurityGroup" in body and self.left > 0:
            self.left -= 1
            with self.lock:
                self.requests.append({"method": method, "raw_path": raw_path, "path": "/",
                                      "body": body, "status": 400, "canned": True,
                                      "service": "ec2"})
            xml = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                   b"<Code>DependencyViolation</Code><Message>resource sg-x has a dependent "
                   b"object</Message></Error></Errors><RequestID>r-1</RequestID></Response>")
            return 400, [("Content-Type", "text/xml")], xml
        return super()._answer(method, raw_path, headers, body)


def test_resources_ec2_security_group_delete_waits_for_enis(env):
    ec2 = env.boto("ec2")
    gid = ec2.create_security_group(GroupName="held", Description="d",
                                    VpcId=default_vpc(env))["GroupId"]
    d = Driver(env)
    d.rec.stop()
    d.rec = DependencyViolations(env.moto.url, 2)
    try:
        r = d.ok("delete", "ec2.security_group", attrs={"id": gid})
        expect_eq([f["Action"] for f in forms(d.rec)], ["DeleteSecurityGroup"] * 3,
                  "two refusals, then the delete")
        expect(any("network interfaces" in p for p in r.progress),
               "the wait is said on the progress line: %r" % r.progress)
        expect_eq(ec2.describe_security_groups(
            Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroups"], [], "deleted")
    finally:
        d.stop()


# ---- ec2.instance ------------------------------------------------------------

SCRIPT = "#!/bin/bash\nset -euo pipefail\npython3 /opt/app/app.py\n"
APP = "print('it is $HOME and `date`')\nEOF\n"


def instance_setup(env):
    ec2 = env.boto("ec2")
    vpc = default_vpc(env)
    sg1 = ec2.create_security_group(GroupName="g1", Description="d", VpcId=vpc)["GroupId"]
    sg2 = ec2.create_security_group(GroupName="g2", Description="d", VpcId=vpc)["GroupId"]
    ami = env.boto("ssm").get_parameter(Name=AMI_PARAM)["Parameter"]["Value"]
    tmp = tempfile.mkdtemp(prefix="ec2-tpl-")
    with open(os.path.join(tmp, "app.py"), "w") as f:
        f.write(APP)
    props = {"ami": ami, "security_groups": [sg1], "user_data": SCRIPT,
             "user_data_files": {"/opt/app/app.py": "app.py"}, "tags": {"role": "web"}}
    return props, sg1, sg2, tmp


def describe(env, iid):
    return env.boto("ec2").describe_instances(
        InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def test_resources_ec2_instance_lifecycle(env):
    props, sg1, sg2, tmp = instance_setup(env)
    ec2 = env.boto("ec2")
    d = Driver(env, template_dir=tmp, logical="vm")
    try:
        prepared = d.ok("prepare", "ec2.instance", props).out
        expect(len(prepared["user_data_sha256"]) == 64, "prepare adds the user data's hash")
        r = d.ok("create", "ec2.instance", prepared)
        attrs = r.out
        expect_eq(r.records[0]["id"], attrs["id"], "recorded id")
        i = describe(env, attrs["id"])
        expect_eq(i["State"]["Name"], "running", "waited until running")
        expect_eq(i["MetadataOptions"]["HttpTokens"], "required", "IMDSv2 required")
        expect_eq((i["InstanceType"], i["ImageId"]), ("t3.micro", props["ami"]), "type and AMI")
        expect_eq([g["GroupId"] for g in i["SecurityGroups"]], [sg1], "security groups")
        expect_eq(tags_of(i), dict(TAGS, Name="drv-vm", role="web"), "tags")
        expect_eq((attrs["public_dns"], attrs["public_ip"]),
                  (i["PublicDnsName"], i["PublicIpAddress"]), "public address attrs")
        expect(attrs["public_dns"], "a public DNS name")
        ud = ec2.describe_instance_attribute(InstanceId=attrs["id"], Attribute="userData")
        script = base64.b64decode(ud["UserData"]["Value"]).decode()
        expect(script.startswith("#!/bin/bash\n# files from the template"), script[:200])
        expect(script.endswith(SCRIPT[len("#!/bin/bash\n"):]), "the script follows the files")
        expect_eq(hashlib_sha256(script), prepared["user_data_sha256"], "hash of the user data")
        run_files = run_file_part(script)
        expect_eq(run_files, {"/opt/app/app.py": APP.encode()}, "files the script writes")
        launches = [f for f in forms(d.rec) if f["Action"] == "RunInstances"]
        expect_eq(len(launches), 1, "one launch")
        token = launches[0]["ClientToken"]
        expect_forms_fit(d.rec)

        # Again (a resumed up): the instance is found, no second launch.
        d.rec.clear()
        again = d.ok("create", "ec2.instance", prepared).out
        expect_eq(again["id"], attrs["id"], "same instance")
        expect_eq(changing(expect_forms_fit(d.rec)), [], "adopting launches nothing")

        # In place: security groups and tags.
        new = dict(prepared, security_groups=[sg1, sg2], tags={"role": "api"})
        d.rec.clear()
        d.ok("update", "ec2.instance", new, old=prepared, attrs=attrs)
        i = describe(env, attrs["id"])
        expect_eq(sorted(g["GroupId"] for g in i["SecurityGroups"]), sorted([sg1, sg2]),
                  "groups updated in place")
        expect_eq(tags_of(i), dict(TAGS, Name="drv-vm", role="api"), "tags updated")
        expect_eq(sorted(changing(expect_forms_fit(d.rec))),
                  ["CreateTags", "ModifyInstanceAttribute"], "update calls")
        for change in ({"instance_type": "t3.small"}, {"user_data_sha256": "0" * 64}):
            r = d.run("update", "ec2.instance", dict(new, **change), old=new, attrs=attrs)
            expect_eq(r.out, "replace", "%r is a replacement" % change)

        expect_eq([f["id"] for f in d.ok("find", "ec2.instance").out], [attrs["id"]], "found")
        d.rec.clear()
        r = d.ok("delete", "ec2.instance", attrs=attrs)
        expect_eq(describe(env, attrs["id"])["State"]["Name"], "terminated", "terminated")
        expect_eq(changing(expect_forms_fit(d.rec)), ["TerminateInstances"], "delete calls")
        expect_eq(d.ok("find", "ec2.instance").out, [], "a terminated instance is not found")

        # Up again after destroy: the first token launched an instance since
        # terminated, so a new launch must not reuse it. (moto ignores
        # ClientToken; the tokens sent are what is checked.)
        d.rec.clear()
        third = d.ok("create", "ec2.instance", prepared).out
        expect(third["id"] != attrs["id"], "a new instance")
        launch = [f for f in forms(d.rec) if f["Action"] == "RunInstances"]
        expect_eq(launch[0]["ClientToken"], token, "the token is deterministic")
        d.ok("delete", "ec2.instance", attrs=third)
    finally:
        d.stop()


def hashlib_sha256(text):
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()


def run_file_part(script):
    """Run the script's file-writing part (the lines between the '#!' line
    and the script proper) in a temporary root with bash; returns
    {path: bytes} of what it wrote."""
    import subprocess
    body = script.split("\n", 1)[1]
    part = body[:body.index(SCRIPT[len("#!/bin/bash\n"):])]
    root = tempfile.mkdtemp(prefix="ud-root-")
    rooted = part.replace("'/opt/", "'%s/opt/" % root)
    subprocess.run(["bash", "-euc", rooted], check=True)
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[p[len(root):]] = fh.read()
    return out


def test_resources_ec2_instance_records_before_next_call(env):
    props, _, _, tmp = instance_setup(env)
    proxy = RefuseAfter(env.moto.url, lambda m, p, h, b: b"Action=RunInstances" in b)
    try:
        r = drive(env, "create", "ec2.instance", props, stack="drv", logical="vm",
                  template_dir=tmp, extra_env={"AWS_ENDPOINT_URL": proxy.url})
    finally:
        proxy.stop()
    expect(r.returncode != 0 and proxy.refused() >= 1, "calls after the launch are refused")
    recs = r.records()
    expect_eq(len(recs), 1, "one record before the refused call")
    expect_eq(tags_of(describe(env, recs[0]["id"])).get("Name"), "drv-vm",
              "the recorded instance exists, tagged at launch")


def test_resources_ec2_instance_token_generations(env):
    """A launch token whose instance was terminated answers with that
    instance (EC2's documented idempotency); the type then launches with the
    next token. moto does not keep tokens, so this proxy answers as EC2 would
    for the first token and forwards the rest."""
    props, _, _, tmp = instance_setup(env)
    ec2 = env.boto("ec2")
    old = ec2.run_instances(ImageId=props["ami"], MinCount=1, MaxCount=1)["Instances"][0]
    ec2.terminate_instances(InstanceIds=[old["InstanceId"]])
    first, launches = {}, []

    class Tokens(Recorder):
        def _answer(self, method, raw_path, headers, body):
            f = dict(urllib.parse.parse_qsl(body.decode()))
            if f.get("Action") == "RunInstances":
                launches.append(f)
            if f.get("Action") == "RunInstances" and not first:
                first["token"] = f["ClientToken"]
                # What moto answers DescribeInstances with, as RunInstances
                # would: the old, terminated instance.
                q = urllib.parse.urlencode({"Action": "DescribeInstances",
                                            "Version": "2016-11-15",
                                            "InstanceId.1": old["InstanceId"]}).encode()
                plain = {k: v for k, v in headers.items() if k.lower() != "content-length"}
                st, hd, data = super()._answer(method, raw_path, plain, q)
                expect_eq(st, 200, "moto's DescribeInstances")
                data = data.replace(b"DescribeInstancesResponse", b"RunInstancesResponse")
                inner = data[data.index(b"<instancesSet>"):data.rindex(b"</instancesSet>") + 15]
                head = data[:data.index(b"<reservationSet>")]
                return st, hd, head + inner + b"</RunInstancesResponse>"
            return super()._answer(method, raw_path, headers, body)

    d = Driver(env, template_dir=tmp, logical="vm")
    d.rec.stop()
    d.rec = Tokens(env.moto.url)
    try:
        attrs = d.ok("create", "ec2.instance", props).out
        expect_eq(len(launches), 2, "a second launch after the terminated answer")
        expect(launches[1]["ClientToken"] != first["token"], "with the next token")
        expect(attrs["id"] != old["InstanceId"], "the new instance is recorded")
        expect_eq(describe(env, attrs["id"])["State"]["Name"], "running", "running")
    finally:
        d.stop()


def test_resources_ec2_instance_user_data_checks(env):
    props, _, _, tmp = instance_setup(env)
    with open(os.path.join(tmp, "bad.py"), "w") as f:
        f.write("no final newline")
    with open(os.path.join(tmp, "end.txt"), "w") as f:
        f.write("a\nDEPLOYCTL_FILE_END\nb\n")
    cases = [({"user_data_files": {"/opt/app/bad.py": "bad.py"}}, "must end with a newline"),
             ({"user_data_files": {"/opt/app/e": "end.txt"}}, "has a line"),
             ({"user_data_files": {"opt/x": "app.py"}}, "must be absolute"),
             ({"user_data_files": {"/opt/it's": "app.py"}}, "must be absolute"),
             ({"user_data": "echo no shebang\n"}, "must start with"),
             ({"user_data": "#!/bin/sh\n" + "x" * 17000}, "at most 16384")]
    for change, words in cases:
        r = drive(env, "create", "ec2.instance", dict(props, **change), stack="drv",
                  logical="vm", template_dir=tmp)
        expect(r.returncode != 0 and words in r.stderr, "%r: %s" % (change, r.stderr[-300:]))
    expect_eq(env.boto("ec2").describe_instances(
        Filters=[{"Name": "tag:Name", "Values": ["drv-vm"]}])["Reservations"], [],
        "nothing launched for bad user data")
