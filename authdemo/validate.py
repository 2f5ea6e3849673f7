"""Checks of user input made before anything is created in AWS.

The pool authdemo creates has an explicit password policy (below), the same as Cognito's
default. AWS enforces it on `AdminCreateUser` and `AdminSetUserPassword` (moto only on the
latter), so a password like the course guide's `DemoPass123` would fail half-way through
`up`. We check it first and name the rule it breaks.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata

from .errors import UsageError, quoted

#: Our values for the model's PasswordPolicyType (its fields are AWS's; the values are a choice).
PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}
# Cognito's accepted special characters (plus a space that is not leading or trailing).
COGNITO_SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")

STACK_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,31}\Z")  # \Z: `$` also matches before a final newline


def password_problems(password: str, policy: dict | None = None) -> list[str]:
    """The rules of `policy` that `password` breaks, in words (empty: it is accepted)."""
    policy = policy or PASSWORD_POLICY
    problems = []
    if len(password) < policy.get("MinimumLength", 8):
        problems.append(f"be at least {policy.get('MinimumLength', 8)} characters long")
    if len(password) > 256:
        problems.append("be at most 256 characters long")
    if policy.get("RequireUppercase") and not any(c.isupper() for c in password):
        problems.append("contain an uppercase letter")
    if policy.get("RequireLowercase") and not any(c.islower() for c in password):
        problems.append("contain a lowercase letter")
    if policy.get("RequireNumbers") and not any(c in string.digits for c in password):
        problems.append("contain a digit")
    inner_space = " " in password.strip()
    if policy.get("RequireSymbols") and not (any(c in COGNITO_SYMBOLS for c in password) or inner_space):
        problems.append("contain a symbol such as ! @ # $ % ^ & * -")
    if password != password.strip():
        problems.append("not start or end with a space")
    return problems


def check_password(password: str, policy: dict | None = None) -> None:
    """Raise with the broken rules named; the password itself is never echoed."""
    problems = password_problems(password, policy)
    if problems:
        raise UsageError(
            "The password is rejected by the user pool's policy: it must "
            + ", ".join(problems)
            + "; pass another with --password or AUTHDEMO_PASSWORD (or omit it to get a generated one)."
        )


def generate_password() -> str:
    """A random password that satisfies the policy (used when none is given)."""
    body = secrets.token_urlsafe(12)
    return f"Demo-{body}-7a!"


def check_username(username: str) -> None:
    """Cognito usernames: 1-128 printable characters, no whitespace or control characters."""
    if not username or len(username) > 128:
        raise UsageError("The username must be 1 to 128 characters long; pass one with --username.")
    for char in username:
        if char.isspace() or unicodedata.category(char).startswith("C"):
            raise UsageError(
                f"The username {quoted(username)} contains whitespace or a control character, "
                "which Cognito rejects; use e.g. demo@example.com."
            )


def check_stack(stack: str) -> None:
    """Stack names end up in IAM, Lambda and Cognito names: keep them to what all accept."""
    if not STACK_RE.match(stack or ""):
        raise UsageError(
            f"The stack name {quoted(stack)} is not valid: use 1-32 letters, digits and hyphens, "
            "starting with a letter (e.g. --stack class-42)."
        )


def email_like(username: str) -> bool:
    return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", username) is not None
