"""What k3s agents need (ssm.secure_parameter, iam.instance_profile, and
ec2.instance's count and instance_profile) driven one type at a time against
moto through tests/tools/resource_driver, each result checked with boto3 and
the requests against botocore's models."""
import json
import os
import re
import urllib.parse

from harness import expect, expect_eq
from resource_support import Driver, Models, Recorder
from test_resources_ec2 import describe, expect_forms_fit, forms, instance_setup, tags_of

TAGS = {"deployctl:stack": "drv", "deployctl:arch": "test-arch"}
ACCOUNT, REGION = "123456789012", "us-east-1"


def ssm_bodies(rec, operation):
    """The JSON bodies sent for one SSM operation (moto's SSM is JSON 1.1,
    told apart by its members, as the recorder keeps no headers)."""
    out = []
    for r in rec.requests:
        if r["service"] != "ssm" or not r["body"]:
            continue
        body = json.loads(r["body"])
        keys = set(body)
        op = ("PutParameter" if "Type" in keys and "Value" in keys else
              "ListTagsForResource" if "ResourceType" in keys else
              "DeleteParameter" if keys == {"Name"} else None)
        if op == operation:
            out.append(body)
    return out


def iam_forms(rec):
    return [dict(urllib.parse.parse_qsl(r["body"].decode(), keep_blank_values=True))
            for r in rec.requests if r["service"] == "iam"]


def iam_form_problems(form):
    """Top-level members of an IAM query form against botocore's model."""
    op = Models().model("iam").operation_model(form["Action"])
    members = set(op.input_shape.members)
    out = ["%s: %s is not a member" % (op.name, k.split(".")[0]) for k in form
           if k not in ("Action", "Version") and k.split(".")[0] not in members]
    out += ["%s: %s missing" % (op.name, m) for m in op.input_shape.required_members
            if not any(k == m or k.startswith(m + ".") for k in form)]
    return out


def iam_actions(rec):
    fs = iam_forms(rec)
    problems = [p for f in fs for p in iam_form_problems(f)]
    expect(not problems, "IAM forms that do not fit botocore's model:\n" + "\n".join(problems))
    return [f["Action"] for f in fs]


# ---- ssm.secure_parameter ---------------------------------------------------------

def test_resources_nodes_secure_parameter_lifecycle(env):
    ssm = env.boto("ssm")
    name = "/deployctl/drv/join"
    d = Driver(env, logical="join")
    try:
        r = d.ok("create", "ssm.secure_parameter")
        arn = "arn:aws:ssm:%s:%s:parameter%s" % (REGION, ACCOUNT, name)
        expect_eq(r.out, {"id": name, "name": name, "arn": arn}, "attrs: no value")
        expect_eq(r.records, [r.out], "recorded at once")
        p = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        value = p["Value"]
        expect_eq(p["Type"], "SecureString", "type")
        expect(re.fullmatch(r"[0-9a-f]{64}", value), "32 random bytes in hex: %r" % value)
        expect(value not in r.stdout + r.stderr, "the value is nowhere in the driver's output")
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
        expect_eq({t["Key"]: t["Value"] for t in tags}, TAGS, "tags")
        put = ssm_bodies(d.rec, "PutParameter")
        expect_eq(len(put), 1, "one PutParameter")
        expect_eq((put[0]["Overwrite"], put[0]["Type"]), (False, "SecureString"),
                  "never overwrites")
        models = Models()
        expect_eq(models.problems(models.model("ssm").operation_model("PutParameter"), put[0]),
                  [], "PutParameter fits botocore's model")

        # Again (a resumed up): adopted, the value kept.
        d.rec.clear()
        again = d.ok("create", "ssm.secure_parameter").out
        expect_eq(again, r.out, "adopted")
        expect_eq(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"], value,
                  "the value is kept")
        d.rec.clear()
        d.ok("update", "ssm.secure_parameter", {}, old={}, attrs=r.out)
        expect_eq(d.rec.requests, [], "update changes nothing")
        expect_eq(d.ok("find", "ssm.secure_parameter").out, [r.out], "found by tag")
        d.ok("delete", "ssm.secure_parameter", attrs=r.out)
        expect_eq(ssm.get_parameters(Names=[name])["InvalidParameters"], [name], "deleted")
        d.ok("delete", "ssm.secure_parameter", attrs=r.out)
        expect_eq(d.ok("find", "ssm.secure_parameter").out, [], "nothing found once gone")
    finally:
        d.stop()


def test_resources_nodes_secure_parameter_not_ours(env):
    ssm = env.boto("ssm")
    name = "/deployctl/drv/other"
    ssm.put_parameter(Name=name, Value="theirs", Type="SecureString")
    d = Driver(env, logical="other")
    try:
        r = d.run("create", "ssm.secure_parameter")
        expect(r.rc != 0 and "is not this stack's" in r.stderr, "refused: " + r.stderr[-300:])
        expect_eq(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"],
                  "theirs", "left alone")
        expect_eq(d.ok("find", "ssm.secure_parameter").out, [], "not found as ours")
    finally:
        d.stop()


