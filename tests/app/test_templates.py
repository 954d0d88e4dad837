"""Static checks of templates/<arch>/stack.json against the resource types'
contract (cli/resources/README.md) and against the handler beside it.

Tests take the moto server the runner passes and ignore it."""
import json
import os
import re

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEMPLATES = os.path.join(ROOT, "templates")
ARCHS = ["lambda-python-dynamodb", "lambda-python-s3", "lambda-js-dynamodb"]
BUILTINS = {"stack", "region", "account"}
REF = re.compile(r"\$\{([^}]*)\}")

# SDK calls in a handler's source -> the IAM action each one needs.
SDK_ACTIONS = {
    r"\.update_item\(|UpdateItemCommand\(": "dynamodb:UpdateItem",
    r"\.get_object\(|GetObjectCommand\(": "s3:GetObject",
    r"\.put_object\(|PutObjectCommand\(": "s3:PutObject",
    r"\.get_item\(|GetItemCommand\(": "dynamodb:GetItem",
    r"\.put_item\(|PutItemCommand\(": "dynamodb:PutItem",
    r"\.head_object\(|HeadObjectCommand\(": "s3:GetObject",
}


def contract():
    """{type: (props, attrs)} from the table in cli/resources/README.md."""
    types = {}
    with open(os.path.join(ROOT, "cli", "resources", "README.md")) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 3 or not re.fullmatch(r"`[a-z0-9]+\.[a-z_]+`", cells[0]):
                continue
            props = set(re.findall(r"(?:^|;|\bor)\s*`([a-z_]+)`", cells[1]))
            attrs = set(re.findall(r"`([a-z_0-9]+)`", cells[2]))
            types[cells[0].strip("`")] = (props, attrs)
    harness.expect(len(types) >= 11, "README table not found or changed shape")
    return types


def load(arch):
    with open(os.path.join(TEMPLATES, arch, "stack.json")) as f:
        return json.load(f)


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def of_type(stack, type_):
    return {k: r for k, r in stack["resources"].items() if r["type"] == type_}


def the(stack, type_):
    found = of_type(stack, type_)
    harness.expect_eq(len(found), 1, "number of %s" % type_)
    return next(iter(found.items()))


def handler_source(arch, stack):
    _, fn = the(stack, "lambda.function")
    module, func = fn["props"]["handler"].rsplit(".", 1)
    app = os.path.join(TEMPLATES, arch, fn["props"]["code"])
    for ext, pattern in ((".py", r"^def %s\(event, context\):" % func),
                         (".js", r"^exports\.%s = " % func), (".mjs", r"^export .*\b%s\b" % func)):
        path = os.path.join(app, module + ext)
        if os.path.exists(path):
            with open(path) as f:
                src = f.read()
            harness.expect(re.search(pattern, src, re.M), "%s does not define %s" % (path, func))
            return src
    raise AssertionError("%s: no handler file for %s" % (arch, fn["props"]["handler"]))


def as_list(v):
    return v if isinstance(v, list) else [v]


def check_shape(arch):
    stack = load(arch)
    types = contract()
    harness.expect_eq(sorted(stack), ["arch", "outputs", "params", "resources", "summary"], "keys")
    harness.expect_eq(stack["arch"], arch, "arch")
    harness.expect_eq(stack["outputs"], {"url": "${api.endpoint}/"}, "outputs")
    for rid, r in stack["resources"].items():
        harness.expect_eq(sorted(r), ["props", "type"], "%s keys" % rid)
        harness.expect(r["type"] in types, "%s: unknown type %s" % (rid, r["type"]))
        unknown = set(r["props"]) - types[r["type"]][0]
        harness.expect(not unknown, "%s: props not in the contract: %s" % (rid, sorted(unknown)))
    for s in strings(stack):
        for ref in REF.findall(s):
            if "." in ref:
                rid, attr = ref.split(".", 1)
                harness.expect(rid in stack["resources"], "${%s}: no resource %s" % (ref, rid))
                attrs = types[stack["resources"][rid]["type"]][1]
                harness.expect(attr in attrs, "${%s}: %s has no attr %s" % (ref, rid, attr))
            else:
                harness.expect(ref in stack["params"] or ref in BUILTINS, "${%s}: unknown" % ref)
    # Whole-string references keep their type: numbers stay numbers.
    _, fn = the(stack, "lambda.function")
    for prop, param in (("memory_mb", "memory_mb"), ("timeout_s", "timeout_s"),
                        ("runtime", "runtime")):
        harness.expect_eq(fn["props"][prop], "${%s}" % param, "fn %s" % prop)
    harness.expect_eq((stack["params"]["memory_mb"], stack["params"]["timeout_s"]), (128, 10),
                      "memory and timeout defaults")
    want_runtime = "nodejs22.x" if "-js-" in arch else "python3.12"
    harness.expect_eq(stack["params"]["runtime"], want_runtime, "runtime default")


