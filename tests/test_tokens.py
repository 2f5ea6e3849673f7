"""Issue #10's keys: the Lambda authorizer's decisions (a fake Cognito, then moto's), the backend's
echo of each door's caller, and `token --refresh`, `--sign-out`, `--user student` through moto."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import run, run_json

from authdemo import paths, tokens
from authdemo.lambda_src import authorizer, handler

POOL, CLIENT = "us-west-2_Pool", "client123"
ENV = {"USER_POOL_ID": POOL, "CLIENT_ID": CLIENT, "GROUP": "presenters"}


def jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2ln"


def access(groups: list[str] | None = None, **over: Any) -> str:
    claims: dict[str, Any] = {
        "iss": f"https://cognito-idp.us-west-2.amazonaws.com/{POOL}",
        "client_id": CLIENT,
        "token_use": "access",
        "username": "demo@example.com",
        "scope": "aws.cognito.signin.user.admin",
    }
    if groups is not None:
        claims["cognito:groups"] = groups
    claims.update(over)
    return jwt(claims)


class ClientError(Exception):
    """Shaped like botocore's: the code is in .response (the handler must not import botocore)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


class FakeCognito:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[str] = []

    def get_user(self, AccessToken: str) -> dict[str, Any]:
        self.calls.append(AccessToken)
        if self.error:
            raise self.error
        return {"Username": "demo@example.com", "UserAttributes": []}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCognito]:
    cognito = FakeCognito()
    monkeypatch.setattr(authorizer, "_cognito", cognito)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    yield cognito


def event(authorization: str | None) -> dict[str, Any]:
    headers = {"authorization": authorization} if authorization is not None else {}
    return {"version": "2.0", "type": "REQUEST", "routeKey": "GET /lambda", "headers": headers}


def test_presenter_is_let_in_with_context(fake: FakeCognito) -> None:
    token = access(["presenters"])
    answer = authorizer.handler(event(f"Bearer {token}"), None)
    assert answer == {
        "isAuthorized": True,
        "context": {"username": "demo@example.com", "groups": "presenters"},
    }
    assert fake.calls == [token]  # Cognito was asked, with the token without "Bearer "


def test_bare_token_without_bearer_prefix_works_too(fake: FakeCognito) -> None:
    assert authorizer.handler(event(access(["presenters"])), None)["isAuthorized"] is True


def test_student_outside_the_group_is_refused(fake: FakeCognito) -> None:
    answer = authorizer.handler(event(f"Bearer {access(None, username='student@example.com')}"), None)
    assert answer["isAuthorized"] is False
    other = authorizer.handler(event(f"Bearer {access(['readers'])}"), None)
    assert other["isAuthorized"] is False


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Bearer not-a-jwt", "Basic dXNlcjpwdw=="])
def test_no_or_garbage_token_is_refused_never_raises(fake: FakeCognito, header: str | None) -> None:
    assert authorizer.handler(event(header), None)["isAuthorized"] is False


def test_revoked_token_is_refused(fake: FakeCognito) -> None:
    """What Cognito answers after GlobalSignOut: NotAuthorizedException "Access Token has been revoked"."""
    fake.error = ClientError("NotAuthorizedException", "Access Token has been revoked")
    answer = authorizer.handler(event(f"Bearer {access(['presenters'])}"), None)
    assert answer["isAuthorized"] is False
    assert "NotAuthorizedException" in answer["context"]["reason"]


@pytest.mark.parametrize(
    "error", [ClientError("TooManyRequestsException"), ClientError("InternalErrorException"), TimeoutError()]
)
def test_other_cognito_errors_refuse_and_never_raise(fake: FakeCognito, error: Exception) -> None:
    fake.error = error
    assert authorizer.handler(event(f"Bearer {access(['presenters'])}"), None)["isAuthorized"] is False


def test_a_token_of_another_pool_or_client_is_refused(fake: FakeCognito) -> None:
    """GetUser accepts any pool's token of the region: the authorizer checks iss and client_id."""
    other_pool = access(["presenters"], iss="https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Other")
    assert authorizer.handler(event(f"Bearer {other_pool}"), None)["isAuthorized"] is False
    other_client = access(["presenters"], client_id="someone-else")
    assert authorizer.handler(event(f"Bearer {other_client}"), None)["isAuthorized"] is False


def test_an_event_without_headers_is_refused() -> None:
    assert authorizer.handler({}, None)["isAuthorized"] is False


# ------------------------------------------------------------------ the backend's echo
def test_backend_echoes_the_lambda_authorizers_context() -> None:
    ctx = {"username": "demo@example.com", "groups": "presenters"}
    answer = handler.handler({"requestContext": {"authorizer": {"lambda": ctx}}}, None)
    body = json.loads(answer["body"])
    assert answer["statusCode"] == 200
    assert body["user"] == "demo@example.com" and body["lambda"] == ctx


