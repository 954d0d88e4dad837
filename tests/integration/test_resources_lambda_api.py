"""The Lambda and API Gateway v2 resource types, one at a time through
tests/tools/resource_driver against moto: what each makes is read back with
boto3, every request is checked against botocore's model, and creating twice,
updating and deleting twice behave as the contract (resource.h) says. Where
moto does not act like AWS (no ConflictException for an existing stage or
permission statement, no UpdateStage), the recording proxy answers as AWS
would."""
import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
import zipfile

from harness import expect, expect_eq
from resource_support import Driver, body_of, changing, check_requests

ACCOUNT = "123456789012"
ROLE_NAME = "dc-fn-role"
ROLE = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE_NAME)
TAGS = {"deployctl:stack": "drv", "deployctl:arch": "test-arch"}
FILES = {
    "main.py": b"def handler(event, context):\n    return {'statusCode': 200}\n",
    "bootstrap": b"#!/bin/sh\nexec python3 main.py\n",
    "sub/data.txt": b"some data\n",
}


@contextlib.contextmanager
def driver(env, logical="res"):
    tmp = tempfile.mkdtemp(prefix="dc-res-")
    d = Driver(env, template_dir=tmp, logical=logical)
    try:
        yield d
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def write_code(d):
    app = os.path.join(d.template_dir, "app")
    for rel, data in FILES.items():
        path = os.path.join(app, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o755 if rel == "bootstrap" else 0o644)
    # Byte code a local run leaves behind is no part of the sources.
    os.makedirs(os.path.join(app, "__pycache__"))
    with open(os.path.join(app, "__pycache__", "main.cpython-312.pyc"), "wb") as f:
        f.write(os.urandom(32))
    return app


def make_role(env):
    env.boto("iam").create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))


def fn_props(**over):
    p = {"code": "app", "handler": "main.handler", "runtime": "python3.12", "role": ROLE,
         "memory_mb": 256, "timeout_s": 20, "architecture": "arm64",
         "env": {"TABLE": "hits", "MODE": "test"}, "log_group": "/aws/lambda/drv-custom"}
    p.update(over)
    return p


def prepared(d, props):
    return d.ok("prepare", "lambda.function", props).out


def b64sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def zip_of(body):
    return base64.b64decode(body["ZipFile"] if "ZipFile" in body else body["Code"]["ZipFile"])


def create_fn(env, d, **over):
    make_role(env)
    write_code(d)
    props = prepared(d, fn_props(**over))
    return props, d.ok("create", "lambda.function", props)


def expect_error(r, text):
    expect(r.rc == 1, "expected failure, got rc %d: %s" % (r.rc, r.stderr))
    expect(text in r.stderr, "%r not in %r" % (text, r.stderr[-1000:]))


# lambda.function

def test_lambda_function_create_sets_every_field(env):
    with driver(env) as d:
        props, r = create_fn(env, d)
        fn = env.boto("lambda").get_function(FunctionName="drv-res")
        cfg = fn["Configuration"]
        expect_eq(cfg["Runtime"], "python3.12", "runtime")
        expect_eq(cfg["Handler"], "main.handler", "handler")
        expect_eq(cfg["Role"], ROLE, "role")
        expect_eq(cfg["MemorySize"], 256, "memory")
        expect_eq(cfg["Timeout"], 20, "timeout")
        expect_eq(cfg["Architectures"], ["arm64"], "architectures")
        expect_eq(cfg["Environment"]["Variables"], {"TABLE": "hits", "MODE": "test"}, "env")
        expect_eq(fn["Tags"], TAGS, "tags")
        expect_eq(r.out, {"id": "drv-res", "name": "drv-res", "arn": cfg["FunctionArn"],
                          "code_sha256": props["code_sha256"]}, "attrs")
        expect_eq(r.records, [r.out], "recorded attrs")
        # moto keeps no LoggingConfig: the request says it.
        body = body_of(d.rec, "CreateFunction")[0]
        expect_eq(body["LoggingConfig"], {"LogGroup": "/aws/lambda/drv-custom"}, "logging")
        data = zip_of(body)
        expect_eq(cfg["CodeSha256"], b64sha(data), "CodeSha256 of the zip sent")
        ops = check_requests(d.rec)
        expect_eq(changing(ops), ["CreateFunction"], "changing calls")
        expect_eq(ops[-1], "GetFunctionConfiguration", "waited for Active")