def check_wiring(arch):
    stack = load(arch)
    fn_id, fn = the(stack, "lambda.function")
    api_id, _ = the(stack, "apigatewayv2.api")
    integ_id, integ = the(stack, "apigatewayv2.integration")
    logs_id, logs = the(stack, "logs.log_group")
    harness.expect_eq(integ["props"], {"api": "${%s.id}" % api_id, "type": "AWS_PROXY",
                                       "uri": "${%s.arn}" % fn_id, "payload_format": "2.0"},
                      "integration")
    routes = sorted((r["props"]["route_key"], r["props"]["target"], r["props"]["api"])
                    for r in of_type(stack, "apigatewayv2.route").values())
    target = "integrations/${%s.id}" % integ_id
    harness.expect_eq(routes, [(k, target, "${%s.id}" % api_id)
                               for k in ("GET /", "GET /healthz", "GET /hits")], "routes")
    _, stage = the(stack, "apigatewayv2.stage")
    harness.expect_eq(stage["props"], {"api": "${%s.id}" % api_id, "name": "$default",
                                       "auto_deploy": True}, "stage")
    _, perm = the(stack, "lambda.permission")
    harness.expect_eq(perm["props"]["principal"], "apigateway.amazonaws.com", "principal")
    harness.expect_eq(perm["props"]["source_arn"],
                      "arn:aws:execute-api:${region}:${account}:${%s.id}/*" % api_id, "source_arn")
    harness.expect(perm["props"]["function"] in ("${%s.name}" % fn_id, "${%s.arn}" % fn_id),
                   "permission function")
    # Lambda writes to /aws/lambda/<function name>; the function is <stack>-<logical id>.
    harness.expect_eq(logs["props"], {"name": "/aws/lambda/${stack}-%s" % fn_id,
                                      "retention_days": 7}, "log group")
    harness.expect_eq(fn["props"]["log_group"], "${%s.name}" % logs_id, "fn log_group")
    # The page object comes from the shared page.
    pages = [r["props"] for r in of_type(stack, "s3.object").values() if "source" in r["props"]]
    harness.expect_eq(len(pages), 1, "page objects")
    harness.expect(os.path.samefile(os.path.join(TEMPLATES, arch, pages[0]["source"]),
                                    os.path.join(TEMPLATES, "common", "index.html")), "page source")
    harness.expect_eq(fn["props"]["env"].get("PAGE_KEY"), pages[0]["key"], "PAGE_KEY")
    harness.expect_eq(fn["props"]["env"].get("PAGE_BUCKET"), pages[0]["bucket"], "PAGE_BUCKET")


def check_env_matches_handler(arch):
    stack = load(arch)
    src = handler_source(arch, stack)
    used = set(re.findall(r"os\.environ(?:\.get\(|\[)\"([A-Z_]+)\"", src))
    used |= set(re.findall(r"process\.env\.([A-Z_]+)", src))
    used = {v for v in used if not v.startswith("AWS_")}
    _, fn = the(stack, "lambda.function")
    harness.expect_eq(sorted(fn["props"]["env"]), sorted(used), "env set vs env the handler reads")


