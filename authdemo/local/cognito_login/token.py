"""`POST /oauth2/token` and `POST /oauth2/revoke`: client authentication, then one grant.

Client authentication as Cognito takes it: HTTP Basic (`client_id:client_secret`) or both in the
form body (one mechanism per request, RFC 6749 §2.3.1). A client with a secret must present it;
one without a secret must not claim one. Grants: `authorization_code` (the code is redeemed first,
so a failed check still burns it; a `code_verifier` for a code issued without a challenge is a
PKCE downgrade, refused), `refresh_token` (new ID and access tokens, no new refresh
token) and `client_credentials` (a client with a secret and the flow, resource-server scopes only).
Errors are Cognito's: 400 `{"error": "invalid_request|invalid_client|invalid_grant|
unauthorized_client|unsupported_grant_type|invalid_scope"}`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from authdemo.local.cognito_login import clients, minting
from authdemo.local.cognito_login.codes import CodeStore, verifier_matches

Response = tuple[int, list[tuple[str, str]], bytes]
Form = Mapping[str, list[str]]

JSON_HEADERS = [
    ("content-type", "application/json;charset=UTF-8"),
    ("cache-control", "no-store"),
    ("pragma", "no-cache"),
]
# What an access token minted by InitiateAuth (not by this endpoint) was granted.
API_SCOPES = ("aws.cognito.signin.user.admin",)


class OAuthError(Exception):
    """A token-endpoint refusal: `error` is the OAuth 2.0 code Cognito answers with."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status

    def response(self) -> Response:
        return self.status, list(JSON_HEADERS), json.dumps({"error": self.error}).encode()


def ok(body: Mapping[str, Any]) -> Response:
    return 200, list(JSON_HEADERS), json.dumps(body).encode()


def one(form: Form, name: str) -> str | None:
    """A form parameter's single value; a repeated parameter is invalid_request (RFC 6749 §3.1)."""
    values = form.get(name) or []
    if len(values) > 1:
        raise OAuthError("invalid_request")
    return values[0] if values and values[0] != "" else None


def user_usable(pool: Any, username: str) -> bool:
    """Whether the user still exists, is enabled and confirmed (else their grants are dead)."""
    user = pool._get_user(username)
    return (
        user is not None and user.enabled and str(getattr(user.status, "value", user.status)) == "CONFIRMED"
    )


