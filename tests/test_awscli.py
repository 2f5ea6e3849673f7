"""authdemo/awscli.py: the `aws` command for a call, checked by the aws CLI itself (in-process,
nothing sent) after bash has read it, as a person pasting it would have it read."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import zipped

from authdemo.awscli import blob_files, command, default_name, pseudo_name
from authdemo.units.declare import Call, Join, Pseudo, Ref, Secret

# The values the shell variables hold when the commands run (a password bash must not touch).
VALUES = {
    "USER_POOL_ID": "us-west-2_AbC123",
    "APP_CLIENT_ID": "4p2l0ck7",
    "API_ID": "a1b2c3",
    "ROLE_ARN": "arn:aws:iam::123456789012:role/authdemo/x/r",
    "AWS_REGION": "us-west-2",
    "AWS_ACCOUNT_ID": "123456789012",
    "AWS_PARTITION": "aws",
    "AWS_DNS_SUFFIX": "amazonaws.com",
    "PASSWORD": "p@ss w'rd\"$HOME!`x`,a=b",
}
TRICKY = 'it\'s "$HOME" & `id` !x {} *'
ZIP = zipped("index.py", "def handler(event, context):\n    return {}\n")

CALLS = [
    Call(
        "cognito-idp",
        "AdminSetUserPassword",
        {"UserPoolId": Ref("user_pool"), "Username": "demo@example.com", "Password": Secret("password")},
    ),
    Call(
        "cognito-idp",
        "AdminSetUserPassword",
        {"UserPoolId": "p", "Username": "u", "Password": "x", "Permanent": False},
    ),
    Call(
        "cognito-idp",
        "UpdateUserPoolClient",
        {
            "UserPoolId": Ref("user_pool"),
            "ClientId": Ref("app_client"),
            "CallbackURLs": ["http://localhost:8400/callback"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthScopes": ["openid", "authdemo/read"],
            "AccessTokenValidity": 60,
        },
    ),
    Call(
        "apigatewayv2",
        "CreateAuthorizer",
        {
            "ApiId": Ref("api"),
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "Name": TRICKY,
            "JwtConfiguration": {
                "Audience": [Ref("app_client"), 'it\'s "x"'],
                "Issuer": Join(
                    (
                        "https://cognito-idp.",
                        Pseudo("region"),
                        ".",
                        Pseudo("dns_suffix"),
                        "/",
                        Ref("user_pool"),
                    )
                ),
            },
        },
    ),
    Call(
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "authdemo-x-hello",
            "Runtime": "python3.12",
            "Role": Ref("role", "arn"),
            "Handler": "index.handler",
            "Code": {"ZipFile": ZIP},
            "Environment": {"Variables": {"POOL": Ref("user_pool"), "NOTE": TRICKY}},
            "MemorySize": 128,
            "Publish": False,
            "Tags": {"authdemo:stack": "x", "quote": TRICKY},
        },
    ),
    Call(
        "lambda",
        "AddPermission",
        {
            "FunctionName": "authdemo-x-hello",
            "StatementId": "s",
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": Join(
                (
                    "arn:",
                    Pseudo("partition"),
                    ":execute-api:",
                    Pseudo("region"),
                    ":",
                    Pseudo("account"),
                    ":",
                    Ref("api"),
                    "/*",
                )
            ),
        },
    ),
    Call(
        "iam",
        "PutRolePolicy",
        {"RoleName": "r", "PolicyName": "p", "PolicyDocument": '{"Version": "2012-10-17"}'},
    ),
]


def resolved(value: Any) -> Any:
    """The value the call stands for, with VALUES for its variables (the executor's view)."""
    if isinstance(value, Ref):
        return VALUES[default_name(value)]
    if isinstance(value, Pseudo):
        return VALUES[pseudo_name(value)]
    if isinstance(value, Secret):
        return VALUES[value.name.upper()]
    if isinstance(value, Join):
        return "".join(resolved(p) for p in value.parts)
    if isinstance(value, Mapping):
        return {k: resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v) for v in value]
    if isinstance(value, bytes):
        return {"blob": base64.b64encode(value).decode()}
    return value