def test_backend_echoes_the_iam_caller() -> None:
    iam = {
        "accessKey": "AKIA123",
        "accountId": "123456789012",
        "callerId": "AIDA123",
        "userArn": "arn:aws:iam::123456789012:user/presenter",
        "userId": "AIDA123",
        "cognitoIdentity": None,
    }
    body = json.loads(handler.handler({"requestContext": {"authorizer": {"iam": iam}}}, None)["body"])
    assert body["user"] == "arn:aws:iam::123456789012:user/presenter"
    assert body["iam"]["accountId"] == "123456789012" and body["iam"]["accessKey"] == "AKIA123"


def test_backend_keeps_the_jwt_fields() -> None:
    claims = {"username": "demo@example.com", "token_use": "access"}
    jwt_ctx = {"claims": claims, "scopes": ["aws.cognito.signin.user.admin"]}
    body = json.loads(handler.handler({"requestContext": {"authorizer": {"jwt": jwt_ctx}}}, None)["body"])
    assert (body["user"], body["token_use"], body["scopes"]) == (
        "demo@example.com",
        "access",
        ["aws.cognito.signin.user.admin"],
    )
    assert "lambda" not in body and "iam" not in body


# ------------------------------------------------------------------ tokens through moto
def test_opacity_tells_jwe_uuid_and_jwt_apart() -> None:
    assert tokens.opacity("a.b.c.d.e").startswith("opaque (5 parts, JWE")
    assert tokens.opacity("0b1e3c4d-aaaa-bbbb-cccc-123456789abc").startswith("opaque (not a JWT")
    assert tokens.opacity(access(["x"])) == "a readable JWT (3 parts)"


@pytest.fixture
def deployed(moto: None) -> dict[str, Any]:
    assert run("up").exit_code == 0
    return dict(json.loads((paths.home() / "authdemo.json").read_text()))


def test_authorizer_against_moto_presenter_in_student_out(deployed: dict[str, Any], monkeypatch) -> None:
    """Real (moto) tokens: the presenter's access token carries cognito:groups and passes."""
    res = deployed["resources"]
    monkeypatch.setattr(authorizer, "_cognito", boto3.client("cognito-idp", region_name="us-west-2"))
    monkeypatch.setenv("USER_POOL_ID", res["user_pool"]["id"])
    monkeypatch.setenv("CLIENT_ID", res["app_client"]["id"])
    monkeypatch.setenv("GROUP", "presenters")
    demo = run("token", "--access", "--show-token").stdout.strip()
    student = run("token", "--access", "--user", "student", "--show-token").stdout.strip()
    assert authorizer.handler(event(f"Bearer {demo}"), None) == {
        "isAuthorized": True,
        "context": {"username": "demo@example.com", "groups": "presenters"},
    }
    assert authorizer.handler(event(f"Bearer {student}"), None)["isAuthorized"] is False
    # Signed out: GetUser refuses the token, so the authorizer does too.
    out = run_json("token", "--sign-out", "--show-token")
    assert authorizer.handler(event(f"Bearer {out['token']}"), None)["isAuthorized"] is False


def test_token_user_student_signs_in_the_second_user(deployed: dict[str, Any]) -> None:
    info = run_json("token", "--user", "student", "--access", "--show-token")
    assert info["user"] == "student@example.com"
    claims = tokens.decode(info["token"])[1]
    assert claims["username"] == "student@example.com" and "cognito:groups" not in claims


def test_token_refresh_gives_new_tokens_and_hides_the_refresh_token(deployed: dict[str, Any]) -> None:
    result = run("token", "--refresh", "--output", "json", "--show-token")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["refreshed"] is True and info["kind"] == "id"
    assert tokens.decode(info["token"])[1]["token_use"] == "id"
    assert info["refresh_token"].startswith("opaque")  # moto: a UUID; AWS: a 5-part JWE
    assert info["new_refresh_token"] is False  # REFRESH_TOKEN_AUTH returns none
    assert set(info) >= {"user", "kind", "token", "refresh_token"}
    text = run("token", "--refresh", "--access")
    assert text.exit_code == 0 and "refresh token: opaque" in text.stderr


def test_token_sign_out_cognito_refuses_the_token_and_nothing_is_kept(deployed: dict[str, Any]) -> None:
    """GetUser refuses the signed-out token; no token is written to disk (`test` signs out its own)."""
    state_path = paths.home() / "authdemo.json"
    before = state_path.read_text()
    info = run_json("token", "--sign-out", "--show-token")
    assert info["signed_out"] is True and info["kind"] == "access"
    assert info["get_user"].startswith("refused: NotAuthorizedException")
    assert state_path.read_text() == before and info["token"] not in before
    # The JWT routes cannot tell: the token is still a validly signed, unexpired JWT.
    assert tokens.decode(info["token"])[1]["token_use"] == "access"


def test_refresh_and_sign_out_together_is_a_usage_error(deployed: dict[str, Any]) -> None:
    result = run("token", "--refresh", "--sign-out")
    assert result.exit_code == 2
