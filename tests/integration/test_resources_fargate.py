"""The fargate-ecs resource types (ELBv2, EFS, ECS) driven one at a time
against moto through tests/tools/resource_driver, each result read back with
boto3 and every request checked against botocore's model of its operation.
Where moto does not keep what was asked (ECS capacity provider strategies),
the request itself is checked."""
import base64
import contextlib
import os
import shutil
import tempfile

from harness import expect, expect_eq
from resource_support import Driver
from wire_support import WireRecorder, changing, check_wire, inputs_of


@contextlib.contextmanager
def driver(env, logical="res"):
    tmp = tempfile.mkdtemp(prefix="dc-res-")
    os.makedirs(os.path.join(tmp, "arch"))
    d = Driver(env, template_dir=os.path.join(tmp, "arch"), logical=logical)
    d.rec.stop()
    d.rec = WireRecorder(env.moto.url)
    try:
        yield d
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def network(env):
    """The default VPC, its subnets and a fresh security group, from boto3."""
    ec2 = env.boto("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"])
    sg = ec2.create_security_group(GroupName="t", Description="t", VpcId=vpc["VpcId"])["GroupId"]
    return vpc["VpcId"], subnets, sg


def tags_of(pairs, k="Key", v="Value"):
    return {t[k]: t[v] for t in pairs}


# ---- ELBv2 -----------------------------------------------------------------

def test_elbv2_balancer_group_listener_lifecycle(env):
    vpc, subnets, sg = network(env)
    elb = env.boto("elbv2")
    with driver(env) as d:
        lb = d.ok("create", "elbv2.load_balancer", {"subnets": subnets[:3], "security_groups": [sg]},
                  logical="alb").out
        got = elb.describe_load_balancers(Names=["drv-alb"])["LoadBalancers"]
        expect_eq(len(got), 1, "one balancer")
        expect_eq((got[0]["Scheme"], got[0]["Type"], got[0]["State"]["Code"]),
                  ("internet-facing", "application", "active"), "balancer")
        expect_eq(sorted(z["SubnetId"] for z in got[0]["AvailabilityZones"]), subnets[:3], "subnets")
        expect_eq(got[0]["SecurityGroups"], [sg], "security groups")
        expect_eq(lb, {"id": got[0]["LoadBalancerArn"], "arn": got[0]["LoadBalancerArn"],
                       "name": "drv-alb", "dns": got[0]["DNSName"],
                       "zone": got[0]["CanonicalHostedZoneId"]}, "attrs")
        tags = elb.describe_tags(ResourceArns=[lb["arn"]])["TagDescriptions"][0]["Tags"]
        expect_eq(tags_of(tags)["deployctl:stack"], "drv", "balancer tag")

        tg = d.ok("create", "elbv2.target_group", {"vpc": vpc, "port": 8000},
                  logical="tg").out
        g = elb.describe_target_groups(Names=["drv-tg"])["TargetGroups"][0]
        expect_eq((g["TargetType"], g["Port"], g["Protocol"], g["HealthCheckPath"], g["VpcId"]),
                  ("ip", 8000, "HTTP", "/healthz", vpc), "target group")
        attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
            TargetGroupArn=tg["arn"])["Attributes"]}
        expect_eq(attrs["deregistration_delay.timeout_seconds"], "30", "deregistration delay")

        lprops = {"load_balancer": lb["arn"], "target_group": tg["arn"], "port": 80}
        li = d.ok("create", "elbv2.listener", lprops, logical="listener").out
        ls = elb.describe_listeners(LoadBalancerArn=lb["arn"])["Listeners"]
        expect_eq([(l["Port"], l["Protocol"], l["DefaultActions"][0]["Type"],
                    l["DefaultActions"][0]["TargetGroupArn"]) for l in ls],
                  [(80, "HTTP", "forward", tg["arn"])], "listener")
        expect_eq(li["id"], ls[0]["ListenerArn"], "listener attrs")

        # A create run again (a crash before the record) adopts, makes nothing new.
        d.rec.clear()
        again = d.ok("create", "elbv2.load_balancer",
                     {"subnets": subnets[:3], "security_groups": [sg]}, logical="alb").out
        expect_eq(again["arn"], lb["arn"], "adopted balancer")
        d.ok("create", "elbv2.target_group", {"vpc": vpc, "port": 8000}, logical="tg")
        d.ok("create", "elbv2.listener", lprops, logical="listener")
        calls = check_wire(d.rec)
        expect_eq(changing(calls), ["ModifyTargetGroupAttributes", "ModifyListener"],
                  "changing calls of creates run again")
        expect_eq(len(elb.describe_load_balancers()["LoadBalancers"]), 1, "balancers")
        expect_eq(len(elb.describe_listeners(LoadBalancerArn=lb["arn"])["Listeners"]), 1,
                  "listeners")

        # Found by name and tag, then deleted: nothing left.
        found = d.ok("find", "elbv2.load_balancer", {}, logical="alb").out
        expect_eq([f["arn"] for f in found], [lb["arn"]], "found balancer")
        d.rec.clear()
        d.ok("delete", "elbv2.listener", attrs=li, logical="listener")
        d.ok("delete", "elbv2.target_group", attrs=tg, logical="tg")
        d.ok("delete", "elbv2.load_balancer", attrs=lb, logical="alb")
        d.ok("delete", "elbv2.load_balancer", attrs=lb, logical="alb")
        calls = check_wire(d.rec)
        expect_eq(changing(calls), ["DeleteListener", "DeleteTargetGroup", "DeleteLoadBalancer",
                                    "DeleteLoadBalancer"], "deletes")
        expect_eq(elb.describe_load_balancers()["LoadBalancers"], [], "balancers left")
        expect_eq(elb.describe_target_groups()["TargetGroups"], [], "groups left")


