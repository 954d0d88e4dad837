"""A loopback HTTP proxy in front of an AWS endpoint (moto) that injects the
faults real AWS calls meet: throttling, 500/503, connection resets (before
the request is forwarded, and after, when the answer is lost), truncated
bodies, stalls (nothing for --stall-s seconds, then the connection drops,
the request never forwarded), and a fixed added latency (a real AWS round
trip).

    python3 faultproxy.py --upstream http://127.0.0.1:5000 --rate 0.2 --seed 7 \
        [--faults throttle,500,503,reset,lost,truncate,stall] [--stall-s 3] \
        [--delay-ms 50] [--port-file F]

GET /__faultproxy__/arm?kill_after=N&pid_file=F re-arms the kill for the next
run. GET /__faultproxy__ returns the counts as JSON: requests, and faults by kind.
Each request's fault is drawn from one seeded generator, so a run repeats.

moto does not honour EC2's ClientToken: a RunInstances retried after its
answer was lost launches a second instance, where EC2 answers the first
launch again (docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html);
nor ELBv2's promise that a second CreateTargetGroup or CreateLoadBalancer
with the same settings succeeds (moto: DuplicateTargetGroupName). The proxy
keeps those promises for moto: such a call it forwarded before gets the
first answer again, and is not forwarded (see idempotency_key).

--lose OP[,OP] loses the answer of the first forwarded request of each
named operation (the query Action, the X-Amz-Target's operation, or
"METHOD /path" for REST APIs): a regression test's one fault, placed.

--log FILE appends one JSON line per forwarded request (method, path,
X-Amz-Target, the query Action, the fault drawn); --kill-after N --kill-pid-file F sends SIGKILL to the pid
in F right after the N-th request has reached the upstream (its effect is
made, its answer never arrives): a crash at the worst moment."""
import argparse
import http.client
import os
import signal
import http.server
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse

THROTTLE_JSON = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
THROTTLE_XML = (b'<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
                b'<Message>Rate exceeded</Message></Error><RequestId>fault</RequestId>'
                b'</ErrorResponse>')
SLOWDOWN_S3 = (b'<Error><Code>SlowDown</Code><Message>Please reduce your request rate.'
               b'</Message><RequestId>fault</RequestId></Error>')


class State:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()
        self.counts = {"requests": 0}
        self.kinds = [k for k in args.faults.split(",") if k]
        self.launches = {}  # idempotency_key -> (answer, body) of the first call
        self.lose = set(op for op in (args.lose or "").split(",") if op)

    def lose_once(self, handler, body):
        """1 when this request is the first of an operation named by --lose."""
        q = urllib.parse.parse_qs(body.decode(errors="replace"))
        target = handler.headers.get("X-Amz-Target") or ""
        ops = {(q.get("Action") or [""])[0], target.rsplit(".", 1)[-1],
               "%s %s" % (handler.command, urllib.parse.urlsplit(handler.path).path)}
        with self.lock:
            hit = self.lose & ops
            if hit:
                self.lose -= hit
                self.counts["lost"] = self.counts.get("lost", 0) + 1
            return bool(hit)

    def log(self, handler, body, fault=None):
        if not self.args.log:
            return
        action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [None])[0]
        line = json.dumps({"method": handler.command, "path": handler.path,
                           "target": handler.headers.get("X-Amz-Target"), "action": action,
                           "fault": fault})
        with self.lock, open(self.args.log, "a") as f:
            f.write(line + "\n")

    def forwarded(self):
        """Count a request that reached upstream; 1 when it is the one to kill after."""
        with self.lock:
            self.counts["forwarded"] = self.counts.get("forwarded", 0) + 1
            return self.args.kill_after and self.counts["forwarded"] == self.args.kill_after

    def draw(self):
        with self.lock:
            self.counts["requests"] += 1
            if self.kinds and self.rng.random() < self.args.rate:
                kind = self.rng.choice(self.kinds)
                self.counts[kind] = self.counts.get(kind, 0) + 1
                return kind
            return None


