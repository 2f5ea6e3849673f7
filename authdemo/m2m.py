"""Machine to machine (issue 11): the M2M client's secret, read from Cognito when needed and
never kept, and a client-credentials token from the stack's domain, as a backend gets one."""

from __future__ import annotations

from typing import Any

from .aws import Clients
from .errors import NotDeployedError
from .state import StateStore

#: What the M2M row of `test` and `token --m2m` need; a stack made before issue 11 has none.
KEYS = ("domain", "m2m_client", "route_m2m")


def secret(clients: Clients, store: StateStore) -> str:
    """DescribeUserPoolClient answers a confidential client's secret (its only reader)."""
    answer = clients("cognito-idp").describe_user_pool_client(
        UserPoolId=_recorded(store, "user_pool")["id"], ClientId=_recorded(store, "m2m_client")["id"]
    )
    return str(answer["UserPoolClient"].get("ClientSecret") or "")


def token(clients: Clients, store: StateStore) -> str:
    """A client-credentials access token for `authdemo/read` from `<domain>/oauth2/token`."""
    from .oauth import client_credentials
    from .units import M2M_SCOPE

    client_id = _recorded(store, "m2m_client")["id"]
    base = _recorded(store, "domain")["url"]
    answer = client_credentials(base, client_id, secret(clients, store), [M2M_SCOPE])
    return str(answer["access_token"])


def _recorded(store: StateStore, key: str) -> dict[str, Any]:
    rec = store.resource(key)
    if not rec:  # the callers `require` these first
        raise NotDeployedError(f"Internal error: {key} is not recorded.")
    return rec