def test_elbv2_balancer_refuses_a_namesake_of_another_stack(env):
    _, subnets, sg = network(env)
    env.boto("elbv2").create_load_balancer(Name="drv-alb", Subnets=subnets[:2],
                                           SecurityGroups=[sg])
    with driver(env) as d:
        r = d.run("create", "elbv2.load_balancer", {"subnets": subnets[:2],
                                                     "security_groups": [sg]}, logical="alb")
        expect(r.rc == 1 and "not this stack's" in r.stderr, r.stderr[-500:])
        r = d.run("create", "elbv2.load_balancer", {"subnets": subnets[:1],
                                                     "security_groups": [sg]}, logical="x")
        expect(r.rc == 1 and "at least two" in r.stderr, r.stderr[-500:])


# ---- EFS -------------------------------------------------------------------

def test_efs_file_system_mount_targets_access_point(env):
    _, subnets, sg = network(env)
    efs = env.boto("efs")
    with driver(env) as d:
        fs = d.ok("create", "efs.file_system", {}, logical="fs").out
        got = efs.describe_file_systems(FileSystemId=fs["id"])["FileSystems"][0]
        expect(got["Encrypted"], "encrypted")
        expect_eq(got["CreationToken"], "drv-fs", "creation token")
        expect_eq(got["LifeCycleState"], "available", "state")
        expect_eq(tags_of(got["Tags"]).get("deployctl:stack"), "drv", "tag")
        expect_eq(fs, {"id": got["FileSystemId"], "arn": got["FileSystemArn"],
                       "creation_token": "drv-fs"}, "attrs")
        again = d.ok("create", "efs.file_system", {}, logical="fs").out
        expect_eq(again, fs, "a second create adopts by creation token")
        expect_eq(len(efs.describe_file_systems()["FileSystems"]), 1, "file systems")

        mprops = {"file_system": fs["id"], "subnets": subnets, "security_groups": [sg]}
        r = d.ok("create", "efs.mount_target", mprops, logical="mounts")
        mts = efs.describe_mount_targets(FileSystemId=fs["id"])["MountTargets"]
        expect_eq(sorted(m["SubnetId"] for m in mts), subnets, "one per subnet")
        for m in mts:
            groups = efs.describe_mount_target_security_groups(MountTargetId=m["MountTargetId"])
            expect_eq(groups["SecurityGroups"], [sg], "mount target groups")
        expect_eq(len(r.records), len(subnets), "each mount target recorded when made")
        expect_eq([len(x["mount_targets"]) for x in r.records], list(range(1, len(subnets) + 1)),
                  "records grow")
        expect_eq(r.out["file_system"], fs["id"], "attrs")
        d.ok("create", "efs.mount_target", mprops, logical="mounts")
        expect_eq(len(efs.describe_mount_targets(FileSystemId=fs["id"])["MountTargets"]),
                  len(subnets), "a second create adopts them")

        ap = d.ok("create", "efs.access_point", {"file_system": fs["id"]}, logical="ap").out
        got = efs.describe_access_points(AccessPointId=ap["id"])["AccessPoints"][0]
        expect_eq(got["PosixUser"], {"Uid": 1000, "Gid": 1000}, "posix user")
        expect_eq(got["RootDirectory"], {"Path": "/counter", "CreationInfo": {
            "OwnerUid": 1000, "OwnerGid": 1000, "Permissions": "755"}}, "root directory")
        expect_eq(tags_of(got["Tags"]).get("deployctl:stack"), "drv", "tag")
        d.ok("create", "efs.access_point", {"file_system": fs["id"]}, logical="ap")
        expect_eq(len(efs.describe_access_points(FileSystemId=fs["id"])["AccessPoints"]), 1,
                  "a second create adopts by client token")
        calls = check_wire(d.rec)
        expect_eq(changing(calls), ["CreateFileSystem", "CreateFileSystem"] +
                  ["CreateMountTarget"] * len(subnets) + ["CreateAccessPoint"], "changing calls")

        # Found as state would have lost them, then the file system deleted
        # with its children still there (a sweep): all of it goes.
        expect_eq(d.ok("find", "efs.file_system", {}, logical="fs").out, [fs], "found fs")
        found = d.ok("find", "efs.mount_target", mprops, logical="mounts").out
        expect_eq(len(found[0]["mount_targets"]), len(subnets), "found mount targets")
        expect_eq(d.ok("find", "efs.access_point", {"file_system": fs["id"]}, logical="ap").out,
                  [ap], "found access point")
        d.ok("delete", "efs.file_system", attrs=fs, logical="fs")
        d.ok("delete", "efs.mount_target", attrs=r.out, logical="mounts")
        d.ok("delete", "efs.access_point", attrs=ap, logical="ap")
        check_wire(d.rec)
        expect_eq(efs.describe_file_systems()["FileSystems"], [], "file systems left")
        expect_eq(efs.describe_access_points()["AccessPoints"], [], "access points left")