class Answer:
    """A kept upstream answer, relayed as http.client's response is."""

    def __init__(self, status, headers):
        self.status = status
        self._headers = headers

    def getheaders(self):
        return self._headers


def idempotency_key(body):
    """What makes a request idempotent on AWS where moto is not, or None:
    EC2 RunInstances by its ClientToken; ELBv2 CreateLoadBalancer and
    CreateTargetGroup by their settings ("If you attempt to create multiple
    target groups with the same settings, each call succeeds": the ELBv2 API
    reference), here the whole request."""
    q = urllib.parse.parse_qs(body.decode(errors="replace"))
    action = (q.get("Action") or [None])[0]
    if action == "RunInstances":
        token = (q.get("ClientToken") or [None])[0]
        return ("RunInstances", token) if token else None
    if action in ("CreateLoadBalancer", "CreateTargetGroup"):
        return (action, body)
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self):
        # SO_LINGER 0: close sends RST, as a dropped connection does.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _throttle(self):
        target = self.headers.get("X-Amz-Target")
        ctype = self.headers.get("Content-Type", "")
        if target or "json" in ctype:
            self._send(400, THROTTLE_JSON, "application/x-amz-json-1.0")
        elif "x-www-form-urlencoded" in ctype:
            self._send(400, THROTTLE_XML, "text/xml")
        else:
            self._send(503, SLOWDOWN_S3, "application/xml")

    def _forward(self, body):
        up = urllib.parse.urlsplit(STATE.args.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, self.path, body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        conn.close()
        return res, data

    def _relay(self, res, data, truncate=False):
        self.send_response(res.status)
        for k, v in res.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if truncate and len(data) > 1:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._reset()
            return
        self.wfile.write(data)

    def _handle(self):
        if self.path.startswith("/__faultproxy__/arm"):
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            with STATE.lock:
                STATE.args.kill_after = int(q["kill_after"][0])
                STATE.args.kill_pid_file = q["pid_file"][0]
                STATE.counts["forwarded"] = 0
            return self._send(200, b"armed", "text/plain")
        if self.path == "/__faultproxy__":
            with STATE.lock:
                self._send(200, json.dumps(STATE.counts).encode(), "application/json")
            return
        body = self._body()
        if STATE.args.delay_ms:
            time.sleep(STATE.args.delay_ms / 1000.0)
        fault = STATE.draw()
        if fault == "throttle":
            return self._throttle()
        if fault == "503":
            return self._send(503, b"<Error><Code>ServiceUnavailable</Code></Error>", "text/xml")
        if fault == "500":
            return self._send(500, b'{"__type":"InternalFailure"}', "application/json")
        if fault == "reset":
            return self._reset()
        if fault == "stall":
            time.sleep(STATE.args.stall_s)
            return self._reset()
        if fault is None and STATE.lose and STATE.lose_once(self, body):
            fault = "lost"
        STATE.log(self, body, fault)
        token = idempotency_key(body)
        with STATE.lock:
            first = STATE.launches.get(token) if token else None
        if first:
            return self._relay(*first)
        res, data = self._forward(body)
        if token and res.status == 200:
            with STATE.lock:
                STATE.launches[token] = (Answer(res.status, res.getheaders()), data)
        if STATE.forwarded():
            with open(STATE.args.kill_pid_file) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
            return self._reset()
        if fault == "lost":
            return self._reset()
        self._relay(res, data, truncate=(fault == "truncate"))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


def main():
    global STATE
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults", default="throttle,503,reset")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--stall-s", type=float, default=3.0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--lose", default="")
    ap.add_argument("--kill-after", type=int, default=0)
    ap.add_argument("--kill-pid-file")
    args = ap.parse_args()
    STATE = State(args)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    else:
        print(port, flush=True)
    server.serve_forever()


STATE = None

if __name__ == "__main__":
    sys.exit(main())
