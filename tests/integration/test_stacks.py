"""The heart: up, up again, a handler edit, destroy of each interpreted
Lambda architecture against moto, checked with boto3."""
import json
import os
import tempfile

from audit import expect_clean_audit
from harness import FaultProxy, expect, expect_eq, expect_ok
from stacks import (ARCHS, changing_calls, copy_templates, destroy, expect_nothing_left,
                    read_log, stack_env, up, what_exists)


def clear(path):
    if os.path.exists(path):
        os.unlink(path)


def check_deployed(env, name, arch, doc):
    res = {r["id"]: r for r in doc["resources"]}
    for r in doc["resources"]:
        expect_eq(r["status"], "created", "status of %s" % r["id"])
    lam = env.boto("lambda")
    fn = lam.get_function(FunctionName=res["fn"]["physical_id"])
    cfg = fn["Configuration"]
    expect_eq(cfg["MemorySize"], 128, "memory")
    expect_eq(cfg["Runtime"], "nodejs22.x" if "js" in arch else "python3.12", "runtime")
    expect_eq(fn["Tags"].get("deployctl:stack"), name, "function tag")
    expect_eq(fn["Tags"].get("deployctl:arch"), arch, "function arch tag")
    api_id = res["api"]["physical_id"]
    routes = sorted(r["RouteKey"] for r in env.boto("apigatewayv2").get_routes(ApiId=api_id)["Items"])
    expect_eq(routes, ["GET /", "GET /healthz", "GET /hits"], "routes")
    expect(doc["url"] and api_id in doc["url"], "url %r" % doc["url"])
    s3 = env.boto("s3")
    bucket = res["bucket"]["physical_id"]
    bpa = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    expect(all(bpa.values()), "block public access %r" % bpa)
    iam = env.boto("iam")
    role = res["role"]["physical_id"]
    policies = iam.list_role_policies(RoleName=role)["PolicyNames"]
    for p in policies:
        doc_ = iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"]
        for st in doc_["Statement"]:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for arn in resources:
                expect("*" != arn and name in arn, "policy names a foreign resource: %s" % arn)


def lifecycle(env, arch):
    name = "it-" + arch.replace("lambda-", "")[:20]
    templates = copy_templates(env)
    log = os.path.join(env.home, "calls.jsonl")
    proxy = FaultProxy(env.moto.url, rate=0.0, log=log)
    try:
        doc = up(env, arch, name, url=proxy.url, templates=templates)
        check_deployed(env, name, arch, doc)
        expect_clean_audit(env, name)
        clear(log)
        again = up(env, arch, name, url=proxy.url, templates=templates)
        expect_eq(changing_calls(read_log(log)), [], "changing calls of a second up")
        expect_eq(again["url"], doc["url"], "url after a second up")
        app = os.path.join(templates, arch, "app")
        handler = sorted(f for f in os.listdir(app)
                         if os.path.isfile(os.path.join(app, f)) and not f.startswith("."))[0]
        with open(os.path.join(app, handler), "a") as f:
            f.write("\n// edited\n" if handler.endswith((".js", ".mjs")) else "\n# edited\n")
        clear(log)
        up(env, arch, name, url=proxy.url, templates=templates)
        calls = changing_calls(read_log(log))
        expect_eq(len(calls), 1, "changing calls after a handler edit: %r" % calls)
        expect(calls[0].startswith("PUT /2015-03-31/functions/") and "/code" in calls[0], calls)
        destroy(env, name, url=proxy.url)
    finally:
        proxy.stop()
    expect_nothing_left(env, name)
    r = env.run("status", name, env=stack_env(env))
    expect_eq(r.returncode, 2, "status of a destroyed stack")


def test_stack_lifecycle_lambda_python_dynamodb(env):
    lifecycle(env, "lambda-python-dynamodb")


def test_stack_lifecycle_lambda_python_s3(env):
    lifecycle(env, "lambda-python-s3")


def test_stack_lifecycle_lambda_js_dynamodb(env):
    lifecycle(env, "lambda-js-dynamodb")


