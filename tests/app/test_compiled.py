"""App tests of the compiled architectures (lambda-cpp-dynamodb,
lambda-rust-dynamodb): each handler built exactly as `deployctl up` builds
it (an up against moto, whose package is then taken from the build cache and
checked to be the very zip Lambda received), unzipped as Lambda unzips it,
and run as a custom runtime under tests/tools/runtime_api.py with moto as
DynamoDB and S3. Run by tests/app/test_handlers.py.

Also: the Python and JavaScript handlers under the same Runtime API through
tests/tools/runtime_py.py and runtime_js.js (the bench uses them)."""
import base64
import datetime
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
import toolchain  # noqa: E402
from runtime_api import RuntimeAPI  # noqa: E402
from test_handlers import CREDS, REGION, Deployed, event, header, stored_count  # noqa: E402

ARCHS = {"lambda-cpp-dynamodb": "cpp", "lambda-rust-dynamodb": "rust"}
TOKEN = "session-token-of-the-function-FwoGZXIvYXdzEJr//////////wEaDAbc="
PROCESSES = 4
CONCURRENCY = 50

_packages = {}  # arch -> unzipped task root; built once per run


def deployctl():
    for path in (os.environ.get("DEPLOYCTL_BINARY"), os.path.join(ROOT, "build/asan/deployctl"),
                 os.path.join(ROOT, "deployctl")):
        if path and os.access(path, os.X_OK):
            return path
    raise AssertionError("no deployctl binary: run make build/asan/deployctl")


def up_env(moto, home):
    env = {"PATH": os.environ["PATH"], "HOME": home, "AWS_REGION": REGION,
           "AWS_ENDPOINT_URL": moto.url, "AWS_EC2_METADATA_DISABLED": "true",
           "DEPLOYCTL_STATE_DIR": os.path.join(home, "state"), "ASAN_OPTIONS": "detect_leaks=1"}
    env.update(CREDS)
    env.update(toolchain.build_env())
    return env


def extract(zip_path, dest):
    """As Lambda does: every entry under dest, with its Unix mode."""
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            path = z.extract(info, dest)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(path, mode & 0o7777)


def build_package(moto, arch, binary=None):
    """`deployctl up` of arch against moto; returns the folder its zip
    unpacks to (root/var/task), and the zip's path and size."""
    home = tempfile.mkdtemp(prefix="compiled-up-")
    name = "pkg-" + ARCHS[arch]
    try:
        r = subprocess.run([binary or deployctl(), "-o", "json", "up", arch, "--name", name],
                           env=up_env(moto, home), capture_output=True, timeout=900)
        harness.expect_ok(r, "up %s" % arch)
        with open(os.path.join(home, "state", "stacks", name + ".json")) as f:
            fn = json.load(f)["resources"]["fn"]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    zip_path = os.path.join(toolchain.build_dir(fn["attrs"]["code_sha256"], ARCHS[arch]),
                            "function.zip")
    with open(zip_path, "rb") as f:
        sha = base64.b64encode(hashlib.sha256(f.read()).digest()).decode()
    lam = harness.Env(moto, "").boto("lambda")
    sent = lam.get_function(FunctionName=fn["attrs"]["id"])["Configuration"]["CodeSha256"]
    harness.expect_eq(sha, sent, "the cached zip is the one Lambda received")
    root = tempfile.mkdtemp(prefix="compiled-root-")
    task = os.path.join(root, "var", "task")
    extract(zip_path, task)
    return task, zip_path


def package(moto, arch):
    if arch not in _packages:
        _packages[arch] = build_package(moto, arch)[0]
    return _packages[arch]


def function_env(dep, moto, extra=None):
    env = dict(CREDS, AWS_SESSION_TOKEN=TOKEN, AWS_ENDPOINT_URL=moto.url)
    env.update(dep.env)
    env.update(extra or {})
    return env


