"""The client side of OAuth 2.0 against a Cognito domain (`<base>/oauth2/token`).

`client_credentials` is what a backend service does (issue 11, §2): HTTP Basic with the
client's ID and secret, `grant_type=client_credentials` and the scopes it wants; Cognito
answers an access token (no ID or refresh token). Its 400 `{"error": ...}` becomes one sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import AuthdemoError, UnreachableError

#: Cognito's token-endpoint errors (developer guide, "The token endpoint"), with the fix.
_TOKEN_ERRORS = {
    "invalid_client": "the client ID or secret is wrong, or the client may not use this grant",
    "unauthorized_client": "the client is not allowed the client-credentials grant",
    "invalid_scope": "the client is not allowed the requested scope",
    "invalid_grant": "the grant was refused",
    "invalid_request": "the request is malformed",
    "unsupported_grant_type": "the grant type is not supported",
}


def client_credentials(
    base_url: str, client_id: str, client_secret: str, scopes: Sequence[str], timeout: float = 10.0
) -> dict[str, Any]:
    """The token endpoint's JSON for a client-credentials grant (`access_token`, `expires_in`,
    `token_type`)."""
    import requests

    url = f"{base_url.rstrip('/')}/oauth2/token"
    data = {"grant_type": "client_credentials", "client_id": client_id}
    if scopes:
        data["scope"] = " ".join(scopes)
    try:
        response = requests.post(
            url,
            data=data,
            auth=(client_id, client_secret),
            headers={"Accept": "application/json"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise UnreachableError(
            f"The token endpoint {url} did not answer ({type(exc).__name__}); a new domain takes "
            "up to a minute to work: wait and retry, or check it with `authdemo status`."
        ) from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        why = _TOKEN_ERRORS.get(error, "the request was refused")
        raise AuthdemoError(
            f"The token endpoint refused the client-credentials grant ({error}: {why}); "
            "run `authdemo up` to repair the stack's clients, then retry."
        )
    raise UnreachableError(
        f"The token endpoint {url} answered HTTP {response.status_code} without a token; "
        "check the domain with `authdemo status` and retry in a minute."
    )
