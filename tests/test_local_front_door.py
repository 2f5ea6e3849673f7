"""The embedded AWS's front door against another local user (issue 20, findings 1, 8): no
key, the standard library and requests, loopback only. Each test does what the attacker did.
The connections' deadlines and bound (finding 16) are in test_local_connections.py."""

from __future__ import annotations

import base64
import io
import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from conftest import server_client, zipped
from werkzeug.test import EnvironBuilder

from authdemo.local import bodies, router, sigv4
from authdemo.local.server import EmbeddedServer

REGION = "us-west-2"
PUBLIC_TARGET = "AWSCognitoIdentityProviderService.InitiateAuth"
COGNITO_JSON = "application/x-amz-json-1.1"


def made_up_authorization(service: str) -> dict[str, str]:
    """An `Authorization` with no real key behind it, scoped to `service` (what routed moto)."""
    now = datetime.now(timezone.utc)
    return {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKIANOBODYNOBODY0000/{now:%Y%m%d}/{REGION}/{service}/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}"
        ),
        "X-Amz-Date": f"{now:%Y%m%dT%H%M%SZ}",
    }


def attack(url: str, service: str, content_type: str, body: bytes | str) -> requests.Response:
    """A POST naming a public Cognito operation, with a made-up Authorization scoped to `service`."""
    headers = {"X-Amz-Target": PUBLIC_TARGET, "Content-Type": content_type, **made_up_authorization(service)}
    return requests.post(url, data=body, headers=headers, timeout=30)


def role_names(server: Any) -> list[str]:
    return [r["RoleName"] for r in server_client(server, "iam").list_roles()["Roles"]]


@contextmanager
def private_server() -> Iterator[EmbeddedServer]:
    """An embedded AWS of this test's own (one this test may break)."""
    with EmbeddedServer(port=0, quiet=True) as srv:
        yield srv


