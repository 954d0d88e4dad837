#!/usr/bin/env python3
"""What botocore says, for the unit tests to compare deployctl with.

Usage: botocore_oracle.py COMMAND < lines
Each input line is tab-separated; "-" stands for "not set" and "<empty>"
for an empty string. Each output line is tab-separated too.

  services    model env_name config_key -> model signing prefix protocol
              api_version target_prefix json_version service_id env_ok key_ok
              (env_ok/key_ok: "ok" when botocore honours
              AWS_ENDPOINT_URL_<env_name> / [services x] <config_key>, else
              the name botocore uses)
  regions     (no input) -> region partition, for every region that
              partitions.json lists
  partitions  region -> region partition|- dns_suffix|-
              (the partition whose regionRegex matches, after botocore's
              region-name check; no fallback to "aws")
  endpoints   model region -> model region url signing_region
              (scheme://host of a request botocore signs, and the region in
              its credential scope; S3 in us-east-1 regional)
  precedence  flag env_service env_global services profile ignore_env
              ignore_profile -> chosen url|- (for dynamodb)
  s3url       endpoint bucket key force_path -> url (without query)
              endpoint is a region name or an override URL
"""
import json
import os
import re
import sys
import tempfile
import urllib.parse

for _k in list(os.environ):
    if _k.startswith('AWS_'):
        del os.environ[_k]
