"""bench over every architecture's stack in state, with --report: eight
local servers stand in for the eight stacks (each with the latency the
original comparison saw, and some jitter), the report is rendered in
headless Chromium and must not be blank. DC_UPDATE_DOCS=1 copies the
screenshot to docs/bench-report.png."""
import json
import os
import random
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import ROOT, expect, expect_eq, expect_ok, expect_sanitizer_clean
from test_cost import not_blank, screenshot

STACKS = {"fastapi-ec2": 9, "lambda-python-s3": 70, "lambda-python-dynamodb": 60,
          "lambda-js-dynamodb": 105, "lambda-cpp-dynamodb": 23, "lambda-rust-dynamodb": 26,
          "fargate-ecs": 12, "k8s": 10}


def server(ms, seed):
    rnd = random.Random(seed)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def do_GET(self):
            time.sleep(ms * (0.9 + min(rnd.expovariate(8), 1.5)) / 1000.0)
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_bench_report_every_architecture(env):
    state = os.path.join(env.home, "state")
    expect_ok(env.run("list", env={"DEPLOYCTL_STATE_DIR": state}))
    os.makedirs(os.path.join(state, "stacks"), exist_ok=True)
    servers = []
    try:
        for i, (arch, ms) in enumerate(STACKS.items()):
            s = server(ms, i)
            servers.append(s)
            doc = {"version": 1, "name": arch, "arch": arch, "target": "aws",
                   "region": "us-east-1", "params": {}, "resources": {},
                   "outputs": {"url": "http://127.0.0.1:%d/" % s.server_address[1]}}
            with open(os.path.join(state, "stacks", arch + ".json"), "w") as f:
                json.dump(doc, f)
        d = tempfile.mkdtemp()
        html = os.path.join(d, "report.html")
        r = env.run("bench", "-n", "60", "--warmup", "2", "--calls-per-month", "3000000",
                    "--report", html, "-o", "json", env={"DEPLOYCTL_STATE_DIR": state},
                    timeout=180)
        expect_sanitizer_clean(r)
        expect_ok(r, "bench")
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
    rows = {row["arch"]: row for row in json.loads(r.stdout)["rows"]}
    expect_eq(sorted(rows), sorted(STACKS), "stacks")
    for arch, ms in STACKS.items():
        lat = rows[arch]["latency"]
        expect(ms * 0.9 <= lat["p50_ms"] < ms * 1.6 + 5, "%s p50 %.1f" % (arch, lat["p50_ms"]))
        expect("cost" in rows[arch], arch)
    text = open(html).read()
    expect_eq(text.count("<svg"), 3, "charts")
    expect(text.count("<polyline") >= 16, "a line per stack in two charts")
    png = os.path.join(d, "report.png")
    screenshot(html, png)
    w, h, colours = not_blank(png)
    expect(colours >= 10, "only %d colours" % colours)
    if os.environ.get("DC_UPDATE_DOCS"):
        shutil.copy(png, os.path.join(ROOT, "docs", "bench-report.png"))
    shutil.rmtree(d, ignore_errors=True)
    # The bench is kept in state: cost shows the measured latency beside the cost.
    r = env.run("cost", "k8s", "--region", "us-east-1", "-o", "json",
                env={"DEPLOYCTL_STATE_DIR": state})
    expect_ok(r)
    expect(json.loads(r.stdout)["rows"][0]["latency"]["requests"] == 60, "latency from state")
