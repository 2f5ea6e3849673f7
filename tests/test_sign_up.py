"""`authdemo up --sign-up` (issue 20, "Sign up as the blog does"): the pool accepts
self-registration with email verification only when asked, kept in the state like
--callback-port; without it the pool stays admin-only and SignUp is refused."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import LoginRun, free_callback_port, plain_client, run, run_json, server_client

from authdemo import app
from authdemo.errors import ExitCode
from authdemo.login import store
from authdemo.stack import Options
from authdemo.state import atomic_write_json


def state() -> dict[str, Any]:
    return dict(json.loads(app.state_path(app.Options()).read_text()))


def pool() -> dict[str, Any]:
    pool_id = state()["resources"]["user_pool"]["id"]
    return dict(plain_client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"])


def sign_up(username: str) -> Any:
    client_id = state()["resources"]["app_client"]["id"]
    return plain_client("cognito-idp").sign_up(
        ClientId=client_id,
        Username=username,
        Password="Passw0rd!-new",
        UserAttributes=[{"Name": "email", "Value": username}],
    )


def test_without_sign_up_the_pool_is_admin_only(deployed: Any) -> None:
    """The default stack refuses SignUp as Cognito does (NotAuthorizedException)."""
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    with pytest.raises(ClientError) as refused:
        sign_up("new@example.com")
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert run_json("status")["sign_up"] is False


def test_sign_up_is_set_in_place_kept_and_undone(deployed: Any) -> None:
    """`up --sign-up` on an existing stack updates the pool in place (its password policy
    kept), a later `up` keeps it, and `up --no-sign-up` makes the pool admin-only again."""
    policy = pool()["Policies"]["PasswordPolicy"]
    assert run("up", "--sign-up").exit_code == 0
    now = pool()
    assert now["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert now["AutoVerifiedAttributes"] == ["email"]
    assert now["Policies"]["PasswordPolicy"] == policy
    assert state()["sign_up"] is True
    assert sign_up("new@example.com")["UserConfirmed"] is False
    assert run("up").exit_code == 0
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert run("up", "--no-sign-up").exit_code == 0
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert run_json("status")["sign_up"] is False


def test_a_new_stack_with_sign_up(moto: None) -> None:
    """`up --sign-up` creates the pool self-registering, with email verification."""
    assert run("up", "--sign-up").exit_code == 0
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert pool()["AutoVerifiedAttributes"] == ["email"]


def test_sign_up_with_issuer_is_refused(moto: None) -> None:
    """--sign-up on a stack without a user pool is refused in one sentence (exit 2)."""
    result = run("up", "--sign-up", "--issuer", "https://example.auth0.com/", "--audience", "a")
    assert result.exit_code == 2
    assert "has no user pool" in result.output and "Traceback" not in result.output


def _sign_in_on_managed_login(url: str, username: str, password: str) -> None:
    """What the browser does on the sign-in page: the form, the POST, the redirect to `login`'s
    loopback listener, which exchanges the code (PKCE) and keeps the tokens."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert requests.get(url, timeout=5).status_code == 200
    answer = requests.post(
        url.split("/oauth2/authorize")[0] + "/login",
        data={**params, "username": username, "password": password},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    assert requests.get(answer.headers["Location"], allow_redirects=False, timeout=10).status_code == 303


def test_test_shows_a_signed_up_users_kept_tokens_at_every_door(server: Any, server_env: Any) -> None:
    """Issue 20: a reader signs up (the code from the inbox), confirms and signs in on managed
    login; `test` adds their row (200 at /protected and /scoped, 403 at /lambda, /iam and /m2m)
    and keeps their tokens (the signed-out row signs out the test user only); expired kept tokens
    are refreshed, and ones that cannot be refreshed fail the row with the reason, exit 3."""
    e = ("--endpoint-url", server.url, "--stack", "signrow")
    assert run("up", *e, "--sign-up", "--callback-port", str(free_callback_port())).exit_code == 0
    try:
        state_file = app.state_path(app.Options(stack="signrow", endpoint_url=server.url))
        made = json.loads(state_file.read_text())
        client_id = made["resources"]["app_client"]["id"]
        cognito = server_client(server, "cognito-idp")
        reader, password = "reader@example.com", "Blog-reader-1!"
        email = [{"Name": "email", "Value": reader}]
        cognito.sign_up(ClientId=client_id, Username=reader, Password=password, UserAttributes=email)
        mail = [m for m in run_json("local", "inbox")["messages"] if m["to"] == reader]
        cognito.confirm_sign_up(ClientId=client_id, Username=reader, ConfirmationCode=mail[-1]["code"])
        flow = LoginRun(Options(stack="signrow", endpoint_url=server.url))
        _sign_in_on_managed_login(flow.url(), reader, password)
        flow.finish()
        record = store.load(state_file)
        assert record is not None and record["username"] not in (None, made["username"])

        tested = run("test", *e, "--output", "json")
        assert tested.exit_code == 0, tested.output
        cells = json.loads(tested.stdout)["checks"]
        row = {c["route"]: c for c in cells if c["credential"] == "signed-up"}
        got = {route: (c["status"], c["result"]) for route, c in row.items()}
        assert got == {
            "protected": (200, "pass"),
            "scoped": (200, "pass"),
            "lambda": (403, "pass"),
            "iam": (403, "pass"),
            "m2m": (403, "pass"),
            # The REST half: a user's access token, not in presenters (as the student's).
            "rest-protected": (401, "pass"),
            "rest-scoped": (200, "pass"),
            "rest-lambda": (403, "pass"),
            "rest-lambda-again": (403, "pass"),
            "rest-iam": (403, "pass"),
        }
        order = list(dict.fromkeys(c["credential"] for c in cells))
        assert order[order.index("student") + 1] == "signed-up"
        assert row["protected"]["body"]["user"] == record["username"]
        assert store.load(state_file) is not None  # the reader was not signed out

        kept = store.tokens_path(state_file)
        atomic_write_json(kept, {**record, "expires_at": 1})  # expired: refreshed, as `open` does
        again = run("test", *e, "--route", "protected,lambda", "--output", "json")
        assert again.exit_code == 0 and "refreshed them" in again.stderr, again.output
        atomic_write_json(kept, {**record, "expires_at": 1, "refresh": "not-a-refresh-token"})
        refused = run("test", *e, "--route", "protected,lambda", "--output", "json")
        assert refused.exit_code == ExitCode.CHECK_FAILED and "Traceback" not in refused.stderr
        failed = [c for c in json.loads(refused.stdout)["checks"] if c["result"] == "fail"]
        assert {c["credential"] for c in failed} == {"signed-up"} and len(failed) == 2
        assert all(c["reason"].startswith(f"not sent: no {reader}'s access token") for c in failed)
    finally:
        assert run("down", *e).exit_code == 0
