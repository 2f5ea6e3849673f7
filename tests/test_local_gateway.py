"""The embedded server end to end: real HTTP on 127.0.0.1, resources made through boto3."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from conftest import mint, server_client, zipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authdemo.local.moto_patches import pool_key
from authdemo.local.server import EmbeddedServer

REGION = "us-west-2"
ACCOUNT = "123456789012"
PASSWORD = "Demo-Pass-123!"
HANDLER = Path(__file__).resolve().parent.parent / "authdemo" / "lambda_src"
UNAUTHORIZED = {"message": "Unauthorized"}

ECHO_SOURCE = """
import base64, json, os, sys, time

def handler(event, context):
    q = event.get("queryStringParameters") or {}
    if "b64" in q:
        body = base64.b64encode(b"\\x00\\xffhi").decode()
        return {"statusCode": 201, "isBase64Encoded": True, "body": body}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-echo": "yes"},
        "cookies": ["a=1", "b=2; Path=/"],
        "body": json.dumps({"event": event, "function": context.function_name,
                            "remaining": context.get_remaining_time_in_millis()}),
    }

def boom(event, context):
    raise RuntimeError("the function failed")

def plain(event, context):
    return {"hello": "world", "n": 1}

def environ(event, context):
    return {"env": dict(os.environ), "cwd": os.getcwd(), "authdemo": "authdemo" in sys.modules}

def slow(event, context):
    if (event.get("queryStringParameters") or {}).get("sleep"):
        time.sleep(3)
    return {"remaining": context.get_remaining_time_in_millis()}

def chatty(event, context):
    print('{"ok": false, "error": "printed by the handler"}')
    print("x" * 200000)
    return {"chatty": True}
