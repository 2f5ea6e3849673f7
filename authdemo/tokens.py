"""Signing in as the demo user (or the second user), refreshing and signing out, and showing
tokens without leaking them."""

from __future__ import annotations

import base64
import json
from typing import Any

from .aws import Clients
from .errors import AuthdemoError, UsageError


def sign_in(clients: Clients, client_id: str, username: str, password: str) -> dict[str, str]:
    """USER_PASSWORD_AUTH, as in the guide's `aws cognito-idp initiate-auth`; returns the tokens."""
    cognito = clients("cognito-idp")
    try:
        answer = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except AuthdemoError as exc:
        code = exc.aws_code
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise UsageError(
                f"Cognito refused to sign in {username!r} (wrong username or password); "
                "run `authdemo up` again (optionally with --password) to reset the demo user."
            ) from exc
        if code == "PasswordResetRequiredException":
            raise UsageError(
                f"{username!r} must reset its password; run `authdemo up` again to set a permanent one."
            ) from exc
        raise
    if "AuthenticationResult" not in answer:
        raise AuthdemoError(
            f"Cognito answered with the challenge {answer.get('ChallengeName')} instead of tokens; "
            "run `authdemo up` again to give the user a permanent password."
        )
    result = answer["AuthenticationResult"]
    tokens = {"id": result["IdToken"], "access": result["AccessToken"]}
    if result.get("RefreshToken"):
        tokens["refresh"] = result["RefreshToken"]
    return tokens


def refresh(clients: Clients, client_id: str, refresh_token: str) -> dict[str, str]:
    """REFRESH_TOKEN_AUTH: new ID and access tokens. AWS returns no new refresh token with this
    flow (rotation needs GetTokensFromRefreshToken), so the old one is kept."""
    try:
        answer = clients("cognito-idp").initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except AuthdemoError as exc:
        if exc.aws_code == "NotAuthorizedException":
            raise UsageError(
                "Cognito refused the refresh token (expired, or revoked by a sign-out); "
                "run `authdemo token` to sign in again."
            ) from exc
        raise
    result = answer.get("AuthenticationResult") or {}
    tokens = {"id": result["IdToken"], "access": result["AccessToken"]}
    if result.get("RefreshToken"):
        tokens["refresh"] = result["RefreshToken"]
    return tokens


def sign_out(clients: Clients, access_token: str) -> None:
    """GlobalSignOut with the user's own access token: Cognito revokes the user's tokens for its
    own API (GetUser answers "Access Token has been revoked") and refuses their refresh tokens,
    but a JWT authorizer keeps accepting the access and ID tokens until they expire."""
    clients("cognito-idp").global_sign_out(AccessToken=access_token)


def opacity(token: str) -> str:
    """What a refresh token is, without showing it: on AWS an encrypted JWE (5 parts), which
    nobody but Cognito can read; moto's is a UUID."""
    parts = token.split(".")
    if len(parts) == 5:
        return "opaque (5 parts, JWE: encrypted, only Cognito can read it)"
    if len(parts) == 3:
        try:
            decode(token)
            return "a readable JWT (3 parts)"
        except UsageError:
            pass
    return f"opaque (not a JWT: {len(parts)} part{'s' if len(parts) != 1 else ''})"


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, unverified: what the guide's `cut -d. -f2 | base64 -d` shows."""
    try:
        header_b64, payload_b64, _ = token.split(".")
        return json.loads(_b64decode(header_b64)), json.loads(_b64decode(payload_b64))
    except ValueError as exc:
        raise UsageError("That is not a JWT (three base64url parts separated by dots).") from exc


def tamper(token: str, claim: str = "cognito:username", value: str = "admin") -> str:
    """Edit one claim and keep the old signature: what an attacker would try."""
    header_b64, payload_b64, signature = token.split(".")
    claims = json.loads(_b64decode(payload_b64))
    claims[claim if claim in claims else "username"] = value
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header_b64}.{body.decode().rstrip('=')}.{signature}"


def shorten(token: str, other: str | None = None) -> str:
    """Enough of a token to recognise it on screen, not enough to use it.

    `other`: a token shown beside it that may look alike (the ID token and the same token
    tampered share their header and signature): the few characters from where they first differ
    are kept too, so the two shortened forms differ on screen where the tokens do."""
    if len(token) <= 24:
        return token
    head, tail = token[:12], token[-6:]
    if other is None or other == token:
        return f"{head}…{tail}"
    pairs = enumerate(zip(token, other, strict=False))
    at = next((i for i, (a, b) in pairs if a != b), min(len(token), len(other)))
    if at < len(head) or at >= len(token) - len(tail) - 1:
        return f"{head}…{tail}"  # the difference is in what is shown anyway (or at the very end)
    return f"{head}…{token[at : min(at + 8, len(token) - len(tail))]}…{tail}"
