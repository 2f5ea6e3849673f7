"""Where a stack's managed login and OAuth endpoints are (issue 19: any endpoint, not only ours).

On AWS the domain's URL is known (`https://<prefix>.auth.<region>.amazoncognito.com`, with
`/oauth2/authorize`, `/oauth2/token`, `/oauth2/revoke`, ... under it); with `--local` the embedded
AWS is ours and serves them under `/_aws/cognito/<prefix>`. Behind an `--endpoint-url` we did not
start (LocalStack, ministack, a moto server), nothing is assumed: the pool's discovery document
`<endpoint>/<poolId>/.well-known/openid-configuration` (the path AWS serves it at on
`cognito-idp.<region>.amazonaws.com`) says where they are, or that there is no managed login.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .errors import AuthdemoError, ExitCode

#: Discovery field -> our name, for the endpoints authdemo calls (OpenID Connect Discovery 1.0,
#: RFC 8414: `revocation_endpoint`); Cognito's own paths under a domain are in `under`.
FIELDS = {
    "authorization_endpoint": "authorize",
    "token_endpoint": "token",
    "revocation_endpoint": "revoke",
    "userinfo_endpoint": "userinfo",
    "end_session_endpoint": "logout",
}
DISCOVERY_TIMEOUT = 5.0


class NoManagedLogin(AuthdemoError):
    """The endpoint serves no managed login (or not this part of it): one sentence, why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.NOT_FOUND)


@dataclass(frozen=True)
class Endpoints:
    """The URLs of one managed login; "" where the server serves none."""

    authorize: str = ""
    token: str = ""
    revoke: str = ""
    userinfo: str = ""
    logout: str = ""

    @classmethod
    def under(cls, base: str) -> Endpoints:
        """A Cognito domain's own paths (the user pool endpoints reference) below `base`."""
        root = base.rstrip("/")
        return cls(
            authorize=f"{root}/oauth2/authorize",
            token=f"{root}/oauth2/token",
            revoke=f"{root}/oauth2/revoke",
            userinfo=f"{root}/oauth2/userInfo",
            logout=f"{root}/logout",
        )

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Endpoints:
        return cls(**{name: str(rec.get(name) or "") for name in FIELDS.values()})

    def record(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @property
    def base(self) -> str:
        """What `status` shows as `login_url`: the authorize endpoint's base when it ends in
        Cognito's path, else the authorize endpoint itself."""
        suffix = "/oauth2/authorize"
        return self.authorize[: -len(suffix)] if self.authorize.endswith(suffix) else self.authorize

    def need(self, name: str, what: str) -> str:
        """The URL of endpoint `name`, or one sentence: this server does not serve it."""
        url = str(getattr(self, name))
        if not url:
            raise NoManagedLogin(
                f"Cannot {what}: this endpoint's managed login has no {name} endpoint "
                "(its discovery document names none)."
            )
        return url


def discovery_url(endpoint_url: str, pool_id: str) -> str:
    return f"{endpoint_url.rstrip('/')}/{pool_id}/.well-known/openid-configuration"


def discover(endpoint_url: str, pool_id: str, timeout: float = DISCOVERY_TIMEOUT) -> Endpoints:
    """The endpoints the pool's discovery document at `endpoint_url` names; NoManagedLogin (one
    sentence) when it serves none, no document, or a document without a token endpoint."""
    import requests

    url = discovery_url(endpoint_url, pool_id)
    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise NoManagedLogin(
            f"This endpoint has no managed login: {url} did not answer ({type(exc).__name__})."
        ) from exc
    try:
        document = response.json() if response.status_code == 200 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise NoManagedLogin(
            f"This endpoint has no managed login: {url} answered HTTP {response.status_code} "
            "without a discovery document."
        )
    found = {ours: str(document[theirs]) for theirs, ours in FIELDS.items() if document.get(theirs)}
    if not found.get("token") and not found.get("authorize"):
        raise NoManagedLogin(
            f"This endpoint has no managed login: the pool's discovery document ({url}) names "
            "no authorization or token endpoint."
        )
    return Endpoints(**found)


def of_domain(rec: dict[str, Any], endpoint_url: str | None, local: bool, pool_id: str) -> Endpoints:
    """The endpoints of a stack's domain record: the recorded ones (discovered by `up`), Cognito's
    paths under its URL on AWS or on our own embedded AWS, else discovered now."""
    if rec.get("endpoints"):
        return Endpoints.from_record(rec["endpoints"])
    if not endpoint_url or local:
        if not rec.get("url"):
            raise NoManagedLogin("This stack's domain has no recorded URL; `authdemo up` records it.")
        return Endpoints.under(str(rec["url"]))
    return discover(endpoint_url, pool_id)


def of_stack(clients: Any, store: Any) -> Endpoints:
    """The endpoints of the stack whose state is `store` (its clients' target says where)."""
    domain = (store.resource("domain") if store else None) or {}
    pool = (store.resource("user_pool") if store else None) or {}
    target = clients.target
    return of_domain(domain, target.endpoint_url, target.local, str(pool.get("id") or ""))
