"""The REST API Cognito user pool authorizer (`COGNITO_USER_POOLS`), as API Gateway applies it.

`authorize()` decides one request for a method guarded by such an authorizer:
1. the token is the header its identity source names (`method.request.header.<Name>`), with or
   without a `Bearer ` prefix; absent or empty: 401;
2. the token must be signed by the pool's own key (the embedded Cognito's per-server key, as the
   JWT authorizer gets it: `backends.moto_cognito_jwks`), and its `iss` must be one of the
   authorizer's `providerARNs` pools;
3. `exp` must be in the future, else 401 "The incoming token has expired";
4. a method without `authorizationScopes` takes an **ID** token (`token_use` `id`, `aud` a client
   of that pool); a method with scopes takes an **access** token (`token_use` `access`,
   `client_id` a client of that pool) whose `scope` holds one of them.

Every refusal is :class:`Refused` (401, REST's bodies); a misconfigured authorizer (an identity
source that is no header) is `lambda_.AuthorizerError`: API Gateway's 500. What the integration
sees is `{"claims": {...}}`, every claim a string (`cognito:groups` joined with ","), at
`requestContext.authorizer` of the payload 1.0 event.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKSet

from authdemo.local.authorizers.jwt import ALLOWED_ALGORITHMS, MAX_TOKEN_BYTES, claim_string
from authdemo.local.authorizers.lambda_ import AuthorizerError
from authdemo.local.backends import find_user_pool, moto_cognito_jwks

UNAUTHORIZED = b'{"message":"Unauthorized"}'
EXPIRED = b'{"message":"The incoming token has expired"}'
_HEADER_SOURCE = re.compile(r"^method\.request\.header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)\Z")
_DATES = ("exp", "iat")  # rendered as Java's Date.toString, in UTC
_POOL_ARN = re.compile(r"^arn:[\w-]+:cognito-idp:([a-z0-9-]+):\d{12}:userpool/([\w-]+)\Z")


class Refused(Exception):
    """A REST gateway response: status, exact body and `x-amzn-ErrorType`."""

    def __init__(self, description: str, status: int, body: bytes, error_type: str) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.body = body
        self.error_type = error_type


def unauthorized(description: str) -> Refused:
    return Refused(description, 401, UNAUTHORIZED, "UnauthorizedException")


@dataclass(frozen=True)
class CognitoPoolConfig:
    """One COGNITO_USER_POOLS authorizer, as CreateAuthorizer stored it."""

    header: str
    issuers: tuple[str, ...]  # https://cognito-idp.<region>.amazonaws.com/<poolId> per provider ARN

    @classmethod
    def from_api(cls, authorizer: Any) -> CognitoPoolConfig:
        header = identity_source_header(authorizer.identity_source or "method.request.header.Authorization")
        issuers = []
        for arn in authorizer.provider_arns or []:
            pool = _POOL_ARN.match(str(arn))
            if pool is not None:
                issuers.append(f"https://cognito-idp.{pool.group(1)}.amazonaws.com/{pool.group(2)}")
        return cls(header=header.lower(), issuers=tuple(issuers))


def identity_source_header(source: Any) -> str:
    """The header a REST authorizer's identity source names (`method.request.header.<Name>`);
    AuthorizerError (API Gateway's 500) for any other source."""
    match = _HEADER_SOURCE.match(str(source or "").strip())
    if match is None:
        raise AuthorizerError(f"the authorizer's identity source {source!r} is not a header")
    return match.group(1)


def authorize(
    config: CognitoPoolConfig,
    headers: Mapping[str, str],
    scopes: Sequence[str] = (),
    now: float | None = None,
) -> dict[str, Any]:
    """`requestContext.authorizer` for this request (`{"claims": ...}`); Refused otherwise."""
    value = next((v for k, v in headers.items() if k.lower() == config.header), None)
    token = (value or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise unauthorized("the token is missing")
    try:
        claims = _verified(config, token, time.time() if now is None else now)
    except (Refused, AuthorizerError):
        raise
    except Exception as exc:  # RecursionError from nested JSON, odd key material, ...
        raise unauthorized("the token is malformed") from exc
    _check_use(claims, list(scopes))
    return {"claims": event_claims(claims)}


def _verified(config: CognitoPoolConfig, token: str, now: float) -> dict[str, Any]:
    if len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise unauthorized("the token is malformed")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise unauthorized("the token is malformed") from exc
    alg, kid, issuer = header.get("alg"), header.get("kid"), unverified.get("iss")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS or not isinstance(kid, str):
        raise unauthorized("the token's algorithm or kid is invalid")
    # Keys only for the authorizer's own pools, and only the embedded Cognito's: never fetched.
    jwks = moto_cognito_jwks(issuer) if isinstance(issuer, str) and issuer in config.issuers else None
    if jwks is None:
        raise unauthorized("the token is not from one of the authorizer's user pools")
    key = next((k for k in PyJWKSet.from_dict(dict(jwks)).keys if k.key_id == kid), None)
    if key is None or not isinstance(key.key, rsa.RSAPublicKey):
        raise unauthorized("the token's kid is not the pool's key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidTokenError as exc:
        raise unauthorized("the token signature is invalid") from exc
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise unauthorized("the token has no expiry")
    if exp <= now:
        raise Refused("the token has expired", 401, EXPIRED, "UnauthorizedException")
    return claims


def _check_use(claims: Mapping[str, Any], scopes: list[str]) -> None:
    """ID token without method scopes, access token holding one of them with."""
    pool = find_user_pool(str(claims.get("iss", "")).rpartition("/")[2])
    clients = set(pool.clients) if pool is not None else set()
    if not scopes:
        if claims.get("token_use") != "id":
            raise unauthorized("a method without scopes takes an ID token")
        audience = claims.get("aud")
        if not isinstance(audience, str) or audience not in clients:
            raise unauthorized("the token's aud is not a client of the pool")
        return
    if claims.get("token_use") != "access":
        raise unauthorized("a method with scopes takes an access token")
    if str(claims.get("client_id", "")) not in clients:
        raise unauthorized("the token's client_id is not a client of the pool")
    granted = claims.get("scope")
    if not isinstance(granted, str) or not set(granted.split()) & set(scopes):
        raise unauthorized("the token has none of the method's scopes")


def event_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as a REST Cognito authorizer passes them on: every value a string, `exp` and `iat`
    as dates (`Fri Jul 29 18:52:53 UTC 2016`, `auth_time` stays a number), `cognito:groups`
    joined with "," (null claims left out)."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if value is None:
            continue
        if name == "cognito:groups" and isinstance(value, list):
            out[str(name)] = ",".join(claim_string(v) for v in value)
        elif name in _DATES and isinstance(value, int | float) and not isinstance(value, bool):
            out[str(name)] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        else:
            out[str(name)] = claim_string(value)
    return out
