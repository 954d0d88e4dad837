"""The server architectures on EC2 (fastapi-ec2, k8s) against moto behind
the 50 ms fault proxy: up -> what exists, checked with boto3 -> up again
makes no changing call -> destroy -> nothing left. The user data is checked
with bash -n and shellcheck, and the files it writes against the template's
byte for byte; the k8s manifests are parsed.

moto runs no instance, so nothing answers at the instance's address. The
templates' readiness gate (http.wait) is pointed at a local uvicorn serving
the same app through --param health_via=HOST:PORT (curl's --connect-to):
the wait really happens, for the instance's URL and Host header, only the
route goes to loopback."""
import base64
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

from audit import expect_clean_audit
from harness import ROOT, FaultProxy, expect, expect_eq, expect_ok
from stacks import (changing_calls, destroy, expect_nothing_left, read_log, stack_env, up,
                    what_exists)

sys.path.insert(0, os.path.join(ROOT, "tests", "app"))

TEMPLATES = os.path.join(ROOT, "templates")
AMI_PARAM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
APP_FILES = {"/opt/app/app.py": "common/fastapi/app.py", "/opt/app/index.html": "common/index.html"}


class HealthFront:
    """A loopback HTTP front that records each request's Host header and
    passes it to a uvicorn running the template's app."""

    def __init__(self):
        import test_fastapi
        self.app = test_fastapi.Server()
        self.hosts = []
        front = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                front.hosts.append((self.headers.get("Host"), self.path))
                try:
                    with urllib.request.urlopen(front.app.url.rstrip("/") + self.path,
                                                timeout=10) as r:
                        status, body = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.via = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.app.stop()


def resources(doc):
    return {r["id"]: r for r in doc["resources"]}


def instance(env, iid):
    return env.boto("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def ingress(env, gid):
    g = env.boto("ec2").describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    out = set()
    for p in g["IpPermissions"]:
        for r in p.get("IpRanges", []):
            out.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"]))
        for r in p.get("UserIdGroupPairs", []):
            out.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"),
                     "self" if r["GroupId"] == gid else r["GroupId"]))
    return out, {t["Key"]: t["Value"] for t in g.get("Tags", [])}


def user_data(env, iid):
    ud = env.boto("ec2").describe_instance_attribute(InstanceId=iid, Attribute="userData")
    return base64.b64decode(ud["UserData"]["Value"])


def check_script(script, name):
    """bash -n and shellcheck pass on the script as the instance gets it."""
    with tempfile.NamedTemporaryFile("wb", suffix=".sh", delete=False) as f:
        f.write(script)
    try:
        r = subprocess.run(["bash", "-n", f.name], capture_output=True)
        expect_eq(r.returncode, 0, "%s: bash -n: %s" % (name, r.stderr.decode()))
        expect(shutil.which("shellcheck"), "shellcheck not installed (make deps)")
        r = subprocess.run(["shellcheck", "-s", "bash", f.name], capture_output=True)
        expect_eq(r.returncode, 0, "%s: shellcheck:\n%s" % (name, r.stdout.decode()))
    finally:
        os.unlink(f.name)


def written_files(script, template_script):
    """Run the user data's file-writing part (between its "#!" line and the
    template's own script) with bash in a temporary root: {path: bytes}."""
    with open(template_script, "rb") as f:
        own = f.read()
    head, rest = own.split(b"\n", 1)
    expect(script.startswith(head + b"\n") and script.endswith(rest),
           "user data = the template's script with the files after its first line")
    part = script[len(head) + 1:len(script) - len(rest)]
    root = tempfile.mkdtemp(prefix="ud-root-")
    try:
        rooted = part.replace(b" '/", (" '%s/" % root).encode())
        subprocess.run(["bash", "-euc", rooted.decode()], check=True)
        out = {}
        for dirpath, _, files in os.walk(root):
            for fn in files:
                p = os.path.join(dirpath, fn)
                with open(p, "rb") as fh:
                    out[p[len(root):]] = fh.read()
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def expect_files(got, want):
    expect_eq(sorted(got), sorted(want), "files the user data writes")
    for dest, src in want.items():
        with open(os.path.join(TEMPLATES, src), "rb") as f:
            expect(got[dest] == f.read(), "%s is byte for byte templates/%s" % (dest, src))


