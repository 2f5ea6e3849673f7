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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from conftest import free_port, plain_client, run, run_json

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

    # ministack's REST Lambda doors answer 500 (its differences: failed cells with reasons); --wait
    # bounds their retries, as a presenter would bound them
    test = run("test", *e, "--output", "json", "--wait", "4")
    assert test.exit_code in (0, ExitCode.CHECK_FAILED), test.output
    assert "Traceback" not in test.stderr
    report = json.loads(test.stdout)  # exactly one document
    cells = report["checks"]
    http = [(c["credential"], c["route"]) for c in cells if c["route"] in ROUTES]  # REST's: their own test
    assert http == [*((r, d) for r in ROWS for d in ROUTES), ("typo", "protected")]
    failed = [c for c in cells if c["result"] == "fail"]
    assert test.exit_code == (ExitCode.CHECK_FAILED if failed else 0)
    assert report["passed"] == (not failed)
    assert all(c["reason"] for c in failed)  # where ministack answers otherwise than AWS: why
    unsent = [c for c in cells if c["reason"].startswith("not sent")]
    # Every credential was had; ministack 1.5.33 lacks FlushStageAuthorizersCache: that row says so.
    assert all(c["credential"] == "flushed" for c in unsent)
    assert all("could not flush the stage's authorizer cache" in c["reason"] for c in unsent)
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
    # The API URL is what ministack reported (`http://<id>.execute-api.localhost:<port>`) where that
    # host resolves, else LocalStack's path form, which ministack serves too, with the reason.
    api = state["resources"]["api"]
    assert api["endpoint"] and "execute-api" in api["endpoint"]
    assert report["api_url"] == info["api_url"]
    if info["api_url_source"] == "reported":
        assert info["api_url"] == api["endpoint"].rstrip("/") and info["api_url_note"] is None
    else:
        path_form = f"{ministack}/_aws/execute-api/{api['id']}"
        assert (info["api_url_source"], info["api_url"]) == ("path", path_form)
        assert "does not resolve" in info["api_url_note"]
    assert all(r["exists"] for r in info["resources"].values())
    # The REST half (issue 21) is built there too, and reached by the path form with its stage.
    rest = f"{ministack}/_aws/execute-api/{state['resources']['rest_api']['id']}/demo"
    assert "rest_stage" in state["resources"] and info["rest_api_url"] == rest
    assert info["rest_routes"]["lambda_again"] == f"{rest}/lambda/again"

    down = run("down", *e)
    assert down.exit_code == 0, down.output
    sweep = run("down", "--sweep", "--yes", *e)
    assert sweep.exit_code == 0, sweep.output
    assert "Traceback" not in down.stderr + sweep.stderr
    rest_apis = plain_client("apigateway", endpoint_url=ministack).get_rest_apis()["items"]
    assert not [a for a in rest_apis if a["name"] == "authdemo-mini-rest"]


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
    assert run("up", *e, "--callback-port", str(free_port())).exit_code == 0  # login may bind it
    try:
        domain = json.loads(app.state_path(app.Options(stack="nologin")).read_text())["resources"]["domain"]
        assert domain["url"] is None and "no managed login" in domain["login"]
        result = run("test", *e, "--output", "json")
        assert result.exit_code == ExitCode.CHECK_FAILED, result.output
        cells = json.loads(result.stdout)["checks"]
        assert {c["credential"] for c in cells if c["result"] == "fail"} == {"m2m"}
        assert len([c for c in cells if c["route"] in ROUTES]) == len(ROWS) * len(ROUTES) + 1  # + the typo
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
        failing = {c["credential"] for c in cells if c["result"] == "fail"}
        # The flushed row asks again with the signed-out row's token: without it, neither is sent.
        assert failing == {"student", "signed-out"} | (
            {"flushed"} if any(c["route"].startswith("rest-") for c in cells) else set()
        )
        student = [c["reason"] for c in cells if c["credential"] == "student"]
        assert all(r.startswith("not sent: no student's access token (Cognito refused") for r in student)
        signed_out = [c["reason"] for c in cells if c["credential"] == "signed-out"]
        assert all("could not sign the session out" in r for r in signed_out)
    finally:
        faults.clear()
        assert run("down", *e).exit_code == 0


def _report_api_endpoint(faults: Any, endpoint: Callable[[str], str]) -> None:
    """The endpoint's CreateApi and GetApis answer `endpoint(apiId)` as the API's ApiEndpoint (what
    another emulator reports; moto reports AWS's form)."""

    def answer(parsed: dict[str, Any], **_: Any) -> None:
        for api in [parsed, *parsed.get("Items", [])]:
            if api.get("ApiId"):
                api["ApiEndpoint"] = endpoint(api["ApiId"])

    faults.on("apigatewayv2", "after-call.apigatewayv2.CreateApi", answer)
    faults.on("apigatewayv2", "after-call.apigatewayv2.GetApis", answer)


def test_a_reported_endpoint_usable_from_here_is_the_api_url(server_env: Any, faults: Any) -> None:
    """At an endpoint authdemo did not start, the ApiEndpoint it reports (a loopback URL that
    resolves) is recorded and is the API URL of `up`, `status` and `test`, with no note."""
    reported = f"http://localhost:{server_env.port}/_aws/execute-api/"
    _report_api_endpoint(faults, lambda api_id: reported + api_id)
    e = ("--endpoint-url", server_env.url, "--stack", "reported")
    up = run("up", *e)
    assert up.exit_code == 0, up.output
    try:
        api = json.loads(app.state_path(app.Options(stack="reported")).read_text())["resources"]["api"]
        assert api["endpoint"] == reported + api["id"]
        status = run("status", *e, "--output", "json")
        info = json.loads(status.stdout)
        assert (info["api_url"], info["api_url_source"], info["api_url_note"]) == (
            reported + api["id"],
            "reported",
            None,
        )
        assert info["protected_url"] == reported + api["id"] + "/protected"
        assert f"API: {reported}{api['id']}" in up.stderr
        assert "cannot be used" not in up.stderr + status.stderr
        test = run("test", *e, "--output", "json")
        assert test.exit_code == 0, test.output
        assert json.loads(test.stdout)["api_url"] == reported + api["id"]  # and every door answered there
    finally:
        assert run("down", *e).exit_code == 0