# ----------------------------------------------------------------- 1. unsigned calls
def test_public_target_and_made_up_iam_scope_cannot_list_roles(server: Any) -> None:
    """A public target with an `iam`-scoped made-up Authorization is refused in IAM's words (403
    InvalidClientTokenId); with Cognito's content type it reaches only Cognito, never IAM."""
    listed = attack(
        server.url + "/", "iam", "application/x-www-form-urlencoded", "Action=ListRoles&Version=2010-05-08"
    )
    assert listed.status_code == 403
    assert "<Code>InvalidClientTokenId</Code>" in listed.text and "ListRolesResponse" not in listed.text
    as_cognito = attack(
        server.url + "/?Action=ListRoles&Version=2010-05-08",
        "iam",
        COGNITO_JSON,
        json.dumps({"ClientId": "nosuchclient", "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {}}),
    )
    assert "ListRolesResponse" not in as_cognito.text
    assert as_cognito.status_code == 400 and as_cognito.json()["__type"].endswith("ResourceNotFoundException")


def test_public_target_and_made_up_lambda_scope_cannot_create_a_function(server: Any) -> None:
    """CreateFunction with a public target and a `lambda`-scoped made-up Authorization: 403 in
    Lambda's (rest-json) shape, and no function exists afterwards."""
    role = f"planted-{uuid.uuid4().hex[:8]}"
    arn = server_client(server, "iam").create_role(RoleName=role, AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    name = f"planted-{uuid.uuid4().hex[:8]}"
    code = zipped("index.py", "import os\ndef handler(event, context):\n    return dict(os.environ)\n")
    spec = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": arn,
        "Handler": "index.handler",
        "Code": {"ZipFile": base64.b64encode(code).decode()},
    }
    answer = attack(server.url + "/2015-03-31/functions", "lambda", "application/json", json.dumps(spec))
    assert answer.status_code == 403
    assert answer.headers["x-amzn-errortype"] == "UnrecognizedClientException"
    functions = server_client(server, "lambda").list_functions()["Functions"]
    assert name not in [f["FunctionName"] for f in functions]


def refusal_code(answer: requests.Response) -> str:
    """The error code of a refusal, in whichever of AWS's shapes it came."""
    if "x-amzn-errortype" in answer.headers:
        return answer.headers["x-amzn-errortype"]
    if answer.headers.get("content-type", "").startswith("text/xml"):
        return answer.text.split("<Code>")[1].split("</Code>")[0]
    return str(answer.json()["__type"])


@pytest.mark.parametrize(
    ("content_type", "scope", "status", "code"),
    [
        ("", None, 403, "MissingAuthenticationTokenException"),
        (COGNITO_JSON, None, 400, "MissingAuthenticationTokenException"),
        (COGNITO_JSON, "cognito-idp", 400, "UnrecognizedClientException"),
        ("application/x-www-form-urlencoded", "iam", 403, "InvalidClientTokenId"),
    ],
)
def test_public_target_cannot_reset_the_server(
    content_type: str, scope: str | None, status: int, code: str
) -> None:
    """`POST /moto-api/reset` naming a public Cognito operation is refused in the shape of the
    protocol its content type names (403, or 400 for JSON as the held-up checks answer) and wipes
    nothing."""
    with private_server() as srv:
        survivor = f"survivor-{uuid.uuid4().hex[:8]}"
        server_client(srv, "iam").create_role(RoleName=survivor, AssumeRolePolicyDocument="{}")
        headers = {"X-Amz-Target": PUBLIC_TARGET, "Content-Type": content_type}
        headers.update(made_up_authorization(scope) if scope else {})
        answer = requests.post(srv.url + "/moto-api/reset", data="{}", headers=headers, timeout=30)
        assert (answer.status_code, refusal_code(answer)) == (status, code)
        assert survivor in role_names(srv)


@pytest.mark.parametrize("scope", ["iam", "lambda", "sts", "cognito-identity"])
def test_moto_can_only_pick_cognito_for_a_public_call(server: Any, scope: str) -> None:
    """moto's own router, given a public call as the front door hands it on (made-up credentials
    scoped to another service, an `Action` in the query, a region in the User-Agent), picks
    cognito-idp: this fails when moto starts routing on something `sigv4.unsigned` leaves."""
    headers = {
        "X-Amz-Target": PUBLIC_TARGET,
        "Content-Type": COGNITO_JSON,
        "User-Agent": "Boto3/1.0 region/eu-west-1",
        "X-Amz-Security-Token": "made-up",
        **made_up_authorization(scope),
    }
    environ = EnvironBuilder(
        path="/",
        method="POST",
        headers=headers,
        query_string="Action=ListRoles&Version=2010-05-08",
        data=b"{}",
    ).get_environ()
    kind = sigv4.public_kind(environ)
    assert kind == "cognito"
    sigv4.unsigned(environ, kind)
    host = server.gateway.app.infer_service_region_host(environ, environ["PATH_INFO"])
    assert host.startswith("cognito-idp.")


def test_only_cognito_json_at_the_root_is_public() -> None:
    """Every public operation of the model, sent as botocore sends it, is public; the same call at
    another path, with another content type or method, and anything under /moto-api/ is not."""

    def env(path: str, target: str, content_type: str = COGNITO_JSON, method: str = "POST") -> dict[str, str]:
        return {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "HTTP_X_AMZ_TARGET": target,
            "CONTENT_TYPE": content_type,
        }

    operations = sigv4.public_cognito_operations()
    assert "InitiateAuth" in operations and "AdminGetUser" not in operations
    for name in operations:
        assert sigv4.public_kind(env("/", f"AWSCognitoIdentityProviderService.{name}")) == "cognito"
    assert sigv4.public_kind(env("/", PUBLIC_TARGET, COGNITO_JSON + "; charset=utf-8")) == "cognito"
    assert not sigv4.is_public(env("/", "AWSCognitoIdentityProviderService.AdminGetUser"))
    for refused in (
        env("/moto-api/reset", PUBLIC_TARGET),
        env("/2015-03-31/functions", PUBLIC_TARGET),
        env("/", PUBLIC_TARGET, "application/x-www-form-urlencoded"),
        env("/", PUBLIC_TARGET, "application/json"),
        env("/", PUBLIC_TARGET, method="PUT"),
        env("/", f"{PUBLIC_TARGET},AWSCognitoIdentityProviderService.AdminGetUser"),
        env("/moto-api/.well-known/jwks.json", PUBLIC_TARGET, method="GET"),
        env("/us-west-2_AbC123/.well-known/jwks.json\n", "", method="GET"),
    ):
        assert not sigv4.is_public(refused), refused
    assert sigv4.public_kind(env("/us-west-2_AbC123/.well-known/jwks.json", "", method="GET")) == "well-known"


# ----------------------------------------------------------------- 8. memory exhaustion
def send_chunked(url: str, path: str, total: int) -> tuple[int, bytes]:
    """POST `total` bytes as a chunked body, as fast as the server takes them: (bytes sent, the
    answer's first bytes). The server that stops reading stops the sending."""
    port = int(url.rsplit(":", 1)[1])
    piece = 1024 * 1024
    chunk = b"%x\r\n" % piece + b"x" * piece + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += piece
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server hung up: what it had not read is lost
            pass
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    return sent, answer


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", b" 403 "),
        ("/_aws/execute-api/nosuchapi/protected", b" 413 "),
        ("/_aws/cognito/nosuch/oauth2/token", b" 413 "),
    ],
)
def test_chunked_body_is_not_read_past_the_cap(server: Any, path: str, status: bytes) -> None:
    """64 MB chunked, unauthenticated: the server answers (403 unsigned, 413 past the cap) and
    stops reading, so the sender cannot get more than the socket buffers' worth past the cap in."""
    total = 64 * 1024 * 1024
    sent, answer = send_chunked(server.url, path, total)
    assert answer.startswith(b"HTTP/1.1") and status in answer.split(b"\r\n")[0] + b" "
    assert sent < total // 2


