"""The FastAPI app (templates/common/fastapi/app.py) run for real under
uvicorn with Debian's python3-fastapi and python3-uvicorn (installed for
/usr/bin/python3, not the python3 on PATH), and its page in headless
Chromium. Tests take the moto server the runner passes and ignore it."""
import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import harness
from test_page import dump_dom, element_text

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
APP_DIR = os.path.join(ROOT, "templates", "common", "fastapi")
PAGE = os.path.join(ROOT, "templates", "common", "index.html")
SYSTEM_PYTHON = "/usr/bin/python3"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn serving app:app on a loopback port; env adds to a bare
    environment (no PYTHONPATH, so only Debian's packages are seen)."""

    def __init__(self, env=None):
        harness.expect(os.path.exists(SYSTEM_PYTHON), "no /usr/bin/python3")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/" % self.port
        self.log = tempfile.NamedTemporaryFile(prefix="uvicorn-", suffix=".log", delete=False)
        e = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(),
             "PYTHONDONTWRITEBYTECODE": "1"}
        e.update(env or {})
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, "-m", "uvicorn", "app:app", "--app-dir", APP_DIR,
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            env=e, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if get(self.url + "healthz")[0] == 200:
                    return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise AssertionError("uvicorn did not start: " + self.output())

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def hit(url):
    status, body, _ = get(url + "hits")
    harness.expect_eq(status, 200, "GET /hits status")
    return int(body)


def hits_at_once(urls, n):
    """n GET /hits at the same time, spread over urls; their answers."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(hit, [urls[i % len(urls)] for i in range(n)]))


def test_fastapi__routes(moto):
    s = Server()
    try:
        status, body, headers = get(s.url)
        with open(PAGE, "rb") as f:
            harness.expect_eq((status, body), (200, f.read()), "GET / serves the shared page")
        harness.expect(headers["content-type"].startswith("text/html"), "page content type")
        harness.expect_eq(get(s.url + "healthz")[:2], (200, b"ok"), "GET /healthz")
        status, body, headers = get(s.url + "hits")
        harness.expect_eq((status, body), (200, b"1"), "first hit")
        harness.expect(headers["content-type"].startswith("text/plain"), "hits content type")
        harness.expect_eq(headers.get("cache-control"), "no-store", "hits are not cached")
        harness.expect_eq(get(s.url + "hits")[1], b"2", "second hit")
        harness.expect_eq(get(s.url + "nope")[0], 404, "unknown path")
        harness.expect_eq(get(s.url + "hits", "POST")[0], 405, "POST /hits")
        harness.expect_eq(get(s.url + "docs")[0], 404, "no API docs served")
    finally:
        s.stop()


def test_fastapi__concurrent_hits_in_memory(moto):
    s = Server()
    try:
        got = hits_at_once([s.url], 50)
        harness.expect_eq(sorted(got), list(range(1, 51)), "50 concurrent hits")
        harness.expect_eq(hit(s.url), 51, "the next hit")
    finally:
        s.stop()


def test_fastapi__file_counter_shared_and_restarted(moto):
    tmp = tempfile.mkdtemp(prefix="count-")
    count_file = os.path.join(tmp, "count")
    env = {"COUNT_FILE": count_file}
    a, b = Server(env), Server(env)
    try:
        got = hits_at_once([a.url, b.url], 100)
        harness.expect_eq(sorted(got), list(range(1, 101)),
                          "100 concurrent hits over two processes: none lost, none repeated")
        with open(count_file) as f:
            harness.expect_eq(f.read(), "100\n", "the file holds the count")
    finally:
        a.stop()
        b.stop()
    c = Server(env)
    try:
        harness.expect_eq(hit(c.url), 101, "the count survives a restart")
        harness.expect_eq(sorted(os.listdir(tmp)), ["count", "count.lock"],
                          "no temporary file left")
    finally:
        c.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_fastapi__page_counts_up_in_chromium(moto):
    s = Server()
    try:
        hit(s.url)
        hit(s.url)
        dom = dump_dom(s.url + "?autoclick=3")
        harness.expect('data-autoclick-done="3"' in dom, "autoclick did not finish:\n" + dom[:3000])
        harness.expect_eq(element_text(dom, "count"), "5", "count shown after 3 clicks")
        harness.expect_eq(element_text(dom, "error"), "", "no error shown")
        harness.expect_eq(hit(s.url), 6, "the server counted the clicks")
    finally:
        s.stop()
