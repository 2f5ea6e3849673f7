"""The demo function behind `GET /protected` (uploaded as-is by `authdemo up`).

API Gateway has already verified the JWT when this runs; the function only reads the
claims the authorizer passed on (payload format 2.0, every claim value a string) and
echoes them, so a presenter can compare an ID token with an access token on screen.
"""

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims") or {}
    # ID tokens carry `cognito:username`; access tokens carry `username`.
    user = claims.get("cognito:username") or claims.get("username")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(
            {
                "message": "Hello from protected API!",
                "user": user,
                "token_use": claims.get("token_use"),
                "scopes": jwt.get("scopes"),
                "claims": claims,
            }
        ),
    }
