"""An app client's OAuth settings as CreateUserPoolClient stored them in moto, and the pool's scopes.

moto keeps the client's request fields in `extended_config` as given; these helpers read them
with Cognito's meaning (an unset list is empty; OAuth features are off unless
`AllowedOAuthFlowsUserPoolClient` is true).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any
from urllib.parse import unquote

# Cognito's built-in OAuth scopes (the rest are resource-server scopes `<identifier>/<name>`).
STANDARD_SCOPES = frozenset({"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"})


def setting(client: Any, name: str) -> list[str]:
    """A list-valued client setting (`CallbackURLs`, `AllowedOAuthScopes`, ...), [] when unset."""
    value = client.extended_config.get(name) or []
    return [str(v) for v in value] if isinstance(value, list) else []


def oauth_enabled(client: Any, flow: str) -> bool:
    """Whether the client may use this OAuth flow (`code`, `implicit`, `client_credentials`)."""
    return bool(client.extended_config.get("AllowedOAuthFlowsUserPoolClient")) and flow in setting(
        client, "AllowedOAuthFlows"
    )


def signs_in_with_cognito(client: Any) -> bool:
    """Whether the client lists the user pool itself (`COGNITO`) among its identity providers."""
    return "COGNITO" in setting(client, "SupportedIdentityProviders")


def pool_scopes(pool: Any) -> set[str]:
    """Every scope the pool defines: the standard ones and each resource server's."""
    scopes = set(STANDARD_SCOPES)
    for server in pool.resource_servers.values():
        for scope in server.scopes or []:
            scopes.add(f"{server.identifier}/{scope.get('ScopeName')}")
    return scopes


def resource_server_scopes(pool: Any, client: Any) -> list[str]:
    """The client's allowed scopes that are resource-server scopes (what client_credentials grants)."""
    defined = pool_scopes(pool) - STANDARD_SCOPES
    return [s for s in setting(client, "AllowedOAuthScopes") if s in defined]


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(client_id, secret) from `Authorization: Basic ...`, None when absent or malformed.

    RFC 6749 §2.3.1 form-encodes both before base64; decoding them is harmless for Cognito's
    ids and secrets, which contain no `%` or `+`."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote(client_id), unquote(secret)


def secret_matches(client: Any, secret: str) -> bool:
    """Constant-time comparison with the client's secret (False for a client without one)."""
    if not client.generate_secret:
        return False
    return hmac.compare_digest(str(client.secret).encode(), secret.encode())
