"""The embedded gateway's other doors: Lambda (REQUEST) authorizers and AWS_IAM routes, over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from conftest import server_client, zipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authdemo.aws import LOCAL_ACCOUNT_ID
from authdemo.local.server import EmbeddedServer

REGION = "us-west-2"
PASSWORD = "Demo-Pass-123!"
UNAUTHORIZED = {"message": "Unauthorized"}
FORBIDDEN = {"message": "Forbidden"}
INTERNAL = {"message": "Internal Server Error"}

AUTHORIZERS = """
import json, os, time

def _count(token):
    # Over loopback, not into a file: function code cannot write outside its own HOME.
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(token.encode(), ("127.0.0.1", int(os.environ["COUNT_PORT"])))

def simple(event, context):
    token = event["identitySource"][0]
    _count(token)
    if token.startswith("boom"):
        raise RuntimeError("the authorizer failed")
    if token.startswith("slow"):
        time.sleep(5)
    if token.startswith("junk"):
        return json.loads(token[4:] or "null")
    return {"isAuthorized": token.startswith("good"), "context": {"who": token, "n": 1, "event": event}}

def policy(event, context):
    token = event["identitySource"][0]
    _count(token)
    effect = "Allow" if token.startswith("good") else "Deny"
    resource = event["routeArn"].rsplit("/", 2)[0] + "/*" if "wild" in token else event["routeArn"]
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    return {"principalId": "p-" + token, "policyDocument": {"Version": "2012-10-17",
            "Statement": [statement]}, "context": {"who": token}}

def cognito(event, context):
    import boto3  # here, not at the top: the other authorizers' Timeout stays a cold start apart
    token = event["identitySource"][0].removeprefix("Bearer ")
    try:
        user = boto3.client("cognito-idp").get_user(AccessToken=token)
    except Exception as exc:
        print("authorizer: get_user refused:", exc)
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"username": user["Username"]}}
"""

BACKEND = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""


class Counter:
    """The authorizers' invocations, as each reports its token in a datagram to this loopback
    port (a datagram sent on loopback is queued before `sendto` returns)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        self.tokens: list[str] = []

    def seen(self) -> list[str]:
        while True:
            try:
                self.tokens.append(self.sock.recv(65536).decode())
            except BlockingIOError:
                return list(self.tokens)


