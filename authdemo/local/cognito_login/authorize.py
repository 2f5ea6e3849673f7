"""Checking an authorization request, once on `GET /oauth2/authorize` and again on `POST /login`.

The order is what keeps it from being an open redirect: the client and then the redirect_uri are
checked first, and until both pass, nothing is sent to the redirect_uri: the browser gets an
error page (Cognito's `/error?error=redirect_mismatch`). Only then do the other problems go back
to the client, as `redirect_uri?error=...&state=...` (RFC 6749 §4.1.2.1). `POST /login` runs the
same checks on its hidden fields, since a browser can send anything there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authdemo.local.cognito_login import clients
from authdemo.local.cognito_login.codes import S256_CHALLENGE

# The parameters the sign-in form carries from /oauth2/authorize to /login.
CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
)


class ErrorPage(Exception):
    """A refusal shown to the user, never sent to the client's redirect_uri."""

    def __init__(self, error: str, client_id: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.client_id = client_id


class RedirectError(Exception):
    """A refusal sent back to the (already validated) redirect_uri."""

    def __init__(self, redirect_uri: str, error: str, state: str | None) -> None:
        super().__init__(error)
        self.redirect_uri = redirect_uri
        self.error = error
        self.state = state


@dataclass(frozen=True)
class AuthorizeRequest:
    """A request that passed every check: what the sign-in form carries and the code will bind."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    nonce: str | None
    params: dict[str, str]  # the request's own values, for the form's hidden fields


def single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """The parameter's value; None when absent; ErrorPage-worthy repeats are the caller's to check."""
    values = params.get(name) or []
    return values[0] if values else None


def field(params: Mapping[str, Sequence[str]], name: str) -> str:
    """The parameter's (or form field's) first value, "" when absent."""
    return single(params, name) or ""


def check(pool: Any, params: Mapping[str, Sequence[str]]) -> AuthorizeRequest:
    """The checked request, or ErrorPage / RedirectError saying why not."""
    repeated = [name for name in CARRIED if len(params.get(name) or []) > 1]
    client_id = single(params, "client_id")
    if not client_id or "client_id" in repeated or client_id not in pool.clients:
        raise ErrorPage("invalid_request")
    client = pool.clients[client_id]
    redirect_uri = single(params, "redirect_uri")
    if (
        not redirect_uri
        or "redirect_uri" in repeated
        or redirect_uri not in clients.setting(client, "CallbackURLs")
    ):
        raise ErrorPage("redirect_mismatch", client_id)
    state = single(params, "state")

    def refuse(error: str) -> RedirectError:
        return RedirectError(redirect_uri, error, state)

    if repeated:
        raise refuse("invalid_request")
    if not clients.oauth_enabled(client, "code") or not clients.signs_in_with_cognito(client):
        raise refuse("unauthorized_client")
    response_type = single(params, "response_type")
    if response_type == "token":
        raise refuse("unsupported_response_type")  # no implicit flow here: tokens never in a URL
    if response_type != "code":
        raise refuse("invalid_request")
    scopes = _scopes(pool, client, single(params, "scope"))
    if scopes is None:
        raise refuse("invalid_scope")
    challenge = single(params, "code_challenge")
    method = single(params, "code_challenge_method")
    if challenge is None and method is not None:
        raise refuse("invalid_request")
    if challenge is not None and (method != "S256" or not S256_CHALLENGE.match(challenge)):
        raise refuse("invalid_request")  # AWS supports S256 only; no method means `plain`
    carried = {name: value for name in CARRIED if (value := single(params, name)) is not None}
    return AuthorizeRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        code_challenge=challenge,
        nonce=single(params, "nonce"),
        params=carried,
    )


def _scopes(pool: Any, client: Any, requested: str | None) -> tuple[str, ...] | None:
    """The requested scopes (default: all the client's), None if one is not allowed or not defined."""
    allowed = clients.setting(client, "AllowedOAuthScopes")
    names = requested.split() if requested and requested.strip() else allowed
    defined = clients.pool_scopes(pool)
    if not names or any(name not in allowed or name not in defined for name in names):
        return None
    return tuple(dict.fromkeys(names))
