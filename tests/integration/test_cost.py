"""deployctl cost from the command line: the original table's figures with
the December 2021 London prices, break-even, the output formats, live
prices from a local Price List API answering GetProducts as the API
reference shapes it (pages, tiered price dimensions), and the HTML report
rendered in headless Chromium."""
import json
import os
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import expect, expect_eq, expect_ok, expect_sanitizer_clean, ROOT


def cost(env, *args, extra_env=None):
    r = env.run("cost", *args, env=extra_env)
    expect_sanitizer_clean(r)
    return r


def rows_by_arch(doc):
    return {row["arch"]: row for row in doc["rows"]}


def line(c, prefix):
    for l in c["fixed"] + c["per_call"]:
        if l["name"].startswith(prefix):
            return l
    raise AssertionError("no line %r in %r" % (prefix, [l["name"] for l in c["fixed"]]))


def test_cost_original_2021_figures(env):
    r = cost(env, "--prices", "eu-west-2-2021-12", "-o", "json")
    expect_ok(r, "cost")
    rows = rows_by_arch(json.loads(r.stdout))
    expect_eq(len(rows), 8, "architectures")
    expect_eq(rows["fastapi-ec2"]["original"]["monthly_usd"], 10.57, "EC2")
    fg = rows["fargate-ecs"]["original"]
    expect_eq(line(fg, "load balancer")["amount"], 19.32, "load balancer")
    expect_eq(round(line(fg, "Fargate Spot task vCPU")["amount"]
                    + line(fg, "Fargate Spot task memory")["amount"], 2), 3.11, "Fargate Spot")
    expect_eq(rows["k8s"]["original"]["monthly_usd"], 22.63, "kOps")
    r = cost(env, "k8s", "--prices", "eu-west-2-2021-12", "--param", "control_plane=eks",
             "-o", "json")
    expect_ok(r)
    expect_eq(line(json.loads(r.stdout)["rows"][0]["cost"], "EKS control plane")["amount"],
              73.0, "EKS")
    # The per-million rows beside the original's, and why they differ.
    r = cost(env, "lambda-python-dynamodb", "--prices", "eu-west-2-2021-12")
    expect_ok(r)
    text = r.stdout.decode()
    expect("ORIG 1M $" in text and "3.2431" in text, text)
    expect("deployctl's make one (UpdateItem ADD)" in text, text)


def test_cost_break_even_and_formats(env):
    r = cost(env, "fastapi-ec2", "lambda-python-dynamodb", "--region", "us-east-1",
             "--calls-per-month", "1000000", "-o", "json")
    expect_ok(r)
    doc = json.loads(r.stdout)
    rows = rows_by_arch(doc)
    ec2, lam = rows["fastapi-ec2"]["cost"], rows["lambda-python-dynamodb"]["cost"]
    be = doc["break_even"][0]
    expect_eq((be["serverful"], be["serverless"]), ("fastapi-ec2", "lambda-python-dynamodb"))
    # By hand: the fixed monthly cost over the serverless per-call cost.
    want = ec2["monthly_usd"] / lam["per_million_usd"] * 1e6
    expect(abs(be["calls_per_month"] - want) < 1, "%r vs %r" % (be, want))
    expect_eq(round(lam["total_usd"], 6), round(lam["per_million_usd"], 6), "total at 1M")
    r = cost(env, "--region", "us-east-1", "--calls-per-month", "1e7", "--explain")
    expect_ok(r)
    text = r.stdout.decode()
    for want in ("break-even", "fastapi-ec2", "730 x 0.0104 per hour", "k8s", "million"):
        expect(want in text, "%r not in:\n%s" % (want, text))
    r = cost(env, "--region", "eu-west-2", "-o", "csv")
    expect_ok(r)
    lines = r.stdout.decode().strip().splitlines()
    expect_eq(len(lines), 9, "csv lines")
    expect(lines[1].startswith('"fastapi-ec2",fastapi-ec2,'), lines[1])
    r = cost(env, "lambda-cobol")
    expect_eq(r.returncode, 2)
    expect("no cost profile for architecture 'lambda-cobol'" in r.stderr.decode())


def product(sku, unit, dims, attrs=None):
    """A GetProducts PriceList entry: a JSON document inside a string."""
    pd = {}
    for i, (begin, end, usd) in enumerate(dims):
        code = "%s.JRTCKXETXF.%d" % (sku, i)
        pd[code] = {"unit": unit, "beginRange": begin, "endRange": end,
                    "pricePerUnit": {"USD": usd}, "description": "tier %d" % i,
                    "rateCode": code, "appliesTo": []}
    return json.dumps({
        "product": {"productFamily": "x", "sku": sku, "attributes": attrs or {}},
        "serviceCode": "x", "version": "20240101", "publicationDate": "2024-01-01T00:00:00Z",
        "terms": {"OnDemand": {sku + ".JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2024-01-01T00:00:00Z",
            "priceDimensions": pd, "termAttributes": {}}}}})


