"""Support for the resource type tests: tests/tools/resource_driver run
through a recording proxy in front of moto, canned answers for what moto does
not do like AWS, and a check of every recorded request against botocore's
model of its operation (member names, types, required members)."""
import http.client
import http.server
import json
import os
import re
import subprocess
import threading
import urllib.parse

from harness import ROOT, expect, expect_sanitizer_clean


class Recorder:
    """A loopback proxy that records every request (method, path, body) and
    answers some from canned rules instead of forwarding them."""

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.requests = []
        self.rules = []
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                status, headers, data = rec._answer(self.command, self.path, dict(self.headers),
                                                    body)
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def inject(self, method, path_re, status, body, error_type=None, times=1):
        """Answer the next `times` requests matching method and path_re (a
        regex on the decoded path) with status and body (a dict, sent as
        JSON) instead of forwarding them."""
        headers = [("Content-Type", "application/json")]
        if error_type:
            headers.append(("x-amzn-ErrorType", error_type))
        with self.lock:
            self.rules.append([method, re.compile(path_re), status, headers,
                               json.dumps(body).encode(), times])

    def _canned(self, method, path):
        with self.lock:
            for rule in self.rules:
                if rule[5] > 0 and rule[0] == method and rule[1].search(path):
                    rule[5] -= 1
                    return rule[2], rule[3], rule[4]
        return None

    def _answer(self, method, raw_path, headers, body):
        path = urllib.parse.unquote(raw_path.split("?", 1)[0])
        canned = self._canned(method, path)
        if canned:
            status, rheaders, data = canned
        else:
            conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port,
                                              timeout=60)
            conn.request(method, raw_path, body=body, headers=headers)
            res = conn.getresponse()
            data = res.read()
            status, rheaders = res.status, res.getheaders()
            conn.close()
        with self.lock:
            self.requests.append({"method": method, "raw_path": raw_path, "path": path,
                                  "body": body, "status": status, "canned": bool(canned),
                                  "service": _service_of(headers)})
        return status, rheaders, data

    def clear(self):
        with self.lock:
            self.requests = []

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _service_of(headers):
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    return m.group(1) if m else None


# Botocore's signing names to its service model names.
MODEL_NAMES = {"lambda": "lambda", "apigateway": "apigatewayv2", "iam": "iam"}


class Models:
    """Botocore's models: which operation a request is, and what is wrong
    with its body."""

    def __init__(self):
        import botocore.session
        self.session = botocore.session.get_session()
        self.models = {}

    def model(self, service):
        if service not in self.models:
            self.models[service] = self.session.get_service_model(service)
        return self.models[service]

    def operation(self, service, method, raw_path):
        """The operation whose method and requestUri match; the one with the
        most literal text wins (".../configuration" over "...")."""
        model = self.model(service)
        path = raw_path.split("?", 1)[0]
        best, best_len = None, -1
        for name in model.operation_names:
            op = model.operation_model(name)
            if op.http["method"] != method:
                continue
            template = op.http["requestUri"].split("?", 1)[0]
            literal = re.sub(r"\{[^}]+\}", "", template)
            pattern = "^" + re.sub(r"\\\{[^}]+?\\\+\\\}", ".+",
                                   re.sub(r"\\\{[^}+]+\\\}", "[^/]+", re.escape(template))) + "/?$"
            if re.match(pattern, path) and len(literal) > best_len:
                best, best_len = op, len(literal)
        return best

    def problems(self, op, body):
        """What in body (parsed JSON, or None) does not fit op's input."""
        shape = op.input_shape
        out = []
        payload = {k: m for k, m in shape.members.items()
                   if m.serialization.get("location") is None}
        for req in shape.required_members:
            if req in payload and payload[req].serialization.get("name", req) not in (body or {}):
                out.append("%s: required member %s missing" % (op.name, req))
        if body is None:
            return out
        by_wire = {m.serialization.get("name", k): m for k, m in payload.items()}
        if not isinstance(body, dict):
            return ["%s: body is not an object" % op.name]
        for key, value in body.items():
            if key not in by_wire:
                out.append("%s: %r is not a member of %s" % (op.name, key, shape.name))
            else:
                out += _value_problems(op.name + "." + key, by_wire[key], value)
        return out


