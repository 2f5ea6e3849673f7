"""Small additions to moto for the embedded AWS, where AWS has an API or behaviour moto lacks.

moto 5 implements GetAuthorizer but not GetAuthorizers (list); `up` uses the list to find
an authorizer that a killed run created but never recorded. Applied once, in the
embedded server's process only.
"""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import jwt

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    if not hasattr(ApiGatewayV2Response, "get_authorizers"):

        def get_authorizers(self: Any) -> tuple[int, dict[str, str], str]:
            api_id = self.path.split("/")[-2]
            api = self.apigatewayv2_backend.get_api(api_id)
            items = [a.to_json() for a in api.authorizers.values()]
            return 200, {}, json.dumps({"items": items})

        ApiGatewayV2Response.get_authorizers = get_authorizers  # type: ignore[attr-defined]
    _applied = True


_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/[\w-]+$")
MAX_UNSIGNED_BODY = 1024 * 1024


def present_unsigned_cognito(environ: dict[str, Any]) -> None:
    """Give an unsigned Cognito call carrying an `AccessToken` its user pool's region.

    botocore sends GetUser, GlobalSignOut, ... without a signature, so moto sees no credential
    scope (and the Host is 127.0.0.1): it takes us-east-1 and answers NotAuthorizedException
    for a pool elsewhere. AWS finds the pool from the token; here its `iss` claim, read
    without verifying (moto checks the token itself), names the region, which moto reads
    from a synthetic, unsigned `Authorization` header's credential scope. The body is read
    and handed back as a fresh stream.
    """
    if environ.get("HTTP_AUTHORIZATION") or environ.get("REQUEST_METHOD") != "POST":
        return
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if not 0 < length <= MAX_UNSIGNED_BODY:
        return
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    region = _token_region(body)
    if region is not None:
        day = time.strftime("%Y%m%d", time.gmtime())
        environ["HTTP_AUTHORIZATION"] = (
            f"AWS4-HMAC-SHA256 Credential=anonymous/{day}/{region}/cognito-idp/aws4_request, "
            "SignedHeaders=host, Signature=unsigned"
        )


def _token_region(body: bytes) -> str | None:
    try:
        token = json.loads(body).get("AccessToken")
        claims = jwt.decode(token, options={"verify_signature": False})
    except Exception:  # not JSON, no token, not a JWT: moto answers as it would
        return None
    match = _COGNITO_ISSUER.match(str(claims.get("iss") or ""))
    return match.group(1) if match else None