os.environ['AWS_CONFIG_FILE'] = '/nonexistent/config'
os.environ['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/credentials'
os.environ['AWS_ACCESS_KEY_ID'] = 'AKIDEXAMPLE'
os.environ['AWS_SECRET_ACCESS_KEY'] = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
# deployctl uses the regional S3 endpoint in us-east-1 (as the newer SDKs do).
os.environ['AWS_S3_US_EAST_1_REGIONAL_ENDPOINT'] = 'regional'

import botocore  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.configprovider import ConfiguredEndpointProvider  # noqa: E402
from botocore.exceptions import InvalidRegionError  # noqa: E402
from botocore.utils import validate_region_name  # noqa: E402

DATA = os.path.join(os.path.dirname(botocore.__file__), 'data')

# An operation without required input for each model, to make a request.
OPS = {
    'sts': 'get_caller_identity', 'iam': 'list_users', 'ec2': 'describe_regions',
    'elbv2': 'describe_load_balancers', 'autoscaling': 'describe_auto_scaling_groups',
    'dynamodb': 'list_tables', 'ecs': 'list_clusters', 'logs': 'describe_log_groups',
    'ssm': 'describe_parameters', 'ecr': 'describe_repositories',
    'pricing': 'describe_services', 'resourcegroupstaggingapi': 'get_resources',
    'lambda': 'list_functions', 'apigatewayv2': 'get_apis',
    'efs': 'describe_file_systems', 'eks': 'list_clusters', 's3': 'list_buckets',
}


class Captured(Exception):
    pass


def capture(request, **kwargs):
    auth = request.headers.get('Authorization') or b''
    if isinstance(auth, bytes):
        auth = auth.decode()
    m = re.search(r'Credential=[^/]+/\d+/([^/]+)/', auth)
    raise Captured(request.url, m.group(1) if m else '-')


def send(client, op, **params):
    client.meta.events.register('before-send', capture)
    try:
        getattr(client, op)(**params)
    except Captured as e:
        return e.args
    raise RuntimeError('request was not captured')


def field(v):
    if v == '-':
        return None
    if v == '<empty>':
        return ''
    return v


def lines():
    for line in sys.stdin:
        line = line.rstrip('\n')
        if line:
            yield [field(v) for v in line.split('\t')]


_SESSION = None


def session():
    # One session for all clients: making one registers thousands of
    # handlers. with_config() makes it read the config file again.
    global _SESSION
    if _SESSION is None:
        _SESSION = botocore.session.Session()
    return _SESSION


def client(model, region, **kw):
    return session().create_client(model, region_name=region, **kw)


def out(*cols):
    print('\t'.join('-' if c is None else str(c) for c in cols))


def load_model(model):
    return session().get_service_data(model)['metadata']


def env_honoured(model, env_name):
    os.environ['AWS_ENDPOINT_URL_' + env_name] = 'http://env.oracle.test'
    try:
        got = client(model, 'us-east-1').meta.endpoint_url
    finally:
        del os.environ['AWS_ENDPOINT_URL_' + env_name]
    if got == 'http://env.oracle.test':
        return 'ok'
    return ConfiguredEndpointProvider({}, {}, model, {})._get_service_env_var_name()


def forget_config():
    session()._config = None
    session()._profile_map = None


def with_config(text, fn):
    with tempfile.NamedTemporaryFile('w', suffix='.ini', delete=False) as f:
        f.write(text)
    os.environ['AWS_CONFIG_FILE'] = f.name
    forget_config()
    try:
        return fn()
    finally:
        os.environ['AWS_CONFIG_FILE'] = '/nonexistent/config'
        forget_config()
        os.unlink(f.name)


def key_honoured(model, key):
    text = ('[default]\nservices = oracle\n[services oracle]\n%s =\n'
            '  endpoint_url = http://cfg.oracle.test\n' % key)
    got = with_config(text, lambda: client(model, 'us-east-1').meta.endpoint_url)
    if got == 'http://cfg.oracle.test':
        return 'ok'
    return ConfiguredEndpointProvider({}, {}, model, {})._transformed_service_id.lower()


def cmd_services():
    for model, env_name, key in lines():
        m = load_model(model)
        out(model, m.get('signingName', m['endpointPrefix']), m['endpointPrefix'],
            m['protocol'], m['apiVersion'], m.get('targetPrefix'), m.get('jsonVersion'),
            m['serviceId'], env_honoured(model, env_name), key_honoured(model, key))


def load_partitions():
    with open(os.path.join(DATA, 'partitions.json')) as f:
        return json.load(f)['partitions']


def cmd_regions():
    for p in load_partitions():
        for r in p['regions']:
            if not r.endswith('-global'):
                out(r, p['id'])


def cmd_partitions():
    parts = load_partitions()
    for (region,) in lines():
        try:
            validate_region_name(region)
            ok = bool(region)
        except InvalidRegionError:
            ok = False
        hit = [p for p in parts if ok and re.match(p['regionRegex'], region)]
        if hit:
            out(region, hit[0]['id'], hit[0]['outputs']['dnsSuffix'])
        else:
            out(region, None, None)


def cmd_endpoints():
    for model, region in lines():
        url, signing = send(client(model, region), OPS[model])
        u = urllib.parse.urlsplit(url)
        out(model, region, '%s://%s' % (u.scheme, u.netloc), signing)


def precedence_case(flag, env_s, env_g, services, profile, ign_env, ign_prof):
    for name, v in (('AWS_ENDPOINT_URL_DYNAMODB', env_s), ('AWS_ENDPOINT_URL', env_g),
                    ('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', ign_env)):
        if v is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = v
    text = '[default]\n'
    if profile is not None:
        text += 'endpoint_url = %s\n' % profile
    if ign_prof is not None:
        text += 'ignore_configured_endpoint_urls = %s\n' % ign_prof
    if services is not None:
        text += ('services = oracle\n[services oracle]\ndynamodb =\n'
                 '  endpoint_url = %s\n' % services)
    c = with_config(text, lambda: client('dynamodb', 'us-east-1', endpoint_url=flag))
    got = c.meta.endpoint_url
    return None if got == 'https://dynamodb.us-east-1.amazonaws.com' else got


def cmd_precedence():
    for cols in lines():
        out(precedence_case(*cols))


def cmd_s3url():
    for endpoint, bucket, key, force in lines():
        cfg = {}
        if force == '1' or '://' in endpoint:
            cfg['addressing_style'] = 'path'
        kw = {'config': Config(s3=cfg)}
        region = endpoint
        if '://' in endpoint:
            kw['endpoint_url'] = endpoint
            region = 'eu-west-2'
        c = client('s3', region, **kw)
        if bucket is None:
            url, _ = send(c, 'list_buckets')
        elif key is None:
            url, _ = send(c, 'head_bucket', Bucket=bucket)
        else:
            url, _ = send(c, 'get_object', Bucket=bucket, Key=key)
        out(url.split('?')[0])


COMMANDS = {
    'services': cmd_services, 'regions': cmd_regions, 'partitions': cmd_partitions,
    'endpoints': cmd_endpoints, 'precedence': cmd_precedence, 's3url': cmd_s3url,
}

if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit('usage: botocore_oracle.py %s' % '|'.join(COMMANDS))
    COMMANDS[sys.argv[1]]()
