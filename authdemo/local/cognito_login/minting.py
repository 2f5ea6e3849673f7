"""Tokens for managed login, minted by moto's own user pool so the rest of the embedded AWS trusts them.

A user's tokens come from `CognitoIdpUserPool.create_jwt` (the server's own key and kid,
`moto_patches.pool_key`; moto's `iss`, `sub`, `username`/`cognito:username`, `jti`) and are
registered in the pool the way InitiateAuth's are, so GetUser, GlobalSignOut and the refresh
token work on them. Unlike InitiateAuth (which always says `aws.cognito.signin.user.admin`), the
access token carries the scopes granted, as Cognito's token endpoint does. A client_credentials
token has no user: it is signed here with the pool's own private key (the same), with Cognito's
M2M claims.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from authdemo.local.cognito_login import clients

TOKEN_LIFETIME_SECONDS = 60 * 60  # Cognito's default access/ID token validity


def issuer(pool: Any) -> str:
    return f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.id}"


def readable_attributes(pool: Any, client: Any, username: str) -> dict[str, Any]:
    """The user's attributes the client may read (all of them when `ReadAttributes` is unset),
    `*_verified` as booleans as in Cognito's ID tokens."""
    readable = set(clients.setting(client, "ReadAttributes"))
    found: dict[str, Any] = {}
    for attribute in pool._get_user(username).attributes:
        name, value = str(attribute["Name"]), attribute["Value"]
        if readable and name not in readable and name != "sub":
            continue
        if name.endswith("_verified") and str(value).lower() in ("true", "false"):
            value = str(value).lower() == "true"
        found[name] = value
    return found


def _groups(pool: Any, username: str) -> dict[str, Any]:
    user = pool._get_user(username)
    return {"cognito:groups": sorted(g.group_name for g in user.groups)} if user.groups else {}


def access_token(pool: Any, client_id: str, username: str, scopes: tuple[str, ...], origin_jti: str) -> str:
    """An access token for the user with these scopes, known to GetUser and GlobalSignOut."""
    extra = {"origin_jti": origin_jti, "scope": " ".join(scopes), "version": 2, **_groups(pool, username)}
    token, _ = pool.create_jwt(client_id, username, "access", TOKEN_LIFETIME_SECONDS, extra_data=extra)
    pool.access_tokens[token] = (client_id, username)
    return str(token)


def id_token(pool: Any, client: Any, username: str, origin_jti: str, nonce: str | None) -> str:
    """An ID token (`aud` = the client) with the user's readable attributes."""
    extra = {k: v for k, v in readable_attributes(pool, client, username).items() if k != "sub"}
    extra.update({"origin_jti": origin_jti, **_groups(pool, username)})
    if nonce is not None:
        extra["nonce"] = nonce
    token, _ = pool.create_jwt(client.id, username, "id", TOKEN_LIFETIME_SECONDS, extra_data=extra)
    pool.id_tokens[token] = (client.id, username)
    return str(token)


def user_tokens(
    pool: Any, client: Any, username: str, scopes: tuple[str, ...], nonce: str | None = None
) -> tuple[dict[str, Any], str]:
    """The token endpoint's answer to a redeemed code, and the new refresh token (also in it).
    The ID token is issued only with the `openid` scope (OIDC Core §3.1.2.1)."""
    refresh_token, origin_jti = pool.create_refresh_token(client.id, username)
    body: dict[str, Any] = {"access_token": access_token(pool, client.id, username, scopes, origin_jti)}
    if "openid" in scopes:
        body["id_token"] = id_token(pool, client, username, origin_jti, nonce)
    body.update(
        {"refresh_token": refresh_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS}
    )
    return body, refresh_token


def refreshed_tokens(
    pool: Any, client: Any, username: str, scopes: tuple[str, ...], origin_jti: str, with_id: bool
) -> dict[str, Any]:
    """New ID and access tokens for a refresh token (Cognito issues no new refresh token);
    `with_id`: the first sign-in had `openid`, or was InitiateAuth's (always an ID token)."""
    body: dict[str, Any] = {"access_token": access_token(pool, client.id, username, scopes, origin_jti)}
    if with_id:
        body["id_token"] = id_token(pool, client, username, origin_jti, None)
    body.update({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS})
    return body


def client_credentials_token(pool: Any, client_id: str, scopes: tuple[str, ...]) -> dict[str, Any]:
    """An M2M access token: `sub` = `client_id` = the client, no user, no ID or refresh token."""
    now = int(time.time())
    claims = {
        "sub": client_id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "auth_time": now,
        "iss": issuer(pool),
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "iat": now,
        "version": 2,
        "jti": str(uuid.uuid4()),
        "client_id": client_id,
    }
    # The pool's own key (this server's: moto_patches.pool_key), as a `cryptography` key PyJWT signs with.
    key = pool.json_web_key
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    return {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}
