"""Write the seed corpora tests/fuzz/corpus/<name>/ from real shapes: AWS's
documented answers, botocore's models and examples, the SigV4 test suite,
our templates and state files. Run from the repository root; rerunning
rewrites the same files (names are content hashes)."""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


CREDS = {"AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
         "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "Token": "IQoJb3JpZ2luX2VjEXAMPLETOKEN", "Expiration": "2024-05-01T12:00:00Z"}


def credentials():
    # botocore ProcessProvider's documented reply.
    p = {"Version": 1, "AccessKeyId": CREDS["AccessKeyId"],
         "SecretAccessKey": CREDS["SecretAccessKey"], "SessionToken": CREDS["Token"],
         "Expiration": CREDS["Expiration"]}
    put("credential_process", json.dumps(p, indent=2))
    put("credential_process", json.dumps({k: v for k, v in p.items()
                                          if k not in ("SessionToken", "Expiration")}))
    put("credential_process", json.dumps(dict(p, Expiration="2024-05-01T12:00:00.123+02:00")))
    put("credential_process", json.dumps(dict(p, Version=2)))
    put("credential_process", json.dumps(dict(p, Expiration=None)))
    put("credential_process", '{"Version": 1.0, "AccessKeyId": "", "SecretAccessKey": 5}')
    # ECS/EKS container endpoint (botocore ContainerMetadataFetcher).
    c = {"RoleArn": "arn:aws:iam::123456789012:role/task", **CREDS}
    put("container", json.dumps(c, indent=2))
    put("container", json.dumps(dict(c, Expiration="2024-05-01T12:00:00.000+00:00")))
    put("container", json.dumps({"code": "Forbidden", "message": "nope"}))
    put("container", "[1, 2]")
    # IMDS: role listing NUL credentials (botocore InstanceMetadataFetcher).
    i = {"Code": "Success", "LastUpdated": "2024-05-01T06:00:00Z", "Type": "AWS-HMAC", **CREDS}
    put("imds", "my-instance-role\0" + json.dumps(i, indent=2))
    put("imds", "role+=,.@_-\n\0" + json.dumps(i))
    put("imds", "r\0" + json.dumps({"Code": "AssumeRoleUnauthorizedAccess",
                                     "Message": "EC2 cannot assume the role",
                                     "LastUpdated": "2024-05-01T06:00:00Z"}))
    put("imds", "r\0" + json.dumps(dict(i, Expiration="tomorrow")))
    # STS answers, as in AWS's API reference.
    for action in ("AssumeRole", "AssumeRoleWithWebIdentity"):
        put("sts", """<%(a)sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <%(a)sResult>
    <SourceIdentity>DevUser123</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/John</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:John</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>%(k)s</AccessKeyId>
      <SecretAccessKey>%(s)s</SecretAccessKey>
      <SessionToken>%(t)s</SessionToken>
      <Expiration>%(e)s</Expiration>
    </Credentials>
    <PackedPolicySize>8</PackedPolicySize>
  </%(a)sResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</%(a)sResponse>
""" % dict(a=action, k=CREDS["AccessKeyId"], s=CREDS["SecretAccessKey"], t=CREDS["Token"],
           e=CREDS["Expiration"]))
    put("sts", "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A"
               "</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>")


def main():
    which = sys.argv[1:]
    for name, fn in GENERATORS:
        if not which or name in which:
            fn()


GENERATORS = [("credentials", credentials)]

if __name__ == "__main__":
    main()
