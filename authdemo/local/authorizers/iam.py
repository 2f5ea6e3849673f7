"""IAM authorization (`AWS_IAM` routes): SigV4 for service `execute-api`, as API Gateway checks it.

The signature is verified by the same code that guards the control plane
(`authdemo.local.sigv4.verify`: the server's own key, `X-Amz-Date` within 5 minutes, the
canonical request built from the raw path and query), and the credential scope must name
`execute-api` and the API's region. Every refusal is 403 `{"message": ...}` in API
Gateway's words; an unsigned request gets `{"message":"Forbidden"}` (HTTP APIs; REST APIs
say "Missing Authentication Token" — see docs/aws-notes.md). A credential scoped to another
service or region gets AWS's "Credential should be scoped to ..." wording (with its trailing
space). Presigned (query-string) SigV4 is refused, as on the control plane.

The embedded AWS evaluates no IAM policies for callers: its one key (the owner's) is the
only identity, and it may invoke every route, as an administrator may on AWS.
"""

from __future__ import annotations

import re
from typing import Any

from authdemo.aws import LOCAL_ACCOUNT_ID
from authdemo.local import sigv4
from authdemo.local.authorizers.denied import Denied
from authdemo.local.credentials import Credentials

SERVICE = "execute-api"
LOCAL_USER_NAME = "authdemo-local"
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


def _refuse(message: str, description: str) -> Denied:
    return Denied(description, status=403, message=message, challenge=False)


def authorize(environ: dict[str, Any], body: bytes, credentials: Credentials, region: str) -> dict[str, Any]:
    """What the integration sees in `requestContext.authorizer.iam`; Denied (403) otherwise."""
    authorization = str(environ.get("HTTP_AUTHORIZATION") or "")
    query = str(environ.get("QUERY_STRING") or "")
    if not authorization and "X-Amz-Signature=" not in query:
        raise _refuse("Forbidden", "the request is not signed")
    refusal = sigv4.verify(environ, body, credentials)
    if refusal is not None:
        raise _refuse(refusal.message, f"SigV4: {refusal.kind}")
    scope = _SCOPE.search(authorization)
    if scope is None:  # verify() accepted the header, so this cannot happen; refuse anyway
        raise _refuse("Forbidden", "the credential scope is unreadable")
    signed_region, service = scope.groups()
    if service != SERVICE:
        raise _refuse(f"Credential should be scoped to correct service: '{SERVICE}'. ", "wrong service")
    if signed_region != region:
        message = f"Credential should be scoped to a valid region, not '{signed_region}'. "
        raise _refuse(message, "wrong region")
    user_id = "AIDA" + credentials.access_key[4:]
    return {
        "accessKey": credentials.access_key,
        "accountId": LOCAL_ACCOUNT_ID,
        "callerId": user_id,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/{LOCAL_USER_NAME}",
        "userId": user_id,
    }