"""


@dataclass
class Stack:
    suffix: str
    server: EmbeddedServer
    api_id: str
    default_api_id: str
    undeployed_api_id: str
    pool_id: str
    client_id: str
    id_token: str
    access_token: str
    other_client_access_token: str

    def client(self, service: str) -> Any:
        """A boto3 client for the embedded AWS behind this stack's server."""
        return server_client(self.server, service, REGION)

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/_aws/execute-api/{self.api_id}"

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def get(self, path: str, token: str | None = None, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = token
        return requests.get(self.api_url + path, headers=headers, timeout=10, **kw)

    def mint(self, drop: tuple[str, ...] = (), headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """A token of this stack's pool and client, signed with the server's key (conftest.mint)."""
        claims = {"cognito:username": "minted", **claims}
        return mint(self.issuer, self.client_id, drop=drop, headers=headers, lifetime=600, **claims)


def build_stack(server: EmbeddedServer) -> Stack:
    kw: dict[str, Any] = {
        "endpoint_url": server.url,
        "region_name": REGION,
        "aws_access_key_id": server.credentials.access_key,
        "aws_secret_access_key": server.credentials.secret_key,
    }
    # Unique names: other test modules may share this process's moto backends.
    suffix = uuid.uuid4().hex[:8]
    idp = boto3.client("cognito-idp", **kw)
    pool = idp.create_user_pool(PoolName="demo")["UserPool"]["Id"]
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web", ExplicitAuthFlows=flows)
    client_id = client["UserPoolClient"]["ClientId"]
    other = idp.create_user_pool_client(UserPoolId=pool, ClientName="other", ExplicitAuthFlows=flows)
    other_id = other["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="alice", TemporaryPassword="Temp-Pass-1!")
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)

    def login(cid: str) -> dict[str, str]:
        params = {"USERNAME": "alice", "PASSWORD": PASSWORD}
        answer = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)
        return answer["AuthenticationResult"]

    tokens = login(client_id)

    role = boto3.client("iam", **kw).create_role(
        RoleName=f"demo-fn-{suffix}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lam = boto3.client("lambda", **kw)
    demo_zip = zipped("handler.py", (HANDLER / "handler.py").read_text())
    echo_zip = zipped("echo.py", ECHO_SOURCE)

    def function(name: str, code: bytes, handler: str, **extra: Any) -> str:
        return lam.create_function(
            FunctionName=f"{name}-{suffix}",
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": code},
            **extra,
        )["FunctionArn"]

    fns = {
        "demo": function("demo", demo_zip, "handler.handler"),
        "echo": function("echo", echo_zip, "echo.handler"),
        "boom": function("boom", echo_zip, "echo.boom"),
        "plain": function("plain", echo_zip, "echo.plain"),
        "noperm": function("noperm", echo_zip, "echo.plain"),
        "otherapi": function("otherapi", echo_zip, "echo.plain"),
        "environ": function(
            "environ", echo_zip, "echo.environ", Environment={"Variables": {"GREETING": "hi"}}
        ),
        "slow": function("slow", echo_zip, "echo.slow", Timeout=1),
        "chatty": function("chatty", echo_zip, "echo.chatty"),
    }
    gw = boto3.client("apigatewayv2", **kw)
    api = gw.create_api(Name="demo", ProtocolType="HTTP")["ApiId"]
    authorizer = gw.create_authorizer(
        ApiId=api,
        AuthorizerType="JWT",
        Name="cognito",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={
            "Audience": [client_id],
            "Issuer": f"https://cognito-idp.{REGION}.amazonaws.com/{pool}",
        },
    )["AuthorizerId"]

    def integration(api_id: str, fn: str) -> str:
        return (
            "integrations/"
            + gw.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fns[fn], PayloadFormatVersion="2.0"
            )["IntegrationId"]
        )

    def route(
        key: str, fn: str, scopes: list[str] | None = None, api_id: str = api, guarded: bool = False
    ) -> None:
        extra: dict[str, Any] = {"AuthorizationType": "NONE"}
        if guarded:
            extra = {"AuthorizationType": "JWT", "AuthorizerId": authorizer}
            if scopes:
                extra["AuthorizationScopes"] = scopes
        gw.create_route(ApiId=api_id, RouteKey=key, Target=integration(api_id, fn), **extra)

    route("GET /protected", "demo", guarded=True)
    route("GET /scoped", "demo", ["aws.cognito.signin.user.admin"], guarded=True)
    route("GET /scoped-custom", "demo", ["demo/read", "demo/write"], guarded=True)
    route("GET /echo/{id}", "echo", guarded=True)
    route("ANY /open", "echo")
    route("POST /boom", "boom")
    route("GET /plain", "plain")
    route("GET /noperm", "noperm")
    route("GET /otherapi", "otherapi")
    route("GET /environ", "environ")
    route("GET /slow", "slow")
    route("GET /chatty", "chatty")
    gw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)

    default_api = gw.create_api(Name="fallback", ProtocolType="HTTP")["ApiId"]
    route("$default", "echo", api_id=default_api)
    gw.create_stage(ApiId=default_api, StageName="$default", AutoDeploy=True)
    undeployed = gw.create_api(Name="undeployed", ProtocolType="HTTP")["ApiId"]
    route("GET /open", "echo", api_id=undeployed)
    gw.create_stage(ApiId=undeployed, StageName="$default")

    def permit(fn: str, source: str, sid: str = "apigw") -> None:
        lam.add_permission(
            FunctionName=fns[fn],
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{source}",
        )

    permit("demo", f"{api}/*/*/protected")
    permit("demo", f"{api}/*/*/scoped*", sid="scoped")
    permit("echo", f"{api}/*/*/*")
    permit("echo", f"{default_api}/*/$default", sid="default")
    permit("echo", f"{undeployed}/*/*/*", sid="undeployed")
    permit("boom", f"{api}/*/POST/boom")
    permit("plain", f"{api}/*/GET/plain")
    permit("otherapi", "abcdefgh/*/*/otherapi")
    for fn in ("environ", "slow", "chatty"):
        permit(fn, f"{api}/*/GET/{fn}")
    return Stack(
        suffix=suffix,
        server=server,
        api_id=api,
        default_api_id=default_api,
        undeployed_api_id=undeployed,
        pool_id=pool,
        client_id=client_id,
        id_token=tokens["IdToken"],
        access_token=tokens["AccessToken"],
        other_client_access_token=login(other_id)["AccessToken"],
    )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    server = EmbeddedServer(port=0, quiet=True).start()
    try:
        yield build_stack(server)
    finally:
        server.stop()


def flip_signature(token: str) -> str:
    head, payload, sig = token.split(".")
    middle = len(sig) // 2
    swapped = "A" if sig[middle] != "A" else "B"
    return f"{head}.{payload}.{sig[:middle]}{swapped}{sig[middle + 1 :]}"


TokenMaker = Callable[[Stack], "str | None"]
NOW = int(time.time())