# Runs in its own process: importing awscli rewrites os.environ["AWS_DATA_PATH"].
_AWS_CLI = """
import base64, json, sys
from awscli.clidriver import create_clidriver

def plain(value):
    if isinstance(value, bytes):
        return {"blob": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value

sent = []
driver = create_clidriver()
driver.session.register("before-parameter-build", lambda params, **_: sent.append(plain(params)))
ok = type("Answer", (), {"status_code": 200, "headers": {}})()
driver.session.register("before-call", lambda **_: (ok, {}))
for argv in json.load(sys.stdin):
    if driver.main(argv[1:]) != 0:
        sys.exit(f"aws CLI refused {argv}")
print(json.dumps(sent), file=sys.stderr)
"""


def sent_by_the_aws_cli(argvs: list[list[str]], cwd: Path) -> list[dict[str, Any]]:
    """What the aws CLI (the test extra's) sends for each argv: its parameters as botocore
    builds the request, every call answered before it leaves (blobs as {"blob": base64})."""
    done = subprocess.run(
        [sys.executable, "-c", _AWS_CLI], input=json.dumps(argvs), cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stderr.splitlines()[-1]))


def as_bash_reads_it(commands: list[str], cwd: Path) -> list[list[str]]:
    """Each command's words after bash (quotes, variables) has read it, VALUES exported."""
    script = "".join("printf '%s\\0' " + c.removeprefix("aws ") + "; printf '\\1\\0'\n" for c in commands)
    out = subprocess.run(
        ["bash", "-c", script],
        env={**VALUES, "HOME": "/nonexistent"},
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    words = out.stdout.decode().split("\0")[:-1]
    argvs, current = [], ["aws"]
    for word in words:
        if word == "\1":
            argvs.append(current)
            current = ["aws"]
        else:
            current.append(word)
    return argvs


def test_the_aws_cli_sends_exactly_the_declared_call(tmp_path):
    """Every command, read by bash and parsed by the aws CLI, sends the call's parameters resolved
    (variables, JSON with variables spliced in, quotes, booleans, numbers, the hoisted zip)."""
    commands = [command(c, secret=lambda s: s.name.upper()) for c in CALLS]
    for call in CALLS:
        for name, blob in blob_files(call).items():
            (tmp_path / name).write_bytes(blob)
    sent = sent_by_the_aws_cli(as_bash_reads_it(commands, tmp_path), tmp_path)
    assert sent == [resolved(dict(c.params)) for c in CALLS]
    assert "--zip-file fileb://authdemo-x-hello.zip" in commands[4]
    assert '--user-pool-id "$USER_POOL_ID"' in commands[0]
    assert (
        '--source-arn "arn:$AWS_PARTITION:execute-api:$AWS_REGION:$AWS_ACCOUNT_ID:$API_ID/*"' in commands[5]
    )
    assert commands[1].endswith("--no-permanent") and "--allowed-o-auth-flows-user-pool-client" in commands[2]


def test_secrets_and_what_the_model_marks_sensitive_are_masked():
    """A Secret is '***' by default or the variable the caller names; without `secret`, every
    literal the model marks sensitive (password, username, environment) is '***' too, the
    others kept; --endpoint-url/--region are appended."""
    live = Call(
        "cognito-idp",
        "AdminCreateUser",
        {"UserPoolId": "pool-1", "Username": "demo@example.com", "TemporaryPassword": "Hunter2!x"},
    )
    text = command(live, endpoint_url="http://127.0.0.1:4599", region="us-west-2")
    assert text == (
        "aws cognito-idp admin-create-user --user-pool-id pool-1 --username '***' "
        "--temporary-password '***' --endpoint-url http://127.0.0.1:4599 --region us-west-2"
    )
    assert "'***'" in command(CALLS[0]) and "demo@example.com" not in command(CALLS[0])
    declared = command(CALLS[0], secret=lambda s: "DEMO_PASSWORD")
    assert declared.endswith('--username demo@example.com --password "$DEMO_PASSWORD"')
    fn = command(CALLS[4])
    assert (
        '"Variables":{"POOL":"\'"$USER_POOL_ID"\'","NOTE":"***"}' in fn
        and "$HOME" not in fn.split("--tags")[0]
    )
    with pytest.raises(ValueError, match="no parameter 'Nope'"):
        command(Call("iam", "CreateRole", {"Nope": 1}))
