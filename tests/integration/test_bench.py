"""deployctl bench against local HTTP servers started here: one with a fixed
delay, one that errors, one that closes connections, one that stalls, a TLS
one with a certificate nobody trusts, and a port nobody listens on. Counts,
error kinds and latency are checked against what each server did."""
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import expect, expect_eq, expect_ok, expect_sanitizer_clean, free_port


class Server:
    """A loopback HTTP/1.1 server; `behave(handler, n)` answers request n
    (from 1). Counts requests and connections."""

    def __init__(self, behave, tls_context=None):
        self.requests = 0
        self.connections = 0
        self.lock = threading.Lock()
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self):
                super().setup()
                with srv.lock:
                    srv.connections += 1

            def log_message(self, *a):
                pass

            def do_GET(self):
                with srv.lock:
                    srv.requests += 1
                    n = srv.requests
                behave(self, n)

            def reply(self, status, body=b"1"):
                self.wfile.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (
                    status, len(body), body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        if tls_context:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls_context else "http"
        self.url = "%s://127.0.0.1:%d/hits" % (scheme, self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def delayed(ms):
    def behave(h, n):
        time.sleep(ms / 1000.0)
        h.reply(200)
    return behave


def bench(env, *args, timeout=120):
    r = env.run("bench", *args, "-o", "json", timeout=timeout)
    expect_sanitizer_clean(r)
    return r, (json.loads(r.stdout) if r.stdout.strip() else None)


def only_row(doc):
    expect_eq(len(doc["rows"]), 1, "rows")
    return doc["rows"][0]


def test_bench_fixed_delay_latency(env):
    srv = Server(delayed(20))
    try:
        r, doc = bench(env, "--url", srv.url, "-n", "50", "--warmup", "5")
        expect_ok(r, "bench")
        lat = only_row(doc)["latency"]
        expect_eq(lat["requests"], 50, "requests")
        expect_eq(lat["ok"], 50, "ok")
        expect_eq(sum(lat["errors"].values()), 0, "errors")
        # The first, 5 warm-up and 50 measured requests; sequential: one connection.
        expect_eq(srv.requests, 56, "requests the server saw")
        expect_eq(srv.connections, 1, "connections")
        for k in ("avg_ms", "p50_ms", "p90_ms"):
            expect(20 <= lat[k] < 30, "%s %.2f not just above the 20 ms delay" % (k, lat[k]))
        expect(lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"] <= lat["max_ms"], "ordered")
        expect(25 < lat["throughput_rps"] <= 50, "throughput %.1f" % lat["throughput_rps"])
    finally:
        srv.stop()


def test_bench_concurrency_uses_connections(env):
    srv = Server(delayed(50))
    try:
        t0 = time.time()
        r, doc = bench(env, "--url", srv.url, "-n", "100", "-c", "10", "--warmup", "10")
        took = time.time() - t0
        expect_ok(r)
        lat = only_row(doc)["latency"]
        expect_eq(lat["ok"], 100)
        expect_eq(srv.connections, 10, "one kept-alive connection per concurrent request")
        # 100 requests of 50 ms, 10 at a time: about 0.5 s, where sequential is 5 s.
        expect(lat["throughput_rps"] > 120, "throughput %.1f" % lat["throughput_rps"])
        expect(took < 4, "took %.1f s" % took)
    finally:
        srv.stop()


def test_bench_http_errors_by_status(env):
    def behave(h, n):
        h.reply(503 if n % 4 == 0 else (404 if n % 10 == 1 else 200))
    srv = Server(behave)
    try:
        r, doc = bench(env, "--url", srv.url, "-n", "100", "--warmup", "0")
        expect_ok(r)
        row = only_row(doc)
        lat = row["latency"]
        # Measured requests are numbers 2..101 at the server.
        n503 = sum(1 for n in range(2, 102) if n % 4 == 0)
        n404 = sum(1 for n in range(2, 102) if n % 4 and n % 10 == 1)
        expect_eq(lat["errors"]["http"], n503 + n404, "http errors")
        expect_eq(lat["ok"], 100 - n503 - n404, "ok")
        expect_eq(lat["requests"], 100)
        # The first request (number 1, on a new connection) already failed.
        expect_eq(row["first_error"], "HTTP status 404", "first error")
        expect_eq(lat["first_ms"] > 0, True, "first request timed")
    finally:
        srv.stop()


def test_bench_closed_connections(env):
    def behave(h, n):
        if n % 3 == 0:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.reply(200)
    srv = Server(behave)
    try:
        r, doc = bench(env, "--url", srv.url, "-n", "60", "--warmup", "0")
        expect_ok(r)
        lat = only_row(doc)["latency"]
        # Measured requests are numbers 2..61 at the server; a request the
        # server hung up on is not retried, so each close is one error.
        closes = sum(1 for n in range(2, 62) if n % 3 == 0)
        expect_eq(lat["errors"]["closed"], closes, "closed errors: %r" % lat["errors"])
        expect_eq(lat["ok"], 60 - closes, "ok")
        expect_eq(srv.connections, 1 + closes, "one new connection after each close")
    finally:
        srv.stop()


def test_bench_answer_framings(env):
    """Chunked answers, Content-Length, "Connection: close" and an HTTP/1.0
    body that ends when the server closes: all complete answers; a closing
    one means a new connection for the next request."""
    def behave(h, n):
        kind = n % 4
        if kind == 0:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"3;x=y\r\nabc\r\n10\r\n" + b"d" * 16 + b"\r\n0\r\nT: 1\r\n\r\n")
        elif kind == 1:
            h.reply(200, b"e" * 3000)
        elif kind == 2:
            h.close_connection = True
            h.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        else:
            h.close_connection = True
            h.wfile.write(b"HTTP/1.0 200 OK\r\n\r\nuntil close")
    srv = Server(behave)
    try:
        r, doc = bench(env, "--url", srv.url, "-n", "40", "--warmup", "0")
        expect_ok(r)
        lat = only_row(doc)["latency"]
        expect_eq(lat["ok"], 40, "ok: %r" % lat["errors"])
        expect_eq(srv.requests, 41, "requests the server saw")
        closing = sum(1 for n in range(1, 41) if n % 4 in (2, 3))
        expect_eq(srv.connections, 1 + closing, "connections")
    finally:
        srv.stop()


def test_bench_timeout_connect_and_tls(env):
    stall = Server(delayed(3000))
    try:
        r, doc = bench(env, "--url", stall.url, "-n", "2", "--warmup", "0", "--timeout", "0.3")
        expect_ok(r)
        lat = only_row(doc)["latency"]
        expect_eq(lat["errors"]["timeout"], 2, "timeouts")
        expect_eq(lat["ok"], 0)
    finally:
        stall.stop()
    r, doc = bench(env, "--url", "http://127.0.0.1:%d/hits" % free_port(), "-n", "3")
    expect_ok(r)
    expect_eq(only_row(doc)["latency"]["errors"]["connect"], 3, "connect errors")

    d = tempfile.mkdtemp()
    key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1"], check=True,
                   capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    tls = Server(delayed(0), tls_context=ctx)
    try:
        r, doc = bench(env, "--url", tls.url, "-n", "2")
        expect_ok(r)
        expect_eq(only_row(doc)["latency"]["errors"]["tls"], 2, "tls errors")
    finally:
        tls.stop()


def test_bench_duration_and_csv(env):
    srv = Server(delayed(10))
    try:
        t0 = time.time()
        r = env.run("bench", "--url", srv.url, "--duration", "1", "-o", "csv")
        took = time.time() - t0
        expect_ok(r)
        lines = r.stdout.decode().strip().splitlines()
        expect_eq(lines[0].split(",")[:6], ["name", "arch", "requests", "ok", "errors", "avg_ms"])
        cells = lines[1].split(",")
        expect(40 < int(cells[2]) < 100, "requests in 1 s of 10 ms: %s" % cells[2])
        expect(1 <= took < 5, "took %.1f" % took)
    finally:
        srv.stop()


def test_bench_ctrl_c_reports_what_was_measured(env):
    srv = Server(delayed(10))
    try:
        e = dict(env.vars)
        p = subprocess.Popen([env.binary, "bench", "--url", srv.url, "-n", "100000", "-o",
                              "json"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        expect_eq(p.returncode, 130, "exit code")
        lat = json.loads(out)["rows"][0]["latency"]
        expect(30 < lat["requests"] < 200, "requests %d" % lat["requests"])
        expect_eq(json.loads(out)["rows"][0]["interrupted"], True)
        expect("AddressSanitizer" not in err.decode(), err.decode()[:2000])
    finally:
        srv.stop()


def test_bench_usage_errors(env):
    r = env.run("bench", "--url", "ftp://example.com/", "-n", "1")
    expect_eq(r.returncode, 2, "exit")
    expect("not an http or https URL" in r.stderr.decode(), r.stderr.decode())
    r = env.run("bench", "--url", "http://x/", "-n", "0")
    expect_eq(r.returncode, 2)
    expect("--requests must be a number of at least 1" in r.stderr.decode(), r.stderr.decode())
    r = env.run("bench", env=dict(DEPLOYCTL_STATE_DIR=os.path.join(env.home, "st")))
    expect_eq(r.returncode, 2)
    expect("no stacks to bench" in r.stderr.decode(), r.stderr.decode())
