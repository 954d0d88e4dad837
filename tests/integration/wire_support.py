"""Requests of the JSON (X-Amz-Target) and query (Action=...) protocols
checked against botocore's models, beside resource_support's REST check: a
Recorder that also keeps the target header, and a check of every recorded
request of any protocol. Used by the fargate-ecs resource and stack tests."""
import json
import re
import urllib.parse

import resource_support
from harness import expect
from resource_support import MODEL_NAMES, Recorder

# Signing names of the services these tests talk to, to botocore's model names.
SIGNING_TO_MODEL = dict(MODEL_NAMES, elasticloadbalancing="elbv2", elasticfilesystem="efs",
                        ecs="ecs", ec2="ec2", logs="logs", sts="sts", ssm="ssm",
                        tagging="resourcegroupstaggingapi")


class WireRecorder(Recorder):
    """resource_support.Recorder that also records X-Amz-Target."""

    def _answer(self, method, raw_path, headers, body):
        out = super()._answer(method, raw_path, headers, body)
        target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), None)
        with self.lock:
            self.requests[-1]["target"] = target
        return out


def models():
    resource_support.MODELS = resource_support.MODELS or resource_support.Models()
    return resource_support.MODELS


def operation_of(r):
    """(service model name, operation model, decoded input) of one request."""
    service = SIGNING_TO_MODEL.get(r["service"], r["service"])
    model = models().model(service)
    if r.get("target"):
        op = model.operation_model(r["target"].split(".")[-1])
        return service, op, json.loads(r["body"] or b"{}")
    if model.metadata["protocol"] in ("query", "ec2"):
        form = urllib.parse.parse_qs(r["body"].decode(), keep_blank_values=True)
        form = {k: v[0] for k, v in form.items()}
        op = model.operation_model(form.pop("Action"))
        form.pop("Version", None)
        return service, op, form
    op = models().operation(service, r["method"], r["raw_path"])
    return service, op, json.loads(r["body"]) if r["body"] else None


def _wire_name(key, member, ec2):
    """A member's name on the wire: EC2 takes queryName, else locationName
    capitalised; the query protocol takes locationName (botocore's
    serializers)."""
    ser = member.serialization
    if ec2:
        if ser.get("queryName"):
            return ser["queryName"]
        name = ser.get("name")
        return name[0].upper() + name[1:] if name else key
    return ser.get("name", key)


def _query_problem(shape, parts, value, where, ec2=False):
    t = shape.type_name
    if t == "structure":
        wire = {_wire_name(k, m, ec2): m for k, m in shape.members.items()}
        if not parts or parts[0] not in wire:
            return "%s: %r is not a member of %s" % (where, parts[:1], shape.name)
        return _query_problem(wire[parts[0]], parts[1:], value, where + "." + parts[0], ec2)
    if t == "list":
        # EC2 always flattens lists: Name.N.
        flat = ec2 or shape.serialization.get("flattened")
        if not flat and (len(parts) < 2 or parts[0] != "member"):
            return "%s: list members must be .member.N" % where
        idx, rest = (parts[0], parts[1:]) if flat else (parts[1], parts[2:])
        if not idx.isdigit() or int(idx) < 1:
            return "%s: bad list index %r" % (where, idx)
        return _query_problem(shape.member, rest, value, where + "[%s]" % idx, ec2)
    if parts:
        return "%s: %s is not a structure" % (where, shape.name)
    if t in ("integer", "long") and not re.fullmatch(r"-?\d+", value):
        return "%s: %r is not an integer" % (where, value)
    if t == "boolean" and value not in ("true", "false"):
        return "%s: %r is not a boolean" % (where, value)
    if t == "string" and shape.enum and value not in shape.enum:
        return "%s: %r not one of %s" % (where, value, shape.enum)
    return None


def query_problems(op, form, ec2=False):
    shape = op.input_shape
    out = []
    for req in shape.required_members if shape else []:
        name = _wire_name(req, shape.members[req], ec2)
        if not any(k == name or k.startswith(name + ".") for k in form):
            out.append("%s: required member %s missing" % (op.name, req))
    for key, value in form.items():
        p = _query_problem(shape, key.split("."), value, op.name, ec2) if shape else \
            "%s takes no input" % op.name
        if p:
            out.append(p)
    return out


def check_wire(rec, services=None):
    """Every recorded request (of `services`, signing names, when given) is
    an operation of its service and fits its input shape. Returns
    [(service, operation, input)]."""
    out, problems = [], []
    for r in rec.requests:
        if services and r["service"] not in services:
            continue
        service, op, data = operation_of(r)
        if op is None:
            problems.append("no %s operation for %s %s" % (service, r["method"], r["raw_path"]))
            continue
        out.append((service, op.name, data))
        protocol = models().model(service).metadata["protocol"]
        if protocol in ("query", "ec2"):
            problems += query_problems(op, data, protocol == "ec2")
        else:
            problems += models().problems(op, data)
    expect(not problems, "requests that do not fit botocore's model:\n" + "\n".join(problems))
    return out


def inputs_of(calls, operation):
    return [data for _, name, data in calls if name == operation]


def changing(calls):
    reads = ("Get", "Describe", "List")
    return [name for _, name, _ in calls if not name.startswith(reads)]