TOKEN_TABLE: list[tuple[str, str, TokenMaker, int]] = [
    ("id token", "/protected", lambda s: "Bearer " + s.id_token, 200),
    ("access token", "/protected", lambda s: "Bearer " + s.access_token, 200),
    ("bare id token", "/protected", lambda s: s.id_token, 200),
    ("bare access token", "/protected", lambda s: s.access_token, 200),
    ("no header", "/protected", lambda s: None, 401),
    ("garbage", "/protected", lambda s: "Bearer not.a.jwt", 401),
    ("bad signature", "/protected", lambda s: "Bearer " + flip_signature(s.id_token), 401),
    (
        "alg none",
        "/protected",
        lambda s: jwt.encode({"iss": s.issuer, "aud": s.client_id, "exp": NOW + 600}, None, algorithm="none"),
        401,
    ),
    (
        "HS256",
        "/protected",
        lambda s: jwt.encode(
            {"iss": s.issuer, "aud": s.client_id, "exp": NOW + 600},
            "a-shared-secret-of-32-bytes-long!",
            algorithm="HS256",
            headers={"kid": pool_key().kid},
        ),
        401,
    ),
    ("unknown kid", "/protected", lambda s: s.mint(headers={"kid": "rotated"}), 401),
    ("expired", "/protected", lambda s: s.mint(exp=NOW - 5), 401),
    ("nbf in future", "/protected", lambda s: s.mint(nbf=NOW + 600), 401),
    ("iat in future", "/protected", lambda s: s.mint(iat=NOW + 600), 401),
    ("wrong issuer", "/protected", lambda s: s.mint(iss=s.issuer + "-other"), 401),
    ("wrong audience", "/protected", lambda s: s.mint(aud="another-client"), 401),
    ("other client's access token", "/protected", lambda s: s.other_client_access_token, 401),
    ("neither aud nor client_id", "/protected", lambda s: s.mint(drop=("aud",)), 401),
    ("minted valid", "/protected", lambda s: s.mint(), 200),
    ("id token on scoped route", "/scoped", lambda s: s.id_token, 403),
    ("access token on scoped route", "/scoped", lambda s: s.access_token, 200),
    ("missing custom scope", "/scoped-custom", lambda s: s.mint(scope="demo/other"), 403),
    ("custom scope", "/scoped-custom", lambda s: s.mint(scope="x demo/write"), 200),
    ("custom scp list", "/scoped-custom", lambda s: s.mint(scp=["demo/read"]), 200),
]


@pytest.mark.parametrize(
    ("path", "make", "status"), [row[1:] for row in TOKEN_TABLE], ids=[row[0] for row in TOKEN_TABLE]
)
def test_token_table(stack: Stack, path: str, make: TokenMaker, status: int) -> None:
    """Each token gets the status API Gateway's JWT authorizer would give it."""
    response = stack.get(path, make(stack))
    assert response.status_code == status, response.text
    assert response.headers["apigw-requestid"]
    if status == 200:
        assert response.json()["message"] == "Hello from protected API!"
        assert response.json()["user"] in ("alice", "minted")
    elif status == 401:
        assert response.json() == UNAUTHORIZED
        assert response.headers["www-authenticate"].startswith(
            'Bearer scope="" error="invalid_token" error_description="'
        )
    else:
        assert response.json() == {"message": "Forbidden"}


def test_descriptions_match_api_gateway_wording(stack: Stack) -> None:
    """The www-authenticate descriptions use API Gateway's phrases for common failures."""

    def why(token: str) -> str:
        return stack.get("/protected", token).headers["www-authenticate"]

    assert 'error_description="the token has expired"' in why(stack.mint(exp=NOW - 5))
    assert 'error_description="the token does not have a valid audience"' in why(stack.mint(aud="x"))
    hs = jwt.encode({"iss": stack.issuer}, "k" * 32, algorithm="HS256", headers={"kid": pool_key().kid})
    assert 'error_description="signing method HS256 is invalid"' in why(hs)


def test_id_token_response_names_the_user(stack: Stack) -> None:
    """The demo function receives the ID token's claims and answers with the username."""
    body = stack.get("/protected", "Bearer " + stack.id_token).json()
    assert body["user"] == "alice"
    assert body["token_use"] == "id"
    assert body["claims"]["aud"] == stack.client_id