def test_lambda_function_zip_is_reproducible_with_modes(env):
    with driver(env) as d:
        props, r = create_fn(env, d)
        data = zip_of(body_of(d.rec, "CreateFunction")[0])
        z = zipfile.ZipFile(io.BytesIO(data))
        expect_eq(z.namelist(), sorted(FILES), "entries, sorted, no __pycache__")
        for info in z.infolist():
            expect_eq(z.read(info), FILES[info.filename], "content of " + info.filename)
            mode = info.external_attr >> 16
            want = 0o100755 if info.filename == "bootstrap" else 0o100644
            expect_eq(oct(mode), oct(want), "mode of " + info.filename)
            expect_eq(info.date_time, (1980, 1, 1, 0, 0, 0), "fixed date")
            expect_eq(info.compress_type, zipfile.ZIP_DEFLATED, "deflated")
        # New mtimes, another time zone: the very same bytes.
        for rel in FILES:
            os.utime(os.path.join(d.template_dir, "app", rel), (1e9, 1e9))
        d.rec.clear()
        d.env.vars["TZ"] = "Pacific/Kiritimati"
        d.ok("update", "lambda.function", dict(props, code_sha256="force"), old=props,
             attrs=r.out)
        again = zip_of(body_of(d.rec, "UpdateFunctionCode")[0])
        expect_eq(again, data, "zip bytes of an unchanged folder")


def test_lambda_function_code_hash(env):
    with driver(env) as d:
        app = write_code(d)
        h1 = prepared(d, fn_props())["code_sha256"]
        expect(len(h1) == 64 and all(c in "0123456789abcdef" for c in h1), h1)
        os.utime(os.path.join(app, "main.py"), (1e9, 1e9))
        with open(os.path.join(app, "__pycache__", "x.pyc"), "wb") as f:
            f.write(b"junk")
        expect_eq(prepared(d, fn_props())["code_sha256"], h1, "mtime and __pycache__")
        os.chmod(os.path.join(app, "sub/data.txt"), 0o755)
        h2 = prepared(d, fn_props())["code_sha256"]
        expect(h2 != h1, "an execute bit is a change")
        with open(os.path.join(app, "main.py"), "ab") as f:
            f.write(b"# edited\n")
        h3 = prepared(d, fn_props())["code_sha256"]
        expect(h3 not in (h1, h2), "an edit is a change")
        r = d.run("prepare", "lambda.function", fn_props(code="missing"))
        expect_error(r, "missing")


def test_lambda_function_record_comes_before_the_wait(env):
    with driver(env) as d:
        d.rec.inject("GET", r"/functions/drv-res/configuration$", 200,
                     {"FunctionName": "drv-res", "State": "Failed",
                      "StateReason": "the role is broken"})
        make_role(env)
        write_code(d)
        r = d.run("create", "lambda.function", prepared(d, fn_props()))
        expect_error(r, "the role is broken")
        expect_eq([a["id"] for a in r.records], ["drv-res"], "recorded although the wait failed")
        ops = check_requests(d.rec)
        expect(ops.index("CreateFunction") < ops.index("GetFunctionConfiguration"), ops)
        env.boto("lambda").get_function(FunctionName="drv-res")


def test_lambda_function_waits_until_active(env):
    with driver(env) as d:
        d.rec.inject("GET", r"/functions/drv-res/configuration$", 200,
                     {"FunctionName": "drv-res", "State": "Pending",
                      "LastUpdateStatus": "InProgress"}, times=2)
        create_fn(env, d)
        ops = check_requests(d.rec)
        expect_eq(ops.count("GetFunctionConfiguration"), 3, "polls")
        r = d.rec.requests[-1]
        expect(not r["canned"], "the last poll reached moto")


