"""bench on a Lambda stack: REPORT lines read from CloudWatch Logs and cold
starts forced by a configuration change. moto cannot run Lambda, so a local
server stands in for the API Gateway URL and does what Lambda would: for
each call it writes a REPORT line into the function's log group in moto,
with an Init Duration when the function's configuration changed since the
call before (a new execution environment). Every AWS call goes through the
recording proxy, which also answers one configuration read as 'update in
progress' so the wait is exercised."""
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import expect, expect_eq, expect_ok, expect_sanitizer_clean
from resource_support import Recorder

FN = "demo-fn"
GROUP = "/aws/lambda/demo-fn"


class FakeFunction:
    def __init__(self, env):
        self.lam = env.boto("lambda")
        self.logs = env.boto("logs")
        self.seen = object()
        self.calls = 0
        self.lock = threading.Lock()
        fake = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def do_GET(self):
                fake.invoke()
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def invoke(self):
        with self.lock:
            env = self.lam.get_function_configuration(FunctionName=FN).get(
                "Environment", {}).get("Variables", {})
            marker = env.get("DEPLOYCTL_BENCH_COLD")
            cold = marker != self.seen
            self.seen = marker
            self.calls += 1
            msg = ("REPORT RequestId: %s\tDuration: 3.21 ms\tBilled Duration: %d ms\t"
                   "Memory Size: 128 MB\tMax Memory Used: %d MB\t%s" % (
                       uuid.uuid4(), 150 if cold else 4, 61 + self.calls % 3,
                       "Init Duration: 150.00 ms\t" if cold else ""))
            self.logs.put_log_events(logGroupName=GROUP, logStreamName="s", logEvents=[
                {"timestamp": int(time.time() * 1000), "message": msg}])

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_function(env):
    iam = env.boto("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(e, c):\n    return 1\n")
    env.boto("lambda").create_function(
        FunctionName=FN, Runtime="python3.12", Role=role["Role"]["Arn"], Handler="handler.handler",
        Code={"ZipFile": buf.getvalue()}, MemorySize=128,
        Environment={"Variables": {"TABLE": "demo-table"}})
    logs = env.boto("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")


def write_state(env, state_dir, url):
    r = env.run("list", env={"DEPLOYCTL_STATE_DIR": state_dir})
    expect_ok(r, "list")
    doc = {"version": 1, "name": "demo", "arch": "lambda-python-dynamodb", "target": "aws",
           "region": "us-east-1", "account": "123456789012", "params": {"memory_mb": 128},
           "resources": {
               "fn": {"type": "lambda.function", "status": "created", "props": {},
                      "attrs": {"id": FN, "name": FN}},
               "logs": {"type": "logs.log_group", "status": "created", "props": {},
                        "attrs": {"id": GROUP, "name": GROUP}}},
           "outputs": {"url": url}}
    os.makedirs(os.path.join(state_dir, "stacks"), exist_ok=True)
    with open(os.path.join(state_dir, "stacks", "demo.json"), "w") as f:
        json.dump(doc, f)


def test_bench_lambda_reports_and_cold_starts(env):
    make_function(env)
    fake = FakeFunction(env)
    rec = Recorder(env.moto.url)
    state = os.path.join(env.home, "state")
    try:
        write_state(env, state, fake.url)
        rec.inject("GET", r"/functions/demo-fn/configuration$", 200,
                   {"FunctionName": FN, "LastUpdateStatus": "InProgress"})
        e = {"DEPLOYCTL_STATE_DIR": state, "AWS_ENDPOINT_URL": rec.url}
        r = env.run("bench", "demo", "-n", "20", "--warmup", "3", "--cold", "2",
                    "--logs-wait", "20", "-o", "json", env=e, timeout=120)
        expect_sanitizer_clean(r)
        expect_ok(r, "bench")
        row = json.loads(r.stdout)["rows"][0]
    finally:
        rec.stop()
        fake.stop()
    # 1 first + 3 warm-up + 20 measured, and 2 requests after each change.
    expect_eq(fake.calls, 28, "calls")
    lam = row["lambda"]
    expect_eq(lam["reports"], 28, "REPORT lines")
    expect_eq(lam["cold"], 3, "cold: the first call and one after each change")
    expect_eq(lam["billed_ms_warm_avg"], 4, "warm billed duration")
    expect_eq(lam["memory_size_mb"], 128)
    expect(lam["max_memory_used_mb"] in (62, 63), lam)
    expect_eq(len(row["cold_ms"]), 2, "cold measurements")
    puts = [q for q in rec.requests if q["method"] == "PUT"]
    expect_eq(len(puts), 3, "two changes and the restore")
    bodies = [json.loads(q["body"])["Environment"]["Variables"] for q in puts]
    expect(all(b["TABLE"] == "demo-table" for b in bodies), "other variables kept")
    expect("DEPLOYCTL_BENCH_COLD" in bodies[0] and "DEPLOYCTL_BENCH_COLD" not in bodies[2],
           bodies)
    cfg = env.boto("lambda").get_function_configuration(FunctionName=FN)
    expect_eq(cfg["Environment"]["Variables"], {"TABLE": "demo-table"}, "restored")
    filters = [json.loads(q["body"]) for q in rec.requests if q["service"] == "logs"]
    expect(filters and filters[0]["logGroupName"] == GROUP and
           filters[0]["filterPattern"] == "REPORT", filters[:1])
    # The measured billed duration is kept in state, and cost uses it.
    r = env.run("cost", "lambda-python-dynamodb", "--region", "us-east-1", "-o", "json",
                env={"DEPLOYCTL_STATE_DIR": state})
    expect_ok(r, "cost")
    c = json.loads(r.stdout)["rows"][0]
    names = [l["name"] for l in c["cost"]["per_call"]]
    expect("Lambda duration: 128 MB x 4 ms billed" in names, names)
    expect("measured by bench on stack 'demo'" in c["note"], c)