def test_event_claims_are_strings_and_scopes_null_on_unscoped_route(stack: Stack) -> None:
    """The Lambda event carries every claim as a string and scopes null without route scopes."""
    token = stack.mint(**{"cognito:groups": ["Group2", "Group1"], "flag": True})
    response = stack.get("/echo/42?x=1&x=2&y=", token, headers={"Cookie": "c1=a; c2=b"})
    assert response.status_code == 200, response.text
    event = response.json()["event"]
    jwt_ctx = event["requestContext"]["authorizer"]["jwt"]
    assert jwt_ctx["scopes"] is None
    assert all(isinstance(v, str) for v in jwt_ctx["claims"].values())
    assert jwt_ctx["claims"]["exp"].isdigit()
    assert jwt_ctx["claims"]["cognito:groups"] == "[Group2 Group1]"
    assert jwt_ctx["claims"]["flag"] == "true"
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /echo/{id}"
    assert event["rawPath"] == "/echo/42"
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["pathParameters"] == {"id": "42"}
    assert event["cookies"] == ["c1=a", "c2=b"]
    assert event["headers"]["authorization"] == token
    assert all(k == k.lower() for k in event["headers"])
    ctx = event["requestContext"]
    assert ctx["accountId"] == ACCOUNT
    assert ctx["apiId"] == stack.api_id
    assert ctx["stage"] == "$default"
    assert ctx["http"]["method"] == "GET"
    assert ctx["http"]["path"] == "/echo/42"
    assert ctx["http"]["sourceIp"] == "127.0.0.1"
    assert ctx["requestId"] == response.headers["apigw-requestid"]
    assert abs(ctx["timeEpoch"] / 1000 - time.time()) < 60
    assert response.json()["function"] == f"echo-{stack.suffix}"
    assert 0 < response.json()["remaining"] <= 3000


def test_scoped_route_passes_the_granted_scopes(stack: Stack) -> None:
    """On a scoped route the function sees the token's whole scope list, as API Gateway sends it."""
    body = stack.get("/scoped-custom", stack.mint(scope="openid demo/write profile")).json()
    assert body["scopes"] == ["openid", "demo/write", "profile"]


def test_null_claim_is_left_out_of_the_event(stack: Stack) -> None:
    """A claim whose value is null is not forwarded to the function (not as "")."""
    body = stack.get("/protected", stack.mint(nickname=None, locale="en")).json()
    assert "nickname" not in body["claims"] and body["claims"]["locale"] == "en"


def test_unknown_critical_header_gets_401(stack: Stack) -> None:
    """A token listing an extension we do not implement in `crit` is refused (RFC 7515 §4.1.11)."""
    token = stack.mint(headers={"crit": ["x-unknown"], "x-unknown": 1})
    response = stack.get("/protected", token)
    assert response.status_code == 401 and response.json() == UNAUTHORIZED
    assert stack.get("/protected", stack.mint()).status_code == 200


def test_function_sees_only_its_own_environment(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Function code runs in a worker that never inherits the server's or the presenter's secrets."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "presenter-secret")
    monkeypatch.setenv("AUTHDEMO_PASSWORD", "Presenter-Pass-1!")
    response = stack.get("/environ")
    assert response.status_code == 200
    body = response.json()
    env = body["env"]
    assert "AWS_SECRET_ACCESS_KEY" not in env and "AUTHDEMO_PASSWORD" not in env
    assert not [k for k in env if k.startswith("AUTHDEMO")]
    assert env["GREETING"] == "hi" and env["AWS_LAMBDA_FUNCTION_NAME"] == f"environ-{stack.suffix}"
    assert env["AWS_REGION"] == REGION and env["TZ"] == ":UTC"
    # boto3 in the function reaches this embedded AWS, with no credentials of anyone's.
    assert env["AWS_ENDPOINT_URL"] == stack.server.url
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["LAMBDA_TASK_ROOT"] == body["cwd"]
    assert body["authdemo"] is False  # not running inside the server process


def test_function_timeout_answers_500_and_the_next_call_works(stack: Stack) -> None:
    """Timeout=1 and a 3 s sleep: API Gateway's 500 after about 1 s; a fresh worker serves the next call."""
    assert stack.get("/slow").status_code == 200  # warm
    started = time.monotonic()
    response = stack.get("/slow?sleep=1")
    elapsed = time.monotonic() - started
    assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}
    assert 0.9 <= elapsed < 2.5
    again = stack.get("/slow")
    assert again.status_code == 200 and 0 < again.json()["remaining"] <= 1000