def check_instance(env, name, arch, doc, itype, script):
    res = resources(doc)
    i = instance(env, res["server"]["physical_id"])
    ami = env.boto("ssm").get_parameter(Name=AMI_PARAM)["Parameter"]["Value"]
    expect_eq(i["State"]["Name"], "running", "instance state")
    expect_eq(i["MetadataOptions"]["HttpTokens"], "required", "IMDSv2 required")
    expect_eq(i["InstanceType"], itype, "instance type")
    expect_eq(i["ImageId"], ami, "AMI from the public SSM parameter")
    tags = {t["Key"]: t["Value"] for t in i["Tags"]}
    expect_eq(tags, {"deployctl:stack": name, "deployctl:arch": arch, "Name": name + "-server"},
              "instance tags")
    expect_eq([g["GroupId"] for g in i["SecurityGroups"]], [res[sg_of(arch)]["physical_id"]],
              "instance security groups")
    expect_eq(doc["url"], "http://%s/" % i["PublicDnsName"], "url")
    data = user_data(env, i["InstanceId"])
    check_script(data, arch)
    return data, written_files(data, os.path.join(TEMPLATES, arch, script))


def sg_of(arch):
    return "web_sg" if arch == "fastapi-ec2" else "cluster_sg"


def clear(path):
    if os.path.exists(path):
        os.unlink(path)


def timed(fn, *a, **kw):
    start = time.time()
    out = fn(*a, **kw)
    return out, time.time() - start


def lifecycle(env, arch, check, extra=(), name=None):
    """up, checks, up again, destroy through the 50 ms proxy; the figures."""
    name = name or "it-" + arch[:8].rstrip("-")
    log = os.path.join(env.home, "calls.jsonl")
    proxy = FaultProxy(env.moto.url, rate=0.0, delay_ms=50, log=log)
    front = HealthFront()
    figures = {}
    try:
        params = ["--param", "health_via=" + front.via, *extra]
        # moto builds its EC2 and SSM backends on first use (seconds): not
        # deployctl's time.
        env.boto("ec2").describe_instances()
        env.boto("ssm").get_parameter(Name=AMI_PARAM)
        doc, t = timed(up, env, arch, name, *params, url=proxy.url)
        figures["up"] = (len(read_log(log)), t)
        dns = doc["url"][len("http://"):-1]
        expect(("%s" % dns, "/healthz") in front.hosts,
               "the wait asked for the instance's /healthz: %r" % front.hosts)
        check(env, name, doc)
        expect_clean_audit(env, name)
        clear(log)
        again = up(env, arch, name, *params, url=proxy.url)
        expect_eq(changing_calls(read_log(log)), [], "changing calls of a second up")
        expect_eq(again["url"], doc["url"], "url after a second up")
        clear(log)
        _, t = timed(destroy, env, name, url=proxy.url)
        figures["destroy"] = (len(read_log(log)), t)
    finally:
        front.stop()
        proxy.stop()
    expect_nothing_left(env, name)
    print("     figures %s%s: up %d calls %.2f s, destroy %d calls %.2f s (50 ms per call)" % (
        arch, " " + " ".join(extra) if extra else "", figures["up"][0], figures["up"][1],
        figures["destroy"][0], figures["destroy"][1]))


def check_fastapi_ec2(env, name, doc):
    res = resources(doc)
    rules, tags = ingress(env, res["web_sg"]["physical_id"])
    expect_eq(rules, {("tcp", 80, 80, "0.0.0.0/0")}, "port 80 only, no SSH by default")
    expect_eq(tags.get("deployctl:stack"), name, "group tag")
    _, files = check_instance(env, name, "fastapi-ec2", doc, "t3.micro", "user-data.sh")
    expect_files(files, APP_FILES)


def test_stack_servers_fastapi_ec2(env):
    lifecycle(env, "fastapi-ec2", check_fastapi_ec2)


JOIN = {"/opt/k8s/join-from-ssm.sh": "k8s/join-from-ssm.sh"}


