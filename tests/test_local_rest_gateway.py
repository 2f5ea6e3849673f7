"""The embedded gateway serves and enforces REST APIs (API Gateway v1): real HTTP, real tokens.

One REST API on the session's embedded AWS, built with boto3 as COMMON21's table has it (a
Cognito user pool authorizer with and without scopes, AWS_IAM, TOKEN doors behind authdemo's own
authorizer and backend functions), plus the resources that prove the rest of REST's rules
(matching, the payload 1.0 event, the backend's failures).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import jwt
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from conftest import mint, moto_published_key, server_client, zipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authdemo.aws import LOCAL_ACCOUNT_ID
from authdemo.local.authorizers import Denied
from authdemo.local.authorizers.lambda_ import AuthorizerError
from authdemo.units.awslambda import function_zip

REGION = "us-west-2"
PASSWORD = "Demo-Pass-123!"
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
U = (401, b'{"message":"Unauthorized"}')
MAT = (403, b'{"message":"Missing Authentication Token"}')
AUTHZ500 = (500, b'{"message": null}')
INTERNAL = (500, b'{"message": "Internal server error"}')
BAD_GATEWAY = (502, b'{"message": "Internal server error"}')
EXPIRED = (401, b'{"message":"The incoming token has expired"}')
FORBIDDEN = (403, b'{"message":"Forbidden"}')

FUNCTIONS = """
import json

def echo(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json", "x-one": "1"},
            "multiValueHeaders": {"x-many": ["a", "b"]}, "body": json.dumps(event)}

def boom(event, context):
    raise RuntimeError("the backend failed")

def malformed(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}}
"""


@dataclass
class StandIn:
    """A TOKEN authorizer in place of `authorizers.token.TokenAuthorizer` (helper B2's): it
    records each call and answers by the header's value."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def authorize(
        self,
        authorizer: Any,
        rest_api_id: str,
        stage: str,
        region: str,
        account: str,
        header_value: str | None,
        method_arn: str,
    ) -> dict[str, Any]:
        self.calls.append(
            {
                "type": authorizer.type,
                "api": rest_api_id,
                "stage": stage,
                "region": region,
                "account": account,
            }
            | {"header": header_value, "method_arn": method_arn}
        )
        if header_value == "allow":
            return {"principalId": "alice", "username": "alice", "groups": "presenters"}
        if header_value == "deny":
            raise Denied("explicit deny", status=403, challenge=False)
        if header_value == "broken":
            raise AuthorizerError("the authorizer failed")
        raise Denied("unauthorized", challenge=False)

    def flush(self, rest_api_id: str, stage: str) -> None:
        """Nothing cached here."""


@dataclass
class Rest:
    server: Any
    api_id: str
    pool_id: str
    client_id: str
    id_token: str
    access_token: str
    other_pool_id_token: str
    student_access_token: str  # bob, in no group

    def sign_in(self, username: str) -> dict[str, str]:
        """A fresh session of `username` (alice, bob or carol): its tokens."""
        return _sign_in(server_client(self.server, "cognito-idp", REGION), self.client_id, username)

    @property
    def base(self) -> str:
        return f"{self.server.url}/_aws/execute-api/{self.api_id}"

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def get(self, path: str, token: str | None = None, method: str = "GET", **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = token
        return requests.request(method, self.base + path, headers=headers, timeout=20, **kw)

    def signed(self, path: str, secret: str | None = None) -> dict[str, str]:
        """SigV4 headers for GET path (execute-api, the server's key; `secret` to sign wrongly)."""
        creds = BotoCredentials(
            self.server.credentials.access_key, secret or self.server.credentials.secret_key
        )
        request = AWSRequest(method="GET", url=self.base + path)
        SigV4Auth(creds, "execute-api", REGION).add_auth(request)
        return dict(request.headers.items())


def answer(response: requests.Response) -> tuple[int, bytes]:
    return response.status_code, response.content


def _pool(idp: Any, name: str, users: dict[str, tuple[str, ...]]) -> tuple[str, str]:
    """A pool, a client and `users` (name: its groups): (pool id, client id)."""
    pool = idp.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    for group in sorted({g for groups in users.values() for g in groups}):
        idp.create_group(UserPoolId=pool, GroupName=group)
    for user, groups in users.items():
        idp.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword="Temp-Pass-1!")
        idp.admin_set_user_password(UserPoolId=pool, Username=user, Password=PASSWORD, Permanent=True)
        for group in groups:
            idp.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=group)
    return pool, client