class Running:
    """A Runtime API with `n` runtime processes of one handler."""

    def __init__(self, moto, arch, dep=None, n=1, extra_env=None, cmd=None):
        self.task = package(moto, arch) if cmd is None else None
        self.dep = dep or Deployed(moto, arch)
        self.api = RuntimeAPI()
        env = function_env(self.dep, moto, extra_env)
        self.procs = [self.api.start(cmd or [os.path.join(self.task, "bootstrap")], env,
                                     task_root=self.task) for _ in range(n)]

    def get(self, path, route_key=None, method="GET"):
        inv = self.api.invoke(event(method, path, route_key), timeout=30)
        harness.expect_eq(inv.kind, "response", "answer to %s %s (%s)" % (
            method, path, inv.body))
        return inv.json()

    def alive(self):
        dead = [p for p in self.procs if p.poll() is not None]
        harness.expect(not dead, "runtime process exited with %s:\n%s" % (
            [p.returncode for p in dead], self.output()))

    def output(self):
        return "\n".join(RuntimeAPI.output(p)[-2000:] for p in self.procs)

    def close(self):
        self.api.close()


# ---- the tests, one set per architecture -------------------------------------

def check_routes(moto, arch):
    run = Running(moto, arch)
    try:
        for want in ("1", "2", "3"):
            r = run.get("/hits")
            harness.expect_eq((r["statusCode"], r["body"]), (200, want), "GET /hits")
            harness.expect(header(r, "content-type").startswith("text/plain"), "content-type")
        harness.expect_eq(stored_count(run.dep), 3, "stored counter")
        r = run.get("/healthz")
        harness.expect_eq((r["statusCode"], r["body"]), (200, "ok"), "GET /healthz")
        with open(os.path.join(ROOT, "templates", "common", "index.html")) as f:
            page = f.read()
        r = run.get("/")
        harness.expect_eq(r["statusCode"], 200, "GET /")
        harness.expect(r["body"] == page, "GET / is not index.html from the bucket")
        harness.expect(header(r, "content-type").startswith("text/html"), "content-type of /")
        # Read once: still served once the object is gone.
        run.dep.s3.delete_object(Bucket=run.dep.page_bucket, Key=run.dep.page_key)
        harness.expect(run.get("/")["body"] == page, "page not cached")
        for ev in (event("GET", "/nope", "$default"), event("POST", "/hits", "$default"),
                   event("GET", "/hits/x", "$default")):
            inv = run.api.invoke(ev)
            harness.expect_eq(json.loads(inv.body)["statusCode"], 404, ev["rawPath"])
        r = run.get("/healthz", route_key="$default")
        harness.expect_eq(r["body"], "ok", "GET /healthz through $default")
        # One kept-open Runtime API connection for every invocation.
        invs = [run.api.invoke(event("GET", "/healthz")) for _ in range(5)]
        harness.expect_eq(len({i.taken_by for i in invs}), 1, "runtime api connections")
        run.alive()
    finally:
        run.close()


def check_concurrent_hits(moto, arch):
    run = Running(moto, arch, n=PROCESSES)
    try:
        invs = run.api.invoke_many([event("GET", "/hits") for _ in range(CONCURRENCY)])
        bodies = [i.json() for i in invs]
        harness.expect_eq(sorted({b["statusCode"] for b in bodies}), [200], "statuses")
        harness.expect_eq(sorted(int(b["body"]) for b in bodies),
                          list(range(1, CONCURRENCY + 1)), "counts returned")
        harness.expect_eq(stored_count(run.dep), CONCURRENCY, "stored counter")
        harness.expect(len({i.taken_by for i in invs}) > 1, "one runtime process did all")
        run.alive()
    finally:
        run.close()


def check_dynamodb_error_is_500(moto, arch):
    run = Running(moto, arch)
    try:
        run.dep.ddb.delete_table(TableName=run.dep.attrs["table.name"])
        r = run.get("/hits")
        harness.expect_eq((r["statusCode"], r["body"]), (500, "internal error"), "GET /hits")
        harness.expect("ResourceNotFoundException" in run.output(), run.output())
        r = run.get("/healthz")
        harness.expect_eq(r["statusCode"], 200, "GET /healthz afterwards")
        run.alive()
    finally:
        run.close()