def test_stacks_side_by_side_and_destroy_all(env):
    a = up(env, "lambda-python-dynamodb", "side-a")
    b = up(env, "lambda-python-dynamodb", "side-b")
    c = up(env, "lambda-js-dynamodb", "side-c")
    expect(len({a["url"], b["url"], c["url"]}) == 3, "three distinct urls")
    r = env.run("-o", "json", "status", env=stack_env(env))
    expect_ok(r)
    expect_eq(sorted(s["name"] for s in json.loads(r.stdout)), ["side-a", "side-b", "side-c"])
    destroy(env, extra=("--all",))
    for n in ("side-a", "side-b", "side-c"):
        expect_nothing_left(env, n)


def test_dry_run_plans_and_calls_nothing(env):
    log = os.path.join(env.home, "calls.jsonl")
    proxy = FaultProxy(env.moto.url, rate=0.0, log=log)
    try:
        r = env.run("up", "lambda-python-dynamodb", "--name", "dry", "--dry-run",
                    env=stack_env(env, proxy.url))
    finally:
        proxy.stop()
    expect_ok(r)
    out = r.stdout.decode()
    expect("create   table" in out and "create   fn" in out, out)
    expect_eq(read_log(log), [], "calls made by --dry-run")
    expect_eq(what_exists(env, "dry"), [], "resources made by --dry-run")


def test_up_and_destroy_through_20_percent_faults(env):
    proxy = FaultProxy(env.moto.url, rate=0.2, seed=5)
    try:
        up(env, "lambda-python-dynamodb", "faulty", url=proxy.url)
        destroy(env, "faulty", url=proxy.url)
        counts = proxy.counts()
    finally:
        proxy.stop()
    expect(sum(v for k, v in counts.items() if k not in ("requests", "forwarded")) >= 5,
           "faults injected: %r" % counts)
    expect_nothing_left(env, "faulty")


def test_history_lock_and_corrupt_state(env):
    up(env, "lambda-python-dynamodb", "hist")
    r = env.run("history", "hist", env=stack_env(env))
    expect_ok(r)
    lines = r.stdout.decode().splitlines()
    expect(any("created table" in l for l in lines), lines[:5])
    expect(any("up complete" in l for l in lines), lines[:5])
    state = os.path.join(env.home, "state", "stacks", "hist.json")
    with open(state, "w") as f:
        f.write("{ not json")
    r = env.run("destroy", "hist", env=stack_env(env))
    expect_eq(r.returncode, 1)
    err = r.stderr.decode()
    expect("hist.json" in err and "corrupt" in err, err)
    expect_eq(len(err.strip().splitlines()), 1, "one line")
    os.system("git -C %s checkout -q -- stacks/hist.json" % os.path.join(env.home, "state"))
    destroy(env, "hist")
    expect_nothing_left(env, "hist")


def test_bad_arch_and_param(env):
    r = env.run("up", "no-such-arch", env=stack_env(env))
    expect_eq(r.returncode, 2)
    expect("no architecture 'no-such-arch'" in r.stderr.decode(), r.stderr.decode())
    r = env.run("up", "lambda-python-dynamodb", "--param", "memory_mb=lots", env=stack_env(env))
    expect_eq(r.returncode, 2)
    expect("memory_mb" in r.stderr.decode(), r.stderr.decode())


def test_sweep_finds_what_state_lost(env):
    import shutil
    up(env, "lambda-python-dynamodb", "lost")
    expect(what_exists(env, "lost") != [], "nothing was made")
    shutil.rmtree(os.path.join(env.home, "state"))
    r = destroy(env, "lost", check=False)
    expect_eq(r.returncode, 1, "destroy without state or --sweep")
    expect("no stack 'lost'" in r.stderr.decode(), r.stderr.decode())
    destroy(env, "lost", extra=("--sweep",))
    expect_nothing_left(env, "lost")


def test_sweep_after_destroy_of_a_half_made_stack(env):
    # State that lost track of one resource: its entry removed by hand.
    up(env, "lambda-python-dynamodb", "half")
    path = os.path.join(env.home, "state", "stacks", "half.json")
    with open(path) as f:
        doc = json.load(f)
    del doc["resources"]["table"]
    with open(path, "w") as f:
        json.dump(doc, f)
    destroy(env, "half", extra=("--sweep",))
    expect_nothing_left(env, "half")
