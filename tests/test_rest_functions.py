"""Issue 21's REST half in the uploaded functions: the authorizer's TOKEN branch (Cognito stubbed
through botocore's Stubber) and the backend's echo of payload 1.0 events, each event shaped as
API Gateway's developer guide prints it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from authdemo.lambda_src import authorizer, handler

METHOD_ARN = "arn:aws:execute-api:us-west-2:123456789012:abc123/demo/GET/lambda"
POOL, CLIENT = "us-west-2_Pool", "client123"
ENV = {"USER_POOL_ID": POOL, "CLIENT_ID": CLIENT, "GROUP": "presenters"}


def access(groups: list[str] | None = None, **over: Any) -> str:
    """An access-token-shaped JWT (unsigned: the function reads it only once GetUser accepted it)."""
    claims: dict[str, Any] = {
        "iss": f"https://cognito-idp.us-west-2.amazonaws.com/{POOL}",
        "client_id": CLIENT,
        "token_use": "access",
        "username": "demo@example.com",
        **({"cognito:groups": groups} if groups is not None else {}),
        **over,
    }
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{part}.c2ln"


def token_event(header: str) -> dict[str, Any]:
    """ "Input to an API Gateway Lambda authorizer", TOKEN format."""
    return {"type": "TOKEN", "authorizationToken": header, "methodArn": METHOD_ARN}


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The authorizer's Cognito client: a real botocore client whose answers the test queues."""
    client = boto3.client("cognito-idp", region_name="us-west-2")
    monkeypatch.setattr(authorizer, "_cognito", client)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def user(token: str, username: str = "demo@example.com") -> tuple[dict[str, Any], dict[str, str]]:
    return {"Username": username, "UserAttributes": []}, {"AccessToken": token}


def test_token_branch_answers_an_iam_policy_for_the_method_asked_about(cognito: Stubber) -> None:
    """A presenter's token (with or without `Bearer `) gets an Allow naming exactly the methodArn
    (the cache trap), the principal and the context; a student gets an explicit Deny."""
    presenter = access(["presenters", "readers"])
    for header in (f"Bearer {presenter}", presenter):
        cognito.add_response("get_user", *user(presenter))
        assert authorizer.handler(token_event(header), None) == {
            "principalId": "demo@example.com",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}],
            },
            "context": {"username": "demo@example.com", "groups": "presenters,readers"},
        }
    student = access(None, username="student@example.com")
    cognito.add_response("get_user", *user(student, "student@example.com"))
    answer = authorizer.handler(token_event(f"Bearer {student}"), None)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert answer["principalId"] == "student@example.com" and answer["context"]["groups"] == ""


@pytest.mark.parametrize(
    "code", ["NotAuthorizedException", "InvalidParameterException", "UserNotFoundException"]
)
def test_a_token_cognito_refuses_raises_unauthorized(cognito: Stubber, code: str) -> None:
    """GetUser refusing the token (revoked, an ID token, a SigV4 header...) is the error
    "Unauthorized", which API Gateway answers with 401."""
    cognito.add_client_error("get_user", service_error_code=code, expected_params={"AccessToken": "t.o.k"})
    with pytest.raises(Exception, match=r"\AUnauthorized\Z"):
        authorizer.handler(token_event("Bearer t.o.k"), None)


def test_empty_or_foreign_tokens_are_unauthorized_without_or_after_cognito(cognito: Stubber) -> None:
    """ "Bearer " alone is refused without asking Cognito; a token of another pool or app client
    that GetUser accepts is refused all the same."""
    with pytest.raises(Exception, match=r"\AUnauthorized\Z"):
        authorizer.handler(token_event("Bearer "), None)
    for other in (
        access(["presenters"], iss="https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Other"),
        access(["presenters"], client_id="someone-else"),
    ):
        cognito.add_response("get_user", *user(other))
        with pytest.raises(Exception, match=r"\AUnauthorized\Z"):
            authorizer.handler(token_event(other), None)


@pytest.mark.parametrize("code", ["TooManyRequestsException", "InternalErrorException"])
def test_other_failures_propagate_as_the_authorizers_error(cognito: Stubber, code: str) -> None:
    """Cognito throttling or failing is not the caller's fault: the error propagates (500), and
    it is not "Unauthorized"."""
    cognito.add_client_error("get_user", service_error_code=code)
    with pytest.raises(Exception) as raised:
        authorizer.handler(token_event(access(["presenters"])), None)
    assert str(raised.value) != "Unauthorized" and code in str(raised.value)


def rest_event(request_context: dict[str, Any]) -> dict[str, Any]:
    """ "Input format of a Lambda function for proxy integration" (payload 1.0), trimmed."""
    return {
        "resource": "/lambda",
        "path": "/lambda",
        "httpMethod": "GET",
        "headers": {"Authorization": "Bearer x"},
        "multiValueHeaders": {"Authorization": ["Bearer x"]},
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/lambda",
            "httpMethod": "GET",
            "stage": "demo",
            "identity": {"sourceIp": "127.0.0.1", "userArn": None, "accountId": None, "caller": None},
            **request_context,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def echo(event: dict[str, Any]) -> dict[str, Any]:
    answer = handler.handler(event, None)
    assert answer["statusCode"] == 200
    body: dict[str, Any] = json.loads(answer["body"])
    assert {"message", "user", "token_use", "scopes", "claims"} <= set(body)
    return body


def test_backend_echoes_each_rest_door_from_a_payload_1_event() -> None:
    """Cognito claims (`authorizer.claims`), a TOKEN authorizer's principal and context (beside
    API Gateway's `integrationLatency`), and the IAM caller (`identity`) name the user."""
    id_claims = {"cognito:username": "demo@example.com", "token_use": "id", "aud": "client123"}
    body = echo(rest_event({"authorizer": {"claims": id_claims}}))
    assert (body["user"], body["token_use"], body["claims"]) == ("demo@example.com", "id", id_claims)
    assert "lambda" not in body and "iam" not in body
    access_claims = {"username": "demo@example.com", "token_use": "access", "scope": "a b"}
    assert echo(rest_event({"authorizer": {"claims": access_claims}}))["scopes"] == ["a", "b"]

    token = {"principalId": "demo@example.com", "username": "demo@example.com", "groups": "presenters"}
    body = echo(rest_event({"authorizer": {**token, "integrationLatency": 12}}))
    assert (body["user"], body["lambda"], body["claims"]) == ("demo@example.com", token, {})
    assert echo(rest_event({"authorizer": {"principalId": "p-1"}}))["user"] == "p-1"

    arn = "arn:aws:iam::123456789012:user/presenter"
    identity = {
        "userArn": arn,
        "accountId": "123456789012",
        "accessKey": "AKIA1",
        "caller": "AIDA1",
        "user": "AIDA1",
    }
    body = echo(rest_event({"identity": identity}))
    assert body["user"] == arn and "lambda" not in body
    assert body["iam"] == {
        "userArn": arn,
        "accountId": "123456789012",
        "accessKey": "AKIA1",
        "callerId": "AIDA1",
        "userId": "AIDA1",
    }