# ---- ECS -------------------------------------------------------------------

APP = b"print('hello from the app')\n" * 40


def td_props(**kw):
    p = {"image": "public.ecr.aws/docker/library/python:3.12-slim", "port": 8000,
         "execution_role": "arn:aws:iam::123456789012:role/exec",
         "task_role": "arn:aws:iam::123456789012:role/task", "log_group": "/ecs/drv-app",
         "command": ["sh", "-c", "echo hi"], "env": {"COUNT_FILE": "/data/count"},
         "env_files": {"APP_B64": "../common/app.py"},
         "efs": {"file_system": "fs-12345678", "access_point": "fsap-0123456789abcdef0",
                 "path": "/data"}}
    p.update(kw)
    return p


def write_app(d, data=APP):
    common = os.path.join(os.path.dirname(d.template_dir), "common")
    os.makedirs(common, exist_ok=True)
    with open(os.path.join(common, "app.py"), "wb") as f:
        f.write(data)


def test_ecs_task_definition_fields_revisions_and_delete(env):
    ecs = env.boto("ecs")
    with driver(env) as d:
        write_app(d)
        props = d.ok("prepare", "ecs.task_definition", td_props(), logical="td").out
        expect_eq(len(props["env_files_sha256"]["APP_B64"]), 64, "file hash in the props")
        td = d.ok("create", "ecs.task_definition", props, logical="td").out
        got = ecs.describe_task_definition(taskDefinition=td["arn"], include=["TAGS"])
        t = got["taskDefinition"]
        expect_eq((t["family"], t["cpu"], t["memory"], t["networkMode"],
                   t["requiresCompatibilities"]),
                  ("drv-td", "256", "512", "awsvpc", ["FARGATE"]), "task")
        expect_eq((t["executionRoleArn"], t["taskRoleArn"]),
                  ("arn:aws:iam::123456789012:role/exec", "arn:aws:iam::123456789012:role/task"),
                  "roles")
        expect_eq(t["volumes"][0]["efsVolumeConfiguration"]["transitEncryption"], "ENABLED",
                  "transit encryption")
        expect_eq(t["volumes"][0]["efsVolumeConfiguration"]["authorizationConfig"],
                  {"accessPointId": "fsap-0123456789abcdef0", "iam": "ENABLED"}, "IAM auth")
        c = t["containerDefinitions"][0]
        expect_eq(c["portMappings"][0]["containerPort"], 8000, "port")
        expect_eq(c["logConfiguration"], {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/drv-app", "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "app"}}, "logs")
        expect_eq(c["mountPoints"], [{"sourceVolume": "data", "containerPath": "/data",
                                      "readOnly": False}], "mount")
        env_ = {e["name"]: e["value"] for e in c["environment"]}
        expect_eq(base64.b64decode(env_["APP_B64"]), APP, "the app, base64, byte for byte")
        expect_eq(env_["COUNT_FILE"], "/data/count", "env")
        expect_eq(tags_of(got["tags"], "key", "value")["deployctl:stack"], "drv", "tags")
        expect_eq(td["revisions"], [td["arn"]], "revisions")

        write_app(d, APP + b"# edited\n")
        new = d.ok("prepare", "ecs.task_definition", td_props(), logical="td").out
        expect(new != props, "an edited file is a change")
        up = d.ok("update", "ecs.task_definition", new, old=props, attrs=td, logical="td").out
        expect(up["arn"].endswith(":2") and up["revisions"] == [td["arn"], up["arn"]], up)
        # A revision registered by a run that crashed before its record.
        ecs.register_task_definition(family="drv-td", containerDefinitions=[
            {"name": "x", "image": "x", "memory": 512}], tags=[{"key": "deployctl:stack", "value": "drv"}])
        found = d.ok("find", "ecs.task_definition", {}, logical="td").out
        expect_eq(len(found[0]["revisions"]), 3, "found revisions")
        d.rec.clear()
        d.ok("delete", "ecs.task_definition", attrs=up, logical="td")
        calls = check_wire(d.rec)
        expect_eq(changing(calls), ["DeregisterTaskDefinition"] * 3 + ["DeleteTaskDefinitions"],
                  "deletes")
        expect_eq(ecs.list_task_definitions(familyPrefix="drv-td", status="ACTIVE")[
            "taskDefinitionArns"], [], "active revisions left")
        r = d.run("create", "ecs.task_definition", td_props(env_files={"X": "../../../etc/passwd"}),
                  logical="td")
        expect(r.rc == 1 and "env_files" in r.stderr, r.stderr[-400:])