@dataclass
class Doors:
    server: EmbeddedServer
    api_id: str
    counter: Counter
    access_token: str
    pool_id: str
    client_id: str

    def url(self, path: str) -> str:
        return f"{self.server.url}/_aws/execute-api/{self.api_id}{path}"

    def get(self, path: str, token: str | None = None, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = token
        return requests.get(self.url(path), headers=headers, timeout=20, **kw)

    def invocations(self, token: str) -> int:
        return self.counter.seen().count(token)

    def signed(
        self,
        path: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        service: str = "execute-api",
        region: str = REGION,
        when: dt.datetime | None = None,
    ) -> dict[str, str]:
        """SigV4 headers for GET path, signed with the server's key unless told otherwise."""
        creds = BotoCredentials(
            access_key or self.server.credentials.access_key,
            secret_key or self.server.credentials.secret_key,
        )
        request = AWSRequest(method="GET", url=self.url(path))
        auth = SigV4Auth(creds, service, region)
        if when is not None:
            request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
            auth._modify_request_before_signing(request)
            canonical = auth.canonical_request(request)
            signature = auth.signature(auth.string_to_sign(request, canonical), request)
            auth._inject_signature_to_request(request, signature)
        else:
            auth.add_auth(request)
        return dict(request.headers.items())


def new_token(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def doors() -> Iterator[Doors]:
    server = EmbeddedServer(port=0, quiet=True).start()
    counter = Counter()
    try:
        yield build(server, counter)
    finally:
        server.stop()
        counter.sock.close()


def build(server: EmbeddedServer, counter: Counter) -> Doors:
    idp = server_client(server, "cognito-idp", REGION)
    pool = idp.create_user_pool(PoolName="doors")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="alice", TemporaryPassword="Temp-Pass-1!")
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)
    tokens = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]

    role = server_client(server, "iam", REGION).create_role(
        RoleName=f"doors-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lam = server_client(server, "lambda", REGION)
    auth_zip = zipped("auth.py", AUTHORIZERS)

    def function(name: str, code: bytes, handler: str, timeout: int = 3) -> str:
        return lam.create_function(
            FunctionName=f"{name}-{uuid.uuid4().hex[:8]}",
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=timeout,
            Environment={"Variables": {"COUNT_PORT": str(counter.port)}},
        )["FunctionArn"]

    backend_fn = function("backend", zipped("backend.py", BACKEND), "backend.handler")
    fns = {
        "simple": function("simple", auth_zip, "auth.simple", timeout=2),
        "policy": function("policy", auth_zip, "auth.policy"),
        "cognito": function("cognito", auth_zip, "auth.cognito", timeout=10),
        "noperm": function("noperm", auth_zip, "auth.simple"),
    }
    gw = server_client(server, "apigatewayv2", REGION)
    api = gw.create_api(Name="doors", ProtocolType="HTTP")["ApiId"]
    target = (
        "integrations/"
        + gw.create_integration(
            ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=backend_fn, PayloadFormatVersion="2.0"
        )["IntegrationId"]
    )
    lam.add_permission(
        FunctionName=backend_fn,
        StatementId="apigw",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{LOCAL_ACCOUNT_ID}:{api}/*/*/*",
    )

    def authorizer(fn: str, simple: bool = True, ttl: int = 0, sources: list[str] | None = None) -> str:
        uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fns[fn]}/invocations"
        authorizer_id = gw.create_authorizer(
            ApiId=api,
            AuthorizerType="REQUEST",
            Name=f"{fn}-{ttl}-{simple}",
            AuthorizerUri=uri,
            AuthorizerPayloadFormatVersion="2.0",
            EnableSimpleResponses=simple,
            AuthorizerResultTtlInSeconds=ttl,
            IdentitySource=sources or ["$request.header.Authorization"],
        )["AuthorizerId"]
        if fn != "noperm":
            lam.add_permission(
                FunctionName=fns[fn],
                StatementId=f"apigw-{authorizer_id}",
                Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=f"arn:aws:execute-api:{REGION}:{LOCAL_ACCOUNT_ID}:{api}/authorizers/*",
            )
        return authorizer_id

    def route(key: str, kind: str, authorizer_id: str | None = None) -> None:
        extra: dict[str, Any] = {"AuthorizationType": kind}
        if authorizer_id:
            extra["AuthorizerId"] = authorizer_id
        gw.create_route(ApiId=api, RouteKey=key, Target=target, **extra)

    route("GET /simple", "CUSTOM", authorizer("simple"))
    route("GET /cached", "CUSTOM", authorizer("simple", ttl=300))
    route("GET /policy", "CUSTOM", authorizer("policy", simple=False))
    route("GET /policy/{id}", "CUSTOM", authorizer("policy", simple=False, ttl=300))
    route(
        "GET /two",
        "CUSTOM",
        authorizer("simple", sources=["$request.header.X-Key", "$request.querystring.k"]),
    )
    route("GET /cognito", "CUSTOM", authorizer("cognito"))
    route("GET /noperm", "CUSTOM", authorizer("noperm"))
    route("GET /iam", "AWS_IAM")
    gw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    return Doors(server, api, counter, tokens["AccessToken"], pool, client_id)


# --- Lambda (REQUEST) authorizers ---------------------------------------------------------


def test_missing_identity_source_is_401_and_the_authorizer_is_not_invoked(doors: Doors) -> None:
    """No Authorization header: 401 Unauthorized, the function never runs (nothing counted)."""
    before = doors.counter.seen()
    for headers in ({}, {"Authorization": ""}):
        response = doors.get("/simple", headers=headers)
        assert response.status_code == 401 and response.json() == UNAUTHORIZED
        assert "www-authenticate" not in response.headers
    after = doors.counter.seen()
    assert after == before


def test_all_identity_sources_are_required(doors: Doors) -> None:
    """Header and query string sources: one missing is 401; both present reach the function."""
    key = new_token("good")
    assert doors.get("/two", headers={"X-Key": key}).status_code == 401
    assert doors.get("/two?k=1").status_code == 401
    assert doors.get("/two?k=", headers={"X-Key": key}).status_code == 401
    assert doors.invocations(key) == 0
    response = doors.get("/two?k=7", headers={"X-Key": key})
    assert response.status_code == 200
    seen = response.json()["requestContext"]["authorizer"]["lambda"]["event"]
    assert seen["identitySource"] == [key, "7"]


