"""The Lambda authorizer of `GET /lambda` (uploaded as-is by `authdemo up`; standard library
and boto3 only, as the Lambda runtime has). One function, two authorizers of the same lesson:

HTTP API (a REQUEST authorizer, payload format 2.0, simple responses, no caching): it lets the
request in only if Cognito's GetUser accepts the bearer access token (so a signed-out user's
token fails, unlike on the JWT routes) and the token's user is in the group `GROUP`. Its
`context` (username, groups) reaches the backend as `requestContext.authorizer.lambda`. It never
raises: an exception would make API Gateway answer 500, so every failure is a refusal
(`isAuthorized: false`, which API Gateway answers with 403).

REST API (`event["type"] == "TOKEN"`, `token_policy`): the same checks, answered as a TOKEN
authorizer must: a token Cognito refuses raises `Exception("Unauthorized")` (API Gateway's 401),
a user outside `GROUP` gets an IAM policy that denies (403), a presenter one that allows; any
other failure raises (API Gateway's 500). API Gateway caches the policy (300 s by default) for
the token, and serves it to every method the authorizer guards.
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


#: Cognito's answers to GetUser that are about the token or its user (revoked, expired, malformed,
#: a user gone, unconfirmed or to reset): the caller is unauthorized. Any other error (throttling,
#: Cognito's own failure) is the authorizer's failure, a 500.
REFUSALS = frozenset(
    {
        "NotAuthorizedException",
        "InvalidParameterException",
        "UserNotFoundException",
        "UserNotConfirmedException",
        "PasswordResetRequiredException",
    }
)


def token_policy(event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """A REST TOKEN authorizer's answer: principal, IAM policy and context, or the 401 error."""
    token = str(event.get("authorizationToken") or "").strip()
    scheme, _, rest = token.partition(" ")
    if scheme.lower() == "bearer":
        token = rest.strip()
    if not token:
        raise Exception("Unauthorized")
    try:
        user = cognito().get_user(AccessToken=token)
    except Exception as exc:
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        if code in REFUSALS:
            print(json.dumps({"unauthorized": f"GetUser refused the token: {code}"}))
            raise Exception("Unauthorized") from None
        raise  # throttled, Cognito failing, no network: API Gateway answers 500
    try:
        token_claims = claims(token)
    except (IndexError, ValueError):
        raise Exception("Unauthorized") from None
    pool_id, client_id = env.get("USER_POOL_ID"), env.get("CLIENT_ID")
    if (pool_id and not str(token_claims.get("iss", "")).endswith("/" + pool_id)) or (
        client_id and token_claims.get("client_id") != client_id
    ):
        print(json.dumps({"unauthorized": "a token of another user pool or app client"}))
        raise Exception("Unauthorized")
    groups = token_claims.get("cognito:groups") or []
    groups = [str(g) for g in groups] if isinstance(groups, list) else [str(groups)]
    username = str(user.get("Username") or token_claims.get("username") or "")
    effect = "Allow" if env.get("GROUP", "presenters") in groups else "Deny"
    # The cache trap, on purpose: the policy names only the method asked about (methodArn), and
    # API Gateway serves it from its cache to every method of the API for this token, so the
    # same presenter is refused at /lambda/again for 300 s. The fix: a wildcard resource, e.g.
    # methodArn.split("/")[0] + "/*" (the whole API), or a TTL of 0.
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
    return {
        "principalId": username,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"username": username, "groups": ",".join(groups)},
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("type") == "TOKEN":  # a REST API's TOKEN authorizer: it may raise
        return token_policy(event, dict(os.environ))
    try:
        return decide(bearer(event), dict(os.environ))
    except Exception as exc:  # never a 500: refuse instead
        return _deny(f"authorizer error: {type(exc).__name__}")