def _sign_in(idp: Any, client_id: str, username: str) -> dict[str, str]:
    answer = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    tokens: dict[str, str] = answer["AuthenticationResult"]
    return tokens


def build(server: Any) -> Rest:
    suffix = uuid.uuid4().hex[:8]
    idp = server_client(server, "cognito-idp", REGION)
    users = {"alice": ("presenters", "staff"), "bob": (), "carol": ("presenters",)}
    pool, client_id = _pool(idp, f"rest-{suffix}", users)
    _, other_client = _pool(idp, f"rest-other-{suffix}", {"alice": ()})
    tokens = _sign_in(idp, client_id, "alice")
    role = server_client(server, "iam", REGION).create_role(
        RoleName=f"rest-{suffix}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lam = server_client(server, "lambda", REGION)
    code = zipped("fns.py", FUNCTIONS)

    def function(name: str, zip_bytes: bytes, handler: str) -> str:
        return lam.create_function(
            FunctionName=f"rest-{name}-{suffix}",
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": zip_bytes},
        )["FunctionArn"]

    fns = {
        "demo": function("demo", function_zip(), "handler.handler"),
        "authorizer": function("authorizer", function_zip(), "authorizer.handler"),
        "echo": function("echo", code, "fns.echo"),
        "boom": function("boom", code, "fns.boom"),
        "malformed": function("malformed", code, "fns.malformed"),
        "noperm": function("noperm", code, "fns.echo"),
    }
    gw = server_client(server, "apigateway", REGION)
    api = gw.create_rest_api(name=f"authdemo-{suffix}-rest", endpointConfiguration={"types": ["REGIONAL"]})[
        "id"
    ]
    root = next(r["id"] for r in gw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    pool_arn = idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Arn"]
    cognito = gw.create_authorizer(
        restApiId=api,
        name="cognito-pool",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool_arn],
        identitySource="method.request.header.Authorization",
    )["id"]
    token = gw.create_authorizer(
        restApiId=api,
        name="presenters-token",
        type="TOKEN",
        authorizerUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fns['authorizer']}/invocations",
        identitySource="method.request.header.Authorization",
        authorizerResultTtlInSeconds=300,
    )["id"]
    request_type = gw.create_authorizer(
        restApiId=api,
        name="request",
        type="REQUEST",
        authorizerUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fns['echo']}/invocations",
        identitySource="method.request.header.Authorization",
    )["id"]
    resources = {"/": root}

    def resource(path: str) -> str:
        parent_path, _, part = path.rpartition("/")
        parent = resources[parent_path or "/"] if parent_path else root
        resources[path] = gw.create_resource(restApiId=api, parentId=parent, pathPart=part)["id"]
        return resources[path]

    def method(path: str, fn: str, kind: str = "NONE", http: str = "GET", **extra: Any) -> None:
        rid = resources.get(path) or resource(path)
        gw.put_method(restApiId=api, resourceId=rid, httpMethod=http, authorizationType=kind, **extra)
        gw.put_integration(
            restApiId=api,
            resourceId=rid,
            httpMethod=http,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fns[fn]}/invocations",
        )

    method("/protected", "demo", "COGNITO_USER_POOLS", authorizerId=cognito)
    method("/scoped", "demo", "COGNITO_USER_POOLS", authorizerId=cognito, authorizationScopes=[ADMIN_SCOPE])
    method("/claims", "echo", "COGNITO_USER_POOLS", authorizerId=cognito)
    method("/lambda", "demo", "CUSTOM", authorizerId=token)
    method("/lambda/again", "echo", "CUSTOM", authorizerId=token)
    method("/request", "echo", "CUSTOM", authorizerId=request_type)
    method("/iam", "echo", "AWS_IAM")
    method("/items", "echo")
    method("/items/{id}", "echo")
    method("/items/special", "demo")
    method("/open", "echo")
    method("/open/{proxy+}", "echo", http="ANY")
    method("/boom", "boom")
    method("/malformed", "malformed")
    method("/noperm", "noperm")
    gw.create_deployment(restApiId=api, stageName="demo", variables={"colour": "blue"})
    for fn in ("demo", "echo", "boom", "malformed"):
        lam.add_permission(
            FunctionName=fns[fn],
            StatementId="rest-invoke",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{REGION}:{LOCAL_ACCOUNT_ID}:{api}/*/*/*",
        )
    lam.add_permission(
        FunctionName=fns["authorizer"],
        StatementId="rest-authorizer-invoke",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{LOCAL_ACCOUNT_ID}:{api}/authorizers/{token}",
    )
    lam.add_permission(  # another API's: not this one's
        FunctionName=fns["noperm"],
        StatementId="other-api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{LOCAL_ACCOUNT_ID}:abcdefghij/*/*/*",
    )
    return Rest(
        server=server,
        api_id=api,
        pool_id=pool,
        client_id=client_id,
        id_token=tokens["IdToken"],
        access_token=tokens["AccessToken"],
        other_pool_id_token=_sign_in(idp, other_client, "alice")["IdToken"],
        student_access_token=_sign_in(idp, client_id, "bob")["AccessToken"],
    )


