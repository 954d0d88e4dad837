"""Bad invocations and bad environments, one table: each row is what a user
did or what their machine was like, the exit code and the one line they must
see. For every row deployctl must print exactly that line on stderr
("deployctl: ..."), nothing on stdout, no sanitizer report and no secret;
leave the state directory as it was (files and git log) and no process
behind. Endpoints that misbehave are real local sockets; a full disk is
RLIMIT_FSIZE (writes fail with EFBIG); a live lock holder is this process
holding the stack's flock.

Each row is its own test, test_bad_input__<name>, so a subset runs with
`run.py --binary ... bad_input__state`."""
import fcntl
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

from harness import ROOT, expect, expect_eq, expect_sanitizer_clean, free_port, path_without

SECRET = "testing-secret-key-never-printed"
PROCESS_SECRET = "process-secret-never-printed"
ARCH = "lambda-python-s3"


# ---- misbehaving endpoints ---------------------------------------------

class RawServer:
    """A loopback socket whose every connection gets `answer(conn)`."""

    def __init__(self, answer):
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            try:
                self.answer(conn)
            except OSError:
                pass

    def stop(self):
        # shutdown wakes the thread blocked in accept(); a close alone would
        # leave it to accept on whatever socket reuses the descriptor next.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(10)
        for c in self.conns:
            c.close()


