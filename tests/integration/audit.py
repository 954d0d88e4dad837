"""A security audit of a stack as it stands in AWS (moto), read with boto3
after `up`: what a reviewer of the account would check, not what deployctl
meant to create.

- every role of the stack: trusted by one AWS service only; no managed
  policy; each inline statement allows named actions (no `*`, no `svc:*`)
  on the stack's own resources only (an ARN that names the stack, or the
  ARN of a resource the stack's state records);
- every bucket: all four Block Public Access settings on, no bucket policy;
- every instance: IMDSv2 required (HttpTokens required);
- every security group: open to the world (0.0.0.0/0, ::/0) on 80/443 only.

check_stack returns the findings (a list of strings); expect_clean_audit
fails on any."""
import json
import os
import urllib.parse

from harness import expect_eq

WORLD = ("0.0.0.0/0", "::/0")
WEB_PORTS = (80, 443)


def stack_arns(env, name):
    """The ARNs (and ids) of what the stack's state records: the stack's own
    resources, as `deployctl` wrote them after each create."""
    path = os.path.join(env.home, "state", "stacks", name + ".json")
    with open(path) as f:
        doc = json.load(f)
    found = set()
    for res in doc.get("resources", {}).values() if isinstance(doc.get("resources"), dict) \
            else doc.get("resources", []):
        for v in (res.get("attrs") or {}).values():
            if isinstance(v, str) and v:
                found.add(v)
    return found


def as_list(x):
    return x if isinstance(x, list) else [x]


def owned(resource, name, arns):
    """The stack's own: the ARN names the stack, or starts with one the state
    records (a log group's `:*`, a bucket's `/key`)."""
    if resource == "*":
        return False
    if (":" + name + "-") in resource or ("/" + name + "-") in resource:
        return True
    return any(resource == a or resource.startswith(a + ":") or resource.startswith(a + "/")
               for a in arns if a.startswith("arn:"))


def audit_roles(env, name, arns):
    iam, findings = env.boto("iam"), []
    for role in iam.list_roles()["Roles"]:
        rn = role["RoleName"]
        if not rn.startswith(name + "-"):
            continue
        trust = role["AssumeRolePolicyDocument"]
        if isinstance(trust, str):
            trust = json.loads(urllib.parse.unquote(trust))
        for st in trust["Statement"]:
            principal = st.get("Principal", {})
            if list(principal) != ["Service"] or len(as_list(principal["Service"])) != 1:
                findings.append("role %s: trusted by %r, not one AWS service" % (rn, principal))
        attached = iam.list_attached_role_policies(RoleName=rn)["AttachedPolicies"]
        if attached:
            findings.append("role %s: managed policies %r" % (rn, attached))
        for pn in iam.list_role_policies(RoleName=rn)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=rn, PolicyName=pn)["PolicyDocument"]
            if isinstance(doc, str):
                doc = json.loads(urllib.parse.unquote(doc))
            findings += audit_statements(rn, doc["Statement"], name, arns)
    return findings


def audit_statements(role, statements, name, arns):
    findings = []
    for st in as_list(statements):
        if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
            findings.append("role %s: statement %r is not a plain allow" % (role, st))
            continue
        for action in as_list(st["Action"]):
            if "*" in action:
                findings.append("role %s: wildcard action %s" % (role, action))
        for resource in as_list(st["Resource"]):
            if not owned(resource, name, arns):
                findings.append("role %s: resource %s is not the stack's own" % (role, resource))
    return findings


def audit_buckets(env, name):
    s3, findings = env.boto("s3"), []
    for b in s3.list_buckets()["Buckets"]:
        bn = b["Name"]
        if not bn.startswith(name + "-"):
            continue
        try:
            block = s3.get_public_access_block(Bucket=bn)["PublicAccessBlockConfiguration"]
        except s3.exceptions.ClientError:
            block = {}
        off = [k for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                           "RestrictPublicBuckets") if not block.get(k)]
        if off:
            findings.append("bucket %s: Block Public Access off: %s" % (bn, ", ".join(off)))
        try:
            s3.get_bucket_policy(Bucket=bn)
            findings.append("bucket %s: has a bucket policy" % bn)
        except s3.exceptions.ClientError:
            pass
    return findings


def ours(name):
    return [{"Name": "tag:deployctl:stack", "Values": [name]}]


def audit_instances(env, name):
    ec2, findings = env.boto("ec2"), []
    for r in ec2.describe_instances(Filters=ours(name))["Reservations"]:
        for i in r["Instances"]:
            if i["State"]["Name"] == "terminated":
                continue
            if i.get("MetadataOptions", {}).get("HttpTokens") != "required":
                findings.append("instance %s: IMDSv2 not required" % i["InstanceId"])
    return findings


def audit_groups(env, name):
    ec2, findings = env.boto("ec2"), []
    for g in ec2.describe_security_groups(Filters=ours(name))["SecurityGroups"]:
        for p in g["IpPermissions"]:
            cidrs = [r["CidrIp"] for r in p.get("IpRanges", [])]
            cidrs += [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])]
            if not any(c in WORLD for c in cidrs):
                continue
            web = p["IpProtocol"] == "tcp" and p.get("FromPort") == p.get("ToPort") \
                and p.get("FromPort") in WEB_PORTS
            if not web:
                findings.append("security group %s: open to the world on %s %s-%s" % (
                    g["GroupId"], p["IpProtocol"], p.get("FromPort"), p.get("ToPort")))
    return findings


def check_stack(env, name):
    arns = stack_arns(env, name)
    return (audit_roles(env, name, arns) + audit_buckets(env, name)
            + audit_instances(env, name) + audit_groups(env, name))


def expect_clean_audit(env, name):
    expect_eq(check_stack(env, name), [], "audit findings for stack %s" % name)