def test_lambda_function_waits_for_a_new_role(env):
    with driver(env) as d:
        write_code(d)
        props = prepared(d, fn_props())
        p = d.start("create", "lambda.function", props)
        time.sleep(2.5)
        make_role(env)
        out, err = p.communicate(timeout=60)
        expect_eq(p.returncode, 0, "exit; " + err.decode())
        expect("progress: waiting for the new role to become assumable by Lambda" in err.decode(),
               err.decode())
        creates = [r for r in d.rec.requests if r["method"] == "POST"
                   and r["path"] == "/2015-03-31/functions"]
        expect(len(creates) >= 2, "retried CreateFunction: %d" % len(creates))
        expect_eq([c["status"] for c in creates][-1], 201, "last attempt")


def test_lambda_function_create_again_adopts(env):
    with driver(env) as d:
        props, first = create_fn(env, d)
        d.rec.clear()
        r = d.ok("create", "lambda.function", props)
        expect_eq(r.out, first.out, "same attrs")
        expect_eq(r.records, [first.out], "recorded")
        expect(any("adopting function 'drv-res'" in p for p in r.progress), r.progress)
        fns = env.boto("lambda").list_functions()["Functions"]
        expect_eq([f["FunctionName"] for f in fns], ["drv-res"], "functions")
        ops = check_requests(d.rec)
        expect_eq(ops[:2], ["CreateFunction", "GetFunction"], "ops")
        expect_eq(d.rec.requests[0]["status"], 409, "conflict on create")
        # The same sources zip to the same bytes, so the code is left alone.
        # (moto reports no LoggingConfig, so the configuration may be sent.)
        expect("UpdateFunctionCode" not in ops, ops)


def test_lambda_function_adopts_only_its_own(env):
    with driver(env) as d:
        make_role(env)
        env.boto("lambda").create_function(
            FunctionName="drv-res", Runtime="python3.12", Role=ROLE, Handler="x.y",
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
        write_code(d)
        r = d.run("create", "lambda.function", prepared(d, fn_props()))
        expect_error(r, "function 'drv-res' exists and is not tagged deployctl:stack=drv")
        expect_eq(r.records, [], "nothing recorded")
        expect_eq(changing(check_requests(d.rec)), ["CreateFunction"], "no change made")


def test_lambda_function_handler_edit_updates_code_only(env):
    with driver(env) as d:
        props, r = create_fn(env, d)
        with open(os.path.join(d.template_dir, "app", "main.py"), "ab") as f:
            f.write(b"# v2\n")
        new = prepared(d, fn_props())
        expect(new["code_sha256"] != props["code_sha256"], "hash changed")
        d.rec.clear()
        u = d.ok("update", "lambda.function", new, old=props, attrs=r.out)
        ops = check_requests(d.rec)
        expect_eq(changing(ops), ["UpdateFunctionCode"], "changing calls")
        body = body_of(d.rec, "UpdateFunctionCode")[0]
        expect_eq(body["Architectures"], ["arm64"], "architecture kept")
        data = zip_of(body)
        expect_eq(zipfile.ZipFile(io.BytesIO(data)).read("main.py"), FILES["main.py"] + b"# v2\n")
        cfg = env.boto("lambda").get_function(FunctionName="drv-res")["Configuration"]
        expect_eq(cfg["CodeSha256"], b64sha(data), "new code in place")
        expect_eq(u.out["code_sha256"], new["code_sha256"], "attrs")


def test_lambda_function_memory_change_updates_configuration_only(env):
    with driver(env) as d:
        props, r = create_fn(env, d)
        new = dict(props, memory_mb=512, env={"TABLE": "hits2"})
        d.rec.clear()
        d.ok("update", "lambda.function", new, old=props, attrs=r.out)
        ops = check_requests(d.rec)
        expect_eq(changing(ops), ["UpdateFunctionConfiguration"], "changing calls")
        cfg = env.boto("lambda").get_function(FunctionName="drv-res")["Configuration"]
        expect_eq(cfg["MemorySize"], 512, "memory")
        expect_eq(cfg["Environment"]["Variables"], {"TABLE": "hits2"}, "env")
        expect_eq(cfg["Handler"], "main.handler", "handler kept")
        expect_eq(cfg["Timeout"], 20, "timeout kept")
        body = body_of(d.rec, "UpdateFunctionConfiguration")[0]
        expect_eq(body["LoggingConfig"], {"LogGroup": "/aws/lambda/drv-custom"}, "logging kept")


def test_lambda_function_update_waits_out_another_update(env):
    with driver(env) as d:
        props, r = create_fn(env, d)
        d.rec.inject("PUT", r"/functions/drv-res/code$", 409,
                     {"Type": "User", "message": "The operation cannot be performed at this "
                      "time. An update is in progress for resource: " + r.out["arn"]},
                     error_type="ResourceConflictException")
        d.rec.clear()
        u = d.ok("update", "lambda.function", dict(props, code_sha256="x"), old=props,
                 attrs=r.out)
        expect_eq(changing(check_requests(d.rec)), ["UpdateFunctionCode"] * 2, "retried")
        expect(any("an earlier change of the function to finish" in p for p in u.progress),
               u.progress)


def test_lambda_function_delete_and_find(env):
    with driver(env) as d:
        props, r = create_fn(env, d)
        found = d.ok("find", "lambda.function", props).out
        expect_eq(found, [{"id": "drv-res", "name": "drv-res", "arn": r.out["arn"]}], "found")
        d.ok("delete", "lambda.function", attrs=r.out)
        try:
            env.boto("lambda").get_function(FunctionName="drv-res")
            expect(False, "function still there")
        except env.boto("lambda").exceptions.ResourceNotFoundException:
            pass
        d.ok("delete", "lambda.function", attrs=r.out)
        expect_eq(d.ok("find", "lambda.function", props).out, [], "found after delete")
        check_requests(d.rec)


# lambda.permission

def make_function(env):
    make_role(env)
    env.boto("lambda").create_function(
        FunctionName="fn", Runtime="python3.12", Role=ROLE, Handler="x.y",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})


