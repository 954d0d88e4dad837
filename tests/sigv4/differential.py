#!/usr/bin/env python3
"""Differential test of deployctl's SigV4 signer against botocore.

Generates random requests (methods; paths with unicode, reserved characters,
percent-encodings, dot segments and double slashes; queries with repeated and
empty keys and values; repeated, multi-line and white-space-laden headers;
session tokens or none; S3 and other services; bodies), signs each with
botocore (SigV4Auth / S3SigV4Auth, SigV4QueryAuth / S3SigV4QueryAuth for
presigned URLs) at a pinned time, runs all of them through
build/*/tools/sigv4_driver in one process, and compares the canonical request, the
Authorization header (or the presigned URL) and the headers after signing.

    python3 tests/sigv4/differential.py --driver build/asan/tools/sigv4_driver --count 10000 --seed 1

How the inputs are handed to each side, and why:
- The query. deployctl gets the query as it goes on the wire, with needless
  and lower-case percent-encodings and raw sub-delimiters. AWS rebuilds the
  canonical query from the decoded parameters, so botocore gets those decoded
  parameters (request.params) and encodes them itself. A raw '+' is never
  generated: servers differ on whether it means a space; SDKs send %2B.
- Presigned URLs: botocore's SigV4QueryAuth keeps one value per key and moves
  a body into the query, neither of which AWS asks for, so presign cases have
  unique keys and no body. Its URL lists the parameters in another order, so
  URLs are compared as decoded parameter lists, plus the signature.
- No Date header is generated: botocore then signs Date instead of
  X-Amz-Date, which deployctl never does (AWS accepts either).
- S3 paths are what botocore's serializer puts on the wire (the key encoded
  with '/' and '~' kept); other paths may hold anything a URL path can.
"""
import argparse
import datetime
import json
import random
import subprocess
import sys
from urllib.parse import quote, unquote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
SUB_DELIMS = "!$&'()*+,;=:@"
UNICODE = "éßüሴ日本語😀ö"
PATH_RAW_OK = "!$&'()*+,;=:@"  # legal unencoded in a path segment
QUERY_RAW_OK = "!$'()*,;:@/?"  # legal unencoded in a query component ('&=+#' are not)
SERVICES = ["ec2", "sts", "lambda", "dynamodb", "execute-api", "iam", "sqs", "logs"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]
HEADER_NAMES = ["X-Amz-Target", "Content-Type", "X-Custom-A", "x-custom-a", "My-Header",
                "X-Amz-Meta-Foo", "Range", "Accept", "If-Match", "Content-Length",
                "X-Amz-Storage-Class", "Cache-Control"]
UNSIGNED_NAMES = ["User-Agent", "X-Amzn-Trace-Id", "Expect", "Connection", "Transfer-Encoding"]

FIXED_TIME = [datetime.datetime(2015, 8, 30, 12, 36, 0)]


def pinned_now(remove_tzinfo=True):
    return FIXED_TIME[0]


