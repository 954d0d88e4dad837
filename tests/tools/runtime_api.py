#!/usr/bin/env python3
"""A local Lambda Runtime API (2018-06-01): a real HTTP server that hands out
events to runtime processes and collects their answers, for tests and for the
latency bench.

As a library:

    api = RuntimeAPI()                    # listens on 127.0.0.1, a free port
    proc = api.start(["./bootstrap"], env, task_root="/var/task")
    inv = api.invoke({"rawPath": "/hits"})  # blocks until answered
    inv.kind, inv.json(), inv.latency       # "response" | "error", body, seconds
    api.invoke_many(events)               # all queued at once, any runtime takes them
    api.close()

As a command (prints one JSON line per invocation, then a summary):

    runtime_api.py [--event FILE] [--count N] [--concurrency N] -- CMD [ARG...]

The runtime processes get AWS_LAMBDA_RUNTIME_API and the variables Lambda
sets; each takes one event at a time from invocation/next (a long poll) and
answers on invocation/<id>/response or /error, or on init/error."""
import argparse
import json
import os
import queue
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime/"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:test-fn"


class Invocation:
    """One event and, once answered, what the runtime said."""

    def __init__(self, payload, timeout_s):
        self.id = str(uuid.uuid4())
        self.payload = payload  # bytes, sent as they are (may be malformed)
        self.timeout_s = timeout_s
        self.submitted = time.perf_counter()
        self.taken = None       # when a runtime's invocation/next got it
        self.taken_by = None    # that runtime connection's client port
        self.answered = None
        self.kind = None        # "response" or "error"
        self.body = None        # bytes
        self.error_type = None  # Lambda-Runtime-Function-Error-Type
        self.done = threading.Event()

    @property
    def latency(self):
        """Seconds from the event being queued to its answer arriving."""
        return None if self.answered is None else self.answered - self.submitted

    def json(self):
        return json.loads(self.body)

    def wait(self, timeout):
        if not self.done.wait(timeout):
            raise TimeoutError("invocation %s not answered within %.0f s" % (self.id, timeout))
        return self


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Lambda's endpoint does
    # Head and body leave in one write (flushed after each request), and
    # without Nagle's delay: otherwise a delayed ACK adds 40 ms a call.
    wbufsize = 1 << 16

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        api = self.server.api
        if self.path != PREFIX + "invocation/next":
            return self._reply(404, b'{"errorType":"NotFound"}')
        inv = api._take(self.connection)
        if inv is None:  # shutting down: the runtime's long poll ends
            self.close_connection = True
            return self._reply(503, b"")
        inv.taken_by = self.client_address[1]
        deadline_ms = int((time.time() + inv.timeout_s) * 1000)
        self._reply(200, inv.payload, (
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", inv.id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")))

    def do_POST(self):
        api = self.server.api
        body = self._read_body()
        if self.path == PREFIX + "init/error":
            api.init_errors.append({"type": self.headers.get("Lambda-Runtime-Function-Error-Type"),
                                    "body": body})
            api._init_failed.set()
            return self._reply(202, b'{"status":"OK"}')
        m = re.fullmatch(re.escape(PREFIX) + r"invocation/([^/]+)/(response|error)", self.path)
        inv = api._pending.get(m.group(1)) if m else None
        if inv is None:
            return self._reply(400 if m else 404, b'{"errorType":"InvalidRequestID"}')
        if inv.done.is_set():
            return self._reply(400, b'{"errorType":"InvalidStateTransition"}')
        inv.answered = time.perf_counter()
        inv.kind = m.group(2)
        inv.body = body
        inv.error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        api._pending.pop(inv.id, None)
        self._reply(202, b'{"status":"OK"}')
        inv.done.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A runtime process that is stopped drops its long poll: expected.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class RuntimeAPI:
    def __init__(self, port=0):
        self._queue = queue.Queue()
        self._pending = {}
        self._closing = threading.Event()
        self._init_failed = threading.Event()
        self.init_errors = []
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.api = self
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self.procs = []

    @staticmethod
    def _gone(conn):
        """Whether the runtime at the other end of conn has hung up."""
        try:
            readable, _, _ = select.select([conn], [], [], 0)
            return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _take(self, conn):
        """The next event for the runtime on conn, or None once closing or
        once that runtime is gone (a stopped process's long poll must not
        swallow an event)."""
        while not self._closing.is_set():
            if self._gone(conn):
                return None
            try:
                inv = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if self._gone(conn):
                self._queue.put(inv)
                return None
            inv.taken = time.perf_counter()
            return inv
        return None

    # ---- events ----------------------------------------------------------

    def submit(self, event, timeout_s=10):
        """Queue an event (a JSON-able value, or bytes sent as they are)."""
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        inv = Invocation(payload, timeout_s)
        self._pending[inv.id] = inv
        self._queue.put(inv)
        return inv

    def invoke(self, event, timeout=30):
        return self.submit(event).wait(timeout)

    def invoke_many(self, events, timeout=60):
        invs = [self.submit(e) for e in events]
        deadline = time.monotonic() + timeout
        for inv in invs:
            inv.wait(max(0.0, deadline - time.monotonic()))
        return invs

    # ---- runtime processes -------------------------------------------------

    def lambda_env(self, extra=None, task_root=None, handler="bootstrap"):
        """What Lambda puts in a runtime process's environment."""
        env = {"AWS_LAMBDA_RUNTIME_API": self.address,
               "AWS_LAMBDA_FUNCTION_NAME": "test-fn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "_HANDLER": handler,
               "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
               "TZ": ":UTC", "LANG": "en_US.UTF-8",
               "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin"}
        if task_root:
            env["LAMBDA_TASK_ROOT"] = task_root
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def start(self, cmd, env=None, task_root=None, handler="bootstrap", cwd=None, stderr=None):
        """Start one runtime process (one execution environment)."""
        full = self.lambda_env(env, task_root, handler)
        err = stderr if stderr is not None else tempfile.TemporaryFile()
        proc = subprocess.Popen(cmd, env=full, cwd=cwd or task_root, stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err)
        proc.log = err
        self.procs.append(proc)
        return proc

    @staticmethod
    def output(proc):
        """What a runtime process started here has printed so far."""
        proc.log.flush()
        proc.log.seek(0)
        return proc.log.read().decode(errors="replace")

    def wait_init_error(self, timeout):
        return self._init_failed.wait(timeout)

    def close(self):
        self._closing.set()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.server.shutdown()
        self.server.server_close()


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--event", help="event file (JSON, or bytes sent as they are)")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=1, help="runtime processes")
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()
    payload = b'{"version":"2.0","routeKey":"GET /healthz","rawPath":"/healthz"}'
    if args.event:
        with open(args.event, "rb") as f:
            payload = f.read()
    api = RuntimeAPI()
    try:
        for _ in range(args.concurrency):
            api.start(args.cmd, env={k: v for k, v in os.environ.items()
                                     if k.startswith(("AWS_", "TABLE", "PAGE_"))},
                      cwd=os.getcwd(), stderr=sys.stderr)
        invs = api.invoke_many([payload] * args.count, timeout=max(60, args.count))
        for inv in invs:
            print(json.dumps({"id": inv.id, "kind": inv.kind, "error_type": inv.error_type,
                              "body": inv.body.decode(errors="replace"),
                              "ms": round(inv.latency * 1000, 3)}))
        lat = [i.latency * 1000 for i in invs]
        print("invocations: %d, median %.2f ms, p99 %.2f ms" % (
            len(lat), percentile(lat, 50), percentile(lat, 99)), file=sys.stderr)
    finally:
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