def test_ecs_cluster_and_service(env):
    vpc, subnets, sg = network(env)
    ecs = env.boto("ecs")
    elb = env.boto("elbv2")
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=8000, VpcId=vpc,
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    with driver(env) as d:
        cl = d.ok("create", "ecs.cluster", {}, logical="cluster").out
        c = ecs.describe_clusters(clusters=["drv-cluster"], include=["TAGS"])["clusters"][0]
        expect_eq((c["status"], c["capacityProviders"], c["defaultCapacityProviderStrategy"]),
                  ("ACTIVE", ["FARGATE", "FARGATE_SPOT"],
                   [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]), "cluster")
        expect_eq(tags_of(c["tags"], "key", "value")["deployctl:stack"], "drv", "tagged")
        write_app(d)
        tdp = d.ok("prepare", "ecs.task_definition", td_props(), logical="td").out
        td = d.ok("create", "ecs.task_definition", tdp, logical="td").out
        sprops = {"cluster": cl["name"], "task_definition": td["arn"], "subnets": subnets,
                  "security_groups": [sg], "target_group": tg, "port": 8000,
                  "after": ["listener-arn"]}
        d.rec.clear()
        svc = d.ok("create", "ecs.service", sprops, logical="svc").out
        calls = check_wire(d.rec)
        body = inputs_of(calls, "CreateService")[0]
        # moto ignores capacity provider strategies: the request is the truth.
        expect_eq(body["capacityProviderStrategy"],
                  [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}], "strategy")
        expect("launchType" not in body, "a launch type would turn Spot off")
        expect_eq(body["networkConfiguration"], {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": [sg], "assignPublicIp": "ENABLED"}}, "network")
        expect_eq(body["loadBalancers"], [{"targetGroupArn": tg, "containerName": "app",
                                           "containerPort": 8000}], "load balancer")
        expect_eq((body["desiredCount"], len(body["clientToken"])), (1, 32), "count, token")
        s = ecs.describe_services(cluster="drv-cluster", services=["drv-svc"],
                                  include=["TAGS"])["services"][0]
        expect_eq((s["status"], s["desiredCount"], s["taskDefinition"]),
                  ("ACTIVE", 1, td["arn"]), "service")
        expect_eq(tags_of(s["tags"], "key", "value")["deployctl:stack"], "drv", "service tags")

        # Run again with the same props (a crash before the record): the token
        # makes it the same service.
        again = d.ok("create", "ecs.service", sprops, logical="svc").out
        expect_eq(again, svc, "same service")
        expect_eq(len(ecs.list_services(cluster="drv-cluster")["serviceArns"]), 1, "services")

        d.rec.clear()
        new = dict(sprops, capacity_provider="FARGATE", desired_count=2)
        d.ok("update", "ecs.service", new, old=sprops, attrs=svc, logical="svc")
        body = inputs_of(check_wire(d.rec), "UpdateService")[0]
        expect_eq((body["capacityProviderStrategy"][0]["capacityProvider"], body["desiredCount"],
                   body["forceNewDeployment"]), ("FARGATE", 2, True), "update")

        # The cluster's delete takes a service state lost along.
        d.rec.clear()
        d.ok("delete", "ecs.cluster", attrs=cl, logical="cluster")
        calls = check_wire(d.rec)
        expect_eq(changing(calls), ["UpdateService", "DeleteService", "DeleteCluster"],
                  "scaled to 0, deleted, then the cluster")
        expect_eq(inputs_of(calls, "UpdateService")[0]["desiredCount"], 0, "scaled to 0")
        s = ecs.describe_services(cluster="drv-cluster", services=["drv-svc"])["services"]
        expect(not s or s[0]["status"] == "INACTIVE", s)
        expect_eq(ecs.describe_clusters(clusters=["drv-cluster"])["clusters"][0]["status"],
                  "INACTIVE", "cluster")
        d.ok("delete", "ecs.service", attrs=svc, logical="svc")
        d.ok("delete", "ecs.task_definition", attrs=td, logical="td")


# ---- iam.role: a condition on a statement (the task role's access point) ----

def test_iam_role_statement_condition(env):
    import json as _json
    cond = {"StringEquals": {"elasticfilesystem:AccessPointArn":
                             "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1"}}
    allow = [{"action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
              "resource": "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1",
              "condition": cond}]
    with driver(env) as d:
        d.ok("create", "iam.role", {"service": "ecs-tasks.amazonaws.com", "allow": allow},
             logical="task")
        doc = env.boto("iam").get_role_policy(RoleName="drv-task", PolicyName="deployctl")[
            "PolicyDocument"]
        doc = _json.loads(doc) if isinstance(doc, str) else doc
        expect_eq(doc["Statement"], [{"Effect": "Allow", "Action": allow[0]["action"],
                                      "Resource": allow[0]["resource"], "Condition": cond}],
                  "statement with its condition")
        r = d.run("create", "iam.role", {"service": "x", "allow": [dict(allow[0], condition=1)]},
                  logical="bad")
        expect(r.rc == 1 and "condition" in r.stderr, r.stderr[-300:])