class TokenEndpoint:
    """The token and revocation endpoints of every pool; codes come from the shared CodeStore."""

    def __init__(self, codes: CodeStore, clock: Callable[[], float]) -> None:
        self.codes = codes
        self.clock = clock
        self._lock = threading.Lock()
        self._refresh_scopes: dict[str, tuple[str, ...]] = {}

    def authenticate(self, pool: Any, form: Form, authorization: str | None) -> Any:
        """The calling app client, or OAuthError (invalid_client when its credentials fail)."""
        body_id, body_secret = one(form, "client_id"), one(form, "client_secret")
        client_id: str
        secret: str | None
        if authorization:
            basic = clients.basic_credentials(authorization)
            if basic is None or body_secret is not None:
                raise OAuthError("invalid_client")
            client_id, secret = basic
            if body_id is not None and body_id != client_id:
                raise OAuthError("invalid_client")
        else:
            client_id, secret = body_id or "", body_secret
        if not client_id:
            raise OAuthError("invalid_request")
        client = pool.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client")
        if client.generate_secret:
            if secret is None or not clients.secret_matches(client, secret):
                raise OAuthError("invalid_client")
        elif secret:
            raise OAuthError("invalid_client")
        return client

    def token(self, pool: Any, form: Form, authorization: str | None) -> Response:
        try:
            grant_type = one(form, "grant_type")
            client = self.authenticate(pool, form, authorization)
            if grant_type is None:
                raise OAuthError("invalid_request")
            if grant_type == "authorization_code":
                return ok(self._code(pool, client, form))
            if grant_type == "refresh_token":
                return ok(self._refresh(pool, client, form))
            if grant_type == "client_credentials":
                return ok(self._client_credentials(pool, client, form))
            raise OAuthError("unsupported_grant_type")
        except OAuthError as refusal:
            return refusal.response()

    def _code(self, pool: Any, client: Any, form: Form) -> dict[str, Any]:
        if not clients.oauth_enabled(client, "code"):
            raise OAuthError("unauthorized_client")
        code, redirect_uri, verifier = (
            one(form, "code"),
            one(form, "redirect_uri"),
            one(form, "code_verifier"),
        )
        if code is None or redirect_uri is None:
            raise OAuthError("invalid_request")
        grant = self.codes.redeem(code, self.clock())
        if grant is None or grant.pool_id != pool.id or grant.client_id != client.id:
            raise OAuthError("invalid_grant")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant")
        if grant.code_challenge is None:
            # A verifier for a code issued without a challenge is a PKCE downgrade: refused, as
            # RFC 9700 §2.1.1 and §4.8.2 ask (an intercepted code must not pass for a PKCE one).
            if verifier is not None:
                raise OAuthError("invalid_grant")
        elif verifier is None or not verifier_matches(verifier, grant.code_challenge):
            raise OAuthError("invalid_grant")
        if not user_usable(pool, grant.username):
            raise OAuthError("invalid_grant")
        body, refresh_token = minting.user_tokens(pool, client, grant.username, grant.scopes, grant.nonce)
        with self._lock:
            self._refresh_scopes[refresh_token] = grant.scopes
        return body

    def _refresh(self, pool: Any, client: Any, form: Form) -> dict[str, Any]:
        refresh_token = one(form, "refresh_token")
        if refresh_token is None:
            raise OAuthError("invalid_request")
        held = pool.refresh_tokens.get(refresh_token)  # None: unknown, or revoked / signed out
        if held is None or held[0] != client.id or not user_usable(pool, held[1]):
            raise OAuthError("invalid_grant")
        with self._lock:
            scopes = self._refresh_scopes.get(refresh_token)
        _, username, origin_jti = held
        return minting.refreshed_tokens(
            pool,
            client,
            username,
            scopes or API_SCOPES,
            origin_jti,
            with_id=scopes is None or "openid" in scopes,
        )

    def _client_credentials(self, pool: Any, client: Any, form: Form) -> dict[str, Any]:
        if not client.generate_secret or not clients.oauth_enabled(client, "client_credentials"):
            raise OAuthError("unauthorized_client")
        allowed = clients.resource_server_scopes(pool, client)
        requested = (one(form, "scope") or "").split()
        if any(scope not in allowed for scope in requested):
            raise OAuthError("invalid_scope")
        scopes = tuple(dict.fromkeys(requested or allowed))
        if not scopes:
            raise OAuthError("invalid_scope")
        return minting.client_credentials_token(pool, client.id, scopes)

    def revoke(self, pool: Any, form: Form, authorization: str | None) -> Response:
        """Revoke a refresh token and the access tokens minted from it (RFC 7009: 200 also for a
        token that is unknown or already revoked)."""
        try:
            client = self.authenticate(pool, form, authorization)
            token = one(form, "token")
            if token is None:
                raise OAuthError("invalid_request")
            held = pool.refresh_tokens.get(token)
            if held is not None:
                if held[0] != client.id:
                    raise OAuthError("unauthorized_client")
                pool.refresh_tokens[token] = None
                _drop_access_tokens(pool, held[2])
            return 200, list(JSON_HEADERS), b""
        except OAuthError as refusal:
            return refusal.response()


def _drop_access_tokens(pool: Any, origin_jti: str) -> None:
    """Forget the access tokens minted from one refresh token, so GetUser refuses them."""
    for token in list(pool.access_tokens):
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            continue
        if claims.get("origin_jti") == origin_jti:
            pool.access_tokens.pop(token, None)