# ---- iam.instance_profile ---------------------------------------------------------

def make_role(env, name):
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "ec2.amazonaws.com"}}]}
    return env.boto("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))


def test_resources_nodes_instance_profile_lifecycle(env):
    iam = env.boto("iam")
    make_role(env, "r1")
    make_role(env, "r2")
    d = Driver(env, logical="prof")
    try:
        r = d.ok("create", "iam.instance_profile", {"role": "r1"})
        p = iam.get_instance_profile(InstanceProfileName="drv-prof")["InstanceProfile"]
        expect_eq(r.out, {"id": "drv-prof", "name": "drv-prof", "arn": p["Arn"]}, "attrs")
        expect_eq(r.records[0], r.out, "recorded")
        expect_eq([x["RoleName"] for x in p["Roles"]], ["r1"], "the role")
        expect_eq({t["Key"]: t["Value"] for t in p.get("Tags", [])}, TAGS, "tags")
        expect_eq(iam_actions(d.rec), ["CreateInstanceProfile", "AddRoleToInstanceProfile"],
                  "calls")

        d.rec.clear()
        expect_eq(d.ok("create", "iam.instance_profile", {"role": "r1"}).out, r.out, "adopted")
        expect_eq(iam_actions(d.rec), ["CreateInstanceProfile", "GetInstanceProfile"],
                  "adopting changes nothing")

        d.rec.clear()
        d.ok("update", "iam.instance_profile", {"role": "r2"}, old={"role": "r1"}, attrs=r.out)
        p = iam.get_instance_profile(InstanceProfileName="drv-prof")["InstanceProfile"]
        expect_eq([x["RoleName"] for x in p["Roles"]], ["r2"], "role swapped")
        expect_eq(d.ok("find", "iam.instance_profile").out, [r.out], "found by tag")

        d.rec.clear()
        d.ok("delete", "iam.instance_profile", attrs=r.out)
        expect_eq(iam_actions(d.rec), ["GetInstanceProfile", "RemoveRoleFromInstanceProfile",
                                       "DeleteInstanceProfile"], "delete calls")
        names = [x["InstanceProfileName"] for x in iam.list_instance_profiles()["InstanceProfiles"]]
        expect("drv-prof" not in names, "deleted")
        expect_eq(iam.get_role(RoleName="r2")["Role"]["RoleName"], "r2", "the role stays")
        d.ok("delete", "iam.instance_profile", attrs=r.out)
        expect_eq(d.ok("find", "iam.instance_profile").out, [], "nothing found once gone")
        r = d.run("create", "iam.instance_profile", {})
        expect(r.rc != 0 and '"role"' in r.stderr, "role is required: " + r.stderr[-200:])
    finally:
        d.stop()


# ---- ec2.instance: count and instance profile ----------------------------------

class ProfileNotYetVisible(Recorder):
    """EC2's answer to RunInstances with an instance profile IAM made a
    moment ago, for the first `times` launches (moto knows it at once)."""

    def __init__(self, upstream, times):
        super().__init__(upstream)
        self.left = times

    def _answer(self, method, raw_path, headers, body):
        if b"Action=RunInstances" in body and self.left > 0:
            self.left -= 1
            with self.lock:
                self.requests.append({"method": method, "raw_path": raw_path, "path": "/",
                                      "body": body, "status": 400, "canned": True,
                                      "service": "ec2"})
            xml = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                   b"<Code>InvalidParameterValue</Code><Message>Value (arn:x) for parameter "
                   b"iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
                   b"</Message></Error></Errors><RequestID>r-1</RequestID></Response>")
            return 400, [("Content-Type", "text/xml")], xml
        return super()._answer(method, raw_path, headers, body)


