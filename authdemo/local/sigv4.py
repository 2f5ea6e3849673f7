"""Who may use the embedded AWS's control plane: AWS Signature Version 4, checked by botocore.

Every request for moto must carry a SigV4 `Authorization` header made with this server's
own access key (`authdemo.local.credentials`), an `X-Amz-Date` within 5 minutes of now,
and a signature botocore computes to the same value (`check_headers` decides all but the
last before any of the body is read). Open without a signature, as on AWS:
Cognito's public user-pool operations (those botocore's model marks `"authtype": "none"`:
InitiateAuth, SignUp, GetUser, ...) sent as Cognito's JSON protocol sends them (`POST /`,
`Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: AWSCognitoIdentityProviderService.<op>`,
all read from the model), a pool's `/<poolId>/.well-known/jwks.json` and
`openid-configuration`, and managed login under `/_aws/cognito/<domain prefix>/` (the
embedded stand-in for `https://<prefix>.auth.<region>.amazoncognito.com`, which browsers
and OAuth clients reach without AWS credentials; the router answers it itself, never moto).
A request only resembling one of these (another path, content type or method) is a
control-plane call like any other; `unsigned` strips what could send a public one to
another service. moto's `/moto-api/` (reset, dashboard, ...) is never public: it needs a
valid signature. Presigned URLs are refused.

A refusal is written in the wire format of the caller's protocol, so botocore raises the
same ClientError AWS would cause (`UnrecognizedClientException`, `InvalidClientTokenId`,
`SignatureDoesNotMatch`, `InvalidSignatureException`, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from authdemo.local.credentials import Credentials
from authdemo.local.names import LOGIN_PREFIX

MAX_SKEW = timedelta(minutes=5)
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request\s*,"
    r"\s*SignedHeaders=([a-z0-9;_.-]+)\s*,\s*Signature=([0-9a-f]{64})\s*\Z"
)
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"

INVALID_TOKEN = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: `kind` picks the error code, `message` is AWS's wording."""

    kind: str  # "missing", "incomplete", "unknown_key", "signature", "expired"
    message: str


# Error codes per protocol, as AWS answers them (see docs/aws-notes.md).
_CODES = {
    "query": {
        "missing": "MissingAuthenticationToken",
        "incomplete": "IncompleteSignature",
        "unknown_key": "InvalidClientTokenId",
        "signature": "SignatureDoesNotMatch",
        "expired": "SignatureDoesNotMatch",
    },
    "json": {
        "missing": "MissingAuthenticationTokenException",
        "incomplete": "IncompleteSignatureException",
        "unknown_key": "UnrecognizedClientException",
        "signature": "InvalidSignatureException",
        "expired": "InvalidSignatureException",
    },
}
_CODES["rest-json"] = _CODES["json"]


@lru_cache(maxsize=1)
def _cognito_model() -> dict[str, Any]:
    import botocore.loaders

    return dict(botocore.loaders.create_loader().load_service_model("cognito-idp", "service-2"))


@lru_cache(maxsize=1)
def public_cognito_operations() -> frozenset[str]:
    """Cognito user-pool operations AWS serves without SigV4, read from botocore's model."""
    return frozenset(
        name
        for name, op in _cognito_model()["operations"].items()
        if op.get("authtype") == "none" or "smithy.api#noAuth" in op.get("auth", [])
    )


@lru_cache(maxsize=1)
def _cognito_wire() -> tuple[str, str, re.Pattern[str]]:
    """Cognito's `X-Amz-Target` prefix and JSON content type, and its pools' well-known paths,
    from the model's metadata and `UserPoolIdType` pattern."""
    model = _cognito_model()
    metadata = model["metadata"]
    pool_id = model["shapes"]["UserPoolIdType"]["pattern"]
    paths = re.compile(rf"^/(?:{pool_id})/\.well-known/(?:jwks\.json|openid-configuration)\Z")
    return f"{metadata['targetPrefix']}.", f"application/x-amz-json-{metadata['jsonVersion']}", paths


def _mimetype(environ: dict[str, Any]) -> str:
    return str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()


def public_kind(environ: dict[str, Any]) -> str | None:
    """What AWS itself answers unsigned: "login" (managed login), "well-known" (a pool's JWKS
    or discovery document), "cognito" (a public user-pool operation); None for anything else."""
    method = environ.get("REQUEST_METHOD")
    path = str(environ.get("PATH_INFO") or "")
    if path.startswith(LOGIN_PREFIX):
        return "login"
    target_prefix, content_type, well_known = _cognito_wire()
    if method in ("GET", "HEAD") and well_known.match(path) and not path.startswith("/moto-api/"):
        return "well-known"
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if (
        method == "POST"
        and path == "/"
        and _mimetype(environ) == content_type
        and target.startswith(target_prefix)
        and target[len(target_prefix) :] in public_cognito_operations()
    ):
        return "cognito"
    return None


def is_public(environ: dict[str, Any]) -> bool:
    """Whether AWS itself answers this request without a signature."""
    return public_kind(environ) is not None