def check_k8s(env, name, doc, nodes=0):
    res = resources(doc)
    rules, _ = ingress(env, res["cluster_sg"]["physical_id"])
    expect_eq(rules, {("tcp", 80, 80, "0.0.0.0/0"), ("-1", None, None, "self")},
              "80 from anywhere, everything else (6443 too) only inside the group")
    data, files = check_instance(env, name, "k8s", doc, "t3.small", "server-data.sh")
    expect_files(files, dict(APP_FILES, **{"/opt/k8s/hits.yaml": "k8s/manifests/hits.yaml"},
                             **JOIN))
    expect(b"sh -s - server" in data and b"kubectl apply -f /opt/k8s/hits.yaml" in data,
           "user data installs k3s as server and applies the manifests")
    param = "/deployctl/%s/agent_token" % name
    expect(env_lines(data) == {"REGION": "us-east-1", "JOIN_PARAMETER_NAME": param},
           "the server's values: %r" % env_lines(data))
    expect(b"join-from-ssm.sh \"$REGION\" \"$JOIN_PARAMETER_NAME\" agent-token" in data,
           "the server takes the parameter as its agent token")
    check_manifests(yaml.safe_load_all(files["/opt/k8s/hits.yaml"]))
    check_join_script()
    profile = check_node_access(env, name, param)
    server = instance(env, res["server"]["physical_id"])
    expect_eq(server["IamInstanceProfile"]["Arn"], profile, "the server's instance profile")
    expect_eq(len(agents_of(env, name)), nodes, "agents")


def env_lines(script):
    """The NAME='value' lines deployctl puts after the first line."""
    return dict(re.findall(r"^([A-Z_]+)='([^'\n]*)'$", script.decode(), re.M))


def check_join_script():
    with open(os.path.join(TEMPLATES, "k8s", "join-from-ssm.sh"), "rb") as f:
        check_script(f.read(), "join-from-ssm.sh")


def agents_of(env, name):
    ours = [{"Name": "tag:Name", "Values": [name + "-agents"]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]}]
    return [i for r in env.boto("ec2").describe_instances(Filters=ours)["Reservations"]
            for i in r["Instances"]]


def check_node_access(env, name, param):
    """The SecureString, and the one role that may read it: GetParameter on
    that parameter only. Returns the instance profile's ARN."""
    ssm, iam = env.boto("ssm"), env.boto("iam")
    p = ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]
    expect_eq(p["Type"], "SecureString", "the token parameter's type")
    expect(re.fullmatch(r"[0-9a-f]{64}", p["Value"]), "a random token")
    role = name + "-node-role"
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    expect_eq([s["Principal"] for s in trust["Statement"]], [{"Service": "ec2.amazonaws.com"}],
              "trusted by EC2")
    doc = iam.get_role_policy(RoleName=role, PolicyName="deployctl")["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    expect_eq(doc["Statement"], [{"Effect": "Allow", "Action": "ssm:GetParameter",
                                  "Resource": p["ARN"]}], "the role reads the token only")
    expect_eq(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], [],
              "no managed policy")
    prof = iam.get_instance_profile(InstanceProfileName=name + "-node-profile")["InstanceProfile"]
    expect_eq([r["RoleName"] for r in prof["Roles"]], [role], "the profile's role")
    return prof["Arn"]


def check_agents(env, name, doc):
    """`nodes` agents like the server (type, AMI, group, IMDSv2, profile),
    their user data joining the server's private address."""
    server = instance(env, resources(doc)["server"]["physical_id"])
    agents = agents_of(env, name)
    expect_eq(len(agents), 2, "two agents")
    profile = server["IamInstanceProfile"]["Arn"]
    # moto attaches a launch's profile to its first instance only; the
    # launch carried it for both (checked in test_resources_nodes).
    expect_eq([a.get("IamInstanceProfile", {}).get("Arn") for a in agents].count(profile), 1,
              "the agents' instance profile")
    for a in agents:
        expect_eq(a["MetadataOptions"]["HttpTokens"], "required", "IMDSv2 required")
        expect_eq((a["InstanceType"], a["ImageId"]), (server["InstanceType"], server["ImageId"]),
                  "type and AMI as the server's")
        expect_eq([g["GroupId"] for g in a["SecurityGroups"]],
                  [g["GroupId"] for g in server["SecurityGroups"]], "the cluster's group")
        expect_eq({t["Key"]: t["Value"] for t in a["Tags"]},
                  {"deployctl:stack": name, "deployctl:arch": "k8s", "Name": name + "-agents"},
                  "agent tags")
        data = user_data(env, a["InstanceId"])
        check_script(data, "agent user data")
        expect_files(written_files(data, os.path.join(TEMPLATES, "k8s", "agent-data.sh")), JOIN)
        expect_eq(env_lines(data), {"REGION": "us-east-1",
                                    "JOIN_PARAMETER_NAME": "/deployctl/%s/agent_token" % name,
                                    "SERVER_IP": server["PrivateIpAddress"]}, "agent values")
        expect(b'sh -s - agent --server "https://$SERVER_IP:6443"' in data, "joins the server")
    versions = {re.search(rb'K3S_VERSION="([^"]+)"', open(os.path.join(TEMPLATES, "k8s", f),
                                                          "rb").read()).group(1)
                for f in ("server-data.sh", "agent-data.sh")}
    expect_eq(len(versions), 1, "server and agents run one k3s version")


