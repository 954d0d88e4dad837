"""Assume-role and web identity credentials end to end against moto's STS.
Each identity deployctl reports is checked against the one boto3 gets from
the same files and environment (moto answers GetCallerIdentity for
assumed-role credentials with the assumed-role ARN)."""
import json
import os
import subprocess
import sys

from harness import expect, expect_eq, expect_ok, expect_sanitizer_clean

ACCOUNT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
    "Action": "sts:AssumeRole"}]})
# Looks like a JWT; every test checks it never reaches the output.
WEB_TOKEN = ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpkYyJ9."
             "c2lnbmF0dXJlLXNlY3JldC13ZWItaWRlbnRpdHk")
NO_ENV_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}


def out(r):
    return r.stdout.decode()


def err(r):
    return r.stderr.decode()


def role(env, name):
    return env.boto("iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


def write(env, config="", credentials=""):
    os.makedirs(env.home + "/.aws", exist_ok=True)
    with open(env.home + "/.aws/config", "w") as f:
        f.write(config)
    with open(env.home + "/.aws/credentials", "w") as f:
        f.write(credentials)


def boto_arn(env, profile=None, extra_env=None):
    """The caller ARN boto3 gets with the same home, environment and profile."""
    e = dict(env.vars, AWS_DEFAULT_REGION=env.vars["AWS_REGION"])
    for k, v in (extra_env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    code = ("import boto3, sys\n"
            "s = boto3.Session(profile_name=sys.argv[1] or None)\n"
            "print(s.client('sts').get_caller_identity()['Arn'])\n")
    r = subprocess.run([sys.executable, "-c", code, profile or ""], env=e,
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("boto3 failed: %s" % r.stderr.decode()[-2000:])
    return r.stdout.decode().strip()


def whoami(env, *args, extra_env=None):
    r = env.run(*args, "whoami", "-o", "json", env=extra_env)
    expect_ok(r, "whoami")
    expect_sanitizer_clean(r)
    return json.loads(out(r))


def test_credentials_assume_role_with_source_profile(env):
    arn = role(env, "dc-it-deployer")
    write(env, config="[profile dev]\nrole_arn = %s\nsource_profile = base\n"
                      "role_session_name = dc-it-session\n" % arn,
          credentials="[base]\naws_access_key_id = AKIDBASE000000000000\n"
                      "aws_secret_access_key = base-secret\n")
    doc = whoami(env, "--profile", "dev", extra_env=NO_ENV_KEYS)
    want = "arn:aws:sts::%s:assumed-role/dc-it-deployer/dc-it-session" % ACCOUNT
    expect_eq(doc["arn"], want, "arn")
    expect_eq(boto_arn(env, "dev", NO_ENV_KEYS), want, "boto3's arn")
    expect_eq(doc["credentials_source"], "assume-role %s (profile dev)" % arn, "source")
    expect_eq(doc["account"], ACCOUNT)


def test_credentials_assume_role_generates_a_session_name(env):
    arn = role(env, "dc-it-anon")
    write(env, config="[profile dev]\nrole_arn = %s\nsource_profile = base\n" % arn,
          credentials="[base]\naws_access_key_id = AKIDBASE000000000000\n"
                      "aws_secret_access_key = base-secret\n")
    doc = whoami(env, extra_env=dict(NO_ENV_KEYS, AWS_PROFILE="dev"))
    prefix = "arn:aws:sts::%s:assumed-role/dc-it-anon/deployctl-session-" % ACCOUNT
    expect(doc["arn"].startswith(prefix), doc["arn"])
    expect(doc["arn"][len(prefix):].isdigit(), doc["arn"])


def test_credentials_assume_role_chained(env):
    first = role(env, "dc-it-first")
    second = role(env, "dc-it-second")
    write(env, config="[profile base]\naws_access_key_id = AKIDBASE000000000000\n"
                      "aws_secret_access_key = base-secret\n"
                      "[profile hop]\nrole_arn = %s\nsource_profile = base\n"
                      "role_session_name = hop1\n"
                      "[profile final]\nrole_arn = %s\nsource_profile = hop\n"
                      "role_session_name = hop2\n" % (first, second))
    doc = whoami(env, "--profile", "final", extra_env=NO_ENV_KEYS)
    want = "arn:aws:sts::%s:assumed-role/dc-it-second/hop2" % ACCOUNT
    expect_eq(doc["arn"], want, "arn")
    expect_eq(boto_arn(env, "final", NO_ENV_KEYS), want, "boto3's arn")
    expect_eq(doc["credentials_source"], "assume-role %s (profile final)" % second)


def test_credentials_assume_role_credential_source_environment(env):
    arn = role(env, "dc-it-from-env")
    write(env, config="[profile ci]\nrole_arn = %s\ncredential_source = Environment\n"
                      "role_session_name = from-env\n" % arn)
    # --profile makes the chain skip the environment, but credential_source
    # still reads it, as botocore does.
    doc = whoami(env, "--profile", "ci")
    want = "arn:aws:sts::%s:assumed-role/dc-it-from-env/from-env" % ACCOUNT
    expect_eq(doc["arn"], want, "arn")
    expect_eq(boto_arn(env, "ci"), want, "boto3's arn")
    r = env.run("--profile", "ci", "whoami", env=NO_ENV_KEYS)
    expect_eq(r.returncode, 1, "exit without keys in the environment")
    expect("credential_source 'Environment' of profile 'ci' found no credentials" in err(r),
           err(r))


def test_credentials_source_profile_loop_is_a_clear_error(env):
    arn = role(env, "dc-it-loop")
    write(env, config="[profile a]\nrole_arn = %s\nsource_profile = b\n"
                      "[profile b]\nrole_arn = %s\nsource_profile = a\n" % (arn, arn))
    r = env.run("--profile", "a", "whoami", env=NO_ENV_KEYS, timeout=30)
    expect_eq(r.returncode, 1, "exit")
    line = err(r).strip()
    expect_eq(len(line.splitlines()), 1, "one line")
    expect("source_profile settings form a loop (a -> b -> a)" in line, line)
    expect_sanitizer_clean(r)


def test_credentials_mfa_serial_is_refused_without_waiting(env):
    arn = role(env, "dc-it-mfa")
    write(env, config="[profile mfa]\nrole_arn = %s\nsource_profile = base\n"
                      "mfa_serial = arn:aws:iam::%s:mfa/me\n" % (arn, ACCOUNT),
          credentials="[base]\naws_access_key_id = AKIDBASE000000000000\n"
                      "aws_secret_access_key = base-secret\n")
    r = env.run("--profile", "mfa", "whoami", env=NO_ENV_KEYS, input=b"123456\n", timeout=30)
    expect_eq(r.returncode, 1, "exit")
    expect("profile 'mfa' sets mfa_serial" in err(r) and "MFA code" in err(r), err(r))


def web_identity_env(env, arn):
    path = os.path.join(env.home, "token")
    with open(path, "w") as f:
        f.write(WEB_TOKEN)
    return dict(NO_ENV_KEYS, AWS_WEB_IDENTITY_TOKEN_FILE=path, AWS_ROLE_ARN=arn,
                AWS_ROLE_SESSION_NAME="dc-it-web")


def test_credentials_web_identity_from_environment(env):
    arn = role(env, "dc-it-web")
    e = web_identity_env(env, arn)
    r = env.run("--debug", "whoami", "-o", "json", env=e)
    expect_ok(r, "whoami")
    expect_sanitizer_clean(r)
    doc = json.loads(out(r))
    want = "arn:aws:sts::%s:assumed-role/dc-it-web/dc-it-web" % ACCOUNT
    expect_eq(doc["arn"], want, "arn")
    expect_eq(boto_arn(env, None, e), want, "boto3's arn")
    expect_eq(doc["credentials_source"], "web identity %s" % arn)
    # The wire log shows the call, but not the token.
    expect("AssumeRoleWithWebIdentity" in err(r), err(r)[:2000])
    for part in WEB_TOKEN.split("."):
        expect(part not in err(r) and part not in out(r), "token part leaked: " + part)


def test_credentials_web_identity_from_profile(env):
    arn = role(env, "dc-it-web-profile")
    path = os.path.join(env.home, "token")
    with open(path, "w") as f:
        f.write(WEB_TOKEN + "\n")
    write(env, config="[profile k8s]\nrole_arn = %s\nweb_identity_token_file = %s\n"
                      "role_session_name = pod\n" % (arn, path))
    doc = whoami(env, "--profile", "k8s", extra_env=NO_ENV_KEYS)
    want = "arn:aws:sts::%s:assumed-role/dc-it-web-profile/pod" % ACCOUNT
    expect_eq(doc["arn"], want, "arn")


def test_credentials_web_identity_missing_token_file(env):
    e = dict(NO_ENV_KEYS, AWS_WEB_IDENTITY_TOKEN_FILE=env.home + "/nope",
             AWS_ROLE_ARN="arn:aws:iam::%s:role/x" % ACCOUNT)
    r = env.run("whoami", env=e)
    expect_eq(r.returncode, 1)
    expect("web identity token file" in err(r) and "/nope" in err(r), err(r))
    expect_eq(len(err(r).strip().splitlines()), 1)
