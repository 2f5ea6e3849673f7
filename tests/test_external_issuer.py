"""Issue 11 §3, any OIDC issuer: `up --issuer URL --audience AUD` builds a stack without Cognito,
refuses what API Gateway would refuse of the issuer, `test --token`/`--token-command` checks it,
and `down` deletes it; offline, against the embedded AWS's own (Auth0-like) issuer."""

from __future__ import annotations

import json
import shlex
import sys
import time
from typing import Any

import jwt
import pytest
import requests
from conftest import leftovers, run, run_json

from authdemo import app, oidc
from authdemo.state import read_state

AUD = "https://api.authdemo.test"
COGNITO_KEYS = {
    "user_pool",
    "app_client",
    "user",
    "student",
    "group",
    "membership",
    "lambda_authorizer",
    "authorizer_function",
    "authorizer_role",
    "authorizer_log_group",
    "route_lambda",
    "route_scoped",
}


def _token_command(audience: str = AUD) -> str:
    """`authdemo local issuer --token ...` as the printed command has it, run by this Python."""
    return (
        f"{shlex.quote(sys.executable)} -m authdemo local issuer --token --audience {shlex.quote(audience)}"
    )


def test_offline_issuer_flow_end_to_end(local_daemon: Any) -> None:
    """local issuer -> up --local --issuer -> test --token-command -> up again -> down: no Cognito
    resource is ever made, every check passes, the token is never printed, nothing is left."""
    server = local_daemon
    url = run("local", "issuer", "--field", "url").stdout.strip()
    assert url == f"http://127.0.0.1:{server.port}/_authdemo/issuer/"
    shown = run("local", "issuer")
    assert shown.exit_code == 0
    assert server.issuer_keys.client_id in shown.stdout
    assert server.issuer_keys.client_secret not in shown.stdout  # only with --show-secret
    assert (
        "--token-command 'authdemo local issuer --token --audience https://api.authdemo.test" in shown.stdout
    )

    up = run("up", "--local", "--stack", "ext", "--issuer", url, "--audience", AUD, "--output", "json")
    assert up.exit_code == 0, up.output
    doc = json.loads(up.stdout)
    assert (doc["issuer"], doc["audience"], doc["user_pool_id"]) == (url, [AUD], None)
    assert not COGNITO_KEYS & set(doc["steps"])
    assert {"api", "authorizer", "route", "route_iam", "function"} <= set(doc["steps"])
    state = read_state(app.state_path(app.Options(stack="ext", local=True)))
    assert (state["issuer"], state["audience"]) == (url, [AUD])
    assert "password" not in state and "student_password" not in state
    assert not any(
        "ext" in p
        for p in leftovers(endpoint_url=server.url, credentials=server.credentials).get("user_pools", [])
    )

    token = run("local", "issuer", "--token", "--audience", AUD).stdout.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["gty"]) == (url, AUD, "client-credentials")
    assert claims["sub"] == f"{server.issuer_keys.client_id}@clients"

    tested = run("test", "--local", "--stack", "ext", "--token-command", _token_command(), "--output", "json")
    assert tested.exit_code == 0, tested.output
    result = json.loads(tested.stdout)
    assert result["passed"] is True
    got = {c["credential"]: c["status"] for c in result["checks"]}
    assert got == {"none": 401, "given": 200, "given-tampered": 401}
    assert all(row["ok"] for row in result["token_check"])
    text = run("test", "--local", "--stack", "ext", "--token", token)
    assert text.exit_code == 0, text.output
    assert token not in text.output  # shortened unless --show-token
    assert "your token vs the JWT authorizer" in text.stdout

    again = run("up", "--local", "--stack", "ext")  # no --issuer: keeps the recorded one, says so
    assert again.exit_code == 0, again.output
    assert f"keeps trusting {url}" in " ".join(again.stderr.split())

    down = run("down", "--local", "--stack", "ext")
    assert down.exit_code == 0, down.output
    assert not app.state_path(app.Options(stack="ext", local=True)).exists()
    apis = leftovers(endpoint_url=server.url, credentials=server.credentials).get("apis", [])
    assert "authdemo-ext-api" not in apis