def check_manifests(docs):
    by_kind = {d["kind"]: d for d in docs}
    expect_eq(sorted(by_kind), ["Deployment", "Service"], "manifest kinds")
    dep, svc = by_kind["Deployment"], by_kind["Service"]
    pod = dep["spec"]["template"]["spec"]
    expect_eq(dep["spec"]["replicas"], 1, "one replica: the counter is in memory")
    app = pod["containers"][0]
    expect_eq(app["image"], "python:3.12-slim", "image")
    expect_eq(app["ports"], [{"name": "http", "containerPort": 8000}], "container port")
    for probe in ("readinessProbe", "livenessProbe"):
        expect_eq(app[probe]["httpGet"], {"path": "/healthz", "port": "http"}, probe)
    for c in pod["containers"] + pod["initContainers"]:
        expect(c["resources"]["requests"] and c["resources"]["limits"],
               "%s has requests and limits" % c["name"])
    expect_eq(pod["volumes"][0], {"name": "app", "configMap": {"name": "hits-app"}},
              "the app comes from the ConfigMap the user data makes")
    expect_eq(dep["spec"]["selector"]["matchLabels"], svc["spec"]["selector"], "selector")
    expect_eq(svc["spec"]["type"], "LoadBalancer", "service type")
    expect_eq(svc["spec"]["ports"], [{"name": "http", "port": 80, "targetPort": "http"}],
              "service port")


def test_stack_servers_k8s(env):
    lifecycle(env, "k8s", check_k8s)


def secret_seen(value, state_dir, *outputs):
    """Where the secret shows: deployctl's outputs, any file of the state
    directory, or its git history (every commit's patch)."""
    where = ["output %d" % i for i, o in enumerate(outputs) if value.encode() in o]
    for dirpath, _, files in os.walk(state_dir):
        for fn in files:
            with open(os.path.join(dirpath, fn), "rb") as f:
                if value.encode() in f.read():
                    where.append(os.path.join(dirpath, fn))
    log = subprocess.run(["git", "-C", state_dir, "log", "-p", "--all"], capture_output=True,
                         check=True).stdout
    expect(b"agent_token" in log, "the history holds the stack's commits")
    if value.encode() in log:
        where.append("git log -p")
    return where