@pytest.fixture(scope="module")
def rest(server: Any) -> Rest:
    return build(server)


@contextmanager
def standing_in(rest: Rest) -> Iterator[StandIn]:
    """The session gateway's REST TOKEN authorizer replaced by a StandIn, for the `with` block."""
    invoker = rest.server.gateway.execute_api.rest
    kept, invoker.token_authorizer = invoker.token_authorizer, StandIn()
    try:
        yield invoker.token_authorizer
    finally:
        invoker.token_authorizer = kept


def flip_signature(token: str) -> str:
    head, payload, sig = token.split(".")
    middle = len(sig) // 2
    swapped = "A" if sig[middle] != "A" else "B"
    return f"{head}.{payload}.{sig[:middle]}{swapped}{sig[middle + 1 :]}"


def test_cognito_doors_answer_as_the_table_says(rest: Rest) -> None:
    """/protected takes the ID token (with or without `Bearer `), /scoped the access token; every
    other token, none, a tampered one, another pool's, an expired one: REST's 401s."""
    assert answer(rest.get("/demo/protected", "Bearer " + rest.id_token))[0] == 200
    ok = rest.get("/demo/protected", rest.id_token)
    assert ok.status_code == 200 and ok.json()["message"] == "Hello from protected API!"
    assert ok.headers["x-amzn-RequestId"] and "x-amzn-ErrorType" not in ok.headers
    assert answer(rest.get("/demo/scoped", "Bearer " + rest.access_token))[0] == 200
    refused = {
        "none at /protected": rest.get("/demo/protected"),
        "empty at /protected": rest.get("/demo/protected", "Bearer "),
        "access at /protected": rest.get("/demo/protected", "Bearer " + rest.access_token),
        "id at /scoped": rest.get("/demo/scoped", "Bearer " + rest.id_token),
        "none at /scoped": rest.get("/demo/scoped"),
        "tampered id": rest.get("/demo/protected", "Bearer " + flip_signature(rest.id_token)),
        "tampered access": rest.get("/demo/scoped", "Bearer " + flip_signature(rest.access_token)),
        "other pool": rest.get("/demo/protected", "Bearer " + rest.other_pool_id_token),
        "another client": rest.get("/demo/protected", mint(rest.issuer, "not-a-client-of-the-pool")),
        "access without the scope": rest.get(
            "/demo/scoped",
            mint(rest.issuer, "", drop=("aud",), token_use="access", client_id=rest.client_id, scope="a/b"),
        ),
        "garbage": rest.get("/demo/protected", "Bearer not.a.jwt"),
    }
    for why, response in refused.items():
        assert answer(response) == U, why
        assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException", why
    expired = rest.get("/demo/protected", mint(rest.issuer, rest.client_id, exp=int(time.time()) - 5))
    assert answer(expired) == EXPIRED
    minted = mint(
        rest.issuer, "", drop=("aud",), token_use="access", client_id=rest.client_id, scope=ADMIN_SCOPE
    )
    assert rest.get("/demo/scoped", minted).status_code == 200