def test_handler_prints_do_not_corrupt_the_answer(stack: Stack) -> None:
    """What a handler prints goes to the log, never into the worker's answer channel."""
    response = stack.get("/chatty")
    assert response.status_code == 200 and response.json() == {"chatty": True}


def test_proxy_response_headers_cookies_and_base64(stack: Stack) -> None:
    """statusCode, headers, cookies and isBase64Encoded shape the HTTP response."""
    response = stack.get("/open")
    assert response.status_code == 200
    assert response.headers["x-echo"] == "yes"
    assert response.raw.headers.getlist("set-cookie") == ["a=1", "b=2; Path=/"]
    assert "authorizer" not in response.json()["event"]["requestContext"]
    binary = stack.get("/open?b64=1")
    assert binary.status_code == 201
    assert binary.content == b"\x00\xffhi"


def test_post_body_reaches_the_function(stack: Stack) -> None:
    """A text body arrives as is; a binary body arrives base64-encoded."""
    url = stack.api_url + "/open"
    text = requests.post(url, json={"a": 1}, timeout=10).json()["event"]
    assert json.loads(text["body"]) == {"a": 1}
    assert text["isBase64Encoded"] is False
    raw = b"\x00\x01\xfe"
    binary = requests.put(url, data=raw, headers={"content-type": "application/octet-stream"}, timeout=10)
    event = binary.json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw
    assert event["routeKey"] == "ANY /open"


def test_function_returning_dict_without_status_code_is_200_json(stack: Stack) -> None:
    """A dict without statusCode becomes a 200 application/json response of that dict."""
    response = stack.get("/plain")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"hello": "world", "n": 1}


def test_function_that_raises_is_500(stack: Stack) -> None:
    """An exception in the function is API Gateway's 500 Internal Server Error."""
    response = requests.post(stack.api_url + "/boom", timeout=10)
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_missing_invoke_permission_is_500(stack: Stack) -> None:
    """Without a permission for apigateway.amazonaws.com the API answers 500."""
    response = stack.get("/noperm")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_permission_for_another_api_is_500(stack: Stack) -> None:
    """A permission whose SourceArn names another API does not let this API invoke."""
    assert stack.get("/otherapi").status_code == 500


def test_permission_restricted_to_a_method(stack: Stack) -> None:
    """A SourceArn naming POST does not allow GET on the same path."""
    assert requests.post(stack.api_url + "/boom", timeout=10).status_code == 500  # allowed, raises
    assert requests.get(stack.api_url + "/plain", timeout=10).status_code == 200
    assert requests.post(stack.api_url + "/plain", timeout=10).status_code == 404  # no such route


def test_unknown_path_api_and_undeployed_stage_are_404(stack: Stack) -> None:
    """Unknown route, unknown API and a stage without AutoDeploy all answer 404 Not Found."""
    not_found = {"message": "Not Found"}
    assert stack.get("/nothing-here").json() == not_found
    assert stack.get("/nothing-here").status_code == 404
    unknown = requests.get(f"{stack.server.url}/_aws/execute-api/zzzzzzzz/protected", timeout=10)
    assert (unknown.status_code, unknown.json()) == (404, not_found)
    undeployed = requests.get(
        f"{stack.server.url}/_aws/execute-api/{stack.undeployed_api_id}/open", timeout=10
    )
    assert (undeployed.status_code, undeployed.json()) == (404, not_found)


def test_default_route_catches_every_path(stack: Stack) -> None:
    """An API whose only route is $default sends any method and path to it."""
    url = f"{stack.server.url}/_aws/execute-api/{stack.default_api_id}/any/where?q=1"
    event = requests.delete(url, timeout=10).json()["event"]
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/any/where"
    assert event["requestContext"]["http"]["method"] == "DELETE"