def check_malformed_event(moto, arch):
    run = Running(moto, arch)
    try:
        for payload in (b"{not json", b"[1, 2]", b'"GET /hits"', b""):
            inv = run.api.invoke(payload)
            harness.expect_eq(inv.kind, "error", "answer to %r" % payload)
            err = inv.json()
            harness.expect(err.get("errorType") and err.get("errorMessage"), err)
            harness.expect_eq(inv.error_type, err["errorType"], "error type header")
        r = run.get("/hits")
        harness.expect_eq((r["statusCode"], r["body"]), (200, "1"), "GET /hits afterwards")
        run.alive()
    finally:
        run.close()


def check_init_error(moto, arch):
    run = Running(moto, arch, extra_env={"TABLE": None})
    try:
        harness.expect(run.api.wait_init_error(20), "no init/error posted")
        err = json.loads(run.api.init_errors[0]["body"])
        harness.expect("TABLE" in err["errorMessage"], err)
        harness.expect_eq(run.procs[0].wait(10) != 0, True, "exit status after init error")
    finally:
        run.close()


def check_service_endpoint_vars(moto, arch):
    """AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL (a dead port)."""
    dead = "http://127.0.0.1:%d" % harness.free_port()
    run = Running(moto, arch, extra_env={"AWS_ENDPOINT_URL": dead,
                                         "AWS_ENDPOINT_URL_DYNAMODB": moto.url + "/",
                                         "AWS_ENDPOINT_URL_S3": moto.url})
    try:
        r = run.get("/hits")
        harness.expect_eq((r["statusCode"], r["body"]), (200, "1"), "GET /hits")
        harness.expect_eq(run.get("/")["statusCode"], 200, "GET /")
    finally:
        run.close()


class _Capture(http.server.BaseHTTPRequestHandler):
    """Records each request; answers as DynamoDB (POST) or S3 (GET) would."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _answer(self, body, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, self.path, dict(self.headers), body,
                                 self.client_address[1]))
        self._answer(b'{"Attributes":{"count":{"N":"7"}}}', "application/x-amz-json-1.0")

    def do_GET(self):
        self.server.seen.append((self.command, self.path, dict(self.headers), b"",
                                 self.client_address[1]))
        self._answer(b"<p>captured page</p>", "text/html")


def botocore_authorization(service, url, method, headers, body):
    """The Authorization header botocore makes for the same request at the
    same time with the same credentials."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    signed = re.search(r"SignedHeaders=([^,]+)", headers["Authorization"]).group(1).split(";")
    own = {"host", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
    keep = {k: v for k, v in headers.items() if k.lower() in signed and k.lower() not in own}
    req = AWSRequest(method=method, url=url, data=body, headers=keep)
    creds = Credentials(CREDS["AWS_ACCESS_KEY_ID"], CREDS["AWS_SECRET_ACCESS_KEY"], TOKEN)
    auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, REGION)
    when = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        auth.add_auth(req)
    return req.headers["Authorization"]