def test_stack_servers_k8s_nodes(env):
    """nodes=2 through the 50 ms proxy, the first up with --debug: the
    agents, and the join token nowhere but in SSM."""
    name = "it-k8s-n"
    front = HealthFront()
    log = os.path.join(env.home, "calls.jsonl")
    proxy = FaultProxy(env.moto.url, rate=0.0, delay_ms=50, log=log)
    params = ("--param", "health_via=" + front.via, "--param", "nodes=2")
    state = os.path.join(env.home, "state")
    try:
        env.boto("ec2").describe_instances()
        env.boto("ssm").get_parameter(Name=AMI_PARAM)
        e = dict(stack_env(env, proxy.url))
        start = time.time()
        r = env.run("--debug", "-o", "json", "up", "k8s", "--name", name, *params, env=e,
                    timeout=600)
        t_up = time.time() - start
        expect_ok(r, "up k8s nodes=2")
        calls_up = len(read_log(log))
        doc = json.loads(r.stdout)
        expect(b"PutParameter" in r.stderr and b"SecureString" in r.stderr,
               "the --debug log shows the PutParameter call")
        check_k8s(env, name, doc, nodes=2)
        check_agents(env, name, doc)
        token = env.boto("ssm").get_parameter(Name="/deployctl/%s/agent_token" % name,
                                              WithDecryption=True)["Parameter"]["Value"]
        expect_eq(secret_seen(token, state, r.stdout, r.stderr), [],
                  "places the join token was found")
        clear(log)
        again = up(env, "k8s", name, *params, url=proxy.url)
        expect_eq(changing_calls(read_log(log)), [], "changing calls of a second up")
        expect_eq(again["url"], doc["url"], "url after a second up")
        clear(log)
        start = time.time()
        destroy(env, name, url=proxy.url)
        t_destroy = time.time() - start
        calls_destroy = len(read_log(log))
    finally:
        front.stop()
        proxy.stop()
    expect_nothing_left(env, name)
    expect_eq(agents_of(env, name), [], "agents terminated")
    print("     figures k8s nodes=2: up %d calls %.2f s, destroy %d calls %.2f s "
          "(50 ms per call, up with --debug)" % (calls_up, t_up, calls_destroy, t_destroy))


def test_stack_servers_ssh_param_and_type(env):
    """--param ssh_cidr adds the SSH rule in place; leaving it out again
    revokes it; a new instance type replaces the instance."""
    front = HealthFront()
    name = "it-ssh"
    try:
        via = "health_via=" + front.via
        doc = up(env, "fastapi-ec2", name, "--param", via, "--param", "ssh_cidr=203.0.113.0/24")
        gid = resources(doc)["web_sg"]["physical_id"]
        old = resources(doc)["server"]["physical_id"]
        expect_eq(ingress(env, gid)[0], {("tcp", 80, 80, "0.0.0.0/0"),
                                         ("tcp", 22, 22, "203.0.113.0/24")}, "with ssh")
        doc = up(env, "fastapi-ec2", name, "--param", via, "--param", "instance_type=t3.small")
        expect_eq(resources(doc)["web_sg"]["physical_id"], gid, "same group, updated in place")
        expect_eq(ingress(env, gid)[0], {("tcp", 80, 80, "0.0.0.0/0")}, "ssh revoked")
        new = resources(doc)["server"]["physical_id"]
        expect(new != old, "a new instance type replaces the instance")
        expect_eq(instance(env, old)["State"]["Name"], "terminated", "the old one terminated")
        expect_eq(instance(env, new)["InstanceType"], "t3.small", "new type")
        destroy(env, name)
    finally:
        front.stop()
    expect_nothing_left(env, name)


def test_stack_servers_wait_is_bounded(env):
    """Nothing answers: up fails after the bound, saying what it waited
    for; destroy still removes everything."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = "127.0.0.1:%d" % s.getsockname()[1]
    name = "it-nowait"
    r = up(env, "fastapi-ec2", name, "--param", "health_via=" + closed,
           "--param", "health_timeout_s=2", check=False)
    err = r.stderr.decode()
    expect(r.returncode != 0, "up must fail when the app never answers")
    expect("gave up waiting for 'http://ec2-" in err and "/healthz' to answer after 2 s" in err,
           "message: " + err[-500:])
    expect(any(x.startswith("instance:") for x in what_exists(env, name)), "the instance stays")
    destroy(env, name)
    expect_nothing_left(env, name)


def test_stack_servers_k8s_nodes_sweep(env):
    """State lost after up k8s nodes=2: destroy --sweep finds the agents,
    the instance profile and the token parameter by name and tag."""
    front = HealthFront()
    name = "it-k8s-sw"
    try:
        up(env, "k8s", name, "--param", "health_via=" + front.via, "--param", "nodes=2")
    finally:
        front.stop()
    left = what_exists(env, name)
    for kind in ("instance-profile:", "parameter:", "role:"):
        expect(any(x.startswith(kind) for x in left), "%s made: %r" % (kind, left))
    expect_eq(len(agents_of(env, name)), 2, "agents made")
    shutil.rmtree(os.path.join(env.home, "state"))
    destroy(env, name, extra=("--sweep",))
    expect_nothing_left(env, name)