class PriceList:
    """A local AWSPriceListService: answers by ServiceCode and a filter, one
    product a page with NextToken, recording each request."""

    def __init__(self, catalogue):
        self.requests = []
        pl = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                pl.requests.append((dict(self.headers), body))
                filters = {f["Field"]: f["Value"] for f in body["Filters"]}
                items = [p for match, p in catalogue.get(body["ServiceCode"], [])
                         if all(filters.get(k) == v for k, v in match.items())]
                page = int(body.get("NextToken", "0"))
                out = {"FormatVersion": "aws_v1", "PriceList": items[page:page + 1]}
                if page + 1 < len(items):
                    out["NextToken"] = str(page + 1)
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_cost_live_prices(env):
    region = {"regionCode": "us-east-1"}
    catalogue = {
        "AmazonEC2": [
            (dict(region, instanceType="t3.micro"), product("EC2A", "Hrs", [("0", "Inf", "0.0200000000")])),
            (dict(region, volumeApiName="gp3"), product("EBS3", "GB-Mo", [("0", "Inf", "0.0900000000")])),
        ],
        # Tiers listed dearest first, and a product in another unit on the
        # first page: the first tier of the right unit must win.
        "AmazonApiGateway": [
            (region, product("WS", "WebSocket-Messages", [("0", "Inf", "0.0000009999")])),
            (region, product("HTTP", "Requests", [("300000000", "Inf", "0.0000009000"),
                                                  ("0", "300000000", "0.0000012000")])),
        ],
        "AWSLambda": [
            (dict(region, group="AWS-Lambda-Requests"), product("LR", "Requests", [("0", "Inf", "0.0000003000")])),
            (dict(region, group="AWS-Lambda-Duration"), product("LD", "Lambda-GB-Second", [
                ("0", "6000000000", "0.0000200000"), ("6000000000", "Inf", "0.0000150000")])),
        ],
        "AmazonDynamoDB": [
            (dict(region, group="DDB-WriteUnits"), product("DW", "WriteRequestUnits", [("0", "Inf", "0.0000007000")])),
        ],
    }
    pl = PriceList(catalogue)
    try:
        r = cost(env, "fastapi-ec2", "lambda-python-dynamodb", "--region", "us-east-1",
                 "--prices", "live", "-o", "json",
                 extra_env={"AWS_ENDPOINT_URL_PRICING": pl.url})
        expect_ok(r, "cost --prices live")
    finally:
        pl.stop()
    doc = json.loads(r.stdout)
    expect("fetched_at" in doc["prices"], "fetched_at")
    rows = rows_by_arch(doc)
    ec2 = rows["fastapi-ec2"]["cost"]
    expect_eq(line(ec2, "instance t3.micro")["amount"], 14.6, "730 x 0.02")
    expect_eq(line(ec2, "root volume")["amount"], 0.72, "8 x 0.09")
    lam = rows["lambda-python-dynamodb"]["cost"]
    expect_eq(round(line(lam, "API Gateway")["amount"], 6), 1.2, "first tier")
    expect_eq(round(line(lam, "Lambda request")["amount"], 6), 0.3, "requests")
    expect_eq(round(line(lam, "Lambda duration")["amount"], 6), round(0.125 * 0.06 * 20, 6), "GB-s")
    expect_eq(round(line(lam, "DynamoDB write")["amount"], 6), 0.7, "write units")
    targets = {h.get("X-Amz-Target") for h, _ in pl.requests}
    expect_eq(targets, {"AWSPriceListService.GetProducts"}, "operation")
    expect(all("/us-east-1/pricing/aws4_request" in h["Authorization"] for h, _ in pl.requests),
           "signed for pricing in us-east-1")
    api = [b for _, b in pl.requests if b["ServiceCode"] == "AmazonApiGateway"]
    expect_eq([b.get("NextToken") for b in api], [None, "1"], "pages")
    expect_eq(api[0]["Filters"], [{"Type": "TERM_MATCH", "Field": "operation",
                                   "Value": "ApiGatewayHttpApi"},
                                  {"Type": "TERM_MATCH", "Field": "regionCode",
                                   "Value": "us-east-1"}], "filters")
    # An API error fails the command, naming the price: no silent fallback.
    pl = PriceList({})
    try:
        pl.httpd.RequestHandlerClass.do_POST = lambda h: (
            h.send_response(400), h.send_header("Content-Type", "application/x-amz-json-1.1"),
            h.send_header("Content-Length", "62"), h.end_headers(),
            h.wfile.write(b'{"__type":"AccessDeniedException","message":"no pricing here"}'))
        r2 = cost(env, "fastapi-ec2", "--region", "us-east-1", "--prices", "live",
                  extra_env={"AWS_ENDPOINT_URL_PRICING": pl.url})
    finally:
        pl.stop()
    expect_eq(r2.returncode, 1, "exit")
    expect("fetching the price 'ec2.t2.micro'" in r2.stderr.decode(), r2.stderr.decode())


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise AssertionError("chromium not installed (apt-get install chromium)")


def screenshot(html, png):
    profile = tempfile.mkdtemp(prefix="cost-chromium-")
    try:
        r = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--disable-dev-shm-usage",
                            "--user-data-dir=" + profile, "--window-size=900,1900",
                            "--hide-scrollbars", "--screenshot=" + png, "file://" + html],
                           capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    expect(r.returncode == 0 and os.path.exists(png), "chromium: %s" % r.stderr[-2000:])


def not_blank(png):
    """Decode the PNG (zlib, filters) and count the colours drawn: a blank or
    all-white page has one."""
    import struct
    import zlib
    with open(png, "rb") as f:
        data = f.read()
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, w, h, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 2):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    return w, h, len(colours)


def test_cost_html_report_renders(env):
    d = tempfile.mkdtemp()
    html = os.path.join(d, "report.html")
    r = cost(env, "--region", "eu-west-2", "--calls-per-month", "5000000", "--report", html)
    expect_ok(r)
    text = open(html).read()
    expect(text.count("<svg") >= 1 and "http://" not in text.replace(
        "http://www.w3.org/2000/svg", ""), "self-contained, with SVG")
    expect("break-even" in text, "break-even chart")
    png = os.path.join(d, "report.png")
    screenshot(html, png)
    w, h, colours = not_blank(png)
    expect(w >= 800 and h >= 800, "size %dx%d" % (w, h))
    expect(colours >= 8, "only %d colours: blank" % colours)
    shutil.rmtree(d, ignore_errors=True)
