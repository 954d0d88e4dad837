"""Run build/asan/tools/resource_driver (one resource type, outside the
engine) against the test's moto, and a proxy that lets a resource's create
call through and refuses every call after it, to show that a type records
its attrs before it makes another call."""
import http.client
import http.server
import json
import os
import subprocess
import threading
import urllib.parse

from harness import expect_sanitizer_clean


class Run:
    def __init__(self, proc):
        self.proc = proc
        self.returncode = proc.returncode
        self.stdout = proc.stdout.decode(errors="replace")
        self.stderr = proc.stderr.decode(errors="replace")

    def value(self):
        """The attrs (create, update) or found list (find) printed."""
        return json.loads(self.stdout)

    def records(self):
        """Every ctx->record call, in order."""
        return [json.loads(line[len("record: "):]) for line in self.stderr.splitlines()
                if line.startswith("record: ")]

    def ok(self, what=""):
        if self.returncode != 0:
            raise AssertionError("%s: resource_driver exit %d\nstdout: %s\nstderr: %s" % (
                what, self.returncode, self.stdout[:2000], self.stderr[:2000]))
        return self


def driver_path(env):
    path = os.path.join(os.path.dirname(env.binary), "tools", "resource_driver")
    if not os.path.exists(path):
        raise AssertionError("%s is missing: make build/asan/tools/resource_driver" % path)
    return path


def drive(env, action, rtype, props=None, old_props=None, attrs=None, stack="it",
          logical="res", arch="test-arch", template_dir=None, extra_env=None):
    args = [driver_path(env), action, rtype, "--props", json.dumps(props or {}),
            "--stack", stack, "--logical", logical, "--arch", arch]
    if old_props is not None:
        args += ["--old-props", json.dumps(old_props)]
    if attrs is not None:
        args += ["--attrs", json.dumps(attrs)]
    if template_dir:
        args += ["--template-dir", template_dir]
    e = dict(env.vars)
    e.update(extra_env or {})
    r = subprocess.run(args, env=e, capture_output=True, timeout=180)
    expect_sanitizer_clean(r)
    return Run(r)


class RefuseAfter:
    """A proxy in front of moto: requests pass until one for which
    is_create(method, path, headers, body) is true has been answered; every
    request after it gets 403 AccessDenied, which no client retries."""

    def __init__(self, upstream, is_create):
        up = urllib.parse.urlsplit(upstream)
        state = {"created": False, "refused": 0}
        self.state = state

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if state["created"]:
                    state["refused"] += 1
                    self.send_response(403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                res = conn.getresponse()
                data = res.read()
                if is_create(self.command, self.path, self.headers, body):
                    state["created"] = True
                self.send_response(res.status)
                for k, v in res.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def refused(self):
        return self.state["refused"]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
