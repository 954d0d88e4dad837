"""fargate-ecs against moto: up -> every resource as asked (read back with
boto3; what moto does not keep, such as the service's capacity provider
strategy, from the requests themselves, recorded on the way) -> a second up
changes nothing -> an app edit registers a revision and rolls the service ->
destroy -> nothing left. Plus the figures: calls and wall time behind the
50 ms-per-call proxy.

moto runs no task, so nothing answers behind its load balancer: the
template's readiness gate (http.wait on the ALB's /healthz) is pointed at a
local uvicorn serving the same app (--param health_via, as for fastapi-ec2),
and the container's command itself is run here as ECS would run it."""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

from audit import expect_clean_audit
from harness import ROOT, FaultProxy, expect, expect_eq
from stacks import copy_templates, destroy, expect_nothing_left, stack_env, up
from test_stacks_servers import HealthFront
from wire_support import WireRecorder, changing, check_wire, inputs_of

ARCH = "fargate-ecs"


def tags(pairs, k="Key", v="Value"):
    return {t[k]: t[v] for t in pairs or []}


def ingress(ec2, group_id):
    """The group's ingress rules as (port, source) pairs."""
    g = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    out = []
    for p in g["IpPermissions"]:
        expect_eq((p["IpProtocol"], p["FromPort"]), ("tcp", p["ToPort"]), "one tcp port")
        out += [(p["FromPort"], r["CidrIp"]) for r in p.get("IpRanges", [])]
        out += [(p["FromPort"], r["GroupId"]) for r in p.get("UserIdGroupPairs", [])]
    return sorted(out)


def check_network(env, res, name):
    ec2 = env.boto("ec2")
    alb_sg, task_sg, efs_sg = (res[k]["physical_id"] for k in ("alb_sg", "task_sg", "efs_sg"))
    expect_eq(ingress(ec2, alb_sg), [(80, "0.0.0.0/0")], "ALB: 80 from anywhere only")
    expect_eq(ingress(ec2, task_sg), [(8000, alb_sg)], "tasks: the app port from the ALB only")
    expect_eq(ingress(ec2, efs_sg), [(2049, task_sg)], "EFS: NFS from the tasks only")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"])
    return vpc["VpcId"], subnets, (alb_sg, task_sg, efs_sg)


def check_efs(env, res, name, subnets, efs_sg):
    efs = env.boto("efs")
    fs = efs.describe_file_systems(FileSystemId=res["fs"]["physical_id"])["FileSystems"][0]
    expect(fs["Encrypted"], "EFS encrypted at rest")
    expect_eq(tags(fs["Tags"]).get("deployctl:stack"), name, "EFS tag")
    mts = efs.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"]
    expect_eq(sorted(m["SubnetId"] for m in mts), subnets, "a mount target per default subnet")
    for m in mts:
        expect_eq(efs.describe_mount_target_security_groups(MountTargetId=m["MountTargetId"])[
            "SecurityGroups"], [efs_sg], "mount target group")
    ap = efs.describe_access_points(FileSystemId=fs["FileSystemId"])["AccessPoints"]
    expect_eq([(a["PosixUser"]["Uid"], a["RootDirectory"]["Path"]) for a in ap],
              [(1000, "/counter")], "access point")
    return fs, ap[0]


def check_roles(env, res, fs, ap, log_arn):
    iam = env.boto("iam")

    def statements(role):
        doc = iam.get_role_policy(RoleName=res[role]["physical_id"],
                                  PolicyName="deployctl")["PolicyDocument"]
        return (json.loads(doc) if isinstance(doc, str) else doc)["Statement"]

    expect_eq(statements("exec_role"), [{"Effect": "Allow", "Action": [
        "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": log_arn + ":*"}],
        "execution role: its log group only")
    expect_eq(statements("task_role"), [{"Effect": "Allow", "Action": [
        "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        "Resource": fs["FileSystemArn"], "Condition": {"StringEquals": {
            "elasticfilesystem:AccessPointArn": ap["AccessPointArn"]}}}],
        "task role: its file system, through its access point")


