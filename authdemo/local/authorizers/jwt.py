"""The HTTP API JWT authorizer, as API Gateway applies it, with no HTTP server around it.

`authorize()` is the whole decision: it reads the token from the identity source, checks
the signature against the configured issuer's JWKS, then the claims and the route's
scopes, and either returns what the Lambda will see or raises :class:`Denied` carrying
the exact response API Gateway sends. Any input, however hostile, ends in one of those
two outcomes; nothing else escapes (the fuzz tests hold us to that).

Decisions where AWS documents nothing:
- No clock leeway (`LEEWAY_SECONDS = 0`): AWS says `exp` after now and `nbf`/`iat`
  before now, and the embedded Cognito signs on the same clock we check with.
- `exp` is required: a token that never expires is refused rather than trusted forever.
- Keys always come from the *configured* issuer, never from the token's `iss`, `jku`
  or `x5u`, so a token cannot choose where we fetch keys from.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK, PyJWKSet

from authdemo.local.authorizers.denied import Denied

ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
LEEWAY_SECONDS = 0
# API Gateway caps a request's headers at 10 KiB; a longer token cannot be genuine.
MAX_TOKEN_BYTES = 10 * 1024
# AWS: "keys may be cached up to 2 hours".
JWKS_CACHE_SECONDS = 2 * 60 * 60
# API Gateway's timeout for the discovery and JWKS endpoints (HTTP API quotas): 1500 ms.
JWKS_FETCH_TIMEOUT = 1.5
# Ours: an unknown kid refetches a cached JWKS at most this often.
JWKS_REFETCH_SECONDS = 60


@dataclass(frozen=True)
class JwtConfig:
    """One authorizer's settings, as stored by CreateAuthorizer (`JwtConfiguration`)."""

    issuer: str
    audiences: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"

    @classmethod
    def from_api(cls, jwt_configuration: Mapping[str, Any], identity_source: Any) -> JwtConfig:
        """Build from the API's own shapes (camelCase keys; identity source as a list)."""
        source = identity_source[0] if isinstance(identity_source, list) else identity_source
        audiences = jwt_configuration.get("audience") or jwt_configuration.get("Audience") or []
        issuer = jwt_configuration.get("issuer") or jwt_configuration.get("Issuer") or ""
        return cls(
            issuer=str(issuer),
            audiences=tuple(str(a) for a in audiences),
            identity_source=str(source or "$request.header.Authorization"),
        )


@dataclass(frozen=True)
class Authorized:
    """What the integration receives in `requestContext.authorizer.jwt`."""

    claims: dict[str, Any]
    scopes: list[str] | None

    def event_claims(self) -> dict[str, str]:
        """Claims as API Gateway forwards them: every value a string, `null` claims left out."""
        return {str(k): claim_string(v) for k, v in self.claims.items() if v is not None}