def test_authorized_request_passes_the_context_to_the_backend(doors: Doors) -> None:
    """isAuthorized true: 200, the backend's event carries requestContext.authorizer.lambda."""
    token = new_token("good")
    response = doors.get("/simple?a=1&a=2", token, headers={"Cookie": "c1=x; c2=y"})
    assert response.status_code == 200, response.text
    event = response.json()
    context = event["requestContext"]["authorizer"]["lambda"]
    assert context["who"] == token and context["n"] == 1
    seen = context["event"]  # what the authorizer itself received
    assert seen["version"] == "2.0" and seen["type"] == "REQUEST"
    assert seen["routeKey"] == "GET /simple" and seen["rawPath"] == "/simple"
    assert seen["rawQueryString"] == "a=1&a=2" and seen["queryStringParameters"] == {"a": "1,2"}
    assert seen["identitySource"] == [token] and seen["headers"]["authorization"] == token
    assert seen["cookies"] == ["c1=x", "c2=y"]
    assert (
        seen["routeArn"]
        == f"arn:aws:execute-api:{REGION}:{LOCAL_ACCOUNT_ID}:{doors.api_id}/$default/GET/simple"
    )
    assert "body" not in seen and seen["requestContext"]["http"]["method"] == "GET"


def test_is_authorized_false_is_403(doors: Doors) -> None:
    """isAuthorized false: 403 Forbidden."""
    response = doors.get("/simple", new_token("bad"))
    assert response.status_code == 403 and response.json() == FORBIDDEN


@pytest.mark.parametrize(
    ("token", "status"),
    [("good", 200), ("good-wild", 200), ("bad", 403), ("bad-wild", 403)],
)
def test_policy_responses_allow_and_deny(doors: Doors, token: str, status: int) -> None:
    """Policy replies: an Allow on the routeArn (or a wildcard over it) lets in, a Deny is 403."""
    response = doors.get("/policy", new_token(token))
    assert response.status_code == status
    if status == 200:
        assert response.json()["requestContext"]["authorizer"]["lambda"]["who"].startswith(token)
    else:
        assert response.json() == FORBIDDEN


def test_cached_policy_is_evaluated_per_route(doors: Doors) -> None:
    """A cached policy allowing only /policy/1 does not let /policy/2 in (no second invocation)."""
    token = new_token("good")
    assert doors.get("/policy/1", token).status_code == 200
    response = doors.get("/policy/2", token)
    assert response.status_code == 403 and response.json() == FORBIDDEN
    assert doors.invocations(token) == 1


@pytest.mark.parametrize(
    "token",
    [
        "boom",
        "slow",
        "junk",
        'junk"yes"',
        'junk{"isAuthorized":"yes"}',
        'junk{"isAuthorized":true,"context":[1]}',
    ],
)
def test_broken_authorizer_is_500(doors: Doors, token: str) -> None:
    """Raising, timing out (Timeout=2) or replying in neither shape: 500 Internal Server Error."""
    response = doors.get("/simple", token)
    assert response.status_code == 500 and response.json() == INTERNAL


def test_missing_invoke_permission_is_500_and_not_invoked(doors: Doors) -> None:
    """No lambda:InvokeFunction permission for .../authorizers/<id>: 500, the function not run."""
    token = new_token("good")
    response = doors.get("/noperm", token)
    assert response.status_code == 500 and response.json() == INTERNAL
    assert doors.invocations(token) == 0


def test_ttl_caches_the_decision(doors: Doors) -> None:
    """TTL 300: the second request with the same identity is decided without invoking."""
    token = new_token("good")
    assert doors.get("/cached", token).status_code == 200
    assert doors.get("/cached", token).status_code == 200
    assert doors.invocations(token) == 1
    other = new_token("good")
    assert doors.get("/cached", other).status_code == 200
    assert doors.invocations(other) == 1


def test_ttl_zero_invokes_every_time(doors: Doors) -> None:
    """TTL 0: every request invokes the authorizer."""
    token = new_token("good")
    for _ in range(3):
        assert doors.get("/simple", token).status_code == 200
    assert doors.invocations(token) == 3


