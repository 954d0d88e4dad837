"""App tests: each Lambda template's handler run for real in its own language
against moto, the page in headless Chromium (test_page.py), and the FastAPI
app under uvicorn (test_fastapi.py).

    python3 tests/app/test_handlers.py [name-substring...]

Python handlers run in a python3 subprocess, the JS handler in node with the
SDK v3 clients pinned in tests/app/package-lock.json (tests/app/install.sh).
The handlers get only environment variables: AWS_ENDPOINT_URL points them at
moto, so these tests also check that the SDKs honour it."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEMPLATES = os.path.join(ROOT, "templates")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)
import harness  # noqa: E402

ARCHS = ["lambda-python-dynamodb", "lambda-python-s3", "lambda-js-dynamodb"]
REGION = "us-east-1"
ACCOUNT = "123456789012"
CREDS = {"AWS_ACCESS_KEY_ID": "AKIDTESTINGTESTING00",
         "AWS_SECRET_ACCESS_KEY": "testing-secret-key-never-printed"}
PAGE_FILE = os.path.join(TEMPLATES, "common", "index.html")
CONCURRENCY = 50


def load_stack(arch):
    with open(os.path.join(TEMPLATES, arch, "stack.json")) as f:
        return json.load(f)


def boto(moto, service):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=moto.url, region_name=REGION,
                        config=Config(s3={"addressing_style": "path"}), **{
                            "aws_access_key_id": CREDS["AWS_ACCESS_KEY_ID"],
                            "aws_secret_access_key": CREDS["AWS_SECRET_ACCESS_KEY"]})


def event(method, path, route_key=None):
    """An API Gateway HTTP API payload 2.0 event as Lambda receives it."""
    now = time.time()
    if route_key is None:
        route_key = "%s %s" % (method, path)
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "*/*", "host": "abc123.execute-api.us-east-1.amazonaws.com",
                    "user-agent": "app-test", "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": ACCOUNT, "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "app-test"},
            "requestId": str(uuid.uuid4()), "routeKey": route_key, "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000)},
        "isBase64Encoded": False,
    }


class Deployed:
    """One architecture's data resources made in moto with boto3, as the
    template describes them, and the function's environment taken from the
    template with its references filled in."""

    def __init__(self, moto, arch, seed_page=True):
        self.moto = moto
        self.arch = arch
        self.stack = load_stack(arch)
        res = self.stack["resources"]
        suffix = uuid.uuid4().hex[:8]
        self.attrs = {}
        self.s3 = boto(moto, "s3")
        self.ddb = boto(moto, "dynamodb")
        for rid, r in res.items():
            if r["type"] == "s3.bucket":
                name = "app-%s-%s" % (rid, suffix)
                self.s3.create_bucket(Bucket=name)
                self.attrs["%s.name" % rid] = name
            elif r["type"] == "dynamodb.table":
                name = "app-%s-%s" % (rid, suffix)
                key = r["props"]["hash_key"]
                self.ddb.create_table(
                    TableName=name, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": key,
                                           "AttributeType": r["props"].get("hash_type", "S")}])
                self.attrs["%s.name" % rid] = name
        fn = next(r for r in res.values() if r["type"] == "lambda.function")["props"]
        self.handler = fn["handler"]
        self.runtime = self.stack["params"]["runtime"]
        self.app_dir = os.path.join(TEMPLATES, arch, fn["code"])
        self.env = {k: self.resolve(v) for k, v in fn["env"].items()}
        page = next(r for r in res.values()
                    if r["type"] == "s3.object" and r["props"].get("source"))["props"]
        self.page_bucket = self.resolve(page["bucket"])
        self.page_key = page["key"]
        if seed_page:
            with open(os.path.join(TEMPLATES, arch, page["source"]), "rb") as f:
                self.s3.put_object(Bucket=self.page_bucket, Key=self.page_key, Body=f.read(),
                                   ContentType=page.get("content_type", "text/html"))

    def resolve(self, value):
        def one(m):
            if m.group(1) not in self.attrs:
                raise AssertionError("%s: no test value for ${%s}" % (self.arch, m.group(1)))
            return self.attrs[m.group(1)]
        return re.sub(r"\$\{([^}]+)\}", one, value)

    def start(self, extra_env=None):
        return Handler(self, extra_env)


class Handler:
    """The handler running in its own language, one execution environment."""

    def __init__(self, dep, extra_env=None):
        env = {"PATH": os.environ["PATH"], "HOME": HERE, "AWS_REGION": REGION,
               "PYTHONDONTWRITEBYTECODE": "1",
               "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_ENDPOINT_URL": dep.moto.url, "AWS_LAMBDA_FUNCTION_NAME": "test-fn"}
        env.update(CREDS)
        env.update(dep.env)
        for k, v in (extra_env or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        if dep.runtime.startswith("python"):
            cmd = [sys.executable, os.path.join(HERE, "drive_py.py"), dep.app_dir, dep.handler]
        elif dep.runtime.startswith("nodejs"):
            modules = os.path.join(HERE, "node_modules")
            if not os.path.isdir(os.path.join(modules, "@aws-sdk", "client-dynamodb")):
                raise AssertionError("tests/app/node_modules missing: run tests/app/install.sh")
            env["NODE_PATH"] = modules
            cmd = ["node", os.path.join(HERE, "drive_js.js"), dep.app_dir, dep.handler]
        else:
            raise AssertionError("no driver for runtime %r" % dep.runtime)
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)

    def call(self, events):
        self.proc.stdin.write(json.dumps(events) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("handler process died (exit %s):\n%s"
                                 % (self.proc.wait(10), self.stderr()))
        results = json.loads(line)
        for r in results:
            if "error" in r:
                raise AssertionError("handler raised:\n" + r["error"])
        return results

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()[-4000:]

    def get(self, path, route_key=None, method="GET"):
        return self.call([event(method, path, route_key)])[0]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def header(resp, name):
    for k, v in resp.get("headers", {}).items():
        if k.lower() == name.lower():
            return v
    return None


def stored_count(dep):
    """The counter as stored, read with boto3 (not through the handler)."""
    if "table.name" in dep.attrs:
        item = dep.ddb.get_item(TableName=dep.attrs["table.name"], Key={"id": {"S": "hits"}},
                                ConsistentRead=True).get("Item")
        return int(item["count"]["N"]) if item else None
    body = dep.s3.get_object(Bucket=dep.env["BUCKET"], Key=dep.env["COUNTER_KEY"])["Body"]
    return int(body.read())


# ---- the tests, one set per architecture -----------------------------------

def check_healthz(moto, arch):
    h = Deployed(moto, arch).start()
    try:
        r = h.get("/healthz")
        harness.expect_eq(r["statusCode"], 200, "status")
        harness.expect_eq(r["body"], "ok", "body")
        harness.expect(header(r, "content-type").startswith("text/plain"), "content-type")
    finally:
        h.close()


def check_page(moto, arch):
    dep = Deployed(moto, arch)
    with open(PAGE_FILE) as f:
        want = f.read()
    h = dep.start()
    try:
        r = h.get("/")
        harness.expect_eq(r["statusCode"], 200, "status")
        harness.expect(header(r, "content-type").startswith("text/html"), "content-type")
        harness.expect(r["body"] == want, "GET / did not return index.html from the bucket")
        # Cached after the first read: still served once the object is gone.
        dep.s3.delete_object(Bucket=dep.page_bucket, Key=dep.page_key)
        r = h.get("/")
        harness.expect_eq(r["statusCode"], 200, "status after the object was deleted")
        harness.expect(r["body"] == want, "cached page differs")
    finally:
        h.close()
    # A fresh environment must read the bucket, and now fails cleanly.
    h = dep.start()
    try:
        r = h.get("/")
        harness.expect_eq(r["statusCode"], 500, "status with no page object")
        harness.expect("internal error" in r["body"], "body: %r" % r["body"])
    finally:
        h.close()


def check_not_found(moto, arch):
    h = Deployed(moto, arch).start()
    try:
        for ev in (event("GET", "/nope", "$default"), event("POST", "/hits", "$default"),
                   event("GET", "/hits/x", "$default"), event("GET", "/index.html", "$default")):
            r = h.call([ev])[0]
            harness.expect_eq(r["statusCode"], 404, "%s %s" % (
                ev["requestContext"]["http"]["method"], ev["rawPath"]))
        # A route reached through $default is still routed by path.
        r = h.get("/healthz", route_key="$default")
        harness.expect_eq((r["statusCode"], r["body"]), (200, "ok"), "GET /healthz via $default")
    finally:
        h.close()


def check_concurrent_hits(moto, arch):
    dep = Deployed(moto, arch)
    h = dep.start()
    try:
        for round_ in (1, 2):
            results = h.call([event("GET", "/hits") for _ in range(CONCURRENCY)])
            statuses = sorted(set(r["statusCode"] for r in results))
            harness.expect_eq(statuses, [200], "statuses of round %d" % round_)
            harness.expect(all(header(r, "content-type").startswith("text/plain")
                               for r in results), "content-type")
            got = sorted(int(r["body"]) for r in results)
            base = (round_ - 1) * CONCURRENCY
            harness.expect_eq(got, list(range(base + 1, base + CONCURRENCY + 1)),
                              "counts returned in round %d" % round_)
            harness.expect_eq(stored_count(dep), round_ * CONCURRENCY, "stored counter")
    finally:
        h.close()


def check_service_endpoint_vars(moto, arch):
    """AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL (here a dead
    port), as the SDKs document."""
    dead = "http://127.0.0.1:%d" % harness.free_port()
    dep = Deployed(moto, arch)
    h = dep.start({"AWS_ENDPOINT_URL": dead, "AWS_ENDPOINT_URL_S3": moto.url,
                   "AWS_ENDPOINT_URL_DYNAMODB": moto.url, "AWS_MAX_ATTEMPTS": "1"})
    try:
        r = h.get("/hits")
        harness.expect_eq((r["statusCode"], r["body"]), (200, "1"), "GET /hits")
        r = h.get("/")
        harness.expect_eq(r["statusCode"], 200, "GET /")
    finally:
        h.close()


CHECKS = [check_healthz, check_page, check_not_found, check_concurrent_hits,
          check_service_endpoint_vars]


def _bind(check, arch):
    def test(moto):
        check(moto, arch)
    return test


for _arch in ARCHS:
    for _check in CHECKS:
        globals()["test_%s__%s" % (_arch.replace("-", "_"), _check.__name__[6:])] = \
            _bind(_check, _arch)


# ---- runner ----------------------------------------------------------------

class SerialMoto(harness.Moto):
    """harness.Moto, but one request at a time (see moto_serial.py)."""

    def __init__(self):
        self.port = harness.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "moto_serial.py"), str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                return
            except Exception:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError("moto_serial.py did not start; see %s" % self.log.name)


def run(modules, selected):
    moto = SerialMoto()
    passed = failed = 0
    try:
        for mod in modules:
            for name in sorted(n for n in dir(mod) if n.startswith("test_")):
                if selected and not any(s in name for s in selected):
                    continue
                moto.reset()
                try:
                    getattr(mod, name)(moto)
                    passed += 1
                    print("ok   %s" % name, flush=True)
                except Exception:
                    failed += 1
                    print("FAIL %s" % name, flush=True)
                    traceback.print_exc(file=sys.stdout)
    finally:
        moto.stop()
    return passed, failed


def main():
    import test_fastapi
    import test_page
    import test_templates
    mods = [sys.modules[__name__], test_templates, test_page, test_fastapi]
    passed, failed = run(mods, sys.argv[1:])
    print("app: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