def check_signatures_match_botocore(moto, arch):
    """moto checks no signature: a recording server stands in for AWS and
    botocore signs the same requests."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    srv.seen = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    dep = Deployed(moto, arch, seed_page=False)
    run = Running(moto, arch, dep=dep, extra_env={"AWS_ENDPOINT_URL": url})
    try:
        for _ in range(3):
            harness.expect_eq(run.get("/hits")["body"], "7", "GET /hits")
        harness.expect_eq(run.get("/")["body"], "<p>captured page</p>", "GET /")
    finally:
        run.close()
        srv.shutdown()
        srv.server_close()
    harness.expect_eq([s[0] for s in srv.seen], ["POST"] * 3 + ["GET"], "requests")
    for method, path, headers, body, _ in srv.seen:
        service = "s3" if method == "GET" else "dynamodb"
        harness.expect_eq(headers.get("X-Amz-Security-Token"), TOKEN, "session token sent")
        want = botocore_authorization(service, url + path, method, headers, body)
        harness.expect_eq(headers["Authorization"], want, "%s signature" % service)
    harness.expect_eq(srv.seen[3][1], "/%s/index.html" % dep.page_bucket, "S3 path style")
    update = json.loads(srv.seen[0][3])
    harness.expect_eq((update["TableName"], update["UpdateExpression"]),
                      (dep.attrs["table.name"], "ADD #n :one"), "UpdateItem")
    harness.expect_eq(srv.seen[0][2]["X-Amz-Target"], "DynamoDB_20120810.UpdateItem", "target")
    # The connection to the service is kept open across invocations.
    harness.expect_eq(len({s[4] for s in srv.seen}), 1, "connections to the service")


def check_runs_in_an_empty_root(moto, arch):
    """The zip alone, as /var/task of an otherwise empty root, started with
    nothing but what Lambda sets: no host library, loader or shell."""
    task = package(moto, arch)
    root = os.path.dirname(os.path.dirname(task))
    harness.expect_eq(sorted(os.listdir(root)), ["var"], "root holds only the zip")
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    if os.geteuid() == 0 and os.path.exists(chroot):
        cmd = ["/usr/bin/env", "-i", chroot, root, "/var/task/bootstrap"]
    else:
        print("  (not root: env -i without chroot)")
        cmd = ["/usr/bin/env", "-i", os.path.join(task, "bootstrap")]
    dep = Deployed(moto, arch)
    api = RuntimeAPI()
    try:
        env = function_env(dep, moto)
        env["AWS_LAMBDA_RUNTIME_API"] = api.address
        env["LAMBDA_TASK_ROOT"] = "/var/task"
        proc = subprocess.Popen(cmd[:2] + ["%s=%s" % kv for kv in env.items()] + cmd[2:],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root)
        api.procs.append(proc)
        inv = api.invoke(event("GET", "/hits"), timeout=30)
        harness.expect_eq((inv.kind, inv.json()["body"]), ("response", "1"), "GET /hits")
        inv = api.invoke(event("GET", "/"), timeout=30)
        harness.expect_eq(inv.json()["statusCode"], 200, "GET /")
    finally:
        api.close()


CHECKS = [check_routes, check_concurrent_hits, check_dynamodb_error_is_500,
          check_malformed_event, check_init_error, check_service_endpoint_vars,
          check_signatures_match_botocore, check_runs_in_an_empty_root]


def _bind(check, arch):
    def test(moto):
        check(moto, arch)
    return test


for _arch in ARCHS:
    for _check in CHECKS:
        globals()["test_%s__%s" % (_arch.replace("-", "_"), _check.__name__[6:])] = \
            _bind(_check, _arch)


# ---- the interpreted handlers under the same Runtime API -----------------------

def interpreted_cmd(arch):
    if "python" in arch:
        return [sys.executable, os.path.join(ROOT, "tests/tools/runtime_py.py")], {
            "PYTHONDONTWRITEBYTECODE": "1", "_HANDLER": "handler.handler"}
    if not os.path.isdir(os.path.join(HERE, "node_modules", "@aws-sdk", "client-dynamodb")):
        raise AssertionError("tests/app/node_modules missing: run tests/app/install.sh")
    return ["node", os.path.join(ROOT, "tests/tools/runtime_js.js")], {
        "NODE_PATH": os.path.join(HERE, "node_modules"), "_HANDLER": "index.handler"}


def check_interpreted(moto, arch):
    dep = Deployed(moto, arch)
    cmd, extra = interpreted_cmd(arch)
    api = RuntimeAPI()
    try:
        proc = api.start(cmd, function_env(dep, moto, extra), task_root=dep.app_dir,
                         handler=extra["_HANDLER"])
        for want in ("1", "2"):
            inv = api.invoke(event("GET", "/hits"), timeout=30)
            harness.expect_eq((inv.kind, inv.body and inv.json().get("body")), ("response", want),
                              "GET /hits: %s" % RuntimeAPI.output(proc)[-2000:])
        inv = api.invoke(b"{not json", timeout=30)
        harness.expect_eq(inv.kind, "error", "malformed event")
        harness.expect(proc.poll() is None, "runtime exited")
    finally:
        api.close()


def test_runtime_py_under_runtime_api(moto):
    check_interpreted(moto, "lambda-python-dynamodb")


def test_runtime_js_under_runtime_api(moto):
    check_interpreted(moto, "lambda-js-dynamodb")
