"""The presenter's flow through the CLI: up, test, status, token, down, against the embedded
AWS over real HTTP on 127.0.0.1 (moto + the JWT-enforcing gateway)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import requests
from conftest import leftovers, run, run_json

from authdemo import paths

ROOT = Path(__file__).resolve().parents[1]


def test_up_test_down_end_to_end(server, server_env):
    """up creates a working stack, test passes every check, down leaves nothing behind."""
    e = ("--endpoint-url", server.url, "--stack", "flow")
    up = run("up", *e)
    assert up.exit_code == 0, up.output
    assert "WITHOUT token - expect 401" in up.stdout and "WITH valid token - expect 200" in up.stdout
    assert "aws cognito-idp initiate-auth --endpoint-url" in up.stdout
    info = run_json("status", *e)
    for key in (
        "stack",
        "region",
        "endpoint_url",
        "api_url",
        "user_pool_id",
        "client_id",
        "username",
        "function_name",
        "role_name",
    ):
        assert key in info
    assert info["endpoint_url"] == server.url and info["username"] == "demo@example.com"
    assert all(r["exists"] for r in info["resources"].values())
    # The REST half (issue 21) at this endpoint: the path form, with the stage.
    assert info["rest_api_url"].startswith(f"{server.url}/_aws/execute-api/")
    assert (
        info["rest_api_url"].endswith("/demo") and info["rest_routes"]["iam"] == info["rest_api_url"] + "/iam"
    )
    # The guide's curl checks, by hand.
    url = info["api_url"] + "/protected"
    no_token = requests.get(url, timeout=5)
    assert (no_token.status_code, no_token.json()) == (401, {"message": "Unauthorized"})

    test = run("test", *e, "--output", "json")
    assert test.exit_code == 0, test.output
    report = json.loads(test.stdout)
    http = [(c["credential"], c["route"]) for c in report["checks"] if not c["route"].startswith("rest-")]
    assert report["passed"] and http == [
        (row, route)
        for row in ("none", "id", "access", "tampered", "student", "m2m", "signed-out", "sigv4")
        for route in ("protected", "scoped", "lambda", "iam", "m2m")
    ] + [("typo", "protected")]
    first_id = next(c for c in report["checks"] if (c["credential"], c["route"]) == ("id", "protected"))
    assert first_id["body"]["user"] == "demo@example.com"

    down = run("down", *e, "--output", "json")
    assert down.exit_code == 0, down.output
    assert set(json.loads(down.stdout)["deleted"]) == {
        "api",
        "function",
        "log_group",
        "user_pool",
        "role",
        "authorizer_function",
        "authorizer_log_group",
        "authorizer_role",
        "rest_api",  # the REST half (issue 21)
    }
    assert not (paths.home() / "flow.json").exists()
    assert not [n for names in leftovers(endpoint_url=server.url).values() for n in names if "flow" in n]
    again = run("down", *e)
    assert again.exit_code == 0 and "nothing to delete" in again.stderr


def test_token_decode_and_password_secrecy(server, server_env):
    """token prints a verifiable Cognito token; the password is never printed unless asked."""
    e = ("--endpoint-url", server.url, "--stack", "tok")
    up = run("up", *e, "--password", "Sekret-Pass-1!")
    assert up.exit_code == 0, up.output
    assert "Sekret-Pass-1!" not in up.output
    state_file = paths.home() / "tok.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    status = run("status", *e)
    assert "Sekret-Pass-1!" not in status.output
    assert run_json("status", *e, "--show-password")["password"] == "Sekret-Pass-1!"

    access = run("token", *e, "--access")  # piped (CliRunner is not a TTY): printed in full
    claims = jwt.decode(access.stdout.strip(), options={"verify_signature": False})
    assert claims["token_use"] == "access" and claims["username"] == "demo@example.com"
    decoded = run_json("token", *e, "--id", "--decode")
    assert decoded["header"]["alg"] == "RS256" and decoded["claims"]["token_use"] == "id"
    down = run("down", *e)
    assert down.exit_code == 0, down.output  # once, under load, 1 with a message not kept


def test_root_scripts_share_the_cli(server, server_env, tmp_path):
    """jwt_authorizer_demo.py = up + test, jwt_authorizer_cleanup.py = down, same options."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["--endpoint-url", server.url, "--stack", "scripts"]
    demo = subprocess.run(
        [sys.executable, str(ROOT / "jwt_authorizer_demo.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert "PASS" in demo.stdout and "FAIL" not in demo.stdout
    cleanup = subprocess.run(
        [sys.executable, str(ROOT / "jwt_authorizer_cleanup.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert cleanup.returncode == 0, cleanup.stderr
    assert not (paths.home() / "scripts.json").exists()


def test_down_with_nothing_recorded_needs_no_credentials(monkeypatch):
    """A second `down` succeeds and says there is nothing to delete, even without credentials."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run("down")
    assert result.exit_code == 0 and "nothing to delete" in " ".join(result.stderr.split())
