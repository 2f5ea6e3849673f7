"""Issue 3's end-to-end: `local start`, `up --local`, the guide's own aws-cli and curl commands
against the printed URLs, `test --local`, `down --local`, then an empty embedded AWS, `local stop`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import free_port, leftovers, run, run_json

from authdemo.local import daemon

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def port():
    port = free_port()
    yield port
    daemon.stop()


def _initiate_auth(info: dict, password: str) -> str:
    """The guide's `aws cognito-idp initiate-auth`, run by the aws CLI (the test extra installs it).

    InitiateAuth is a call AWS accepts unsigned, so `--no-sign-request` needs no credentials."""
    aws = shutil.which("aws")
    if aws is None:
        pytest.fail("the aws CLI is missing: `uv sync` (or `pip install -e '.[test]'`) installs it")
    proc = subprocess.run(
        [
            aws,
            "cognito-idp",
            "initiate-auth",
            "--endpoint-url",
            info["endpoint_url"],
            "--region",
            info["region"],
            "--no-sign-request",
            "--auth-flow",
            "USER_PASSWORD_AUTH",
            "--client-id",
            info["client_id"],
            "--auth-parameters",
            f"USERNAME={info['username']},PASSWORD={password}",
            "--query",
            "AuthenticationResult.IdToken",
            "--output",
            "text",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _curl(url: str, token: str | None = None) -> tuple[int, dict]:
    """The guide's curl (requests when curl is missing), returning status and JSON body."""
    curl = shutil.which("curl")
    if curl:
        header = ["-H", f"Authorization: Bearer {token}"] if token else []
        proc = subprocess.run(
            [curl, "-s", "-w", "\n%{http_code}", *header, url], capture_output=True, text=True, timeout=30
        )
        body, status = proc.stdout.rsplit("\n", 1)
        return int(status), json.loads(body)
    response = requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=30)
    return response.status_code, response.json()


def test_guide_commands_work_verbatim_against_the_embedded_aws(port):
    """The whole offline session, ending with nothing left in the embedded AWS."""
    start = run("local", "start", "--port", str(port))
    assert start.exit_code == 0, start.output
    url = start.stdout.strip()
    assert url == f"http://127.0.0.1:{port}"
    assert daemon.status().started_by == "start"

    local = ("--local", "--port", str(port))
    up = run("up", *local)
    assert up.exit_code == 0, up.output
    info = run_json("status", *local, "--show-password")
    assert info["endpoint_url"] == url and info["api_url"].startswith(url + "/_aws/execute-api/")
    assert f"initiate-auth --endpoint-url {url}" in up.stdout
    assert f"curl -s -w '\\n' {info['api_url']}/protected\n" in up.stdout

    token = _initiate_auth(info, info["password"])
    assert _curl(info["api_url"] + "/protected") == (401, {"message": "Unauthorized"})
    status, body = _curl(info["api_url"] + "/protected", token)
    assert (
        status == 200
        and body["message"] == "Hello from protected API!"
        and body["user"] == "demo@example.com"
    )

    test = run("test", *local)
    assert test.exit_code == 0, test.output

    down = run("down", *local)
    assert down.exit_code == 0, down.output
    assert leftovers(endpoint_url=url, credentials=daemon.server_credentials(daemon.status())) == {}
    assert daemon.status() is not None  # started by `local start`: runs until `local stop`

    stop = run("local", "stop")
    assert stop.exit_code == 0 and daemon.status() is None
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_authdemo/health", timeout=2)


def test_down_local_keeps_the_server_while_stacks_remain_and_forgets_once_it_is_gone(port):
    """`up --local` starts the server itself; `down --local` keeps it while other stacks remain
    (the last `down` stops it: the pasted demo in test_printed_commands checks that). The
    embedded AWS keeps everything in memory: after `local stop`, `down` just forgets the stack."""
    local = ("--local", "--port", str(port))
    assert run("up", *local, "--stack", "one").exit_code == 0
    assert run("up", *local).exit_code == 0
    assert daemon.status().started_by == "up"
    first = run("down", *local, "--stack", "one")
    assert first.exit_code == 0 and "other stacks remain" in first.stderr
    assert daemon.status() is not None

    assert run("local", "stop").exit_code == 0
    status = run("status", *local)  # the resources are gone with the server: not deployed
    assert status.exit_code == 8 and "The embedded AWS was stopped" in status.stderr
    down = run("down", *local)
    assert down.exit_code == 0 and "already gone" in down.stderr
    assert run("status", *local).exit_code == 8
    assert daemon.status() is None


def test_local_env_points_the_aws_cli_at_the_embedded_aws(port, monkeypatch):
    """`eval "$(authdemo local env)"` makes plain `aws` commands work, signed with the server's key."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOTHERACCOUNTKEY1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-server-secret")
    assert run("local", "env").exit_code == 8
    assert run("local", "start", "--port", str(port)).exit_code == 0
    env = run("local", "env")
    assert env.exit_code == 0 and env.stdout.startswith("export AWS_ENDPOINT_URL=")
    as_json = run_json("local", "env")
    assert as_json["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}"
    aws = shutil.which("aws")
    assert aws, "awscli is a test dependency"
    script = f"""
set -e
eval "$(PYTHONPATH={ROOT} {sys.executable} -m authdemo local env)"
aws sts get-caller-identity --query Account --output text
aws iam create-role --role-name from-cli --assume-role-policy-document '{{}}' >/dev/null
aws iam list-roles --query 'Roles[].RoleName' --output text
"""
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    account, roles = proc.stdout.split()[:2]
    assert account == "123456789012" and roles == "from-cli"
    # The same commands with the caller's own (foreign) key are refused by the server.
    proc = subprocess.run(
        [aws, "--endpoint-url", as_json["AWS_ENDPOINT_URL"], "--region", "us-west-2", "iam", "list-roles"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "InvalidClientTokenId" in proc.stderr