def check_least_privilege(arch):
    stack = load(arch)
    src = handler_source(arch, stack)
    needed = {a for pat, a in SDK_ACTIONS.items() if re.search(pat, src)}
    _, role = the(stack, "iam.role")
    harness.expect_eq(role["props"]["service"], "lambda.amazonaws.com", "trusted service")
    harness.expect("managed_policies" not in role["props"], "no managed policies")
    granted = {}
    for stmt in role["props"]["allow"]:
        for action in as_list(stmt["action"]):
            harness.expect("*" not in action, "wildcard action %s" % action)
            for res in as_list(stmt["resource"]):
                granted.setdefault(action, set()).add(res)
    logs_id, _ = the(stack, "logs.log_group")
    for a in ("logs:CreateLogStream", "logs:PutLogEvents"):
        harness.expect_eq(granted.pop(a, None), {"${%s.arn}:*" % logs_id}, a)
    harness.expect_eq(sorted(granted), sorted(needed), "actions granted vs SDK calls made")
    for action, resources in granted.items():
        for res in resources:
            harness.expect(res != "*" and not res.endswith("/*"), "%s on %s" % (action, res))
            if action.startswith("s3:"):
                # Objects, by key: never the whole bucket.
                harness.expect(re.fullmatch(r"\$\{[a-z_]+\.arn\}/[^*]+", res), "%s on %s" % (
                    action, res))
    table = of_type(stack, "dynamodb.table")
    if "dynamodb:UpdateItem" in granted:
        harness.expect_eq(granted["dynamodb:UpdateItem"], {"${%s.arn}" % next(iter(table))},
                          "UpdateItem resource")
    # The page: read-only, that one object.
    _, fn = the(stack, "lambda.function")
    bucket_ref = fn["props"]["env"]["PAGE_BUCKET"].replace(".name}", ".arn}")
    page_arn = "%s/%s" % (bucket_ref, fn["props"]["env"]["PAGE_KEY"])
    harness.expect(page_arn in granted.get("s3:GetObject", set()), "GetObject on the page")
    harness.expect(page_arn not in granted.get("s3:PutObject", set()), "page is read-only")
    if "COUNTER_KEY" in fn["props"]["env"]:
        counter = "%s/%s" % (fn["props"]["env"]["BUCKET"].replace(".name}", ".arn}"),
                             fn["props"]["env"]["COUNTER_KEY"])
        harness.expect_eq(granted.get("s3:PutObject"), {counter}, "PutObject only on the counter")
        harness.expect_eq(granted.get("s3:GetObject"), {counter, page_arn}, "GetObject")


CHECKS = [check_shape, check_wiring, check_env_matches_handler, check_least_privilege]


def check_contract(arch):
    """Every prop in the resource types' contract, every reference known."""
    stack = load(arch)
    types = contract()
    for rid, r in stack["resources"].items():
        harness.expect(r["type"] in types, "%s: unknown type %s" % (rid, r["type"]))
        unknown = set(r["props"]) - types[r["type"]][0]
        harness.expect(not unknown, "%s: props not in the contract: %s" % (rid, sorted(unknown)))
    for s in strings(stack):
        for ref in REF.findall(s):
            if "." not in ref:
                harness.expect(ref in stack["params"] or ref in BUILTINS, "${%s}: unknown" % ref)
                continue
            rid, attr = ref.split(".", 1)
            harness.expect(rid in stack["resources"], "${%s}: no resource %s" % (ref, rid))
            harness.expect(attr in types[stack["resources"][rid]["type"]][1],
                           "${%s}: %s has no attr %s" % (ref, rid, attr))


def test_template_k8s__contract(moto):
    check_contract("k8s")


def test_template_k8s__nodes(moto):
    """Agents: `nodes` of them (none by default); the nodes' role reads the
    join token and nothing else; the token never in user data."""
    stack = load("k8s")
    harness.expect_eq(stack["params"]["nodes"], 0, "no agents by default")
    res = stack["resources"]
    harness.expect_eq(res["agents"]["props"]["count"], "${nodes}", "agents count")
    _, role = the(stack, "iam.role")
    harness.expect_eq(role["props"], {"service": "ec2.amazonaws.com", "allow": [
        {"action": "ssm:GetParameter", "resource": "${agent_token.arn}"}]}, "node role")
    token_refs = [s for s in strings(stack) if "agent_token." in s]
    harness.expect_eq(sorted(set(token_refs)), ["${agent_token.arn}", "${agent_token.name}"],
                      "only the token's name and ARN are referenced")
    for rid in ("server", "agents"):
        harness.expect_eq(res[rid]["props"]["instance_profile"], "${node_profile.arn}",
                          rid + " profile")


def _bind(check, arch):
    def test(moto):
        check(arch)
    return test


for _arch in ARCHS:
    for _check in CHECKS:
        globals()["test_template_%s__%s" % (_arch.replace("-", "_"), _check.__name__[6:])] = \
            _bind(_check, _arch)
