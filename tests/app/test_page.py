"""The shared page (templates/common/index.html) in headless Chromium.

A local HTTP server serves the page under a base path and a /hits endpoint
beside it; Chromium loads it with ?autoclick=N (the page then clicks its own
button N times) and dumps the DOM once the page is idle."""
import html
import os
import re
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAGE = os.path.join(ROOT, "templates", "common", "index.html")
BASE = "/some/stage/"  # the page must work under any base path


class Site:
    """The page at BASE and BASE + "hits" answering like the handlers do."""

    def __init__(self, start=0, fail=None):
        with open(PAGE, "rb") as f:
            page = f.read()
        self.count = start
        self.requests = []
        site = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                if self.path.split("?")[0] == BASE:
                    self.reply(200, page, "text/html; charset=utf-8")
                elif self.path == BASE + "hits":
                    if fail:
                        self.reply(fail[0], fail[1].encode(), "text/plain")
                        return
                    site.count += 1
                    self.reply(200, str(site.count).encode(), "text/plain")
                else:
                    self.reply(404, b"not found", "text/plain")

            def reply(self, status, body, ctype):
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d%s" % (self.server.server_address[1], BASE)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium not installed (apt-get install chromium)")


def dump_dom(url):
    profile = tempfile.mkdtemp(prefix="app-chromium-")
    try:
        r = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", "--user-data-dir=" + profile,
             "--virtual-time-budget=20000", "--dump-dom", url],
            capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    harness.expect(r.returncode == 0, "chromium exit %d: %s" % (
        r.returncode, r.stderr.decode(errors="replace")[-2000:]))
    return r.stdout.decode()


def element_text(dom, elem_id):
    m = re.search(r'<[a-z]+[^>]*\bid="%s"[^>]*>(.*?)</' % elem_id, dom, re.S)
    harness.expect(m, "no #%s in the DOM:\n%s" % (elem_id, dom[:3000]))
    return html.unescape(m.group(1)).strip()


def test_page__clicks_count_up(moto):
    site = Site(start=41)
    try:
        dom = dump_dom(site.url + "?autoclick=3")
    finally:
        site.close()
    harness.expect('data-autoclick-done="3"' in dom, "autoclick did not finish:\n" + dom[:3000])
    harness.expect_eq(site.requests.count(BASE + "hits"), 3, "hits requests (relative URL)")
    harness.expect_eq(element_text(dom, "count"), "44", "count shown")
    harness.expect(re.fullmatch(r"\d+ ms", element_text(dom, "ms")), "time shown: %r" %
                   element_text(dom, "ms"))
    harness.expect_eq(element_text(dom, "error"), "", "error shown")


def test_page__server_error_is_readable(moto):
    site = Site(fail=(503, "counter busy, try again"))
    try:
        dom = dump_dom(site.url + "?autoclick=1")
    finally:
        site.close()
    harness.expect('data-autoclick-done="1"' in dom, "autoclick did not finish")
    harness.expect_eq(element_text(dom, "error"),
                      "Error: the server answered 503: counter busy, try again", "error shown")
    harness.expect_eq(element_text(dom, "count"), "\u2013", "count left as it was")


def test_page__no_external_resources(moto):
    with open(PAGE) as f:
        src = f.read()
    harness.expect(not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", src, re.I),
                   "page loads something from another origin")
    harness.expect(not re.search(r"@import|url\(", src), "page imports styles or fonts")
    harness.expect('fetch("hits"' in src, "fetch of the relative URL hits")