def claim_string(value: Any) -> str:
    """Render one claim the way API Gateway does (`1787996002`, `[Group2 Group1]`, `true`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return "[" + " ".join(claim_string(v) for v in value) + "]"
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))


LocalJwks = Callable[[str], "Mapping[str, Any] | None"]


class KeyProvider:
    """Signing keys per issuer: an in-process JWKS when `local` knows the issuer, else found the
    way API Gateway finds them (authdemo.oidc, shared with `up`'s check of an issuer).

    `local(issuer)` returns a JWKS dict for issuers served in this process (the embedded
    Cognito) or None; any other issuer's keys come from `{issuer}/.well-known/openid-configuration`
    (one trailing slash of the issuer dropped) -> `jwks_uri`, each fetched within 1500 ms, the
    JWKS at most 150000 bytes, every URL and redirect passing the issuer URL check of `up --local`
    (`oidc.url_problem`: no fetch to a host an issuer may not send us to). A fetched key set is
    kept two hours; a kid it lacks makes it fetched again, at most once a minute (a key rotated
    in shows up, a flood of made-up kids does not reach the issuer).
    """

    def __init__(self, local: LocalJwks | None = None, timeout: float = JWKS_FETCH_TIMEOUT):
        self._local = local
        self._timeout = timeout
        self._lock = threading.Lock()
        self._local_sets: dict[str, PyJWKSet] = {}
        self._remote_sets: dict[str, tuple[float, PyJWKSet]] = {}  # issuer: (fetched at, keys)

    def signing_key(self, issuer: str, kid: str) -> PyJWK:
        """The issuer's key with this `kid`; Denied when unknown or the JWKS is unreachable."""
        local = self._local(issuer) if self._local else None
        if local is not None:
            with self._lock:
                keyset = self._local_sets.get(issuer)
                if keyset is None:
                    keyset = self._local_sets[issuer] = PyJWKSet.from_dict(dict(local))
            return _find(keyset, kid)
        return self._remote(issuer, kid)

    def _remote(self, issuer: str, kid: str) -> PyJWK:
        now = time.monotonic()
        with self._lock:
            cached = self._remote_sets.get(issuer)
        if cached is not None:
            fetched_at, keyset = cached
            fresh = now - fetched_at < JWKS_CACHE_SECONDS
            if fresh and (
                any(k.key_id == kid for k in keyset.keys) or now - fetched_at < JWKS_REFETCH_SECONDS
            ):
                return _find(keyset, kid)
        keyset = self._fetch(issuer)
        with self._lock:
            self._remote_sets[issuer] = (time.monotonic(), keyset)
        return _find(keyset, kid)

    def _fetch(self, issuer: str) -> PyJWKSet:
        from authdemo import oidc

        try:  # the issuer, its discovery document, its jwks_uri and every redirect pass oidc's URL check
            oidc.check_url(issuer, "issuer", allow_http_loopback=True)
            doc = oidc.fetch_json(
                oidc.discovery_url(issuer), "discovery", oidc.MAX_DISCOVERY_BYTES, self._timeout, True, issuer
            )
            jwks_uri = doc.get("jwks_uri") if isinstance(doc, dict) else None
            if not isinstance(jwks_uri, str):
                raise Denied("the issuer's jwks could not be fetched")
            jwks = oidc.fetch_json(jwks_uri, "jwks", oidc.MAX_JWKS_BYTES, self._timeout, True, issuer)
            return PyJWKSet.from_dict(jwks)
        except oidc.IssuerError as exc:
            raise Denied("the issuer's jwks could not be fetched") from exc
        except (jwt.PyJWKSetError, jwt.PyJWKError, TypeError, AttributeError) as exc:
            raise Denied("the issuer's jwks could not be fetched") from exc


def _find(keyset: PyJWKSet, kid: str) -> PyJWK:
    for key in keyset.keys:
        if key.key_id == kid:
            return key
    raise Denied("the token's kid is not in the issuer's jwks")


def token_from(config: JwtConfig, headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The raw identity value, `Bearer ` stripped; Denied when the identity source is absent."""
    source = config.identity_source
    value: str | None = None
    if source.lower().startswith("$request.header."):
        wanted = source[len("$request.header.") :].lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    elif source.startswith("$request.querystring."):
        value = query.get(source[len("$request.querystring.") :])
    if value is None or not value.strip():
        raise Denied("the token is missing")
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value


def authorize(
    config: JwtConfig,
    headers: Mapping[str, str],
    keys: KeyProvider,
    scopes: Sequence[str] | None = None,
    query: Mapping[str, str] | None = None,
    now: float | None = None,
) -> Authorized:
    """Decide one request for a route guarded by this authorizer (and maybe scopes)."""
    token = token_from(config, headers, query or {})
    try:
        return _check(config, token, keys, list(scopes or []), time.time() if now is None else now)
    except Denied:
        raise
    except Exception as exc:  # RecursionError from nested JSON, odd key material, ...
        raise Denied("the token is malformed") from exc


def _check(config: JwtConfig, token: str, keys: KeyProvider, scopes: list[str], now: float) -> Authorized:
    if len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES:
        raise Denied("the token is too large")
    if token.count(".") != 2:
        raise Denied("the token is malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise Denied("the token is malformed") from exc
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise Denied(f"signing method {_printable(alg)} is invalid")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Denied("the token has no kid")
    key = keys.signing_key(config.issuer, kid)
    if not isinstance(key.key, rsa.RSAPublicKey):
        raise Denied("the issuer's key is not an RSA public key")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise Denied("the token signature is invalid") from exc
    except jwt.InvalidTokenError as exc:
        raise Denied("the token is malformed") from exc
    _check_times(claims, now)
    if claims.get("iss") != config.issuer:
        raise Denied("the token does not have a valid issuer")
    _check_audience(claims, config.audiences)
    return Authorized(claims=claims, scopes=_check_scopes(claims, scopes))


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Denied(f"the token's {name} claim is not a number")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    exp = _number(claims, "exp")
    if exp is None:
        raise Denied("the token has no expiry")
    if exp <= now - LEEWAY_SECONDS:
        raise Denied("the token has expired")
    nbf = _number(claims, "nbf")
    if nbf is not None and nbf > now + LEEWAY_SECONDS:
        raise Denied("the token is not valid yet")
    iat = _number(claims, "iat")
    if iat is not None and iat > now + LEEWAY_SECONDS:
        raise Denied("the token was issued in the future")


def _check_audience(claims: Mapping[str, Any], audiences: Sequence[str]) -> None:
    # AWS: `client_id` is consulted only when the token has no `aud` at all.
    presented = claims["aud"] if "aud" in claims else claims.get("client_id")
    values = presented if isinstance(presented, list) else [presented]
    if not any(isinstance(v, str) and v in audiences for v in values):
        raise Denied("the token does not have a valid audience")


def _check_scopes(claims: Mapping[str, Any], wanted: list[str]) -> list[str] | None:
    """The token's whole scope list on a scoped route (None on an unscoped one); 403 when
    it holds none of the route's scopes. API Gateway forwards all the token's scopes."""
    if not wanted:
        return None
    have: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            have.extend(value.split())
        elif isinstance(value, list):
            have.extend(v for v in value if isinstance(v, str))
    if not any(s in have for s in wanted):
        raise Denied("the token does not have the required scopes", status=403, scopes=wanted)
    return list(dict.fromkeys(have))


def _printable(value: Any) -> str:
    """A header value we echo back, trimmed so a hostile `alg` cannot bloat the response."""
    if value is None:
        return "''"
    text = value if isinstance(value, str) else type(value).__name__
    cleaned = "".join(c for c in text if c.isprintable() and c not in '"\\')
    return cleaned[:32] or "''"