def _value_problems(where, shape, value):
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return ["%s: not an object" % where]
        out = []
        wire = {m.serialization.get("name", k): m for k, m in shape.members.items()}
        for req in shape.required_members:
            if shape.members[req].serialization.get("name", req) not in value:
                out.append("%s: required member %s missing" % (where, req))
        for k, v in value.items():
            if k not in wire:
                out.append("%s: %r is not a member of %s" % (where, k, shape.name))
            else:
                out += _value_problems(where + "." + k, wire[k], v)
        return out
    if t == "list":
        if not isinstance(value, list):
            return ["%s: not a list" % where]
        return [p for i, v in enumerate(value)
                for p in _value_problems("%s[%d]" % (where, i), shape.member, v)]
    if t == "map":
        if not isinstance(value, dict):
            return ["%s: not a map" % where]
        return [p for k, v in value.items() for p in _value_problems(where + "." + k, shape.value, v)]
    if t in ("string", "blob"):
        if not isinstance(value, str):
            return ["%s: not a string" % where]
        if t == "string" and shape.enum and value not in shape.enum:
            return ["%s: %r not one of %s" % (where, value, shape.enum)]
        return []
    if t in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else ["%s: not an integer" % where]
    if t == "boolean":
        return [] if isinstance(value, bool) else ["%s: not a boolean" % where]
    return []


MODELS = None


def check_requests(rec):
    """Every recorded request is a known operation of its service and its
    body fits the operation's input shape. Returns the operation names."""
    global MODELS
    MODELS = MODELS or Models()
    names, problems = [], []
    for r in rec.requests:
        service = MODEL_NAMES.get(r["service"], r["service"])
        op = MODELS.operation(service, r["method"], r["raw_path"])
        if op is None:
            problems.append("no %s operation for %s %s" % (service, r["method"], r["raw_path"]))
            continue
        names.append(op.name)
        body = json.loads(r["body"]) if r["body"] else None
        problems += MODELS.problems(op, body)
    expect(not problems, "requests that do not fit botocore's model:\n" + "\n".join(problems))
    return names


def changing(names):
    """The operations among names that change something (not Get/List)."""
    return [n for n in names if not n.startswith(("Get", "List"))]


def body_of(rec, operation):
    """The JSON bodies of the recorded requests of that operation."""
    global MODELS
    MODELS = MODELS or Models()
    out = []
    for r in rec.requests:
        service = MODEL_NAMES.get(r["service"], r["service"])
        op = MODELS.operation(service, r["method"], r["raw_path"])
        if op is not None and op.name == operation:
            out.append(json.loads(r["body"]) if r["body"] else None)
    return out


def driver_binary(env):
    beside = os.path.join(os.path.dirname(env.binary), "tools", "resource_driver")
    if os.path.exists(beside):
        return beside
    return os.path.join(ROOT, "build", "asan", "tools", "resource_driver")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout.decode()
        self.stderr = proc.stderr.decode()
        self.out = json.loads(self.stdout) if self.rc == 0 and self.stdout.strip() else None
        self.records = [json.loads(line[len("record: "):]) for line in self.stderr.splitlines()
                        if line.startswith("record: ")]
        self.progress = [line[len("progress: "):] for line in self.stderr.splitlines()
                         if line.startswith("progress: ")]
        expect_sanitizer_clean(proc)


class Driver:
    """resource_driver for one test: AWS calls go through a Recorder to moto."""

    def __init__(self, env, template_dir=".", stack="drv", logical="res"):
        self.env = env
        self.rec = Recorder(env.moto.url)
        self.template_dir = template_dir
        self.stack = stack
        self.logical = logical
        self.binary = driver_binary(env)

    def argv(self, action, type_, props=None, old=None, attrs=None, logical=None):
        argv = [self.binary, action, type_, "--props", json.dumps(props or {}),
                "--stack", self.stack, "--logical", logical or self.logical,
                "--template-dir", self.template_dir]
        if old is not None:
            argv += ["--old-props", json.dumps(old)]
        if attrs is not None:
            argv += ["--attrs", json.dumps(attrs)]
        return argv

    def environ(self):
        e = dict(self.env.vars)
        e["AWS_ENDPOINT_URL"] = self.rec.url
        return e

    def run(self, action, type_, props=None, old=None, attrs=None, logical=None, timeout=120):
        proc = subprocess.run(self.argv(action, type_, props, old, attrs, logical),
                              env=self.environ(), capture_output=True, timeout=timeout)
        return Result(proc)

    def ok(self, action, type_, props=None, old=None, attrs=None, logical=None):
        r = self.run(action, type_, props, old, attrs, logical)
        expect(r.rc == 0, "%s %s failed: %s" % (action, type_, r.stderr[-2000:]))
        return r

    def start(self, action, type_, props=None):
        return subprocess.Popen(self.argv(action, type_, props), env=self.environ(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def stop(self):
        self.rec.stop()