def test_host_header_addresses_the_api(stack: Stack) -> None:
    """`Host: <apiId>.execute-api.localhost:<port>` serves the API at the root path."""
    host = f"{stack.api_id}.execute-api.localhost:{stack.server.port}"
    response = requests.get(
        f"{stack.server.url}/protected",
        headers={"Host": host, "Authorization": stack.access_token},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["token_use"] == "access"


def test_health_identifies_the_server(stack: Stack) -> None:
    """/_authdemo/health names the service, the pid and the version."""
    body = requests.get(f"{stack.server.url}/_authdemo/health", timeout=10).json()
    expected = {"service": "authdemo-local", "pid": os.getpid(), "version": version("authdemo")}
    assert body == expected


def test_other_requests_still_reach_moto(stack: Stack) -> None:
    """Requests that are not API invocations are answered by moto (the AWS APIs)."""
    gw = stack.client("apigatewayv2")
    assert stack.api_id in [a["ApiId"] for a in gw.get_apis()["Items"]]


def test_code_update_is_picked_up(stack: Stack) -> None:
    """After UpdateFunctionCode the next request runs the new code (cache keyed by hash)."""
    lam = stack.client("lambda")
    name = f"plain-{stack.suffix}"
    before = stack.get("/plain").json()
    new = zipped("echo.py", "def plain(event, context):\n    return {'version': 2}\n")
    lam.update_function_code(FunctionName=name, ZipFile=new)
    try:
        assert stack.get("/plain").json() == {"version": 2}
    finally:  # the module's other tests share this function: give it its code back
        lam.update_function_code(FunctionName=name, ZipFile=zipped("echo.py", ECHO_SOURCE))
    assert stack.get("/plain").json() == before


def test_huge_authorization_header_is_a_clean_401(stack: Stack) -> None:
    """A 60 KB Authorization header is refused with 401, not 500."""
    response = stack.get("/protected", "Bearer " + "A" * 60_000)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_nested_json_segments_are_a_clean_401(stack: Stack) -> None:
    """Deeply nested JSON in the header or payload segment gets 401, not a crash."""
    deep = _b64(b"[" * 5000 + b"]" * 5000)
    header = _b64(json.dumps({"alg": "RS256", "kid": pool_key().kid}).encode())
    for token in (f"{deep}.{header}.sig", f"{header}.{deep}.sig", f"{header}.{_b64(b'{' * 3000)}.x"):
        response = stack.get("/protected", token)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)
segment = st.one_of(
    header_text.filter(lambda t: "." not in t),
    st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    st.recursive(
        st.none() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=10,
    ).map(lambda v: _b64(json.dumps(v).encode())),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(header_text, st.tuples(segment, segment, segment).map(".".join)))
def test_fuzz_hostile_authorization_headers_get_401(stack: Stack, value: str) -> None:
    """Any printable Authorization header ends in a clean 401 over real HTTP."""
    response = stack.get("/protected", value.strip() or "x")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_get_authorizers_is_served(stack: Stack) -> None:
    """The server lists authorizers (GetAuthorizers), which moto lacks and `up` relies on."""
    gw = stack.client("apigatewayv2")
    items = gw.get_authorizers(ApiId=stack.api_id)["Items"]
    assert [a["Name"] for a in items] == ["cognito"]


@pytest.mark.parametrize("service", ["apigatewayv2", "cognitoidp", "awslambda", "iam", "logs", "sts"])
def test_quick_dispatch_finds_exactly_the_methods_moto_lists(service: str) -> None:
    """moto_patches.FunctionNames answers `name in ...` as moto's own list does, for every
    attribute of each response class authdemo calls, plus names that are not methods."""
    import importlib
    import inspect

    from moto.core.responses import BaseResponse
    from moto.core.utils import method_names_from_class

    from authdemo.local.moto_patches import FunctionNames

    module = importlib.import_module(f"moto.{service}.responses")
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, BaseResponse)]
    assert classes
    for cls in classes:
        listed = set(method_names_from_class(cls))
        names = FunctionNames(cls)
        assert {n for n in dir(cls) if n in names} == listed
        assert "no_such_action" not in names and "" not in names and None not in names
        assert "dispatch" not in names  # a classmethod: not a plain function, as moto's list says


def test_named_stage_serves_under_its_prefix(stack: Stack) -> None:
    """A named AutoDeploy stage answers at /<stage>/..., and the event names that stage."""
    gw = stack.client("apigatewayv2")
    gw.create_stage(ApiId=stack.api_id, StageName="prod", AutoDeploy=True)
    event = stack.get("/prod/open").json()["event"]
    assert event["requestContext"]["stage"] == "prod"
    assert event["rawPath"] == "/prod/open"
    assert event["routeKey"] == "ANY /open"


def test_gateway_errors_are_json(stack: Stack) -> None:
    """API Gateway's own 404 and 500 answers are application/json."""
    assert stack.get("/nothing-here").headers["content-type"] == "application/json"
    assert stack.get("/noperm").headers["content-type"] == "application/json"
