"""The demo function behind every door of both APIs (uploaded as-is by `authdemo up`).

API Gateway has already authorized the request when this runs; the function only reads what
the authorizer passed on and echoes it, so a presenter can compare the doors on screen. The HTTP
API sends payload format 2.0 (`requestContext.authorizer.jwt.claims`, `.lambda`, `.iam`); the
REST API sends 1.0: a Cognito user pool authorizer's claims at `requestContext.authorizer.claims`,
a TOKEN authorizer's `principalId` and context keys at `requestContext.authorizer`, and an IAM
caller at `requestContext.identity`. Every claim and context value arrives as a string.
"""

import json
from typing import Any

#: What API Gateway adds to a REST request's `requestContext.authorizer` beside the authorizer's own.
_GATEWAY_KEYS = ("claims", "integrationLatency")


def _rest(authorizer: dict[str, Any], identity: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """(claims, lambda context, iam caller) of a payload 1.0 (REST) event."""
    claims = authorizer.get("claims") or {}
    lam = {k: v for k, v in authorizer.items() if k not in _GATEWAY_KEYS} if not claims else {}
    iam: dict[str, Any] = {}
    if identity.get("userArn"):  # an AWS_IAM method; null for every other caller
        iam = {
            "userArn": identity.get("userArn"),
            "accountId": identity.get("accountId"),
            "accessKey": identity.get("accessKey"),
            "callerId": identity.get("caller"),
            "userId": identity.get("user"),
        }
    return claims, lam, iam


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_context = event.get("requestContext") or {}
    authorizer = request_context.get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    scopes = jwt.get("scopes")
    if event.get("version") == "2.0" or any(k in authorizer for k in ("jwt", "lambda", "iam")):
        claims = jwt.get("claims") or {}
        lam = authorizer.get("lambda") or {}
        iam = authorizer.get("iam") or {}
    else:  # payload 1.0: a REST API's Lambda proxy integration
        claims, lam, iam = _rest(authorizer, request_context.get("identity") or {})
        scope = claims.get("scope")
        scopes = scope.split() if isinstance(scope, str) else None
    # ID tokens carry `cognito:username`; access tokens carry `username`; a client-credentials
    # token has no user: its caller is the client (`client_id`); other issuers name it in `sub`.
    user = claims.get("cognito:username") or claims.get("username")
    user = user or claims.get("client_id") or claims.get("sub")
    user = user or lam.get("username") or lam.get("principalId") or iam.get("userArn")  # /lambda, /iam
    body: dict[str, Any] = {
        "message": "Hello from protected API!",
        "user": user,
        "token_use": claims.get("token_use"),
        "scopes": scopes,
        "claims": claims,
    }
    if lam:
        body["lambda"] = lam
    if iam:
        body["iam"] = {k: iam.get(k) for k in ("userArn", "accountId", "accessKey", "callerId", "userId")}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