@pytest.mark.parametrize(
    ("shape", "why"),
    [
        # moto's own answer: AWS's form, which AWS does not serve for an API it does not have
        ("aws", "is in AWS's domain, not this endpoint's"),
        # ministack's form, with a host no resolver answers (a 64-letter label is refused before
        # any DNS query, so nothing leaves loopback)
        ("unresolvable", "does not resolve"),
        # LocalStack's: a host and port without a scheme
        ("no scheme", "is not an http(s) URL"),
    ],
)
def test_a_reported_endpoint_not_usable_from_here_falls_back_to_the_path_form(
    server_env: Any, faults: Any, shape: str, why: str
) -> None:
    """At an endpoint authdemo did not start whose ApiEndpoint cannot be used from here, the API URL
    is LocalStack's documented path form `<endpoint>/_aws/execute-api/<apiId>`, `up` and `status`
    say why in one line on stderr, and `status --output json` has `api_url_source` "path" and the note."""
    shapes = {
        "unresolvable": lambda api_id: f"http://{api_id}.execute-api.{'n' * 64}.localhost:{server_env.port}",
        "no scheme": lambda api_id: f"{api_id}.execute-api.localhost.localstack.cloud:4566",
    }
    if shape in shapes:
        _report_api_endpoint(faults, shapes[shape])
    e = ("--endpoint-url", server_env.url, "--stack", "pathform")
    up = run("up", *e)
    assert up.exit_code == 0, up.output
    try:
        state = json.loads(app.state_path(app.Options(stack="pathform")).read_text())
        api_id = state["resources"]["api"]["id"]
        path_form = f"{server_env.url}/_aws/execute-api/{api_id}"
        status = run("status", *e, "--output", "json")
        info = json.loads(status.stdout)
        assert (info["api_url"], info["api_url_source"]) == (path_form, "path")
        assert why in info["api_url_note"] and info["api_url_note"].endswith(f"using {path_form}.")
        assert not status.stderr  # JSON: the field says it
        for said in (up.stderr, run("status", *e).stderr):
            assert said.count("cannot be used from here") == 1 and why in said
        if shape == "unresolvable":
            test = run("test", *e, "--route", "protected", "--output", "json")
            assert test.exit_code == 0, test.output
            assert json.loads(test.stdout)["api_url"] == path_form
            assert "cannot be used from here" in test.stderr
    finally:
        assert run("down", *e).exit_code == 0


def test_demo_says_once_why_the_api_url_is_the_path_form(server_env: Any) -> None:
    """`demo` at an endpoint whose ApiEndpoint cannot be used (moto's AWS form) says why once, not
    once for `up` and again for `test`."""
    e = ("--endpoint-url", server_env.url, "--stack", "demonote")
    try:
        demo = run("demo", *e)
        assert demo.exit_code == 0, demo.output
        assert demo.stderr.count("The API's reported endpoint cannot be used from here") == 1
    finally:
        assert run("down", *e).exit_code == 0


def test_on_aws_the_api_url_is_the_recorded_api_endpoint(deployed: Path) -> None:
    """On AWS the API URL is the recorded ApiEndpoint (`https://<id>.execute-api.<region>.amazonaws.com`),
    source "reported", no note."""
    api = json.loads(deployed.read_text())["resources"]["api"]
    info = run_json("status")
    assert api["endpoint"] == f"https://{api['id']}.execute-api.us-west-2.amazonaws.com"
    assert (info["api_url"], info["api_url_source"]) == (api["endpoint"], "reported")
    assert info["api_url_note"] is None


def test_with_local_the_api_url_is_the_embedded_path(local_daemon: Any) -> None:
    """With --local (our own embedded AWS) the API URL stays our path form, source "embedded"."""
    assert run("up", "--local", "--port", str(local_daemon.port)).exit_code == 0
    try:
        info = run_json("status", "--local", "--port", str(local_daemon.port))
        api_id = info["resources"]["api"]["id"]
        assert info["api_url"] == f"{local_daemon.url}/_aws/execute-api/{api_id}"
        assert (info["api_url_source"], info["api_url_note"]) == ("embedded", None)
    finally:
        assert run("down", "--local", "--port", str(local_daemon.port)).exit_code == 0


def test_status_says_why_an_endpoint_has_no_managed_login(server_env: Any, token_endpoint: Any) -> None:
    """No managed login behind --endpoint-url: `status --output json` gives the recorded reason as
    `login_url_note` (login_url null), and text `status` says it on stderr."""
    _no_discovery(token_endpoint)
    e = ("--endpoint-url", server_env.url, "--stack", "whynologin")
    assert run("up", *e).exit_code == 0
    try:
        info = run_json("status", *e)
        assert info["login_url"] is None
        assert info["login_url_note"].startswith("This endpoint has no managed login: ")
        assert "/.well-known/openid-configuration answered HTTP 404" in info["login_url_note"]
        text = run("status", *e)
        assert text.exit_code == 0 and info["login_url_note"] in text.stderr
        assert "login_url" not in text.stdout  # no value to print: the reason is the message
    finally:
        assert run("down", *e).exit_code == 0