def read_request(conn):
    """Head and body, so that closing afterwards sends FIN, not RST."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return data


def close(conn):
    conn.shutdown(socket.SHUT_WR)
    conn.close()


def answer_hang(conn):
    pass  # accepted, never answered: the connection stays open until stop()


def answer_garbage(conn):
    read_request(conn)
    conn.sendall(b"\x00\x17\xfe\xffgarbage\x01\x02 not http at all\r\n\r\n")
    close(conn)


def answer_html(status, reason):
    page = ("<!DOCTYPE html><html><head><title>%d %s</title></head><body><h1>%s</h1>"
            "<p>The proxy could not handle your request.</p></body></html>"
            % (status, reason, reason)).encode()

    def answer(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                     % (status, reason.encode(), len(page), page))
        close(conn)
    return answer


def answer_expired_token(conn):
    body = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            b'<Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token '
            b'included in the request is expired</Message></Error>'
            b'<RequestId>4f1e7ad2-0000-4000-8000-000000000001</RequestId></ErrorResponse>')
    read_request(conn)
    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
                 b"x-amzn-RequestId: 4f1e7ad2-0000-4000-8000-000000000001\r\n"
                 b"Connection: close\r\n\r\n%s" % (len(body), body))
    close(conn)


# ---- what a case can set up --------------------------------------------

class Ctx:
    """One case's world: the env overrides, placeholders for argv and the
    expected line, and what to undo afterwards."""

    def __init__(self, env):
        self.env = env
        self.home = env.home
        self.state = os.path.join(env.home, "state")
        self.vars = {"DEPLOYCTL_STATE_DIR": self.state}
        self.fmt = {"home": env.home, "state": self.state, "root": ROOT,
                    "templates": os.path.join(os.path.dirname(env.binary), "..", "..",
                                              "templates")}
        self.popen = {}
        self.undo = []
        self.stdout_checked = True

    def server(self, answer):
        s = RawServer(answer)
        self.undo.append(s.stop)
        self.fmt["url"] = s.url
        self.fmt["authority"] = s.url[len("http://"):]
        return s

    def write(self, rel, text, mode=0o644):
        path = os.path.join(self.home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path


def refusing(ctx):
    port = free_port()  # bound a moment ago, now closed: connecting is refused
    ctx.fmt["url"] = "http://127.0.0.1:%d" % port
    ctx.fmt["authority"] = "127.0.0.1:%d" % port


def hanging(ctx):
    ctx.server(answer_hang)


def garbage(ctx):
    ctx.server(answer_garbage)


def html(status, reason):
    return lambda ctx: ctx.server(answer_html(status, reason))


def expired_token(ctx):
    ctx.server(answer_expired_token)


def no_env_keys(ctx):
    ctx.vars.update({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})


def credentials_file(text):
    def setup(ctx):
        no_env_keys(ctx)
        ctx.write(".aws/credentials", text)
    return setup


def config_file(text):
    return lambda ctx: ctx.write(".aws/config", text)


def config_is_a_folder(ctx):
    os.makedirs(os.path.join(ctx.home, ".aws", "config"))


def credential_process(script):
    """A profile whose credential_process is `script` (a shell script)."""
    def setup(ctx):
        no_env_keys(ctx)
        prog = ctx.write("bin/creds", "#!/bin/sh\n" + script, mode=0o755)
        ctx.write(".aws/config", "[default]\ncredential_process = %s\n" % prog)
        ctx.fmt["prog"] = prog
    return setup


def process_json(**fields):
    doc = {"Version": 1, "AccessKeyId": "AKIDPROCESS000000000",
           "SecretAccessKey": PROCESS_SECRET}
    doc.update(fields)
    return credential_process("cat <<'EOF'\n%s\nEOF\n" % json.dumps(doc))


# The stack the state cases start from: a document as deployctl writes it,
# committed with git as a previous run would have.
GOOD_DOC = {"version": 1, "name": "demo", "arch": ARCH, "target": "aws",
            "region": "us-east-1", "account": "123456789012",
            "params": {"runtime": "python3.12", "memory_mb": 128, "timeout_s": 10},
            "resources": {}, "outputs": {}}


def git(ctx, *args):
    subprocess.run(["git", "-C", ctx.state, "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


def stack_in_state(text=None, commit_text=True):
    """stacks/demo.json holding `text` (GOOD_DOC when None), committed; with
    commit_text False the good document is committed and `text` written
    over it afterwards, as damage on disk."""
    def setup(ctx):
        good = json.dumps(GOOD_DOC, indent=2) + "\n"
        path = os.path.join(ctx.state, "stacks", "demo.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(good if text is None or not commit_text else text)
        git(ctx, "add", "stacks/demo.json")
        git(ctx, "commit", "-q", "-m", "demo: new %s stack in us-east-1" % ARCH)
        ctx.fmt["good"] = subprocess.run(["git", "-C", ctx.state, "rev-parse", "--short=7",
                                          "HEAD"], capture_output=True, text=True).stdout.strip()
        if text is not None and not commit_text:
            with open(path, "w") as f:
                f.write(text)
    return setup


def locked_by_live_process(ctx):
    stack_in_state()(ctx)
    locks = os.path.join(ctx.state, "locks")
    os.makedirs(locks, exist_ok=True)
    fd = os.open(os.path.join(locks, "demo.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, b"%d\n" % os.getpid())
    ctx.fmt["pid"] = os.getpid()
    ctx.undo.append(lambda: os.close(fd))


def state_is_a_file(ctx):
    shutil.rmtree(ctx.state)
    with open(ctx.state, "w") as f:
        f.write("not a folder\n")


def state_is_another_repo(ctx):
    shutil.rmtree(ctx.state)
    os.makedirs(ctx.state)
    subprocess.run(["git", "init", "-q", ctx.state], check=True)
    with open(os.path.join(ctx.state, "README"), "w") as f:
        f.write("someone else's work\n")


BASE_TEMPLATE = {
    "arch": "broken", "summary": "a template with one mistake", "params": {"days": 7},
    "resources": {
        "first": {"type": "logs.log_group", "props": {"name": "/dc/${stack}-first",
                                                      "retention_days": "${days}"}},
        "second": {"type": "logs.log_group", "props": {"name": "/dc/${first.name}-2"}}},
    "outputs": {"url": "${second.name}"}}


def template(change=None, text=None):
    """templates/broken/stack.json: BASE_TEMPLATE after change(doc), or text."""
    def setup(ctx):
        root = os.path.join(ctx.home, "templates")
        shutil.copytree(os.path.join(ROOT, "templates", "common"), os.path.join(root, "common"))
        os.makedirs(os.path.join(root, "broken"))
        doc = json.loads(json.dumps(BASE_TEMPLATE))
        if change:
            change(doc)
        with open(os.path.join(root, "broken", "stack.json"), "w") as f:
            f.write(text if text is not None else json.dumps(doc, indent=2))
        ctx.vars["DEPLOYCTL_TEMPLATES"] = root
        ctx.fmt["tpl"] = os.path.join(root, "broken", "stack.json")
    return setup


def set_prop(res, key, value):
    def change(doc):
        doc["resources"][res]["props"][key] = value
    return change


def without_tool(*tools):
    def setup(ctx):
        ctx.vars["PATH"] = path_without(ctx.env, *tools)
    return setup


def file_size_limit(nbytes):
    """Writes of more than nbytes to any file fail with EFBIG, as on a full
    disk (SIGXFSZ ignored, as a program that checks write(2) sees it)."""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    def setup(ctx):
        ctx.popen["preexec_fn"] = limit
    return setup


def stdout_to_dev_full(ctx):
    ctx.popen["stdout"] = open("/dev/full", "wb")
    ctx.undo.append(ctx.popen["stdout"].close)
    ctx.stdout_checked = False


def both(*setups):
    def setup(ctx):
        for s in setups:
            s(ctx)
    return setup


# ---- the table ---------------------------------------------------------

class Case:
    def __init__(self, name, argv, code, line, setup=None, env=None, seconds=30):
        self.name, self.argv, self.code, self.line = name, argv, code, line
        self.setup, self.env, self.seconds = setup, env or {}, seconds


UP = ["up", ARCH, "--name", "demo"]
FAST = {"AWS_MAX_ATTEMPTS": "2"}  # one retry: enough to show retrying, not minutes
NO_CREDS = ("no AWS credentials found for profile 'default' (tried environment variables, "
            "'~/.aws/credentials', credential_process, '~/.aws/config'): set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws configure'")

CASES = [
    # -- the command line --
    Case("unknown_command", ["frobnicate"], 2,
         "'frobnicate' is not a deployctl command; see 'deployctl --help'"),
    Case("unknown_global_option", ["--frob", "whoami"], 2,
         "unknown option '--frob'; see 'deployctl help whoami'"),
    Case("unknown_command_option", ["up", ARCH, "--frob"], 2,
         "unknown option '--frob'; see 'deployctl help up'"),
    Case("unknown_short_option", ["up", ARCH, "-z"], 2,
         "unknown option '-z'; see 'deployctl help up'"),
    Case("option_without_value", ["up", ARCH, "--name"], 2,
         "option '--name' needs a value (NAME); see 'deployctl help up'"),
    Case("flag_with_value", ["whoami", "--quiet=yes"], 2,
         "option '--quiet=yes' takes no value; see 'deployctl help whoami'"),
    Case("unknown_output_format", ["-o", "yaml", "whoami"], 2,
         "--output must be 'text', 'json' or 'csv', not 'yaml'"),
    Case("help_unknown_command", ["help", "frobnicate"], 2,
         "no command 'frobnicate'; see 'deployctl --help'"),
    Case("up_without_arch", ["up"], 2, "up needs one ARCH; see 'deployctl list'"),
    Case("unknown_arch", ["up", "no-such-arch"], 2,
         "no architecture 'no-such-arch' (no '{templates}/no-such-arch/stack.json'); "
         "see 'deployctl list'"),
    Case("arch_not_a_name", ["up", "../etc"], 2, "'../etc' is not an architecture name"),
    Case("unknown_param", ["up", ARCH, "--param", "nosuch=1"], 2,
         "'%s' has no param 'nosuch'" % ARCH),
    Case("param_without_value", ["up", ARCH, "--param", "runtime"], 2,
         "--param 'runtime' is not of the form NAME=VALUE"),
    Case("param_not_a_number", ["up", ARCH, "-p", "memory_mb=lots"], 2,
         "param 'memory_mb' must be a number, not 'lots'"),
    Case("parallel_out_of_range", ["up", ARCH, "--parallel", "0"], 2,
         "--parallel must be a number from 1 to 64, not '0'"),
    Case("unknown_target", ["up", ARCH, "--target", "mars"], 2,
         "--target must be 'aws' or 'local', not 'mars'"),
    Case("invalid_stack_name", ["up", ARCH, "--name", "Bad_Name"], 1,
         "invalid stack name 'Bad_Name': use 1 to 40 lowercase letters, digits and hyphens, "
         "starting with a letter or digit"),
    Case("status_of_unknown_stack", ["status", "nosuch"], 2,
         "no stack 'nosuch'; see 'deployctl list'"),
    Case("destroy_unknown_stack", ["destroy", "nosuch"], 1, "no stack 'nosuch' in state"),
    Case("history_of_unknown_stack", ["history", "nosuch"], 2,
         "no stack 'nosuch' in the history; see 'deployctl list'"),
    Case("read_timeout_not_a_number", ["--cli-read-timeout", "soon", "whoami"], 2,
         "--cli-read-timeout must be a whole number of seconds from 1 to 3600, not 'soon'"),
    # -- region --
    Case("invalid_region_option", ["--region", "not a region", "whoami"], 1,
         "region 'not a region' (from --region) is not a valid region name: expected "
         "letters, digits and hyphens, like 'us-east-1'"),
    Case("invalid_region_env", ["whoami"], 1,
         "region 'us-east-1/../x' (from AWS_REGION) is not a valid region name: expected "
         "letters, digits and hyphens, like 'us-east-1'", env={"AWS_REGION": "us-east-1/../x"}),
    Case("invalid_region_up", UP + ["--region", "eu_west_2"], 1,
         "region 'eu_west_2' (from --region) is not a valid region name: expected "
         "letters, digits and hyphens, like 'us-east-1'"),
    Case("no_region", ["whoami"], 1,
         "no AWS region configured: pass --region, set AWS_REGION, or add 'region = ...' to "
         "the profile in ~/.aws/config", env={"AWS_REGION": None}),
    # -- credentials and config --
    Case("no_credentials", ["whoami"], 1, NO_CREDS, setup=no_env_keys),
    Case("no_credentials_up", UP, 1, NO_CREDS, setup=no_env_keys),
    Case("key_without_secret", ["whoami"], 1,
         "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or unset "
         "AWS_ACCESS_KEY_ID to use profile 'default'", env={"AWS_SECRET_ACCESS_KEY": None}),
    Case("unknown_profile", ["--profile", "nope", "whoami"], 1,
         "profile 'nope' (from --profile) is not in '~/.aws/config' or '~/.aws/credentials'"),
    Case("malformed_credentials_file", ["whoami"], 1,
         "'~/.aws/credentials' line 2: expected 'key = value'",
         setup=credentials_file("[default]\naws_access_key_id\naws_secret_access_key = %s\n"
                                % SECRET)),
    Case("credentials_file_without_secret", ["whoami"], 1, "profile 'default' in '~/.aws/credentials' has aws_access_key_id but no aws_secret_access_key",
         setup=credentials_file("[default]\naws_access_key_id = AKIDFILE000000000000\n")),
    Case("malformed_access_key", ["whoami"], 1, "header 'Authorization' is not a valid HTTP field",
         env={"AWS_ACCESS_KEY_ID": "AKID\r\nX-Injected: 1"}),
    Case("process_not_json", ["whoami"], 1, "credential_process '{prog}' of profile 'default' printed invalid JSON (line 2, column 0)",
         setup=credential_process("echo '{\"Version\": 1, \"SecretAccessKey\": \"%s\"'\n"
                                  % PROCESS_SECRET)),
    Case("process_fails", ["whoami"], 1, "credential_process '{prog}' of profile 'default' failed with exit status 3: sso session expired",
         setup=credential_process("echo 'sso session expired' >&2\nexit 3\n")),
    Case("process_expired", ["whoami"], 1, 'the AWS credentials from credential_process (profile default) expired at 2001-01-01T00:00:00Z; refresh them',
         setup=process_json(SessionToken="process-token-never-printed",
                            Expiration="2001-01-01T00:00:00Z")),
    Case("endpoint_says_token_expired", ["whoami"], 1, 'ExpiredToken: The security token included in the request is expired (HTTP 403, request id 4f1e7ad2-0000-4000-8000-000000000001)',
         env={"AWS_ENDPOINT_URL": "{url}", "AWS_SESSION_TOKEN": "expired-token-never-printed"},
         setup=expired_token),
    Case("unreadable_config", ["whoami"], 1,
         "cannot read '{home}/.aws/config': Is a directory", setup=config_is_a_folder),
    Case("malformed_config", ["whoami"], 1,
         "'~/.aws/config' line 1: section header is missing its ']'",
         setup=config_file("[profile x\nregion = us-east-1\n")),
    Case("max_attempts_not_a_number", ["whoami"], 1,
         "max_attempts 'abc' (from AWS_MAX_ATTEMPTS) is not a whole number of at least 1",
         env={"AWS_MAX_ATTEMPTS": "abc"}),
    Case("endpoint_not_http", ["whoami"], 1,
         "endpoint url 'ftp://x' from AWS_ENDPOINT_URL must start with http:// or https://",
         env={"AWS_ENDPOINT_URL": "ftp://x"}),
    # -- endpoints --
    Case("endpoint_refuses", ["whoami"], 1,
         "cannot connect to '{authority}': Connection refused", setup=refusing,
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_refuses_up", UP, 1,
         "cannot connect to '{authority}': Connection refused", setup=refusing,
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_hangs", ["--cli-read-timeout", "1", "whoami"], 1, "request to '{authority}' timed out: no answer in 1 s (--cli-read-timeout)", setup=hanging,
         env={"AWS_MAX_ATTEMPTS": "1", "AWS_ENDPOINT_URL": "{url}"}, seconds=10),
    Case("endpoint_hangs_up", ["--cli-read-timeout", "1", *UP], 1, "request to '{authority}' timed out: no answer in 1 s (--cli-read-timeout)", setup=hanging,
         env={"AWS_MAX_ATTEMPTS": "1", "AWS_ENDPOINT_URL": "{url}"}, seconds=10),
    Case("endpoint_answers_garbage", ["whoami"], 1, "'{authority}' answered with something that is not HTTP; check the endpoint", setup=garbage,
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_answers_garbage_up", UP, 1, "'{authority}' answered with something that is not HTTP; check the endpoint", setup=garbage,
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_html_200", ["whoami"], 1, 'STS GetCallerIdentity answered without an account or ARN', setup=html(200, "OK"),
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_html_403", ["whoami"], 1, "UnknownError: an HTML page ('403 Forbidden'), not an AWS error: check the endpoint or proxy (HTTP 403)", setup=html(403, "Forbidden"),
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_html_502", ["whoami"], 1, "UnknownError: an HTML page ('502 Bad Gateway'), not an AWS error: check the endpoint or proxy (HTTP 502)", setup=html(502, "Bad Gateway"),
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_html_502_up", UP, 1, "UnknownError: an HTML page ('502 Bad Gateway'), not an AWS error: check the endpoint or proxy (HTTP 502)", setup=html(502, "Bad Gateway"),
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    Case("endpoint_html_200_up", UP, 1, 'STS GetCallerIdentity answered without an account', setup=html(200, "OK"),
         env=dict(FAST, AWS_ENDPOINT_URL="{url}")),
    # -- state --
    Case("state_truncated", ["status", "demo"], 1, 'state file \'{state}/stacks/demo.json\' is corrupt (line 1: premature end of input near \'"\'); the last good version is commit {good} (\'demo: new lambda-python-s3 stack in us-east-1\'): restore it with \'git -C {state} checkout {good} -- stacks/demo.json\'',
         setup=stack_in_state(json.dumps(GOOD_DOC)[:60], commit_text=False)),
    Case("state_truncated_up", UP, 1, 'state file \'{state}/stacks/demo.json\' is corrupt (line 1: premature end of input near \'"\'); the last good version is commit {good} (\'demo: new lambda-python-s3 stack in us-east-1\'): restore it with \'git -C {state} checkout {good} -- stacks/demo.json\'',
         setup=stack_in_state(json.dumps(GOOD_DOC)[:60], commit_text=False)),
    Case("state_truncated_committed", ["destroy", "demo"], 1, 'state file \'{state}/stacks/demo.json\' is corrupt (line 1: premature end of input near \'"\'), and no committed version of it is readable; see \'git -C {state} log -- stacks/demo.json\'',
         setup=stack_in_state(json.dumps(GOOD_DOC)[:60])),
    Case("state_from_newer_version", UP, 1, "state file '{state}/stacks/demo.json' has version 2, newer than this deployctl reads (1); upgrade deployctl",
         setup=stack_in_state(json.dumps(dict(GOOD_DOC, version=2)))),
    Case("state_from_newer_version_status", ["status", "demo"], 1, "state file '{state}/stacks/demo.json' has version 2, newer than this deployctl reads (1); upgrade deployctl",
         setup=stack_in_state(json.dumps(dict(GOOD_DOC, version=2)))),
    Case("state_locked_up", UP, 1,
         "stack 'demo' is locked by another deployctl run (pid {pid}); wait for it to finish",
         setup=locked_by_live_process),
    Case("state_locked_destroy", ["destroy", "demo"], 1,
         "stack 'demo' is locked by another deployctl run (pid {pid}); wait for it to finish",
         setup=locked_by_live_process),
    Case("state_dir_is_a_file", ["list"], 1, "state directory '{state}' is not a directory", setup=state_is_a_file),
    Case("state_dir_is_another_repo", UP, 1, "'{state}' is a git repository but not a deployctl state directory; use another --state-dir", setup=state_is_another_repo),
    # -- templates --
    Case("template_cycle", ["up", "broken"], 2, "template '{tpl}': resources 'first', 'second' reference each other in a cycle",
         setup=template(set_prop("first", "name", "/dc/${second.name}"))),
    Case("template_unknown_reference", ["up", "broken"], 2, "template '{tpl}': second.props.name references unknown resource 'nosuch'",
         setup=template(set_prop("second", "name", "/dc/${nosuch.name}"))),
    Case("template_unknown_param", ["up", "broken"], 2, "template '{tpl}': second.props.name names unknown param 'nosuch'",
         setup=template(set_prop("second", "name", "/dc/${nosuch}"))),
    Case("template_bad_reference", ["up", "broken"], 2, "template '{tpl}': second.props.name: bad reference '${{first.}}': use ${{resource.attr}} or ${{param}}",
         setup=template(set_prop("second", "name", "/dc/${first.}"))),
    Case("template_unknown_type", ["up", "broken"], 2, "template '{tpl}': resource 'second' has unknown type 'ec2.spaceship'",
         setup=template(lambda d: d["resources"]["second"].update(type="ec2.spaceship"))),
    Case("template_not_json", ["up", "broken"], 2, "template '{tpl}' line 3: string or '}}' expected near end of file",
         setup=template(text='{"arch": "broken", "resources": {\n  "first": {\n')),
    Case("template_without_resources", ["up", "broken"], 2, 'template \'{tpl}\' has no "resources" object',
         setup=template(lambda d: d.pop("resources"))),
    # -- toolchains --
    Case("no_cpp_compiler", ["up", "lambda-cpp-dynamodb", "--name", "demo"], 1, "lambda-cpp-dynamodb needs g++: install it with 'apt-get install g++ libcurl4-openssl-dev libssl-dev'",
         setup=without_tool("g++"), seconds=120),
    Case("no_cargo", ["up", "lambda-rust-dynamodb", "--name", "demo"], 1, "lambda-rust-dynamodb needs cargo: install it with 'apt-get install cargo' or rustup",
         setup=without_tool("cargo"), seconds=120),
    # -- full disk --
    Case("disk_full_new_stack", UP, 1, "cannot write state file '{state}/stacks/demo.json': File too large", setup=file_size_limit(64)),
    Case("disk_full_existing_stack", UP + ["--parallel", "1"], 1, "up of stack 'demo' failed (3 resources): bucket: cannot write state file '{state}/stacks/demo.json': File too large",
         setup=both(stack_in_state(), file_size_limit(64))),
    Case("disk_full_stdout", ["-q", "list"], 1,
         "cannot write the output: No space left on device", setup=stdout_to_dev_full),
]


# ---- the checks --------------------------------------------------------

def snapshot(state):
    """The state directory as files and contents (the lock files excepted:
    they are made once and kept by design), and its git log."""
    if not os.path.isdir(state):
        return ({state: os.path.exists(state)}, "")
    files = {}
    for folder, dirs, names in os.walk(state):
        rel = os.path.relpath(folder, state)
        if rel == "locks":
            dirs[:] = []
            continue
        for n in names:
            p = os.path.join(folder, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, state)] = hashlib.sha256(f.read()).hexdigest()
    log = subprocess.run(["git", "-C", state, "log", "--all", "--format=%H %s"],
                         capture_output=True, text=True).stdout
    return files, log


def stray_processes(mark):
    """Processes still running with this run's mark in their environment."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if mark.encode() in f.read():
                    with open("/proc/%s/cmdline" % pid, "rb") as c:
                        found.append("%s %s" % (pid, c.read().replace(b"\0", b" ").decode()))
        except OSError:
            pass
    return found


