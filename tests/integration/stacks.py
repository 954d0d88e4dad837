"""Helpers for stack tests: run deployctl up/destroy against moto, and look
at what exists in moto with boto3, independently of deployctl's state."""
import json
import os
import shutil

from harness import ROOT, expect, expect_eq, expect_ok

ARCHS = ["lambda-python-s3", "lambda-python-dynamodb", "lambda-js-dynamodb"]


def stack_env(env, url=None, templates=None):
    e = {"DEPLOYCTL_STATE_DIR": os.path.join(env.home, "state")}
    if url:
        e["AWS_ENDPOINT_URL"] = url
    if templates:
        e["DEPLOYCTL_TEMPLATES"] = templates
    return e


def up(env, arch, name, *extra, url=None, templates=None, check=True):
    r = env.run("-o", "json", "up", arch, "--name", name, *extra,
                env=stack_env(env, url, templates), timeout=600)
    if check:
        expect_ok(r, "up %s" % arch)
        return json.loads(r.stdout)
    return r


def destroy(env, *names, url=None, check=True, extra=()):
    r = env.run("destroy", *names, *extra, env=stack_env(env, url), timeout=600)
    if check:
        expect_ok(r, "destroy %s" % (names,))
    return r


def copy_templates(env):
    dst = os.path.join(env.home, "templates")
    shutil.copytree(os.path.join(ROOT, "templates"), dst)
    return dst


def what_exists(env, name):
    """Every resource in moto that belongs to stack `name`, by name prefix
    or by the deployctl:stack tag: what a user would be billed for."""
    found = []
    prefix = name + "-"
    ddb = env.boto("dynamodb")
    found += ["table:" + t for t in ddb.list_tables()["TableNames"] if t.startswith(prefix)]
    iam = env.boto("iam")
    found += ["role:" + r["RoleName"] for r in iam.list_roles()["Roles"]
              if r["RoleName"].startswith(prefix)]
    found += ["instance-profile:" + p["InstanceProfileName"]
              for p in iam.list_instance_profiles()["InstanceProfiles"]
              if p["InstanceProfileName"].startswith(prefix)]
    found += ["parameter:" + p["Name"] for p in env.boto("ssm").get_parameters_by_path(
        Path="/deployctl/" + name, Recursive=True)["Parameters"]]
    lam = env.boto("lambda")
    found += ["function:" + f["FunctionName"] for f in lam.list_functions()["Functions"]
              if f["FunctionName"].startswith(prefix)]
    apis = env.boto("apigatewayv2").get_apis()["Items"]
    found += ["api:" + a["Name"] for a in apis
              if a["Name"].startswith(prefix) or a.get("Tags", {}).get("deployctl:stack") == name]
    s3 = env.boto("s3")
    found += ["bucket:" + b["Name"] for b in s3.list_buckets()["Buckets"]
              if b["Name"].startswith(prefix)]
    logs = env.boto("logs")
    found += ["log-group:" + g["logGroupName"]
              for g in logs.describe_log_groups()["logGroups"]
              if ("/" + name + "-") in g["logGroupName"]]
    ec2 = env.boto("ec2")
    ours = [{"Name": "tag:deployctl:stack", "Values": [name]}]
    states = {i["InstanceId"]: i["State"]["Name"]
              for r in ec2.describe_instances(Filters=ours)["Reservations"] for i in r["Instances"]}
    found += ["instance:" + i for i, st in states.items() if st != "terminated"]
    found += ["security-group:" + g["GroupId"]
              for g in ec2.describe_security_groups(Filters=ours)["SecurityGroups"]]
    found += servers_exist(env, name)
    tagged = env.boto("resourcegroupstaggingapi").get_resources(
        TagFilters=[{"Key": "deployctl:stack", "Values": [name]}])["ResourceTagMappingList"]
    # A terminated instance keeps its tags for a while and costs nothing.
    found += ["tagged:" + t["ResourceARN"] for t in tagged
              if states.get(t["ResourceARN"].rsplit("/", 1)[-1]) != "terminated"
              and not ecs_inactive(env, t["ResourceARN"])]
    return sorted(set(found))


def ecs_inactive(env, arn):
    """moto's tagging API still lists ECS clusters and services deleted
    (INACTIVE): they cost nothing and AWS drops them."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "ecs":
        return False
    kind, _, rest = parts[5].partition("/")
    ecs = env.boto("ecs")
    if kind == "cluster":
        got = ecs.describe_clusters(clusters=[arn])["clusters"]
    elif kind == "service":
        got = ecs.describe_services(cluster=rest.split("/")[0], services=[arn])["services"]
    else:
        return False
    return not got or got[0]["status"] == "INACTIVE"


def servers_exist(env, name):
    """What fargate-ecs makes: ECS, EFS, ELBv2."""
    prefix, found = name + "-", []
    ecs = env.boto("ecs")
    for c in ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]:
        if c["status"] == "INACTIVE":
            continue
        if c["clusterName"].startswith(prefix):
            found.append("cluster:" + c["clusterName"])
        arns = ecs.list_services(cluster=c["clusterArn"])["serviceArns"]
        for s in ecs.describe_services(cluster=c["clusterArn"], services=arns)["services"] \
                if arns else []:
            if s["status"] != "INACTIVE" and s["serviceName"].startswith(prefix):
                found.append("service:" + s["serviceName"])
    found += ["task-definition:" + a.split("/")[-1]
              for a in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
              if a.split("/")[-1].startswith(prefix)]
    efs = env.boto("efs")
    for fs in efs.describe_file_systems()["FileSystems"]:
        tags = {t["Key"]: t["Value"] for t in fs.get("Tags", [])}
        if fs["CreationToken"].startswith(prefix) or tags.get("deployctl:stack") == name:
            found.append("file-system:" + fs["CreationToken"])
            found += ["mount-target:" + m["MountTargetId"] for m in
                      efs.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"]]
    found += ["access-point:" + a["AccessPointId"] for a in efs.describe_access_points()["AccessPoints"]
              if {t["Key"]: t["Value"] for t in a.get("Tags", [])}.get("deployctl:stack") == name]
    elb = env.boto("elbv2")
    found += ["load-balancer:" + b["LoadBalancerName"]
              for b in elb.describe_load_balancers()["LoadBalancers"]
              if b["LoadBalancerName"].startswith(prefix)]
    found += ["target-group:" + g["TargetGroupName"]
              for g in elb.describe_target_groups()["TargetGroups"]
              if g["TargetGroupName"].startswith(prefix)]
    return found


def expect_nothing_left(env, name):
    left = what_exists(env, name)
    expect_eq(left, [], "resources of stack %s left in AWS" % name)


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def changing_calls(log):
    """Requests that may change AWS: everything but reads."""
    reads = ("Get", "Describe", "List")
    out = []
    for r in log:
        op = r["action"] or (r["target"] or "").split(".")[-1]
        if r["method"] in ("GET", "HEAD") or op.startswith(reads):
            continue
        out.append("%s %s %s" % (r["method"], r["path"].split("?")[0], op))
    return out
