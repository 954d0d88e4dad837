"""up, up again, a handler edit, destroy of the compiled Lambda architectures
(lambda-cpp-dynamodb, lambda-rust-dynamodb) against moto, checked with boto3;
and what a user without the toolchain is told."""
import json
import os
import shutil
import sys
import uuid

from audit import expect_clean_audit
from harness import ROOT, FaultProxy, expect, expect_eq, expect_ok
from stacks import (changing_calls, copy_templates, destroy, expect_nothing_left, read_log,
                    stack_env)

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import toolchain  # noqa: E402

KINDS = {"lambda-cpp-dynamodb": ("cpp", "main.cpp", "g++"),
         "lambda-rust-dynamodb": ("rust", "src/main.rs", "cargo")}


def build_env(env, url=None, templates=None):
    e = stack_env(env, url, templates)
    e.update(toolchain.build_env())
    e["DEPLOYCTL_PROGRESS"] = "1"
    return e


def up(env, arch, name, *extra, url=None, templates=None):
    r = env.run("-o", "json", "up", arch, "--name", name, *extra,
                env=build_env(env, url, templates), timeout=900)
    expect_ok(r, "up %s" % arch)
    return json.loads(r.stdout), r.stderr.decode()


def clear(path):
    if os.path.exists(path):
        os.unlink(path)


def fn_state(env, name):
    with open(os.path.join(env.home, "state", "stacks", name + ".json")) as f:
        return json.load(f)["resources"]["fn"]


def check_deployed(env, name, arch, doc):
    res = {r["id"]: r for r in doc["resources"]}
    for r in doc["resources"]:
        expect_eq(r["status"], "created", "status of %s" % r["id"])
    fn = env.boto("lambda").get_function(FunctionName=res["fn"]["physical_id"])
    cfg = fn["Configuration"]
    expect_eq((cfg["Runtime"], cfg["Handler"], cfg["MemorySize"], cfg["Architectures"]),
              ("provided.al2023", "bootstrap", 128, ["x86_64"]), "function configuration")
    expect_eq(fn["Tags"].get("deployctl:stack"), name, "function tag")
    expect_eq(fn["Tags"].get("deployctl:arch"), arch, "function arch tag")
    iam = env.boto("iam")
    role = res["role"]["physical_id"]
    actions = []
    for p in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        for st in iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"]["Statement"]:
            acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            actions += acts
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for arn in resources:
                expect("*" != arn and name in arn, "policy names a foreign resource: %s" % arn)
    expect_eq(sorted(actions), ["dynamodb:UpdateItem", "logs:CreateLogStream",
                                "logs:PutLogEvents", "s3:GetObject"], "role's actions")
    routes = env.boto("apigatewayv2").get_routes(ApiId=res["api"]["physical_id"])["Items"]
    expect_eq(sorted(r["RouteKey"] for r in routes), ["GET /", "GET /healthz", "GET /hits"],
              "routes")


def package_of(env, name, kind):
    return os.path.join(toolchain.build_dir(fn_state(env, name)["attrs"]["code_sha256"], kind),
                        "function.zip")


def lifecycle(env, arch):
    kind, source, _ = KINDS[arch]
    name = "it-" + kind
    templates = copy_templates(env)
    log = os.path.join(env.home, "calls.jsonl")
    proxy = FaultProxy(env.moto.url, rate=0.0, log=log)
    try:
        doc, _ = up(env, arch, name, url=proxy.url, templates=templates)
        check_deployed(env, name, arch, doc)
        expect_clean_audit(env, name)
        zip_path = package_of(env, name, kind)
        size = os.path.getsize(zip_path)
        print("  %s package: %.1f MB zipped" % (arch, size / 1e6))
        expect(size < 10e6, "package of %d bytes" % size)
        built_at = os.path.getmtime(zip_path)
        clear(log)
        again, err = up(env, arch, name, url=proxy.url, templates=templates)
        expect_eq(changing_calls(read_log(log)), [], "changing calls of a second up")
        expect("building" not in err and "zipped" not in err, "second up built again:\n" + err)
        expect_eq(os.path.getmtime(zip_path), built_at, "package rewritten by a second up")
        expect_eq(again["url"], doc["url"], "url after a second up")
        # A new edit each run: an edit made before would be in the cache.
        with open(os.path.join(templates, arch, "app", source), "a") as f:
            f.write("\n// edited %s\n" % uuid.uuid4())
        clear(log)
        _, err = up(env, arch, name, url=proxy.url, templates=templates)
        expect("fn: building the %s handler for x86_64" % kind in err,
               "an edited handler was not rebuilt:\n" + err)
        calls = changing_calls(read_log(log))
        expect_eq(len(calls), 1, "changing calls after a handler edit: %r" % calls)
        expect(calls[0].startswith("PUT /2015-03-31/functions/") and "/code" in calls[0], calls)
        shutil.rmtree(os.path.dirname(package_of(env, name, kind)))
        destroy(env, name, url=proxy.url)
    finally:
        proxy.stop()
    expect_nothing_left(env, name)


def test_stack_lifecycle_lambda_cpp_dynamodb(env):
    lifecycle(env, "lambda-cpp-dynamodb")


def test_stack_lifecycle_lambda_rust_dynamodb(env):
    lifecycle(env, "lambda-rust-dynamodb")


def one_line_failure(env, arch, name, extra=(), path=None):
    e = build_env(env)
    del e["DEPLOYCTL_PROGRESS"]  # what a script, or a log, sees
    # An empty cache: a build made earlier would need no toolchain.
    e["XDG_CACHE_HOME"] = os.path.join(env.home, "cache")
    if path is not None:
        e["PATH"] = path
    r = env.run("up", arch, "--name", name, *extra, env=e, timeout=300)
    err = r.stderr.decode()
    # 1: the build comes before the first change, so nothing was made.
    expect_eq(r.returncode, 1, "exit status of up: " + err)
    expect_eq(len(err.strip().splitlines()), 1, "one line:\n" + err)
    expect_nothing_left(env, name)
    r = env.run("status", name, env=e)
    expect_eq(r.returncode, 2, "status of a stack never made: " + r.stderr.decode())
    return err


def test_missing_toolchain_is_one_clear_line(env):
    err = one_line_failure(env, "lambda-rust-dynamodb", "notool-rust", path="/nonexistent")
    expect("lambda-rust-dynamodb needs cargo: install it with 'apt-get install cargo' or rustup"
           in err, err)
    err = one_line_failure(env, "lambda-cpp-dynamodb", "notool-cpp", path="/nonexistent")
    expect("lambda-cpp-dynamodb needs g++: install it with 'apt-get install g++" in err, err)


def test_arm64_without_a_cross_toolchain_is_one_clear_line(env):
    if shutil.which("aarch64-linux-gnu-g++"):
        print("  (a cross toolchain is installed: nothing to check)")
        return
    err = one_line_failure(env, "lambda-cpp-dynamodb", "arm", extra=("--param", "arch=arm64"))
    expect("building lambda-cpp-dynamodb for arm64 needs aarch64-linux-gnu-g++" in err, err)