def test_issuer_stack_test_without_a_token_says_how(local_daemon: Any) -> None:
    """authdemo cannot sign in to another issuer: `test` says which option gives it the token."""
    url = f"{local_daemon.url}/_authdemo/issuer/"
    assert run("up", "--local", "--stack", "ext2", "--issuer", url, "--audience", AUD).exit_code == 0
    try:
        result = run("test", "--local", "--stack", "ext2")
        assert result.exit_code == 2
        assert (
            "--token-command 'authdemo local issuer --token --audience https://api.authdemo.test"
            in result.stderr
        )
        token = run("token", "--local", "--stack", "ext2")  # no pool to sign in to
        assert token.exit_code == 2
        assert "has no Cognito user pool" in " ".join(token.stderr.split())
        named = run("test", "--local", "--stack", "ext2", "--username", "demo@example.com")
        assert named.exit_code == 2 and "signs no one in: drop --username" in " ".join(named.stderr.split())
        wrong = run("test", "--local", "--stack", "ext2", "--token", "a.b.c")
        assert wrong.exit_code == 2  # not a JWT: one sentence, no traceback
        assert "not a JWT" in wrong.stderr
    finally:
        assert run("down", "--local", "--stack", "ext2").exit_code == 0


def test_a_cognito_token_passes_test_token_too(server_env: Any) -> None:
    """`test --token` works on a Cognito stack: the stack's own ID token passes, tampered fails."""
    flags = ("--endpoint-url", server_env.url, "--stack", "cogtok")
    assert run("up", *flags).exit_code == 0
    try:
        token = run("token", *flags).stdout.strip()
        result = run_json("test", *flags, "--token", token)
        assert result["passed"] is True
        assert [c["status"] for c in result["checks"]] == [401, 200, 401]
        assert {r["claim"]: r["ok"] for r in result["token_check"]}["iss"] is True
    finally:
        assert run("down", *flags).exit_code == 0


def test_a_token_of_another_issuer_fails_and_says_why(server_env: Any) -> None:
    """A token whose iss is not the authorizer's gets 401 (exit 3), and the table shows the iss ✗."""
    flags = ("--endpoint-url", server_env.url, "--stack", "cogother")
    assert run("up", *flags).exit_code == 0
    try:
        key = server_env.issuer_keys
        from authdemo.local.issuer import LocalIssuer

        foreign = LocalIssuer(server_env.port, key).mint("someone-else")
        result = run("test", *flags, "--token", foreign, "--output", "json")
        assert result.exit_code == 3
        doc = json.loads(result.stdout)
        checks = {r["claim"]: r["ok"] for r in doc["token_check"]}
        assert (checks["iss"], checks["aud"]) == (False, False)
        assert doc["checks"][1]["status"] == 401
    finally:
        assert run("down", *flags).exit_code == 0


# ------------------------------------------------------------------ --token / --token-command
@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("echo oops >&2; exit 3", "failed with exit status 3: oops"),
        ("true", "printed nothing"),
    ],
)
def test_token_command_failure_is_one_sentence(command: str, said: str) -> None:
    """A failing --token-command ends in exit 2 and one sentence, before any stack is opened."""
    result = run("test", "--token-command", command)
    assert result.exit_code == 2
    assert said in result.stderr
    assert "Traceback" not in result.output


def test_token_and_token_command_and_routes_conflict() -> None:
    """Both token options, or --token with other doors: refused (exit 2)."""
    both = run("test", "--token", "x", "--token-command", "echo x")
    assert both.exit_code == 2 and "keep one" in both.stderr
    routes = run("test", "--token", "x", "--route", "iam")
    assert routes.exit_code == 2 and "/protected only" in routes.stderr