def test_payload_one_event_carries_claims_as_strings(rest: Rest) -> None:
    """The function gets a payload 1.0 event: REST's outer fields, the request context with the
    stage in its path, and the Cognito claims as strings (`exp` a date, `cognito:groups` joined
    by ",")."""
    response = rest.get("/demo/claims?a=1&a=2&b=x", rest.id_token, headers={"X-Test": "yes"})
    assert response.status_code == 200, response.text
    assert response.headers["x-one"] == "1" and response.headers["x-many"] == "a, b"
    event = response.json()
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/claims", "/claims", "GET")
    assert event["queryStringParameters"] == {"a": "2", "b": "x"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
    assert event["headers"]["X-Test"] == "yes" and event["multiValueHeaders"]["X-Test"] == ["yes"]
    assert event["pathParameters"] is None and event["body"] is None and event["isBase64Encoded"] is False
    assert event["stageVariables"] == {"colour": "blue"}
    context = event["requestContext"]
    assert (
        context["path"] == "/demo/claims" and context["stage"] == "demo" and context["apiId"] == rest.api_id
    )
    assert context["resourcePath"] == "/claims" and context["accountId"] == LOCAL_ACCOUNT_ID
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert context["extendedRequestId"] == response.headers["x-amz-apigw-id"]
    assert context["identity"]["sourceIp"] == "127.0.0.1" and context["identity"]["userArn"] is None
    claims = context["authorizer"]["claims"]
    assert all(isinstance(v, str) for v in claims.values()), claims
    assert claims["cognito:username"] == "alice" and claims["token_use"] == "id"
    assert sorted(claims["cognito:groups"].split(",")) == ["presenters", "staff"]
    assert claims["aud"] == rest.client_id and claims["auth_time"].isdigit()
    exp = datetime.strptime(claims["exp"], "%a %b %d %H:%M:%S UTC %Y").replace(tzinfo=timezone.utc)
    assert exp.timestamp() == jwt.decode(rest.id_token, options={"verify_signature": False})["exp"]


def test_iam_door(rest: Rest) -> None:
    """/iam: unsigned (or a bearer token without a signature's shape is refused as a signature),
    Missing Authentication Token when unsigned; a SigV4 request passes and its caller is echoed."""
    unsigned = rest.get("/demo/iam")
    assert answer(unsigned) == MAT
    assert unsigned.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    bearer = rest.get("/demo/iam", "Bearer " + rest.id_token)
    assert bearer.status_code == 403 and bearer.json()["message"]
    wrong = requests.get(
        rest.base + "/demo/iam", headers=rest.signed("/demo/iam", secret="x" * 40), timeout=20
    )
    assert wrong.status_code == 403 and wrong.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    signed = requests.get(rest.base + "/demo/iam", headers=rest.signed("/demo/iam"), timeout=20)
    assert signed.status_code == 200, signed.text
    identity = signed.json()["requestContext"]["identity"]
    assert identity["userArn"].endswith(":user/authdemo-local") and identity["accountId"] == LOCAL_ACCOUNT_ID
    assert (
        identity["accessKey"] == rest.server.credentials.access_key and identity["caller"] == identity["user"]
    )
    assert "authorizer" not in signed.json()["requestContext"]


def test_token_doors_call_the_token_authorizer(rest: Rest) -> None:
    """CUSTOM methods with a TOKEN authorizer hand the header and the method ARN to the gateway's
    token authorizer, pass what it returns to the function, and answer its refusals; a REQUEST
    authorizer is not served (500 `{"message": null}`)."""
    with standing_in(rest) as stand_in:
        allowed = rest.get("/demo/lambda/again", "allow")
        missing = rest.get("/demo/lambda")
        denied = rest.get("/demo/lambda", "deny")
        broken = rest.get("/demo/lambda", "broken")
        calls = list(stand_in.calls)
        request_type = rest.get("/demo/request", "allow")
        assert stand_in.calls == calls  # a REQUEST authorizer never reaches the TOKEN one
    assert allowed.status_code == 200, allowed.text
    context = allowed.json()["requestContext"]["authorizer"]
    assert context == {"principalId": "alice", "username": "alice", "groups": "presenters"}
    arn = f"arn:aws:execute-api:{REGION}:{LOCAL_ACCOUNT_ID}:{rest.api_id}/demo/GET/lambda/again"
    assert calls[0] == {"type": "TOKEN", "api": rest.api_id, "stage": "demo", "region": REGION} | {
        "account": LOCAL_ACCOUNT_ID,
        "header": "allow",
        "method_arn": arn,
    }
    assert answer(missing) == U and calls[1]["header"] is None
    assert denied.status_code == 403 and denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert answer(broken) == AUTHZ500
    assert broken.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
    assert answer(request_type) == AUTHZ500


def test_token_doors_with_authdemos_authorizer(rest: Rest) -> None:
    """/lambda and /lambda/again behind authdemo's own authorizer function and the gateway's
    TOKEN authorizer, as COMMON21's table has them: a presenter's Allow names /lambda only, so
    the cached policy refuses /lambda/again (the trap); a student's Deny; an ID token or none is
    401; a cached Allow outlives GlobalSignOut until FlushStageAuthorizersCache."""
    deny = b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
    no_allow = b'{"Message":"User is not authorized to access this resource"}'
    carol = rest.sign_in("carol")
    passed = rest.get("/demo/lambda", "Bearer " + carol["AccessToken"])
    assert passed.status_code == 200, passed.text
    assert passed.json()["user"] == "carol"
    trap = rest.get("/demo/lambda/again", "Bearer " + carol["AccessToken"])
    assert answer(trap) == (403, no_allow) and trap.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    student = "Bearer " + rest.student_access_token
    assert answer(rest.get("/demo/lambda", student)) == (403, deny)
    assert answer(rest.get("/demo/lambda/again", student)) == (403, no_allow)
    assert answer(rest.get("/demo/lambda", "Bearer " + carol["IdToken"])) == U
    assert answer(rest.get("/demo/lambda")) == U
    server_client(rest.server, "cognito-idp", REGION).global_sign_out(AccessToken=carol["AccessToken"])
    assert rest.get("/demo/lambda", "Bearer " + carol["AccessToken"]).status_code == 200  # cached
    server_client(rest.server, "apigateway", REGION).flush_stage_authorizers_cache(
        restApiId=rest.api_id, stageName="demo"
    )
    assert answer(rest.get("/demo/lambda", "Bearer " + carol["AccessToken"])) == U


def test_missing_things_are_missing_authentication_token(rest: Rest) -> None:
    """A resource or method that does not exist is REST's 403 Missing Authentication Token (the
    typo row: /Protected, no token); with a bearer token REST reads the header as a signature:
    403 IncompleteSignatureException, the header hashed, never echoed; an unknown stage is 403
    Forbidden."""
    for response in (
        rest.get("/demo/Protected"),
        rest.get("/demo/nothing/here"),
        rest.get("/demo/protected", method="POST"),
        rest.get("/demo/"),
        rest.get("/demo"),
    ):
        assert answer(response) == MAT, response.request.url
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    for response in (
        rest.get("/demo/Protected", "Bearer " + rest.id_token),
        rest.get("/demo/protected", "Bearer " + rest.id_token, method="POST"),
        rest.get("/demo/iam", "Bearer " + rest.id_token),
    ):
        status, body = answer(response)
        assert status == 403 and response.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"
        assert body.startswith(b'{"message":"Invalid key=value pair (missing equal-sign) in Authorization')
        assert rest.id_token.encode() not in body and rest.id_token[:20].encode() not in body
    for path in ("/nope/protected", "/Demo/protected", "/", ""):
        unknown = rest.get(path, "Bearer " + rest.id_token)
        assert answer(unknown) == FORBIDDEN and unknown.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_resources_match_as_rest_matches_them(rest: Rest) -> None:
    """An exact part wins over `{id}`, which wins over nothing; `{proxy+}` takes the rest of the
    path under ANY; the Host form reaches the same API."""
    special = rest.get("/demo/items/special")
    assert special.status_code == 200 and special.json()["message"] == "Hello from protected API!"
    item = rest.get("/demo/items/42").json()
    assert item["resource"] == "/items/{id}" and item["pathParameters"] == {"id": "42"}
    assert rest.get("/demo/items").json()["resource"] == "/items"
    proxied = rest.get("/demo/open/a/b/c", method="DELETE", data=b"\x00\xff", headers={"content-type": "x/y"})
    event = proxied.json()
    assert event["pathParameters"] == {"proxy": "a/b/c"} and event["httpMethod"] == "DELETE"
    assert event["isBase64Encoded"] is True and event["body"] == "AP8="
    assert answer(rest.get("/demo/open", method="POST")) == MAT  # /open has GET only
    port = rest.server.url.rsplit(":", 1)[1]
    by_host = requests.get(
        f"http://127.0.0.1:{port}/demo/items/7",
        headers={"Host": f"{rest.api_id}.execute-api.localhost:{port}"},
        timeout=20,
    )
    assert by_host.json()["pathParameters"] == {"id": "7"}
    assert by_host.json()["requestContext"]["domainName"] == f"{rest.api_id}.execute-api.localhost"


def test_backend_failures(rest: Rest) -> None:
    """A function that raises or answers no proxy response: 502; no invoke permission for this
    API: 500; both with REST's `{"message": "Internal server error"}`."""
    for path, expected in (
        ("/demo/boom", BAD_GATEWAY),
        ("/demo/malformed", BAD_GATEWAY),
        ("/demo/noperm", INTERNAL),
    ):
        response = rest.get(path)
        assert answer(response) == expected, path
        assert response.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_rest_doors_are_as_closed_as_http_ones(rest: Rest) -> None:
    """REST invoke URLs promise what HTTP API ones do: a token signed with any key but the pool's
    (moto's published one) gets 401, an unsigned call to an AWS_IAM method is refused, a body past
    10 MB is refused (413) before the gateway reads it; an id that is no REST API still reaches
    the HTTP API gateway (its 404, not REST's 403)."""
    forged = mint(rest.issuer, rest.client_id, key=moto_published_key())
    for path in ("/demo/protected", "/demo/claims"):
        assert answer(rest.get(path, "Bearer " + forged)) == U
    assert answer(rest.get("/demo/iam")) == MAT
    big = rest.get("/demo/open/x", method="POST", data=b"x" * (10 * 1024 * 1024 + 1))
    assert big.status_code == 413 and big.headers["x-amzn-RequestId"]
    response = requests.get(f"{rest.server.url}/_aws/execute-api/nosuchapi1/demo/protected", timeout=20)
    assert answer(response) == (404, b'{"message":"Not Found"}')
    assert "x-amzn-RequestId" not in response.headers and response.headers["apigw-requestid"]


# Any path under the API (`..` would leave it: requests resolves dot segments).
PATHS = st.text(st.characters(codec="ascii", exclude_characters="?#\r\n\x00"), max_size=40).filter(
    lambda p: ".." not in p
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/demo/protected", "/demo/scoped", "/demo/iam", "/demo/lambda", "/demo/Protected"])
    | PATHS,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    authorization=st.none()
    | st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=200)
    | st.sampled_from(["Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30.", "AWS4-HMAC-SHA256 Credential=x"]),
    extra=st.dictionaries(
        st.sampled_from(["X-Amz-Date", "Content-Type", "X-Amz-Security-Token"]), st.text(max_size=20)
    ),
)
def test_fuzz_rest_doors_answer_cleanly(
    rest: Rest, path: str, method: str, authorization: str | None, extra: dict[str, str]
) -> None:
    """Whatever the path, method, token and headers, a REST door answers a clean 4xx or the
    documented 500/502 with a JSON body: never a traceback, never a hang."""
    headers = {k: v for k, v in extra.items() if v.isprintable()}
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        response = rest.get("/" + path.lstrip("/"), method=method, headers=headers)
    except (ValueError, requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL):
        return  # requests would not send it
    assert response.status_code in (200, 400, 401, 403, 413, 500, 502), response.text
    assert response.headers["x-amzn-RequestId"]  # REST's answer, never the HTTP API gateway's
    if response.status_code >= 500:
        assert answer(response) in (AUTHZ500, INTERNAL, BAD_GATEWAY)
    elif response.status_code != 200:
        assert json.loads(response.content) and "Traceback" not in response.text