def fill(v, fmt):
    return v.format(**fmt) if isinstance(v, str) else v


def run_case(env, case):
    ctx = Ctx(env)
    init = env.run("-q", "list", env=ctx.vars)  # the state directory, as any first run makes it
    expect_eq(init.returncode, 0, "making the state directory")
    try:
        if case.setup:
            case.setup(ctx)
        mark = "dc-bad-input-" + uuid.uuid4().hex
        run_env = dict(ctx.vars, DC_BAD_INPUT_MARK=mark)
        run_env.update({k: fill(v, ctx.fmt) for k, v in case.env.items()})
        argv = [fill(a, ctx.fmt) for a in case.argv]
        before = snapshot(ctx.state)
        started = time.monotonic()
        r = env.run(*argv, env=run_env, timeout=case.seconds + 60, **ctx.popen)
        took = time.monotonic() - started
        after = snapshot(ctx.state)
        stray = stray_processes(mark)
    finally:
        for undo in reversed(ctx.undo):
            undo()
    err = r.stderr.decode(errors="replace")
    out = (r.stdout or b"").decode(errors="replace")
    if os.environ.get("DC_BAD_INPUT_PROBE"):
        print("PROBE %s rc=%d %.1fs\n  %r\n  out=%r" % (case.name, r.returncode, took, err,
                                                        out[:200]))
    expect_sanitizer_clean(r)
    want = "deployctl: " + fill(case.line, ctx.fmt) + "\n"
    problems = []
    if err != want:
        problems.append("stderr: got %r, want %r" % (err, want))
    if r.returncode != case.code:
        problems.append("exit code: got %d, want %d" % (r.returncode, case.code))
    if ctx.stdout_checked and out:
        problems.append("stdout: got %r, want nothing" % out[:400])
    if any(s in err + out for s in (SECRET, PROCESS_SECRET, "token-never-printed")):
        problems.append("a secret was printed")
    if before != after:
        problems.append("the state changed:\nbefore %r\nafter  %r" % (before, after))
    if stray:
        problems.append("processes left behind: %r" % stray)
    if took >= case.seconds:
        problems.append("took %.1f s, more than %d s" % (took, case.seconds))
    expect(not problems, "\n".join(problems))


def make_test(case):
    def test(env):
        run_case(env, case)
    test.__name__ = "test_bad_input__" + case.name
    return test


for _case in CASES:
    globals()["test_bad_input__" + _case.name] = make_test(_case)