def test_resources_nodes_instances_with_count_and_profile(env):
    props, sg1, _, tmp = instance_setup(env)
    make_role(env, "node")
    iam = env.boto("iam")
    arn = iam.create_instance_profile(InstanceProfileName="nodes")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="nodes", RoleName="node")
    props = dict(props, count=2, instance_profile=arn)
    d = Driver(env, template_dir=tmp, logical="agents")
    d.rec.stop()
    d.rec = ProfileNotYetVisible(env.moto.url, 2)
    try:
        r = d.ok("create", "ec2.instance", props)
        attrs = r.out
        expect_eq((attrs["id"], len(attrs["ids"])), ("drv-agents", 2),
                  "id: the name the instances share; ids: both")
        expect_eq(r.records[0]["ids"], attrs["ids"], "both recorded at once")
        launches = [f for f in forms(d.rec) if f["Action"] == "RunInstances"]
        expect_eq(len(launches), 3, "two refusals while the profile reaches EC2, then the launch")
        expect_eq((launches[-1]["MinCount"], launches[-1]["MaxCount"]), ("2", "2"), "one launch")
        expect_eq(launches[-1]["IamInstanceProfile.Arn"], arn, "the profile")
        expect(any("instance profile to reach EC2" in p for p in r.progress),
               "the wait is said: %r" % r.progress)
        expect_forms_fit(d.rec)
        # moto attaches the profile to the first instance of a launch only
        # (EC2 to each): the launch carries it, and moto shows it once.
        expect_eq([describe(env, iid).get("IamInstanceProfile", {}).get("Arn")
                   for iid in attrs["ids"]].count(arn), 1, "profile attached")
        for iid in attrs["ids"]:
            i = describe(env, iid)
            expect_eq(i["State"]["Name"], "running", "running")
            expect_eq(i["MetadataOptions"]["HttpTokens"], "required", "IMDSv2 required")
            expect_eq(tags_of(i), dict(TAGS, Name="drv-agents", role="web"), "tags")
            expect_eq([g["GroupId"] for g in i["SecurityGroups"]], [sg1], "groups")

        d.rec.clear()
        expect_eq(d.ok("create", "ec2.instance", props).out["ids"], attrs["ids"], "adopted")
        expect_eq([f["Action"] for f in forms(d.rec)], ["DescribeInstances"] * 2,
                  "adopting launches nothing")
        d.rec.clear()
        d.ok("update", "ec2.instance", dict(props, tags={"role": "node"}), old=props,
             attrs=attrs)
        for iid in attrs["ids"]:
            expect_eq(tags_of(describe(env, iid))["role"], "node", "each retagged")
        for change in ({"count": 3}, {"instance_profile": ""}):
            r = d.run("update", "ec2.instance", dict(props, **change), old=props, attrs=attrs)
            expect_eq(r.out, "replace", "%r is a replacement" % change)
        expect_eq(sorted(f["id"] for f in d.ok("find", "ec2.instance").out),
                  sorted(attrs["ids"]), "found one by one")
        d.rec.clear()
        d.ok("delete", "ec2.instance", attrs=attrs)
        terminate = [f for f in forms(d.rec) if f["Action"] == "TerminateInstances"]
        expect_eq(sorted(v for k, v in terminate[0].items() if k.startswith("InstanceId.")),
                  sorted(attrs["ids"]), "one call terminates both")
        for iid in attrs["ids"]:
            expect_eq(describe(env, iid)["State"]["Name"], "terminated", "terminated")
    finally:
        d.stop()


def test_resources_nodes_count_zero_launches_nothing(env):
    props, _, _, tmp = instance_setup(env)
    d = Driver(env, template_dir=tmp, logical="none")
    try:
        r = d.ok("create", "ec2.instance", dict(props, count=0))
        expect_eq(r.out, {"id": "drv-none", "ids": []}, "attrs of no instance")
        expect_eq([f["Action"] for f in forms(d.rec)], ["DescribeInstances"],
                  "a look for a crashed run's instances, no launch")
        d.rec.clear()
        d.ok("delete", "ec2.instance", attrs=r.out)
        expect_eq(d.rec.requests, [], "nothing to terminate")
        for bad in (-1, "2", 51):
            r = d.run("create", "ec2.instance", dict(props, count=bad))
            expect(r.rc != 0 and '"count"' in r.stderr, "%r: %s" % (bad, r.stderr[-200:]))
    finally:
        d.stop()


def test_resources_nodes_user_data_env(env):
    props, _, _, tmp = instance_setup(env)
    d = Driver(env, template_dir=tmp, logical="vm")
    try:
        ud = dict(props, user_data_env={"SERVER_IP": "10.0.0.5", "PORT": 6443})
        attrs = d.ok("create", "ec2.instance", ud).out
        import base64
        raw = env.boto("ec2").describe_instance_attribute(InstanceId=attrs["id"],
                                                          Attribute="userData")
        script = base64.b64decode(raw["UserData"]["Value"]).decode()
        expect(script.startswith("#!/bin/bash\n# values from the template, set by deployctl\n"
                                 "SERVER_IP='10.0.0.5'\nPORT='6443'\n# files from the template"),
               "values first, then files: " + script[:300])
        d.ok("delete", "ec2.instance", attrs=attrs)
        for bad, words in (({"lower": "x"}, "upper-case"), ({"X": "it's"}, "without quotes"),
                           ({"X": "a\nb"}, "line breaks"), ({"X": [1]}, "whole number")):
            r = d.run("create", "ec2.instance", dict(props, user_data_env=bad))
            expect(r.rc != 0 and words in r.stderr, "%r: %s" % (bad, r.stderr[-300:]))
        r = d.run("create", "ec2.instance", dict(props, user_data="echo x\n",
                                                 user_data_files={}, user_data_env={"X": "1"}))
        expect(r.rc != 0 and "must start with" in r.stderr, r.stderr[-300:])
    finally:
        d.stop()
    expect(os.path.isdir(tmp), "template dir")