def statements(env):
    try:
        return json.loads(env.boto("lambda").get_policy(FunctionName="fn")["Policy"])["Statement"]
    except env.boto("lambda").exceptions.ResourceNotFoundException:
        return []


def test_lambda_permission_lifecycle(env):
    make_function(env)
    src = "arn:aws:execute-api:us-east-1:%s:abc123/*/*" % ACCOUNT
    props = {"function": "fn", "principal": "apigateway.amazonaws.com", "source_arn": src}
    with driver(env, logical="perm") as d:
        r = d.ok("create", "lambda.permission", props)
        expect_eq(r.out, {"id": "fn/drv-perm", "statement_id": "drv-perm"}, "attrs")
        expect_eq(r.records, [r.out], "recorded")
        st = statements(env)
        expect_eq(len(st), 1, "statements")
        expect_eq(st[0]["Sid"], "drv-perm", "sid")
        expect_eq(st[0]["Action"], "lambda:InvokeFunction", "action")
        expect_eq(st[0]["Principal"], {"Service": "apigateway.amazonaws.com"}, "principal")
        expect_eq(st[0]["Condition"]["ArnLike"]["AWS:SourceArn"], src, "source arn")
        expect_eq(d.ok("find", "lambda.permission", props).out, [r.out], "found")
        # AWS refuses a second statement with that id; moto would add one.
        d.rec.inject("POST", r"/functions/fn/policy$", 409,
                     {"Type": "User", "message": "The statement id (drv-perm) provided already "
                      "exists. Please provide a new statement id, or remove the existing "
                      "statement."}, error_type="ResourceConflictException")
        again = d.ok("create", "lambda.permission", props)
        expect_eq(again.out, r.out, "adopted")
        expect_eq(len(statements(env)), 1, "no second statement")
        d.ok("delete", "lambda.permission", attrs=r.out)
        expect_eq(statements(env), [], "statement removed")
        d.ok("delete", "lambda.permission", attrs=r.out)
        expect_eq(d.ok("find", "lambda.permission", props).out, [], "found after delete")
        expect_eq(d.run("update", "lambda.permission", props, old=props, attrs=r.out).stdout,
                  '"replace"\n', "no update in place")
        check_requests(d.rec)


# apigatewayv2.api

def apis(env):
    return env.boto("apigatewayv2").get_apis()["Items"]