def test_proxy_answers_follow_rests_output_format() -> None:
    """A function's answer by REST's rules: `multiValueHeaders` win over `headers`, a base64 body
    is decoded, JSON is the default type; any other key, a body that is no string, a status that
    is no number or no HTTP status is malformed (API Gateway's 502)."""
    from authdemo.local.rest_event import MalformedAnswer, proxy_response

    status, headers, body = proxy_response(
        {
            "statusCode": "201",
            "headers": {"x-a": "one", "x-b": "b\r\nInjected: yes", "content-length": "9"},
            "multiValueHeaders": {"x-a": ["1", "2"]},
            "body": "aGk=",
            "isBase64Encoded": True,
        }
    )
    assert (status, body) == (201, b"hi")
    assert headers == [
        ("x-a", "1"),
        ("x-a", "2"),
        ("x-b", "b Injected: yes"),
        ("content-type", "application/json"),
    ]
    assert proxy_response({"statusCode": 204}) == (204, [("content-type", "application/json")], b"")
    for bad in (
        {"statusCode": 200, "cookies": ["a=1"]},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": True},
        {"statusCode": 99},
        {"body": "no status"},
        {"statusCode": 200, "body": "!", "isBase64Encoded": True},
        {"statusCode": 200, "multiValueHeaders": {"x": "not a list"}},
        ["not", "an", "object"],
    ):
        with pytest.raises(MalformedAnswer):
            proxy_response(bad)
