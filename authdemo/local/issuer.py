"""The embedded AWS's own external-style OIDC issuer, shaped like Auth0's (issue 11 §3).

So that `up --issuer` / `test --token-command` run offline end to end, each server serves, at
`http://127.0.0.1:<port>/_authdemo/issuer/` (a trailing slash, as Auth0's issuer has):
- `.well-known/openid-configuration`: issuer, jwks_uri, token_endpoint, ...;
- `.well-known/jwks.json`: the public half of its own RSA key (generated per server);
- `oauth/token`: the client-credentials grant, as Auth0's: a form or JSON body with
  `grant_type=client_credentials`, `client_id`/`client_secret` (or HTTP Basic) and `audience`;
  the access token carries iss (with the slash), aud, sub `<client>@clients`, azp, iat, exp,
  scope and gty `client-credentials`.
The discovery document and JWKS are public; the token endpoint wants the client's secret. The
key, client ID and secret are written 0600 to `local-issuer.json` beside the server's access key
(`publish`), for `authdemo local issuer`. Errors follow RFC 6749 §5.2 (`invalid_client`, 401;
`unsupported_grant_type`, 400); a request without audience gets Auth0's 403 `access_denied`.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from authdemo import paths
from authdemo.local import published

PATH = "/_authdemo/issuer/"
FILE_NAME = "local-issuer.json"
TOKEN_LIFETIME = 86400  # Auth0's default for an API's access tokens (expires_in)
MAX_TOKEN_REQUEST = 64 * 1024
JSON = [("content-type", "application/json"), ("cache-control", "no-store")]
_ID_ALPHABET = string.ascii_letters + string.digits

Response = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class IssuerKeys:
    """One server's issuer: its RSA key (PEM), key ID, and the one client allowed tokens."""

    private_pem: str = field(repr=False)
    kid: str
    client_id: str
    client_secret: str = field(repr=False)

    @classmethod
    def generate(cls) -> IssuerKeys:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        client_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))
        return cls(pem, secrets.token_hex(8), client_id, secrets.token_urlsafe(48))


def issuer_url(port: int) -> str:
    return f"http://127.0.0.1:{port}{PATH}"


def issuer_file() -> Path:
    return paths.home() / FILE_NAME


def save(keys: IssuerKeys, port: int, pid: int) -> None:
    """Atomically, 0600 (in the 0700 home), like the server's access key."""
    fields = {"url": issuer_url(port), "kid": keys.kid, "client_id": keys.client_id}
    fields.update(client_secret=keys.client_secret, private_key=keys.private_pem)
    published.write(issuer_file(), port, pid, fields)


def load(port: int) -> dict[str, Any] | None:
    """The published record of the server on `port`, or None."""
    return published.read(issuer_file(), port)


def remove(pid: int) -> None:
    published.remove(issuer_file(), pid)


class LocalIssuer:
    """Answers the issuer's paths (`handle`); `mint` signs an access token."""

    def __init__(self, port: int, keys: IssuerKeys) -> None:
        from cryptography.hazmat.primitives import serialization

        self.url = issuer_url(port)
        self.keys = keys
        # The key is this server's own, made by `IssuerKeys.generate`: OpenSSL's check of an RSA
        # key from elsewhere (30 ms, a tenth of a server's start) has nothing to find in it.
        self._private = serialization.load_pem_private_key(
            keys.private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}.well-known/jwks.json",
            "token_endpoint": f"{self.url}oauth/token",
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    def jwks(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        public = json.loads(RSAAlgorithm.to_jwk(self._private.public_key()))  # type: ignore[arg-type]
        return {"keys": [{**public, "kid": self.keys.kid, "alg": "RS256", "use": "sig"}]}

    def mint(self, audience: str, scope: str = "", lifetime: int = TOKEN_LIFETIME) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": f"{self.keys.client_id}@clients",
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "scope": scope,
            "gty": "client-credentials",
            "azp": self.keys.client_id,
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.keys.kid})  # type: ignore[arg-type]

    def handle(self, environ: dict[str, Any], rest: str) -> Response:
        """`rest`: the path after `/_authdemo/issuer/`."""
        method = environ.get("REQUEST_METHOD")
        if rest == ".well-known/openid-configuration" and method in ("GET", "HEAD"):
            return _json(200, self.discovery())
        if rest == ".well-known/jwks.json" and method in ("GET", "HEAD"):
            return _json(200, self.jwks())
        if rest == "oauth/token":
            if method != "POST":
                return _json(405, {"error": "invalid_request", "error_description": "use POST"})
            return self._token(environ)
        return _json(404, {"error": "not_found", "error_description": f"no such path: {PATH}{rest}"})

    def _token(self, environ: dict[str, Any]) -> Response:
        params = _params(environ)
        if params is None:
            return _error(400, "invalid_request", "the body must be a form or a JSON object")
        client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        basic = str(environ.get("HTTP_AUTHORIZATION") or "")
        if basic[:6].lower() == "basic ":
            with contextlib.suppress(ValueError):
                client_id, _, secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
        good_id = hmac.compare_digest(client_id.encode(), self.keys.client_id.encode())
        if not (good_id and hmac.compare_digest(secret.encode(), self.keys.client_secret.encode())):
            return _error(401, "invalid_client", "Unauthorized")
        if params.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "only client_credentials is supported")
        audience = params.get("audience", "")
        if not audience:
            return _error(
                403,
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured",
            )
        scope = " ".join(params.get("scope", "").split())
        answer = {
            "access_token": self.mint(audience, scope),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
        }
        if scope:
            answer["scope"] = scope
        return _json(200, answer)


def _params(environ: dict[str, Any]) -> dict[str, str] | None:
    """The token request's parameters, from a form or a JSON body (Auth0 takes both)."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_TOKEN_REQUEST)
    except ValueError:
        return None
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    kind = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                return None
            return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError):
        return None
    return {k: v[0] for k, v in form.items()}


def _json(status: int, body: dict[str, Any]) -> Response:
    return status, list(JSON), json.dumps(body).encode()


def _error(status: int, code: str, description: str) -> Response:
    return _json(status, {"error": code, "error_description": description})
