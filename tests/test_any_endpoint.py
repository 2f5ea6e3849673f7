"""`--endpoint-url` at an AWS emulator authdemo did not start (issue 19, "any endpoint"): its
managed login is found from what it serves (the pool's discovery document), never assumed at the
embedded AWS's `/_aws/cognito/<prefix>`; and `test` never stops because one credential cannot be
had: that row says why, the other rows run, exit 3. ministack runs as a real server (its own
environment, conftest.ministack); the endpoint without managed login is the embedded AWS behind
`--endpoint-url` with its discovery document answered 404 at the HTTP layer, as a server that
has none answers."""

from __future__ import annotations

import json
import re
from typing import Any

import requests
import responses
from conftest import run

from authdemo import app
from authdemo.errors import ExitCode

ROWS = ("none", "id", "access", "tampered", "student", "m2m", "signed-out", "sigv4")
ROUTES = ("protected", "scoped", "lambda", "iam", "m2m")


def _jwt(text: str) -> bool:
    return len(text.strip().split(".")) == 3


def test_ministack_up_test_token_status_down_sweep(ministack: str) -> None:
    """Against ministack: `up` records the OAuth endpoints its discovery document names, `test`
    runs every cell (the M2M token from the discovered token endpoint) and each failing cell says
    why, exit 3 iff one fails; `token`, `token --m2m`, `status`, `down`, `down --sweep` work."""
    e = ("--endpoint-url", ministack, "--stack", "mini")
    up = run("up", *e)
    assert up.exit_code == 0, up.output
    state = json.loads(app.state_path(app.Options(stack="mini")).read_text())
    pool_id = state["resources"]["user_pool"]["id"]
    served = requests.get(f"{ministack}/{pool_id}/.well-known/openid-configuration", timeout=5).json()
    domain = state["resources"]["domain"]
    assert domain["endpoints"]["token"] == served["token_endpoint"]
    assert domain["endpoints"]["authorize"] == served["authorization_endpoint"]
    assert "/_aws/cognito/" not in json.dumps(domain)

    test = run("test", *e, "--output", "json")
    assert test.exit_code in (0, ExitCode.CHECK_FAILED), test.output
    assert "Traceback" not in test.stderr
    report = json.loads(test.stdout)  # exactly one document
    cells = report["checks"]
    assert [(c["credential"], c["route"]) for c in cells] == [(r, d) for r in ROWS for d in ROUTES]
    failed = [c for c in cells if c["result"] == "fail"]
    assert test.exit_code == (ExitCode.CHECK_FAILED if failed else 0)
    assert report["passed"] == (not failed)
    assert all(c["reason"] for c in failed)  # where ministack answers otherwise than AWS: why
    assert not [c for c in cells if c["reason"].startswith("not sent")]  # every credential was had
    m2m = [c for c in cells if c["credential"] == "m2m"]
    assert all(c.get("token_shortened") for c in m2m)  # a token was had (shown shortened)

    token = run("token", *e)
    assert token.exit_code == 0 and _jwt(token.stdout), token.output
    m2m_token = run("token", "--m2m", *e)
    assert m2m_token.exit_code == 0 and _jwt(m2m_token.stdout), m2m_token.output

    status = run("status", *e, "--output", "json")
    assert status.exit_code == 0, status.output
    info = json.loads(status.stdout)
    assert info["login_url"] == domain["url"] and info["user_pool_id"] == pool_id
    assert all(r["exists"] for r in info["resources"].values())

    down = run("down", *e)
    assert down.exit_code == 0, down.output
    sweep = run("down", "--sweep", "--yes", *e)
    assert sweep.exit_code == 0, sweep.output
    assert "Traceback" not in down.stderr + sweep.stderr


def _no_discovery(mock: Any) -> None:
    """The endpoint serves no discovery document (a moto server, LocalStack's community edition)."""
    discovery = re.compile(r".*/\.well-known/openid-configuration$")
    mock.add(responses.GET, discovery, status=404, body="Not Found")


def test_an_endpoint_without_managed_login_fails_the_m2m_row_only(
    server_env: Any, token_endpoint: Any
) -> None:
    """No managed login behind --endpoint-url: the M2M row's cells fail saying so, every other row
    runs and passes, exit 3; `token --m2m` and `login` say it in one sentence (exit 8)."""
    _no_discovery(token_endpoint)
    e = ("--endpoint-url", server_env.url, "--stack", "nologin")
    assert run("up", *e).exit_code == 0
    try:
        domain = json.loads(app.state_path(app.Options(stack="nologin")).read_text())["resources"]["domain"]
        assert domain["url"] is None and "no managed login" in domain["login"]
        result = run("test", *e, "--output", "json")
        assert result.exit_code == ExitCode.CHECK_FAILED, result.output
        cells = json.loads(result.stdout)["checks"]
        assert {c["credential"] for c in cells if c["result"] == "fail"} == {"m2m"}
        assert len(cells) == len(ROWS) * len(ROUTES)
        for cell in (c for c in cells if c["credential"] == "m2m"):
            assert cell["status"] is None and cell["reason"].startswith("not sent: no M2M token")
            assert "This endpoint has no managed login" in cell["reason"] and "HTTP 404" in cell["reason"]
        text = run("test", *e)
        assert text.exit_code == ExitCode.CHECK_FAILED and "not sent" in text.stdout
        for command in (("token", "--m2m"), ("login", "--no-browser", "--timeout", "1")):
            said = run(*command, *e)
            assert said.exit_code == ExitCode.NOT_FOUND, said.output
            assert said.stderr.count("Error:") == 1 and "no managed login" in said.stderr
            assert "Traceback" not in said.stderr and "/_aws/cognito/" not in said.output
    finally:
        assert run("down", *e).exit_code == 0


def test_a_credential_that_cannot_be_had_fails_its_row_only(server_env: Any, faults: Any) -> None:
    """Cognito refuses the student's sign-in and the signed-out row's GlobalSignOut: those two rows
    fail saying why (nothing sent), the other rows run and pass, exit 3, no abort."""
    from conftest import aws_error

    e = ("--endpoint-url", server_env.url, "--stack", "onerow")
    assert run("up", *e).exit_code == 0
    try:
        sign_ins = [0]

        def refuse_the_second_sign_in(**_: Any) -> Any:  # test signs in: user, student, session
            sign_ins[0] += 1
            return (
                aws_error("NotAuthorizedException", "Incorrect username or password.")
                if sign_ins[0] == 2
                else None
            )

        faults.on("cognito-idp", "before-call.cognito-idp.InitiateAuth", refuse_the_second_sign_in)
        faults.fail("cognito-idp", "GlobalSignOut", "InternalErrorException", "Internal error", times=99)
        result = run("test", *e, "--output", "json")
        assert result.exit_code == ExitCode.CHECK_FAILED, result.output
        cells = json.loads(result.stdout)["checks"]
        assert {c["credential"] for c in cells if c["result"] == "fail"} == {"student", "signed-out"}
        student = [c["reason"] for c in cells if c["credential"] == "student"]
        assert all(r.startswith("not sent: no student's access token (Cognito refused") for r in student)
        signed_out = [c["reason"] for c in cells if c["credential"] == "signed-out"]
        assert all("could not sign the session out" in r for r in signed_out)
    finally:
        faults.clear()
        assert run("down", *e).exit_code == 0
