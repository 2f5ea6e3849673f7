"""Authorization codes: random, one use, five minutes, bound to everything the token endpoint checks.

A code is handed to the browser (in the redirect to the client's callback) and traded once at
`/oauth2/token`; what it grants lives only here, in memory. `redeem` removes the code whatever
the outcome, so a code that failed one check (wrong verifier, wrong redirect_uri) cannot be
tried again: RFC 6749 §4.1.2 ("MUST NOT be used more than once") and §10.5.
The clock is a parameter, so tests move time instead of sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass

CODE_LIFETIME_SECONDS = 5 * 60  # Cognito: "authorization codes are valid for five minutes"
MAX_CODES = 10_000  # a loopback server under a runaway client must not grow without bound

# RFC 7636 §4.1/§4.2: a verifier is 43-128 unreserved characters; an S256 challenge is the
# base64url (no padding) SHA-256 of it: exactly 43 characters.
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}\Z")
S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}\Z")


def s256(verifier: str) -> str:
    """The S256 code challenge of `verifier` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Whether `verifier` is well formed and hashes to `challenge`, in constant time."""
    if not VERIFIER.match(verifier):
        return False
    return hmac.compare_digest(s256(verifier).encode(), challenge.encode())


@dataclass(frozen=True)
class Grant:
    """What a code stands for: who signed in, for which client, callback, scopes and PKCE challenge."""

    pool_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    username: str
    code_challenge: str | None
    nonce: str | None
    expires_at: float


class CodeStore:
    """The codes issued and not yet redeemed (thread-safe: the server is threaded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}

    def issue(self, grant: Grant, now: float) -> str:
        """A fresh, unguessable code for `grant`; expired codes are dropped on the way."""
        code = secrets.token_urlsafe(32)
        with self._lock:
            for old, held in list(self._codes.items()):
                if held.expires_at <= now:
                    del self._codes[old]
            if len(self._codes) >= MAX_CODES:
                self._codes.pop(next(iter(self._codes)))
            self._codes[code] = grant
        return code

    def redeem(self, code: str, now: float) -> Grant | None:
        """The code's grant if it exists and is still valid; the code is gone afterwards either way."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at <= now:
            return None
        return grant