class EndlessBody:
    """A request body that goes on for `size` bytes and counts what the server read of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def read(self, n: int | None = -1) -> bytes:
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        self.read_bytes += n
        return b"x" * n


def chunked_environ(server: Any, path: str, body: EndlessBody, headers: dict[str, str]) -> dict[str, Any]:
    """What werkzeug hands the router for a chunked POST: a stream with no length."""
    environ = EnvironBuilder(path=path, method="POST", headers=headers).get_environ()
    environ.update(
        {
            "HTTP_HOST": f"127.0.0.1:{server.port}",
            "HTTP_TRANSFER_ENCODING": "chunked",
            "wsgi.input": body,
            "wsgi.input_terminated": True,
        }
    )
    environ.pop("CONTENT_LENGTH", None)
    return environ


def signed_headers(server: Any) -> dict[str, str]:
    """Headers that pass `sigv4.check_headers` (the server's key, now): only the owner has them."""
    now = datetime.now(timezone.utc)
    key = server.credentials.access_key
    return {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={key}/{now:%Y%m%d}/{REGION}/lambda/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}"
        ),
        "X-Amz-Date": f"{now:%Y%m%dT%H%M%SZ}",
    }


@pytest.mark.parametrize(
    ("path", "headers", "cap", "status"),
    [
        ("/", {}, 0, 403),  # unsigned control plane: refused before any of the body is read
        ("/", {"X-Amz-Target": PUBLIC_TARGET, "Content-Type": COGNITO_JSON}, "MAX_PUBLIC_BODY", 413),
        ("/_aws/execute-api/nosuchapi/protected", {}, 10 * 1024 * 1024, 413),
        ("/_aws/cognito/nosuch/oauth2/token", {}, 64 * 1024, 413),
        ("/_authdemo/issuer/token", {}, 64 * 1024, 413),
        ("/2015-03-31/functions", "signed", "MAX_CONTROL_BODY", 413),
    ],
)
def test_router_reads_at_most_the_cap_of_a_chunked_body(
    server: Any, monkeypatch: pytest.MonkeyPatch, path: str, headers: Any, cap: Any, status: int
) -> None:
    """Whatever the path, the router reads no more than its cap (+ one piece) of a 32 MB chunked
    body before it answers: the server's memory does not grow by the body."""
    monkeypatch.setattr(router, "MAX_CONTROL_BODY", 1024 * 1024)  # the owner's 100 MB, made small
    if headers == "signed":
        headers = signed_headers(server)
    limit = getattr(router, cap) if isinstance(cap, str) else cap
    body = EndlessBody(32 * 1024 * 1024)
    seen: list[str] = []
    answer = server.gateway(chunked_environ(server, path, body, headers), lambda s, h, e=None: seen.append(s))
    b"".join(answer)
    assert int(seen[0].split()[0]) == status
    assert body.read_bytes <= (limit + bodies.PIECE if limit else 0)


def test_bodies_read_refuses_a_malformed_or_short_length() -> None:
    """`Content-Length` that is not a number, is longer than the body, or is huge: 400, 400, 413."""
    for declared, expected in (("abc", 400), ("-1", 400), ("10", 400), ("9" * 5000, 413)):
        environ = {"CONTENT_LENGTH": declared, "wsgi.input": io.BytesIO(b"short")}
        assert bodies.read(environ, 1024) == expected, declared
    environ = {"CONTENT_LENGTH": "5", "wsgi.input": io.BytesIO(b"exact")}
    assert bodies.read(environ, 1024) is None and environ["wsgi.input"].read() == b"exact"