def test_authorizer_calls_cognito_and_global_sign_out_revokes(doors: Doors) -> None:
    """The authorizer's boto3 reaches the embedded Cognito (GetUser); after GlobalSignOut it denies."""
    idp = doors.server.url
    client = boto3.client("cognito-idp", endpoint_url=idp, region_name=REGION)
    tokens = client.initiate_auth(
        ClientId=doors.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    access = tokens["AccessToken"]
    response = doors.get("/cognito", f"Bearer {access}")
    assert response.status_code == 200, response.text
    assert response.json()["requestContext"]["authorizer"]["lambda"] == {"username": "alice"}
    client.global_sign_out(AccessToken=access)
    denied = doors.get("/cognito", f"Bearer {access}")
    assert denied.status_code == 403 and denied.json() == FORBIDDEN


# --- the moto gap: unsigned Cognito calls find their pool's region ----------------------------


def test_unsigned_get_user_and_global_sign_out_find_a_us_west_2_pool(doors: Doors) -> None:
    """Unsigned GetUser answers the user; unsigned GlobalSignOut works; then GetUser is refused."""
    from botocore import UNSIGNED
    from botocore.config import Config

    client = boto3.client(
        "cognito-idp",
        endpoint_url=doors.server.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )
    access = client.initiate_auth(
        ClientId=doors.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    assert client.get_user(AccessToken=access)["Username"] == "alice"
    client.global_sign_out(AccessToken=access)
    with pytest.raises(client.exceptions.NotAuthorizedException) as refused:
        client.get_user(AccessToken=access)
    # moto says "Invalid token"; AWS says "Access Token has been revoked" (aws-facts-authorizers §4).
    assert "Invalid token" in str(refused.value)


# --- AWS_IAM routes ----------------------------------------------------------------------------


def test_iam_signed_with_the_server_key_passes_with_the_iam_context(doors: Doors) -> None:
    """SigV4 for execute-api with the server's own key: 200 and requestContext.authorizer.iam."""
    response = requests.get(doors.url("/iam?x=1"), headers=doors.signed("/iam?x=1"), timeout=10)
    assert response.status_code == 200, response.text
    iam = response.json()["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == doors.server.credentials.access_key
    assert iam["accountId"] == LOCAL_ACCOUNT_ID
    assert iam["userArn"] == f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/authdemo-local"
    assert iam["cognitoIdentity"] is None and iam["principalOrgId"] is None
    assert iam["callerId"] == iam["userId"]


def test_iam_unsigned_is_403_forbidden(doors: Doors) -> None:
    response = requests.get(doors.url("/iam"), timeout=10)
    assert response.status_code == 403 and response.json() == FORBIDDEN


def test_iam_unknown_key_is_403(doors: Doors) -> None:
    headers = doors.signed("/iam", access_key="AKIAUNKNOWNUNKNOWN00", secret_key="x" * 40)
    response = requests.get(doors.url("/iam"), headers=headers, timeout=10)
    assert response.status_code == 403
    assert response.json() == {"message": "The security token included in the request is invalid."}


def test_iam_tampered_signature_is_403(doors: Doors) -> None:
    headers = doors.signed("/iam")
    headers["Authorization"] = headers["Authorization"][:-4] + (
        "0000" if not headers["Authorization"].endswith("0000") else "1111"
    )
    response = requests.get(doors.url("/iam"), headers=headers, timeout=10)
    assert response.status_code == 403
    assert response.json()["message"].startswith("The request signature we calculated does not match")


def test_iam_signature_for_another_path_is_403(doors: Doors) -> None:
    """A signature over /iam?x=1 does not let /iam?x=2 in (the canonical request uses the raw query)."""
    response = requests.get(doors.url("/iam?x=2"), headers=doors.signed("/iam?x=1"), timeout=10)
    assert response.status_code == 403


def test_iam_expired_signature_is_403(doors: Doors) -> None:
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=20)
    response = requests.get(doors.url("/iam"), headers=doors.signed("/iam", when=old), timeout=10)
    assert response.status_code == 403
    assert response.json()["message"].startswith("Signature expired: ")


@pytest.mark.parametrize(
    ("service", "region", "message"),
    [
        ("lambda", REGION, "Credential should be scoped to correct service: 'execute-api'. "),
        ("execute-api", "eu-west-1", "Credential should be scoped to a valid region, not 'eu-west-1'. "),
    ],
)
def test_iam_wrong_scope_is_403(doors: Doors, service: str, region: str, message: str) -> None:
    headers = doors.signed("/iam", service=service, region=region)
    response = requests.get(doors.url("/iam"), headers=headers, timeout=10)
    assert response.status_code == 403 and response.json() == {"message": message}


# --- fuzz ------------------------------------------------------------------------------------

_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(authorization=_text, date=_text, extra=_text)
def test_fuzz_iam_door_answers_a_clean_403(doors: Doors, authorization: str, date: str, extra: str) -> None:
    """Random Authorization / X-Amz-Date headers on an AWS_IAM route: always a JSON 403."""
    authorization, date, extra = authorization.strip(), date.strip(), extra.strip()
    headers = {"Authorization": authorization, "X-Amz-Date": date, "X-Extra": extra}
    if not authorization:
        headers.pop("Authorization")
    response = requests.get(doors.url("/iam"), headers=headers, timeout=10)
    assert response.status_code == 403
    assert set(response.json()) == {"message"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reply=_json)
def test_fuzz_lambda_authorizer_replies_are_200_403_or_500(doors: Doors, reply: Any) -> None:
    """Whatever JSON the authorizer returns: 200 only for isAuthorized true, 403 false, else 500."""
    response = doors.get("/simple", "junk" + json.dumps(reply))
    expected = 500
    if isinstance(reply, dict) and isinstance(reply.get("isAuthorized"), bool):
        context = reply.get("context")
        if context is None or isinstance(context, dict):
            expected = 200 if reply["isAuthorized"] else 403
    assert response.status_code == expected, (reply, response.text)
    assert "Traceback" not in response.text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_text, name=st.sampled_from(["Authorization", "X-Key", "Cookie", "X-Other"]))
def test_fuzz_lambda_door_headers_get_a_clean_answer(doors: Doors, value: str, name: str) -> None:
    """Random header values on a Lambda-authorized route: 200/401/403/500 JSON, never a traceback."""
    response = doors.get("/two?k=1", headers={name: value.strip()})
    assert response.status_code in (200, 401, 403, 500)
    assert set(response.json()) == {"message"} or response.status_code == 200


# --- the decision rules, without a server -----------------------------------------------------

ARN = "arn:aws:execute-api:us-west-2:123456789012:abc123/$default/GET/items/7"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Statement": list(statements)}


@pytest.mark.parametrize(
    ("policy", "allowed"),
    [
        (_policy({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN}), True),
        (
            _policy({"Effect": "Allow", "Action": "execute-api:*", "Resource": ARN.rsplit("/", 2)[0] + "/*"}),
            True,
        ),
        (_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}), True),
        (_policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}), False),
        (_policy({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN[:-1] + "8"}), False),
        (
            _policy(
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": ARN},
            ),
            False,
        ),
        (_policy(), False),
    ],
)
def test_policy_allows_follows_iam_rules(policy: dict[str, Any], allowed: bool) -> None:
    """Deny wins; otherwise an Allow whose action and resource (with wildcards) match is needed."""
    from authdemo.local.authorizers.lambda_ import policy_allows

    assert policy_allows(policy, ARN) is allowed