# ---------------------------------------------------------------------- refusals on `up`
def _up(server: Any, issuer: str, *more: str) -> Any:
    return run("up", "--endpoint-url", server.url, "--stack", "bad", "--issuer", issuer, *more)


def _refused(result: Any, words: str) -> None:
    """Exit 2, one sentence with `words`, and no state file: nothing was created."""
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert not app.state_path(app.Options(stack="bad")).exists()  # nothing created or recorded


def test_http_issuer_is_refused_on_real_aws(moto: None) -> None:
    """API Gateway wants https: an http:// issuer is refused before any fetch or AWS call."""
    _refused(
        run("up", "--issuer", "http://127.0.0.1:9/", "--audience", AUD),
        "API Gateway accepts only https:// issuers",
    )


@pytest.mark.parametrize(
    ("given", "said", "words"),
    [
        ("/tenant/", "/tenant", "(the trailing slash counts)"),  # Auth0's issuer ends in "/"
        ("/tenant", "/tenant/", "(the trailing slash counts)"),
        ("/tenant", "/elsewhere", "names the issuer"),
    ],
)
def test_issuer_other_than_discovery_says_is_refused(
    server_env: Any, fake_issuer: Any, given: str, said: str, words: str
) -> None:
    """Tokens carry the discovery document's issuer, which API Gateway compares exactly."""
    issuer = fake_issuer.base + given
    fake_issuer.publish(issuer, said=fake_issuer.base + said)
    result = _up(server_env, issuer, "--audience", AUD)
    _refused(result, words)
    assert f"use --issuer {fake_issuer.base + said}" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ([{"kty": "oct", "k": "c2VjcmV0", "kid": "h", "alg": "HS256"}], "holds oct keys only"),
        ([{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "e"}], "holds EC keys only"),
        ([], "holds no keys"),
    ],
)
def test_jwks_without_an_rsa_key_is_refused(
    server_env: Any, fake_issuer: Any, keys: list, words: str
) -> None:
    """API Gateway verifies RSA signatures only: an HS256 (oct) or EC-only JWKS is refused."""
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer, keys=keys)
    _refused(_up(server_env, issuer, "--audience", AUD), words)


def test_oversize_jwks_is_refused(server_env: Any, fake_issuer: Any) -> None:
    """A JWKS over 150000 bytes is refused, as API Gateway refuses it."""
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    fake_issuer.serve("/jwks", b'{"keys": [], "pad": "' + b"x" * oidc.MAX_JWKS_BYTES + b'"}')
    _refused(_up(server_env, issuer, "--audience", AUD), "larger than 150000 bytes")