def test_apigw_api_lifecycle(env):
    with driver(env, logical="api") as d:
        r = d.ok("create", "apigatewayv2.api", {"protocol": "HTTP"})
        items = apis(env)
        expect_eq(len(items), 1, "apis")
        api = items[0]
        expect_eq(api["Name"], "drv-api", "name")
        expect_eq(api["ProtocolType"], "HTTP", "protocol")
        expect_eq(api["Tags"], TAGS, "tags")
        expect_eq(r.out, {"id": api["ApiId"], "endpoint": api["ApiEndpoint"], "name": "drv-api"})
        expect_eq(r.records, [r.out], "recorded")
        d.rec.clear()
        again = d.ok("create", "apigatewayv2.api", {"protocol": "HTTP"})
        expect_eq(again.out, r.out, "adopted")
        expect_eq(len(apis(env)), 1, "no second API")
        expect("CreateApi" not in check_requests(d.rec), "created again")
        new = {"protocol": "HTTP", "name": "renamed"}
        u = d.ok("update", "apigatewayv2.api", new, old={"protocol": "HTTP"}, attrs=r.out)
        expect_eq(env.boto("apigatewayv2").get_api(ApiId=r.out["id"])["Name"], "renamed")
        expect_eq(u.out["name"], "renamed", "attrs name")
        expect_eq(d.run("update", "apigatewayv2.api", {"protocol": "WEBSOCKET"},
                        old={"protocol": "HTTP"}, attrs=r.out).stdout, '"replace"\n', "protocol")
        d.ok("delete", "apigatewayv2.api", attrs=r.out)
        expect_eq(apis(env), [], "deleted")
        d.ok("delete", "apigatewayv2.api", attrs=r.out)
        check_requests(d.rec)


def test_apigw_api_leaves_an_untagged_namesake_alone(env):
    foreign = env.boto("apigatewayv2").create_api(Name="drv-api", ProtocolType="HTTP")
    with driver(env, logical="api") as d:
        r = d.ok("create", "apigatewayv2.api", {"protocol": "HTTP"})
        expect(r.out["id"] != foreign["ApiId"], "adopted somebody else's API")
        expect_eq(len(apis(env)), 2, "apis")
        expect_eq(d.ok("find", "apigatewayv2.api", {}).out, [r.out], "found")
        names = check_requests(d.rec)
        expect_eq(names[:2], ["GetApis", "CreateApi"], "searched before creating")


# apigatewayv2.integration, route, stage

def new_api(env):
    return env.boto("apigatewayv2").create_api(Name="x", ProtocolType="HTTP")["ApiId"]


def test_apigw_integration_lifecycle(env):
    api = new_api(env)
    uri = "arn:aws:lambda:us-east-1:%s:function:fn" % ACCOUNT
    props = {"api": api, "type": "AWS_PROXY", "uri": uri, "payload_format": "2.0"}
    gw = env.boto("apigatewayv2")
    with driver(env, logical="integ") as d:
        r = d.ok("create", "apigatewayv2.integration", props)
        items = gw.get_integrations(ApiId=api)["Items"]
        expect_eq(len(items), 1, "integrations")
        expect_eq(items[0]["IntegrationType"], "AWS_PROXY", "type")
        expect_eq(items[0]["IntegrationUri"], uri, "uri")
        expect_eq(items[0]["PayloadFormatVersion"], "2.0", "payload format")
        expect_eq(r.out, {"id": items[0]["IntegrationId"], "api": api}, "attrs")
        expect_eq(r.records, [r.out], "recorded")
        again = d.ok("create", "apigatewayv2.integration", props)
        expect_eq(again.out, r.out, "adopted")
        expect_eq(len(gw.get_integrations(ApiId=api)["Items"]), 1, "no second integration")
        new = dict(props, uri=uri + "2")
        d.rec.clear()
        d.ok("update", "apigatewayv2.integration", new, old=props, attrs=r.out)
        expect_eq(changing(check_requests(d.rec)), ["UpdateIntegration"], "calls")
        got = gw.get_integration(ApiId=api, IntegrationId=r.out["id"])
        expect_eq(got["IntegrationUri"], uri + "2", "updated uri")
        expect_eq(d.run("update", "apigatewayv2.integration", dict(new, api="other"), old=new,
                        attrs=r.out).stdout, '"replace"\n', "api change")
        d.ok("delete", "apigatewayv2.integration", attrs=r.out)
        expect_eq(gw.get_integrations(ApiId=api)["Items"], [], "deleted")
        d.ok("delete", "apigatewayv2.integration", attrs=r.out)
        check_requests(d.rec)


