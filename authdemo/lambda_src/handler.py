"""The demo function behind `GET /protected`, `/scoped`, `/lambda`, `/iam` and `/m2m` (uploaded as-is
by `authdemo up`).

API Gateway has already authorized the request when this runs; the function only reads what
the authorizer passed on (payload format 2.0) and echoes it, so a presenter can compare the
doors on screen: JWT claims (every value a string), the Lambda authorizer's `context`, or the
IAM caller.
"""

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims") or {}
    lam = authorizer.get("lambda") or {}
    iam = authorizer.get("iam") or {}
    # ID tokens carry `cognito:username`; access tokens carry `username`; a client-credentials
    # token has no user: its caller is the client (`client_id`); other issuers name it in `sub`.
    user = claims.get("cognito:username") or claims.get("username")
    user = user or claims.get("client_id") or claims.get("sub")
    user = user or lam.get("username") or iam.get("userArn")  # /lambda, /iam
    body: dict[str, Any] = {
        "message": "Hello from protected API!",
        "user": user,
        "token_use": claims.get("token_use"),
        "scopes": jwt.get("scopes"),
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
