"""A call that took effect but whose answer was lost (the fault proxy resets
the connection after moto answered), so deployctl sends it again: the
retry meets its own effect. Each test places one such fault (--lose) where
the fault soak (tests/soak/faults.py) found a leftover or a failed up."""
from harness import FaultProxy, expect, expect_eq
from resource_driver import drive
from stacks import destroy, up, what_exists
from test_resources_core import role_props
from test_resources_ec2 import default_vpc, rules_of


def lost_once(proxy):
    counts = proxy.counts()
    expect_eq(counts.get("lost"), 1, "answers lost (%r)" % counts)


def test_lost_answers_security_group_ingress(env):
    """Authorize answered InvalidPermission.Duplicate on its retry, Revoke
    InvalidPermission.NotFound: both are the wanted rules in place."""
    vpc = default_vpc(env)
    props = {"vpc": vpc, "ingress": [{"port": 80, "cidr": "0.0.0.0/0"},
                                     {"port": 443, "cidr": "0.0.0.0/0"}]}
    proxy = FaultProxy(env.moto.url, rate=0.0, lose="AuthorizeSecurityGroupIngress")
    try:
        r = drive(env, "create", "ec2.security_group", props, logical="web",
                  extra_env={"AWS_ENDPOINT_URL": proxy.url})
        expect(r.returncode == 0, "create: %s" % r.stderr[-1000:])
        lost_once(proxy)
    finally:
        proxy.stop()
    attrs = r.value()
    expect_eq(rules_of(env, attrs["id"]), {("tcp", 80, 80, "0.0.0.0/0"),
                                           ("tcp", 443, 443, "0.0.0.0/0")}, "rules after create")
    new = dict(props, ingress=props["ingress"][:1])
    proxy = FaultProxy(env.moto.url, rate=0.0, lose="RevokeSecurityGroupIngress")
    try:
        r = drive(env, "update", "ec2.security_group", new, old_props=props, attrs=attrs,
                  logical="web", extra_env={"AWS_ENDPOINT_URL": proxy.url})
        expect(r.returncode == 0, "update: %s" % r.stderr[-1000:])
        lost_once(proxy)
    finally:
        proxy.stop()
    expect_eq(rules_of(env, attrs["id"]), {("tcp", 80, 80, "0.0.0.0/0")}, "rules after update")


def test_lost_answers_role_policy_delete(env):
    """A retried DeleteRolePolicy meets NoSuchEntity: the role must still go."""
    r = drive(env, "create", "iam.role", role_props(), logical="role").ok("create")
    attrs = r.value()
    proxy = FaultProxy(env.moto.url, rate=0.0, lose="DeleteRolePolicy")
    try:
        r = drive(env, "delete", "iam.role", attrs=attrs, logical="role",
                  extra_env={"AWS_ENDPOINT_URL": proxy.url})
        expect(r.returncode == 0, "delete: %s" % r.stderr[-1000:])
        lost_once(proxy)
    finally:
        proxy.stop()
    names = [x["RoleName"] for x in env.boto("iam").list_roles()["Roles"]]
    expect(attrs["name"] not in names, "role %r left: %r" % (attrs["name"], names))


def test_lost_answers_create_api_twin_destroyed(env):
    """CreateApi takes no idempotency token: its retry makes a second API
    that state never hears of. destroy must leave neither."""
    name = "lost-api"
    proxy = FaultProxy(env.moto.url, rate=0.0, lose="POST /v2/apis")
    try:
        up(env, "lambda-python-s3", name, url=proxy.url)
        lost_once(proxy)
    finally:
        proxy.stop()
    apis = [a for a in env.boto("apigatewayv2").get_apis()["Items"]
            if a["Name"].startswith(name)]
    expect_eq(len(apis), 2, "APIs after the retried CreateApi (the twin is the point)")
    destroy(env, name)
    expect_eq(what_exists(env, name), [], "left after destroy")


def test_lost_answers_efs_mount_target(env):
    """A retried CreateMountTarget meets MountTargetConflict: its own mount
    target, taken as made."""
    from test_resources_fargate import network
    _, subnets, sg = network(env)
    fs = env.boto("efs").create_file_system(CreationToken="lost-fs")["FileSystemId"]
    props = {"file_system": fs, "subnets": subnets[:1], "security_groups": [sg]}
    proxy = FaultProxy(env.moto.url, rate=0.0, lose="POST /2015-02-01/mount-targets")
    try:
        r = drive(env, "create", "efs.mount_target", props, logical="mounts",
                  extra_env={"AWS_ENDPOINT_URL": proxy.url})
        expect(r.returncode == 0, "create: %s" % r.stderr[-1000:])
        lost_once(proxy)
    finally:
        proxy.stop()
    mts = env.boto("efs").describe_mount_targets(FileSystemId=fs)["MountTargets"]
    expect_eq([m["id"] for m in r.value()["mount_targets"]],
              [m["MountTargetId"] for m in mts], "the mount target recorded is the one made")


def test_lost_answers_instance_profile_role(env):
    """A retried AddRoleToInstanceProfile finds the profile full
    (LimitExceeded) with the role the first attempt put there: success."""
    role = drive(env, "create", "iam.role", role_props(), logical="role").ok("create").value()
    proxy = FaultProxy(env.moto.url, rate=0.0, lose="AddRoleToInstanceProfile")
    try:
        r = drive(env, "create", "iam.instance_profile", {"role": role["name"]},
                  logical="profile", extra_env={"AWS_ENDPOINT_URL": proxy.url})
        expect(r.returncode == 0, "create: %s" % r.stderr[-1000:])
        lost_once(proxy)
    finally:
        proxy.stop()
    got = env.boto("iam").get_instance_profile(InstanceProfileName=r.value()["name"])
    expect_eq([x["RoleName"] for x in got["InstanceProfile"]["Roles"]], [role["name"]],
              "the profile's roles")
