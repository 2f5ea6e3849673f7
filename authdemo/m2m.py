"""Machine to machine (issue 11): the M2M client's secret, read from Cognito when needed and
never kept, and a client-credentials token from the stack's domain, as a backend gets one."""

from __future__ import annotations

import time
from collections.abc import Callable
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
    """A client-credentials access token for `authdemo/read` from `<domain>/oauth2/token`; a
    domain that does not answer yet is one sentence at once (`token --m2m`)."""
    return token_when_ready(clients, store, 0.0)[0]


def token_when_ready(
    clients: Clients,
    store: StateStore,
    wait: float,
    on_wait: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[str, float]:
    """The token, and the seconds spent waiting for it: a Cognito prefix domain that does not
    answer yet (new ones take up to a minute) is asked again with backoff for at most `wait`
    seconds (`test`'s --wait); an emulator's domain is not waited for."""
    from .managed_login import of_stack
    from .oauth import NotAnswering, client_credentials, is_cognito_domain
    from .units import M2M_SCOPE

    client_id = _recorded(store, "m2m_client")["id"]
    _recorded(store, "domain")
    where = of_stack(clients, store)
    client_secret = secret(clients, store)
    start = clock()
    deadline = start + (wait if is_cognito_domain(where.token) else 0.0)
    delay = 0.25
    while True:
        try:
            answer = client_credentials(where, client_id, client_secret, [M2M_SCOPE])
            return str(answer["access_token"]), clock() - start
        except NotAnswering as exc:
            if clock() + delay > deadline:
                raise
            last = exc.__cause__.__class__.__name__ if exc.__cause__ else "no answer"
            on_wait(f"Cognito domain not answering yet ({last}), waited {clock() - start:.1f}s")
        sleep(delay)
        delay = min(delay * 1.5, 5.0)


def _recorded(store: StateStore, key: str) -> dict[str, Any]:
    rec = store.resource(key)
    if not rec:  # the callers `require` these first
        raise NotDeployedError(f"Internal error: {key} is not recorded.")
    return rec