def test_decision_cache_forgets_after_the_ttl() -> None:
    """A cached decision is served within its TTL and gone after it."""
    import time

    from authdemo.local.authorizers.lambda_ import Decision, DecisionCache

    cache = DecisionCache()
    cache.put(("api", "auth", "v"), Decision(True, None, None), 0.2)
    assert cache.get(("api", "auth", "v")) is not None
    assert cache.get(("api", "auth", "other")) is None
    time.sleep(0.25)
    assert cache.get(("api", "auth", "v")) is None


def test_context_and_stage_variable_identity_sources() -> None:
    """$context.* and $stageVariables.* are read from the request; a missing one is a 401."""
    from authdemo.local.authorizers import Denied
    from authdemo.local.authorizers.lambda_ import RequestView, identity_values

    view = RequestView(
        route_arn=ARN,
        route_key="GET /items/{id}",
        raw_path="/items/7",
        raw_query="",
        cookies=[],
        headers={"authorization": "t"},
        query={},
        path_parameters={"id": "7"},
        stage_variables={"tier": "gold"},
        request_context={"routeKey": "GET /items/{id}", "http": {"method": "GET"}},
    )
    sources = (
        "$request.header.Authorization",
        "$context.routeKey",
        "$context.http.method",
        "$stageVariables.tier",
    )
    assert identity_values(sources, view) == ["t", "GET /items/{id}", "GET", "gold"]
    with pytest.raises(Denied) as denied:
        identity_values(("$stageVariables.missing",), view)
    assert denied.value.status == 401 and denied.value.body == b'{"message":"Unauthorized"}'
