"""The embedded AWS's own key for its user pools' tokens (issue 20, finding 3): moto signs with
the private key it publishes, so anyone could mint tokens the gateway trusted."""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any


class PoolKey:
    """This embedded AWS's key for every user pool's tokens: RSA 2048, a random kid (Cognito's
    are 44 characters of base64), never written anywhere. `jwks` is the public half only."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from joserfc import jwk

        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_urlsafe(33)
        self.jwk = jwk.RSAKey.import_key(self.private, {"kid": self.kid, "alg": "RS256", "use": "sig"})
        self.jwks: dict[str, Any] = {"keys": [self.jwk.as_dict(private=False)]}


_pool_key: list[PoolKey] = []
_pool_key_lock = threading.Lock()


def pool_key() -> PoolKey:
    """The process's one pool key, made on first use (`server.load_moto` starts that while moto
    imports; `fixes()` waits for it). Tests in the server's process read it here to mint tokens;
    no HTTP path gives it. Locked: two callers must never see two keys."""
    with _pool_key_lock:
        if not _pool_key:
            _pool_key.append(PoolKey())
        return _pool_key[0]


class _OwnKid:
    """moto's `jwt` module as its Cognito models see it, but for `encode`: moto writes kid
    "dummy" (its published key's) into every token's header; this names the signing key's own."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def encode(self, header: dict[str, Any], claims: Any, key: Any, *args: Any, **kwargs: Any) -> str:
        kid = getattr(key, "kid", None)
        return str(
            self.module.encode({**header, "kid": kid} if kid else header, claims, key, *args, **kwargs)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def own_signing_key() -> list[tuple[Any, str, Any]]:
    """(target, attribute, value) so that moto's user pools sign with `pool_key()` and their
    `/<pool>/.well-known/jwks.json` serves only its public half. `json_web_key` becomes a
    property: moto's `__init__` still assigns its published key, which is dropped."""
    from moto.cognitoidp import models
    from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

    module = models.jwt if isinstance(models.jwt, _OwnKid) else _OwnKid(models.jwt)
    key = property(lambda pool: pool_key().jwk, lambda pool, value: None)
    return [
        (models.CognitoIdpUserPool, "json_web_key", key),
        (models, "jwt", module),
        (CognitoIdpJsonWebKeyResponse, "json_web_key", json.dumps(pool_key().jwks).encode()),
    ]
