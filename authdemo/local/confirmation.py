"""Confirmation codes of the embedded Cognito: real, single-use, expiring, delivered to the inbox.

moto accepts any `ConfirmationCode` for ConfirmSignUp and ConfirmForgotPassword (and hands
ForgotPassword's code to the unsigned caller in a response header), so anyone could confirm
any sign-up or set any user's password (issue 20, finding 2). Here, as on Cognito:
- SignUp (when the pool verifies email or phone), ResendConfirmationCode and ForgotPassword
  issue a random 6-digit code for that user and purpose, replacing any earlier one, and
  deliver it to the owner's inbox (`inbox`), never to the caller;
- a sign-up code lives 24 hours, a password-reset code 1 hour (docs/aws-notes.md);
- the right code works once; a wrong one is `CodeMismatchException`; none pending (never
  issued, used, replaced, expired, or tried too often) is `ExpiredCodeException`;
- 5 wrong tries drop the code, and at most 5 codes are issued per user and purpose an hour
  (`LimitExceededException`): a 6-digit code cannot be guessed by trying them all.
The clock is an attribute, so tests move time instead of sleeping. The functions below act on
moto's user pools for both doors in: the API (moto_patches' wrappers) and managed login's pages.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from authdemo.local import inbox

SIGN_UP = "sign-up"
PASSWORD_RESET = "password-reset"
LIFETIME_SECONDS = {SIGN_UP: 24 * 3600, PASSWORD_RESET: 3600}
MAX_WRONG_TRIES = 5
MAX_CODES_PER_HOUR = 5

MISMATCH = "Invalid verification code provided, please try again."
EXPIRED = "Invalid code provided, please request a code again."
LIMIT = "Attempt limit exceeded, please try after some time."
SUBJECT = {SIGN_UP: "Your verification code", PASSWORD_RESET: "Your password reset code"}


class CodeRefused(Exception):
    """Why a code is refused, as Cognito names it (`CodeMismatchException`, ...)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass
class _Pending:
    code: str
    expires_at: float
    wrong: int = 0


@dataclass
class ConfirmationCodes:
    """The codes issued and not yet used, per (pool, user, purpose); thread-safe."""

    clock: Callable[[], float] = time.time
    _pending: dict[tuple[str, str, str], _Pending] = field(default_factory=dict)
    _issued: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, pool: Any, username: str, purpose: str, destination: str) -> str:
        """A fresh code for the user, delivered to the inbox; LimitExceededException past 5 an hour."""
        key = (pool.id, username, purpose)
        now = self.clock()
        with self._lock:
            recent = [t for t in self._issued.get(key, []) if t > now - 3600]
            if len(recent) >= MAX_CODES_PER_HOUR:
                raise CodeRefused("LimitExceededException", LIMIT)
            self._issued[key] = [*recent, now]
            code = f"{secrets.randbelow(1_000_000):06d}"
            expires_at = now + LIFETIME_SECONDS[purpose]
            self._pending[key] = _Pending(code, expires_at)
        inbox.deliver(
            {
                "at": _iso(now),
                "to": destination,
                "subject": SUBJECT[purpose],
                "purpose": purpose,
                "user_pool": pool.name,
                "user_pool_id": pool.id,
                "username": username,
                "code": code,
                "expires": _iso(expires_at),
            }
        )
        return code

    def use(self, pool_id: str, username: str, purpose: str, code: str) -> None:
        """Accept `code` once (it is gone afterwards), else raise CodeRefused."""
        key = (pool_id, username, purpose)
        now = self.clock()
        with self._lock:
            pending = self._pending.get(key)
            if pending is None or pending.expires_at <= now:
                self._pending.pop(key, None)
                raise CodeRefused("ExpiredCodeException", EXPIRED)
            if not hmac.compare_digest(pending.code.encode(), str(code).encode()):
                pending.wrong += 1
                if pending.wrong >= MAX_WRONG_TRIES:
                    del self._pending[key]
                raise CodeRefused("CodeMismatchException", MISMATCH)
            del self._pending[key]


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def destination(user: Any, username: str) -> str:
    """Where Cognito would send the code: the user's email, else phone number, else the name."""
    attributes = getattr(user, "attribute_lookup", {}) or {}
    return str(attributes.get("email") or attributes.get("phone_number") or username)


#: The one store of the process (the embedded server's; the test suite's in-process moto).
CODES = ConfirmationCodes()


def refuse_admin_only(pool: Any) -> None:
    """Cognito's refusal of SignUp in a pool where only administrators create users (finding 4)."""
    if (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
        raise CodeRefused("NotAuthorizedException", "SignUp is not permitted for this user pool")


def self_registration(pool: Any) -> bool:
    return not (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly")


def confirmed(user: Any) -> bool:
    return str(getattr(user.status, "value", user.status)) == "CONFIRMED"


def verifies(pool: Any, user: Any) -> bool:
    """Whether Cognito sends this user a code: the pool auto-verifies an attribute they have."""
    verified = pool.extended_config.get("AutoVerifiedAttributes") or []
    return any(name in verified and user.attribute_lookup.get(name) for name in ("email", "phone_number"))


def send_sign_up_code(pool: Any, username: str) -> bool:
    """After SignUp (or for ResendConfirmationCode): a code if the user is unconfirmed and the pool
    verifies their email or phone; whether one was sent."""
    user = pool._get_user(username)
    if user is None or confirmed(user) or not verifies(pool, user):
        return False
    CODES.issue(pool, user.username, SIGN_UP, destination(user, user.username))
    return True


def confirm_sign_up(pool: Any, user: Any, code: str) -> None:
    """The code SignUp sent, once: the user is confirmed and the attribute it went to verified."""
    if confirmed(user):
        raise CodeRefused("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED")
    CODES.use(pool.id, user.username, SIGN_UP, code)
    from moto.cognitoidp.models import UserStatus

    user.status = UserStatus.CONFIRMED
    verified = [f"{name}_verified" for name in ("email", "phone_number") if user.attribute_lookup.get(name)]
    user.update_attributes([{"Name": name, "Value": "true"} for name in verified])


def send_reset_code(pool: Any, username: str) -> None:
    """ForgotPassword: a reset code for an existing user (none, silently, for anyone else)."""
    user = pool._get_user(username)
    if user is not None:
        user.confirmation_code = None  # moto's own check never decides
        CODES.issue(pool, user.username, PASSWORD_RESET, destination(user, user.username))


def reset_password(backend: Any, pool: Any, username: str, code: str, password: str) -> None:
    """ConfirmForgotPassword: a password the pool's policy accepts (moto's InvalidPasswordException
    otherwise, the code kept), and the code sent, once."""
    user = pool._get_user(username)
    if user is None:  # no code was ever sent to them: said as for anyone without one
        raise CodeRefused("ExpiredCodeException", EXPIRED)
    backend._validate_password(pool.id, password)
    CODES.use(pool.id, user.username, PASSWORD_RESET, code)
    user.password = password