def check_task(env, res, name, fs, ap):
    ecs = env.boto("ecs")
    got = ecs.describe_task_definition(taskDefinition=res["task"]["attrs"]["arn"],
                                       include=["TAGS"])
    t = got["taskDefinition"]
    expect_eq((t["cpu"], t["memory"], t["networkMode"], t["requiresCompatibilities"]),
              ("256", "512", "awsvpc", ["FARGATE"]), "0.25 vCPU, 512 MB, awsvpc, Fargate")
    expect_eq(t["executionRoleArn"], res["exec_role"]["attrs"]["arn"], "execution role")
    expect_eq(t["taskRoleArn"], res["task_role"]["attrs"]["arn"], "task role")
    v = t["volumes"][0]["efsVolumeConfiguration"]
    expect_eq((v["fileSystemId"], v["transitEncryption"], v["authorizationConfig"]),
              (fs["FileSystemId"], "ENABLED", {"accessPointId": ap["AccessPointId"],
                                               "iam": "ENABLED"}),
              "EFS through the access point, TLS, IAM")
    c = t["containerDefinitions"][0]
    expect_eq(c["logConfiguration"]["options"]["awslogs-group"], res["logs"]["attrs"]["name"],
              "awslogs")
    env_ = {e["name"]: e["value"] for e in c["environment"]}
    with open(os.path.join(ROOT, "templates", "common", "fastapi", "app.py"), "rb") as f:
        expect_eq(base64.b64decode(env_["APP_PY_B64"]), f.read(),
                  "the app in the task definition, byte for byte")
    expect_eq(env_["COUNT_FILE"], "/data/count", "counter file on EFS")
    expect_eq(c["mountPoints"][0]["containerPath"], "/data", "mount path")
    run_container_command(c)
    expect_eq(tags(got["tags"], "key", "value").get("deployctl:stack"), name,
              "task definition tag")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read()


def run_container_command(container):
    """The container's command as ECS would run it, with its environment,
    on this machine: pip is a no-op stub (Debian's fastapi and uvicorn stand
    in for PyPI's), /srv/app a scratch folder. The app must answer."""
    tmp = tempfile.mkdtemp(prefix="dc-task-")
    try:
        bin_ = os.path.join(tmp, "bin")
        os.makedirs(bin_)
        with open(os.path.join(bin_, "pip"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(bin_, "pip"), 0o755)
        os.symlink("/usr/bin/python3", os.path.join(bin_, "python"))
        cmd = [c.replace("/srv/app", os.path.join(tmp, "app")) for c in container["command"]]
        port = free_port()
        e = {x["name"]: x["value"] for x in container["environment"]}
        e.update(PATH=bin_ + ":/usr/bin:/bin", PORT=str(port),
                 COUNT_FILE=os.path.join(tmp, "count"))
        p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = "http://127.0.0.1:%d" % port
            deadline = time.time() + 30
            while True:
                try:
                    expect_eq(get(base + "/healthz")[0], 200, "/healthz")
                    break
                except OSError:
                    expect(time.time() < deadline and p.poll() is None,
                           "the app did not start: %s" % p.stderr.read1(4000))
                    time.sleep(0.2)
            expect_eq([get(base + "/hits")[1].strip() for _ in range(2)], [b"1", b"2"], "hits")
            with open(os.path.join(ROOT, "templates", "common", "index.html"), "rb") as f:
                expect_eq(get(base + "/")[1], f.read(), "the page")
            with open(os.path.join(tmp, "count")) as f:
                expect_eq(f.read().strip(), "2", "the count in COUNT_FILE")
        finally:
            p.kill()
            p.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_service(env, res, name, calls, subnets, task_sg):
    body = inputs_of(calls, "CreateService")
    expect_eq(len(body), 1, "one CreateService")
    body = body[0]
    # moto's ECS ignores capacity provider strategies: the request is the truth.
    expect_eq(body["capacityProviderStrategy"],
              [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}], "Fargate Spot")
    expect("launchType" not in body, "a launch type would silently turn Spot off")
    expect_eq(body["networkConfiguration"]["awsvpcConfiguration"],
              {"subnets": subnets, "securityGroups": [task_sg], "assignPublicIp": "ENABLED"},
              "awsvpc")
    expect_eq(body["loadBalancers"], [{"targetGroupArn": res["tg"]["attrs"]["arn"],
                                       "containerName": "app", "containerPort": 8000}], "ALB")
    expect_eq(body["desiredCount"], 1, "desired count")
    ecs = env.boto("ecs")
    cl = ecs.describe_clusters(clusters=[res["cluster"]["physical_id"]], include=["TAGS"])[
        "clusters"][0]
    expect_eq((cl["capacityProviders"], cl["defaultCapacityProviderStrategy"]),
              (["FARGATE", "FARGATE_SPOT"], [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]),
              "cluster capacity providers")
    expect_eq(tags(cl["tags"], "key", "value").get("deployctl:stack"), name, "cluster tag")
    s = ecs.describe_services(cluster=cl["clusterArn"], services=[res["service"]["physical_id"]],
                              include=["TAGS"])["services"][0]
    expect_eq((s["status"], s["taskDefinition"]), ("ACTIVE", res["task"]["attrs"]["arn"]),
              "service")
    expect_eq(tags(s["tags"], "key", "value").get("deployctl:stack"), name, "service tag")