def test_apigw_route_lifecycle(env):
    api = new_api(env)
    gw = env.boto("apigatewayv2")
    props = {"api": api, "route_key": "GET /hits", "target": "integrations/abc"}
    with driver(env, logical="route") as d:
        r = d.ok("create", "apigatewayv2.route", props)
        items = gw.get_routes(ApiId=api)["Items"]
        expect_eq([(i["RouteKey"], i["Target"]) for i in items],
                  [("GET /hits", "integrations/abc")], "routes")
        expect_eq(r.out, {"id": items[0]["RouteId"], "api": api}, "attrs")
        expect_eq(r.records, [r.out], "recorded")
        body = body_of(d.rec, "CreateRoute")[0]
        expect_eq(body, {"routeKey": "GET /hits", "target": "integrations/abc"}, "body")
        d.rec.clear()
        again = d.ok("create", "apigatewayv2.route", props)
        expect_eq(again.out, r.out, "adopted")
        expect_eq(changing(check_requests(d.rec)), [], "nothing made")
        expect_eq(len(gw.get_routes(ApiId=api)["Items"]), 1, "no second route")
        new = dict(props, target="integrations/def")
        d.rec.clear()
        d.ok("update", "apigatewayv2.route", new, old=props, attrs=r.out)
        expect_eq(body_of(d.rec, "UpdateRoute"), [{"target": "integrations/def"}], "patch")
        expect_eq(gw.get_route(ApiId=api, RouteId=r.out["id"])["Target"], "integrations/def")
        d.ok("delete", "apigatewayv2.route", attrs=r.out)
        expect_eq(gw.get_routes(ApiId=api)["Items"], [], "deleted")
        d.ok("delete", "apigatewayv2.route", attrs=r.out)
        check_requests(d.rec)


def test_apigw_stage_lifecycle(env):
    api = new_api(env)
    gw = env.boto("apigatewayv2")
    props = {"api": api, "name": "$default", "auto_deploy": True}
    with driver(env, logical="stage") as d:
        r = d.ok("create", "apigatewayv2.stage", props)
        st = gw.get_stage(ApiId=api, StageName="$default")
        expect_eq(st["AutoDeploy"], True, "auto deploy")
        expect_eq(st["Tags"], TAGS, "tags")
        expect_eq(r.out, {"id": "$default", "api": api}, "attrs")
        expect_eq(r.records, [r.out], "recorded")
        expect(any("/stages" in q["raw_path"] for q in d.rec.requests), "path")
        # AWS answers ConflictException for an existing stage; moto would
        # overwrite it.
        d.rec.inject("POST", r"/v2/apis/[^/]+/stages$", 409,
                     {"message": "Stage already exists"}, error_type="ConflictException")
        d.rec.clear()
        again = d.ok("create", "apigatewayv2.stage", props)
        expect_eq(again.out, r.out, "adopted")
        expect_eq(changing(check_requests(d.rec)), ["CreateStage"], "left as it was")
        # moto has no UpdateStage: answer as AWS does and check the request.
        d.rec.inject("PATCH", r"/v2/apis/[^/]+/stages/\$default$", 200,
                     {"stageName": "$default", "autoDeploy": False})
        d.rec.clear()
        new = dict(props, auto_deploy=False)
        d.ok("update", "apigatewayv2.stage", new, old=props, attrs=r.out)
        expect_eq(body_of(d.rec, "UpdateStage"), [{"autoDeploy": False}], "patch")
        expect_eq(d.rec.requests[0]["raw_path"], "/v2/apis/%s/stages/%%24default" % api, "path")
        expect_eq(d.run("update", "apigatewayv2.stage", dict(props, name="prod"), old=props,
                        attrs=r.out).stdout, '"replace"\n', "rename")
        d.ok("delete", "apigatewayv2.stage", attrs=r.out)
        expect_eq(gw.get_stages(ApiId=api)["Items"], [], "deleted")
        d.ok("delete", "apigatewayv2.stage", attrs=r.out)
        check_requests(d.rec)