def unsigned(environ: dict[str, Any], kind: str) -> None:
    """Make a public request for moto (`kind` from `public_kind`) one that moto can only send to
    Cognito: no credentials (Cognito evaluates none for these operations, and moto would route by
    their credential scope), no query string; a well-known GET also loses its body and target."""
    for key in ("HTTP_AUTHORIZATION", "HTTP_X_AMZ_SECURITY_TOKEN", "HTTP_X_AMZ_DATE"):
        environ.pop(key, None)
    environ["QUERY_STRING"] = ""
    environ["REQUEST_URI"] = environ["RAW_URI"] = str(environ.get("PATH_INFO") or "/")
    if kind == "well-known":
        environ.pop("HTTP_X_AMZ_TARGET", None)
        environ.pop("CONTENT_TYPE", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)
        environ["CONTENT_LENGTH"] = "0"
        environ["wsgi.input"] = io.BytesIO(b"")


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        key = "HTTP_" + key
    value = environ.get(key)
    return None if value is None else str(value)


def check_headers(
    environ: dict[str, Any], credentials: Credentials, now: datetime | None = None
) -> Refusal | None:
    """Everything `verify` checks that needs no body (a header, this server's access key, the
    date): a caller without the key is refused before a byte of its body is read."""
    query = str(environ.get("QUERY_STRING") or "")
    if "X-Amz-Signature=" in query or "X-Amz-Credential=" in query:
        return Refusal("incomplete", "authdemo-local does not accept presigned URLs; sign with a header.")
    authorization = _header(environ, "Authorization")
    if not authorization:
        return Refusal("missing", "Missing Authentication Token")
    match = _AUTH.match(authorization)
    amz_date = _header(environ, "X-Amz-Date") or ""
    try:
        signed_at = datetime.strptime(amz_date, _TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        signed_at = None
    if match is None or signed_at is None:
        return Refusal("incomplete", "Authorization header or X-Amz-Date is missing or malformed.")
    access_key = match.group(1)
    if not hmac.compare_digest(access_key.encode(), credentials.access_key.encode()):
        return Refusal("unknown_key", INVALID_TOKEN)
    now = now or datetime.now(timezone.utc)
    if abs(now - signed_at) > MAX_SKEW:
        earliest, latest = (now - MAX_SKEW).strftime(_TIME_FORMAT), (now + MAX_SKEW).strftime(_TIME_FORMAT)
        when = f"is now earlier than {earliest}" if signed_at < now else f"is now later than {latest}"
        sign = "-" if signed_at < now else "+"
        return Refusal(
            "expired", f"Signature expired: {amz_date} {when} ({now.strftime(_TIME_FORMAT)} {sign} 5 min.)"
        )
    return None


def verify(
    environ: dict[str, Any], body: bytes, credentials: Credentials, now: datetime | None = None
) -> Refusal | None:
    """None when the request is signed with `credentials`, else why not."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    refusal = check_headers(environ, credentials, now)
    if refusal is not None:
        return refusal
    match = _AUTH.match(str(_header(environ, "Authorization")))
    assert match is not None  # check_headers refused every other header
    _, _, region, service, signed_headers, signature = match.groups()
    query = str(environ.get("QUERY_STRING") or "")
    amz_date = str(_header(environ, "X-Amz-Date"))
    headers: dict[str, str] = {}
    for name in signed_headers.split(";"):
        value = _header(environ, name)
        if value is None:
            return Refusal("signature", BAD_SIGNATURE)
        headers[name] = value
    content_hash = headers.get("x-amz-content-sha256")
    if content_hash is not None and content_hash != hashlib.sha256(body).hexdigest():
        return Refusal("signature", BAD_SIGNATURE)
    raw_path = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO") or "/")
    raw_path = raw_path.partition("?")[0]
    url = f"http://{headers.get('host') or _header(environ, 'Host')}{raw_path}" + (
        f"?{query}" if query else ""
    )
    request = AWSRequest(method=str(environ.get("REQUEST_METHOD")), url=url, headers=headers, data=body)
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(BotoCredentials(credentials.access_key, credentials.secret_key), service, region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return Refusal("signature", BAD_SIGNATURE)
    return None


def protocol_of(environ: dict[str, Any]) -> str:
    """The caller's wire protocol, from what botocore sends with each (no body needed): `json`
    (`application/x-amz-json-*`), `query` (a form, or `Action=` in the query string), else
    `rest-json` (an `X-Amz-Target` alone names no protocol: anyone can add one)."""
    kind = _mimetype(environ)
    if kind.startswith("application/x-amz-json-"):
        return "json"
    query = str(environ.get("QUERY_STRING") or "")
    if kind == "application/x-www-form-urlencoded" or re.search(r"(^|&)Action=", query):
        return "query"
    return "rest-json"


def refusal_response(protocol: str, refusal: Refusal) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body AWS answers with, in the caller's protocol."""
    code = _CODES[protocol][refusal.kind]
    request_id = str(uuid.uuid4())
    if protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{escape(refusal.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        status = 400 if refusal.kind == "incomplete" else 403  # IAM's common errors: IncompleteSignature 400
        return status, [("content-type", "text/xml"), ("x-amzn-requestid", request_id)], body
    if protocol == "json":
        data = json.dumps({"__type": code, "message": refusal.message}).encode()
        return 400, [("content-type", "application/x-amz-json-1.1"), ("x-amzn-requestid", request_id)], data
    data = json.dumps({"message": refusal.message}).encode()
    headers = [
        ("content-type", "application/json"),
        ("x-amzn-errortype", code),
        ("x-amzn-requestid", request_id),
    ]
    return 403, headers, data