def test_slow_discovery_is_refused(
    server_env: Any, fake_issuer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An issuer slower than the limit (1.5 s on AWS; shortened here) is refused."""
    monkeypatch.setattr(oidc, "TIMEOUT_SECONDS", 0.2)
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    status, body, _ = fake_issuer.routes["/.well-known/openid-configuration"]
    fake_issuer.serve("/.well-known/openid-configuration", body, status, delay=1.0)
    _refused(_up(server_env, issuer, "--audience", AUD), "did not answer within 0.2 s")


def test_unreachable_issuer_and_missing_jwks_uri_are_refused(server_env: Any, fake_issuer: Any) -> None:
    """Nothing listening, a 404 discovery document, or one without jwks_uri: refused."""
    _refused(_up(server_env, "http://127.0.0.1:9/", "--audience", AUD), "could not be fetched")
    _refused(_up(server_env, fake_issuer.base + "/none/", "--audience", AUD), "answered HTTP 404")
    fake_issuer.serve("/x/.well-known/openid-configuration", {"issuer": fake_issuer.base + "/x/"})
    _refused(_up(server_env, fake_issuer.base + "/x/", "--audience", AUD), "has no jwks_uri")


def test_audience_is_required_and_bounded(moto: None) -> None:
    """No wildcard audience on API Gateway: --audience is required, at most 50; --audience alone
    and the Cognito user's options are refused with --issuer."""
    _refused(run("up", "--issuer", "https://example.test/"), "--issuer needs --audience")
    many = [arg for i in range(51) for arg in ("--audience", f"a{i}")]
    _refused(run("up", "--issuer", "https://example.test/", *many), "at most 50")
    _refused(run("up", "--audience", AUD), "--audience goes with --issuer")
    _refused(
        run("up", "--issuer", "https://example.test/", "--audience", AUD, "--username", "x@example.com"),
        "has no user pool",
    )


def test_a_cognito_stack_is_not_switched_to_an_issuer(deployed: Any) -> None:
    """`up --issuer` on a Cognito stack would strand its pool: refused, nothing changes."""
    before = read_state(deployed)
    result = run("up", "--issuer", "https://example.test/", "--audience", AUD)
    assert result.exit_code == 2
    assert "is a Cognito stack" in " ".join(result.stderr.split())
    assert read_state(deployed)["resources"] == before["resources"]


def test_dry_run_of_an_issuer_stack_plans_no_cognito(moto: None) -> None:
    """`up --dry-run --issuer` plans the API, function and JWT authorizer, no pool or users."""
    plan = run_json("up", "--dry-run", "--issuer", "https://example.test/", "--audience", AUD)
    keys = {p["key"] for p in plan["plan"]}
    assert not COGNITO_KEYS & keys
    assert {"api", "authorizer", "route", "route_iam"} <= keys


# ------------------------------------------------------------ the embedded AWS's own issuer
def test_local_issuer_token_endpoint_refuses_like_auth0(server: Any) -> None:
    """Wrong secret: 401 invalid_client; no audience: 403 access_denied; another grant: 400;
    the discovery document names the issuer with its trailing slash."""
    base = f"{server.url}/_authdemo/issuer/"
    discovery = requests.get(base + ".well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == base and discovery["jwks_uri"].startswith(base)
    keys = server.issuer_keys
    form = {"grant_type": "client_credentials", "client_id": keys.client_id, "audience": AUD}
    bad = requests.post(base + "oauth/token", data={**form, "client_secret": "nope"}, timeout=10)
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    good = {**form, "client_secret": keys.client_secret}
    no_aud = requests.post(base + "oauth/token", data={**good, "audience": ""}, timeout=10)
    assert (no_aud.status_code, no_aud.json()["error"]) == (403, "access_denied")
    grant = requests.post(base + "oauth/token", json={**good, "grant_type": "password"}, timeout=10)
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    ok = requests.post(base + "oauth/token", json={**good, "scope": "read:demo"}, timeout=10)
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"
    claims = jwt.decode(ok.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "read:demo" and claims["exp"] > time.time()


def test_local_issuer_file_is_private(local_daemon: Any) -> None:
    """The issuer's key and client secret are kept 0600, like the server's access key."""
    from authdemo.local import issuer as local_issuer

    assert local_issuer.issuer_file().stat().st_mode & 0o077 == 0
    secret = run("local", "issuer", "--field", "client_secret")
    assert secret.stdout.strip() == local_daemon.issuer_keys.client_secret


def test_sweep_finds_an_issuer_stack_without_its_state(local_daemon: Any) -> None:
    """down --sweep considers every unit whatever the profile: a forgotten issuer stack's API,
    function, role and log group are found by tag and path, and deleted."""
    url = f"{local_daemon.url}/_authdemo/issuer/"
    flags = ("--local", "--stack", "ext3")
    assert run("up", *flags, "--issuer", url, "--audience", AUD).exit_code == 0
    assert run("forget", "--local", "--stack", "ext3", "--yes").exit_code == 0
    swept = run_json("down", *flags, "--sweep", "--yes")
    assert swept["deleted"] is True
    assert {"api", "function", "role", "log_group"} <= {f["type"] for f in swept["found"]}
    found = leftovers(endpoint_url=local_daemon.url, credentials=local_daemon.credentials)
    assert "authdemo-ext3-api" not in found.get("apis", [])
    assert "authdemo-ext3-fn-role" not in found.get("roles", [])
