"""The Lambda authorizer of `GET /lambda` (uploaded as-is by `authdemo up`; standard library
and boto3 only, as the Lambda runtime has).

API Gateway calls it with the request (payload format 2.0, simple responses, no caching); it
lets the request in only if Cognito's GetUser accepts the bearer access token (so a signed-out
user's token fails, unlike on the JWT routes) and the token's user is in the group `GROUP`.
Its `context` (username, groups) reaches the backend as `requestContext.authorizer.lambda`.

It never raises: an exception would make API Gateway answer 500, so every failure is a refusal
(`isAuthorized: false`, which API Gateway answers with 403).
"""

import base64
import json
import os
from typing import Any

#: One Cognito client per execution environment (created on first use, reused after).
_cognito: Any = None


def cognito() -> Any:
    """The Cognito client; region from AWS_REGION (set by Lambda). botocore itself honours
    AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_COGNITO_IDP (since 1.31), as the embedded AWS sets."""
    global _cognito
    if _cognito is None:
        import boto3

        _cognito = boto3.client("cognito-idp", region_name=os.environ.get("AWS_REGION"))
    return _cognito


def _deny(reason: str) -> dict[str, Any]:
    print(json.dumps({"isAuthorized": False, "reason": reason}))  # to the function's own log
    return {"isAuthorized": False, "context": {"reason": reason}}


def bearer(event: dict[str, Any]) -> str:
    """The token from the Authorization header (payload 2.0 lower-cases header names)."""
    headers = event.get("headers") or {}
    value = str(headers.get("authorization") or "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value


def claims(token: str) -> dict[str, Any]:
    """The token's payload, unverified: only read after Cognito accepted the token."""
    payload = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded if isinstance(decoded, dict) else {}


def decide(token: str, env: dict[str, str]) -> dict[str, Any]:
    if not token:
        return _deny("no token")
    try:
        user = cognito().get_user(AccessToken=token)
    except Exception as exc:  # NotAuthorizedException (revoked, expired, invalid) and any other
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        return _deny(f"GetUser refused the token: {code or type(exc).__name__}")
    try:
        token_claims = claims(token)
    except (IndexError, ValueError):
        return _deny("not a JWT")
    pool_id, client_id = env.get("USER_POOL_ID"), env.get("CLIENT_ID")
    if pool_id and not str(token_claims.get("iss", "")).endswith("/" + pool_id):
        return _deny("token of another user pool")
    if client_id and token_claims.get("client_id") != client_id:
        return _deny("token of another app client")
    groups = token_claims.get("cognito:groups") or []
    groups = [str(g) for g in groups] if isinstance(groups, list) else [str(groups)]
    username = str(user.get("Username") or token_claims.get("username") or "")
    group = env.get("GROUP", "presenters")
    if group not in groups:
        return {"isAuthorized": False, "context": {"username": username, "groups": ",".join(groups)}}
    return {"isAuthorized": True, "context": {"username": username, "groups": ",".join(groups)}}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return decide(bearer(event), dict(os.environ))
    except Exception as exc:  # never a 500: refuse instead
        return _deny(f"authorizer error: {type(exc).__name__}")