def check_alb(env, res, doc, vpc, subnets, alb_sg):
    elb = env.boto("elbv2")
    lb = elb.describe_load_balancers(LoadBalancerArns=[res["alb"]["attrs"]["arn"]])[
        "LoadBalancers"][0]
    expect_eq((lb["Scheme"], lb["Type"], lb["SecurityGroups"]),
              ("internet-facing", "application", [alb_sg]), "ALB")
    expect_eq(sorted(z["SubnetId"] for z in lb["AvailabilityZones"]), subnets, "ALB subnets")
    tg = elb.describe_target_groups(TargetGroupArns=[res["tg"]["attrs"]["arn"]])[
        "TargetGroups"][0]
    expect_eq((tg["TargetType"], tg["Port"], tg["HealthCheckPath"], tg["VpcId"]),
              ("ip", 8000, "/healthz", vpc), "target group")
    ls = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    expect_eq([(l["Port"], l["DefaultActions"][0]["TargetGroupArn"]) for l in ls],
              [(80, tg["TargetGroupArn"])], "listener")
    for arn in (lb["LoadBalancerArn"], tg["TargetGroupArn"]):
        t = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
        expect_eq(tags(t).get("deployctl:stack"), doc["name"], "ELB tag")
    expect_eq(doc["url"], "http://%s/" % lb["DNSName"], "url")


def check_deployed(env, name, doc, calls):
    with open(os.path.join(env.home, "state", "stacks", name + ".json")) as f:
        state = json.load(f)["resources"]
    res = {r["id"]: dict(r, attrs=state[r["id"]]["attrs"]) for r in doc["resources"]}
    for r in doc["resources"]:
        expect_eq(r["status"], "created", "status of %s" % r["id"])
    vpc, subnets, (alb_sg, task_sg, efs_sg) = check_network(env, res, name)
    fs, ap = check_efs(env, res, name, subnets, efs_sg)
    check_roles(env, res, fs, ap, res["logs"]["attrs"]["arn"])
    check_task(env, res, name, fs, ap)
    check_service(env, res, name, calls, subnets, task_sg)
    check_alb(env, res, doc, vpc, subnets, alb_sg)


def test_stack_lifecycle_fargate_ecs(env):
    name = "it-fargate"
    templates = copy_templates(env)
    rec = WireRecorder(env.moto.url)
    front = HealthFront()
    via = ("--param", "health_via=" + front.via)
    try:
        doc = up(env, ARCH, name, *via, url=rec.url, templates=templates)
        calls = check_wire(rec)
        check_deployed(env, name, dict(doc, name=name), calls)
        expect_clean_audit(env, name)
        host = doc["url"].split("/")[2]
        expect((host, "/healthz") in front.hosts, "up waited for the ALB's /healthz: %r"
               % front.hosts)
        rec.clear()
        again = up(env, ARCH, name, *via, url=rec.url, templates=templates)
        expect_eq(changing(check_wire(rec)), [], "changing calls of a second up")
        expect_eq(again["url"], doc["url"], "url after a second up")
        with open(os.path.join(templates, "common", "fastapi", "app.py"), "a") as f:
            f.write("\n# edited\n")
        rec.clear()
        up(env, ARCH, name, *via, url=rec.url, templates=templates)
        calls = check_wire(rec)
        expect_eq(changing(calls), ["RegisterTaskDefinition", "UpdateService"],
                  "an app edit: a new revision, the service rolled onto it")
        rec.clear()
        destroy(env, name, url=rec.url)
        calls = check_wire(rec)
        deregistered = inputs_of(calls, "DeregisterTaskDefinition")
        expect_eq(len(deregistered), 2, "both revisions deregistered")
    finally:
        rec.stop()
        front.stop()
    expect_nothing_left(env, name)


def test_stack_fargate_ecs_figures(env):
    """Calls and wall time of up and destroy behind 50 ms per call."""
    proxy = FaultProxy(env.moto.url, rate=0.0, delay_ms=50)
    front = HealthFront()
    try:
        t0 = time.time()
        up(env, ARCH, "fig", "--param", "health_via=" + front.via, url=proxy.url)
        t1 = time.time()
        n_up = proxy.counts()["forwarded"]
        destroy(env, "fig", url=proxy.url)
        t2 = time.time()
        n_down = proxy.counts()["forwarded"] - n_up
    finally:
        proxy.stop()
        front.stop()
    expect_nothing_left(env, "fig")
    print("figures: fargate-ecs up %d calls %.1f s, destroy %d calls %.1f s (50 ms per call)"
          % (n_up, t1 - t0, n_down, t2 - t1))