# botocore takes its clock from botocore.auth.get_current_datetime (a name
# imported from botocore.compat), called once per add_auth.
botocore.auth.get_current_datetime = pinned_now


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def pct(self, text):
        up = self.chance(0.7)
        return "".join(("%%%02X" if up else "%%%02x") % b for b in text.encode("utf-8"))

    def word(self, alphabet, lo=0, hi=8):
        return "".join(self.r.choice(alphabet) for _ in range(self.r.randint(lo, hi)))

    def decoded_text(self, lo=0, hi=10):
        pools = [UNRESERVED, UNRESERVED, SUB_DELIMS, UNICODE, " %#?/[]{}\"<>|^`\\"]
        return "".join(self.r.choice(self.r.choice(pools)) for _ in range(self.r.randint(lo, hi)))

    # -- paths ------------------------------------------------------------
    def wire_segment(self):
        kind = self.r.random()
        if kind < 0.08:
            return "."
        if kind < 0.16:
            return ".."
        if kind < 0.24:
            return ""
        parts = []
        for _ in range(self.r.randint(1, 6)):
            k = self.r.random()
            if k < 0.45:
                parts.append(self.word(UNRESERVED, 1, 6))
            elif k < 0.6:
                parts.append(self.r.choice(PATH_RAW_OK))
            elif k < 0.72:
                parts.append(self.r.choice(UNICODE))
            elif k < 0.97:
                parts.append(self.pct(self.r.choice(UNRESERVED + SUB_DELIMS + UNICODE + " /%?#")))
            else:
                parts.append("%" + self.r.choice(["zz", "4", "G1", ""]))  # not an escape
        return "".join(parts)

    def wire_path(self):
        segs = [self.wire_segment() for _ in range(self.r.randint(0, 5))]
        path = "/" + "/".join(segs)
        if self.chance(0.2):
            path += "/"
        if self.chance(0.1):
            path = "/" + path
        return path

    def s3_path(self, bucket_in_path):
        segs = []
        for _ in range(self.r.randint(1, 4)):
            k = self.r.random()
            segs.append("." if k < 0.07 else ".." if k < 0.12 else "" if k < 0.18
                        else self.decoded_text(1, 8).replace("/", "-"))
        key = "/".join(segs)
        prefix = "/bucket-%d/" % self.r.randint(1, 9) if bucket_in_path else "/"
        return prefix + quote(key, safe="/~")

    # -- queries ------------------------------------------------------------
    def wire_query_text(self, s):
        out = []
        for ch in s:
            if ch in UNRESERVED:
                out.append(ch if self.chance(0.9) else self.pct(ch))
            elif ch in QUERY_RAW_OK and self.chance(0.5):
                out.append(ch)
            elif ord(ch) > 127 and self.chance(0.2):
                out.append(ch)
            else:
                out.append(self.pct(ch))
        return "".join(out)

    def query(self, unique):
        params, wire = [], []
        for _ in range(self.r.randint(0, 6)):
            if params and not unique and self.chance(0.3):
                key = self.r.choice(params)[0]
            else:
                key = self.decoded_text(0 if self.chance(0.05) else 1, 8)
            if unique and any(k == key for k, _ in params):
                continue
            value = "" if self.chance(0.25) else self.decoded_text(0, 10)
            w = self.wire_query_text(key)
            if value or key == "" or self.chance(0.5):
                w += "=" + self.wire_query_text(value)
            params.append((key, value))
            wire.append(w)
        return params, "&".join(wire)

    # -- headers ------------------------------------------------------------
    def header_value(self):
        words = [self.decoded_text(0, 6).strip() or "v" for _ in range(self.r.randint(0, 4))]
        seps = [" ", "  ", "\t", " \t ", "   ", "\n  ", "\r\n\t"]
        v = ""
        for i, w in enumerate(words):
            v += (self.r.choice(seps) if i else "") + w
        if self.chance(0.3):
            v = self.r.choice(seps[:5]) + v
        if self.chance(0.3):
            v += self.r.choice(seps[:5])
        return v

    def headers(self, presign, s3, token, url_host):
        hs = []
        for _ in range(self.r.randint(0, 6)):
            name = self.r.choice(HEADER_NAMES)
            if hs and self.chance(0.25):
                name = self.r.choice(hs)[0]
                name = name.upper() if self.chance(0.5) else name.lower()
            hs.append((name, self.header_value()))
        if self.chance(0.15):
            hs.append((self.r.choice(UNSIGNED_NAMES), self.header_value()))
        if self.chance(0.1):
            hs.append(("Host", url_host))
        if not presign:
            if self.chance(0.1):
                hs.append(("Authorization", "AWS4-HMAC-SHA256 stale"))
            if self.chance(0.1):
                hs.append(("X-Amz-Date", "20000101T000000Z"))
            if token and self.chance(0.1):
                hs.append(("X-Amz-Security-Token", "stale-token"))
            if self.chance(0.05):
                hs.append(("X-Amz-Content-SHA256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
        self.r.shuffle(hs)
        return hs

    # -- whole requests -----------------------------------------------------
    def endpoint(self, s3, service, region):
        if s3:
            virtual = self.chance(0.6)
            host = ("bucket-%d.s3.%s.amazonaws.com" % (self.r.randint(1, 9), region)
                    if virtual else "s3.%s.amazonaws.com" % region)
        else:
            host = "%s.%s.amazonaws.com" % (service, region)
        k = self.r.random()
        if k < 0.6:
            return "https", host, host, not virtual if s3 else False
        if k < 0.7:
            return "https", host.upper() + ":443", host, not virtual if s3 else False
        if k < 0.8:
            return "https", host + ":8443", host + ":8443", not virtual if s3 else False
        if k < 0.9:
            return "http", "localhost:4566", "localhost:4566", s3
        return "http", "[::1]:4566", "[::1]:4566", s3

    def request(self):
        s3 = self.chance(0.4)
        region = self.r.choice(REGIONS)
        service = "s3" if s3 else self.r.choice(SERVICES)
        presign = self.chance(0.25)
        token = self.word(UNRESERVED + "/+=", 20, 60) if self.chance(0.5) else None
        scheme, netloc, host, bucket_in_path = self.endpoint(s3, service, region)
        path = self.s3_path(bucket_in_path) if s3 else self.wire_path()
        params, wire_query = self.query(unique=presign)
        url = "%s://%s%s" % (scheme, netloc, path)
        body = "" if presign or self.chance(0.3) else self.decoded_text(0, 200)
        if self.chance(0.05) and not presign:
            body += "\x00binary\x00"
        return {
            "method": self.r.choice(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]),
            "url": url + ("?" + wire_query if wire_query or self.chance(0.05) else ""),
            "headers": self.headers(presign, s3, token, host),
            "body": body,
            "region": region,
            "service": service,
            "s3": s3,
            "access_key": "AKID" + self.word("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16),
            "secret_key": self.word(UNRESERVED + "/+", 40, 40),
            "token": token,
            "time": self.r.randint(946684800, 2082758399),  # 2000..2035
            "presign": presign,
            "expires": self.r.randint(1, 604800),
            "unsigned_payload": self.chance(0.15) and not presign,
            # for botocore: the base URL and the decoded parameters
            "_base_url": url,
            "_params": params,
        }


def botocore_sign(case):
    """Sign with botocore; returns (canonical request, result dict)."""
    creds = Credentials(case["access_key"], case["secret_key"], case["token"])
    FIXED_TIME[0] = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc).replace(tzinfo=None)
    if case["presign"]:
        cls = botocore.auth.S3SigV4QueryAuth if case["s3"] else botocore.auth.SigV4QueryAuth
        signer = cls(creds, case["service"], case["region"], expires=case["expires"])
        params = dict(case["_params"])
    else:
        cls = botocore.auth.S3SigV4Auth if case["s3"] else botocore.auth.SigV4Auth
        signer = cls(creds, case["service"], case["region"])
        params = list(case["_params"])
    req = AWSRequest(method=case["method"], url=case["_base_url"],
                     data=case["body"].encode("utf-8"), params=params)
    for name, value in case["headers"]:
        req.headers[name] = value  # HTTPHeaders appends: repeated names stay
    signing = not case["unsigned_payload"]
    req.context["payload_signing_enabled"] = signing
    if case["s3"]:
        req.context["client_config"] = Config(s3={"payload_signing_enabled": signing})
    seen = {}
    original = signer.canonical_request

    def record(request):
        seen["cr"] = original(request)
        return seen["cr"]

    signer.canonical_request = record
    signer.add_auth(req)
    return seen["cr"], {
        "authorization": None if case["presign"] else req.headers.get("Authorization"),
        "url": req.url if case["presign"] else None,
        "headers": list(req.headers.items()),
    }


def query_list(url):
    q = url.split("?", 1)[1] if "?" in url else ""
    out = []
    for part in q.split("&"):
        if part:
            k, _, v = part.partition("=")
            out.append((unquote(k), unquote(v)))
    return sorted(out)


def header_set(headers):
    return sorted((n.lower(), v) for n, v in headers)


def compare(case, bot_cr, bot, got):
    diffs = []
    if "error" in got:
        return ["driver error: %s" % got["error"]]
    if got["canonical_request"] != bot_cr:
        diffs.append("canonical request")
    if case["presign"]:
        if got["url"].split("?", 1)[0] != bot["url"].split("?", 1)[0]:
            diffs.append("presigned url before the query")
        if query_list(got["url"]) != query_list(bot["url"]):
            diffs.append("presigned url parameters (signature included)")
    else:
        if got["authorization"] != bot["authorization"]:
            diffs.append("Authorization header")
        if header_set(got["headers"]) != header_set(bot["headers"]):
            diffs.append("headers after signing")
    return diffs


def show(i, case, bot_cr, bot, got, diffs):
    public = {k: v for k, v in case.items() if not k.startswith("_")}
    print("=== request %d differs in: %s" % (i, ", ".join(diffs)))
    print("input: " + json.dumps(public, ensure_ascii=False))
    print("botocore params: " + json.dumps(case["_params"], ensure_ascii=False))
    print("--- botocore canonical request\n" + bot_cr)
    print("--- deployctl canonical request\n" + str(got.get("canonical_request")))
    for key in ("authorization", "url"):
        if bot.get(key) or got.get(key):
            print("--- botocore %s\n%s\n--- deployctl %s\n%s" % (key, bot.get(key), key, got.get(key)))
    if "headers after signing" in diffs:
        print("--- botocore headers: %r\n--- deployctl headers: %r" % (header_set(bot["headers"]), header_set(got["headers"])))
    if "error" in got:
        print("--- deployctl error: " + got["error"])
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--driver", default="build/asan/tools/sigv4_driver")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=5, help="differences to print in full")
    args = ap.parse_args()

    gen = Gen(args.seed)
    cases = [gen.request() for _ in range(args.count)]
    lines = "".join(json.dumps({k: v for k, v in c.items() if not k.startswith("_")}) + "\n" for c in cases)
    proc = subprocess.run([args.driver], input=lines.encode("utf-8"), stdout=subprocess.PIPE, check=False)
    outputs = proc.stdout.decode("utf-8").splitlines()
    if proc.returncode != 0 or len(outputs) != len(cases):
        print("sigv4-differential: driver exited %d after %d of %d lines"
              % (proc.returncode, len(outputs), len(cases)))
        return 1

    passed = failed = 0
    for i, (case, line) in enumerate(zip(cases, outputs)):
        bot_cr, bot = botocore_sign(case)
        got = json.loads(line)
        diffs = compare(case, bot_cr, bot, got)
        if diffs:
            failed += 1
            if failed <= args.show:
                show(i, case, bot_cr, bot, got, diffs)
        else:
            passed += 1
    print("sigv4-differential: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
